//! A round after it is opened, as the offices run it: its owner extends the deadlines once
//! reports have come in (the filers are told the new deadlines), closes it and reopens it; each
//! step is recorded in the round's history, which the owner reads on the unit page.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use report_schemas::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use super::access::CurrentUser;
use super::rounds::{end_of_day, ensure_owner};
use super::{RoundCtx, audit};
use crate::db::Conn;
use crate::db::schema::{accounts, audit_log, rounds};
use crate::domain::vn;
use crate::error::{AppError, AppResult};

/// New deadlines for a round already open, with the reason the filers are told.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlinesInput {
    pub commune_deadline: NaiveDate,
    pub district_deadline: NaiveDate,
    #[serde(default)]
    pub reason: Option<String>,
}

const MAX_REASON: usize = 500;

fn field(field: &str, message: String) -> FieldError {
    FieldError {
        field: field.into(),
        message,
    }
}

/// Moves a round's deadlines later: never earlier than they were (a unit that planned for a
/// deadline is not caught out), the district's not before the communes'.
pub fn extend_deadlines(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    input: &DeadlinesInput,
) -> AppResult<()> {
    ensure_owner(user, ctx)?;
    if !ctx.is_open() {
        return Err(AppError::conflict(
            "round_closed",
            "Kỳ báo cáo đã đóng: xin mở lại kỳ trước khi gia hạn.",
        ));
    }
    let r = &ctx.round;
    let (commune, district) = (
        end_of_day(input.commune_deadline),
        end_of_day(input.district_deadline),
    );
    let mut errors = Vec::new();
    if commune < r.commune_deadline {
        errors.push(field(
            "commune_deadline",
            format!(
                "Hạn mới của cấp xã không được sớm hơn hạn hiện tại ({}).",
                vn::datetime(r.commune_deadline)
            ),
        ));
    }
    if district < r.district_deadline {
        errors.push(field(
            "district_deadline",
            format!(
                "Hạn mới của cấp huyện không được sớm hơn hạn hiện tại ({}).",
                vn::datetime(r.district_deadline)
            ),
        ));
    }
    if district < commune {
        errors.push(field(
            "district_deadline",
            "Hạn nộp của cấp huyện không được trước hạn nộp của cấp xã.".into(),
        ));
    }
    let reason = vn::clean(input.reason.as_deref().unwrap_or("").trim());
    if reason.chars().count() > MAX_REASON {
        errors.push(field(
            "reason",
            format!("Lý do gia hạn dài quá {MAX_REASON} ký tự."),
        ));
    }
    if errors.is_empty() && commune == r.commune_deadline && district == r.district_deadline {
        errors.push(field(
            "commune_deadline",
            "Hạn mới trùng với hạn hiện tại: không có gì để gia hạn.".into(),
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::invalid(errors));
    }
    super::write_transaction(conn, |conn| {
        diesel::update(rounds::table.find(r.id))
            .set((
                rounds::commune_deadline.eq(commune),
                rounds::district_deadline.eq(district),
            ))
            .execute(conn)?;
        // Who filed on time is judged against the new deadlines.
        super::rollup::live::rebuild_round(conn, r.id)?;
        audit(
            conn,
            user,
            "extend_deadlines",
            "round",
            Some(r.id),
            Some(ctx.owner.id),
            json!({
                "from": { "commune_deadline": r.commune_deadline, "district_deadline": r.district_deadline },
                "to": { "commune_deadline": commune, "district_deadline": district },
                "reason": (!reason.is_empty()).then_some(&reason),
            }),
            ctx.now,
        )?;
        Ok(())
    })
}

/// Opens a closed round again: its units may file and its boards review as before.
pub fn reopen_round(conn: &mut Conn, user: &CurrentUser, ctx: &RoundCtx) -> AppResult<()> {
    ensure_owner(user, ctx)?;
    if ctx.is_open() {
        return Err(AppError::conflict(
            "round_open",
            "Kỳ báo cáo đang mở, không cần mở lại.",
        ));
    }
    super::write_transaction(conn, |conn| {
        diesel::update(rounds::table.find(ctx.round.id))
            .set((
                rounds::status.eq("open"),
                rounds::closed_at.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
        audit(
            conn,
            user,
            "reopen_round",
            "round",
            Some(ctx.round.id),
            Some(ctx.owner.id),
            json!({ "changes": [{ "field": "status", "from": "closed", "to": "open" }] }),
            ctx.now,
        )?;
        Ok(())
    })
}

/// One step in a round's life.
#[derive(Debug, Clone, Serialize)]
pub struct RoundEvent {
    pub at: NaiveDateTime,
    pub actor: Option<String>,
    pub action: String,
    pub action_label: &'static str,
    /// What changed, in Vietnamese, e.g. "Hạn nộp cấp xã: 23:59 ngày 17/12/2025 → 23:59 ngày 24/12/2025".
    pub details: Vec<String>,
}

fn action_label(action: &str) -> &'static str {
    match action {
        "open_round" => "Mở kỳ báo cáo",
        "edit_round" => "Sửa kỳ báo cáo",
        "extend_deadlines" => "Gia hạn nộp báo cáo",
        "close_round" => "Đóng kỳ báo cáo",
        "reopen_round" => "Mở lại kỳ báo cáo",
        _ => "Thay đổi khác",
    }
}

fn deadline_text(v: &Json) -> Option<String> {
    let at: NaiveDateTime = serde_json::from_value(v.clone()).ok()?;
    Some(vn::datetime(at))
}

fn details_of(action: &str, details: &Json) -> Vec<String> {
    let mut out = Vec::new();
    if matches!(action, "extend_deadlines" | "edit_round") {
        for (key, label) in [
            ("commune_deadline", "Hạn nộp cấp xã"),
            ("district_deadline", "Hạn nộp cấp huyện"),
        ] {
            let from = deadline_text(&details["from"][key]);
            let to = deadline_text(&details["to"][key]);
            if let (Some(from), Some(to)) = (from, to)
                && from != to
            {
                out.push(format!("{label}: {from} → {to}"));
            }
        }
    }
    if let Some(reason) = details["reason"].as_str() {
        out.push(format!("Lý do: {reason}"));
    }
    out
}

/// The round's history, oldest first: opened, edited, deadlines extended, closed, reopened.
pub fn round_history(conn: &mut Conn, ctx: &RoundCtx) -> AppResult<Vec<RoundEvent>> {
    let rows: Vec<(NaiveDateTime, Option<String>, String, String)> = audit_log::table
        .left_join(accounts::table.on(accounts::id.nullable().eq(audit_log::actor_id)))
        .filter(audit_log::entity.eq("round"))
        .filter(audit_log::entity_id.eq(ctx.round.id))
        .order((audit_log::at.asc(), audit_log::id.asc()))
        .select((
            audit_log::at,
            accounts::full_name.nullable(),
            audit_log::action,
            audit_log::details,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(at, actor, action, details)| {
            let details: Json = serde_json::from_str(&details).unwrap_or(Json::Null);
            RoundEvent {
                at,
                actor,
                action_label: action_label(&action),
                details: details_of(&action, &details),
                action,
            }
        })
        .collect())
}

/// For the filers: the round's deadlines were extended, from what, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Extension {
    pub at: NaiveDateTime,
    /// The deadlines as first set, before any extension.
    pub commune_from: NaiveDateTime,
    pub district_from: NaiveDateTime,
    pub reason: Option<String>,
}

impl Extension {
    /// What a filer is told, for the deadline that applies to them (`leaf`: a commune's).
    pub fn message(&self, leaf: bool) -> String {
        let from = if leaf {
            self.commune_from
        } else {
            self.district_from
        };
        let mut text = format!(
            "Hạn nộp đã được gia hạn ngày {} (hạn cũ: {}).",
            vn::date_short(vn::local(self.at).date()),
            vn::datetime(from)
        );
        if let Some(r) = &self.reason {
            text.push_str(&format!(" Lý do: {r}"));
        }
        text
    }
}

/// The round's latest extension, if its deadlines were ever extended.
pub fn extension(conn: &mut Conn, round_id: i32) -> AppResult<Option<Extension>> {
    let rows: Vec<(NaiveDateTime, String)> = audit_log::table
        .filter(audit_log::entity.eq("round"))
        .filter(audit_log::entity_id.eq(round_id))
        .filter(audit_log::action.eq("extend_deadlines"))
        .order((audit_log::at.asc(), audit_log::id.asc()))
        .select((audit_log::at, audit_log::details))
        .load(conn)?;
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return Ok(None);
    };
    let first: Json = serde_json::from_str(&first.1).map_err(anyhow::Error::new)?;
    let details: Json = serde_json::from_str(&last.1).map_err(anyhow::Error::new)?;
    let read = |key: &str| -> AppResult<NaiveDateTime> {
        Ok(serde_json::from_value(first["from"][key].clone()).map_err(anyhow::Error::new)?)
    };
    Ok(Some(Extension {
        at: last.0,
        commune_from: read("commune_deadline")?,
        district_from: read("district_deadline")?,
        reason: details["reason"].as_str().map(str::to_owned),
    }))
}
