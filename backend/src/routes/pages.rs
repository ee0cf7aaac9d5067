//! The HTML pages, in Vietnamese: server-rendered with auto-escaping templates, usable
//! without JavaScript and on a phone.

use std::collections::BTreeMap;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;
use report_schemas::{AggValue, FieldError, IndicatorKind, Template as ReportTemplate};
use serde::Deserialize;
use serde_json::Value as Json;

use super::{ProvisionalQuery, db, export_response};
use crate::AppState;
use crate::auth::{self, CurrentUser};
use crate::domain::{ReportStatus, vn};
use crate::error::AppError;
use crate::service::{self, Decision, DraftInput, ReportView, RollupRow, RollupView};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::FormConfig::default()
            .limit(1 << 20)
            .error_handler(|err, _| {
                PageError(AppError::BadRequest(format!(
                    "Dữ liệu biểu mẫu không hợp lệ ({err})."
                )))
                .into()
            }),
    )
    .route("/", web::get().to(home))
    .route("/dang-nhap", web::get().to(login_form))
    .route("/dang-nhap", web::post().to(login))
    .route("/dang-xuat", web::post().to(logout))
    .route("/ky-bao-cao", web::get().to(rounds))
    .route("/ky-bao-cao/moi", web::get().to(new_round_form))
    .route("/ky-bao-cao/moi", web::post().to(new_round))
    .route("/ky-bao-cao/{round}", web::get().to(round_home))
    .route("/ky-bao-cao/{round}/sua", web::get().to(edit_round_form))
    .route("/ky-bao-cao/{round}/sua", web::post().to(edit_round))
    .route("/ky-bao-cao/{round}/dong", web::post().to(close_round))
    .route(
        "/ky-bao-cao/{round}/nhiem-vu/{unit}",
        web::post().to(set_tasks),
    )
    .route(
        "/ky-bao-cao/{round}/don-vi/{unit}",
        web::get().to(unit_page),
    )
    .route(
        "/ky-bao-cao/{round}/bao-cao/{unit}",
        web::get().to(report_page),
    )
    .route(
        "/ky-bao-cao/{round}/bao-cao/{unit}",
        web::post().to(report_post),
    )
    .route(
        "/ky-bao-cao/{round}/bao-cao/{unit}/tiep-nhan",
        web::post().to(accept),
    )
    .route(
        "/ky-bao-cao/{round}/bao-cao/{unit}/tra-lai",
        web::post().to(return_report),
    )
    .route(
        "/ky-bao-cao/{round}/bao-cao/{unit}/mo-lai",
        web::post().to(reopen_report),
    )
    .route(
        "/ky-bao-cao/{round}/bao-cao/{unit}/lich-su",
        web::get().to(history_page),
    )
    .route("/ky-bao-cao/{round}/xuat/{file}", web::get().to(export))
    .route(
        "/ky-bao-cao/{round}/mau/{file}",
        web::get().to(offline_form),
    )
    .route(
        "/ky-bao-cao/{round}/don-vi/{unit}/tai-len-nhieu",
        web::post().to(bulk_upload),
    )
    .route(
        "/ky-bao-cao/{round}/bao-cao/{unit}/tai-len",
        web::post().to(upload_form),
    )
    .route(
        "/ky-bao-cao/{round}/so-sanh/{unit}",
        web::get().to(compare_page),
    )
    .route("/static/style.css", web::get().to(style))
    .default_service(web::to(|| async {
        Err::<HttpResponse, _>(PageError(AppError::NotFound(
            "Không tìm thấy trang này.".into(),
        )))
    }));
}

/// An error shown as a page. "Not signed in" sends the person to the login page.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError(e)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: String,
    user: Option<UserVm>,
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.0.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        if matches!(self.0, AppError::Unauthenticated) {
            return redirect("/dang-nhap");
        }
        if let AppError::Unexpected(e) = &self.0 {
            tracing::error!(error = ?e, "page failed");
        }
        let title = match self.0.status_code() {
            StatusCode::FORBIDDEN => "Không có quyền truy cập",
            StatusCode::NOT_FOUND => "Không tìm thấy",
            StatusCode::CONFLICT => "Không thực hiện được",
            StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => "Dữ liệu chưa hợp lệ",
            _ => "Có lỗi xảy ra",
        };
        let page = ErrorPage {
            title,
            message: self.0.user_message(),
            user: None,
        };
        html(self.status_code(), &page)
    }
}

/// A form's failure as its page shows it: the status, the message above the form, and each
/// field's message beside the field.
pub(crate) fn form_failure(
    failure: Option<AppError>,
) -> (
    StatusCode,
    Option<String>,
    std::collections::HashMap<String, String>,
) {
    match failure {
        None => (StatusCode::OK, None, Default::default()),
        Some(AppError::Invalid { message, fields }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(message),
            fields.into_iter().map(|f| (f.field, f.message)).collect(),
        ),
        Some(e) => (e.status_code(), Some(e.user_message()), Default::default()),
    }
}

/// A date typed in a form (ISO from a date picker, or dd/mm/yyyy); a problem is noted by field.
pub(crate) fn form_date(
    field: &str,
    text: &str,
    required: bool,
    errors: &mut Vec<FieldError>,
) -> Option<chrono::NaiveDate> {
    let text = text.trim();
    if text.is_empty() {
        if required {
            errors.push(FieldError {
                field: field.into(),
                message: "Xin nhập ngày.".into(),
            });
        }
        return None;
    }
    let parsed = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| chrono::NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .ok();
    if parsed.is_none() {
        errors.push(FieldError {
            field: field.into(),
            message: "Ngày không hợp lệ (ngày/tháng/năm).".into(),
        });
    }
    parsed
}

/// Every field message of an error in one line, or the error's own message.
pub(crate) fn all_messages(e: &AppError) -> String {
    match e {
        AppError::Invalid { fields, .. } if !fields.is_empty() => fields
            .iter()
            .map(|f| f.message.clone())
            .collect::<Vec<_>>()
            .join(" "),
        other => other.user_message(),
    }
}

pub(crate) type PageResult = Result<HttpResponse, PageError>;

pub(crate) fn html(status: StatusCode, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("Đã có lỗi ngoài ý muốn khi hiển thị trang.")
        }
    }
}

pub(crate) fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_owned()))
        .finish()
}

async fn style() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../../templates/style.css"))
}

/// The signed-in person as the page header shows them.
#[derive(Debug, Clone)]
pub struct UserVm {
    pub name: String,
    pub unit: String,
    pub role: String,
}

impl From<&CurrentUser> for UserVm {
    fn from(u: &CurrentUser) -> Self {
        UserVm {
            name: u.account.full_name.clone(),
            unit: u.unit.name.clone(),
            role: u.role.label().into(),
        }
    }
}

pub(crate) async fn page_user(
    state: &web::Data<AppState>,
    req: &HttpRequest,
) -> Result<CurrentUser, PageError> {
    auth::current_user(&state.pool, req)
        .await?
        .ok_or(PageError(AppError::Unauthenticated))
}

async fn home(state: web::Data<AppState>, req: HttpRequest) -> PageResult {
    Ok(match auth::current_user(&state.pool, &req).await? {
        Some(_) => redirect("/ky-bao-cao"),
        None => redirect("/dang-nhap"),
    })
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    user: Option<UserVm>,
    username: String,
    error: Option<String>,
}

