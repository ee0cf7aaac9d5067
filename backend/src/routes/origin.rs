//! Requests that change something must come from our own pages. A browser says where a
//! request comes from (`Sec-Fetch-Site`, `Origin`); one sent by another site's page, with the
//! person's cookie attached, is refused before any handler runs, API and pages alike. Requests
//! without either header (command-line clients, scripts, old browsers) pass here: the pages'
//! forms carry a per-session token as well (`page::CheckedForm`).

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError, web};

use super::page::PageError;
use crate::AppState;
use crate::error::AppError;

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether the request says it came from another site.
fn cross_site(req: &ServiceRequest, public_origin: Option<&str>) -> bool {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        // `none`: typed or bookmarked by the person; `same-origin`: our own page.
        return !matches!(site, "same-origin" | "none");
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let Ok(origin) = origin.to_str() else {
        return true;
    };
    let origin = origin.to_ascii_lowercase();
    match public_origin {
        Some(expected) => origin != expected,
        // Without a public URL, our own origin is the host the request was sent to.
        None => {
            let host = req
                .headers()
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(str::to_ascii_lowercase);
            let without_scheme = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"));
            host.is_none() || without_scheme != host.as_deref()
        }
    }
}

/// Refuses a state-changing request that another site's page sent.
pub async fn same_origin_only(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let public_origin = req
        .app_data::<web::Data<AppState>>()
        .and_then(|s| s.public_origin.clone());
    if changes_state(req.method()) && cross_site(&req, public_origin.as_deref()) {
        tracing::warn!(path = %req.path(), "cross-site request refused");
        let error = AppError::Forbidden(
            "Yêu cầu được gửi từ một trang web khác nên bị từ chối. Xin thao tác ngay trên trang của hệ thống."
                .into(),
        );
        let response = if req.path().starts_with("/api/") {
            error.error_response()
        } else {
            PageError(error).error_response()
        };
        return Ok(req.into_response(response).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}
