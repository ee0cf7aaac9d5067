//! Reviewing a submitted report (*tiếp nhận, trả lại*): the board of its parent unit accepts it,
//! which locks it, or returns it with a reason; and reopens an accepted one, with a reason.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use report_schemas::FieldError;
use serde_json::json;

use super::access::CurrentUser;
use super::filing::{ReportView, stored_view};
use super::{RoundCtx, audit, ensure_open, find_report};
use crate::db::Conn;
use crate::db::models::{NewReviewEvent, Unit};
use crate::db::schema::{reports, review_events};
use crate::domain::vn;
use crate::error::{AppError, AppResult};

/// The reviewer's decision on a submitted report.
#[derive(Debug, Clone)]
pub enum Decision {
    Accept,
    Return {
        reason: String,
    },
    /// Unlocks an accepted report so its filer can correct it; only its reviewer may.
    Reopen {
        reason: String,
    },
}

pub fn review(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
    decision: &Decision,
) -> AppResult<ReportView> {
    if !user.can_review(unit) {
        return Err(AppError::Forbidden(
            "Chỉ Ban Tuyên giáo cấp trên trực tiếp mới được tiếp nhận, trả lại hay mở lại báo cáo này."
                .into(),
        ));
    }
    ensure_open(ctx)?;
    let reason = match decision {
        Decision::Return { reason } | Decision::Reopen { reason } => {
            let what = if matches!(decision, Decision::Reopen { .. }) {
                "mở lại"
            } else {
                "trả lại"
            };
            let reason = vn::clean(reason.trim());
            if reason.chars().count() < 5 {
                return Err(AppError::invalid(vec![FieldError {
                    field: "reason".into(),
                    message: format!("Xin ghi rõ lý do {what} báo cáo (ít nhất 5 ký tự)."),
                }]));
            }
            if reason.chars().count() > 2000 {
                return Err(AppError::invalid(vec![FieldError {
                    field: "reason".into(),
                    message: format!("Lý do {what} dài quá 2.000 ký tự."),
                }]));
            }
            Some(reason)
        }
        Decision::Accept => None,
    };
    // (status it must be in, status it goes to, audit action)
    let (from, status, action) = match decision {
        Decision::Accept => ("submitted", "accepted", "accept"),
        Decision::Return { .. } => ("submitted", "returned", "return"),
        Decision::Reopen { .. } => ("accepted", "returned", "reopen"),
    };
    let now = ctx.now;
    super::write_transaction(conn, |conn| {
        let report = find_report(conn, ctx.round.id, unit.id)?
            .filter(|r| r.status == from)
            .ok_or_else(|| match decision {
                Decision::Reopen { .. } => AppError::conflict(
                    "not_accepted",
                    "Chỉ mở lại được báo cáo đã tiếp nhận.",
                ),
                _ => AppError::conflict(
                    "not_submitted",
                    "Báo cáo không ở trạng thái chờ tiếp nhận (chưa nộp, đã tiếp nhận hoặc đã trả lại).",
                ),
            })?;
        diesel::update(reports::table.filter(reports::id.eq(report.id)))
            .set((
                reports::status.eq(status),
                reports::version.eq(report.version + 1),
                reports::reviewed_at.eq(Some(now)),
                reports::reviewed_by.eq(Some(user.account.id)),
                reports::return_reason.eq(reason.as_deref()),
                reports::updated_at.eq(now),
            ))
            .execute(conn)?;
        super::rollup::live::refresh(conn, ctx, unit)?;
        review_event(conn, report.id, action, reason.as_deref(), user, now)?;
        audit(
            conn,
            user,
            action,
            "report",
            Some(report.id),
            Some(unit.id),
            json!({
                "round_id": ctx.round.id,
                "reason": reason,
                "changes": [{ "field": "status", "from": report.status, "to": status }],
            }),
            now,
        )?;
        Ok(())
    })?;
    stored_view(conn, user, ctx, unit)
}

pub(super) fn review_event(
    conn: &mut Conn,
    report_id: i32,
    action: &str,
    reason: Option<&str>,
    actor: &CurrentUser,
    at: NaiveDateTime,
) -> AppResult<()> {
    crate::execute_on_backend!(
        conn,
        diesel::insert_into(review_events::table).values(NewReviewEvent {
            report_id,
            action,
            reason,
            actor_id: actor.account.id,
            at,
        })
    )?;
    Ok(())
}
