//! The administrator's pages and API: the backups, the units (add, rename, close), and the
//! audit of administration (which the boards read for their own subtree too).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use super::db;
use super::page::{
    CheckedForm, NoticeQuery, PageResult, PageUser, UserVm, form_date, form_failure, html, redirect,
};
use crate::AppState;
use crate::domain::{Role, vn};
use crate::error::{AppError, AppResult};
use crate::service::unit_admin::{self, NewUnitInput};
use crate::service::{CurrentUser, audit_trail, backups};

pub fn api(cfg: &mut web::ServiceConfig) {
    cfg.route("/backups", web::get().to(backups_json))
        .route("/admin/audit", web::get().to(audit_json))
        .route("/units", web::post().to(add_unit_json))
        .route("/units/{unit}", web::put().to(rename_unit_json))
        .route("/units/{unit}/close", web::post().to(close_unit_json));
}

pub fn pages(cfg: &mut web::ServiceConfig) {
    cfg.route("/quan-tri", web::get().to(admin_page))
        .route("/quan-tri/don-vi/them", web::post().to(add_unit_page))
        .route("/quan-tri/don-vi/doi-ten", web::post().to(rename_unit_page))
        .route("/quan-tri/don-vi/ket-thuc", web::post().to(close_unit_page))
        .route("/nhat-ky-quan-tri", web::get().to(audit_page));
}

/// How many acts the audit pages list.
const AUDIT_LIMIT: i64 = 500;

// JSON API

async fn backups_json(state: web::Data<AppState>, user: CurrentUser) -> AppResult<HttpResponse> {
    let overview = backups::overview(&user, &state.backups)?;
    Ok(HttpResponse::Ok().json(overview))
}

async fn audit_json(state: web::Data<AppState>, user: CurrentUser) -> AppResult<HttpResponse> {
    let entries = db(&state, move |conn, _| {
        audit_trail::administration(conn, &user, AUDIT_LIMIT)
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "entries": entries })))
}

