//! Consolidating (*tổng hợp*) a unit's subtree for a round, as the tree stood on the round's
//! cut-off date: one row per direct child, and the total over them.
//!
//! Every unit with children keeps its consolidation live ([`live`]): a rollup reads the stored
//! states of its children and merges them, so that it costs what the number of children costs,
//! not the number of communes below. [`scratch`] consolidates from the reports themselves; the
//! live states are rebuilt and checked against it.

mod cache;
pub mod live;
pub mod scratch;

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::RoundCtx;
use super::access::CurrentUser;
use crate::db::Conn;
use crate::db::models::{Report, Unit};
use crate::db::schema::units;
use crate::domain::{ReportStatus, RollupRow, RollupView, UnitRef, vn};
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
/// the communes below it), and the total over them.
pub fn rollup(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
    provisional: bool,
) -> AppResult<RollupView> {
    consolidate(conn, user, ctx, unit, provisional, None)
}

/// [`rollup`], also handing `each_child`, in order, the consolidation of every direct child
/// that has units of its own (what `rollup` of that child gives), so that a caller can write
/// it out and let it go.
pub fn rollup_each(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
    provisional: bool,
    mut each_child: impl FnMut(RollupView) -> AppResult<()>,
) -> AppResult<RollupView> {
    consolidate(conn, user, ctx, unit, provisional, Some(&mut each_child))
}

type EachChild<'a> = &'a mut dyn FnMut(RollupView) -> AppResult<()>;

fn consolidate(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
    provisional: bool,
    each_child: Option<EachChild<'_>>,
) -> AppResult<RollupView> {
    if !user.can_read(unit) {
        return Err(AppError::forbidden());
    }
    let level = Level {
        ctx,
        provisional,
        live: live::kept_for(conn, ctx, unit)?,
    };
    let (own, children) = level.rows_of(conn, unit)?;
    let mut total = scratch::own_row(
        unit,
        own.as_ref(),
        ctx,
        provisional,
        children.is_empty(),
        true,
    )?;
    let (units, mut rows): (Vec<Unit>, Vec<RollupRow>) = children.into_iter().unzip();
    for child in &mut rows {
        total.rollup.merge(&child.rollup);
        total.completeness.add(&child.completeness);
        child.finish(&ctx.template);
    }
    total.finish(&ctx.template);
    if let Some(each_child) = each_child {
        let parents: Vec<Unit> = units
            .into_iter()
            .zip(&rows)
            .filter(|(_, r)| !r.leaf)
            .map(|(u, _)| u)
            .collect();
        let mut grandchildren = level.rows_below(conn, &parents)?;
        for (child, parent) in rows.iter().filter(|r| !r.leaf).zip(&parents) {
            let mut rows: Vec<RollupRow> = grandchildren
                .remove(&parent.id)
                .unwrap_or_default()
                .into_iter()
                .map(|(_, r)| r)
                .collect();
            for row in &mut rows {
                row.finish(&ctx.template);
            }
            each_child(RollupView {
                round_id: ctx.round.id,
                unit: child.unit.clone(),
                provisional,
                rows,
                total: child.clone(),
            })?;
        }
    }
    Ok(RollupView {
        round_id: ctx.round.id,
        unit: unit.into(),
        provisional,
        rows,
        total,
    })
}

/// The rows (not finished) of the units directly below one unit, each with its unit.
type Rows = Vec<(Unit, RollupRow)>;

/// Reads one level of a consolidation: the rows of the units right below some units.
struct Level<'a> {
    ctx: &'a RoundCtx,
    provisional: bool,
    /// Whether the round keeps live states for the units asked about (inside its tree).
    live: bool,
}

