//! What every page shares: the error page, a form's failure shown beside its fields, the notice
//! after an action, the signed-in person in the header, and how figures and statuses look.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;
use report_schemas::FieldError;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::session::SESSION_COOKIE;
use crate::AppState;
use crate::domain::ReportStatus;
use crate::error::AppError;
use crate::service::{CurrentUser, session};

/// The form limits, the pages' answers to a malformed address, and the static files.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PathConfig::default().error_handler(|_, _| {
        PageError(AppError::NotFound("Không tìm thấy trang này.".into())).into()
    }))
    .app_data(web::QueryConfig::default().error_handler(|_, _| {
        PageError(AppError::BadRequest(
            "Địa chỉ trang thiếu thông tin hoặc có tham số không hợp lệ.".into(),
        ))
        .into()
    }))
    .app_data(
        web::FormConfig::default()
            .limit(1 << 20)
            .error_handler(|err, _| {
                PageError(AppError::BadRequest(format!(
                    "Dữ liệu biểu mẫu không hợp lệ ({err})."
                )))
                .into()
            }),
    )
    .route("/static/style.css", web::get().to(style))
    .route("/favicon.svg", web::get().to(favicon))
    .route("/favicon.ico", web::get().to(favicon))
    .route("/static/bulk.js", web::get().to(bulk_script))
    .route("/static/report.js", web::get().to(report_script));
}

/// "Are you sure?" before an act that cannot be simply undone (submitting, returning, closing
/// a round): a page of its own, so that it works without JavaScript. The form posts back to
/// the act's own address with `confirm=1` and what was typed.
#[derive(Template)]
#[template(path = "confirm.html")]
pub struct ConfirmPage {
    pub user: Option<UserVm>,
    pub title: String,
    pub question: String,
    pub details: Vec<String>,
    pub consequence: String,
    pub action: String,
    pub hidden: Vec<(String, String)>,
    pub yes: String,
    pub no: String,
    pub back: String,
}

/// A posted form's `confirm` field: the act was confirmed on its [`ConfirmPage`].
#[derive(Debug, Default, Deserialize)]
pub struct ConfirmField {
    #[serde(default)]
    pub confirm: Option<String>,
}

impl ConfirmField {
    pub fn confirmed(&self) -> bool {
        self.confirm.as_deref() == Some("1")
    }
}

/// The page for an address that is none of ours.
pub async fn not_found() -> PageResult {
    Err(PageError(AppError::NotFound(
        "Không tìm thấy trang này.".into(),
    )))
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
        if matches!(self.0, AppError::PasswordChangeRequired) {
            return redirect(CHANGE_PASSWORD_PAGE);
        }
        if let AppError::Unexpected(e) = &self.0 {
            tracing::error!(error = ?e, "page failed");
        }
        let title = match self.0.status_code() {
            StatusCode::FORBIDDEN => "Không có quyền truy cập",
            StatusCode::NOT_FOUND => "Không tìm thấy",
            StatusCode::CONFLICT => "Không thực hiện được",
            StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => "Dữ liệu chưa hợp lệ",
            StatusCode::PAYLOAD_TOO_LARGE => "Tệp quá lớn",
            StatusCode::TOO_MANY_REQUESTS => "Tạm thời bị chặn",
            StatusCode::SERVICE_UNAVAILABLE => "Máy chủ đang bận",
            _ => "Có lỗi xảy ra",
        };
        let shown = ShownError {
            status: self.status_code(),
            title,
            message: self.0.user_message(),
        };
        let mut response = html(shown.status, &shown.page(None));
        response.extensions_mut().insert(shown);
        response
    }
}

/// An error page as shown, kept with the response so that [`keep_the_menu`] can show it again
/// with the person's menu (rendering an error has no request to learn who is asking from).
#[derive(Debug, Clone)]
struct ShownError {
    status: StatusCode,
    title: &'static str,
    message: String,
}

impl ShownError {
    fn page(&self, user: Option<UserVm>) -> ErrorPage<'static> {
        ErrorPage {
            title: self.title,
            message: self.message.clone(),
            user,
        }
    }
}

/// Error pages keep the menu and the way to log out, for a signed-in person: a page that
/// failed is shown again with their header.
pub async fn keep_the_menu(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let res = next.call(req).await?;
    let shown = res.response().extensions().get::<ShownError>().cloned();
    let Some(shown) = shown else {
        return Ok(res.map_into_left_body());
    };
    let Some(state) = res.request().app_data::<web::Data<AppState>>().cloned() else {
        return Ok(res.map_into_left_body());
    };
    let user = match super::session::current_user(&state, res.request()).await {
        Ok(Some(user)) => user,
        _ => return Ok(res.map_into_left_body()),
    };
    let page = html(shown.status, &shown.page(Some(UserVm::from(&user))));
    Ok(res.into_response(page).map_into_right_body())
}

