//! A round's life after it is opened, for its owner: extending the deadlines, closing it (once
//! confirmed), reopening it, and its history. JSON and pages side by side.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::on_round;
use super::page::{
    CheckedForm, ConfirmField, ConfirmPage, PageResult, PageUser, UserVm, form_date, html, redirect,
};
use crate::AppState;
use crate::domain::vn;
use crate::error::{AppError, AppResult};
use crate::service::round_life::{self, DeadlinesInput};
use crate::service::rounds as service;
use crate::service::{CurrentUser, RoundCtx, rollup};

pub fn api(cfg: &mut web::ServiceConfig) {
    cfg.route("/rounds/{round}/deadlines", web::post().to(extend_json))
        .route("/rounds/{round}/reopen", web::post().to(reopen_json))
        .route("/rounds/{round}/history", web::get().to(history_json));
}

pub fn pages(cfg: &mut web::ServiceConfig) {
    cfg.route("/ky-bao-cao/{round}/dong", web::post().to(close_page))
        .route("/ky-bao-cao/{round}/mo-lai", web::post().to(reopen_page))
        .route("/ky-bao-cao/{round}/gia-han", web::get().to(extend_form))
        .route("/ky-bao-cao/{round}/gia-han", web::post().to(extend_page));
}

// JSON API

async fn extend_json(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<i32>,
    input: web::Json<DeadlinesInput>,
) -> AppResult<HttpResponse> {
    let input = input.into_inner();
    on_round(
        &state,
        user,
        path.into_inner(),
        move |conn, _, user, ctx| round_life::extend_deadlines(conn, &user, &ctx, &input),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn reopen_json(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<i32>,
) -> AppResult<HttpResponse> {
    on_round(&state, user, path.into_inner(), |conn, _, user, ctx| {
        round_life::reopen_round(conn, &user, &ctx)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The round's history, for its owner.
async fn history_json(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let events = on_round(&state, user, path.into_inner(), |conn, _, user, ctx| {
        owner_only(&user, &ctx)?;
        round_life::round_history(conn, &ctx)
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "history": events })))
}

fn owner_only(user: &CurrentUser, ctx: &RoundCtx) -> AppResult<()> {
    if user.unit.id == ctx.owner.id && user.role.reviews() {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Chỉ đơn vị đã mở kỳ báo cáo mới xem được lịch sử của kỳ.".into(),
        ))
    }
}

// Pages

fn unit_page(ctx: &RoundCtx) -> String {
    format!("/ky-bao-cao/{}/don-vi/{}", ctx.round.id, ctx.owner.code)
}

/// Closing a round: asked first, with what is still missing.
async fn close_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<i32>,
    CheckedForm(form): CheckedForm<ConfirmField>,
) -> PageResult {
    let round_id = path.into_inner();
    let vm = UserVm::from(&user);
    if form.confirmed() {
        let back = on_round(&state, user, round_id, |conn, _, user, ctx| {
            service::close_round(conn, &user, &ctx)?;
            Ok(unit_page(&ctx))
        })
        .await?;
        return Ok(redirect(&back));
    }
    let (ctx, missing) = on_round(&state, user, round_id, |conn, _, user, ctx| {
        owner_only(&user, &ctx)?;
        let missing = rollup::rollup(conn, &user, &ctx, &ctx.owner, false)?
            .total
            .completeness
            .missing;
        Ok((ctx, missing))
    })
    .await?;
    let mut details = vec![
        format!("Kỳ báo cáo: {}", ctx.round.title),
        format!(
            "Hạn nộp cấp xã: {} · {}: {}",
            vn::datetime(ctx.round.commune_deadline),
            ctx.upper_deadline_label(),
            vn::datetime(ctx.round.district_deadline)
        ),
    ];
    if missing > 0 {
        details.push(format!(
            "Còn {} đơn vị chưa nộp báo cáo.",
            vn::int(i64::from(missing))
        ));
    }
    let back = unit_page(&ctx);
    Ok(html(
        StatusCode::OK,
        &ConfirmPage {
            user: Some(vm),
            title: "Đóng kỳ báo cáo".into(),
            question: format!("Đóng kỳ báo cáo «{}»?", ctx.round.title),
            details,
            consequence: "Sau khi đóng, không đơn vị nào nộp, sửa hay xem xét báo cáo của kỳ này được nữa. Đơn vị mở kỳ có thể mở lại kỳ khi cần.".into(),
            action: format!("/ky-bao-cao/{round_id}/dong"),
            hidden: Vec::new(),
            yes: "Đóng kỳ báo cáo".into(),
            no: "Không đóng, quay lại".into(),
            back,
        },
    ))
}