impl Level<'_> {
    /// For each of `parents`, the rows (not finished) of the units directly below it on the
    /// round's cut-off date, in Vietnamese order, each with its consolidation (a commune's from
    /// its report, a unit with children's from its stored state, or from scratch where none is
    /// kept) and its narrative.
    fn rows_below(&self, conn: &mut Conn, parents: &[Unit]) -> AppResult<HashMap<i32, Rows>> {
        Ok(self.rows(conn, parents)?.0)
    }

    /// `unit`'s own report and the rows of the units directly below it.
    fn rows_of(&self, conn: &mut Conn, unit: &Unit) -> AppResult<(Option<Report>, Rows)> {
        let (mut rows, own) = self.rows(conn, std::slice::from_ref(unit))?;
        Ok((own, rows.remove(&unit.id).unwrap_or_default()))
    }

    /// [`Self::rows_below`], and with one parent its own report too: the reports and states
    /// of one parent's children are found through it (statements prepared once, where a list
    /// of the children is written out anew each time; on PostgreSQL one round trip fewer for
    /// the parent's own report).
    fn rows(
        &self,
        conn: &mut Conn,
        parents: &[Unit],
    ) -> AppResult<(HashMap<i32, Rows>, Option<Report>)> {
        let day = self.ctx.round.period_end;
        let round = self.ctx.round.id;
        let kids = units_below(conn, parents.iter().map(|u| u.id), day)?;
        let kid_ids: Vec<i32> = kids.iter().map(|u| u.id).collect();
        let (mut filed, mut kept, own) = match parents {
            [parent] => {
                let mut filed = scratch::reports_with_children(conn, round, parent.id)?;
                let own = filed.remove(&parent.id);
                let kept = match self.live {
                    true => live::states_below(conn, round, parent.id, self.provisional)?,
                    false => HashMap::new(),
                };
                (filed, kept, own)
            }
            _ => {
                let filed = scratch::reports_of(conn, round, &kid_ids)?;
                let kept = match self.live {
                    true => live::states_of(conn, round, &kid_ids, self.provisional)?,
                    false => HashMap::new(),
                };
                (filed, kept, None)
            }
        };
        // Found through the parent: only the children of the round's day count.
        let ids: HashSet<i32> = kid_ids.iter().copied().collect();
        filed.retain(|id, _| ids.contains(id));
        kept.retain(|id, _| ids.contains(id));
        // Where the round keeps live states, the units with children are those with a state.
        let with_children: HashSet<i32> = if self.live {
            kept.keys().copied().collect()
        } else {
            parents_among(conn, &kid_ids, day)?.into_iter().collect()
        };
        let mut out: HashMap<i32, Rows> = HashMap::new();
        for kid in kids {
            let leaf = !with_children.contains(&kid.id);
            let report = filed.remove(&kid.id);
            let row = if leaf || kept.contains_key(&kid.id) {
                let mut row = scratch::own_row(
                    &kid,
                    report.as_ref(),
                    self.ctx,
                    self.provisional,
                    leaf,
                    true,
                )?;
                if let Some((rollup, completeness)) = kept.remove(&kid.id) {
                    row.rollup = rollup;
                    row.completeness = completeness;
                }
                row
            } else {
                scratch::row(
                    conn,
                    self.ctx,
                    &kid,
                    report.as_ref(),
                    self.provisional,
                    true,
                )?
            };
            if let Some(p) = kid.parent_id {
                out.entry(p).or_default().push((kid, row));
            }
        }
        Ok((out, own))
    }
}

/// The units directly below `parents` on `day`, each parent's in Vietnamese order.
pub(super) fn units_below(
    conn: &mut Conn,
    parents: impl Iterator<Item = i32>,
    day: chrono::NaiveDate,
) -> AppResult<Vec<Unit>> {
    let ids: Vec<i32> = parents.collect();
    let mut out: Vec<Unit> = Vec::new();
    if let [one] = ids[..] {
        // One parent (a live merge): a statement prepared once, not a list written out.
        out = crate::read_on_backend!(
            conn,
            load,
            units::table
                .filter(units::parent_id.eq(one))
                .filter(units::valid_from.is_null().or(units::valid_from.le(day)))
                .filter(units::valid_to.is_null().or(units::valid_to.ge(day)))
                .select(Unit::as_select())
        )?;
    } else {
        for chunk in ids.chunks(5000) {
            out.extend(
                units::table
                    .filter(units::parent_id.eq_any(chunk))
                    .filter(units::valid_from.is_null().or(units::valid_from.le(day)))
                    .filter(units::valid_to.is_null().or(units::valid_to.ge(day)))
                    .select(Unit::as_select())
                    .load::<Unit>(conn)?,
            );
        }
    }
    out.sort_by(|a, b| {
        a.parent_id
            .cmp(&b.parent_id)
            .then_with(|| vn::compare(&a.name, &b.name))
    });
    Ok(out)
}

/// Which of `ids` had units below them on `day`.
pub(super) fn parents_among(
    conn: &mut Conn,
    ids: &[i32],
    day: chrono::NaiveDate,
) -> AppResult<Vec<i32>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(5000) {
        let found: Vec<Option<i32>> = units::table
            .filter(units::parent_id.eq_any(chunk))
            .filter(units::valid_from.is_null().or(units::valid_from.le(day)))
            .filter(units::valid_to.is_null().or(units::valid_to.ge(day)))
            .select(units::parent_id)
            .distinct()
            .load(conn)?;
        out.extend(found.into_iter().flatten());
    }
    Ok(out)
}
