//! Workbooks, down and up: the consolidated export of a round, the offline form of a report, and
//! its upload (one commune's form, or a board's bulk upload of its communes' forms), as JSON
//! endpoints and from the pages.

use std::io::{BufWriter, Read, Seek, SeekFrom, Write};

use actix_web::body::SizedStream;
use actix_web::http::{StatusCode, header};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;

use super::page::{Flash, PageResult, PageUser, UserVm, all_messages, html, redirect};
use super::reports::render_report;
use super::{ProvisionalQuery, form_files, on_unit, read_body};
use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::service::filing::Entry;
use crate::service::{CurrentUser, export, upload};

pub fn api(cfg: &mut web::ServiceConfig) {
    cfg.route("/rounds/{round}/export/{file}", web::get().to(export_json))
        .route(
            "/rounds/{round}/form/{file}",
            web::get().to(offline_form_json),
        )
        .route(
            "/rounds/{round}/bulk/{unit}",
            web::post().to(bulk_upload_json),
        )
        .route(
            "/rounds/{round}/reports/{unit}/upload",
            web::post().to(upload_json),
        );
}

pub fn pages(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/ky-bao-cao/{round}/xuat/{file}",
        web::get().to(export_page),
    )
    .route(
        "/ky-bao-cao/{round}/mau/{file}",
        web::get().to(offline_form_page),
    )
    .route(
        "/ky-bao-cao/{round}/don-vi/{unit}/tai-len-nhieu",
        web::post().to(bulk_upload_page),
    )
    .route(
        "/ky-bao-cao/{round}/bao-cao/{unit}/tai-len",
        web::post().to(upload_page),
    );
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// `{round}/…/{code}.xlsx`: the round and the unit code a download names.
fn xlsx_path((round, file): (i32, String)) -> AppResult<(i32, String)> {
    let code = file
        .strip_suffix(".xlsx")
        .ok_or_else(|| AppError::NotFound("Không tìm thấy tệp này.".into()))?;
    Ok((round, code.to_owned()))
}

/// The workbook download, shared by the API and the pages.
async fn export_response(
    state: &web::Data<AppState>,
    user: CurrentUser,
    path: (i32, String),
    query: &ProvisionalQuery,
) -> AppResult<HttpResponse> {
    let provisional = query.provisional();
    let indicator = query.indicator.clone();
    // The workbook goes to an anonymous temporary file and is sent from there in chunks: a
    // national round's workbook is never held in memory whole.
    let (file, file_name) = on_unit(state, user, xlsx_path(path)?, move |conn, _, s| {
        let mut data = export::export_data(&s.ctx, &s.unit, provisional);
        data.chart_indicator = indicator;
        let mut file = tempfile::tempfile().map_err(anyhow::Error::from)?;
        let mut out = BufWriter::new(&mut file);
        export::write_workbook(conn, &s.user, &s.ctx, &s.unit, &data, &mut out)?;
        out.flush().map_err(anyhow::Error::from)?;
        drop(out);
        file.seek(SeekFrom::Start(0)).map_err(anyhow::Error::from)?;
        Ok((file, data.file_name()))
    })
    .await?;
    let len = file.metadata().map_err(anyhow::Error::from)?.len();
    let chunks = futures_util::stream::unfold(file, |mut file| async move {
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf) {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(Bytes::from(buf)), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    });
    Ok(HttpResponse::Ok()
        .content_type(XLSX)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file_name}\""),
        ))
        .body(SizedStream::new(len, chunks)))
}

/// The offline form download, shared by the API and the pages; `CODE.zip` is the forms of
/// every commune below the unit at once.
async fn offline_form_response(
    state: &web::Data<AppState>,
    user: CurrentUser,
    path: (i32, String),
) -> AppResult<HttpResponse> {
    if let Some(code) = path.1.strip_suffix(".zip") {
        let (bytes, file_name) = on_unit(state, user, (path.0, code.to_owned()), |conn, _, s| {
            let bytes = upload::forms_zip(conn, &s.user, &s.ctx, &s.unit)?;
            Ok((
                bytes,
                format!("mau-nhap-{}-ky-{}.zip", s.unit.code, s.ctx.round.id),
            ))
        })
        .await?;
        return Ok(HttpResponse::Ok()
            .content_type("application/zip")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ))
            .body(bytes));
    }
    let (bytes, file_name) = on_unit(state, user, xlsx_path(path)?, |conn, _, s| {
        let bytes = upload::offline_form(conn, &s.user, &s.ctx, &s.unit)?;
        let name = format!("mau-nhap-{}-ky-{}.xlsx", s.unit.code, s.ctx.round.id);
        Ok((bytes, name))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type(XLSX)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file_name}\""),
        ))
        .body(bytes))
}

