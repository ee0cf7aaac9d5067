//! Filing a report (*lập và nộp báo cáo*): saving a draft (refused whole when any value is
//! bad; kept with its broken rules and empty required fields, which it shows), and submitting
//! it after the full check. A unit with children files its narrative; its figures are its
//! consolidation. The report as its readers see it is in `view.rs`.

use std::collections::BTreeMap;

use diesel::prelude::*;
use report_schemas::{FieldError, Mode, Template};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use super::access::CurrentUser;
use super::review::review_event;
use super::rollup::{Included, live, rollup};
use super::rosters::{RosterFigures, members_of};
use super::units::has_children;
use super::{RoundCtx, audit, ensure_open, find_report, parse_map, write_transaction};
use crate::db::Conn;
use crate::db::models::{NewReport, Report, Unit};
use crate::db::reused::Reused;
use crate::db::schema::reports;
use crate::domain::{ReportStatus, vn};
use crate::error::{AppError, AppResult};

mod view;

use view::{Known, Parsed, stored_reasons, submit_problems, view_of};
pub use view::{ReportView, report_view, stored_view};

/// A draft as sent by the API or the form: raw values, narrative text, and the version the
/// sender last saw (0 for a report not yet started).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftInput {
    #[serde(default)]
    pub values: BTreeMap<String, Json>,
    #[serde(default)]
    pub sections: BTreeMap<String, String>,
    /// Reasons for organisation figures that differ from the team's roster, by indicator key.
    #[serde(default)]
    pub overrides: BTreeMap<String, String>,
    pub version: i32,
}

/// The organisation figures of `unit`'s roster on the round's cut-off date.
pub fn roster_prefill(
    conn: &mut Conn,
    ctx: &RoundCtx,
    unit: &Unit,
) -> AppResult<BTreeMap<String, Json>> {
    let members = members_of(conn, unit)?;
    Ok(RosterFigures::of(&members, ctx.round.period_end).prefill(&ctx.template))
}

/// Every figure that differs from the roster needs a reason before the report is submitted;
/// returns the reasons kept and the figures still without one. A reason too long is refused.
fn check_overrides(
    template: &Template,
    prefill: &BTreeMap<String, Json>,
    values: &report_schemas::Values,
    reasons: &BTreeMap<String, String>,
) -> AppResult<(BTreeMap<String, String>, Vec<FieldError>)> {
    let mut kept = BTreeMap::new();
    let mut missing = Vec::new();
    let mut errors = Vec::new();
    for (key, from_roster) in prefill {
        let Some(value) = values.get(key) else {
            continue;
        };
        if serde_json::to_value(value).ok().as_ref() == Some(from_roster) {
            continue;
        }
        let reason = vn::clean(reasons.get(key).map_or("", |r| r.trim()));
        let label = template
            .indicator(key)
            .map_or(key.as_str(), |i| i.label.as_str());
        let shown = match from_roster {
            Json::Bool(true) => "Có".to_owned(),
            Json::Bool(false) => "Không".to_owned(),
            other => other.to_string(),
        };
        if reason.is_empty() {
            missing.push(FieldError {
                field: key.clone(),
                message: format!(
                    "«{label}» khác với danh sách Tổ tại ngày chốt số liệu ({shown}); xin ghi lý do điều chỉnh."
                ),
            });
        } else if reason.chars().count() > 500 {
            errors.push(FieldError {
                field: key.clone(),
                message: format!("Lý do điều chỉnh «{label}» dài quá 500 ký tự."),
            });
        } else {
            kept.insert(key.clone(), reason);
        }
    }
    if errors.is_empty() {
        Ok((kept, missing))
    } else {
        Err(AppError::invalid(errors))
    }
}

/// Who enters a report's figures: its own unit, or (for an offline form collected from a
/// commune with a poor connection) the board that reviews it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    Filer,
    OnBehalf,
}

