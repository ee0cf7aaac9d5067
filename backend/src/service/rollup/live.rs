//! Live consolidations: for every unit with units below it in a round's tree (the tree on the
//! round's cut-off date, below the round's owner), its aggregation state as accepted and as
//! provisional, and who below it has filed, stored in `rollup_states`.
//!
//! A change that moves a report in or out of a consolidation (submitting, accepting, returning,
//! reopening) calls [`refresh`] in its own transaction: each unit above the report's, from the
//! nearest up, is merged again from its children (communes from their reports, units with
//! children from their states), so a change costs the children of a few units. What changes a
//! round's tree or its deadlines (opening or editing a round, extending its deadlines, adding,
//! closing or reorganising units) calls [`rebuild`], which consolidates the round from scratch.
//! [`check`] compares every stored state with a consolidation from scratch.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use report_schemas::{Rollup, Template};

use super::cache;
use super::scratch::{self, State};
use super::units_below;
use crate::db::Conn;
use crate::db::models::{Round, Unit};
use crate::db::reused::Reused;
use crate::db::schema::{reports, rollup_states, rounds, templates};
use crate::domain::{Completeness, vn};
use crate::error::{AppError, AppResult};
use crate::service::RoundCtx;
use crate::service::kept::Kept;
use crate::service::units::unit_by_id;

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = rollup_states)]
struct Row<'a> {
    round_id: i32,
    unit_id: i32,
    accepted: &'a str,
    provisional: &'a str,
    completeness: &'a str,
    stamp: i64,
}

fn corrupt(e: impl std::fmt::Display) -> AppError {
    AppError::Unexpected(anyhow::anyhow!("a stored consolidation does not read: {e}"))
}

/// Whether a consolidation of `unit` in this round can read its children's stored states:
/// the unit is in the round's tree and the round's states are there.
pub fn kept_for(conn: &mut Conn, ctx: &RoundCtx, unit: &Unit) -> AppResult<bool> {
    if !ctx.owner.contains(unit) {
        return Ok(false);
    }
    Ok(round_stamp(conn, ctx.round.id)?.is_some())
}

/// The stamp of the state the round keeps for its owner (its root): it changes with anything
/// that moves a report of the round, or its tree, or its deadlines. `None` when not kept.
pub fn round_stamp(conn: &mut Conn, round_id: i32) -> AppResult<Option<i64>> {
    Ok(crate::read_on_backend!(
        conn,
        first,
        rollup_states::table
            .inner_join(rounds::table.on(rounds::id.eq(rollup_states::round_id)))
            .filter(rounds::id.eq(round_id))
            .filter(rollup_states::unit_id.eq(rounds::owner_unit_id))
            .select(rollup_states::stamp)
    )
    .optional()?)
}

/// The stored consolidation (one view) and completeness of each of `units` that has one.
pub fn states_of(
    conn: &mut Conn,
    round_id: i32,
    units: &[i32],
    provisional: bool,
) -> AppResult<HashMap<i32, (Rollup, Completeness)>> {
    Ok(load(conn, round_id, units, true)?
        .into_iter()
        .map(|(id, s)| (id, (s.view(provisional).clone(), s.completeness)))
        .collect())
}

/// [`states_of`] the units directly below `parent` (whatever the day: the caller knows which of
/// them count), found through it: a statement prepared once.
pub fn states_below(
    conn: &mut Conn,
    round_id: i32,
    parent: i32,
    provisional: bool,
) -> AppResult<HashMap<i32, (Rollup, Completeness)>> {
    let stamps = stamps_below(conn, round_id, parent)?;
    Ok(stamped(conn, round_id, stamps)?
        .into_iter()
        .map(|(id, s)| (id, (s.view(provisional).clone(), s.completeness)))
        .collect())
}

/// The stamps of the states stored for the units directly below `parent` (whatever the day),
/// found through it: a statement prepared once, where a list of the children would be written
/// out anew each time; by a subquery, not a join (see `scratch::children_of`).
fn stamps_below(conn: &mut Conn, round_id: i32, parent: i32) -> AppResult<Vec<(i32, i64)>> {
    Ok(crate::read_on_backend!(
        conn,
        load,
        rollup_states::table
            .filter(rollup_states::round_id.eq(round_id))
            .filter(rollup_states::unit_id.eq_any(scratch::children_of(parent)))
            .select((rollup_states::unit_id, rollup_states::stamp))
    )?)
}

