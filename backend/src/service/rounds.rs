//! Rounds (*kỳ báo cáo*): listing them with the asking person's own status, opening them
//! (the province any template, a district thematic ones for its communes), editing them until
//! someone has filed, and closing them.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use report_schemas::{FieldError, PeriodType, Template, TemplateKind};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::access::{CurrentUser, filing_unit, sees_round};
use super::deadlines::{DueNotice, due_notice};
use super::units::has_children;
use super::{RoundCtx, audit, find_report};
use crate::catalog::{self, Catalog};
use crate::db::Conn;
use crate::db::models::{NewRound, NewRoundTask, Report, Round, TemplateRow, Unit};
use crate::db::schema::{reports, round_tasks, rounds, templates, units};
use crate::domain::period::{self, parse_period_type, period_type_str};
use crate::domain::{ReportStatus, Role, UnitRef, vn};
use crate::error::{AppError, AppResult};

/// The period as a page adds it beside the round's title: empty when the title already says
/// it ("… 6 tháng đầu năm 2026" needs no "· 6 tháng đầu năm 2026" after it).
pub fn period_beside_title(round: &Round) -> String {
    let period = period_label(round);
    if vn::fold(&round.title).contains(&vn::fold(&period)) {
        String::new()
    } else {
        period
    }
}

pub fn period_label(round: &Round) -> String {
    match parse_period_type(&round.period_type) {
        Some(kind) => period::label(
            kind,
            round.period_year,
            u32::try_from(round.period_index).unwrap_or(0),
            round.period_start,
            round.period_end,
        ),
        None => round.period_type.clone(),
    }
}

/// A round in a list, with the status of the asking person's own unit.
#[derive(Debug, Clone, Serialize)]
pub struct RoundSummary {
    pub id: i32,
    pub title: String,
    pub template_key: String,
    pub template_title: String,
    pub template_kind: TemplateKind,
    pub period_type: String,
    pub period_label: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub commune_deadline: NaiveDateTime,
    pub district_deadline: NaiveDateTime,
    /// The deadline that applies to the asking person's unit.
    pub my_deadline: NaiveDateTime,
    pub status: String,
    pub owner: UnitRef,
    /// Whether the asking person's unit files a report in this round.
    pub files: bool,
    /// Whether the asking person's board opened it (and may edit or close it).
    pub owned: bool,
    pub my_status: ReportStatus,
    /// Why the unit's own report was returned, while it is.
    pub my_return_reason: Option<String>,
    pub due: Option<DueNotice>,
}

pub fn list_rounds(
    conn: &mut Conn,
    catalog: &Catalog,
    user: &CurrentUser,
    now: NaiveDateTime,
) -> AppResult<Vec<RoundSummary>> {
    let rows: Vec<(Round, TemplateRow, Unit)> = rounds::table
        .inner_join(templates::table)
        .inner_join(units::table.on(units::id.eq(rounds::owner_unit_id)))
        .order((rounds::period_end.desc(), rounds::id.desc()))
        .select((
            Round::as_select(),
            TemplateRow::as_select(),
            Unit::as_select(),
        ))
        .load(conn)?;
    let mut kinds: HashMap<i32, TemplateKind> = HashMap::new();
    let mut out = Vec::new();
    for (round, template, owner) in rows {
        if !sees_round(user, &owner) {
            continue;
        }
        let kind = match kinds.get(&template.id) {
            Some(k) => *k,
            None => {
                // Parsed once per process (the catalog keeps it), not once per listing.
                let parsed = catalog.get(conn, template.id)?;
                kinds.insert(template.id, parsed.kind);
                parsed.kind
            }
        };
        let mine = filing_unit(user, &owner, round.period_end).unwrap_or(&user.unit);
        let leaf = !has_children(conn, mine, round.period_end)?;
        let my_report = find_report(conn, round.id, mine.id)?;
        let my_status = my_report
            .as_ref()
            .map_or(ReportStatus::NotStarted, |r| ReportStatus::parse(&r.status));
        let my_return_reason = my_report
            .and_then(|r| r.return_reason)
            .filter(|_| my_status == ReportStatus::Returned);
        let my_deadline = if leaf {
            round.commune_deadline
        } else {
            round.district_deadline
        };
        let files = mine.id != owner.id
            && user.role.files()
            && filing_unit(user, &owner, round.period_end).is_some();
        out.push(RoundSummary {
            id: round.id,
            period_label: period_label(&round),
            title: round.title.clone(),
            template_key: template.key,
            template_title: template.title,
            template_kind: kind,
            period_type: round.period_type.clone(),
            period_start: round.period_start,
            period_end: round.period_end,
            commune_deadline: round.commune_deadline,
            district_deadline: round.district_deadline,
            my_deadline,
            owned: owner.id == user.unit.id && user.role.files(),
            due: (files && round.status == "open")
                .then(|| due_notice(my_deadline, my_status, now))
                .flatten(),
            status: round.status.clone(),
            owner: (&owner).into(),
            files,
            my_status,
            my_return_reason,
        });
    }
    Ok(out)
}

