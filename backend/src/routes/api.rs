//! The JSON API under `/api/v1`: the same operations as the pages, documented in
//! `openapi.json` beside this file.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use report_schemas::FieldError;
use serde::Deserialize;
use validator::Validate;

use super::{ProvisionalQuery, db, export_response};
use crate::AppState;
use crate::auth::{self, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::service::{self, Decision, DraftInput, RoundInput};

pub const OPENAPI: &str = include_str!("openapi.json");

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
            .route("/login", web::post().to(login))
            .route("/logout", web::post().to(logout))
            .route("/me", web::get().to(me))
            .route("/rounds", web::get().to(list_rounds))
            .route("/rounds", web::post().to(open_round))
            .route("/rounds/{round}", web::get().to(get_round))
            .route("/rounds/{round}", web::put().to(update_round))
            .route("/rounds/{round}/close", web::post().to(close_round))
            .route("/rounds/{round}/tasks/{unit}", web::put().to(set_tasks))
            .route("/rounds/{round}/overdue/{unit}", web::get().to(overdue))
            .route("/rounds/{round}/reports/{unit}", web::get().to(get_report))
            .route("/rounds/{round}/reports/{unit}", web::put().to(save_report))
            .route(
                "/rounds/{round}/reports/{unit}/submit",
                web::post().to(submit),
            )
            .route(
                "/rounds/{round}/reports/{unit}/accept",
                web::post().to(accept),
            )
            .route(
                "/rounds/{round}/reports/{unit}/return",
                web::post().to(return_report),
            )
            .route(
                "/rounds/{round}/reports/{unit}/reopen",
                web::post().to(reopen),
            )
            .route(
                "/rounds/{round}/reports/{unit}/history",
                web::get().to(history),
            )
            .route("/rounds/{round}/rollup/{unit}", web::get().to(rollup))
            .route(
                "/rounds/{round}/compare/{other}/{unit}",
                web::get().to(compare),
            )
            .route("/units/{unit}/members", web::get().to(list_members))
            .route("/units/{unit}/members", web::post().to(add_member))
            .route("/units/{unit}/members/{id}", web::put().to(edit_member))
            .route("/units/{unit}/teams", web::get().to(review_teams))
            .route("/rounds/{round}/export/{file}", web::get().to(export))
            .route("/rounds/{round}/form/{file}", web::get().to(offline_form))
            .route("/rounds/{round}/bulk/{unit}", web::post().to(bulk_upload))
            .route(
                "/rounds/{round}/reports/{unit}/upload",
                web::post().to(upload_form),
            )
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(AppError::NotFound("Không tìm thấy địa chỉ này.".into()))
            })),
    );
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI)
}

#[derive(Debug, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    #[validate(length(min = 1, max = 64, message = "Xin nhập tên đăng nhập."))]
    pub username: String,
    #[validate(length(min = 1, max = 256, message = "Xin nhập mật khẩu."))]
    pub password: String,
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

async fn login(
    state: web::Data<AppState>,
    input: web::Json<LoginInput>,
) -> AppResult<HttpResponse> {
    let input = input.into_inner();
    input
        .validate()
        .map_err(|e| AppError::invalid(field_errors(&e)))?;
    let token = db(&state, move |conn, _| {
        auth::login(conn, &input.username, &input.password)
    })
    .await?;
    match token {
        Some(token) => Ok(HttpResponse::Ok()
            .cookie(auth::session_cookie(&token))
            .json(serde_json::json!({ "ok": true }))),
        None => Err(AppError::BadCredentials),
    }
}