/// A form's failure as its page shows it: the status, the message above the form, and each
/// field's message beside the field.
pub fn form_failure(
    failure: Option<AppError>,
) -> (StatusCode, Option<String>, HashMap<String, String>) {
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

/// A date typed in a form: dd/mm/yyyy as the pages show it, whatever the browser's locale (ISO is
/// read too, from scripts); a problem is noted by field.
pub fn form_date(
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
pub fn all_messages(e: &AppError) -> String {
    match e {
        AppError::Invalid { fields, .. } if !fields.is_empty() => fields
            .iter()
            .map(|f| f.message.clone())
            .collect::<Vec<_>>()
            .join(" "),
        other => other.user_message(),
    }
}

pub type PageResult = Result<HttpResponse, PageError>;

pub fn html(status: StatusCode, page: &impl Template) -> HttpResponse {
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

pub fn redirect(to: &str) -> HttpResponse {
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

/// The tab's icon: a report in the Party's red (browsers ask for /favicon.ico too).
async fn favicon() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(include_str!("../../templates/favicon.svg"))
}

/// The upload progress of the bulk form (the pages run no inline script: the policy forbids it).
async fn bulk_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../../templates/bulk.js"))
}

/// The report form's summary links, which move the focus to their field.
async fn report_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../../templates/report.js"))
}

/// `?ok=…`: the action a page was sent back from, whose notice it shows.
#[derive(Debug, Deserialize, Default)]
pub struct NoticeQuery {
    #[serde(default)]
    pub ok: Option<String>,
}

/// The signed-in person as the page header shows them, and the token their forms carry.
#[derive(Debug, Clone)]
pub struct UserVm {
    pub name: String,
    pub unit: String,
    pub role: String,
    pub csrf: String,
    /// The administrator's menu entry.
    pub admin: bool,
    /// Manages accounts (the administrator and the boards).
    pub manages: bool,
}

impl From<&CurrentUser> for UserVm {
    fn from(u: &CurrentUser) -> Self {
        UserVm {
            name: u.account.full_name.clone(),
            unit: u.unit.name.clone(),
            role: u.role.label().into(),
            csrf: u.csrf.clone(),
            admin: u.role == crate::domain::Role::Admin,
            manages: u.role == crate::domain::Role::Admin || u.role.reviews(),
        }
    }
}

/// A list of units on a page, shown up to [`Listed::AT_MOST`]: a national board's list of every
/// overdue commune or weak team runs to thousands of rows and megabytes, which no one reads on
/// a page and a phone downloads slowly. The count is always the whole list's.
pub struct Listed<T> {
    pub rows: Vec<T>,
    /// How many there are in all, written as a number is everywhere ("4.231").
    pub total: String,
    /// How many are not shown ("4.031"), or empty when every one is.
    pub more: String,
}

impl<T> Listed<T> {
    pub const AT_MOST: usize = 200;

    pub fn of(all: impl ExactSizeIterator<Item = T>) -> Listed<T> {
        let count = all.len();
        Listed {
            rows: all.take(Self::AT_MOST).collect(),
            total: crate::domain::vn::int(count as i64),
            more: match count.saturating_sub(Self::AT_MOST) {
                0 => String::new(),
                n => crate::domain::vn::int(n as i64),
            },
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Where a person with a one-time password is sent until they choose their own.
pub const CHANGE_PASSWORD_PAGE: &str = "/doi-mat-khau";

/// The name of the anti-forgery field every form of the pages carries.
pub const CSRF_FIELD: &str = "_csrf";

/// The refusal of a form whose token is not its session's.
pub fn forged() -> AppError {
    AppError::Forbidden(
        "Biểu mẫu này không còn hợp lệ: phiên làm việc đã thay đổi, hoặc biểu mẫu không được gửi từ trang của hệ thống. Xin tải lại trang rồi làm lại."
            .into(),
    )
}

/// Whether `sent` is the anti-forgery token of the session the request's cookie names.
pub fn csrf_ok(req: &HttpRequest, sent: Option<&str>) -> bool {
    let expected = req
        .cookie(SESSION_COOKIE)
        .map(|c| session::csrf_token(c.value()));
    match (expected, sent) {
        (Some(expected), Some(sent)) => session::tokens_match(&expected, sent),
        _ => false,
    }
}

/// A page's form, posted with its anti-forgery token: the token is checked against the
/// person's session, then the other fields are read as `T`. A form from anywhere else (a
/// forged post, another session's page) is refused before anything is done.
pub struct CheckedForm<T>(pub T);

/// A form that carries only its token (a button).
#[derive(Debug, Default, Deserialize)]
pub struct NoFields {}

/// Largest page form accepted: the report form with every narrative written in full.
const FORM_LIMIT: usize = 1 << 20;

/// A form body's fields, each decoded strictly: a field that is not UTF-8 is refused rather
/// than silently replaced.
fn form_fields(body: &[u8]) -> Option<Vec<(String, String)>> {
    let decode = |part: &[u8]| -> Option<String> {
        let plus: Vec<u8> = part
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect();
        percent_encoding::percent_decode(&plus)
            .decode_utf8()
            .ok()
            .map(|text| text.into_owned())
    };
    body.split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = match pair.iter().position(|&b| b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &b""[..]),
            };
            Some((decode(key)?, decode(value)?))
        })
        .collect()
}

/// The fields of a page's form as posted, without any check of who sent it.
pub async fn posted_fields(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Vec<(String, String)>, PageError> {
    let urlencoded = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !urlencoded {
        return Err(PageError(AppError::BadRequest(
            "Dữ liệu biểu mẫu không hợp lệ (không phải biểu mẫu của trang).".into(),
        )));
    }
    let body = super::read_body(req, payload, FORM_LIMIT).await?;
    form_fields(&body).ok_or_else(|| {
        PageError(AppError::BadRequest(
            "Dữ liệu gửi lên có ký tự không đọc được (không phải mã UTF-8); không có gì được lưu. Xin gõ lại bằng bộ gõ tiếng Việt Unicode."
                .into(),
        ))
    })
}

/// Takes the anti-forgery token out of a form's fields and checks it against the session.
pub fn take_checked(
    req: &HttpRequest,
    mut fields: Vec<(String, String)>,
) -> Result<Vec<(String, String)>, PageError> {
    let sent = fields
        .iter()
        .position(|(k, _)| k == CSRF_FIELD)
        .map(|at| fields.remove(at).1);
    if csrf_ok(req, sent.as_deref()) {
        Ok(fields)
    } else {
        Err(PageError(forged()))
    }
}

/// Reads a form's fields (without the token) as `T`.
pub fn fields_as<T: DeserializeOwned>(fields: &[(String, String)]) -> Result<T, PageError> {
    let bad = |e: &dyn std::fmt::Display| {
        PageError(AppError::BadRequest(format!(
            "Dữ liệu biểu mẫu không hợp lệ ({e})."
        )))
    };
    let text = serde_urlencoded::to_string(fields).map_err(|e| bad(&e))?;
    serde_urlencoded::from_str(&text).map_err(|e| bad(&e))
}

impl<T: DeserializeOwned + 'static> FromRequest for CheckedForm<T> {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Payload::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let payload = body
                .await
                .map_err(|e| PageError(AppError::BadRequest(format!("{e}"))))?;
            let fields = take_checked(&req, posted_fields(&req, payload).await?)?;
            Ok(CheckedForm(fields_as(&fields)?))
        })
    }
}