async fn reopen_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<i32>,
    _: CheckedForm<ConfirmField>,
) -> PageResult {
    let back = on_round(&state, user, path.into_inner(), |conn, _, user, ctx| {
        round_life::reopen_round(conn, &user, &ctx)?;
        Ok(unit_page(&ctx))
    })
    .await?;
    Ok(redirect(&format!("{back}?ok=mo-lai-ky")))
}

#[derive(Template)]
#[template(path = "deadlines.html")]
struct DeadlinesPage {
    user: Option<UserVm>,
    round_id: i32,
    round_title: String,
    back: String,
    commune_now: String,
    district_now: String,
    /// Who answers to the second deadline.
    upper_deadline: &'static str,
    commune_deadline: String,
    district_deadline: String,
    reason: String,
    errors: BTreeMap<String, String>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct DeadlinesForm {
    #[serde(default)]
    commune_deadline: String,
    #[serde(default)]
    district_deadline: String,
    #[serde(default)]
    reason: String,
}

async fn render_extend(
    state: &web::Data<AppState>,
    user: CurrentUser,
    round_id: i32,
    form: Option<DeadlinesForm>,
    failure: Option<AppError>,
) -> PageResult {
    let vm = UserVm::from(&user);
    let ctx = on_round(state, user, round_id, |_, _, user, ctx| {
        owner_only(&user, &ctx)?;
        Ok(ctx)
    })
    .await?;
    let r = &ctx.round;
    let day = |t| vn::date_short(vn::local(t).date());
    let form = form.unwrap_or_else(|| DeadlinesForm {
        commune_deadline: day(r.commune_deadline),
        district_deadline: day(r.district_deadline),
        reason: String::new(),
    });
    let (status, errors, error) = match failure {
        None => (StatusCode::OK, BTreeMap::new(), None),
        Some(AppError::Invalid { message, fields }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            fields.into_iter().map(|f| (f.field, f.message)).collect(),
            Some(message),
        ),
        Some(other) => (
            actix_web::ResponseError::status_code(&other),
            BTreeMap::new(),
            Some(other.user_message()),
        ),
    };
    Ok(html(
        status,
        &DeadlinesPage {
            user: Some(vm),
            round_id,
            round_title: r.title.clone(),
            back: unit_page(&ctx),
            commune_now: vn::datetime(r.commune_deadline),
            district_now: vn::datetime(r.district_deadline),
            upper_deadline: ctx.upper_deadline_label(),
            commune_deadline: form.commune_deadline,
            district_deadline: form.district_deadline,
            reason: form.reason,
            errors,
            error,
        },
    ))
}

async fn extend_form(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<i32>,
) -> PageResult {
    render_extend(&state, user, path.into_inner(), None, None).await
}

async fn extend_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<i32>,
    CheckedForm(form): CheckedForm<DeadlinesForm>,
) -> PageResult {
    let round_id = path.into_inner();
    let mut errors = Vec::new();
    let commune = form_date(
        "commune_deadline",
        &form.commune_deadline,
        true,
        &mut errors,
    );
    let district = form_date(
        "district_deadline",
        &form.district_deadline,
        true,
        &mut errors,
    );
    let (Some(commune_deadline), Some(district_deadline)) = (commune, district) else {
        let failure = AppError::invalid(errors);
        return render_extend(&state, user, round_id, Some(form), Some(failure)).await;
    };
    let input = DeadlinesInput {
        commune_deadline,
        district_deadline,
        reason: Some(form.reason.clone()),
    };
    let outcome = on_round(&state, user.clone(), round_id, move |conn, _, user, ctx| {
        round_life::extend_deadlines(conn, &user, &ctx, &input)?;
        Ok(unit_page(&ctx))
    })
    .await;
    match outcome {
        Ok(back) => Ok(redirect(&format!("{back}?ok=gia-han"))),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            render_extend(&state, user, round_id, Some(form), Some(e)).await
        }
        Err(e) => Err(e.into()),
    }
}