fn ensure_can_file(ctx: &RoundCtx, user: &CurrentUser, unit: &Unit) -> AppResult<()> {
    ensure_can_enter(ctx, user, unit, Entry::Filer)
}

pub(super) fn ensure_can_enter(
    ctx: &RoundCtx,
    user: &CurrentUser,
    unit: &Unit,
    entry: Entry,
) -> AppResult<()> {
    let allowed = match entry {
        Entry::Filer => user.can_file(unit),
        Entry::OnBehalf => user.can_file(unit) || user.can_review(unit),
    };
    if !allowed {
        return Err(AppError::Forbidden(
            "Chỉ đơn vị lập báo cáo mới được sửa hay nộp báo cáo này.".into(),
        ));
    }
    if !unit.valid_on(ctx.round.period_end) {
        return Err(AppError::conflict(
            "unit_closed",
            format!(
                "{} không còn tồn tại vào ngày chốt số liệu của kỳ này (đã sắp xếp, hợp nhất); báo cáo cũ được giữ nguyên, đơn vị mới lập báo cáo của mình.",
                unit.name
            ),
        ));
    }
    ensure_open(ctx)
}

fn ensure_editable(report: Option<&Report>) -> AppResult<()> {
    let status = report.map_or(ReportStatus::NotStarted, |r| ReportStatus::parse(&r.status));
    match status {
        ReportStatus::Accepted => Err(AppError::conflict(
            "locked",
            "Báo cáo đã được tiếp nhận nên đã khóa, không thể sửa.",
        )),
        ReportStatus::Submitted => Err(AppError::conflict(
            "submitted",
            "Báo cáo đã nộp và đang chờ tiếp nhận, không thể sửa.",
        )),
        _ => Ok(()),
    }
}

/// A first report that meets one already there: someone filed it since it was read.
fn stale_if_taken(e: diesel::result::Error) -> AppError {
    match e {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => stale(),
        other => other.into(),
    }
}

fn stale() -> AppError {
    AppError::conflict(
        "stale_version",
        "Báo cáo vừa được người khác cập nhật. Xin tải lại trang để xem bản mới nhất rồi sửa tiếp.",
    )
}

/// The report with `id` at `version` updated by the changeset `changes` and answered as written
/// (`RETURNING` on PostgreSQL, read back on SQLite: see [`written_row`]), the statement prepared
/// once per connection; stale when someone moved the version meanwhile (no row of that version
/// is left). Both a save's and a submit's write.
macro_rules! versioned_update {
    ($conn:expr, $id:expr, $version:expr, $changes:expr) => {{
        let update = diesel::update(
            reports::table
                .filter(reports::id.eq($id))
                .filter(reports::version.eq($version)),
        )
        .set($changes);
        match $conn {
            crate::db::Conn::Sqlite(c) => match diesel::RunQueryDsl::execute(Reused(update), c)? {
                0 => Err(stale()),
                _ => Ok(written_row(c, $id)?),
            },
            crate::db::Conn::Postgres(c) => {
                diesel::RunQueryDsl::get_result(Reused(update.returning(reports::all_columns)), c)
                    .optional()?
                    .ok_or_else(stale)
            }
        }
    }};
}

/// Inserts a report; `stale` if the unit's report for the round was made meanwhile. On
/// SQLite the row is read back (see [`written_row`]), by the lookup every filing makes.
fn insert_report(conn: &mut Conn, row: NewReport<'_>) -> AppResult<Report> {
    let (round_id, unit_id) = (row.round_id, row.unit_id);
    let insert = diesel::insert_into(reports::table).values(row);
    if let Conn::Postgres(c) = conn {
        return insert
            .returning(reports::all_columns)
            .get_result(c)
            .map_err(stale_if_taken);
    }
    crate::execute_on_backend!(conn, insert).map_err(stale_if_taken)?;
    // Inserted in this transaction, so found.
    find_report(conn, round_id, unit_id)?.ok_or_else(stale)
}

