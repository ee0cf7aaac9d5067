//! Rounds (*kỳ báo cáo*): opening, editing and closing them, the orientation (*định hướng*)
//! that flows down with them, and who is due or late.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use report_schemas::{FieldError, PeriodType, Template, TemplateKind};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{RoundCtx, UnitRef, audit, find_report, has_children, load_subtree};
use crate::auth::CurrentUser;
use crate::catalog::Catalog;
use crate::db::Conn;
use crate::db::models::{NewRound, NewRoundTask, Report, Round, RoundTask, TemplateRow, Unit};
use crate::db::schema::{reports, round_tasks, rounds, templates, units};
use crate::domain::period::{self, parse_period_type, period_type_str};
use crate::domain::{ReportStatus, Role, vn};
use crate::error::{AppError, AppResult};

/// A report is "due soon" this many days before its deadline.
pub const DUE_SOON_DAYS: i64 = 3;

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

/// A filer's reminder: due within a few days, or overdue.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DueNotice {
    pub overdue: bool,
    /// Whole days left (due) or past (overdue), in Vietnam calendar days.
    pub days: i64,
    pub deadline: NaiveDateTime,
}

impl DueNotice {
    /// "Còn 2 ngày nữa là đến hạn nộp báo cáo (23:59 ngày 17/06/2025)."
    pub fn message(&self) -> String {
        let when = vn::datetime(self.deadline);
        match (self.overdue, self.days) {
            (true, 0) => format!("Báo cáo đã quá hạn nộp ({when}). Xin nộp ngay."),
            (true, d) => format!("Báo cáo đã quá hạn nộp {d} ngày (hạn {when}). Xin nộp ngay."),
            (false, 0) => format!("Hôm nay là hạn cuối nộp báo cáo ({when})."),
            (false, d) => format!("Còn {d} ngày nữa là đến hạn nộp báo cáo ({when})."),
        }
    }
}

/// The reminder for a report with `status` and `deadline`, judged at `now` in Vietnam time.
pub fn due_notice(
    deadline: NaiveDateTime,
    status: ReportStatus,
    now: NaiveDateTime,
) -> Option<DueNotice> {
    if status.is_filed() {
        return None;
    }
    let days = (vn::local(deadline).date() - vn::local(now).date()).num_days();
    if now > deadline {
        Some(DueNotice {
            overdue: true,
            days: -days,
            deadline,
        })
    } else if days <= DUE_SOON_DAYS {
        Some(DueNotice {
            overdue: false,
            days,
            deadline,
        })
    } else {
        None
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
    pub due: Option<DueNotice>,
}

/// Whether `user` has any business with a round opened by `owner`.
pub fn sees_round(user: &CurrentUser, owner: &Unit) -> bool {
    user.role == Role::Admin
        || user
            .reach
            .iter()
            .any(|r| owner.contains(r) || r.contains(owner))
}

/// The unit through which `user` takes part in a round opened by `owner` for a period ending
/// on `day`: their own unit, or the predecessor that existed then.
pub fn filing_unit<'a>(user: &'a CurrentUser, owner: &Unit, day: NaiveDate) -> Option<&'a Unit> {
    user.reach
        .iter()
        .find(|r| owner.contains(r) && r.valid_on(day))
}

