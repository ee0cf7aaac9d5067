//! HTTP: the JSON API and the HTML pages side by side, over the same service operations.

pub mod api;
pub mod pages;
pub mod roster_pages;

use std::io::{BufWriter, Read, Seek, SeekFrom, Write};

use actix_web::body::SizedStream;
use actix_web::http::header;
use actix_web::web::Bytes;
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
    // The workbook goes to an anonymous temporary file and is sent from there in chunks: a
    // national round's workbook is never held in memory whole.
    let (file, file_name) = db(state, move |conn, st| {
        let ctx = service::round_for(conn, &st.catalog, &user, round_id, st.clock.now())?;
        let unit = service::unit_for(conn, &user, &ctx, &code)?;
        let mut data = excel::ExportData::new(&ctx, &unit, provisional);
        data.chart_indicator = indicator;
        let mut file = tempfile::tempfile().map_err(anyhow::Error::from)?;
        let mut out = BufWriter::new(&mut file);
        excel::write_workbook(conn, &user, &ctx, &data, &mut out)?;
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
        .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file_name}\""),
        ))
        .body(SizedStream::new(len, chunks)))
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
