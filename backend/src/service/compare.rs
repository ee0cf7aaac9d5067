//! Comparing two rounds across a reorganisation: the other round's figures are mapped onto
//! the units of this round, each new unit counting the old units merged into it.

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;
use report_schemas::{AggValue, Rollup, Values};
use serde::Serialize;

use super::access::CurrentUser;
use super::rollup::rollup;
use super::units::load_subtree;
use super::{RoundCtx, parse_map};
use crate::db::Conn;
use crate::db::models::{Report, Unit};
use crate::db::schema::{reports, unit_successions, units};
use crate::domain::{ReportStatus, RollupRow, UnitRef};
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
    let day = ctx.round.period_end;
    // Old unit → the unit that continues it, up to the units of this round's period.
    let links: HashMap<i32, i32> = unit_successions::table
        .select((unit_successions::old_unit_id, unit_successions::new_unit_id))
        .load::<(i32, i32)>(conn)?
        .into_iter()
        .collect();
    let tree = load_subtree(conn, unit, day)?;
    let by_id: HashMap<i32, &Unit> = tree.units.iter().map(|u| (u.id, u)).collect();
    // Each of this unit's rows, by the path that identifies its subtree.
    let row_paths: Vec<String> = here
        .rows
        .iter()
        .filter_map(|r| tree.units.iter().find(|u| u.code == r.unit.code))
        .map(|u| u.path.clone())
        .collect();
    let counted: Vec<Report> = reports::table
        .filter(reports::round_id.eq(other.round.id))
        .filter(reports::status.eq_any(if provisional {
            vec!["accepted", "submitted"]
        } else {
            vec!["accepted"]
        }))
        .select(Report::as_select())
        .load(conn)?;
    let leaf_ids: Vec<i32> = counted.iter().map(|r| r.unit_id).collect();
    let leaves: HashMap<i32, Unit> = units::table
        .filter(units::id.eq_any(&leaf_ids))
        .select(Unit::as_select())
        .load(conn)?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let mut per_row: Vec<Rollup> = vec![Rollup::default(); here.rows.len()];
    let mut total = Rollup::default();
    for report in &counted {
        let Some(leaf) = leaves.get(&report.unit_id) else {
            continue;
        };
        // Only figures filed by units (communes), as every consolidation counts them.
        let other_children: i64 = units::table
            .filter(units::parent_id.eq(leaf.id))
            .count()
            .get_result(conn)?;
        if other_children > 0 || ReportStatus::parse(&report.status) == ReportStatus::NotStarted {
            continue;
        }
        let mut current = leaf.id;
        let mut hops = 0;
        while !by_id.contains_key(&current) && hops < 16 {
            match links.get(&current) {
                Some(next) => current = *next,
                None => break,
            }
            hops += 1;
        }
        let Some(target) = by_id.get(&current) else {
            continue;
        };
        let values: Values = parse_map(&report.values_json)?;
        total.add(&other.template, &values);
        if let Some(i) = row_paths.iter().position(|p| target.path.starts_with(p)) {
            per_row[i].add(&other.template, &values);
        }
    }
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
