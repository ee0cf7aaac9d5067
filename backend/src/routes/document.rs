//! The drafted consolidated report of a district or the province, as a Word document to
//! finish and sign: from the unit page and the API.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use super::page::{PageResult, PageUser};
use super::{ProvisionalQuery, on_unit};
use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::service::{CurrentUser, official};

const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

pub fn api(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/rounds/{round}/document/{file}",
        web::get().to(document_json),
    );
}

pub fn pages(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/ky-bao-cao/{round}/bao-cao-tong-hop/{file}",
        web::get().to(document_page),
    );
}

async fn document(
    state: &web::Data<AppState>,
    user: CurrentUser,
    (round, file): (i32, String),
    provisional: bool,
) -> AppResult<HttpResponse> {
    let code = file
        .strip_suffix(".docx")
        .ok_or_else(|| AppError::NotFound("Không tìm thấy tệp này.".into()))?
        .to_owned();
    let (bytes, name) = on_unit(state, user, (round, code), move |conn, st, s| {
        let drafted = official::draft(conn, &st.catalog, &s.user, &s.ctx, &s.unit, provisional)?;
        let bytes = crate::document::write(&drafted.report)?;
        Ok((bytes, drafted.file_name))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type(DOCX)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(bytes))
}

async fn document_json(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, String)>,
    query: web::Query<ProvisionalQuery>,
) -> AppResult<HttpResponse> {
    document(&state, user, path.into_inner(), query.provisional()).await
}

async fn document_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<(i32, String)>,
    query: web::Query<ProvisionalQuery>,
) -> PageResult {
    Ok(document(&state, user, path.into_inner(), query.provisional()).await?)
}