/// The stored states of each of `units` that has one: from this process's memory while the
/// stamp stored is the one it holds (`cached`), otherwise read and parsed.
fn load(
    conn: &mut Conn,
    round_id: i32,
    units: &[i32],
    cached: bool,
) -> AppResult<HashMap<i32, Arc<State>>> {
    let mut out = HashMap::with_capacity(units.len());
    for chunk in units.chunks(5000) {
        if cached {
            let stamps: Vec<(i32, i64)> = match chunk {
                // One unit (a child merged again): a statement prepared once, on the backend's
                // own connection; a list is written out (and prepared) anew each time.
                [one] => crate::read_on_backend!(
                    conn,
                    load,
                    rollup_states::table
                        .filter(rollup_states::round_id.eq(round_id))
                        .filter(rollup_states::unit_id.eq(*one))
                        .select((rollup_states::unit_id, rollup_states::stamp))
                )?,
                many => rollup_states::table
                    .filter(rollup_states::round_id.eq(round_id))
                    .filter(rollup_states::unit_id.eq_any(many))
                    .select((rollup_states::unit_id, rollup_states::stamp))
                    .load(conn)?,
            };
            out.extend(stamped(conn, round_id, stamps)?);
        } else {
            out.extend(read(conn, round_id, chunk, false)?);
        }
    }
    Ok(out)
}

/// The states stored under `stamps` (unit, stamp): from this process's memory where it holds
/// that stamp, the others read and parsed.
fn stamped(
    conn: &mut Conn,
    round_id: i32,
    stamps: Vec<(i32, i64)>,
) -> AppResult<HashMap<i32, Arc<State>>> {
    let mut out = HashMap::with_capacity(stamps.len());
    let mut missing = Vec::new();
    for (id, stamp) in stamps {
        match cache::get(round_id, id, stamp) {
            Some(state) => {
                out.insert(id, state);
            }
            None => missing.push(id),
        }
    }
    if !missing.is_empty() {
        out.extend(read(conn, round_id, &missing, true)?);
    }
    Ok(out)
}

/// The stored states of `units`, read and parsed (and kept in memory if `keep`).
fn read(
    conn: &mut Conn,
    round_id: i32,
    units: &[i32],
    keep: bool,
) -> AppResult<HashMap<i32, Arc<State>>> {
    let rows: Vec<(i32, String, String, String, i64)> = rollup_states::table
        .filter(rollup_states::round_id.eq(round_id))
        .filter(rollup_states::unit_id.eq_any(units))
        .select((
            rollup_states::unit_id,
            rollup_states::accepted,
            rollup_states::provisional,
            rollup_states::completeness,
            rollup_states::stamp,
        ))
        .load(conn)?;
    let mut out = HashMap::with_capacity(rows.len());
    for (id, accepted, provisional, completeness, stamp) in rows {
        let state = Arc::new(State {
            accepted: Rollup::from_stored(&accepted).map_err(corrupt)?,
            provisional: Rollup::from_stored(&provisional).map_err(corrupt)?,
            completeness: serde_json::from_str(&completeness).map_err(corrupt)?,
        });
        if keep {
            cache::put(round_id, id, stamp, state.clone());
        }
        out.insert(id, state);
    }
    Ok(out)
}

/// Stores `unit_id`'s state under a new stamp, which it returns.
fn store(conn: &mut Conn, round_id: i32, unit_id: i32, state: State) -> AppResult<i64> {
    let accepted = state.accepted.to_stored();
    let provisional = state.provisional.to_stored();
    let completeness = serde_json::to_string(&state.completeness).map_err(anyhow::Error::new)?;
    let stamp = cache::new_stamp();
    let row = Row {
        round_id,
        unit_id,
        accepted: &accepted,
        provisional: &provisional,
        completeness: &completeness,
        stamp,
    };
    // Not answered with `RETURNING`: the stamp is ours already, and SQLite gathers a returned
    // row in a table of its own, made and dropped for each statement in the writer's turn.
    crate::execute_on_backend!(
        conn,
        Reused(
            diesel::insert_into(rollup_states::table)
                .values(&row)
                .on_conflict((rollup_states::round_id, rollup_states::unit_id))
                .do_update()
                .set(&row)
        )
    )?;
    cache::put(round_id, unit_id, stamp, Arc::new(state));
    Ok(stamp)
}