async fn add_unit_json(
    state: web::Data<AppState>,
    user: CurrentUser,
    input: web::Json<NewUnitInput>,
) -> AppResult<HttpResponse> {
    let input = input.into_inner();
    let unit = db(&state, move |conn, st| {
        unit_admin::add_unit(conn, &user, &input, st.clock.now())
    })
    .await?;
    Ok(HttpResponse::Created().json(unit))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenameInput {
    pub name: String,
}

async fn rename_unit_json(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    input: web::Json<RenameInput>,
) -> AppResult<HttpResponse> {
    let (code, name) = (path.into_inner(), input.into_inner().name);
    let unit = db(&state, move |conn, st| {
        unit_admin::rename_unit(conn, &user, &code, &name, st.clock.now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(unit))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseInput {
    /// The last day the unit exists.
    pub on: NaiveDate,
}

async fn close_unit_json(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    input: web::Json<CloseInput>,
) -> AppResult<HttpResponse> {
    let (code, on) = (path.into_inner(), input.into_inner().on);
    let unit = db(&state, move |conn, st| {
        unit_admin::close_unit(conn, &user, &code, on, st.clock.now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(unit))
}

// Pages

#[derive(Debug, Clone, Default, Deserialize)]
struct UnitForm {
    #[serde(default)]
    parent: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    on: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    user: Option<UserVm>,
    dir: Option<String>,
    every_hours: u64,
    keep: usize,
    last_ok: Option<String>,
    last_error: Option<String>,
    /// (file, size as read)
    files: Vec<(String, String)>,
    form: UnitForm,
    notice: Option<String>,
    error: Option<String>,
    errors: HashMap<String, String>,
}

fn megabytes(bytes: u64) -> String {
    format!("{} MB", vn::number(bytes as f64 / 1_048_576.0, 1))
}

fn render_admin(
    state: &AppState,
    user: &CurrentUser,
    form: UnitForm,
    notice: Option<String>,
    failure: Option<AppError>,
) -> PageResult {
    let overview = backups::overview(user, &state.backups)?;
    let s = &overview.status;
    let (status, error, errors) = form_failure(failure);
    Ok(html(
        status,
        &AdminPage {
            user: Some(UserVm::from(user)),
            dir: s.dir.as_ref().map(|d| d.display().to_string()),
            every_hours: s.every_hours,
            keep: s.keep,
            last_ok: s.last_ok.as_ref().map(|t| {
                format!(
                    "{}, tệp «{}» ({})",
                    vn::datetime(t.at),
                    t.path.display(),
                    megabytes(t.bytes)
                )
            }),
            last_error: s
                .last_error
                .as_ref()
                .map(|(at, e)| format!("{} – {e}", vn::datetime(*at))),
            files: overview
                .files
                .iter()
                .map(|f| (f.name.clone(), megabytes(f.bytes)))
                .collect(),
            form,
            notice,
            error,
            errors,
        },
    ))
}

async fn admin_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    query: web::Query<NoticeQuery>,
) -> PageResult {
    let notice = match query.ok.as_deref() {
        Some("them") => Some("Đã thêm đơn vị.".into()),
        Some("doi-ten") => Some("Đã đổi tên đơn vị.".into()),
        Some("ket-thuc") => Some("Đã kết thúc đơn vị.".into()),
        _ => None,
    };
    let form = UnitForm {
        kind: "commune".into(),
        ..UnitForm::default()
    };
    render_admin(&state, &user, form, notice, None)
}

/// Runs one change to the units from the admin page; a refusal re-shows the page with it.
async fn unit_change<F>(
    state: web::Data<AppState>,
    user: CurrentUser,
    form: UnitForm,
    done: &'static str,
    change: F,
) -> PageResult
where
    F: FnOnce(&mut crate::db::Conn, &AppState, &CurrentUser, &UnitForm) -> AppResult<()>
        + Send
        + 'static,
{
    let (actor, typed) = (user.clone(), form.clone());
    let outcome = db(&state, move |conn, st| change(conn, st, &actor, &typed)).await;
    match outcome {
        Ok(()) => Ok(redirect(&format!("/quan-tri?ok={done}"))),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            render_admin(&state, &user, form, None, Some(e))
        }
        Err(e) => Err(e.into()),
    }
}

async fn add_unit_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    CheckedForm(form): CheckedForm<UnitForm>,
) -> PageResult {
    unit_change(state, user, form, "them", |conn, st, user, f| {
        let input = NewUnitInput {
            parent: f.parent.clone(),
            code: f.code.clone(),
            name: f.name.clone(),
            kind: f.kind.clone(),
            valid_from: None,
        };
        unit_admin::add_unit(conn, user, &input, st.clock.now()).map(|_| ())
    })
    .await
}

async fn rename_unit_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    CheckedForm(form): CheckedForm<UnitForm>,
) -> PageResult {
    unit_change(state, user, form, "doi-ten", |conn, st, user, f| {
        unit_admin::rename_unit(conn, user, &f.code, &f.name, st.clock.now()).map(|_| ())
    })
    .await
}

async fn close_unit_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    CheckedForm(form): CheckedForm<UnitForm>,
) -> PageResult {
    unit_change(state, user, form, "ket-thuc", |conn, st, user, f| {
        let mut errors = Vec::new();
        let Some(on) = form_date("on", &f.on, true, &mut errors) else {
            return Err(AppError::invalid(errors));
        };
        unit_admin::close_unit(conn, user, &f.code, on, st.clock.now()).map(|_| ())
    })
    .await
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    user: Option<UserVm>,
    admin: bool,
    scope: String,
    /// (at, actor, action, subject, unit)
    rows: Vec<(String, String, &'static str, String, String)>,
}

async fn audit_page(state: web::Data<AppState>, PageUser(user): PageUser) -> PageResult {
    let vm = UserVm::from(&user);
    let (admin, scope) = (user.role == Role::Admin, user.unit.name.clone());
    let entries = db(&state, move |conn, _| {
        audit_trail::administration(conn, &user, AUDIT_LIMIT)
    })
    .await?;
    Ok(html(
        StatusCode::OK,
        &AuditPage {
            user: Some(vm),
            admin,
            scope,
            rows: entries
                .into_iter()
                .map(|e| {
                    (
                        vn::datetime(e.at),
                        e.actor,
                        e.action_label,
                        e.subject,
                        e.unit.unwrap_or_default(),
                    )
                })
                .collect(),
        },
    ))
}
