//! The administrator's pages and API: for now the backups (accounts and units come next).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::page::{PageResult, PageUser, UserVm, html};
use crate::AppState;
use crate::domain::vn;
use crate::error::AppResult;
use crate::service::{CurrentUser, backups};

pub fn api(cfg: &mut web::ServiceConfig) {
    cfg.route("/backups", web::get().to(backups_json));
}

pub fn pages(cfg: &mut web::ServiceConfig) {
    cfg.route("/quan-tri", web::get().to(admin_page));
}

async fn backups_json(state: web::Data<AppState>, user: CurrentUser) -> AppResult<HttpResponse> {
    let overview = backups::overview(&user, &state.backups)?;
    Ok(HttpResponse::Ok().json(overview))
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
}

fn megabytes(bytes: u64) -> String {
    format!("{} MB", vn::number(bytes as f64 / 1_048_576.0, 1))
}

async fn admin_page(state: web::Data<AppState>, PageUser(user): PageUser) -> PageResult {
    let overview = backups::overview(&user, &state.backups)?;
    let s = &overview.status;
    Ok(html(
        StatusCode::OK,
        &AdminPage {
            user: Some(UserVm::from(&user)),
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
        },
    ))
}
