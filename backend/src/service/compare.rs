//! Comparing two rounds across a reorganisation: the other round's figures are mapped onto
//! the units of this round, each new unit counting the old units merged into it.

use std::collections::BTreeMap;

use report_schemas::{AggValue, Rollup};
use serde::Serialize;

use super::RoundCtx;
use super::access::CurrentUser;
use super::rollup::rollup;
use super::trends::Mapping;
use super::units::load_subtree;
use crate::db::Conn;
use crate::db::models::Unit;
use crate::domain::{RollupRow, UnitRef};
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Serialize)]
pub struct CompareRow {
    pub unit: UnitRef,
    pub values: BTreeMap<String, Option<AggValue>>,
    pub reports: u64,
    /// The other round's figures, mapped onto this unit.
    pub other_values: BTreeMap<String, Option<AggValue>>,
    pub other_reports: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub round_id: i32,
    pub other_round_id: i32,
    pub unit: UnitRef,
    /// How the other round's figures were mapped, stated for the reader.
    pub note: String,
    /// Set when the two periods are of different kinds (six months against a year): their
    /// counts cover different lengths of time.
    pub kind_warning: Option<String>,
    pub rows: Vec<CompareRow>,
    pub total: CompareRow,
}

/// Compares `ctx`'s consolidation of `unit` with `other`'s, mapped onto `ctx`'s units.
pub fn compare(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    other: &RoundCtx,
    unit: &Unit,
    provisional: bool,
) -> AppResult<Comparison> {
    if !user.can_read(unit) {
        return Err(AppError::forbidden());
    }
    let here = rollup(conn, user, ctx, unit, provisional)?;
    let tree = load_subtree(conn, unit, ctx.round.period_end)?;
    let codes: Vec<&str> = here.rows.iter().map(|r| r.unit.code.as_str()).collect();
    let (total, per_row) =
        Mapping::onto(conn, &tree, &codes)?.consolidate(conn, other, provisional)?;
    let keys: Vec<String> = ctx
        .template
        .indicators
        .iter()
        .filter(|i| {
            other
                .template
                .indicator(&i.key)
                .is_some_and(|o| o.aggregate == i.aggregate)
        })
        .map(|i| i.key.clone())
        .collect();
    let values_of = |r: &RollupRow| -> BTreeMap<String, Option<AggValue>> {
        keys.iter()
            .map(|k| (k.clone(), r.values.get(k).cloned().flatten()))
            .collect()
    };
    let mapped = |r: &Rollup| -> BTreeMap<String, Option<AggValue>> {
        keys.iter()
            .map(|k| (k.clone(), r.value(&other.template, k)))
            .collect()
    };
    Ok(Comparison {
        round_id: ctx.round.id,
        other_round_id: other.round.id,
        unit: unit.into(),
        note: format!(
            "Số liệu của kỳ «{}» được quy đổi theo các đơn vị của kỳ «{}»: mỗi đơn vị bằng tổng số liệu của các đơn vị cũ đã hợp nhất vào đơn vị đó; tỷ lệ được tính lại từ tổng tử số và mẫu số.",
            other.round.title, ctx.round.title
        ),
        kind_warning: (ctx.round.period_type != other.round.period_type).then(|| {
            format!(
                "Hai kỳ khác loại: {} và {}. Các số đếm cộng dồn theo thời gian (số buổi, số lượt, kinh phí…) của hai kỳ dài ngắn khác nhau, không so sánh trực tiếp được; nên so với kỳ cùng loại.",
                super::rounds::period_label(&ctx.round),
                super::rounds::period_label(&other.round)
            )
        }),
        rows: here
            .rows
            .iter()
            .zip(&per_row)
            .map(|(r, o)| CompareRow {
                unit: r.unit.clone(),
                values: values_of(r),
                reports: r.reports,
                other_values: mapped(o),
                other_reports: o.reports(),
            })
            .collect(),
        total: CompareRow {
            unit: unit.into(),
            values: values_of(&here.total),
            reports: here.total.reports,
            other_values: mapped(&total),
            other_reports: total.reports(),
        },
    })
}
