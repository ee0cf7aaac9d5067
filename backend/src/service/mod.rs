//! The operations of baocao, shared by the JSON API, the HTML pages and the CLI: each checks
//! who is asking, changes state in one transaction together with its audit row, and returns
//! a view. Nothing here knows about HTTP.

mod compare;
mod history;
mod roster;
mod round;

pub use compare::*;
pub use history::*;
pub use roster::*;
pub use round::*;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use report_schemas::{AggValue, FieldError, Mode, Rollup, Template, Values};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use crate::auth::CurrentUser;
use crate::catalog::Catalog;
use crate::db::Conn;
use crate::db::models::{NewAuditEntry, NewReport, NewReviewEvent, Report, Round, Unit};
use crate::db::schema::{audit_log, reports, review_events, rounds, units};
use crate::domain::{ReportStatus, UnitCode, vn};
use crate::error::{AppError, AppResult};

/// A round together with what every operation on it needs.
#[derive(Debug, Clone)]
pub struct RoundCtx {
    pub round: Round,
    pub template: Arc<Template>,
    pub owner: Unit,
    /// The time the request is judged at (deadlines, timestamps), from the application's clock.
    pub now: NaiveDateTime,
}

impl RoundCtx {
    pub fn is_open(&self) -> bool {
        self.round.status == "open"
    }