/// A round as its opener describes it, to open it or to edit it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoundInput {
    pub template: String,
    pub period_type: String,
    pub year: i32,
    /// Month (1–12) or quarter (1–4); ignored otherwise.
    #[serde(default)]
    pub index: Option<u32>,
    /// For a free window.
    #[serde(default)]
    pub start: Option<NaiveDate>,
    #[serde(default)]
    pub end: Option<NaiveDate>,
    /// Last day (Vietnam time) for communes; defaults to 3 days after the period.
    #[serde(default)]
    pub commune_deadline: Option<NaiveDate>,
    /// Last day for districts; defaults to 8 days after the period.
    #[serde(default)]
    pub district_deadline: Option<NaiveDate>,
    #[serde(default)]
    pub title: Option<String>,
    /// The orientation's text.
    #[serde(default)]
    pub orientation: Option<String>,
    /// The key tasks, one each.
    #[serde(default)]
    pub tasks: Vec<String>,
}

fn field(field: &str, message: &str) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// End of a Vietnam-time day, as a UTC instant.
pub fn end_of_day(d: NaiveDate) -> NaiveDateTime {
    vn::from_local(d.and_hms_opt(23, 59, 59).unwrap_or_default())
}

const MAX_ORIENTATION: usize = 20_000;

const MAX_TASKS: usize = 50;

const MAX_TASK: usize = 1_000;

/// Key tasks trimmed, NFC, empty lines dropped, and checked.
pub(super) fn clean_tasks(tasks: &[String], errors: &mut Vec<FieldError>) -> Vec<String> {
    let tasks: Vec<String> = tasks
        .iter()
        .map(|t| vn::clean(t.trim()))
        .filter(|t| !t.is_empty())
        .collect();
    if tasks.len() > MAX_TASKS {
        errors.push(field(
            "tasks",
            &format!("Tối đa {MAX_TASKS} nhiệm vụ trọng tâm."),
        ));
    }
    for (i, t) in tasks.iter().enumerate() {
        if t.chars().count() > MAX_TASK {
            errors.push(field(
                "tasks",
                &format!(
                    "Nhiệm vụ thứ {} dài quá {} ký tự.",
                    i + 1,
                    vn::int(MAX_TASK as i64)
                ),
            ));
        }
    }
    tasks
}

/// A round input, checked and completed with its defaults.
struct Checked {
    template_id: i32,
    template_key: String,
    kind: PeriodType,
    index: u32,
    start: NaiveDate,
    end: NaiveDate,
    commune_deadline: NaiveDate,
    district_deadline: NaiveDate,
    title: String,
    label: String,
    orientation: String,
    tasks: Vec<String>,
}

/// Who may open or edit a round owned by `owner`: the province or national board any template; a district
/// board thematic templates for its own communes (point 2 of Công văn 409).
fn check_opener(user: Option<&CurrentUser>, owner: &Unit, template: &Template) -> AppResult<()> {
    let Some(user) = user else {
        return Ok(());
    };
    let own = user.unit.id == owner.id;
    match user.role {
        Role::Province | Role::National if own => Ok(()),
        Role::District if own && template.kind == TemplateKind::Thematic => Ok(()),
        Role::District if own => Err(AppError::Forbidden(
            "Cấp huyện chỉ được mở kỳ báo cáo chuyên đề cho các xã trực thuộc; kỳ báo cáo định kỳ do Ban Tuyên giáo cấp tỉnh hoặc Trung ương mở.".into(),
        )),
        _ => Err(AppError::Forbidden(
            "Chỉ Ban Tuyên giáo cấp tỉnh, Trung ương, hoặc cấp huyện với báo cáo chuyên đề, mới được mở kỳ báo cáo.".into(),
        )),
    }
}

