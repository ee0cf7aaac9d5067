//! Consolidating from scratch: every report below a unit read and merged again, post-order over
//! the tree as it stood on the round's cut-off date. The live states ([`super::live`]) are
//! rebuilt and checked against this; a rollup falls back on it where no state is kept (a unit
//! above the round's owner).

use std::collections::{BTreeMap, HashMap};

use diesel::dsl;
use diesel::prelude::*;
use report_schemas::{Rollup, Template, Values};

use super::RoundCtx;
use crate::db::Conn;
use crate::db::models::{Report, Unit};
use crate::db::schema::{reports, units};
use crate::domain::{Completeness, ReportStatus, RollupRow};
use crate::error::AppResult;
use crate::service::parse_map;
use crate::service::units::{Tree, load_subtree};

/// The reports of a round filed by `units`, by unit.
pub(super) fn reports_of(
    conn: &mut Conn,
    round_id: i32,
    units: &[i32],
) -> AppResult<HashMap<i32, Report>> {
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

/// The reports of a round filed by `parent` and by the units directly below it (whatever the
/// day: the caller knows which of them count), by unit: one statement, prepared once.
pub(super) fn reports_with_children(
    conn: &mut Conn,
    round_id: i32,
    parent: i32,
) -> AppResult<HashMap<i32, Report>> {
    // The `OR` inside the subquery: outside it, SQLite read every report of the round.
    let rows: Vec<Report> = crate::read_on_backend!(
        conn,
        load,
        reports::table
            .filter(reports::round_id.eq(round_id))
            .filter(
                reports::unit_id.eq_any(
                    units::table
                        .filter(units::parent_id.eq(parent).or(units::id.eq(parent)))
                        .select(units::id),
                ),
            )
            .select(Report::as_select())
    )?;
    Ok(rows.into_iter().map(|r| (r.unit_id, r)).collect())
}

/// What a leaf's part in a live state takes of its report.
#[derive(Debug, PartialEq, Queryable, Selectable)]
#[diesel(table_name = reports)]
pub(super) struct Filed {
    pub unit_id: i32,
    pub status: String,
    pub first_submitted_at: Option<chrono::NaiveDateTime>,
    pub values_json: String,
}

/// [`Filed`] of the reports of a round filed by `units`, by unit (the whole round without).
pub(super) fn filed_of(
    conn: &mut Conn,
    round_id: i32,
    units: Option<&[i32]>,
) -> AppResult<HashMap<i32, Filed>> {
    let base = reports::table
        .filter(reports::round_id.eq(round_id))
        .select(Filed::as_select());
    let rows: Vec<Filed> = match units {
        None => base.load(conn)?,
        Some(units) => {
            let mut rows = Vec::with_capacity(units.len());
            for chunk in units.chunks(5000) {
                rows.extend(
                    base.filter(reports::unit_id.eq_any(chunk))
                        .load::<Filed>(conn)?,
                );
            }
            rows
        }
    };
    Ok(rows.into_iter().map(|r| (r.unit_id, r)).collect())
}

/// The units directly below `parent` (whatever the day), as a subquery: asked for "the round's
/// rows of units among `parent`'s children", SQLite finds the children first, by their parent,
/// and each one's row by the round and unit; asked as a join, it read every row of the round
/// and kept the children's.
pub(super) fn children_of(
    parent: i32,
) -> dsl::Select<dsl::Filter<units::table, dsl::Eq<units::parent_id, i32>>, units::id> {
    units::table
        .filter(units::parent_id.eq(parent))
        .select(units::id)
}

/// [`Filed`] of the reports of a round filed by the units directly below `parent` (whatever the
/// day: the caller knows which of them count), by unit.
pub(super) fn filed_below(
    conn: &mut Conn,
    round_id: i32,
    parent: i32,
) -> AppResult<HashMap<i32, Filed>> {
    let rows: Vec<Filed> = crate::read_on_backend!(
        conn,
        load,
        reports::table
            .filter(reports::round_id.eq(round_id))
            .filter(reports::unit_id.eq_any(children_of(parent)))
            .select(Filed::as_select())
    )?;
    Ok(rows.into_iter().map(|r| (r.unit_id, r)).collect())
}

/// The row of a unit as its own report makes it: status, timing, and, for a leaf (a commune),
/// its figures and its place in the completeness count. A unit with children gets its
/// consolidation and completeness from below.
pub(super) fn own_row(
    u: &Unit,
    report: Option<&Report>,
    ctx: &RoundCtx,
    provisional: bool,
    leaf: bool,
    with_sections: bool,
) -> AppResult<RollupRow> {
    let status = report.map_or(ReportStatus::NotStarted, |r| ReportStatus::parse(&r.status));
    let counts = counts_in(status, provisional);
    let on_time = on_time(
        status,
        report.and_then(|r| r.first_submitted_at),
        ctx.deadline_for(leaf),
    );
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
        sections: match report.filter(|_| counts && with_sections) {
            Some(r) => parse_map(&r.sections_json)?,
            None => BTreeMap::new(),
        },
    };
    if leaf {
        row.completeness = leaf_completeness(status, on_time);
        if counts && let Some(r) = report {
            let values: Values = parse_map(&r.values_json)?;
            row.rollup.add(&ctx.template, &values);
        }
    }
    Ok(row)
}

/// Whether a filed report came in by `deadline` (`None` for one not filed).
fn on_time(
    status: ReportStatus,
    first_submitted: Option<chrono::NaiveDateTime>,
    deadline: chrono::NaiveDateTime,
) -> Option<bool> {
    first_submitted
        .filter(|_| status.is_filed())
        .map(|t| t <= deadline)
}