async fn login_form() -> HttpResponse {
    html(
        StatusCode::OK,
        &LoginPage {
            user: None,
            username: String::new(),
            error: None,
        },
    )
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

async fn login(state: web::Data<AppState>, form: web::Form<LoginForm>) -> PageResult {
    let LoginForm { username, password } = form.into_inner();
    let name = username.clone();
    let token = if username.trim().is_empty() || password.is_empty() {
        None
    } else {
        db(&state, move |conn, _| auth::login(conn, &name, &password)).await?
    };
    Ok(match token {
        Some(token) => HttpResponse::SeeOther()
            .cookie(auth::session_cookie(&token))
            .insert_header((header::LOCATION, "/ky-bao-cao"))
            .finish(),
        None => html(
            StatusCode::UNAUTHORIZED,
            &LoginPage {
                user: None,
                username,
                error: Some("Tên đăng nhập hoặc mật khẩu không đúng.".into()),
            },
        ),
    })
}

async fn logout(state: web::Data<AppState>, req: HttpRequest) -> PageResult {
    if let Some(token) = req
        .cookie(auth::SESSION_COOKIE)
        .map(|c| c.value().to_owned())
    {
        db(&state, move |conn, _| auth::logout(conn, &token)).await?;
    }
    Ok(HttpResponse::SeeOther()
        .cookie(auth::removal_cookie())
        .insert_header((header::LOCATION, "/dang-nhap"))
        .finish())
}

struct RoundRow {
    id: i32,
    /// The person's unit files in this round (it is not the unit that opened it).
    files: bool,
    owner: String,
    kind: &'static str,
    due: Option<String>,
    due_overdue: bool,
    title: String,
    period: String,
    deadline: String,
    overdue: bool,
    open: bool,
    my_status: String,
    my_status_class: &'static str,
}

#[derive(Template)]
#[template(path = "rounds.html")]
struct RoundsPage {
    user: Option<UserVm>,
    rows: Vec<RoundRow>,
    can_open: bool,
}

fn status_class(s: ReportStatus) -> &'static str {
    match s {
        ReportStatus::NotStarted => "st-none",
        ReportStatus::Draft => "st-draft",
        ReportStatus::Submitted => "st-submitted",
        ReportStatus::Returned => "st-returned",
        ReportStatus::Accepted => "st-accepted",
    }
}

async fn rounds(state: web::Data<AppState>, req: HttpRequest) -> PageResult {
    let user = page_user(&state, &req).await?;
    let vm = UserVm::from(&user);
    let can_open = user.role.reviews();
    let (list, now) = db(&state, move |conn, st| {
        let now = st.clock.now();
        Ok((service::list_rounds(conn, &user, now)?, now))
    })
    .await?;
    let rows = list
        .into_iter()
        .map(|r| RoundRow {
            id: r.id,
            files: r.files,
            owner: r.owner.name.clone(),
            kind: match r.template_kind {
                report_schemas::TemplateKind::Periodic => "Định kỳ",
                report_schemas::TemplateKind::Thematic => "Chuyên đề",
            },
            due: r.due.as_ref().map(service::DueNotice::message),
            due_overdue: r.due.as_ref().is_some_and(|d| d.overdue),
            overdue: r.files && r.my_deadline < now && !r.my_status.is_filed(),
            deadline: vn::datetime(r.my_deadline),
            open: r.status == "open",
            my_status: r.my_status.label().into(),
            my_status_class: status_class(r.my_status),
            period: r.period_label,
            title: r.title,
        })
        .collect();
    Ok(html(
        StatusCode::OK,
        &RoundsPage {
            user: Some(vm),
            rows,
            can_open,
        },
    ))
}

async fn round_home(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i32>,
) -> PageResult {
    let user = page_user(&state, &req).await?;
    let round_id = path.into_inner();
    let (leaf, code) = db(&state, move |conn, st| {
        let ctx = service::round_for(conn, &st.catalog, &user, round_id, st.clock.now())?;
        let mine = service::filing_unit(&user, &ctx.owner, ctx.round.period_end)
            .unwrap_or(&user.unit)
            .clone();
        let leaf = !service::has_children(conn, &mine, ctx.round.period_end)?;
        Ok((leaf, mine.code))
    })
    .await?;
    Ok(if leaf {
        redirect(&format!("/ky-bao-cao/{round_id}/bao-cao/{code}"))
    } else {
        redirect(&format!("/ky-bao-cao/{round_id}/don-vi/{code}"))
    })
}

/// A figure as the pages show it: "1.234", "12,5", "75,0%", "Có: 3 · Không: 1".
fn display_agg(template: &ReportTemplate, key: &str, v: Option<&AggValue>) -> String {
    let Some(ind) = template.indicator(key) else {
        return String::new();
    };
    match v {
        None => "–".into(),
        Some(AggValue::Number(x)) => match &ind.kind {
            IndicatorKind::Ratio { .. } => vn::percent(*x),
            IndicatorKind::Decimal { .. } => vn::number(*x, 1),
            _ if matches!(ind.aggregate, report_schemas::Aggregate::Average) => vn::number(*x, 1),
            _ => vn::number(*x, 0),
        },
        Some(AggValue::Counts(counts)) => match &ind.kind {
            IndicatorKind::Choice { options } => options
                .iter()
                .map(|o| format!("{}: {}", o.label, counts.get(&o.key).copied().unwrap_or(0)))
                .collect::<Vec<_>>()
                .join("\n"),
            _ => String::new(),
        },
    }
}

struct ChildRow {
    name: String,
    link: String,
    status: String,
    status_class: &'static str,
    submitted_at: String,
    timing: String,
    expected: u32,
    submitted: u32,
    accepted: u32,
    late: u32,
    missing: u32,
    rate: String,
}

struct IndicatorRow {
    group: Option<String>,
    label: String,
    unit: String,
    cells: Vec<String>,
    total: String,
}

struct NarrativeBlock {
    title: String,
    entries: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "unit.html")]
struct UnitPage {
    user: Option<UserVm>,
    round_id: i32,
    round_title: String,
    period: String,
    unit_name: String,
    unit_code: String,
    parent_link: Option<String>,
    provisional: bool,
    own_report_link: Option<String>,
    own_status: String,
    own_status_class: &'static str,
    total: ChildRow,
    children: Vec<ChildRow>,
    child_names: Vec<String>,
    indicators: Vec<IndicatorRow>,
    narratives: Vec<NarrativeBlock>,
    commune_deadline: String,
    district_deadline: String,
    orientation: service::Orientation,
    open_orientation: bool,
    owned: bool,
    open: bool,
    can_set_tasks: bool,
    own_tasks: String,
    own_task_count: usize,
    overdue: Vec<OverdueVm>,
    /// Other rounds this consolidation can be compared with: (id, title).
    others: Vec<(i32, String)>,
}

struct OverdueVm {
    name: String,
    parent: String,
    status: String,
    status_class: &'static str,
    deadline: String,
    days: i64,
}

/// What the unit page shows around the consolidation.
struct UnitExtras {
    orientation: service::Orientation,
    owned: bool,
    can_set_tasks: bool,
    own_tasks: Vec<String>,
    overdue: Vec<service::Overdue>,
    others: Vec<(i32, String)>,
}