/// After `unit`'s report in the round moved (submitted, accepted, returned, reopened): merges
/// again each unit above it, nearest first, up to the round's owner, in the transaction that
/// moved it. In a group of writes (`db::writer`) that is done once for the group, before it
/// commits: a unit above many of the group's changes is merged once, after those below it.
pub fn refresh(conn: &mut Conn, ctx: &RoundCtx, unit: &Unit) -> AppResult<()> {
    if !ctx.owner.contains(unit) || unit.id == ctx.owner.id {
        return Ok(());
    }
    if !kept_for(conn, ctx, &ctx.owner)? {
        return rebuild(conn, ctx);
    }
    let day = ctx.round.period_end;
    let mut parent = unit.parent_id;
    // The child through which the change reaches each unit above it.
    let mut below = unit.id;
    while let Some(id) = parent {
        let above = unit_by_id(conn, id)?;
        parent = (above.id != ctx.owner.id)
            .then_some(above.parent_id)
            .flatten();
        // Deepest first, so that a unit is merged after the units below it.
        let key = (
            i64::from(ctx.round.id),
            -i64::from(above.depth),
            i64::from(above.id),
        );
        let (task_ctx, task_unit) = (ctx.clone(), above.clone());
        let deferred = crate::db::writer::defer(key, below, move |conn, changed| {
            crate::db::lock_merge(conn, task_ctx.round.id, task_unit.id)
                .map_err(|e| e.to_string())?;
            remerge(conn, &task_ctx, &task_unit, day, changed).map_err(|e| e.to_string())
        });
        if !deferred {
            // Outside a transaction that merges at its end (a command, a test), merges are made
            // as they come, in no one order: the round's whole turn, so that none waits for a
            // unit's turn while holding another's.
            crate::db::lock_round(conn, ctx.round.id)?;
            remerge(conn, ctx, &above, day, &[below])?;
        }
        below = above.id;
    }
    Ok(())
}

/// What this process last merged a unit's state from, kept under the stamp it stored: each
/// child's part, in the children's order.
struct Merged {
    template: Arc<Template>,
    deadline: NaiveDateTime,
    day: NaiveDate,
    kids: Vec<Kid>,
}

#[derive(Clone)]
struct Kid {
    id: i32,
    /// A leaf counts by its report; a unit with children, by its stored state.
    leaf: bool,
    part: Arc<State>,
}

/// A national round has some 760 units with children.
static MERGED: Kept<(i32, i32), i64, Arc<Merged>> = Kept::new(10_000);

/// Merges `unit`'s state again from its children's, after a change below each of `changed`
/// (children of `unit`). In a round whose states are built, the children with a state are
/// exactly those with units below them (what [`rebuild`] stores and [`check`] verifies); the
/// others are leaves and count by their own reports.
///
/// When the unit's stored state is still the one this process last merged (its stamp), only
/// the changed children are read again: every change that moves a child's part (a report
/// submitted, accepted, returned or reopened, a child merged again) merges its parent again in
/// the same transaction, under a new stamp, and every change of the round's tree or deadlines
/// rebuilds its states, so a stamp unchanged means no other child has moved since. Otherwise
/// (another server merged it, a rebuild, a write rolled back) every child is read.
fn remerge(
    conn: &mut Conn,
    ctx: &RoundCtx,
    unit: &Unit,
    day: NaiveDate,
    changed: &[i32],
) -> AppResult<()> {
    let kids = match again(conn, ctx, unit, day, changed)? {
        Some(kids) => kids,
        None => parts(conn, ctx, unit, day)?,
    };
    if kids.is_empty() {
        return Ok(());
    }
    let mut state = State::default();
    for kid in &kids {
        state.merge(&kid.part);
    }
    let stamp = store(conn, ctx.round.id, unit.id, state)?;
    let merged = Merged {
        template: ctx.template.clone(),
        deadline: ctx.deadline_for(true),
        day,
        kids,
    };
    MERGED.put((ctx.round.id, unit.id), stamp, Arc::new(merged));
    Ok(())
}