/// The signed-in person, for a page: without a session, the page sends them to log in.
pub struct PageUser(pub CurrentUser);

impl FromRequest for PageUser {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = CurrentUser::from_request(req, payload);
        Box::pin(async move { Ok(PageUser(user.await?)) })
    }
}

pub fn status_class(s: ReportStatus) -> &'static str {
    match s {
        ReportStatus::NotStarted => "st-none",
        ReportStatus::Draft => "st-draft",
        ReportStatus::Submitted => "st-submitted",
        ReportStatus::Returned => "st-returned",
        ReportStatus::Accepted => "st-accepted",
    }
}

pub use crate::domain::display_figure as display_agg;

/// What a page says about the last action: a success notice, or an error with its status.
pub struct Flash {
    pub notice: Option<String>,
    pub error: Option<String>,
    pub status: StatusCode,
    /// After a review decision: the unit whose report is next to review.
    pub next_review: Option<String>,
}

impl Flash {
    pub fn notice(notice: Option<String>) -> Flash {
        Flash {
            notice,
            error: None,
            status: StatusCode::OK,
            next_review: None,
        }
    }

    pub fn error(message: String, status: StatusCode) -> Flash {
        Flash {
            notice: None,
            error: Some(message),
            status,
            next_review: None,
        }
    }
}