fn child_row(round_id: i32, row: &RollupRow, provisional: bool) -> ChildRow {
    let c = &row.completeness;
    let link = if row.leaf {
        format!("/ky-bao-cao/{round_id}/bao-cao/{}", row.unit.code)
    } else {
        format!(
            "/ky-bao-cao/{round_id}/don-vi/{}{}",
            row.unit.code,
            if provisional { "?tam-tinh=1" } else { "" }
        )
    };
    ChildRow {
        name: row.unit.name.clone(),
        link,
        status: row.status.label().into(),
        status_class: status_class(row.status),
        submitted_at: row.submitted_at.map(vn::datetime).unwrap_or_default(),
        timing: match row.on_time {
            Some(true) => "Đúng hạn".into(),
            Some(false) => "Trễ hạn".into(),
            None => String::new(),
        },
        expected: c.expected,
        submitted: c.submitted,
        accepted: c.accepted,
        late: c.late,
        missing: c.missing,
        rate: vn::percent(c.rate()),
    }
}

async fn unit_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i32, String)>,
    query: web::Query<ProvisionalQuery>,
) -> PageResult {
    let user = page_user(&state, &req).await?;
    let (round_id, code) = path.into_inner();
    let provisional = query.provisional();
    let vm = UserVm::from(&user);
    let result = db(&state, move |conn, st| {
        let ctx = service::round_for(conn, &st.catalog, &user, round_id, st.clock.now())?;
        let unit = service::unit_for(conn, &user, &ctx, &code)?;
        if !service::has_children(conn, &unit, ctx.round.period_end)? {
            return Ok(Err(format!("/ky-bao-cao/{round_id}/bao-cao/{}", unit.code)));
        }
        let view = service::rollup(conn, &user, &ctx, &unit, provisional)?;
        let own = service::report_view(conn, &user, &ctx, &unit)?;
        let parent_link = match unit.parent_id {
            Some(pid) if pid != user.unit.id || user.unit.id != unit.id => {
                let parent = service::unit_by_id(conn, pid)?;
                user.can_read(&parent)
                    .then(|| format!("/ky-bao-cao/{round_id}/don-vi/{}", parent.code))
            }
            _ => None,
        };
        let files_own = user.can_file(&unit) && ctx.owner.id != unit.id;
        let extras = UnitExtras {
            orientation: service::orientation_for(conn, &ctx, &unit)?,
            owned: ctx.owner.id == unit.id && user.unit.id == unit.id && user.role.reviews(),
            can_set_tasks: ctx.is_open()
                && user.unit.id == unit.id
                && user.role.reviews()
                && ctx.owner.id != unit.id,
            own_tasks: service::own_tasks(conn, &ctx, &unit)?,
            overdue: service::overdue(conn, &user, &ctx, &unit)?,
            others: service::list_rounds(conn, &user, ctx.now)?
                .into_iter()
                .filter(|r| r.id != ctx.round.id)
                .map(|r| (r.id, r.title))
                .collect(),
        };
        Ok(Ok((ctx, view, own, parent_link, files_own, extras)))
    })
    .await?;
    let (ctx, view, own, parent_link, files_own, extras) = match result {
        Ok(parts) => parts,
        Err(to) => return Ok(redirect(&to)),
    };
    Ok(html(
        StatusCode::OK,
        &build_unit_page(vm, &ctx, &view, &own, parent_link, files_own, extras),
    ))
}

fn build_unit_page(
    user: UserVm,
    ctx: &service::RoundCtx,
    view: &RollupView,
    own: &ReportView,
    parent_link: Option<String>,
    files_own: bool,
    extras: UnitExtras,
) -> UnitPage {
    let t = &ctx.template;
    let mut last_group = None;
    let indicators = t
        .indicators
        .iter()
        .map(|ind| {
            let group = (last_group.as_ref() != Some(&ind.group)).then(|| {
                last_group = Some(ind.group.clone());
                t.groups
                    .iter()
                    .find(|g| g.key == ind.group)
                    .map_or_else(|| ind.group.clone(), |g| g.title.clone())
            });
            IndicatorRow {
                group,
                label: ind.label.clone(),
                unit: ind.unit.clone().unwrap_or_default(),
                cells: view
                    .rows
                    .iter()
                    .map(|r| {
                        display_agg(t, &ind.key, r.values.get(&ind.key).and_then(Option::as_ref))
                    })
                    .collect(),
                total: display_agg(
                    t,
                    &ind.key,
                    view.total.values.get(&ind.key).and_then(Option::as_ref),
                ),
            }
        })
        .collect();
    let narratives = t
        .sections
        .iter()
        .map(|s| NarrativeBlock {
            title: s.title.clone(),
            entries: view
                .rows
                .iter()
                .filter_map(|r| {
                    r.sections
                        .get(&s.key)
                        .map(|text| (r.unit.name.clone(), text.clone()))
                })
                .collect(),
        })
        .collect();
    UnitPage {
        user: Some(user),
        round_id: ctx.round.id,
        round_title: ctx.round.title.clone(),
        period: service::period_label(&ctx.round),
        unit_name: view.unit.name.clone(),
        unit_code: view.unit.code.clone(),
        parent_link,
        provisional: view.provisional,
        own_report_link: files_own
            .then(|| format!("/ky-bao-cao/{}/bao-cao/{}", ctx.round.id, view.unit.code)),
        own_status: own.status.label().into(),
        own_status_class: status_class(own.status),
        total: child_row(ctx.round.id, &view.total, view.provisional),
        children: view
            .rows
            .iter()
            .map(|r| child_row(ctx.round.id, r, view.provisional))
            .collect(),
        child_names: view.rows.iter().map(|r| r.unit.name.clone()).collect(),
        indicators,
        narratives,
        commune_deadline: vn::datetime(ctx.round.commune_deadline),
        district_deadline: vn::datetime(ctx.round.district_deadline),
        open_orientation: false,
        orientation: extras.orientation,
        owned: extras.owned,
        open: ctx.is_open(),
        can_set_tasks: extras.can_set_tasks,
        own_task_count: extras.own_tasks.len(),
        own_tasks: extras.own_tasks.join("\n"),
        others: extras.others,
        overdue: extras
            .overdue
            .into_iter()
            .map(|o| OverdueVm {
                name: o.unit.name,
                parent: o.parent.name,
                status: o.status.label().into(),
                status_class: status_class(o.status),
                deadline: vn::datetime(o.deadline),
                days: o.days_late,
            })
            .collect(),
    }
}

struct FieldVm {
    key: String,
    label: String,
    unit: String,
    help: String,
    /// "integer", "decimal", "yes_no", "choice" or "ratio".
    input: &'static str,
    value: String,
    display: String,
    options: Vec<(String, String)>,
    error: Option<String>,
    required: bool,
    /// The roster's figure, for an indicator pre-filled from it.
    roster: Option<String>,
    /// The reason given for differing from the roster.
    reason: String,
}

struct GroupVm {
    title: String,
    fields: Vec<FieldVm>,
}

struct SectionVm {
    key: String,
    title: String,
    help: String,
    value: String,
    error: Option<String>,
    required: bool,
    max_chars: usize,
    max_chars_text: String,
}