/// The report row `id` as just written, read back in the same transaction on SQLite: there a
/// `RETURNING` clause gathers its rows in a table of its own, opened and closed for every
/// statement, which costs more than reading the row again from the pages the write left in
/// the writer's cache.
fn written_row(c: &mut diesel::SqliteConnection, id: i32) -> QueryResult<Report> {
    reports::table.find(id).first(c)
}

/// What the audit trail keeps of a save: the changes moved in, where `json!` would copy each
/// of them (sixty in a first save) through serialising.
fn save_details(round_id: i32, version: i32, changes: Vec<Json>) -> Json {
    let mut details = json!({ "round_id": round_id, "version": version });
    details["changes"] = Json::Array(changes);
    details
}

/// Every narrative as stored text (see [`vn::clean`]).
fn clean_sections(sections: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    sections
        .iter()
        .map(|(k, v)| (k.clone(), vn::clean(v)))
        .collect()
}

/// The changes between two JSON maps, for the audit trail: `[{field, from, to}]`.
fn diff_maps<V: Serialize + PartialEq>(
    prefix: &str,
    old: &BTreeMap<String, V>,
    new: &BTreeMap<String, V>,
    out: &mut Vec<Json>,
) {
    for key in old
        .keys()
        .chain(new.keys().filter(|k| !old.contains_key(*k)))
    {
        let (a, b) = (old.get(key), new.get(key));
        if a != b {
            out.push(json!({ "field": format!("{prefix}{key}"), "from": a, "to": b }));
        }
    }
}

/// Saves a draft. Bad input is refused whole: nothing is stored unless every value is valid.
pub fn save_draft(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
    input: &DraftInput,
) -> AppResult<ReportView> {
    save_draft_as(conn, user, ctx, unit, input, Entry::Filer)
}

