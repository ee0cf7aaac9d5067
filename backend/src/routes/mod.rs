//! HTTP: one module per resource, each holding that resource's JSON handlers (under `/api/v1`,
//! documented in `openapi.json` beside this file) and its HTML pages side by side, over the same
//! service operations. A handler reads the request, calls the service layer (never the database
//! itself) and renders what comes back.
//!
//! - [`session`]: logging in and out, who is signed in.
//! - [`rounds`]: the list of rounds, opening, editing and closing one, key tasks.
//! - [`reports`]: a report's form, saving, submitting, review, history.
//! - [`units`]: a unit's page in a round (completeness, consolidation, overdue), comparison.
//! - [`rosters`]: the team rosters and their review.
//! - [`excel`]: workbook downloads (export, offline form) and uploads.
//! - [`accounts`]: accounts for named people, one-time passwords, changing one's own.
//! - [`admin`]: the administrator's pages (backups).
//! - [`kept`]: the leadership's pages kept between requests while they stay true.
//! - [`page`]: what every page shares (the error page, form failures, notices).

pub mod accounts;
pub mod admin;
pub mod document;
pub mod excel;
pub mod home;
pub mod kept;
pub mod origin;
pub mod page;
pub mod reports;
pub mod rosters;
pub mod round_life;
pub mod rounds;
pub mod session;
pub mod units;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use futures_util::StreamExt;
use report_schemas::FieldError;
use serde::{Deserialize, Serialize};

use self::page::{CSRF_FIELD, csrf_ok, forged};
use crate::AppState;
use crate::db::Conn;
use crate::db::models::Unit;
use crate::error::{AppError, AppResult};
use crate::service::access::{round_for, unit_for};
use crate::service::{CurrentUser, RoundCtx};

pub const OPENAPI: &str = include_str!("openapi.json");

/// Every route: the JSON API in its scope, then the pages, each resource adding its own.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .app_data(
                web::JsonConfig::default()
                    .limit(1 << 20)
                    .error_handler(|err, _| {
                        AppError::BadRequest(format!(
                            "Nội dung gửi lên không đúng định dạng JSON mong đợi ({err})."
                        ))
                        .into()
                    }),
            )
            .app_data(web::PathConfig::default().error_handler(|_, _| {
                AppError::NotFound("Không tìm thấy địa chỉ này.".into()).into()
            }))
            .app_data(web::QueryConfig::default().error_handler(|err, _| {
                AppError::BadRequest(format!("Tham số truy vấn không hợp lệ ({err}).")).into()
            }))
            .route("/openapi.json", web::get().to(openapi))
            .configure(session::api)
            .configure(rounds::api)
            .configure(round_life::api)
            .configure(reports::api)
            .configure(units::api)
            .configure(rosters::api)
            .configure(excel::api)
            .configure(document::api)
            .configure(admin::api)
            .configure(accounts::api)
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(AppError::NotFound("Không tìm thấy địa chỉ này.".into()))
            })),
    );
    cfg.configure(page::configure)
        .configure(session::pages)
        .configure(home::pages)
        .configure(rounds::pages)
        .configure(round_life::pages)
        .configure(reports::pages)
        .configure(units::pages)
        .configure(rosters::pages)
        .configure(excel::pages)
        .configure(document::pages)
        .configure(admin::pages)
        .configure(accounts::pages)
        .default_service(web::to(page::not_found));
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI)
}

/// Runs blocking database work off the async executor. A request that wrote is answered once
/// its writes are on disk, which it awaits as a task: its connection, its job's place and its
/// thread serve the next request meanwhile.
pub async fn db<T, F>(state: &web::Data<AppState>, f: F) -> AppResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut Conn, &AppState) -> AppResult<T> + Send + 'static,
{
    let turn = state
        .gate
        .enter()
        .await
        .map_err(|_| AppError::Busy { retry_after: 2 })?;
    let (running, _admitted) = turn.split();
    let st = state.clone();
    let (value, served) = web::block(move || {
        let _running = running;
        let mut conn = match st.pool.get() {
            Ok(conn) => conn,
            Err(e) => return (Err(e.into()), Default::default()),
        };
        st.writes
            .counting(|| crate::db::writer::serving(st.writer.as_ref(), || f(&mut conn, &st)))
    })
    .await
    .map_err(|e| AppError::Unexpected(anyhow::anyhow!("blocking task failed: {e}")))?;
    if let Some(writer) = &state.writer {
        writer.durable(served.group).await?;
        if served.early {
            state.writes.moved();
        }
    }
    value
}

/// What a request about one unit in one round works on: the person asking, the round and the
/// unit, looked up once and access-checked.
pub struct Scope {
    pub user: CurrentUser,
    pub ctx: RoundCtx,
    pub unit: Unit,
}

impl Scope {
    /// The round and the unit named by `(round, code)`, once `user` is known to see both.
    pub fn of(
        conn: &mut Conn,
        st: &AppState,
        user: CurrentUser,
        (round, code): (i32, String),
    ) -> AppResult<Scope> {
        let ctx = round_for(conn, &st.catalog, &user, round, st.clock.now())?;
        let unit = unit_for(conn, &user, &ctx, &code)?;
        Ok(Scope { user, ctx, unit })
    }
}