fn check_input(
    conn: &mut Conn,
    catalog: &Catalog,
    user: Option<&CurrentUser>,
    owner: &Unit,
    input: &RoundInput,
) -> AppResult<Checked> {
    let mut errors = Vec::new();
    let template_id = Catalog::latest_id(conn, input.template.trim())?;
    let template = match template_id {
        Some(id) => Some(catalog.get(conn, id)?),
        None => {
            errors.push(field("template", "Không có mẫu báo cáo này."));
            None
        }
    };
    if let Some(t) = &template {
        check_opener(user, owner, t)?;
    }
    let kind = parse_period_type(&input.period_type);
    if kind.is_none() {
        errors.push(field("period_type", "Loại kỳ báo cáo không hợp lệ."));
    }
    if let (Some(t), Some(k)) = (&template, kind)
        && !t.period_types.contains(&k)
    {
        errors.push(field(
            "period_type",
            &format!(
                "Mẫu «{}» không dùng cho kỳ «{}».",
                t.title,
                period::type_label(k)
            ),
        ));
    }
    if !(2000..=2100).contains(&input.year) {
        errors.push(field("year", "Năm báo cáo không hợp lệ."));
    }
    let index = input.index.unwrap_or(1);
    let dates = match kind {
        Some(PeriodType::Window) => match (input.start, input.end) {
            (Some(s), Some(e)) if s <= e => Some((s, e)),
            _ => {
                errors.push(field(
                    "end",
                    "Cần ngày bắt đầu và ngày kết thúc, ngày bắt đầu không sau ngày kết thúc.",
                ));
                None
            }
        },
        Some(k) => {
            let d = period::cut_off(k, input.year, index);
            if d.is_none() {
                errors.push(field("index", "Tháng hoặc quý không hợp lệ."));
            }
            d
        }
        None => None,
    };
    let orientation = vn::clean(input.orientation.as_deref().unwrap_or("").trim());
    if orientation.chars().count() > MAX_ORIENTATION {
        errors.push(field(
            "orientation",
            &format!(
                "Định hướng dài quá {} ký tự.",
                vn::int(MAX_ORIENTATION as i64)
            ),
        ));
    }
    let tasks = clean_tasks(&input.tasks, &mut errors);
    let (Some(template), Some(kind), Some((start, end)), Some(template_id)) =
        (template, kind, dates, template_id)
    else {
        return Err(AppError::invalid(errors));
    };
    let commune_deadline = input
        .commune_deadline
        .unwrap_or(end + chrono::Duration::days(3));
    let district_deadline = input
        .district_deadline
        .unwrap_or(end + chrono::Duration::days(8));
    if commune_deadline < end {
        errors.push(field(
            "commune_deadline",
            "Hạn nộp của cấp xã không được trước ngày chốt số liệu.",
        ));
    }
    if district_deadline < commune_deadline {
        errors.push(field(
            "district_deadline",
            "Hạn nộp của cấp huyện không được trước hạn nộp của cấp xã.",
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::invalid(errors));
    }
    let label = period::label(kind, input.year, index, start, end);
    let title = input
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(vn::clean)
        .unwrap_or_else(|| format!("{} {}", template.title, vn::lower_first(&label)));
    Ok(Checked {
        template_id,
        template_key: template.key.clone(),
        kind,
        index,
        start,
        end,
        commune_deadline,
        district_deadline,
        title,
        label,
        orientation,
        tasks,
    })
}

pub(super) fn replace_tasks(
    conn: &mut Conn,
    round_id: i32,
    unit_id: i32,
    tasks: &[String],
) -> AppResult<Vec<String>> {
    let old: Vec<String> = round_tasks::table
        .filter(round_tasks::round_id.eq(round_id))
        .filter(round_tasks::unit_id.eq(unit_id))
        .order(round_tasks::position.asc())
        .select(round_tasks::text)
        .load(conn)?;
    diesel::delete(
        round_tasks::table
            .filter(round_tasks::round_id.eq(round_id))
            .filter(round_tasks::unit_id.eq(unit_id)),
    )
    .execute(conn)?;
    for (i, text) in tasks.iter().enumerate() {
        diesel::insert_into(round_tasks::table)
            .values(NewRoundTask {
                round_id,
                unit_id,
                position: i32::try_from(i).unwrap_or(i32::MAX),
                text,
            })
            .execute(conn)?;
    }
    Ok(old)
}

/// A round as it would be opened: its data window, deadlines and title, computed from what was
/// typed, and whether its deadlines have already passed; shown before it is opened.
#[derive(Debug, Clone, Serialize)]
pub struct RoundPreview {
    pub title: String,
    pub label: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub commune_deadline: NaiveDateTime,
    pub district_deadline: NaiveDateTime,
    /// The communes' deadline is already past at `now`: every unit would be late at once.
    pub commune_past: bool,
    pub district_past: bool,
}

pub fn preview_round(
    conn: &mut Conn,
    catalog: &Catalog,
    user: &CurrentUser,
    input: &RoundInput,
    now: NaiveDateTime,
) -> AppResult<RoundPreview> {
    let c = check_input(conn, catalog, Some(user), &user.unit, input)?;
    let (commune, district) = (
        end_of_day(c.commune_deadline),
        end_of_day(c.district_deadline),
    );
    Ok(RoundPreview {
        title: c.title,
        label: c.label,
        start: c.start,
        end: c.end,
        commune_deadline: commune,
        district_deadline: district,
        commune_past: commune < now,
        district_past: district < now,
    })
}

pub fn open_round(
    conn: &mut Conn,
    catalog: &Catalog,
    user: Option<&CurrentUser>,
    owner: &Unit,
    input: &RoundInput,
    now: NaiveDateTime,
) -> AppResult<i32> {
    let c = check_input(conn, catalog, user, owner, input)?;
    super::write_transaction(conn, |conn| {
        let id = diesel::insert_into(rounds::table)
            .values(NewRound {
                template_id: c.template_id,
                owner_unit_id: owner.id,
                title: &c.title,
                period_type: period_type_str(c.kind),
                period_year: input.year,
                period_index: i32::try_from(c.index).unwrap_or(1),
                period_start: c.start,
                period_end: c.end,
                commune_deadline: end_of_day(c.commune_deadline),
                district_deadline: end_of_day(c.district_deadline),
                status: "open",
                created_by: user.map(|u| u.account.id),
                created_at: now,
                orientation: &c.orientation,
            })
            .returning(rounds::id)
            .get_result::<i32>(conn)?;
        replace_tasks(conn, id, owner.id, &c.tasks)?;
        super::rollup::live::rebuild_round(conn, id)?;
        if let Some(user) = user {
            audit(
                conn,
                user,
                "open_round",
                "round",
                Some(id),
                Some(owner.id),
                json!({ "title": c.title, "template": c.template_key, "period": c.label }),
                now,
            )?;
        }
        Ok(id)
    })
}

pub(super) fn ensure_owner(user: &CurrentUser, ctx: &RoundCtx) -> AppResult<()> {
    if user.unit.id == ctx.owner.id && user.role.reviews() {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Chỉ đơn vị đã mở kỳ báo cáo mới được sửa, gia hạn, đóng hay mở lại kỳ này.".into(),
        ))
    }
}

