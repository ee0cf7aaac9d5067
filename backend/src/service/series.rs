//! A series: one indicator of one unit across every round of a template up to this one,
//! each round's figure beside the same period a year before; and the key figures of the
//! unit in this round against the previous period of the same kind. A commune sees its own.

use serde::Serialize;

use super::access::CurrentUser;
use super::dashboard::{self, number};
use super::trends::{self, SeriesRound};
use super::{RoundCtx, rounds};
use crate::catalog::Catalog;
use crate::db::Conn;
use crate::db::models::Unit;
use crate::domain::UnitRef;
use crate::error::AppResult;

/// Every round of the template a series goes back over.
pub const SERIES_ROUNDS: usize = 40;

#[derive(Debug, Clone, Serialize)]
pub struct Point {
    pub round_id: i32,
    pub title: String,
    pub period_label: String,
    pub period_type: String,
    pub value: Option<f64>,
    /// Accepted reports the figure counts.
    pub reports: u64,
    /// The same period a year before, when the series has it: its round and figure.
    pub year_before: Option<(i32, Option<f64>)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub unit: UnitRef,
    pub key: String,
    pub label: String,
    pub note: String,
    pub points: Vec<Point>,
}

/// The series of `key` (or the template's first key figure) for `unit`, oldest first.
pub fn series(
    conn: &mut Conn,
    catalog: &Catalog,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
    key: Option<&str>,
) -> AppResult<Series> {
    let t = &ctx.template;
    let key = dashboard::chosen_key(t, key);
    let stored = dashboard::stored_keys(t, [key.as_str()]);
    let rounds_: Vec<SeriesRound> =
        trends::series(conn, catalog, user, ctx, unit, SERIES_ROUNDS, Some(&stored))?;
    let points = rounds_
        .iter()
        .map(|s| {
            let r = &s.ctx.round;
            Point {
                round_id: r.id,
                title: r.title.clone(),
                period_label: rounds::period_label(r),
                period_type: r.period_type.clone(),
                value: number(&s.ctx.template, &s.total, &key),
                reports: s.total.reports(),
                year_before: trends::year_before(r, &rounds_).map(|i| {
                    (
                        rounds_[i].ctx.round.id,
                        number(&rounds_[i].ctx.template, &rounds_[i].total, &key),
                    )
                }),
            }
        })
        .collect();
    Ok(Series {
        unit: unit.into(),
        label: t
            .indicator(&key)
            .map_or_else(String::new, |i| i.label.clone()),
        key,
        note: format!(
            "Mỗi kỳ chỉ tính các báo cáo đã được tiếp nhận. Số liệu các kỳ trước được quy đổi theo các đơn vị hiện nay của {}: đơn vị cũ đã hợp nhất (như khi sắp xếp đơn vị hành chính năm 2025) được cộng vào đơn vị mới. So sánh cùng kỳ năm trước chỉ đặt các kỳ cùng loại cạnh nhau (6 tháng với 6 tháng, năm với năm).",
            unit.name
        ),
        points,
    })
}