/// Whether a report in `status` counts in the accepted (or the provisional) consolidation.
pub(super) fn counts_in(status: ReportStatus, provisional: bool) -> bool {
    status == ReportStatus::Accepted || (provisional && status == ReportStatus::Submitted)
}

/// One commune's part in who has filed.
pub(super) fn leaf_completeness(status: ReportStatus, on_time: Option<bool>) -> Completeness {
    let mut c = Completeness {
        expected: 1,
        ..Completeness::default()
    };
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
    c
}

/// `unit`'s row consolidated from scratch (not finished: its values are not filled in).
pub(super) fn row(
    conn: &mut Conn,
    ctx: &RoundCtx,
    unit: &Unit,
    report: Option<&Report>,
    provisional: bool,
    with_sections: bool,
) -> AppResult<RollupRow> {
    let tree = load_subtree(conn, unit, ctx.round.period_end)?;
    let root = tree
        .units
        .iter()
        .position(|u| u.id == unit.id)
        .ok_or_else(|| anyhow::anyhow!("unit missing from its own subtree"))?;
    let mut walker = Walker {
        conn,
        tree: &tree,
        ctx,
        provisional,
    };
    walker.node(root, report, with_sections)
}

/// The post-order walk of a consolidation: every unit's aggregate over the communes below it.
struct Walker<'a> {
    conn: &'a mut Conn,
    tree: &'a Tree,
    ctx: &'a RoundCtx,
    provisional: bool,
}

impl Walker<'_> {
    fn node(
        &mut self,
        idx: usize,
        report: Option<&Report>,
        with_sections: bool,
    ) -> AppResult<RollupRow> {
        let (tree, ctx) = (self.tree, self.ctx);
        let u = &tree.units[idx];
        let kids = tree.children.get(&u.id).map(Vec::as_slice).unwrap_or(&[]);
        let mut row = own_row(
            u,
            report,
            ctx,
            self.provisional,
            kids.is_empty(),
            with_sections,
        )?;
        if !kids.is_empty() {
            let ids: Vec<i32> = kids.iter().map(|&k| tree.units[k].id).collect();
            let mut filed = reports_of(self.conn, ctx.round.id, &ids)?;
            for &k in kids {
                let kid_report = filed.remove(&tree.units[k].id);
                let child = self.node(k, kid_report.as_ref(), false)?;
                row.rollup.merge(&child.rollup);
                row.completeness.add(&child.completeness);
            }
        }
        Ok(row)
    }
}

/// What is kept of one unit with children: its consolidation as accepted and as provisional,
/// and who below it has filed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct State {
    pub accepted: Rollup,
    pub provisional: Rollup,
    pub completeness: Completeness,
}

impl State {
    pub fn view(&self, provisional: bool) -> &Rollup {
        if provisional {
            &self.provisional
        } else {
            &self.accepted
        }
    }

    /// Adds one child's part, in the children's order (the order decides how decimals round).
    pub fn merge(&mut self, other: &State) {
        self.accepted.merge(&other.accepted);
        self.provisional.merge(&other.provisional);
        self.completeness.add(&other.completeness);
    }

    /// A leaf's part, from its own report.
    pub(super) fn of_leaf(
        template: &Template,
        report: Option<&Filed>,
        ctx: &RoundCtx,
    ) -> AppResult<State> {
        let status = report.map_or(ReportStatus::NotStarted, |r| ReportStatus::parse(&r.status));
        let on_time = on_time(
            status,
            report.and_then(|r| r.first_submitted_at),
            ctx.deadline_for(true),
        );
        let mut state = State {
            completeness: leaf_completeness(status, on_time),
            ..State::default()
        };
        if let Some(r) = report.filter(|_| counts_in(status, true)) {
            let values: Values = parse_map(&r.values_json)?;
            state.provisional.add(template, &values);
            if counts_in(status, false) {
                state.accepted.add(template, &values);
            }
        }
        Ok(state)
    }
}

/// The state of every unit with children in `root`'s subtree, from scratch: one read of the
/// round's reports, one walk.
pub fn all_states(conn: &mut Conn, ctx: &RoundCtx, root: &Unit) -> AppResult<HashMap<i32, State>> {
    let tree = load_subtree(conn, root, ctx.round.period_end)?;
    let filed = filed_of(conn, ctx.round.id, None)?;
    let mut out = HashMap::new();
    let Some(root_idx) = tree.units.iter().position(|u| u.id == root.id) else {
        return Ok(out);
    };
    // Post-order without recursion: a province's tree is four levels, a careless import could
    // make it deeper.
    let mut stack = vec![(root_idx, false)];
    let mut done: HashMap<i32, State> = HashMap::new();
    while let Some((idx, expanded)) = stack.pop() {
        let u = &tree.units[idx];
        let kids = tree.children.get(&u.id).map(Vec::as_slice).unwrap_or(&[]);
        if kids.is_empty() {
            done.insert(u.id, State::of_leaf(&ctx.template, filed.get(&u.id), ctx)?);
        } else if expanded {
            let mut state = State::default();
            for &k in kids {
                if let Some(child) = done.remove(&tree.units[k].id) {
                    state.merge(&child);
                }
            }
            out.insert(u.id, state.clone());
            done.insert(u.id, state);
        } else {
            stack.push((idx, true));
            stack.extend(kids.iter().map(|&k| (k, false)));
        }
    }
    Ok(out)
}