struct EventVm {
    at: String,
    action: String,
    who: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    user: Option<UserVm>,
    round_id: i32,
    round_title: String,
    period: String,
    unit_name: String,
    unit_code: String,
    back_link: String,
    status: String,
    status_class: &'static str,
    deadline: String,
    overdue: bool,
    version: i32,
    consolidated: bool,
    can_edit: bool,
    can_review: bool,
    can_reopen: bool,
    return_reason: Option<String>,
    groups: Vec<GroupVm>,
    sections: Vec<SectionVm>,
    notice: Option<String>,
    error: Option<String>,
    events: Vec<EventVm>,
    due: Option<String>,
    due_overdue: bool,
    orientation: service::Orientation,
    open_orientation: bool,
    included: Option<service::Included>,
    /// For a consolidated report still being written: the children not yet counted.
    not_counted: Option<service::Included>,
}

/// A consolidated figure as stored in a submitted snapshot.
fn agg_of(v: &Json) -> Option<AggValue> {
    match v {
        Json::Number(n) => n.as_f64().map(AggValue::Number),
        Json::Object(_) => serde_json::from_value(v.clone()).ok().map(AggValue::Counts),
        _ => None,
    }
}

/// A stored value as the form shows it back.
fn raw_of(v: &Json) -> String {
    match v {
        Json::Bool(true) => "co".into(),
        Json::Bool(false) => "khong".into(),
        Json::Number(n) => match n.as_i64() {
            Some(i) => i.to_string(),
            None => n.as_f64().map(|x| vn::number(x, 6)).unwrap_or_default(),
        },
        Json::String(s) => s.clone(),
        _ => String::new(),
    }
}

fn display_of(template: &ReportTemplate, key: &str, v: &Json) -> String {
    let Some(ind) = template.indicator(key) else {
        return String::new();
    };
    match (&ind.kind, v) {
        (IndicatorKind::YesNo, Json::Bool(b)) => if *b { "Có" } else { "Không" }.into(),
        (IndicatorKind::Choice { options }, Json::String(s)) => options
            .iter()
            .find(|o| &o.key == s)
            .map_or_else(|| s.clone(), |o| o.label.clone()),
        (IndicatorKind::YesNo | IndicatorKind::Choice { .. }, _) => String::new(),
        (_, Json::Number(n)) => n.as_f64().map(|x| vn::number(x, 2)).unwrap_or_default(),
        _ => String::new(),
    }
}

struct FormState {
    values: BTreeMap<String, String>,
    sections: BTreeMap<String, String>,
    overrides: BTreeMap<String, String>,
    errors: Vec<FieldError>,
}

#[expect(
    clippy::too_many_arguments,
    reason = "the page is assembled from independent parts read in one transaction"
)]
fn build_report_page(
    user: UserVm,
    ctx: &service::RoundCtx,
    view: &ReportView,
    rollup: Option<&RollupView>,
    form: Option<FormState>,
    notice: Option<String>,
    error: Option<String>,
    events: Vec<EventVm>,
    back_link: String,
    orientation: service::Orientation,
) -> ReportPage {
    let t = &ctx.template;
    let error_for = |key: &str| {
        form.as_ref().and_then(|f| {
            let msgs: Vec<&str> = f
                .errors
                .iter()
                .filter(|e| e.field == key)
                .map(|e| e.message.as_str())
                .collect();
            (!msgs.is_empty()).then(|| msgs.join(" "))
        })
    };
    let groups = t
        .groups
        .iter()
        .map(|g| GroupVm {
            title: g.title.clone(),
            fields: t
                .indicators
                .iter()
                .filter(|i| i.group == g.key)
                .map(|ind| {
                    let stored = view.values.get(&ind.key);
                    let from_roster = view.prefill.get(&ind.key);
                    let value = match &form {
                        Some(f) => f.values.get(&ind.key).cloned().unwrap_or_default(),
                        None => stored.or(from_roster).map(raw_of).unwrap_or_default(),
                    };
                    let display = if view.consolidated && view.status.is_filed() {
                        // What was reported up: the snapshot taken at submission.
                        display_agg(t, &ind.key, stored.and_then(agg_of).as_ref())
                    } else if view.consolidated {
                        rollup
                            .map(|r| {
                                display_agg(
                                    t,
                                    &ind.key,
                                    r.total.values.get(&ind.key).and_then(Option::as_ref),
                                )
                            })
                            .unwrap_or_default()
                    } else if matches!(ind.kind, IndicatorKind::Ratio { .. }) {
                        view.computed
                            .get(&ind.key)
                            .copied()
                            .flatten()
                            .map_or_else(|| "–".into(), vn::percent)
                    } else {
                        stored
                            .map(|v| display_of(t, &ind.key, v))
                            .unwrap_or_default()
                    };
                    let (input, options) = match &ind.kind {
                        IndicatorKind::Integer { .. } => ("integer", Vec::new()),
                        IndicatorKind::Decimal { .. } => ("decimal", Vec::new()),
                        IndicatorKind::YesNo => ("yes_no", Vec::new()),
                        IndicatorKind::Choice { options } => (
                            "choice",
                            options
                                .iter()
                                .map(|o| (o.key.clone(), o.label.clone()))
                                .collect(),
                        ),
                        IndicatorKind::Ratio { .. } => ("ratio", Vec::new()),
                    };
                    FieldVm {
                        key: ind.key.clone(),
                        label: ind.label.clone(),
                        unit: ind.unit.clone().unwrap_or_default(),
                        // The help tells a commune what to type; a consolidation types nothing.
                        help: if view.consolidated {
                            String::new()
                        } else {
                            ind.help.clone().unwrap_or_default()
                        },
                        input,
                        value,
                        display,
                        options,
                        error: error_for(&ind.key),
                        required: ind.required,
                        roster: from_roster.map(|v| display_of(t, &ind.key, v)),
                        reason: match &form {
                            Some(f) => f.overrides.get(&ind.key).cloned().unwrap_or_default(),
                            None => view.overrides.get(&ind.key).cloned().unwrap_or_default(),
                        },
                    }
                })
                .collect(),
        })
        .collect();
    let sections = t
        .sections
        .iter()
        .map(|s| SectionVm {
            key: s.key.clone(),
            title: s.title.clone(),
            help: s.help.clone().unwrap_or_default(),
            value: match &form {
                Some(f) => f.sections.get(&s.key).cloned().unwrap_or_default(),
                None => view.sections.get(&s.key).cloned().unwrap_or_default(),
            },
            error: error_for(&s.key),
            required: s.required,
            max_chars: s.max_chars,
            max_chars_text: vn::int(i64::try_from(s.max_chars).unwrap_or(i64::MAX)),
        })
        .collect();
    let general: Vec<String> = form
        .as_ref()
        .map(|f| {
            f.errors
                .iter()
                .filter(|e| t.indicator(&e.field).is_none() && t.section(&e.field).is_none())
                .map(|e| e.message.clone())
                .collect()
        })
        .unwrap_or_default();
    let error = match (error, general.is_empty()) {
        (Some(e), true) => Some(e),
        (Some(e), false) => Some(format!("{e} {}", general.join(" "))),
        (None, false) => Some(general.join(" ")),
        (None, true) => None,
    };
    ReportPage {
        user: Some(user),
        round_id: ctx.round.id,
        round_title: ctx.round.title.clone(),
        period: service::period_label(&ctx.round),
        unit_name: view.unit.name.clone(),
        unit_code: view.unit.code.clone(),
        back_link,
        status: view.status.label().into(),
        status_class: status_class(view.status),
        deadline: vn::datetime(view.deadline),
        overdue: view.deadline < vn::now_utc() && !view.status.is_filed(),
        version: view.version,
        consolidated: view.consolidated,
        can_edit: view.can_edit,
        can_review: view.can_review,
        can_reopen: view.can_reopen,
        return_reason: view
            .return_reason
            .clone()
            .filter(|_| view.status == ReportStatus::Returned),
        groups,
        sections,
        notice,
        error,
        events,
        due: view.due.as_ref().map(service::DueNotice::message),
        due_overdue: view.due.as_ref().is_some_and(|d| d.overdue),
        open_orientation: view.can_edit,
        orientation,
        included: view.included.clone(),
        not_counted: rollup
            .filter(|_| view.consolidated && view.can_edit)
            .map(|r| service::Included::of(&r.rows))
            .filter(|i| !i.is_complete()),
    }
}