fn reports_in(conn: &mut Conn, round_id: i32) -> AppResult<Vec<Report>> {
    Ok(reports::table
        .filter(reports::round_id.eq(round_id))
        .select(Report::as_select())
        .load(conn)?)
}

/// Changes a round, until someone has filed in it: after that, its terms are what they filed against.
pub fn update_round(
    conn: &mut Conn,
    catalog: &Catalog,
    user: &CurrentUser,
    ctx: &RoundCtx,
    input: &RoundInput,
) -> AppResult<()> {
    ensure_owner(user, ctx)?;
    if !ctx.is_open() {
        return Err(AppError::conflict(
            "round_closed",
            "Kỳ báo cáo đã đóng, không sửa được.",
        ));
    }
    let c = check_input(conn, catalog, Some(user), &ctx.owner, input)?;
    super::write_transaction(conn, |conn| {
        let existing = reports_in(conn, ctx.round.id)?;
        if existing
            .iter()
            .any(|r| r.status != "draft" || r.first_submitted_at.is_some())
        {
            return Err(AppError::conflict(
                "round_filed",
                "Đã có đơn vị nộp báo cáo trong kỳ này nên không sửa được kỳ báo cáo nữa.",
            ));
        }
        if c.template_id != ctx.round.template_id && !existing.is_empty() {
            return Err(AppError::conflict(
                "round_started",
                "Đã có đơn vị lập báo cáo theo mẫu này nên không đổi được mẫu báo cáo.",
            ));
        }
        let r = &ctx.round;
        let before = json!({
            "title": r.title, "period_start": r.period_start, "period_end": r.period_end,
            "commune_deadline": r.commune_deadline, "district_deadline": r.district_deadline,
            "orientation": r.orientation, "template_id": r.template_id,
        });
        diesel::update(rounds::table.find(r.id))
            .set((
                rounds::template_id.eq(c.template_id),
                rounds::title.eq(&c.title),
                rounds::period_type.eq(period_type_str(c.kind)),
                rounds::period_year.eq(input.year),
                rounds::period_index.eq(i32::try_from(c.index).unwrap_or(1)),
                rounds::period_start.eq(c.start),
                rounds::period_end.eq(c.end),
                rounds::commune_deadline.eq(end_of_day(c.commune_deadline)),
                rounds::district_deadline.eq(end_of_day(c.district_deadline)),
                rounds::orientation.eq(&c.orientation),
            ))
            .execute(conn)?;
        let old_tasks = replace_tasks(conn, r.id, ctx.owner.id, &c.tasks)?;
        // Its cut-off date (so its tree), its deadlines or its template may have changed.
        super::rollup::live::rebuild_round(conn, r.id)?;
        audit(
            conn,
            user,
            "edit_round",
            "round",
            Some(r.id),
            Some(ctx.owner.id),
            json!({
                "from": before,
                "to": {
                    "title": c.title, "period_start": c.start, "period_end": c.end,
                    "commune_deadline": end_of_day(c.commune_deadline),
                    "district_deadline": end_of_day(c.district_deadline),
                    "orientation": c.orientation, "template_id": c.template_id,
                },
                "tasks": { "from": old_tasks, "to": c.tasks },
            }),
            ctx.now,
        )?;
        Ok(())
    })
}