// JSON API

async fn export_json(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, String)>,
    query: web::Query<ProvisionalQuery>,
) -> AppResult<HttpResponse> {
    export_response(&state, user, path.into_inner(), &query).await
}

async fn offline_form_json(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, String)>,
) -> AppResult<HttpResponse> {
    offline_form_response(&state, user, path.into_inner()).await
}

/// The filled form, as the request body (the bytes of the .xlsx, .xls or .ods file).
async fn upload_json(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, String)>,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let body = read_body(&req, payload, state.limits.form_bytes).await?;
    let (view, notes) = on_unit(&state, user, path.into_inner(), move |conn, _, s| {
        upload::upload_form(conn, &s.user, &s.ctx, &s.unit, &body, Entry::Filer)
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "report": view,
        "converted": notes.converted,
        "ignored": notes.ignored,
    })))
}

/// Many communes' forms at once: the body is one .zip of workbooks (or a single workbook).
async fn bulk_upload_json(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, String)>,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let body = read_body(&req, payload, state.limits.upload_bytes).await?;
    let results = on_unit(&state, user, path.into_inner(), move |conn, st, s| {
        let files = vec![("tai-len".into(), body)];
        upload::bulk_upload(conn, &s.user, &s.ctx, &s.unit, files, &st.limits)
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "results": results })))
}

// Pages

async fn export_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<(i32, String)>,
    query: web::Query<ProvisionalQuery>,
) -> PageResult {
    Ok(export_response(&state, user, path.into_inner(), &query).await?)
}

async fn offline_form_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<(i32, String)>,
) -> PageResult {
    Ok(offline_form_response(&state, user, path.into_inner()).await?)
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
    results: Vec<upload::BulkResult>,
}

async fn bulk_upload_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<(i32, String)>,
    req: HttpRequest,
    form: actix_multipart::Multipart,
) -> PageResult {
    let vm = UserVm::from(&user);
    let (round_id, code) = path.into_inner();
    let limits = state.limits;
    let files = form_files(&req, form, limits.upload_bytes, limits.upload_bytes).await?;
    let (unit_name, results) = on_unit(&state, user, (round_id, code.clone()), |conn, st, s| {
        let results = upload::bulk_upload(conn, &s.user, &s.ctx, &s.unit, files, &st.limits)?;
        Ok((s.unit.name, results))
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

async fn upload_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<(i32, String)>,
    req: HttpRequest,
    form: actix_multipart::Multipart,
) -> PageResult {
    let (round_id, code) = path.into_inner();
    let path = (round_id, code.clone());
    let limit = state.limits.form_bytes;
    let outcome = match form_files(&req, form, limit, limit).await {
        Ok(mut files) => {
            let (_, bytes) = files.swap_remove(0);
            on_unit(&state, user.clone(), path.clone(), move |conn, _, s| {
                upload::upload_form(conn, &s.user, &s.ctx, &s.unit, &bytes, Entry::Filer)
            })
            .await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok((_, notes)) if !notes.is_empty() => {
            let message = format!(
                "Đã nhận tệp Excel: số liệu đã được lưu thành bản nháp. {}",
                notes.all().collect::<Vec<_>>().join(" ")
            );
            render_report(&state, user, path, None, Flash::notice(Some(message))).await
        }
        Ok(_) => Ok(redirect(&format!(
            "/ky-bao-cao/{round_id}/bao-cao/{code}?ok=tai-len"
        ))),
        Err(
            e @ (AppError::Invalid { .. }
            | AppError::Conflict { .. }
            | AppError::BadRequest(_)
            | AppError::TooLarge(_)),
        ) => {
            let status = e.status_code();
            let message = match &e {
                AppError::Invalid { .. } => format!(
                    "Tệp chưa được nhận, báo cáo không thay đổi. {}",
                    all_messages(&e)
                ),
                other => other.user_message(),
            };
            render_report(&state, user, path, None, Flash::error(message, status)).await
        }
        Err(e) => Err(e.into()),
    }
}