pub(super) fn save_draft_as(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
    input: &DraftInput,
    entry: Entry,
) -> AppResult<ReportView> {
    ensure_can_enter(ctx, user, unit, entry)?;
    let consolidated = has_children(conn, unit, ctx.round.period_end)?;
    let sections = clean_sections(&input.sections);
    let checked = if consolidated {
        if !input.values.is_empty() {
            return Err(AppError::invalid(vec![FieldError {
                field: "values".into(),
                message: "Số liệu của báo cáo tổng hợp được tính từ báo cáo của các đơn vị trực thuộc, không nhập tay.".into(),
            }]));
        }
        ctx.template
            .validate(&BTreeMap::new(), &sections, Mode::Draft)
            .map_err(AppError::invalid)?
    } else {
        ctx.template
            .validate(&input.values, &sections, Mode::Draft)
            .map_err(AppError::invalid)?
    };
    let prefill = if consolidated {
        BTreeMap::new()
    } else {
        roster_prefill(conn, ctx, unit)?
    };
    // Broken rules and missing reasons are kept with the draft: the page shows them, only
    // submitting requires them solved.
    let (reasons, _) = check_overrides(&ctx.template, &prefill, &checked.values, &input.overrides)?;
    let prefill_json =
        (!prefill.is_empty()).then(|| json!({ "roster": prefill, "reasons": reasons }).to_string());
    let now = ctx.now;
    // Read and compared before the write's turn, so that the turn only writes: a change made
    // meanwhile moved the version, and the write below then finds no row of this version.
    let existing = find_report(conn, ctx.round.id, unit.id)?;
    ensure_editable(existing.as_ref())?;
    let current_version = existing.as_ref().map_or(0, |r| r.version);
    if input.version != current_version {
        return Err(stale());
    }
    let values_json = if consolidated {
        existing
            .as_ref()
            .map_or_else(|| "{}".to_owned(), |r| r.values_json.clone())
    } else {
        serde_json::to_string(&checked.values).map_err(anyhow::Error::new)?
    };
    let sections_json = serde_json::to_string(&checked.sections).map_err(anyhow::Error::new)?;
    let mut changes = Vec::new();
    let (old_values, old_sections): (BTreeMap<String, Json>, BTreeMap<String, String>) =
        match &existing {
            Some(r) => (parse_map(&r.values_json)?, parse_map(&r.sections_json)?),
            None => (BTreeMap::new(), BTreeMap::new()),
        };
    // What the row holds, as JSON: from the checked values, not parsed back out of the text
    // just written from them.
    let new_values: BTreeMap<String, Json> = if consolidated {
        parse_map(&values_json)?
    } else {
        checked
            .values
            .iter()
            .map(|(key, value)| Ok((key.clone(), serde_json::to_value(value)?)))
            .collect::<serde_json::Result<_>>()
            .map_err(anyhow::Error::new)?
    };
    diff_maps("values.", &old_values, &new_values, &mut changes);
    diff_maps("sections.", &old_sections, &checked.sections, &mut changes);
    for (key, reason) in &reasons {
        if let Some(change) = changes
            .iter_mut()
            .find(|c| c["field"] == format!("values.{key}"))
        {
            change["reason"] = json!(reason);
        }
    }
    // The answer is made of the row as written, not read again after the write's turn.
    let written = write_transaction(conn, |conn| {
        let report: Report = match &existing {
            Some(r) => {
                let status = if r.status == "returned" {
                    "returned"
                } else {
                    "draft"
                };
                versioned_update!(
                    conn,
                    r.id,
                    current_version,
                    (
                        reports::values_json.eq(&values_json),
                        reports::sections_json.eq(&sections_json),
                        reports::prefill_json.eq(prefill_json.as_deref()),
                        reports::status.eq(status),
                        reports::version.eq(current_version + 1),
                        reports::updated_at.eq(now),
                        reports::updated_by.eq(Some(user.account.id)),
                    )
                )?
            }
            None => insert_report(
                conn,
                NewReport {
                    round_id: ctx.round.id,
                    unit_id: unit.id,
                    status: "draft",
                    values_json: &values_json,
                    sections_json: &sections_json,
                    version: 1,
                    first_submitted_at: None,
                    submitted_at: None,
                    reviewed_at: None,
                    reviewed_by: None,
                    return_reason: None,
                    updated_at: now,
                    updated_by: Some(user.account.id),
                    included_json: None,
                    prefill_json: prefill_json.as_deref(),
                },
            )?,
        };
        audit(
            conn,
            user,
            "save_draft",
            "report",
            Some(report.id),
            Some(unit.id),
            save_details(ctx.round.id, current_version + 1, changes),
            now,
        )?;
        Ok(report)
    })?;
    let report_schemas::FilledReport {
        values,
        sections,
        pending,
        warnings,
    } = checked;
    let known = Known {
        consolidated,
        report: Some(written),
        prefill,
        parsed: Some(Parsed {
            values: new_values,
            sections,
            filled: (!consolidated).then_some(report_schemas::FilledReport {
                values,
                sections: BTreeMap::new(),
                pending,
                warnings,
            }),
        }),
    };
    view_of(conn, user, ctx, unit, known, false)
}

