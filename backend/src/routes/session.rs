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

use super::page::{CheckedForm, NoFields, PageResult, UserVm, html, redirect};
use super::{db, field_errors};
use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::service::CurrentUser;
use crate::service::session::{self, SESSION_HOURS};

pub fn api(cfg: &mut web::ServiceConfig) {
    cfg.route("/login", web::post().to(login_json))
        .route("/logout", web::post().to(logout_json))
        .route("/me", web::get().to(me));
}

pub fn pages(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home))
        .route("/dang-nhap", web::get().to(login_form))
        .route("/dang-nhap", web::post().to(login))
        .route("/dang-xuat", web::post().to(logout));
}

pub const SESSION_COOKIE: &str = "baocao_session";

/// The session cookie: HTTP-only, sent over HTTPS only when the server is reached by HTTPS.
pub fn session_cookie(token: &str, https: bool) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token.to_owned())
        .path("/")
        .http_only(true)
        .secure(https)
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::hours(SESSION_HOURS))
        .finish()
}

pub fn removal_cookie(https: bool) -> Cookie<'static> {
    let mut c = Cookie::build(SESSION_COOKIE, "")
        .path("/")
        .http_only(true)
        .secure(https)
        .same_site(SameSite::Lax)
        .finish();
    c.make_removal();
    c
}

/// The person whose session cookie the request carries, if it names a live session.
pub async fn current_user(
    state: &web::Data<AppState>,
    req: &HttpRequest,
) -> AppResult<Option<CurrentUser>> {
    let Some(token) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
        return Ok(None);
    };
    if token.is_empty() {
        return Ok(None);
    }
    db(state, move |conn, _| session::user_for_token(conn, &token)).await
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

/// The session token of a request, if it carries one.
fn token_of(req: &HttpRequest) -> Option<String> {
    req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned())
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
    input: web::Json<LoginInput>,
) -> AppResult<HttpResponse> {
    let input = input.into_inner();
    input
        .validate()
        .map_err(|e| AppError::invalid(field_errors(&e)))?;
    let token = db(&state, move |conn, _| {
        session::login(conn, &input.username, &input.password)
    })
    .await?;
    match token {
        Some(token) => Ok(HttpResponse::Ok()
            .cookie(session_cookie(&token, state.https()))
            .json(serde_json::json!({ "ok": true }))),
        None => Err(AppError::BadCredentials),
    }
}

async fn logout_json(state: web::Data<AppState>, req: HttpRequest) -> AppResult<HttpResponse> {
    if let Some(token) = token_of(&req) {
        db(&state, move |conn, _| session::logout(conn, &token)).await?;
    }
    Ok(HttpResponse::NoContent()
        .cookie(removal_cookie(state.https()))
        .finish())
}

async fn me(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({
        "username": user.account.username,
        "full_name": user.account.full_name,
        "role": user.role,
        "role_label": user.role.label(),
        "unit": { "code": user.unit.code, "name": user.unit.name },
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
}

/// The login form's cookie: a random token the form carries too. A login posted from another
/// site carries no such pair, so nobody can log a person in to an account of their choosing.
const LOGIN_COOKIE: &str = "baocao_login";

fn login_cookie(token: &str, https: bool) -> Cookie<'static> {
    Cookie::build(LOGIN_COOKIE, token.to_owned())
        .path("/dang-nhap")
        .http_only(true)
        .secure(https)
        .same_site(SameSite::Strict)
        .max_age(CookieDuration::hours(SESSION_HOURS))
        .finish()
}

/// The login page, with a new form token in it and in its cookie.
fn login_page(
    state: &AppState,
    status: StatusCode,
    username: String,
    error: Option<String>,
) -> PageResult {
    let csrf = session::random_token().map_err(AppError::from)?;
    let mut response = html(
        status,
        &LoginPage {
            user: None,
            username,
            error,
            csrf: csrf.clone(),
        },
    );
    response
        .add_cookie(&login_cookie(&csrf, state.https()))
        .map_err(|e| AppError::Unexpected(anyhow::anyhow!("login cookie: {e}")))?;
    Ok(response)
}

async fn login_form(state: web::Data<AppState>) -> PageResult {
    login_page(&state, StatusCode::OK, String::new(), None)
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> PageResult {
    let LoginForm {
        username,
        password,
        csrf,
    } = form.into_inner();
    let expected = req.cookie(LOGIN_COOKIE).map(|c| c.value().to_owned());
    if !expected.is_some_and(|e| session::tokens_match(&e, &csrf)) {
        let error = "Trang đăng nhập đã hết hạn hoặc không được mở từ hệ thống. Xin đăng nhập lại.";
        return login_page(&state, StatusCode::FORBIDDEN, username, Some(error.into()));
    }
    let name = username.clone();
    let token = if username.trim().is_empty() || password.is_empty() {
        None
    } else {
        db(&state, move |conn, _| {
            session::login(conn, &name, &password)
        })
        .await?
    };
    match token {
        Some(token) => {
            let mut spent = login_cookie("", state.https());
            spent.make_removal();
            Ok(HttpResponse::SeeOther()
                .cookie(session_cookie(&token, state.https()))
                .cookie(spent)
                .insert_header((header::LOCATION, "/ky-bao-cao"))
                .finish())
        }
        None => {
            let error = "Tên đăng nhập hoặc mật khẩu không đúng.";
            login_page(
                &state,
                StatusCode::UNAUTHORIZED,
                username,
                Some(error.into()),
            )
        }
    }
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
        .cookie(removal_cookie(state.https()))
        .insert_header((header::LOCATION, "/dang-nhap"))
        .finish())
}