fn action_label(action: &str) -> String {
    match action {
        "submit" => "Nộp báo cáo",
        "accept" => "Tiếp nhận",
        "return" => "Trả lại",
        "reopen" => "Mở lại",
        other => other,
    }
    .into()
}

fn load_events(
    conn: &mut crate::db::Conn,
    round_id: i32,
    unit_id: i32,
) -> Result<Vec<EventVm>, AppError> {
    use crate::db::schema::{accounts, reports, review_events};
    use diesel::prelude::*;
    let rows: Vec<(chrono::NaiveDateTime, String, String, Option<String>)> = review_events::table
        .inner_join(reports::table)
        .inner_join(accounts::table.on(accounts::id.eq(review_events::actor_id)))
        .filter(reports::round_id.eq(round_id))
        .filter(reports::unit_id.eq(unit_id))
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
        .map(|(at, action, who, reason)| EventVm {
            at: vn::datetime(at),
            action: action_label(&action),
            who,
            reason: reason.unwrap_or_default(),
        })
        .collect())
}

#[derive(Deserialize, Default)]
struct NoticeQuery {
    #[serde(default)]
    ok: Option<String>,
}

fn notice_text(code: Option<&str>) -> Option<String> {
    Some(
        match code? {
            "luu" => "Đã lưu bản nháp.",
            "nop" => "Đã nộp báo cáo. Ban tuyên giáo cấp trên sẽ xem và tiếp nhận.",
            "tiep-nhan" => "Đã tiếp nhận báo cáo.",
            "tra-lai" => "Đã trả lại báo cáo kèm lý do.",
            "mo-lai" => "Đã mở lại báo cáo; đơn vị lập báo cáo có thể sửa và nộp lại.",
            "tai-len" => "Đã nhận tệp Excel: số liệu đã được lưu thành bản nháp. Xin xem lại rồi nộp báo cáo.",
            _ => return None,
        }
        .into(),
    )
}

/// What a page says about the last action: a success notice, or an error with its status.
struct Flash {
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
}

impl Flash {
    fn notice(notice: Option<String>) -> Flash {
        Flash {
            notice,
            error: None,
            status: StatusCode::OK,
        }
    }

    fn error(message: String, status: StatusCode) -> Flash {
        Flash {
            notice: None,
            error: Some(message),
            status,
        }
    }
}

/// Renders the report page; `form` re-shows what was typed, with its errors.
async fn render_report(
    state: &web::Data<AppState>,
    user: CurrentUser,
    round_id: i32,
    code: String,
    form: Option<FormState>,
    flash: Flash,
) -> PageResult {
    let vm = UserVm::from(&user);
    let (ctx, view, rollup, events, back, orientation) = db(state, move |conn, st| {
        let ctx = service::round_for(conn, &st.catalog, &user, round_id, st.clock.now())?;
        let unit = service::unit_for(conn, &user, &ctx, &code)?;
        let view = service::report_view(conn, &user, &ctx, &unit)?;
        let rollup = if view.consolidated {
            Some(service::rollup(conn, &user, &ctx, &unit, false)?)
        } else {
            None
        };
        let events = load_events(conn, round_id, unit.id)?;
        let orientation = service::orientation_for(conn, &ctx, &unit)?;
        let back = if user.unit.id == unit.id && !view.consolidated {
            "/ky-bao-cao".to_owned()
        } else if view.consolidated {
            format!("/ky-bao-cao/{round_id}/don-vi/{}", unit.code)
        } else {
            match unit.parent_id {
                Some(pid) => format!(
                    "/ky-bao-cao/{round_id}/don-vi/{}",
                    service::unit_by_id(conn, pid)?.code
                ),
                None => "/ky-bao-cao".to_owned(),
            }
        };
        Ok((ctx, view, rollup, events, back, orientation))
    })
    .await?;
    Ok(html(
        flash.status,
        &build_report_page(
            vm,
            &ctx,
            &view,
            rollup.as_ref(),
            form,
            flash.notice,
            flash.error,
            events,
            back,
            orientation,
        ),
    ))
}

async fn report_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i32, String)>,
    query: web::Query<NoticeQuery>,
) -> PageResult {
    let user = page_user(&state, &req).await?;
    let (round_id, code) = path.into_inner();
    render_report(
        &state,
        user,
        round_id,
        code,
        None,
        Flash::notice(notice_text(query.ok.as_deref())),
    )
    .await
}

