//! A report's history, from the audit trail: every save, submission, return, acceptance and
//! reopening, who did it and when, and which values changed from what to what.

use diesel::prelude::*;
use report_schemas::{IndicatorKind, Template};
use serde::Serialize;
use serde_json::Value as Json;

use super::access::CurrentUser;
use super::{RoundCtx, find_report};
use crate::db::Conn;
use crate::db::models::Unit;
use crate::db::schema::{accounts, audit_log, reports, review_events};
use crate::domain::{ReportStatus, vn};
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// `values.KEY`, `sections.KEY` or `status`.
    pub field: String,
    /// The indicator's label, the section's title, or "Trạng thái".
    pub label: String,
    pub from: Json,
    pub to: Json,
    /// Both sides as the pages show them.
    pub from_text: String,
    pub to_text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub at: chrono::NaiveDateTime,
    pub actor: Option<String>,
    pub action: String,
    pub action_label: String,
    pub version: Option<i64>,
    pub reason: Option<String>,
    pub changes: Vec<Change>,
}

pub fn action_label(action: &str) -> &'static str {
    match action {
        "save_draft" => "Lưu nháp",
        "submit" => "Nộp báo cáo",
        "accept" => "Tiếp nhận",
        "return" => "Trả lại",
        "reopen" => "Mở lại",
        "seed_demo" => "Dữ liệu mẫu",
        _ => "Thay đổi khác",
    }
}

fn text_of(template: &Template, field: &str, v: &Json) -> String {
    if v.is_null() {
        return "(trống)".into();
    }
    if field == "status" {
        return ReportStatus::parse(v.as_str().unwrap_or("")).label().into();
    }
    if let Some(key) = field.strip_prefix("values.")
        && let Some(ind) = template.indicator(key)
    {
        return match (&ind.kind, v) {
            (IndicatorKind::YesNo, Json::Bool(b)) => if *b { "Có" } else { "Không" }.into(),
            (IndicatorKind::Choice { options }, Json::String(s)) => options
                .iter()
                .find(|o| &o.key == s)
                .map_or_else(|| s.clone(), |o| o.label.clone()),
            (_, Json::Number(n)) => n.as_f64().map(|x| vn::number(x, 2)).unwrap_or_default(),
            (_, other) => other.to_string(),
        };
    }
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn label_of(template: &Template, field: &str) -> String {
    if field == "status" {
        return "Trạng thái".into();
    }
    if let Some(key) = field.strip_prefix("values.") {
        return template
            .indicator(key)
            .map_or_else(|| key.to_owned(), |i| i.label.clone());
    }
    if let Some(key) = field.strip_prefix("sections.") {
        return template
            .section(key)
            .map_or_else(|| key.to_owned(), |s| s.title.clone());
    }
    field.to_owned()
}

/// The history of `unit`'s report in a round, oldest first, for whoever may read the report.
pub fn history(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
) -> AppResult<Vec<HistoryEntry>> {
    if !user.can_read(unit) {
        return Err(AppError::forbidden());
    }
    let Some(report) = find_report(conn, ctx.round.id, unit.id)? else {
        return Ok(Vec::new());
    };
    let rows: Vec<(chrono::NaiveDateTime, String, String, Option<String>)> = audit_log::table
        .left_join(accounts::table.on(accounts::id.nullable().eq(audit_log::actor_id)))
        .filter(audit_log::entity.eq("report"))
        .filter(audit_log::entity_id.eq(report.id))
        .order(audit_log::id.asc())
        .select((
            audit_log::at,
            audit_log::action,
            audit_log::details,
            accounts::full_name.nullable(),
        ))
        .load(conn)?;
    let template = &ctx.template;
    Ok(rows
        .into_iter()
        .map(|(at, action, details, actor)| {
            let details: Json = serde_json::from_str(&details).unwrap_or(Json::Null);
            let changes = details["changes"]
                .as_array()
                .map(|list| {
                    list.iter()
                        .map(|c| {
                            let field = c["field"].as_str().unwrap_or("").to_owned();
                            Change {
                                label: label_of(template, &field),
                                from_text: text_of(template, &field, &c["from"]),
                                to_text: text_of(template, &field, &c["to"]),
                                from: c["from"].clone(),
                                to: c["to"].clone(),
                                field,
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            HistoryEntry {
                at,
                actor,
                action_label: action_label(&action).into(),
                action,
                version: details["version"].as_i64(),
                reason: details["reason"].as_str().map(str::to_owned),
                changes,
            }
        })
        .collect())
}

/// One step of a report's review trail, as the report page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewStep {
    pub at: chrono::NaiveDateTime,
    pub action: String,
    /// The full name of who took it.
    pub actor: String,
    pub reason: Option<String>,
}

/// The submissions, acceptances, returns and reopenings of `unit`'s report in a round, oldest
/// first, for whoever may read the report.
pub fn review_steps(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
) -> AppResult<Vec<ReviewStep>> {
    if !user.can_read(unit) {
        return Err(AppError::forbidden());
    }
    let rows: Vec<(chrono::NaiveDateTime, String, String, Option<String>)> = review_events::table
        .inner_join(reports::table)
        .inner_join(accounts::table.on(accounts::id.eq(review_events::actor_id)))
        .filter(reports::round_id.eq(ctx.round.id))
        .filter(reports::unit_id.eq(unit.id))
        .order(review_events::id.asc())
        .select((
            review_events::at,
            review_events::action,
            accounts::full_name,
            review_events::reason,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(at, action, actor, reason)| ReviewStep {
            at,
            action,
            actor,
            reason,
        })
        .collect())
}
