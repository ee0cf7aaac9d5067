//! Sessions: logging in and out (JSON and page), who is signed in, and the session cookie.
//! The session itself lives on the server (`service::session`); the cookie holds only its
//! random token, HTTP-only.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use validator::Validate;

use super::page::{
    CSRF_FIELD, CheckedForm, NoFields, NoticeQuery, PageResult, PageUser, UserVm, html,
    posted_fields, redirect,
};
use super::{db, field_errors, kept};
use crate::AppState;
use crate::db::Conn;
use crate::domain::vn;
use crate::error::{AppError, AppResult};
use crate::service::CurrentUser;
use crate::service::{rollup, session};

pub fn api(cfg: &mut web::ServiceConfig) {
    cfg.route("/login", web::post().to(login_json))
        .route("/logout", web::post().to(logout_json))
        .route("/me", web::get().to(me))
        .route("/sessions", web::get().to(sessions_json))
        .route("/sessions/others", web::delete().to(end_others_json))
        .route("/sessions/{id}", web::delete().to(end_session_json));
}

pub fn pages(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home))
        .route("/dang-nhap", web::get().to(login_form))
        .route("/dang-nhap", web::post().to(login))
        .route("/dang-xuat", web::post().to(logout))
        .route("/phien-dang-nhap", web::get().to(sessions_page))
        .route(
            "/phien-dang-nhap/ket-thuc-khac",
            web::post().to(end_others_page),
        )
        .route(
            "/phien-dang-nhap/{id}/ket-thuc",
            web::post().to(end_session_page),
        );
}

pub const SESSION_COOKIE: &str = "baocao_session";

/// The session cookie: HTTP-only, sent over HTTPS only when the server is reached by HTTPS,
/// kept by the browser no longer than the session can last.
pub fn session_cookie(state: &AppState, token: &str) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token.to_owned())
        .path("/")
        .http_only(true)
        .secure(state.https())
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::hours(state.sessions.hours))
        .finish()
}

pub fn removal_cookie(state: &AppState) -> Cookie<'static> {
    let mut c = Cookie::build(SESSION_COOKIE, "")
        .path("/")
        .http_only(true)
        .secure(state.https())
        .same_site(SameSite::Lax)
        .finish();
    c.make_removal();
    c
}

/// The client's address: the connection's, or, when the connection comes from a reverse proxy
/// on this machine, the address the proxy says it forwards for.
fn client_address(req: &HttpRequest) -> String {
    let peer = req.peer_addr().map(|a| a.ip());
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    match (peer, forwarded) {
        (Some(ip), Some(forwarded)) if ip.is_loopback() => forwarded.to_owned(),
        (Some(ip), _) => ip.to_string(),
        (None, _) => "unknown".into(),
    }
}

fn throttled(wait: std::time::Duration) -> AppError {
    let seconds = wait.as_secs().max(1);
    let when = if seconds < 60 {
        format!("{seconds} giây")
    } else {
        format!("{} phút", seconds.div_ceil(60))
    };
    AppError::Throttled {
        message: format!(
            "Đăng nhập sai nhiều lần nên tạm thời bị chặn; xin thử lại sau {when}. Nếu quên mật khẩu, xin liên hệ Ban Tuyên giáo cấp trên."
        ),
        retry_after: seconds,
    }
}

/// Checks a user name and password and opens a session: `None` for a wrong name or password.
/// Failures are counted by client address and account, and met with growing waits and then a
/// lock; the password is checked a few at a time and without holding a database connection.
async fn log_in(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    username: String,
    password: String,
) -> AppResult<Option<String>> {
    let address = client_address(req);
    if let Some(wait) = state.throttle.wait(&username, &address) {
        return Err(throttled(wait));
    }
    let name = username.clone();
    let account = db(state, move |conn, _| {
        session::account_for_login(conn, &name)
    })
    .await?;
    let matches = {
        let account = account.clone();
        state
            .hashing
            .run(move || session::password_matches(&password, account.as_ref()))
            .await
            .map_err(|_| AppError::Busy { retry_after: 5 })?
            .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("hashing failed")))?
    };
    let Some(account) = account.filter(|_| matches) else {
        state.throttle.failed(&username, &address);
        return Ok(None);
    };
    state.throttle.succeeded(&username, &address);
    let client = session::Client {
        address,
        agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
    };
    let token = db(state, move |conn, st| {
        session::open_session(conn, account.id, &st.sessions, &client)
    })
    .await?;
    Ok(Some(token))
}

/// What a person with a one-time password may still reach.
const ALLOWED_BEFORE_CHANGE: [&str; 6] = [
    "/doi-mat-khau",
    "/dang-xuat",
    "/api/v1/me",
    "/api/v1/logout",
    "/api/v1/password",
    "/static/style.css",
];