async fn report_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i32, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let user = page_user(&state, &req).await?;
    let (round_id, code) = path.into_inner();
    let mut values = BTreeMap::new();
    let mut sections = BTreeMap::new();
    let mut overrides = BTreeMap::new();
    let mut version = 0;
    let mut submit = false;
    for (k, v) in form.into_inner() {
        if let Some(key) = k.strip_prefix("v.") {
            values.insert(key.to_owned(), v);
        } else if let Some(key) = k.strip_prefix("s.") {
            sections.insert(key.to_owned(), v);
        } else if let Some(key) = k.strip_prefix("r.") {
            overrides.insert(key.to_owned(), v);
        } else if k == "version" {
            version = v.trim().parse().unwrap_or(-1);
        } else if k == "action" {
            submit = v == "submit";
        }
    }
    let input = DraftInput {
        values: values
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| (k.clone(), Json::String(v.clone())))
            .collect(),
        sections: sections.clone(),
        overrides: overrides.clone(),
        version,
    };
    let actor = user.clone();
    let c = code.clone();
    let outcome = db(&state, move |conn, st| {
        let ctx = service::round_for(conn, &st.catalog, &actor, round_id, st.clock.now())?;
        let unit = service::unit_for(conn, &actor, &ctx, &c)?;
        let saved = service::save_draft(conn, &actor, &ctx, &unit, &input)?;
        if submit {
            // The draft is kept even when the submission still lacks something.
            service::submit(conn, &actor, &ctx, &unit, Some(saved.version))?;
        }
        Ok(())
    })
    .await;
    match outcome {
        Ok(()) => Ok(redirect(&format!(
            "/ky-bao-cao/{round_id}/bao-cao/{code}?ok={}",
            if submit { "nop" } else { "luu" }
        ))),
        Err(AppError::Invalid { message, fields }) => {
            render_report(
                &state,
                user,
                round_id,
                code,
                Some(FormState {
                    values,
                    sections,
                    overrides,
                    errors: fields,
                }),
                Flash::error(message, StatusCode::UNPROCESSABLE_ENTITY),
            )
            .await
        }
        Err(e @ AppError::Conflict { .. }) => {
            let status = e.status_code();
            render_report(
                &state,
                user,
                round_id,
                code,
                Some(FormState {
                    values,
                    sections,
                    overrides,
                    errors: Vec::new(),
                }),
                Flash::error(e.user_message(), status),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn decide(
    state: web::Data<AppState>,
    req: HttpRequest,
    round_id: i32,
    code: String,
    decision: Decision,
) -> PageResult {
    let user = page_user(&state, &req).await?;
    let actor = user.clone();
    let c = code.clone();
    let ok = match decision {
        Decision::Accept => "tiep-nhan",
        Decision::Return { .. } => "tra-lai",
        Decision::Reopen { .. } => "mo-lai",
    };
    let outcome = db(&state, move |conn, st| {
        let ctx = service::round_for(conn, &st.catalog, &actor, round_id, st.clock.now())?;
        let unit = service::unit_for(conn, &actor, &ctx, &c)?;
        service::review(conn, &actor, &ctx, &unit, &decision)
    })
    .await;
    match outcome {
        Ok(_) => Ok(redirect(&format!(
            "/ky-bao-cao/{round_id}/bao-cao/{code}?ok={ok}"
        ))),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            let status = e.status_code();
            let message = all_messages(&e);
            render_report(
                &state,
                user,
                round_id,
                code,
                None,
                Flash::error(message, status),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn accept(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i32, String)>,
) -> PageResult {
    let (round_id, code) = path.into_inner();
    decide(state, req, round_id, code, Decision::Accept).await
}

#[derive(Deserialize)]
struct ReturnForm {
    reason: String,
}

async fn return_report(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i32, String)>,
    form: web::Form<ReturnForm>,
) -> PageResult {
    let (round_id, code) = path.into_inner();
    let reason = form.into_inner().reason;
    decide(state, req, round_id, code, Decision::Return { reason }).await
}

async fn reopen_report(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i32, String)>,
    form: web::Form<ReturnForm>,
) -> PageResult {
    let (round_id, code) = path.into_inner();
    let reason = form.into_inner().reason;
    decide(state, req, round_id, code, Decision::Reopen { reason }).await
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage {
    user: Option<UserVm>,
    round_id: i32,
    round_title: String,
    unit_name: String,
    unit_code: String,
    entries: Vec<HistoryVm>,
}

struct HistoryVm {
    at: String,
    actor: String,
    action: String,
    reason: String,
    changes: Vec<service::Change>,
}

async fn history_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i32, String)>,
) -> PageResult {
    let user = page_user(&state, &req).await?;
    let vm = UserVm::from(&user);
    let (round_id, code) = path.into_inner();
    let (ctx, unit, entries) = db(&state, move |conn, st| {
        let ctx = service::round_for(conn, &st.catalog, &user, round_id, st.clock.now())?;
        let unit = service::unit_for(conn, &user, &ctx, &code)?;
        let entries = service::history(conn, &user, &ctx, &unit)?;
        Ok((ctx, unit, entries))
    })
    .await?;
    Ok(html(
        StatusCode::OK,
        &HistoryPage {
            user: Some(vm),
            round_id,
            round_title: ctx.round.title.clone(),
            unit_name: unit.name.clone(),
            unit_code: unit.code.clone(),
            entries: entries
                .into_iter()
                .rev()
                .map(|e| HistoryVm {
                    at: vn::datetime(e.at),
                    actor: e.actor.unwrap_or_else(|| "Hệ thống".into()),
                    action: e.action_label,
                    reason: e.reason.unwrap_or_default(),
                    changes: e.changes,
                })
                .collect(),
        },
    ))
}

async fn export(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i32, String)>,
    query: web::Query<ProvisionalQuery>,
) -> PageResult {
    let user = page_user(&state, &req).await?;
    let (round_id, file) = path.into_inner();
    let code = file
        .strip_suffix(".xlsx")
        .ok_or_else(|| AppError::NotFound("Không tìm thấy tệp này.".into()))?
        .to_owned();
    Ok(export_response(&state, user, round_id, code, &query).await?)
}

/// The round form as typed: every field a string, checked when converted.
#[derive(Debug, Clone, Default, Deserialize)]
struct RoundForm {
    #[serde(default)]
    template: String,
    #[serde(default)]
    period_type: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    index: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    commune_deadline: String,
    #[serde(default)]
    district_deadline: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    orientation: String,
    #[serde(default)]
    tasks: String,
}

impl RoundForm {
    fn from_round(ctx: &service::RoundCtx, tasks: &[String]) -> RoundForm {
        let r = &ctx.round;
        let window = r.period_type == "window";
        let date = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
        RoundForm {
            template: ctx.template.key.clone(),
            period_type: r.period_type.clone(),
            year: r.period_year.to_string(),
            index: if matches!(r.period_type.as_str(), "month" | "quarter") {
                r.period_index.to_string()
            } else {
                String::new()
            },
            start: if window {
                date(r.period_start)
            } else {
                String::new()
            },
            end: if window {
                date(r.period_end)
            } else {
                String::new()
            },
            commune_deadline: date(vn::local(r.commune_deadline).date()),
            district_deadline: date(vn::local(r.district_deadline).date()),
            title: r.title.clone(),
            orientation: r.orientation.clone(),
            tasks: tasks.join("\n"),
        }
    }

    /// The form as the service's input; what cannot even be read is reported by field.
    fn to_input(&self) -> Result<service::RoundInput, AppError> {
        let mut errors = Vec::new();
        let start = form_date("start", &self.start, false, &mut errors);
        let end = form_date("end", &self.end, false, &mut errors);
        let commune_deadline = form_date(
            "commune_deadline",
            &self.commune_deadline,
            false,
            &mut errors,
        );
        let district_deadline = form_date(
            "district_deadline",
            &self.district_deadline,
            false,
            &mut errors,
        );
        let year = self.year.trim().parse::<i32>().unwrap_or_else(|_| {
            errors.push(FieldError {
                field: "year".into(),
                message: "Năm phải là một số, ví dụ 2026.".into(),
            });
            0
        });
        let index = match self.index.trim() {
            "" => None,
            text => match text.parse::<u32>() {
                Ok(n) => Some(n),
                Err(_) => {
                    errors.push(FieldError {
                        field: "index".into(),
                        message: "Tháng hoặc quý phải là một số.".into(),
                    });
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(AppError::invalid(errors));
        }
        Ok(service::RoundInput {
            template: self.template.clone(),
            period_type: self.period_type.clone(),
            year,
            index,
            start,
            end,
            commune_deadline,
            district_deadline,
            title: Some(self.title.clone()),
            orientation: Some(self.orientation.clone()),
            tasks: self.tasks.lines().map(str::to_owned).collect(),
        })
    }
}

struct TemplateOption {
    key: String,
    title: String,
    kind: &'static str,
}

#[derive(Template)]
#[template(path = "round_form.html")]
struct RoundFormPage {
    user: Option<UserVm>,
    heading: String,
    action: String,
    back_link: String,
    button: &'static str,
    error: Option<String>,
    errors: std::collections::HashMap<String, String>,
    templates: Vec<TemplateOption>,
    period_types: Vec<(String, &'static str)>,
    form: RoundForm,
    district_only: bool,
}

const PERIOD_TYPES: [report_schemas::PeriodType; 6] = [
    report_schemas::PeriodType::Month,
    report_schemas::PeriodType::Quarter,
    report_schemas::PeriodType::HalfYear,
    report_schemas::PeriodType::NineMonths,
    report_schemas::PeriodType::Year,
    report_schemas::PeriodType::Window,
];

/// Everything the round form shows besides what was typed.
struct RoundFormFrame {
    heading: String,
    action: String,
    back_link: String,
    button: &'static str,
}

async fn render_round_form(
    state: &web::Data<AppState>,
    user: &CurrentUser,
    frame: RoundFormFrame,
    form: RoundForm,
    failure: Option<AppError>,
) -> PageResult {
    let district_only = user.role == crate::domain::Role::District;
    let templates = db(state, move |conn, st| {
        crate::catalog::latest_all(conn, &st.catalog)
    })
    .await?;
    let templates = templates
        .into_iter()
        .filter(|(_, t)| !district_only || t.kind == report_schemas::TemplateKind::Thematic)
        .map(|(_, t)| TemplateOption {
            key: t.key.clone(),
            title: t.title.clone(),
            kind: match t.kind {
                report_schemas::TemplateKind::Periodic => "định kỳ",
                report_schemas::TemplateKind::Thematic => "chuyên đề",
            },
        })
        .collect();
    let (status, error, errors) = form_failure(failure);
    Ok(html(
        status,
        &RoundFormPage {
            user: Some(user.into()),
            heading: frame.heading,
            action: frame.action,
            back_link: frame.back_link,
            button: frame.button,
            error,
            errors,
            templates,
            period_types: PERIOD_TYPES
                .iter()
                .map(|p| {
                    (
                        crate::domain::period::period_type_str(*p).to_owned(),
                        crate::domain::period::type_label(*p),
                    )
                })
                .collect(),
            form,
            district_only,
        },
    ))
}

fn ensure_opener(user: &CurrentUser) -> Result<(), PageError> {
    if user.role.reviews() {
        Ok(())
    } else {
        Err(PageError(AppError::Forbidden(
            "Chỉ Ban Tuyên giáo cấp tỉnh, cấp huyện mới được mở kỳ báo cáo.".into(),
        )))
    }
}

fn new_frame() -> RoundFormFrame {
    RoundFormFrame {
        heading: "Mở kỳ báo cáo mới".into(),
        action: "/ky-bao-cao/moi".into(),
        back_link: "/ky-bao-cao".into(),
        button: "Mở kỳ báo cáo",
    }
}

async fn new_round_form(state: web::Data<AppState>, req: HttpRequest) -> PageResult {
    let user = page_user(&state, &req).await?;
    ensure_opener(&user)?;
    let form = RoundForm {
        template: if user.role == crate::domain::Role::District {
            "tong-ket-nq06".into()
        } else {
            "dinh-ky".into()
        },
        period_type: "quarter".into(),
        year: vn::today().format("%Y").to_string(),
        ..RoundForm::default()
    };
    render_round_form(&state, &user, new_frame(), form, None).await
}

async fn new_round(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<RoundForm>,
) -> PageResult {
    let user = page_user(&state, &req).await?;
    ensure_opener(&user)?;
    let form = form.into_inner();
    let input = match form.to_input() {
        Ok(input) => input,
        Err(e) => return render_round_form(&state, &user, new_frame(), form, Some(e)).await,
    };
    let actor = user.clone();
    let outcome = db(&state, move |conn, st| {
        service::open_round(
            conn,
            &st.catalog,
            Some(&actor),
            &actor.unit,
            &input,
            st.clock.now(),
        )
    })
    .await;
    match outcome {
        Ok(id) => Ok(redirect(&format!("/ky-bao-cao/{id}"))),
        Err(e @ AppError::Invalid { .. }) => {
            render_round_form(&state, &user, new_frame(), form, Some(e)).await
        }
        Err(e) => Err(e.into()),
    }
}

fn edit_frame(round_id: i32) -> RoundFormFrame {
    RoundFormFrame {
        heading: "Sửa kỳ báo cáo".into(),
        action: format!("/ky-bao-cao/{round_id}/sua"),
        back_link: format!("/ky-bao-cao/{round_id}"),
        button: "Lưu thay đổi",
    }
}

async fn edit_round_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i32>,
) -> PageResult {
    let user = page_user(&state, &req).await?;
    let round_id = path.into_inner();
    let actor = user.clone();
    let form = db(&state, move |conn, st| {
        let ctx = service::round_for(conn, &st.catalog, &actor, round_id, st.clock.now())?;
        if ctx.owner.id != actor.unit.id || !actor.role.reviews() {
            return Err(AppError::Forbidden(
                "Chỉ đơn vị đã mở kỳ báo cáo mới được sửa kỳ này.".into(),
            ));
        }
        let tasks = service::own_tasks(conn, &ctx, &ctx.owner)?;
        Ok(RoundForm::from_round(&ctx, &tasks))
    })
    .await?;
    render_round_form(&state, &user, edit_frame(round_id), form, None).await
}

async fn edit_round(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i32>,
    form: web::Form<RoundForm>,
) -> PageResult {
    let user = page_user(&state, &req).await?;
    let round_id = path.into_inner();
    let form = form.into_inner();
    let input = match form.to_input() {
        Ok(input) => input,
        Err(e) => {
            return render_round_form(&state, &user, edit_frame(round_id), form, Some(e)).await;
        }
    };
    let actor = user.clone();
    let outcome = db(&state, move |conn, st| {
        let ctx = service::round_for(conn, &st.catalog, &actor, round_id, st.clock.now())?;
        service::update_round(conn, &st.catalog, &actor, &ctx, &input)
    })
    .await;
    match outcome {
        Ok(()) => Ok(redirect(&format!("/ky-bao-cao/{round_id}"))),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            render_round_form(&state, &user, edit_frame(round_id), form, Some(e)).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn close_round(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i32>,
) -> PageResult {
    let user = page_user(&state, &req).await?;
    let round_id = path.into_inner();
    db(&state, move |conn, st| {
        let ctx = service::round_for(conn, &st.catalog, &user, round_id, st.clock.now())?;
        service::close_round(conn, &user, &ctx)
    })
    .await?;
    Ok(redirect(&format!("/ky-bao-cao/{round_id}")))
}

#[derive(Deserialize)]
struct TasksForm {
    #[serde(default)]
    tasks: String,
}

async fn set_tasks(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i32, String)>,
    form: web::Form<TasksForm>,
) -> PageResult {
    let user = page_user(&state, &req).await?;
    let (round_id, code) = path.into_inner();
    let tasks: Vec<String> = form.tasks.lines().map(str::to_owned).collect();
    let c = code.clone();
    db(&state, move |conn, st| {
        let ctx = service::round_for(conn, &st.catalog, &user, round_id, st.clock.now())?;
        let unit = service::unit_for(conn, &user, &ctx, &c)?;
        service::set_tasks(conn, &user, &ctx, &unit, &tasks)
    })
    .await?;
    Ok(redirect(&format!("/ky-bao-cao/{round_id}/don-vi/{code}")))
}

#[derive(Deserialize)]
struct CompareQuery {
    voi: i32,
    #[serde(default, rename = "chi-tieu")]
    chi_tieu: Option<String>,
}

#[derive(Template)]
#[template(path = "compare.html")]
struct ComparePage {
    user: Option<UserVm>,
    round_id: i32,
    other_id: i32,
    unit_name: String,
    unit_code: String,
    title: String,
    other_title: String,
    note: String,
    /// (key, label, this round, the other round mapped)
    totals: Vec<(String, String, String, String)>,
    chosen_label: String,
    /// (unit, this round, the other round mapped, reports mapped)
    units: Vec<(String, String, String, u64)>,
}

async fn compare_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i32, String)>,
    query: web::Query<CompareQuery>,
) -> PageResult {
    let user = page_user(&state, &req).await?;
    let vm = UserVm::from(&user);
    let (round_id, code) = path.into_inner();
    let CompareQuery { voi, chi_tieu } = query.into_inner();
    let (ctx, other, cmp) = db(&state, move |conn, st| {
        let now = st.clock.now();
        let ctx = service::round_for(conn, &st.catalog, &user, round_id, now)?;
        let other = service::round_for(conn, &st.catalog, &user, voi, now)?;
        let unit = service::unit_for(conn, &user, &ctx, &code)?;
        let cmp = service::compare(conn, &user, &ctx, &other, &unit, false)?;
        Ok((ctx, other, cmp))
    })
    .await?;
    let t = &ctx.template;
    let show = |key: &str, v: &BTreeMap<String, Option<AggValue>>| {
        display_agg(t, key, v.get(key).and_then(Option::as_ref))
    };
    let keys: Vec<&String> = cmp.total.values.keys().collect();
    let chosen = chi_tieu
        .filter(|k| cmp.total.values.contains_key(k))
        .or_else(|| {
            t.indicators
                .iter()
                .map(|i| i.key.clone())
                .find(|k| cmp.total.values.contains_key(k))
        })
        .unwrap_or_default();
    let label = |key: &str| {
        t.indicator(key)
            .map_or_else(|| key.to_owned(), |i| i.label.clone())
    };
    let mut totals: Vec<(String, String, String, String)> = keys
        .iter()
        .map(|k| {
            (
                (*k).clone(),
                label(k),
                show(k, &cmp.total.values),
                show(k, &cmp.total.other_values),
            )
        })
        .collect();
    let order = |k: &str| {
        t.indicators
            .iter()
            .position(|i| i.key == k)
            .unwrap_or(usize::MAX)
    };
    totals.sort_by_key(|r| order(&r.0));
    Ok(html(
        StatusCode::OK,
        &ComparePage {
            user: Some(vm),
            round_id,
            other_id: voi,
            unit_name: cmp.unit.name.clone(),
            unit_code: cmp.unit.code.clone(),
            title: ctx.round.title.clone(),
            other_title: other.round.title.clone(),
            note: cmp.note.clone(),
            totals,
            chosen_label: label(&chosen),
            units: cmp
                .rows
                .iter()
                .map(|r| {
                    (
                        r.unit.name.clone(),
                        show(&chosen, &r.values),
                        show(&chosen, &r.other_values),
                        r.other_reports,
                    )
                })
                .collect(),
        },
    ))
}

async fn offline_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i32, String)>,
) -> PageResult {
    let user = page_user(&state, &req).await?;
    let (round_id, file) = path.into_inner();
    let code = file
        .strip_suffix(".xlsx")
        .ok_or_else(|| AppError::NotFound("Không tìm thấy tệp này.".into()))?
        .to_owned();
    Ok(super::offline_form_response(&state, user, round_id, code).await?)
}