/// The children's parts as this process last merged them, the `changed` ones read again; `None`
/// when the stored state is not that merge's.
fn again(
    conn: &mut Conn,
    ctx: &RoundCtx,
    unit: &Unit,
    day: NaiveDate,
    changed: &[i32],
) -> AppResult<Option<Vec<Kid>>> {
    let stamp: Option<i64> = crate::read_on_backend!(
        conn,
        first,
        rollup_states::table
            .filter(rollup_states::round_id.eq(ctx.round.id))
            .filter(rollup_states::unit_id.eq(unit.id))
            .select(rollup_states::stamp)
    )
    .optional()?;
    let Some(before) = stamp.and_then(|s| MERGED.get(&(ctx.round.id, unit.id), &s)) else {
        return Ok(None);
    };
    if !Arc::ptr_eq(&before.template, &ctx.template)
        || before.deadline != ctx.deadline_for(true)
        || before.day != day
    {
        return Ok(None);
    }
    let mut kids = before.kids.clone();
    let mut seen = HashSet::new();
    for &id in changed.iter().filter(|id| seen.insert(**id)) {
        let Some(kid) = kids.iter_mut().find(|k| k.id == id) else {
            return Ok(None);
        };
        kid.part = if kid.leaf {
            let filed: Option<scratch::Filed> = crate::read_on_backend!(
                conn,
                first,
                reports::table
                    .filter(reports::round_id.eq(ctx.round.id))
                    .filter(reports::unit_id.eq(id))
                    .select(scratch::Filed::as_select())
            )
            .optional()?;
            cache::leaf(ctx, id, filed)?
        } else {
            match load(conn, ctx.round.id, &[id], true)?.remove(&id) {
                Some(state) => state,
                None => return Ok(None),
            }
        };
    }
    Ok(Some(kids))
}

/// Every child's part, read: the units below `unit` on `day`, by their states or reports.
fn parts(conn: &mut Conn, ctx: &RoundCtx, unit: &Unit, day: NaiveDate) -> AppResult<Vec<Kid>> {
    let kids = units_below(conn, std::iter::once(unit.id), day)?;
    if kids.is_empty() {
        return Ok(Vec::new());
    }
    // The children's states and reports found through their parent: statements prepared once,
    // where a list of the children would be written out anew for each merge; by a subquery,
    // not a join (see `scratch::children_of`).
    let ids: HashSet<i32> = kids.iter().map(|u| u.id).collect();
    let stamps = stamps_below(conn, ctx.round.id, unit.id)?;
    let stamps = stamps.into_iter().filter(|(id, _)| ids.contains(id));
    let mut kept = stamped(conn, ctx.round.id, stamps.collect())?;
    let mut filed = if kept.len() == kids.len() {
        HashMap::new()
    } else {
        scratch::filed_below(conn, ctx.round.id, unit.id)?
    };
    kids.iter()
        .map(|kid| {
            Ok(match kept.remove(&kid.id) {
                Some(part) => Kid {
                    id: kid.id,
                    leaf: false,
                    part,
                },
                None => Kid {
                    id: kid.id,
                    leaf: true,
                    part: cache::leaf(ctx, kid.id, filed.remove(&kid.id))?,
                },
            })
        })
        .collect()
}

/// Consolidates the round from scratch and stores every state again.
pub fn rebuild(conn: &mut Conn, ctx: &RoundCtx) -> AppResult<()> {
    crate::db::lock_round(conn, ctx.round.id)?;
    let states = scratch::all_states(conn, ctx, &ctx.owner)?;
    diesel::delete(rollup_states::table.filter(rollup_states::round_id.eq(ctx.round.id)))
        .execute(conn)?;
    let mut states: Vec<(i32, State)> = states.into_iter().collect();
    states.sort_by_key(|(id, _)| *id);
    for (id, state) in states {
        store(conn, ctx.round.id, id, state)?;
    }
    Ok(())
}