/// The person whose session cookie the request carries, if it names a live session. A person
/// who has not yet changed a one-time password gets `PasswordChangeRequired` anywhere else.
pub async fn current_user(
    state: &web::Data<AppState>,
    req: &HttpRequest,
) -> AppResult<Option<CurrentUser>> {
    let Some(token) = session_token(req) else {
        return Ok(None);
    };
    // A page about a round may be served as kept (`kept`): what it would be checked against is
    // read here, in the same turn as the session.
    let round = kept::round_of(req);
    let writes = state.writes.get();
    let (user, stamp) = db(state, move |conn, st| {
        let user = session::user_for_token(conn, &token, &st.sessions)?;
        let stamp = match round {
            Some(round) if user.is_some() => rollup::live::round_stamp(conn, round)?,
            _ => None,
        };
        Ok((user, stamp))
    })
    .await?;
    if let Some(round) = round {
        kept::seen(req, round, writes, stamp);
    }
    if let Some(user) = &user {
        before_change(user, ALLOWED_BEFORE_CHANGE.contains(&req.path()))?;
    }
    Ok(user)
}

/// A one-time password leads nowhere but to choosing one's own: `allowed`, whether the request
/// is for one of [`ALLOWED_BEFORE_CHANGE`].
fn before_change(user: &CurrentUser, allowed: bool) -> AppResult<()> {
    if user.account.must_change_password && !allowed {
        return Err(AppError::PasswordChangeRequired);
    }
    Ok(())
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("app state missing")))?;
            current_user(state, &req)
                .await?
                .ok_or(AppError::Unauthenticated)
        })
    }
}

/// Who asks, as a request's handler is given it: known already ([`CurrentUser`], looked up by
/// its extractor in a turn of its own), or to be looked up in the handler's own turn
/// ([`Session`]).
pub trait Person: Send + 'static {
    fn person(self, conn: &mut Conn, state: &AppState) -> AppResult<CurrentUser>;
}

impl Person for CurrentUser {
    fn person(self, _: &mut Conn, _: &AppState) -> AppResult<CurrentUser> {
        Ok(self)
    }
}

/// A request's session cookie, whose person is looked up in the same turn off the async
/// workers as the request's own work ([`super::on_unit`]): for the saves and submits of a
/// deadline rush, one hand-over to a blocking thread and back instead of two (a quarter of the
/// async workers' CPU was handing over). The same checks as [`CurrentUser`]'s: without a live
/// session, 401; with a one-time password, only what [`ALLOWED_BEFORE_CHANGE`] lists. The
/// request's body is read before the session is looked up (bounded like any other), so a
/// request with a dead session and a malformed body is told about the body.
pub struct Session {
    token: String,
    allowed_before_change: bool,
}

impl FromRequest for Session {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(match session_token(req) {
            Some(token) => Ok(Session {
                token,
                allowed_before_change: ALLOWED_BEFORE_CHANGE.contains(&req.path()),
            }),
            None => Err(AppError::Unauthenticated),
        })
    }
}

impl Person for Session {
    fn person(self, conn: &mut Conn, state: &AppState) -> AppResult<CurrentUser> {
        let user = session::user_for_token(conn, &self.token, &state.sessions)?
            .ok_or(AppError::Unauthenticated)?;
        before_change(&user, self.allowed_before_change)?;
        Ok(user)
    }
}

/// The session token of a request, if it carries one.
fn token_of(req: &HttpRequest) -> Option<String> {
    req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned())
}

/// The session token of a request that may name a session (not empty), if it carries one.
fn session_token(req: &HttpRequest) -> Option<String> {
    token_of(req).filter(|t| !t.is_empty())
}

// JSON API

#[derive(Debug, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    #[validate(length(min = 1, max = 64, message = "Xin nhập tên đăng nhập."))]
    pub username: String,
    #[validate(length(min = 1, max = 256, message = "Xin nhập mật khẩu."))]
    pub password: String,
}

async fn login_json(
    state: web::Data<AppState>,
    req: HttpRequest,
    input: web::Json<LoginInput>,
) -> AppResult<HttpResponse> {
    let input = input.into_inner();
    input
        .validate()
        .map_err(|e| AppError::invalid(field_errors(&e)))?;
    let token = log_in(&state, &req, input.username, input.password).await?;
    match token {
        Some(token) => Ok(HttpResponse::Ok()
            .cookie(session_cookie(&state, &token))
            .json(serde_json::json!({ "ok": true }))),
        None => Err(AppError::BadCredentials),
    }
}

async fn logout_json(state: web::Data<AppState>, req: HttpRequest) -> AppResult<HttpResponse> {
    if let Some(token) = token_of(&req) {
        db(&state, move |conn, _| session::logout(conn, &token)).await?;
    }
    Ok(HttpResponse::NoContent()
        .cookie(removal_cookie(&state))
        .finish())
}