    /// Leaves (communes) answer to the first deadline, every unit with children to the second.
    pub fn deadline_for(&self, leaf: bool) -> NaiveDateTime {
        if leaf {
            self.round.commune_deadline
        } else {
            self.round.district_deadline
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct UnitRef {
    pub code: String,
    pub name: String,
}

impl From<&Unit> for UnitRef {
    fn from(u: &Unit) -> Self {
        UnitRef {
            code: u.code.clone(),
            name: u.name.clone(),
        }
    }
}

pub fn unit_by_id(conn: &mut Conn, id: i32) -> AppResult<Unit> {
    Ok(units::table
        .find(id)
        .select(Unit::as_select())
        .first(conn)?)
}

/// The unit with `code` as it was on `on`; without a day, the one that exists now (or the
/// latest). A code names different units over time: merged communes keep one old code.
pub fn unit_by_code(
    conn: &mut Conn,
    code: &str,
    on: Option<chrono::NaiveDate>,
) -> AppResult<Option<Unit>> {
    let mut rows: Vec<Unit> = units::table
        .filter(units::code.eq(code))
        .select(Unit::as_select())
        .load(conn)?;
    rows.sort_by_key(|u| std::cmp::Reverse(u.valid_from));
    Ok(match on {
        Some(day) => rows.into_iter().find(|u| u.valid_on(day)),
        None => {
            let current = rows.iter().position(|u| u.valid_to.is_none());
            match current {
                Some(i) => Some(rows.swap_remove(i)),
                None => rows.into_iter().next(),
            }
        }
    })
}

/// Units valid on `day`: the shape of the tree for a period.
macro_rules! valid_on {
    ($query:expr, $day:expr) => {
        $query
            .filter(units::valid_from.is_null().or(units::valid_from.le($day)))
            .filter(units::valid_to.is_null().or(units::valid_to.ge($day)))
    };
}

/// Whether `unit` had units below it on `day` (it consolidates rather than files figures).
pub fn has_children(conn: &mut Conn, unit: &Unit, day: chrono::NaiveDate) -> AppResult<bool> {
    let n: i64 = valid_on!(units::table.filter(units::parent_id.eq(unit.id)), day)
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

fn round_not_found() -> AppError {
    AppError::NotFound("Không tìm thấy kỳ báo cáo.".into())
}

/// The round, if this person has any business with it; otherwise "not found", so that
/// rounds of other subtrees do not reveal themselves.
pub fn round_for(
    conn: &mut Conn,
    catalog: &Catalog,
    user: &CurrentUser,
    round_id: i32,
    now: NaiveDateTime,
) -> AppResult<RoundCtx> {
    let round: Round = rounds::table
        .find(round_id)
        .select(Round::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(round_not_found)?;
    let owner = unit_by_id(conn, round.owner_unit_id)?;
    if !sees_round(user, &owner) {
        return Err(round_not_found());
    }
    let template = catalog.get(conn, round.template_id)?;
    Ok(RoundCtx {
        round,
        template,
        owner,
        now,
    })
}

/// The unit named by `code`, if this person may see it. A unit outside their subtree and a
/// code that does not exist get the same answer, so that nothing leaks.
pub fn unit_for(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    code: &str,
) -> AppResult<Unit> {
    let code = UnitCode::parse(code);
    let unit = match &code {
        Some(code) => unit_by_code(conn, code.as_str(), Some(ctx.round.period_end))?,
        None => None,
    };
    if let Some(unit) = unit {
        return match user.can_read(&unit) {
            true if ctx.owner.contains(&unit) => Ok(unit),
            true => Err(AppError::NotFound(format!(
                "Đơn vị «{}» không thuộc phạm vi của kỳ báo cáo này.",
                unit.name
            ))),
            false => Err(no_access()),
        };
    }
    // A unit merged away since it filed in this round: its report stays readable.
    if let Some(code) = &code {
        let filed: Option<Unit> = units::table
            .inner_join(reports::table.on(reports::unit_id.eq(units::id)))
            .filter(units::code.eq(code.as_str()))
            .filter(reports::round_id.eq(ctx.round.id))
            .select(Unit::as_select())
            .first(conn)
            .optional()?;
        if let Some(unit) = filed.filter(|u| user.can_read(u)) {
            return Ok(unit);
        }
    }
    Err(no_access())
}

fn no_access() -> AppError {
    AppError::Forbidden("Bạn không có quyền xem hay sửa báo cáo của đơn vị này.".into())
}

pub(crate) fn find_report(
    conn: &mut Conn,
    round_id: i32,
    unit_id: i32,
) -> AppResult<Option<Report>> {
    Ok(reports::table
        .filter(reports::round_id.eq(round_id))
        .filter(reports::unit_id.eq(unit_id))
        .select(Report::as_select())
        .first(conn)
        .optional()?)
}

pub(crate) fn parse_map<T: for<'de> Deserialize<'de> + Default>(text: &str) -> AppResult<T> {
    serde_json::from_str(text).map_err(|e| {
        AppError::Unexpected(anyhow::Error::new(e).context("stored report JSON unreadable"))
    })
}

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

/// One report as its readers see it.
#[derive(Debug, Clone, Serialize)]
pub struct ReportView {
    pub round_id: i32,
    pub unit: UnitRef,
    /// Its figures are computed from the units below it, not typed in.
    pub consolidated: bool,
    pub status: ReportStatus,
    pub status_label: &'static str,
    pub version: i32,
    pub values: BTreeMap<String, Json>,
    /// Derived ratios of this report alone.
    pub computed: BTreeMap<String, Option<f64>>,
    pub sections: BTreeMap<String, String>,
    pub return_reason: Option<String>,
    /// For a consolidated report that was sent up: which children it counted.
    pub included: Option<Included>,
    /// For its filer: the reminder that the report is due soon or overdue.
    pub due: Option<DueNotice>,
    pub deadline: NaiveDateTime,
    pub first_submitted_at: Option<NaiveDateTime>,
    pub submitted_at: Option<NaiveDateTime>,
    pub reviewed_at: Option<NaiveDateTime>,
    pub updated_at: Option<NaiveDateTime>,
    /// What the person asking may do with it now.
    pub can_edit: bool,
    pub can_review: bool,
    /// The reviewer may unlock it (it is accepted).
    pub can_reopen: bool,
    /// The organisation figures from the team's roster on the round's cut-off date, which the
    /// form starts from; a filer who changes one gives a reason.
    pub prefill: BTreeMap<String, Json>,
    /// The reasons given for figures that differ from the roster.
    pub overrides: BTreeMap<String, String>,
}

pub fn report_view(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
) -> AppResult<ReportView> {
    let consolidated = has_children(conn, unit, ctx.round.period_end)?;
    let report = find_report(conn, ctx.round.id, unit.id)?;
    let status = report
        .as_ref()
        .map_or(ReportStatus::NotStarted, |r| ReportStatus::parse(&r.status));
    let values: BTreeMap<String, Json> = match &report {
        Some(r) => parse_map(&r.values_json)?,
        None => BTreeMap::new(),
    };
    let sections: BTreeMap<String, String> = match &report {
        Some(r) => parse_map(&r.sections_json)?,
        None => BTreeMap::new(),
    };
    let prefill = if consolidated {
        BTreeMap::new()
    } else {
        roster_prefill(conn, ctx, unit)?
    };
    let overrides: BTreeMap<String, String> =
        match report.as_ref().and_then(|r| r.prefill_json.as_deref()) {
            Some(text) => {
                let stored: Json = serde_json::from_str(text).map_err(anyhow::Error::new)?;
                serde_json::from_value(stored["reasons"].clone()).unwrap_or_default()
            }
            None => BTreeMap::new(),
        };
    let mut computed = BTreeMap::new();
    if !consolidated {
        let typed: Values = report
            .as_ref()
            .map(|r| parse_map(&r.values_json))
            .transpose()?
            .unwrap_or_default();
        let single = Rollup::of(&ctx.template, [&typed]);
        for ind in &ctx.template.indicators {
            if matches!(ind.kind, report_schemas::IndicatorKind::Ratio { .. }) {
                let v = match single.value(&ctx.template, &ind.key) {
                    Some(AggValue::Number(x)) => Some(x),
                    _ => None,
                };
                computed.insert(ind.key.clone(), v);
            }
        }
    }
    Ok(ReportView {
        round_id: ctx.round.id,
        unit: unit.into(),
        consolidated,
        status,
        status_label: status.label(),
        version: report.as_ref().map_or(0, |r| r.version),
        values,
        computed,
        sections,
        return_reason: report.as_ref().and_then(|r| r.return_reason.clone()),
        due: (ctx.is_open() && user.can_file(unit))
            .then(|| due_notice(ctx.deadline_for(!consolidated), status, ctx.now))
            .flatten(),
        included: match report.as_ref().and_then(|r| r.included_json.as_deref()) {
            Some(text) => Some(parse_map(text)?),
            None => None,
        },
        deadline: ctx.deadline_for(!consolidated),
        first_submitted_at: report.as_ref().and_then(|r| r.first_submitted_at),
        submitted_at: report.as_ref().and_then(|r| r.submitted_at),
        reviewed_at: report.as_ref().and_then(|r| r.reviewed_at),
        updated_at: report.as_ref().map(|r| r.updated_at),
        can_edit: ctx.is_open()
            && user.can_file(unit)
            && unit.valid_on(ctx.round.period_end)
            && status.is_editable(),
        can_review: ctx.is_open() && user.can_review(unit) && status == ReportStatus::Submitted,
        can_reopen: ctx.is_open() && user.can_review(unit) && status == ReportStatus::Accepted,
        prefill,
        overrides,
    })
}

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

/// Every figure that differs from the roster needs a reason; returns the reasons kept.
fn check_overrides(
    template: &Template,
    prefill: &BTreeMap<String, Json>,
    values: &report_schemas::Values,
    reasons: &BTreeMap<String, String>,
) -> AppResult<BTreeMap<String, String>> {
    let mut kept = BTreeMap::new();
    let mut errors = Vec::new();
    for (key, from_roster) in prefill {
        let Some(value) = values.get(key) else {
            continue;
        };
        if serde_json::to_value(value).ok().as_ref() == Some(from_roster) {
            continue;
        }
        let reason = vn::nfc(reasons.get(key).map_or("", |r| r.trim()));
        let label = template
            .indicator(key)
            .map_or(key.as_str(), |i| i.label.as_str());
        let shown = match from_roster {
            Json::Bool(true) => "Có".to_owned(),
            Json::Bool(false) => "Không".to_owned(),
            other => other.to_string(),
        };
        if reason.is_empty() {
            errors.push(FieldError {
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
        Ok(kept)
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

fn ensure_can_enter(
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

pub(crate) fn ensure_open(ctx: &RoundCtx) -> AppResult<()> {
    if !ctx.is_open() {
        return Err(AppError::conflict(
            "round_closed",
            "Kỳ báo cáo đã đóng, không nhận thêm thay đổi.",
        ));
    }
    Ok(())
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

fn stale() -> AppError {
    AppError::conflict(
        "stale_version",
        "Báo cáo vừa được người khác cập nhật. Xin tải lại trang để xem bản mới nhất rồi sửa tiếp.",
    )
}

/// Normalises every narrative to NFC, as all stored text is.
fn nfc_sections(sections: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    sections
        .iter()
        .map(|(k, v)| (k.clone(), vn::nfc(v)))
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

#[expect(
    clippy::too_many_arguments,
    reason = "an audit row has this many columns"
)]
pub(crate) fn audit(
    conn: &mut Conn,
    actor: &CurrentUser,
    action: &str,
    entity: &str,
    entity_id: Option<i32>,
    unit_id: Option<i32>,
    details: Json,
    at: NaiveDateTime,
) -> AppResult<()> {
    diesel::insert_into(audit_log::table)
        .values(NewAuditEntry {
            at,
            actor_id: Some(actor.account.id),
            action,
            entity,
            entity_id,
            unit_id,
            details: &details.to_string(),
        })
        .execute(conn)?;
    Ok(())
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

fn save_draft_as(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
    input: &DraftInput,
    entry: Entry,
) -> AppResult<ReportView> {
    ensure_can_enter(ctx, user, unit, entry)?;
    let consolidated = has_children(conn, unit, ctx.round.period_end)?;
    let sections = nfc_sections(&input.sections);
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
    let reasons = check_overrides(&ctx.template, &prefill, &checked.values, &input.overrides)?;
    let prefill_json =
        (!prefill.is_empty()).then(|| json!({ "roster": prefill, "reasons": reasons }).to_string());
    let now = ctx.now;
    write_transaction(conn, |conn| {
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
        let new_values: BTreeMap<String, Json> = parse_map(&values_json)?;
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
        let report_id = match &existing {
            Some(r) => {
                let status = if r.status == "returned" {
                    "returned"
                } else {
                    "draft"
                };
                let n = diesel::update(
                    reports::table
                        .filter(reports::id.eq(r.id))
                        .filter(reports::version.eq(current_version)),
                )
                .set((
                    reports::values_json.eq(&values_json),
                    reports::sections_json.eq(&sections_json),
                    reports::prefill_json.eq(prefill_json.as_deref()),
                    reports::status.eq(status),
                    reports::version.eq(current_version + 1),
                    reports::updated_at.eq(now),
                    reports::updated_by.eq(Some(user.account.id)),
                ))
                .execute(conn)?;
                if n != 1 {
                    return Err(stale());
                }
                r.id
            }
            None => diesel::insert_into(reports::table)
                .values(NewReport {
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
                })
                .returning(reports::id)
                .get_result(conn)
                .map_err(|e| match e {
                    diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::UniqueViolation,
                        _,
                    ) => stale(),
                    other => other.into(),
                })?,
        };
        audit(
            conn,
            user,
            "save_draft",
            "report",
            Some(report_id),
            Some(unit.id),
            json!({ "round_id": ctx.round.id, "version": current_version + 1, "changes": changes }),
            now,
        )?;
        Ok(())
    })?;
    report_view(conn, user, ctx, unit)
}

fn review_event(
    conn: &mut Conn,
    report_id: i32,
    action: &str,
    reason: Option<&str>,
    actor: &CurrentUser,
    at: NaiveDateTime,
) -> AppResult<()> {
    diesel::insert_into(review_events::table)
        .values(NewReviewEvent {
            report_id,
            action,
            reason,
            actor_id: actor.account.id,
            at,
        })
        .execute(conn)?;
    Ok(())
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
    let now = ctx.now;
    write_transaction(conn, |conn| {
        let existing = find_report(conn, ctx.round.id, unit.id)?;
        ensure_editable(existing.as_ref())?;
        let current_version = existing.as_ref().map_or(0, |r| r.version);
        if version.is_some_and(|v| v != current_version) {
            return Err(stale());
        }
        let (raw_values, sections): (BTreeMap<String, Json>, BTreeMap<String, String>) =
            match &existing {
                Some(r) if !consolidated => {
                    (parse_map(&r.values_json)?, parse_map(&r.sections_json)?)
                }
                Some(r) => (BTreeMap::new(), parse_map(&r.sections_json)?),
                None => (BTreeMap::new(), BTreeMap::new()),
            };
        if let Err(mut errors) = ctx.template.validate(&raw_values, &sections, Mode::Submit) {
            // A consolidated report's figures come from below; only its narrative is its own.
            if consolidated {
                errors.retain(|e| ctx.template.section(&e.field).is_some());
            }
            if !errors.is_empty() {
                return Err(AppError::invalid(errors));
            }
        }
        let Some(report) = existing else {
            // Validation of an empty report always fails on a template with a required
            // field; a template without any is submitted as an empty report.
            let id = diesel::insert_into(reports::table)
                .values(NewReport {
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
                })
                .returning(reports::id)
                .get_result::<i32>(conn)?;
            review_event(conn, id, "submit", None, user, now)?;
            audit(
                conn,
                user,
                "submit",
                "report",
                Some(id),
                Some(unit.id),
                json!({ "round_id": ctx.round.id, "version": 1 }),
                now,
            )?;
            return Ok(());
        };
        let values_json = snapshot
            .clone()
            .unwrap_or_else(|| report.values_json.clone());
        let n = diesel::update(
            reports::table
                .filter(reports::id.eq(report.id))
                .filter(reports::version.eq(current_version)),
        )
        .set((
            reports::status.eq("submitted"),
            reports::values_json.eq(&values_json),
            reports::version.eq(current_version + 1),
            reports::submitted_at.eq(Some(now)),
            reports::first_submitted_at.eq(Some(report.first_submitted_at.unwrap_or(now))),
            reports::included_json.eq(included.as_deref()),
            reports::updated_at.eq(now),
            reports::updated_by.eq(Some(user.account.id)),
        ))
        .execute(conn)?;
        if n != 1 {
            return Err(stale());
        }
        review_event(conn, report.id, "submit", None, user, now)?;
        audit(
            conn,
            user,
            "submit",
            "report",
            Some(report.id),
            Some(unit.id),
            json!({
                "round_id": ctx.round.id,
                "version": current_version + 1,
                "changes": [{ "field": "status", "from": report.status, "to": "submitted" }],
            }),
            now,
        )?;
        Ok(())
    })?;
    report_view(conn, user, ctx, unit)
}

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
            "Chỉ ban tuyên giáo cấp trên trực tiếp mới được tiếp nhận, trả lại hay mở lại báo cáo này."
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
            let reason = vn::nfc(reason.trim());
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
    conn.immediate_transaction::<_, AppError, _>(|conn| {
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
    report_view(conn, user, ctx, unit)
}

/// Who has filed, among the leaf units (communes) of a subtree.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Completeness {
    pub expected: u32,
    /// Sent up and not sent back: submitted or accepted.
    pub submitted: u32,
    pub accepted: u32,
    pub returned: u32,
    pub on_time: u32,
    pub late: u32,
    pub missing: u32,
}

impl Completeness {
    fn add(&mut self, other: &Completeness) {
        self.expected += other.expected;
        self.submitted += other.submitted;
        self.accepted += other.accepted;
        self.returned += other.returned;
        self.on_time += other.on_time;
        self.late += other.late;
        self.missing += other.missing;
    }

    /// Share of expected units that filed, 0–100.
    pub fn rate(&self) -> f64 {
        if self.expected == 0 {
            0.0
        } else {
            f64::from(self.submitted) * 100.0 / f64::from(self.expected)
        }
    }
}

/// One row of a consolidation: a child unit and everything below it.
#[derive(Debug, Clone, Serialize)]
pub struct RollupRow {
    pub unit: UnitRef,
    /// A commune (files figures) rather than a unit with children.
    pub leaf: bool,
    /// The status of this unit's own report.
    pub status: ReportStatus,
    pub submitted_at: Option<NaiveDateTime>,
    pub on_time: Option<bool>,
    #[serde(skip)]
    pub rollup: Rollup,
    pub reports: u64,
    pub values: BTreeMap<String, Option<AggValue>>,
    pub completeness: Completeness,
    /// The unit's own narrative, when its report counts.
    pub sections: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RollupView {
    pub round_id: i32,
    pub unit: UnitRef,
    /// Submitted-but-not-accepted reports are counted, and marked as provisional.
    pub provisional: bool,
    pub rows: Vec<RollupRow>,
    pub total: RollupRow,
}

pub(crate) struct Tree {
    pub units: Vec<Unit>,
    pub children: HashMap<i32, Vec<usize>>,
}

/// `root` and every unit below it, as the tree stood on `day`.
pub(crate) fn load_subtree(
    conn: &mut Conn,
    root: &Unit,
    day: chrono::NaiveDate,
) -> AppResult<Tree> {
    let mut units: Vec<Unit> = valid_on!(
        units::table.filter(units::path.like(format!("{}%", root.path))),
        day
    )
    .select(Unit::as_select())
    .load(conn)?;
    if !units.iter().any(|u| u.id == root.id) {
        units.push(root.clone());
    }
    let mut children: HashMap<i32, Vec<usize>> = HashMap::new();
    for (i, u) in units.iter().enumerate() {
        if let Some(p) = u.parent_id {
            children.entry(p).or_default().push(i);
        }
    }
    for list in children.values_mut() {
        list.sort_by(|&a, &b| vn::compare(&units[a].name, &units[b].name));
    }
    Ok(Tree { units, children })
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

impl RollupRow {
    /// Fills in what the row shows from its aggregate.
    fn finish(&mut self, template: &Template) {
        self.reports = self.rollup.reports();
        self.values = template
            .indicators
            .iter()
            .enumerate()
            .map(|(at, i)| (i.key.clone(), self.rollup.value_at(template, at)))
            .collect();
    }
}

/// A write transaction: `BEGIN IMMEDIATE` on its own, a savepoint inside a batch's transaction.
fn write_transaction<T>(
    conn: &mut Conn,
    f: impl FnOnce(&mut Conn) -> AppResult<T>,
) -> AppResult<T> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let nested = AnsiTransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()
        .ok()
        .flatten()
        .is_some();
    if nested {
        conn.transaction(f)
    } else {
        conn.immediate_transaction(f)
    }
}

/// The offline form of `unit`'s report: its current values, or the roster's figures.
pub fn offline_form(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
) -> AppResult<Vec<u8>> {
    let view = report_view(conn, user, ctx, unit)?;
    if view.consolidated {
        return Err(AppError::conflict(
            "consolidated",
            "Báo cáo tổng hợp lấy số liệu từ các đơn vị trực thuộc nên không có mẫu nhập liệu.",
        ));
    }
    let mut values = view.prefill.clone();
    values.extend(view.values.clone());
    let data = crate::offline::FormData {
        identity: identity(ctx, unit),
        template: &ctx.template,
        round_title: &ctx.round.title,
        period: period_label(&ctx.round),
        unit_name: &unit.name,
        deadline: vn::datetime(view.deadline),
        values: &values,
        sections: &view.sections,
        roster: &view.prefill,
        reasons: &view.overrides,
    };
    Ok(crate::offline::form_workbook(&data)?)
}

fn identity(ctx: &RoundCtx, unit: &Unit) -> crate::offline::Identity {
    crate::offline::Identity {
        template_key: ctx.template.key.clone(),
        template_version: ctx.template.version,
        round_id: ctx.round.id,
        unit_code: unit.code.clone(),
    }
}

/// A filled offline form becomes the unit's draft through the same checks as the web form;
/// a file with any error changes nothing, and each error names its sheet and cell.
pub fn upload_form(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
    bytes: &[u8],
    entry: Entry,
) -> AppResult<(ReportView, Vec<String>)> {
    ensure_can_enter(ctx, user, unit, entry)?;
    let form = crate::offline::read_form(bytes).map_err(AppError::invalid)?;
    upload_read(conn, user, ctx, unit, form, entry)
}

/// [`upload_form`] of a workbook already read.
fn upload_read(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
    form: crate::offline::ReadForm,
    entry: Entry,
) -> AppResult<(ReportView, Vec<String>)> {
    ensure_can_enter(ctx, user, unit, entry)?;
    let upload = crate::offline::check_form(form, &identity(ctx, unit), &ctx.template)
        .map_err(AppError::invalid)?;
    let current = find_report(conn, ctx.round.id, unit.id)?.map_or(0, |r| r.version);
    let input = DraftInput {
        values: upload.values,
        sections: upload.sections,
        overrides: upload.overrides,
        version: current,
    };
    let converted = upload.converted;
    save_draft_as(conn, user, ctx, unit, &input, entry)
        .map(|view| (view, converted))
        .map_err(|e| match e {
            AppError::Invalid { message, fields } => AppError::Invalid {
                message,
                fields: crate::offline::locate(fields, &upload.cells),
            },
            other => other,
        })
}

/// Reads the workbooks of a bulk upload, on as many threads as there are cores: reading is
/// most of an upload's work and needs no database.
fn read_forms(
    files: &[(String, Vec<u8>)],
) -> Vec<Result<crate::offline::ReadForm, Vec<FieldError>>> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let chunk = files.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                let worker = scope.spawn(move || {
                    part.iter()
                        .map(|(_, bytes)| crate::offline::read_form(bytes))
                        .collect::<Vec<_>>()
                });
                (part.len(), worker)
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|(n, worker)| {
                // A reader that panicked loses its files, each reported as unreadable.
                worker.join().unwrap_or_else(|_| {
                    (0..n)
                        .map(|_| {
                            Err(vec![FieldError {
                                field: "file".into(),
                                message: "Không đọc được tệp.".into(),
                            }])
                        })
                        .collect()
                })
            })
            .collect()
    })
}

/// One file of a bulk upload and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct BulkResult {
    pub file: String,
    pub unit: Option<UnitRef>,
    pub stored: bool,
    pub messages: Vec<String>,
}

/// The files of a bulk upload, a .zip opened into the workbooks it holds.
pub fn expand_files(files: Vec<(String, Vec<u8>)>) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut out = Vec::new();
    for (name, bytes) in files {
        // An .xlsx or .ods is itself a zip: only an archive that is not a workbook is opened.
        let Ok(mut zip) = zip::ZipArchive::new(std::io::Cursor::new(&bytes)) else {
            out.push((name, bytes));
            continue;
        };
        let is_workbook = zip.index_for_name("[Content_Types].xml").is_some()
            || zip.index_for_name("mimetype").is_some();
        if is_workbook {
            out.push((name, bytes));
            continue;
        }
        for i in 0..zip.len() {
            let Ok(mut entry) = zip.by_index(i) else {
                continue;
            };
            let Ok(entry_name) = entry.name().map(|n| n.into_owned()) else {
                continue;
            };
            let lower = entry_name.to_lowercase();
            if entry.is_dir()
                || !(lower.ends_with(".xlsx") || lower.ends_with(".xls") || lower.ends_with(".ods"))
                || entry_name.contains("__MACOSX")
            {
                continue;
            }
            let mut data = Vec::new();
            if entry.read_to_end(&mut data).is_ok() {
                out.push((format!("{name}/{entry_name}"), data));
            }
        }
    }
    out
}

/// A board uploads its communes' filled forms at once: each file is matched to its commune by
/// the form's hidden sheet, checked, and stored as that commune's draft, or rejected, on its own.
pub fn bulk_upload(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    board: &Unit,
    files: Vec<(String, Vec<u8>)>,
) -> AppResult<Vec<BulkResult>> {
    if !(user.role.reviews() && user.reach.iter().any(|r| r.id == board.id)) {
        return Err(AppError::Forbidden(
            "Chỉ ban tuyên giáo của đơn vị này mới được tải lên báo cáo của các đơn vị trực thuộc."
                .into(),
        ));
    }
    ensure_open(ctx)?;
    // One transaction for the batch, a savepoint per file: a file is still stored or rejected
    // on its own, and the batch costs one flush to disk instead of one per file.
    conn.immediate_transaction(|conn| bulk_store(conn, user, ctx, board, files))
}

fn bulk_store(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    board: &Unit,
    files: Vec<(String, Vec<u8>)>,
) -> AppResult<Vec<BulkResult>> {
    let files = expand_files(files);
    let forms = read_forms(&files);
    let mut results = Vec::new();
    for ((file, _), form) in files.into_iter().zip(forms) {
        let mut result = BulkResult {
            file,
            unit: None,
            stored: false,
            messages: Vec::new(),
        };
        // A form names its unit; anything else is no form of ours.
        let form = form.ok().filter(|f| f.unit().is_some());
        let unit = match form.as_ref().and_then(|f| f.unit()) {
            Some(code) => unit_by_code(conn, code, Some(ctx.round.period_end))?,
            None => None,
        };
        match (form, unit) {
            (None, _) => result.messages.push(
                "Không phải mẫu nhập liệu của hệ thống (không đọc được đơn vị trong tệp).".into(),
            ),
            (Some(form), None) => result.messages.push(format!(
                "Không có đơn vị mã {} trong kỳ báo cáo này.",
                form.unit().unwrap_or_default()
            )),
            (Some(_), Some(unit)) if unit.parent_id != Some(board.id) => {
                result.messages.push(format!(
                    "{} không trực thuộc {}; tệp không được nhận.",
                    unit.name, board.name
                ));
                result.unit = Some((&unit).into());
            }
            (Some(form), Some(unit)) => {
                result.unit = Some((&unit).into());
                match upload_read(conn, user, ctx, &unit, form, Entry::OnBehalf) {
                    Ok((_, converted)) => {
                        result.stored = true;
                        result
                            .messages
                            .push("Đã lưu thành bản nháp của đơn vị.".into());
                        result.messages.extend(converted);
                    }
                    Err(AppError::Invalid { fields, .. }) => {
                        result
                            .messages
                            .extend(fields.into_iter().map(|f| f.message));
                    }
                    Err(e @ (AppError::Conflict { .. } | AppError::Forbidden(_))) => {
                        result.messages.push(e.user_message());
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        results.push(result);
    }
    Ok(results)
}
