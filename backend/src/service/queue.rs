//! A board's work in a round (*việc cần làm*): the reports of the units directly below it that
//! wait for its review, those it returned that are not back yet, and the units that have not
//! started; and, after each decision, the next report to review.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::RoundCtx;
use super::access::CurrentUser;
use super::units::children_on;
use crate::db::Conn;
use crate::db::models::Unit;
use crate::db::schema::reports;
use crate::domain::{ReportStatus, UnitRef};
use crate::error::AppResult;

/// One unit's report in the queue.
#[derive(Debug, Clone, Serialize)]
pub struct QueueItem {
    pub unit: UnitRef,
    pub status: ReportStatus,
    pub submitted_at: Option<NaiveDateTime>,
    /// Why it was returned, for a returned report.
    pub return_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkQueue {
    /// Submitted, waiting for this board's review; the longest waiting first.
    pub waiting: Vec<QueueItem>,
    /// Returned by this board, not submitted again yet.
    pub returned: Vec<QueueItem>,
    /// Still being drafted.
    pub drafting: Vec<QueueItem>,
    /// Not started at all.
    pub not_started: Vec<UnitRef>,
    pub accepted: usize,
    /// How many units report to this board.
    pub expected: usize,
}

/// The queue of `board`, which the person reviews, in the round; `None` for someone who
/// reviews nothing there.
pub fn work_queue(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    board: &Unit,
) -> AppResult<Option<WorkQueue>> {
    if !user.role.reviews() || !user.reach.iter().any(|r| r.id == board.id) {
        return Ok(None);
    }
    let children = children_on(conn, board, ctx.round.period_end)?;
    if children.is_empty() {
        return Ok(None);
    }
    let ids: Vec<i32> = children.iter().map(|u| u.id).collect();
    type Row = (i32, String, Option<NaiveDateTime>, Option<String>);
    let rows: Vec<Row> = reports::table
        .filter(reports::round_id.eq(ctx.round.id))
        .filter(reports::unit_id.eq_any(&ids))
        .select((
            reports::unit_id,
            reports::status,
            reports::submitted_at,
            reports::return_reason,
        ))
        .load(conn)?;
    let by_unit: HashMap<i32, Row> = rows.into_iter().map(|r| (r.0, r)).collect();
    let mut queue = WorkQueue {
        waiting: Vec::new(),
        returned: Vec::new(),
        drafting: Vec::new(),
        not_started: Vec::new(),
        accepted: 0,
        expected: children.len(),
    };
    for unit in &children {
        let Some((_, status, submitted_at, reason)) = by_unit.get(&unit.id) else {
            queue.not_started.push(unit.into());
            continue;
        };
        let status = ReportStatus::parse(status);
        let item = QueueItem {
            unit: unit.into(),
            status,
            submitted_at: *submitted_at,
            return_reason: reason.clone().filter(|_| status == ReportStatus::Returned),
        };
        match status {
            ReportStatus::Submitted => queue.waiting.push(item),
            ReportStatus::Returned => queue.returned.push(item),
            ReportStatus::Draft => queue.drafting.push(item),
            ReportStatus::Accepted => queue.accepted += 1,
            ReportStatus::NotStarted => queue.not_started.push(unit.into()),
        }
    }
    queue.waiting.sort_by_key(|i| i.submitted_at);
    Ok(Some(queue))
}

/// The report to review after deciding on `done`'s: the longest waiting of the same board's.
pub fn next_to_review(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    done: &Unit,
) -> AppResult<Option<UnitRef>> {
    let Some(parent) = done.parent_id else {
        return Ok(None);
    };
    let Some(board) = user.reach.iter().find(|u| u.id == parent).cloned() else {
        return Ok(None);
    };
    Ok(work_queue(conn, user, ctx, &board)?.and_then(|q| {
        q.waiting
            .into_iter()
            .find(|i| i.unit.code != done.code)
            .map(|i| i.unit)
    }))
}