async fn me(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({
        "username": user.account.username,
        "full_name": user.account.full_name,
        "role": user.role,
        "role_label": user.role.label(),
        "unit": { "code": user.unit.code, "name": user.unit.name },
        "must_change_password": user.account.must_change_password,
        "previous_login_at": user.account.previous_login_at,
    }))
}

// Pages

async fn home(state: web::Data<AppState>, req: HttpRequest) -> PageResult {
    Ok(match current_user(&state, &req).await? {
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
    /// The login form's own anti-forgery token, also set as a cookie (there is no session yet).
    csrf: String,
    /// A form posted after the session ended: where it was going, and what was typed in it,
    /// carried through the login as hidden fields.
    carry_to: String,
    carried: Vec<(String, String)>,
}

/// The prefix of a carried field's name on the login form.
const CARRIED: &str = "carry.";

/// What a login page carries: the report form it came from and what was typed in it.
struct Carried {
    to: (i32, String),
    path: String,
    fields: Vec<(String, String)>,
}

impl Carried {
    /// To carry on, when the login must be tried again.
    fn again(&self) -> (String, Vec<(String, String)>) {
        (self.path.clone(), self.fields.clone())
    }
}

/// The login form's cookie: a random token the form carries too. A login posted from another
/// site carries no such pair, so nobody can log a person in to an account of their choosing.
const LOGIN_COOKIE: &str = "baocao_login";

fn login_cookie(state: &AppState, token: &str) -> Cookie<'static> {
    Cookie::build(LOGIN_COOKIE, token.to_owned())
        .path("/dang-nhap")
        .http_only(true)
        .secure(state.https())
        .same_site(SameSite::Strict)
        .max_age(CookieDuration::hours(state.sessions.hours))
        .finish()
}

/// The login page, with a new form token in it and in its cookie, and what it carries.
fn login_page(
    state: &AppState,
    status: StatusCode,
    username: String,
    error: Option<String>,
    carry: Option<(String, Vec<(String, String)>)>,
) -> PageResult {
    let csrf = session::random_token().map_err(AppError::from)?;
    let (carry_to, carried) = carry.unwrap_or_default();
    let mut response = html(
        status,
        &LoginPage {
            user: None,
            username,
            error,
            csrf: csrf.clone(),
            carry_to,
            carried,
        },
    );
    response
        .add_cookie(&login_cookie(state, &csrf))
        .map_err(|e| AppError::Unexpected(anyhow::anyhow!("login cookie: {e}")))?;
    Ok(response)
}

async fn login_form(state: web::Data<AppState>) -> PageResult {
    login_page(&state, StatusCode::OK, String::new(), None, None)
}

/// The login page for a form posted after the session ended: it carries what was typed, so
/// that after logging in again the person is back on the form with it. Nothing is saved.
pub fn login_carrying(state: &AppState, path: &str, fields: Vec<(String, String)>) -> PageResult {
    if super::reports::report_form_path(path).is_none() {
        return Err(AppError::Unauthenticated.into());
    }
    let typed = fields
        .into_iter()
        .filter(|(k, _)| k != CSRF_FIELD)
        .collect();
    let message = "Phiên đăng nhập đã hết hạn nên báo cáo chưa được lưu. Những gì bạn đã nhập vẫn được giữ: xin đăng nhập lại để tiếp tục.";
    login_page(
        state,
        StatusCode::UNAUTHORIZED,
        String::new(),
        Some(message.into()),
        Some((path.to_owned(), typed)),
    )
}

async fn login(state: web::Data<AppState>, req: HttpRequest, payload: web::Payload) -> PageResult {
    let mut username = String::new();
    let mut password = String::new();
    let mut csrf = String::new();
    let mut carry_to = String::new();
    let mut carried = Vec::new();
    for (key, value) in posted_fields(&req, payload).await? {
        match key.as_str() {
            "username" => username = value,
            "password" => password = value,
            CSRF_FIELD => csrf = value,
            "carry_to" => carry_to = value,
            _ => {
                if let Some(field) = key.strip_prefix(CARRIED) {
                    carried.push((field.to_owned(), value));
                }
            }
        }
    }
    let carry = super::reports::report_form_path(&carry_to).map(|to| Carried {
        to,
        path: carry_to,
        fields: carried,
    });
    let keep = |carry: &Option<Carried>| carry.as_ref().map(Carried::again);
    let expected = req.cookie(LOGIN_COOKIE).map(|c| c.value().to_owned());
    if !expected.is_some_and(|e| session::tokens_match(&e, &csrf)) {
        let error = "Trang đăng nhập đã hết hạn hoặc không được mở từ hệ thống. Xin đăng nhập lại.";
        let status = StatusCode::FORBIDDEN;
        return login_page(&state, status, username, Some(error.into()), keep(&carry));
    }
    let token = if username.trim().is_empty() || password.is_empty() {
        Ok(None)
    } else {
        log_in(&state, &req, username.clone(), password).await
    };
    let token = match token {
        Ok(Some(token)) => token,
        Ok(None) => {
            let error = "Tên đăng nhập hoặc mật khẩu không đúng.";
            let status = StatusCode::UNAUTHORIZED;
            return login_page(&state, status, username, Some(error.into()), keep(&carry));
        }
        Err(e @ AppError::Throttled { .. }) => {
            let status = StatusCode::TOO_MANY_REQUESTS;
            return login_page(
                &state,
                status,
                username,
                Some(e.user_message()),
                keep(&carry),
            );
        }
        Err(e) => return Err(e.into()),
    };
    let mut spent = login_cookie(&state, "");
    spent.make_removal();
    let mut response = match carry {
        Some(Carried { to, fields, .. }) => {
            let secret = token.clone();
            let user = db(&state, move |conn, st| {
                session::user_for_token(conn, &secret, &st.sessions)
            })
            .await?
            .ok_or(AppError::Unauthenticated)?;
            let notice = "Bạn đã đăng nhập lại. Những gì bạn đã nhập được giữ nguyên nhưng CHƯA được lưu: xin xem lại rồi bấm «Lưu nháp» hoặc «Nộp báo cáo».";
            super::reports::resume(&state, user, to, fields, notice).await?
        }
        None => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/ky-bao-cao"))
            .finish(),
    };
    for cookie in [session_cookie(&state, &token), spent] {
        response
            .add_cookie(&cookie)
            .map_err(|e| AppError::Unexpected(anyhow::anyhow!("session cookie: {e}")))?;
    }
    Ok(response)
}

async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    _: CheckedForm<NoFields>,
) -> PageResult {
    if let Some(token) = token_of(&req) {
        db(&state, move |conn, _| session::logout(conn, &token)).await?;
    }
    Ok(HttpResponse::SeeOther()
        .cookie(removal_cookie(&state))
        .insert_header((header::LOCATION, "/dang-nhap"))
        .finish())
}