pub fn list_rounds(
    conn: &mut Conn,
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
                let parsed = Template::parse(&template.source, &template.key)
                    .map_err(|e| AppError::Unexpected(anyhow::Error::new(e)))?;
                kinds.insert(template.id, parsed.kind);
                parsed.kind
            }
        };
        let mine = filing_unit(user, &owner, round.period_end).unwrap_or(&user.unit);
        let leaf = !has_children(conn, mine, round.period_end)?;
        let my_status = find_report(conn, round.id, mine.id)?
            .map_or(ReportStatus::NotStarted, |r| ReportStatus::parse(&r.status));
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
fn clean_tasks(tasks: &[String], errors: &mut Vec<FieldError>) -> Vec<String> {
    let tasks: Vec<String> = tasks
        .iter()
        .map(|t| vn::nfc(t.trim()))
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

/// Who may open or edit a round owned by `owner`: the province board any template; a district
/// board thematic templates for its own communes (point 2 of Công văn 409).
fn check_opener(user: Option<&CurrentUser>, owner: &Unit, template: &Template) -> AppResult<()> {
    let Some(user) = user else {
        return Ok(());
    };
    let own = user.unit.id == owner.id;
    match user.role {
        Role::Province if own => Ok(()),
        Role::District if own && template.kind == TemplateKind::Thematic => Ok(()),
        Role::District if own => Err(AppError::Forbidden(
            "Cấp huyện chỉ được mở kỳ báo cáo chuyên đề cho các xã trực thuộc; kỳ báo cáo định kỳ do Ban Tuyên giáo Tỉnh ủy mở.".into(),
        )),
        _ => Err(AppError::Forbidden(
            "Chỉ Ban Tuyên giáo Tỉnh ủy, hoặc cấp huyện với báo cáo chuyên đề, mới được mở kỳ báo cáo.".into(),
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
    let orientation = vn::nfc(input.orientation.as_deref().unwrap_or("").trim());
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
        .map(vn::nfc)
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

fn replace_tasks(
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

pub fn open_round(
    conn: &mut Conn,
    catalog: &Catalog,
    user: Option<&CurrentUser>,
    owner: &Unit,
    input: &RoundInput,
    now: NaiveDateTime,
) -> AppResult<i32> {
    let c = check_input(conn, catalog, user, owner, input)?;
    conn.immediate_transaction::<_, AppError, _>(|conn| {
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

fn ensure_owner(user: &CurrentUser, ctx: &RoundCtx) -> AppResult<()> {
    if user.unit.id == ctx.owner.id && user.role.reviews() {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Chỉ đơn vị đã mở kỳ báo cáo mới được sửa hay đóng kỳ này.".into(),
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
    conn.immediate_transaction::<_, AppError, _>(|conn| {
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
    conn.immediate_transaction::<_, AppError, _>(|conn| {
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

/// A board below the round's owner adds its own key tasks for the units below it
/// (a district's local tasks for its communes, point 2 of Công văn 409).
pub fn set_tasks(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
    tasks: &[String],
) -> AppResult<()> {
    if user.unit.id != unit.id || !user.role.reviews() || unit.id == ctx.owner.id {
        return Err(AppError::Forbidden(
            "Chỉ ban tuyên giáo của đơn vị này mới được bổ sung nhiệm vụ cho các đơn vị trực thuộc.".into(),
        ));
    }
    super::ensure_open(ctx)?;
    let mut errors = Vec::new();
    let tasks = clean_tasks(tasks, &mut errors);
    if !errors.is_empty() {
        return Err(AppError::invalid(errors));
    }
    conn.immediate_transaction::<_, AppError, _>(|conn| {
        let old = replace_tasks(conn, ctx.round.id, unit.id, &tasks)?;
        audit(
            conn,
            user,
            "set_tasks",
            "round",
            Some(ctx.round.id),
            Some(unit.id),
            json!({ "tasks": { "from": old, "to": tasks } }),
            ctx.now,
        )?;
        Ok(())
    })
}

/// Key tasks set by one unit.
#[derive(Debug, Clone, Serialize)]
pub struct TaskGroup {
    pub from: UnitRef,
    pub tasks: Vec<String>,
}

/// The orientation as one unit receives it: the owner's text and tasks, then the tasks each
/// board between the owner and the unit added.
#[derive(Debug, Clone, Serialize)]
pub struct Orientation {
    pub text: String,
    pub tasks: Vec<TaskGroup>,
}

impl Orientation {
    pub fn is_empty(&self) -> bool {
        self.text.is_empty() && self.tasks.iter().all(|g| g.tasks.is_empty())
    }
}

pub fn orientation_for(conn: &mut Conn, ctx: &RoundCtx, unit: &Unit) -> AppResult<Orientation> {
    // The unit's ancestors from the owner down, by their codes in its path.
    let codes: Vec<&str> = unit.path.split('/').filter(|c| !c.is_empty()).collect();
    let chain: Vec<Unit> = units::table
        .filter(units::code.eq_any(&codes))
        .select(Unit::as_select())
        .load(conn)?;
    let mut chain: Vec<Unit> = chain
        .into_iter()
        .filter(|u| ctx.owner.contains(u) && u.contains(unit))
        .collect();
    chain.sort_by_key(|u| u.depth);
    let ids: Vec<i32> = chain.iter().map(|u| u.id).collect();
    let rows: Vec<RoundTask> = round_tasks::table
        .filter(round_tasks::round_id.eq(ctx.round.id))
        .filter(round_tasks::unit_id.eq_any(&ids))
        .order(round_tasks::position.asc())
        .select(RoundTask::as_select())
        .load(conn)?;
    let tasks = chain
        .iter()
        .map(|u| TaskGroup {
            from: u.into(),
            tasks: rows
                .iter()
                .filter(|t| t.unit_id == u.id)
                .map(|t| t.text.clone())
                .collect(),
        })
        .filter(|g| !g.tasks.is_empty())
        .collect();
    Ok(Orientation {
        text: ctx.round.orientation.clone(),
        tasks,
    })
}

/// The key tasks one unit set itself in a round.
pub fn own_tasks(conn: &mut Conn, ctx: &RoundCtx, unit: &Unit) -> AppResult<Vec<String>> {
    Ok(round_tasks::table
        .filter(round_tasks::round_id.eq(ctx.round.id))
        .filter(round_tasks::unit_id.eq(unit.id))
        .order(round_tasks::position.asc())
        .select(round_tasks::text)
        .load(conn)?)
}

/// A unit that has not filed although its deadline has passed.
#[derive(Debug, Clone, Serialize)]
pub struct Overdue {
    pub unit: UnitRef,
    /// The unit it reports to.
    pub parent: UnitRef,
    pub status: ReportStatus,
    pub deadline: NaiveDateTime,
    pub days_late: i64,
}

/// Every unit below `unit` whose report is overdue, communes and district boards alike,
/// grouped by the unit they report to.
pub fn overdue(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
) -> AppResult<Vec<Overdue>> {
    if !user.can_read(unit) {
        return Err(AppError::forbidden());
    }
    let tree = load_subtree(conn, unit, ctx.round.period_end)?;
    let ids: Vec<i32> = tree.units.iter().map(|u| u.id).collect();
    let mut status: HashMap<i32, ReportStatus> = HashMap::new();
    for chunk in ids.chunks(5000) {
        let rows: Vec<(i32, String)> = reports::table
            .filter(reports::round_id.eq(ctx.round.id))
            .filter(reports::unit_id.eq_any(chunk))
            .select((reports::unit_id, reports::status))
            .load(conn)?;
        status.extend(rows.into_iter().map(|(u, s)| (u, ReportStatus::parse(&s))));
    }
    let by_id: HashMap<i32, &Unit> = tree.units.iter().map(|u| (u.id, u)).collect();
    let mut out = Vec::new();
    // Walk in tree order so that each parent's overdue children come together, sorted.
    let mut stack = vec![unit.id];
    while let Some(id) = stack.pop() {
        let kids = tree.children.get(&id).map(Vec::as_slice).unwrap_or(&[]);
        for &k in kids.iter().rev() {
            stack.push(tree.units[k].id);
        }
        for &k in kids {
            let child = &tree.units[k];
            let leaf = !tree.children.contains_key(&child.id);
            let deadline = ctx.deadline_for(leaf);
            let st = status
                .get(&child.id)
                .copied()
                .unwrap_or(ReportStatus::NotStarted);
            if ctx.now > deadline && !st.is_filed() && child.id != ctx.owner.id {
                let days = (vn::local(ctx.now).date() - vn::local(deadline).date()).num_days();
                out.push(Overdue {
                    unit: child.into(),
                    parent: by_id.get(&id).map_or_else(|| unit.into(), |p| (*p).into()),
                    status: st,
                    deadline,
                    days_late: days,
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        // A Vietnam wall-clock time, as the UTC instant it is.
        vn::from_local(
            NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(h, min, 0)
                .unwrap(),
        )
    }

    #[test]
    fn a_deadline_is_judged_by_the_vietnam_calendar_around_midnight() {
        let deadline = end_of_day(NaiveDate::from_ymd_opt(2025, 6, 17).unwrap());
        let open = ReportStatus::Draft;
        // 23:58 on the last day, Vietnam time: still due today, not overdue.
        let n = due_notice(deadline, open, at(2025, 6, 17, 23, 58)).unwrap();
        assert!(!n.overdue);
        assert_eq!(n.days, 0);
        // 00:01 the next day in Vietnam (still 17/06 in UTC): overdue by a day.
        let n = due_notice(deadline, open, at(2025, 6, 18, 0, 1)).unwrap();
        assert!(n.overdue);
        assert_eq!(n.days, 1);
        // Three days ahead: due soon; four: nothing to say.
        assert!(due_notice(deadline, open, at(2025, 6, 14, 9, 0)).is_some());
        assert!(due_notice(deadline, open, at(2025, 6, 13, 9, 0)).is_none());
        // A filed report needs no reminder.
        assert!(due_notice(deadline, ReportStatus::Submitted, at(2025, 6, 20, 9, 0)).is_none());
    }
}