/// Largest offline form accepted: a filled form is a few tens of kilobytes.
const MAX_UPLOAD: usize = 20 << 20;

/// Every file of a multipart form, whole, with its name.
async fn all_files(
    mut form: actix_multipart::Multipart,
) -> Result<Vec<(String, Vec<u8>)>, AppError> {
    use futures_util::StreamExt;
    let mut files = Vec::new();
    let mut total = 0usize;
    while let Some(field) = form.next().await {
        let mut field =
            field.map_err(|e| AppError::BadRequest(format!("Tải tệp lên bị lỗi ({e}).")))?;
        let Some(name) = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_owned)
        else {
            continue;
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk =
                chunk.map_err(|e| AppError::BadRequest(format!("Tải tệp lên bị lỗi ({e}).")))?;
            total += chunk.len();
            if total > 10 * MAX_UPLOAD {
                return Err(AppError::BadRequest(
                    "Các tệp tải lên lớn quá 200 MB.".into(),
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        if !name.is_empty() && !bytes.is_empty() {
            files.push((name, bytes));
        }
    }
    if files.is_empty() {
        return Err(AppError::invalid(vec![FieldError {
            field: "file".into(),
            message: "Chưa chọn tệp để tải lên.".into(),
        }]));
    }
    Ok(files)
}

#[derive(Template)]
#[template(path = "bulk.html")]
struct BulkPage {
    user: Option<UserVm>,
    round_id: i32,
    unit_code: String,
    unit_name: String,
    stored: usize,
    rejected: usize,
    results: Vec<service::BulkResult>,
}

async fn bulk_upload(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i32, String)>,
    form: actix_multipart::Multipart,
) -> PageResult {
    let user = page_user(&state, &req).await?;
    let vm = UserVm::from(&user);
    let (round_id, code) = path.into_inner();
    let files = all_files(form).await?;
    let c = code.clone();
    let (unit_name, results) = db(&state, move |conn, st| {
        let ctx = service::round_for(conn, &st.catalog, &user, round_id, st.clock.now())?;
        let board = service::unit_for(conn, &user, &ctx, &c)?;
        let results = service::bulk_upload(conn, &user, &ctx, &board, files)?;
        Ok((board.name, results))
    })
    .await?;
    let stored = results.iter().filter(|r| r.stored).count();
    Ok(html(
        StatusCode::OK,
        &BulkPage {
            user: Some(vm),
            round_id,
            unit_code: code,
            unit_name,
            stored,
            rejected: results.len() - stored,
            results,
        },
    ))
}

async fn upload_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i32, String)>,
    form: actix_multipart::Multipart,
) -> PageResult {
    let user = page_user(&state, &req).await?;
    let (round_id, code) = path.into_inner();
    let outcome = match all_files(form).await {
        Ok(mut files) => {
            let (_, bytes) = files.swap_remove(0);
            let actor = user.clone();
            let c = code.clone();
            db(&state, move |conn, st| {
                let ctx = service::round_for(conn, &st.catalog, &actor, round_id, st.clock.now())?;
                let unit = service::unit_for(conn, &actor, &ctx, &c)?;
                service::upload_form(conn, &actor, &ctx, &unit, &bytes, service::Entry::Filer)
            })
            .await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok((_, converted)) if !converted.is_empty() => {
            let message = format!(
                "Đã nhận tệp Excel: số liệu đã được lưu thành bản nháp. {}",
                converted.join(" ")
            );
            render_report(
                &state,
                user,
                round_id,
                code,
                None,
                Flash::notice(Some(message)),
            )
            .await
        }
        Ok(_) => Ok(redirect(&format!(
            "/ky-bao-cao/{round_id}/bao-cao/{code}?ok=tai-len"
        ))),
        Err(
            e @ (AppError::Invalid { .. } | AppError::Conflict { .. } | AppError::BadRequest(_)),
        ) => {
            let status = e.status_code();
            let message = match &e {
                AppError::Invalid { .. } => format!(
                    "Tệp chưa được nhận, báo cáo không thay đổi. {}",
                    all_messages(&e)
                ),
                other => other.user_message(),
            };
            render_report(
                &state,
                user,
                round_id,
                code,
                None,
                Flash::error(message, status),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
