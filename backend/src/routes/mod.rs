//! HTTP: the JSON API and the HTML pages side by side, over the same service operations.

pub mod api;
pub mod pages;
pub mod roster_pages;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::db::Conn;
use crate::error::AppResult;
use crate::{excel, service};

/// Runs blocking database work off the async executor.
pub async fn db<T, F>(state: &web::Data<AppState>, f: F) -> AppResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut Conn, &AppState) -> AppResult<T> + Send + 'static,
{
    let state = state.clone();
    web::block(move || {
        let mut conn = state.pool.get()?;
        f(&mut conn, &state)
    })
    .await?
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

/// The workbook download, shared by the API and the pages.
pub async fn export_response(
    state: &web::Data<AppState>,
    user: CurrentUser,
    round_id: i32,
    code: String,
    query: &ProvisionalQuery,
) -> AppResult<HttpResponse> {
    let provisional = query.provisional();
    let indicator = query.indicator.clone();
    let (bytes, file_name) = db(state, move |conn, st| {
        let ctx = service::round_for(conn, &st.catalog, &user, round_id, st.clock.now())?;
        let unit = service::unit_for(conn, &user, &ctx, &code)?;
        let mut data = excel::ExportData::load(conn, &user, &ctx, &unit, provisional)?;
        data.chart_indicator = indicator;
        let bytes = excel::workbook(&data)?;
        Ok((bytes, data.file_name()))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file_name}\""),
        ))
        .body(bytes))
}

/// The offline form download, shared by the API and the pages.
pub async fn offline_form_response(
    state: &web::Data<AppState>,
    user: CurrentUser,
    round_id: i32,
    code: String,
) -> AppResult<HttpResponse> {
    let (bytes, file_name) = db(state, move |conn, st| {
        let ctx = service::round_for(conn, &st.catalog, &user, round_id, st.clock.now())?;
        let unit = service::unit_for(conn, &user, &ctx, &code)?;
        let bytes = service::offline_form(conn, &user, &ctx, &unit)?;
        Ok((
            bytes,
            format!("mau-nhap-{}-ky-{}.xlsx", unit.code, round_id),
        ))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file_name}\""),
        ))
        .body(bytes))
}