/// The round's context for consolidating it, read without a request: its template parsed
/// from the stored source.
pub fn round_ctx(conn: &mut Conn, round_id: i32) -> AppResult<RoundCtx> {
    let round: Round = rounds::table
        .find(round_id)
        .select(Round::as_select())
        .first(conn)?;
    let (key, version, source): (String, i32, String) = templates::table
        .find(round.template_id)
        .select((templates::key, templates::version, templates::source))
        .first(conn)?;
    let template = Template::parse(&source, &format!("{key}@{version}"))
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e)))?;
    let owner = unit_by_id(conn, round.owner_unit_id)?;
    Ok(RoundCtx {
        round,
        template: Arc::new(template),
        owner,
        now: vn::now_utc(),
    })
}

/// [`rebuild`] of the round with `round_id`, as it is stored now.
pub fn rebuild_round(conn: &mut Conn, round_id: i32) -> AppResult<()> {
    let ctx = round_ctx(conn, round_id)?;
    rebuild(conn, &ctx)
}

/// Rebuilds every round whose tree includes `day` or later: after a change to the units that
/// takes effect on `day` (every round: `None`). Rounds cut off before it keep their tree.
pub fn rebuild_from(conn: &mut Conn, day: Option<NaiveDate>) -> AppResult<usize> {
    let mut query = rounds::table
        .select(rounds::id)
        .order(rounds::id)
        .into_boxed();
    if let Some(day) = day {
        query = query.filter(rounds::period_end.ge(day));
    }
    let ids: Vec<i32> = query.load(conn)?;
    for &id in &ids {
        rebuild_round(conn, id)?;
    }
    Ok(ids.len())
}

/// Builds the states of every round that has none (a database from before they were kept, a
/// restored backup): run at start-up. Returns how many rounds were built.
pub fn ensure_all(conn: &mut Conn) -> AppResult<usize> {
    let ids: Vec<i32> = rounds::table
        .select(rounds::id)
        .order(rounds::id)
        .load(conn)?;
    let mut built = 0;
    for id in ids {
        if round_stamp(conn, id)?.is_none() {
            crate::service::write_transaction(conn, |conn| rebuild_round(conn, id))?;
            built += 1;
        }
    }
    Ok(built)
}

/// A stored state that is not what consolidating from scratch gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub round_id: i32,
    pub unit_code: String,
    pub unit_name: String,
    /// "accepted", "provisional", "completeness", "missing" (no state stored) or "extra" (a
    /// state for a unit that has none below it).
    pub what: &'static str,
}

/// Compares every stored state of the round with a consolidation from scratch.
pub fn check(conn: &mut Conn, ctx: &RoundCtx) -> AppResult<Vec<Mismatch>> {
    let fresh = scratch::all_states(conn, ctx, &ctx.owner)?;
    let stored_ids: Vec<i32> = rollup_states::table
        .filter(rollup_states::round_id.eq(ctx.round.id))
        .select(rollup_states::unit_id)
        .load(conn)?;
    // Read from the database itself, not from this process's memory.
    let mut stored = load(conn, ctx.round.id, &stored_ids, false)?;
    let mut out = Vec::new();
    let mut ids: Vec<i32> = fresh.keys().chain(stored.keys()).copied().collect();
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        let mut differs = |what| -> AppResult<()> {
            let u = unit_by_id(conn, id)?;
            out.push(Mismatch {
                round_id: ctx.round.id,
                unit_code: u.code,
                unit_name: u.name,
                what,
            });
            Ok(())
        };
        match (fresh.get(&id), stored.remove(&id)) {
            (Some(_), None) => differs("missing")?,
            (None, Some(_)) => differs("extra")?,
            (Some(f), Some(s)) => {
                if f.accepted != s.accepted {
                    differs("accepted")?;
                }
                if f.provisional != s.provisional {
                    differs("provisional")?;
                }
                if f.completeness != s.completeness {
                    differs("completeness")?;
                }
            }
            (None, None) => {}
        }
    }
    Ok(out)
}