async fn logout(state: web::Data<AppState>, req: HttpRequest) -> AppResult<HttpResponse> {
    if let Some(token) = req
        .cookie(auth::SESSION_COOKIE)
        .map(|c| c.value().to_owned())
    {
        db(&state, move |conn, _| auth::logout(conn, &token)).await?;
    }
    Ok(HttpResponse::NoContent()
        .cookie(auth::removal_cookie())
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

async fn list_rounds(state: web::Data<AppState>, user: CurrentUser) -> AppResult<HttpResponse> {
    let rounds = db(&state, move |conn, st| {
        service::list_rounds(conn, &user, st.clock.now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "rounds": rounds })))
}

async fn open_round(
    state: web::Data<AppState>,
    user: CurrentUser,
    input: web::Json<RoundInput>,
) -> AppResult<HttpResponse> {
    let input = input.into_inner();
    let id = db(&state, move |conn, st| {
        service::open_round(
            conn,
            &st.catalog,
            Some(&user),
            &user.unit,
            &input,
            st.clock.now(),
        )
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/rounds/{id}")))
        .json(serde_json::json!({ "id": id })))
}

async fn get_round(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let round_id = path.into_inner();
    let body = db(&state, move |conn, st| {
        let ctx = service::round_for(conn, &st.catalog, &user, round_id, st.clock.now())?;
        Ok(serde_json::json!({
            "id": ctx.round.id,
            "title": ctx.round.title,
            "status": ctx.round.status,
            "period_label": service::period_label(&ctx.round),
            "period_start": ctx.round.period_start,
            "period_end": ctx.round.period_end,
            "commune_deadline": ctx.round.commune_deadline,
            "district_deadline": ctx.round.district_deadline,
            "owner": { "code": ctx.owner.code, "name": ctx.owner.name },
            "orientation": service::orientation_for(
                conn,
                &ctx,
                service::filing_unit(&user, &ctx.owner, ctx.round.period_end).unwrap_or(&user.unit),
            )?,
            "template": &*ctx.template,
        }))
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

async fn update_round(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<i32>,
    input: web::Json<RoundInput>,
) -> AppResult<HttpResponse> {
    let round_id = path.into_inner();
    let input = input.into_inner();
    db(&state, move |conn, st| {
        let ctx = service::round_for(conn, &st.catalog, &user, round_id, st.clock.now())?;
        service::update_round(conn, &st.catalog, &user, &ctx, &input)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn close_round(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let round_id = path.into_inner();
    db(&state, move |conn, st| {
        let ctx = service::round_for(conn, &st.catalog, &user, round_id, st.clock.now())?;
        service::close_round(conn, &user, &ctx)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TasksInput {
    pub tasks: Vec<String>,
}

async fn set_tasks(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, String)>,
    input: web::Json<TasksInput>,
) -> AppResult<HttpResponse> {
    let (round_id, code) = path.into_inner();
    let tasks = input.into_inner().tasks;
    db(&state, move |conn, st| {
        let ctx = service::round_for(conn, &st.catalog, &user, round_id, st.clock.now())?;
        let unit = service::unit_for(conn, &user, &ctx, &code)?;
        service::set_tasks(conn, &user, &ctx, &unit, &tasks)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn overdue(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, String)>,
) -> AppResult<HttpResponse> {
    let (round_id, code) = path.into_inner();
    let list = db(&state, move |conn, st| {
        let ctx = service::round_for(conn, &st.catalog, &user, round_id, st.clock.now())?;
        let unit = service::unit_for(conn, &user, &ctx, &code)?;
        service::overdue(conn, &user, &ctx, &unit)
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "overdue": list })))
}

async fn get_report(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, String)>,
) -> AppResult<HttpResponse> {
    let (round_id, code) = path.into_inner();
    let view = db(&state, move |conn, st| {
        let ctx = service::round_for(conn, &st.catalog, &user, round_id, st.clock.now())?;
        let unit = service::unit_for(conn, &user, &ctx, &code)?;
        service::report_view(conn, &user, &ctx, &unit)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn save_report(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, String)>,
    input: web::Json<DraftInput>,
) -> AppResult<HttpResponse> {
    let (round_id, code) = path.into_inner();
    let input = input.into_inner();
    let view = db(&state, move |conn, st| {
        let ctx = service::round_for(conn, &st.catalog, &user, round_id, st.clock.now())?;
        let unit = service::unit_for(conn, &user, &ctx, &code)?;
        service::save_draft(conn, &user, &ctx, &unit, &input)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitInput {
    #[serde(default)]
    pub version: Option<i32>,
}

async fn submit(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, String)>,
    input: Option<web::Json<SubmitInput>>,
) -> AppResult<HttpResponse> {
    let (round_id, code) = path.into_inner();
    let version = input.and_then(|i| i.version);
    let view = db(&state, move |conn, st| {
        let ctx = service::round_for(conn, &st.catalog, &user, round_id, st.clock.now())?;
        let unit = service::unit_for(conn, &user, &ctx, &code)?;
        service::submit(conn, &user, &ctx, &unit, version)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn decide(
    state: web::Data<AppState>,
    user: CurrentUser,
    round_id: i32,
    code: String,
    decision: Decision,
) -> AppResult<HttpResponse> {
    let view = db(&state, move |conn, st| {
        let ctx = service::round_for(conn, &st.catalog, &user, round_id, st.clock.now())?;
        let unit = service::unit_for(conn, &user, &ctx, &code)?;
        service::review(conn, &user, &ctx, &unit, &decision)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn accept(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, String)>,
) -> AppResult<HttpResponse> {
    let (round_id, code) = path.into_inner();
    decide(state, user, round_id, code, Decision::Accept).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnInput {
    pub reason: String,
}

async fn return_report(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, String)>,
    input: web::Json<ReturnInput>,
) -> AppResult<HttpResponse> {
    let (round_id, code) = path.into_inner();
    let reason = input.into_inner().reason;
    decide(state, user, round_id, code, Decision::Return { reason }).await
}

async fn reopen(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, String)>,
    input: web::Json<ReturnInput>,
) -> AppResult<HttpResponse> {
    let (round_id, code) = path.into_inner();
    let reason = input.into_inner().reason;
    decide(state, user, round_id, code, Decision::Reopen { reason }).await
}

async fn history(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, String)>,
) -> AppResult<HttpResponse> {
    let (round_id, code) = path.into_inner();
    let entries = db(&state, move |conn, st| {
        let ctx = service::round_for(conn, &st.catalog, &user, round_id, st.clock.now())?;
        let unit = service::unit_for(conn, &user, &ctx, &code)?;
        service::history(conn, &user, &ctx, &unit)
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "history": entries })))
}

#[derive(Debug, Default, Deserialize)]
pub struct DayQuery {
    /// The day the roster is read on (default: today in Vietnam).
    #[serde(default)]
    pub date: Option<chrono::NaiveDate>,
}

async fn list_members(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    query: web::Query<DayQuery>,
) -> AppResult<HttpResponse> {
    let code = path.into_inner();
    let day = query.date;
    let body = db(&state, move |conn, st| {
        let unit = service::unit_in_reach(conn, &user, &code)?;
        let members = service::members_of(conn, &unit)?;
        let day = day.unwrap_or_else(|| crate::domain::vn::local(st.clock.now()).date());
        Ok(serde_json::json!({
            "unit": { "code": unit.code, "name": unit.name },
            "date": day,
            "figures": service::RosterFigures::of(&members, day),
            "members": members,
        }))
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

async fn add_member(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    input: web::Json<service::MemberInput>,
) -> AppResult<HttpResponse> {
    let code = path.into_inner();
    let input = input.into_inner();
    let member = db(&state, move |conn, st| {
        let unit = service::unit_in_reach(conn, &user, &code)?;
        service::save_member(conn, &user, &unit, None, &input, st.clock.now())
    })
    .await?;
    Ok(HttpResponse::Created().json(member))
}

async fn edit_member(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, i32)>,
    input: web::Json<service::MemberInput>,
) -> AppResult<HttpResponse> {
    let (code, id) = path.into_inner();
    let input = input.into_inner();
    let member = db(&state, move |conn, st| {
        let unit = service::unit_in_reach(conn, &user, &code)?;
        service::save_member(conn, &user, &unit, Some(id), &input, st.clock.now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(member))
}

async fn review_teams(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    query: web::Query<DayQuery>,
) -> AppResult<HttpResponse> {
    let code = path.into_inner();
    let day = query.date;
    let review = db(&state, move |conn, st| {
        let unit = service::unit_in_reach(conn, &user, &code)?;
        let day = day.unwrap_or_else(|| crate::domain::vn::local(st.clock.now()).date());
        service::review_teams(conn, &user, &unit, day)
    })
    .await?;
    Ok(HttpResponse::Ok().json(review))
}

async fn compare(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, i32, String)>,
    query: web::Query<ProvisionalQuery>,
) -> AppResult<HttpResponse> {
    let (round_id, other_id, code) = path.into_inner();
    let provisional = query.provisional();
    let view = db(&state, move |conn, st| {
        let now = st.clock.now();
        let ctx = service::round_for(conn, &st.catalog, &user, round_id, now)?;
        let other = service::round_for(conn, &st.catalog, &user, other_id, now)?;
        let unit = service::unit_for(conn, &user, &ctx, &code)?;
        service::compare(conn, &user, &ctx, &other, &unit, provisional)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn rollup(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, String)>,
    query: web::Query<ProvisionalQuery>,
) -> AppResult<HttpResponse> {
    let (round_id, code) = path.into_inner();
    let provisional = query.provisional();
    let view = db(&state, move |conn, st| {
        let ctx = service::round_for(conn, &st.catalog, &user, round_id, st.clock.now())?;
        let unit = service::unit_for(conn, &user, &ctx, &code)?;
        service::rollup(conn, &user, &ctx, &unit, provisional)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn offline_form(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, String)>,
) -> AppResult<HttpResponse> {
    let (round_id, file) = path.into_inner();
    let code = file
        .strip_suffix(".xlsx")
        .ok_or_else(|| AppError::NotFound("Không tìm thấy tệp này.".into()))?
        .to_owned();
    super::offline_form_response(&state, user, round_id, code).await
}

/// The filled form, as the request body (the bytes of the .xlsx, .xls or .ods file).
async fn upload_form(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, String)>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (round_id, code) = path.into_inner();
    let (view, converted) = db(&state, move |conn, st| {
        let ctx = service::round_for(conn, &st.catalog, &user, round_id, st.clock.now())?;
        let unit = service::unit_for(conn, &user, &ctx, &code)?;
        service::upload_form(conn, &user, &ctx, &unit, &body, service::Entry::Filer)
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "report": view, "converted": converted })))
}

/// Many communes' forms at once: the body is one .zip of workbooks (or a single workbook).
async fn bulk_upload(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, String)>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (round_id, code) = path.into_inner();
    let results = db(&state, move |conn, st| {
        let ctx = service::round_for(conn, &st.catalog, &user, round_id, st.clock.now())?;
        let board = service::unit_for(conn, &user, &ctx, &code)?;
        service::bulk_upload(
            conn,
            &user,
            &ctx,
            &board,
            vec![("tai-len".into(), body.to_vec())],
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "results": results })))
}

async fn export(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, String)>,
    query: web::Query<ProvisionalQuery>,
) -> AppResult<HttpResponse> {
    let (round_id, file) = path.into_inner();
    let code = file
        .strip_suffix(".xlsx")
        .ok_or_else(|| AppError::NotFound("Không tìm thấy tệp này.".into()))?
        .to_owned();
    export_response(&state, user, round_id, code, &query).await
}
