//! Consolidating (*tổng hợp*) a unit's subtree for a round: a post-order walk over the tree as it
//! stood on the round's cut-off date, each unit's aggregate merged from the communes below it.

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;
use report_schemas::{Rollup, Values};
use serde::{Deserialize, Serialize};

use super::access::CurrentUser;
use super::units::{Tree, load_subtree};
use super::{RoundCtx, parse_map};
use crate::db::Conn;
use crate::db::models::{Report, Unit};
use crate::db::schema::reports;
use crate::domain::{Completeness, ReportStatus, RollupRow, RollupView, UnitRef};
use crate::error::{AppError, AppResult};

/// What a consolidated report counted when it was sent up: the children whose reports were
/// accepted, those submitted but not yet accepted, and those missing, so the level above sees which.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Included {
    pub accepted: Vec<UnitRef>,
    pub pending: Vec<UnitRef>,
    pub missing: Vec<UnitRef>,
}

impl Included {
    pub fn of(rows: &[RollupRow]) -> Included {
        let mut out = Included::default();
        for row in rows {
            let list = match row.status {
                ReportStatus::Accepted => &mut out.accepted,
                ReportStatus::Submitted => &mut out.pending,
                _ => &mut out.missing,
            };
            list.push(row.unit.clone());
        }
        out
    }

    pub fn is_complete(&self) -> bool {
        self.pending.is_empty() && self.missing.is_empty()
    }
}

/// Consolidates a unit's subtree for a round: one row per direct child (each aggregating
/// the communes below it), and the total, which aggregates every commune directly.
pub fn rollup(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
    provisional: bool,
) -> AppResult<RollupView> {
    rollup_each(conn, user, ctx, unit, provisional, |_| Ok(()))
}

/// [`rollup`], also handing `each_child`, in order, the consolidation of every direct child
/// that has units of its own (what `rollup` of that child gives) as soon as it is known, so
/// that a caller can write it out and let it go. Reports are read a parent's children at a
/// time, so memory stays bounded by the widest level, not by the size of the subtree.
pub fn rollup_each(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
    provisional: bool,
    mut each_child: impl FnMut(RollupView) -> AppResult<()>,
) -> AppResult<RollupView> {
    if !user.can_read(unit) {
        return Err(AppError::forbidden());
    }
    let tree = load_subtree(conn, unit, ctx.round.period_end)?;
    let root_idx = tree
        .units
        .iter()
        .position(|u| u.id == unit.id)
        .ok_or_else(|| anyhow::anyhow!("unit missing from its own subtree"))?;
    let mut own = reports_of(conn, ctx.round.id, &[unit.id])?;
    let mut walker = Walker {
        conn,
        tree: &tree,
        ctx,
        provisional,
        each_child: &mut each_child,
    };
    let (total, rows) = walker.node(root_idx, own.remove(&unit.id).as_ref(), 0)?;
    Ok(RollupView {
        round_id: ctx.round.id,
        unit: unit.into(),
        provisional,
        rows,
        total,
    })
}

/// The reports of a round filed by `units`, by unit.
fn reports_of(conn: &mut Conn, round_id: i32, units: &[i32]) -> AppResult<HashMap<i32, Report>> {
    let mut by_unit = HashMap::with_capacity(units.len());
    for chunk in units.chunks(5000) {
        let rows: Vec<Report> = reports::table
            .filter(reports::round_id.eq(round_id))
            .filter(reports::unit_id.eq_any(chunk))
            .select(Report::as_select())
            .load(conn)?;
        by_unit.extend(rows.into_iter().map(|r| (r.unit_id, r)));
    }
    Ok(by_unit)
}

/// The post-order walk of a consolidation: every unit's aggregate over the communes below it.
struct Walker<'a, F> {
    conn: &'a mut Conn,
    tree: &'a Tree,
    ctx: &'a RoundCtx,
    provisional: bool,
    each_child: &'a mut F,
}

impl<F: FnMut(RollupView) -> AppResult<()>> Walker<'_, F> {
    /// The row of the unit at `idx` (at `depth` below the root), and, for the root and its
    /// direct children, the finished rows of the units right below it.
    fn node(
        &mut self,
        idx: usize,
        report: Option<&Report>,
        depth: u32,
    ) -> AppResult<(RollupRow, Vec<RollupRow>)> {
        let (tree, ctx) = (self.tree, self.ctx);
        let u = &tree.units[idx];
        let status = report.map_or(ReportStatus::NotStarted, |r| ReportStatus::parse(&r.status));
        let counts = status == ReportStatus::Accepted
            || (self.provisional && status == ReportStatus::Submitted);
        let kids = tree.children.get(&u.id).map(Vec::as_slice).unwrap_or(&[]);
        let leaf = kids.is_empty();
        let deadline = ctx.deadline_for(leaf);
        let on_time = report
            .filter(|_| status.is_filed())
            .and_then(|r| r.first_submitted_at)
            .map(|t| t <= deadline);
        let mut row = RollupRow {
            unit: u.into(),
            leaf,
            status,
            submitted_at: report.and_then(|r| r.submitted_at),
            on_time,
            rollup: Rollup::default(),
            reports: 0,
            values: BTreeMap::new(),
            completeness: Completeness::default(),
            // Only the rows a caller sees carry their narrative.
            sections: match report.filter(|_| counts && depth <= 2) {
                Some(r) => parse_map(&r.sections_json)?,
                None => BTreeMap::new(),
            },
        };
        let mut rows = Vec::new();
        if leaf {
            let c = &mut row.completeness;
            c.expected = 1;
            match status {
                ReportStatus::Submitted | ReportStatus::Accepted => {
                    c.submitted = 1;
                    if on_time == Some(true) {
                        c.on_time = 1;
                    } else {
                        c.late = 1;
                    }
                }
                _ => c.missing = 1,
            }
            c.accepted = u32::from(status == ReportStatus::Accepted);
            c.returned = u32::from(status == ReportStatus::Returned);
            if counts && let Some(r) = report {
                let values: Values = parse_map(&r.values_json)?;
                row.rollup.add(&ctx.template, &values);
            }
        } else {
            let ids: Vec<i32> = kids.iter().map(|&k| tree.units[k].id).collect();
            let mut filed = reports_of(self.conn, ctx.round.id, &ids)?;
            for &k in kids {
                let kid_report = filed.remove(&tree.units[k].id);
                let (mut child, grandchildren) = self.node(k, kid_report.as_ref(), depth + 1)?;
                row.rollup.merge(&child.rollup);
                row.completeness.add(&child.completeness);
                if depth <= 1 {
                    child.finish(&ctx.template);
                    if depth == 0 && !child.leaf {
                        (self.each_child)(RollupView {
                            round_id: ctx.round.id,
                            unit: child.unit.clone(),
                            provisional: self.provisional,
                            rows: grandchildren,
                            total: child.clone(),
                        })?;
                    }
                    rows.push(child);
                }
            }
        }
        if depth == 0 {
            row.finish(&ctx.template);
        }
        Ok((row, rows))
    }
}