/// Runs `f` off the async executor on the round and the unit a `…/{round}/…/{unit}` path names,
/// once this person is known to see both. A round or a unit outside their reach gets the same
/// answer as one that does not exist.
pub async fn on_unit<T, F>(
    state: &web::Data<AppState>,
    user: impl session::Person,
    path: (i32, String),
    f: F,
) -> AppResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut Conn, &AppState, Scope) -> AppResult<T> + Send + 'static,
{
    db(state, move |conn, st| {
        let user = user.person(conn, st)?;
        let scope = Scope::of(conn, st, user, path)?;
        f(conn, st, scope)
    })
    .await
}

/// [`on_unit`] for a request about a whole round (`…/{round}`).
pub async fn on_round<T, F>(
    state: &web::Data<AppState>,
    user: CurrentUser,
    round: i32,
    f: F,
) -> AppResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut Conn, &AppState, CurrentUser, RoundCtx) -> AppResult<T> + Send + 'static,
{
    db(state, move |conn, st| {
        let ctx = round_for(conn, &st.catalog, &user, round, st.clock.now())?;
        f(conn, st, user, ctx)
    })
    .await
}

/// `?provisional=true` (API) or `?tam-tinh=1` (pages): count submitted, not yet accepted
/// reports too, marked as provisional.
#[derive(Debug, Default, Deserialize)]
pub struct ProvisionalQuery {
    #[serde(default)]
    provisional: Option<String>,
    #[serde(default, rename = "tam-tinh")]
    tam_tinh: Option<String>,
    /// The indicator charted by unit in an export (`?chi-tieu=KEY`).
    #[serde(default, rename = "chi-tieu")]
    pub indicator: Option<String>,
}

impl ProvisionalQuery {
    pub fn provisional(&self) -> bool {
        [&self.provisional, &self.tam_tinh]
            .into_iter()
            .flatten()
            .any(|v| matches!(v.as_str(), "1" | "true" | "co"))
    }
}

pub fn too_large(limit: usize) -> AppError {
    AppError::TooLarge(format!(
        "Tệp tải lên lớn quá {} MB; không có gì được lưu.",
        limit >> 20
    ))
}

pub fn upload_failed(e: impl std::fmt::Display) -> AppError {
    AppError::BadRequest(format!("Tải tệp lên bị lỗi ({e})."))
}

/// A request body, read up to `limit` bytes and refused past it: a declared length over the
/// limit is refused before anything is read.
pub async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> AppResult<Vec<u8>> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(upload_failed)?;
        if body.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Every file of a page's multipart form, whole, with its name: each at most `file_limit`
/// bytes, all together at most `total_limit`. The form's anti-forgery token is checked too.
pub async fn form_files(
    req: &HttpRequest,
    mut form: actix_multipart::Multipart,
    file_limit: usize,
    total_limit: usize,
) -> AppResult<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    let mut total = 0usize;
    let mut token: Option<String> = None;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(upload_failed)?;
        let Some(name) = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_owned)
        else {
            if field.name() == Some(CSRF_FIELD) {
                let mut value = Vec::new();
                while let Some(chunk) = field.next().await {
                    value.extend_from_slice(&chunk.map_err(upload_failed)?);
                    if value.len() > 256 {
                        return Err(forged());
                    }
                }
                token = String::from_utf8(value).ok();
            }
            continue;
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(upload_failed)?;
            total += chunk.len();
            if total > total_limit {
                return Err(too_large(total_limit));
            }
            if bytes.len() + chunk.len() > file_limit {
                return Err(too_large(file_limit));
            }
            bytes.extend_from_slice(&chunk);
        }
        if !name.is_empty() && !bytes.is_empty() {
            files.push((name, bytes));
        }
    }
    if !csrf_ok(req, token.as_deref()) {
        return Err(forged());
    }
    if files.is_empty() {
        return Err(AppError::invalid(vec![FieldError {
            field: "file".into(),
            message: "Chưa chọn tệp để tải lên.".into(),
        }]));
    }
    Ok(files)
}

/// validator's errors as our field errors, keeping its (Vietnamese) messages.
pub fn field_errors(errors: &validator::ValidationErrors) -> Vec<FieldError> {
    let mut out: Vec<FieldError> = errors
        .field_errors()
        .into_iter()
        .flat_map(|(field, errs)| {
            errs.iter().map(move |e| FieldError {
                field: field.to_string(),
                message: e.message.as_ref().map_or_else(
                    || format!("Trường «{field}» không hợp lệ."),
                    |m| m.to_string(),
                ),
            })
        })
        .collect();
    out.sort_by(|a, b| a.field.cmp(&b.field));
    out
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'static str,
    message: String,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    fields: &'a [FieldError],
}

/// An error as the API answers it: the status of its kind, and `{error, message, fields?}`.
/// The pages render their own error page from the same error (`page::PageError`).
impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Unauthenticated | AppError::BadCredentials => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) | AppError::PasswordChangeRequired => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Unexpected(e) = self {
            tracing::error!(error = ?e, "request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        if let AppError::Throttled { retry_after, .. } | AppError::Busy { retry_after } = self {
            response.insert_header((
                actix_web::http::header::RETRY_AFTER,
                retry_after.to_string(),
            ));
        }
        response.json(ErrorBody {
            error: self.code(),
            message: self.user_message(),
            fields: self.fields(),
        })
    }
}