async fn sessions_json(state: web::Data<AppState>, user: CurrentUser) -> AppResult<HttpResponse> {
    let list = db(&state, move |conn, st| {
        session::own_sessions(conn, &user, &st.sessions)
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "sessions": list })))
}

async fn end_session_json(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    db(&state, move |conn, _| {
        session::end_own_session(conn, &user, &id)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn end_others_json(state: web::Data<AppState>, user: CurrentUser) -> AppResult<HttpResponse> {
    let ended = db(&state, move |conn, _| {
        session::end_other_sessions(conn, &user)
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "ended": ended })))
}

struct SessionRow {
    id: String,
    created: String,
    seen: String,
    address: String,
    agent: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "sessions.html")]
struct SessionsPage {
    user: Option<UserVm>,
    previous: Option<String>,
    idle: i64,
    hours: i64,
    rows: Vec<SessionRow>,
    notice: Option<String>,
}

async fn sessions_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    query: web::Query<NoticeQuery>,
) -> PageResult {
    let vm = UserVm::from(&user);
    let previous = user.account.previous_login_at.map(vn::datetime);
    let list = db(&state, move |conn, st| {
        session::own_sessions(conn, &user, &st.sessions)
    })
    .await?;
    let notice = query
        .ok
        .as_deref()
        .map(|_| "Đã kết thúc phiên đăng nhập; máy đó phải đăng nhập lại.".to_owned());
    Ok(html(
        StatusCode::OK,
        &SessionsPage {
            user: Some(vm),
            previous,
            idle: state.sessions.idle_minutes,
            hours: state.sessions.hours,
            rows: list
                .into_iter()
                .map(|s| SessionRow {
                    created: vn::datetime(s.created_at),
                    seen: vn::datetime(s.last_seen_at.unwrap_or(s.created_at)),
                    address: s.address.unwrap_or_default(),
                    agent: s.agent.unwrap_or_default().chars().take(80).collect(),
                    current: s.current,
                    id: s.id,
                })
                .collect(),
            notice,
        },
    ))
}

async fn end_session_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<String>,
    _: CheckedForm<NoFields>,
) -> PageResult {
    let id = path.into_inner();
    db(&state, move |conn, _| {
        session::end_own_session(conn, &user, &id)
    })
    .await?;
    Ok(redirect("/phien-dang-nhap?ok=1"))
}

async fn end_others_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    _: CheckedForm<NoFields>,
) -> PageResult {
    db(&state, move |conn, _| {
        session::end_other_sessions(conn, &user)
    })
    .await?;
    Ok(redirect("/phien-dang-nhap?ok=1"))
}