/// Closes a round: it takes no more changes.
pub fn close_round(conn: &mut Conn, user: &CurrentUser, ctx: &RoundCtx) -> AppResult<()> {
    ensure_owner(user, ctx)?;
    if !ctx.is_open() {
        return Err(AppError::conflict(
            "round_closed",
            "Kỳ báo cáo đã đóng từ trước.",
        ));
    }
    super::write_transaction(conn, |conn| {
        diesel::update(rounds::table.find(ctx.round.id))
            .set((
                rounds::status.eq("closed"),
                rounds::closed_at.eq(Some(ctx.now)),
            ))
            .execute(conn)?;
        audit(
            conn,
            user,
            "close_round",
            "round",
            Some(ctx.round.id),
            Some(ctx.owner.id),
            json!({ "changes": [{ "field": "status", "from": "open", "to": "closed" }] }),
            ctx.now,
        )?;
        Ok(())
    })
}

/// The templates this person may open a round of, newest version of each: a district board
/// opens thematic rounds only.
pub fn templates_for(
    conn: &mut Conn,
    catalog: &Catalog,
    user: &CurrentUser,
) -> AppResult<Vec<Arc<Template>>> {
    let district_only = user.role == Role::District;
    Ok(catalog::latest_all(conn, catalog)?
        .into_iter()
        .map(|(_, t)| t)
        .filter(|t| !district_only || t.kind == TemplateKind::Thematic)
        .collect())
}

/// A round as the operator's console lists it.
#[derive(Debug, Clone)]
pub struct RoundLine {
    pub id: i32,
    pub title: String,
    pub period_label: String,
    pub owner: String,
    pub open: bool,
}

/// Every round, newest period first, for the console (which sees everything).
pub fn catalogue(conn: &mut Conn) -> AppResult<Vec<RoundLine>> {
    let rows: Vec<(Round, String)> = rounds::table
        .inner_join(units::table.on(units::id.eq(rounds::owner_unit_id)))
        .order((rounds::period_end.desc(), rounds::id.desc()))
        .select((Round::as_select(), units::name))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(round, owner)| RoundLine {
            id: round.id,
            period_label: period_label(&round),
            open: round.status == "open",
            title: round.title,
            owner,
        })
        .collect())
}