/// Submits the stored draft after checking it in full (required fields and rules). A unit with
/// children submits its narrative with a snapshot of the consolidated figures of its
/// accepted children.
pub fn submit(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
    version: Option<i32>,
) -> AppResult<ReportView> {
    ensure_can_file(ctx, user, unit)?;
    let consolidated = has_children(conn, unit, ctx.round.period_end)?;
    let (snapshot, included) = if consolidated {
        let rollup = rollup(conn, user, ctx, unit, false)?;
        let mut values = BTreeMap::new();
        for ind in &ctx.template.indicators {
            if let Some(v) = rollup.total.rollup.value(&ctx.template, &ind.key) {
                values.insert(
                    ind.key.clone(),
                    serde_json::to_value(v).map_err(anyhow::Error::new)?,
                );
            }
        }
        let included = Included::of(&rollup.rows);
        (
            Some(serde_json::to_string(&values).map_err(anyhow::Error::new)?),
            Some(serde_json::to_string(&included).map_err(anyhow::Error::new)?),
        )
    } else {
        (None, None)
    };
    let prefill = if consolidated {
        BTreeMap::new()
    } else {
        roster_prefill(conn, ctx, unit)?
    };
    let now = ctx.now;
    // Read and checked before the write's turn (see `save_draft_as`): the write below only
    // goes ahead on the version read here.
    let existing = find_report(conn, ctx.round.id, unit.id)?;
    ensure_editable(existing.as_ref())?;
    let current_version = existing.as_ref().map_or(0, |r| r.version);
    if version.is_some_and(|v| v != current_version) {
        return Err(stale());
    }
    let reasons = stored_reasons(existing.as_ref())?;
    let (raw_values, sections): (BTreeMap<String, Json>, BTreeMap<String, String>) = match &existing
    {
        Some(r) if !consolidated => (parse_map(&r.values_json)?, parse_map(&r.sections_json)?),
        Some(r) => (BTreeMap::new(), parse_map(&r.sections_json)?),
        None => (BTreeMap::new(), BTreeMap::new()),
    };
    let problems = submit_problems(
        &ctx.template,
        consolidated,
        &raw_values,
        &sections,
        &prefill,
        &reasons,
    )?;
    if !problems.is_empty() {
        return Err(AppError::invalid(problems));
    }
    let written = write_transaction(conn, |conn| {
        let (row, details) = match existing {
            // Validation of an empty report always fails on a template with a required
            // field; a template without any is submitted as an empty report.
            None => {
                let row = insert_report(
                    conn,
                    NewReport {
                        round_id: ctx.round.id,
                        unit_id: unit.id,
                        status: "submitted",
                        values_json: snapshot.as_deref().unwrap_or("{}"),
                        sections_json: "{}",
                        version: 1,
                        first_submitted_at: Some(now),
                        submitted_at: Some(now),
                        reviewed_at: None,
                        reviewed_by: None,
                        return_reason: None,
                        updated_at: now,
                        updated_by: Some(user.account.id),
                        included_json: included.as_deref(),
                        prefill_json: None,
                    },
                )?;
                (row, json!({ "round_id": ctx.round.id, "version": 1 }))
            }
            Some(report) => {
                let values_json = snapshot
                    .clone()
                    .unwrap_or_else(|| report.values_json.clone());
                let row: Report = versioned_update!(
                    conn,
                    report.id,
                    current_version,
                    (
                        reports::status.eq("submitted"),
                        reports::values_json.eq(&values_json),
                        reports::version.eq(current_version + 1),
                        reports::submitted_at.eq(Some(now)),
                        reports::first_submitted_at
                            .eq(Some(report.first_submitted_at.unwrap_or(now))),
                        reports::included_json.eq(included.as_deref()),
                        reports::updated_at.eq(now),
                        reports::updated_by.eq(Some(user.account.id)),
                    )
                )?;
                let details = json!({
                    "round_id": ctx.round.id,
                    "version": current_version + 1,
                    "changes": [{ "field": "status", "from": report.status, "to": "submitted" }],
                });
                (row, details)
            }
        };
        live::refresh(conn, ctx, unit)?;
        review_event(conn, row.id, "submit", None, user, now)?;
        audit(
            conn,
            user,
            "submit",
            "report",
            Some(row.id),
            Some(unit.id),
            details,
            now,
        )?;
        Ok(row)
    })?;
    // A consolidated report's figures are the snapshot just written: read from the row.
    let parsed = (!consolidated).then_some(Parsed {
        values: raw_values,
        sections,
        filled: None,
    });
    let known = Known {
        consolidated,
        report: Some(written),
        prefill,
        parsed,
    };
    view_of(conn, user, ctx, unit, known, false)
}
