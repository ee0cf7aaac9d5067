//! Reports: a unit's report in a round as JSON and as its page (the form, with every error
//! beside its field and what was typed kept), saving and submitting it, the reviewer's
//! decision (accept, return, reopen), and its history.

mod confirm;
mod view;

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;
use serde::Deserialize;
use serde_json::Value as Json;

pub use self::view::FormState;
use self::view::build_report_page;
use super::on_unit;
use super::page::{
    CheckedForm, Flash, NoFields, NoticeQuery, PageResult, PageUser, UserVm, all_messages, html,
    posted_fields, redirect, take_checked,
};
use super::session::{Session, current_user, login_carrying};
use crate::AppState;
use crate::db::writer::unread;
use crate::domain::vn;
use crate::error::{AppError, AppResult};
use crate::service::filing::{self, DraftInput};
use crate::service::history::{self, Change};
use crate::service::review::{self, Decision};
use crate::service::units::unit_by_id;
use crate::service::{CurrentUser, access, orientation, queue, rollup, round_life};

pub fn api(cfg: &mut web::ServiceConfig) {
    cfg.route("/rounds/{round}/reports/{unit}", web::get().to(get_report))
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
        );
}

pub fn pages(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/ky-bao-cao/{round}/bao-cao/{unit}",
        web::get().to(report_page),
    )
    .route(
        "/ky-bao-cao/{round}/bao-cao/{unit}",
        web::post().to(report_post),
    )
    .route(
        "/ky-bao-cao/{round}/bao-cao/{unit}/nop",
        web::get().to(confirm::submit_question),
    )
    .route(
        "/ky-bao-cao/{round}/bao-cao/{unit}/nop",
        web::post().to(confirm::submit_confirmed),
    )
    .route(
        "/ky-bao-cao/{round}/bao-cao/{unit}/tiep-nhan",
        web::post().to(accept_page),
    )
    .route(
        "/ky-bao-cao/{round}/bao-cao/{unit}/tra-lai",
        web::post().to(return_page),
    )
    .route(
        "/ky-bao-cao/{round}/bao-cao/{unit}/mo-lai",
        web::post().to(reopen_page),
    )
    .route(
        "/ky-bao-cao/{round}/bao-cao/{unit}/lich-su",
        web::get().to(history_page),
    );
}

// JSON API

async fn get_report(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, String)>,
) -> AppResult<HttpResponse> {
    let view = on_unit(&state, user, path.into_inner(), |conn, _, s| {
        filing::report_view(conn, &s.user, &s.ctx, &s.unit)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn save_report(
    state: web::Data<AppState>,
    user: Session,
    path: web::Path<(i32, String)>,
    input: web::Json<DraftInput>,
) -> AppResult<HttpResponse> {
    let input = input.into_inner();
    // The answer is the row as written: the save's turn need not wait for its group's commit.
    let view = on_unit(&state, user, path.into_inner(), move |conn, _, s| {
        unread(|| filing::save_draft(conn, &s.user, &s.ctx, &s.unit, &input))
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
    user: Session,
    path: web::Path<(i32, String)>,
    input: Option<web::Json<SubmitInput>>,
) -> AppResult<HttpResponse> {
    let version = input.and_then(|i| i.version);
    let view = on_unit(&state, user, path.into_inner(), move |conn, _, s| {
        unread(|| filing::submit(conn, &s.user, &s.ctx, &s.unit, version))
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn decide(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: (i32, String),
    decision: Decision,
) -> AppResult<HttpResponse> {
    let view = on_unit(&state, user, path, move |conn, _, s| {
        review::review(conn, &s.user, &s.ctx, &s.unit, &decision)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn accept(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, String)>,
) -> AppResult<HttpResponse> {
    decide(state, user, path.into_inner(), Decision::Accept).await
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
    let reason = input.into_inner().reason;
    decide(state, user, path.into_inner(), Decision::Return { reason }).await
}

async fn reopen(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, String)>,
    input: web::Json<ReturnInput>,
) -> AppResult<HttpResponse> {
    let reason = input.into_inner().reason;
    decide(state, user, path.into_inner(), Decision::Reopen { reason }).await
}

async fn history(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, String)>,
) -> AppResult<HttpResponse> {
    let entries = on_unit(&state, user, path.into_inner(), |conn, _, s| {
        history::history(conn, &s.user, &s.ctx, &s.unit)
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "history": entries })))
}

// Pages

fn notice_text(code: Option<&str>) -> Option<String> {
    Some(
        match code? {
            "luu" => "Đã lưu bản nháp.",
            "nop" => "Đã nộp báo cáo. Ban Tuyên giáo cấp trên sẽ xem và tiếp nhận.",
            "tiep-nhan" => "Đã tiếp nhận báo cáo.",
            "tra-lai" => "Đã trả lại báo cáo kèm lý do.",
            "mo-lai" => "Đã mở lại báo cáo; đơn vị lập báo cáo có thể sửa và nộp lại.",
            "tai-len" => "Đã nhận tệp Excel: số liệu đã được lưu thành bản nháp. Xin xem lại rồi nộp báo cáo.",
            _ => return None,
        }
        .into(),
    )
}

/// Renders the report page; `form` re-shows what was typed, with its errors.
pub async fn render_report(
    state: &web::Data<AppState>,
    user: CurrentUser,
    (round_id, code): (i32, String),
    form: Option<FormState>,
    flash: Flash,
) -> PageResult {
    let vm = UserVm::from(&user);
    let next_review = flash.next_review.clone();
    let (ctx, view, rollup, events, back, (orientation, extension, next)) =
        on_unit(state, user, (round_id, code), move |conn, _, s| {
            let (user, unit) = (&s.user, &s.unit);
            let view = filing::report_view(conn, user, &s.ctx, unit)?;
            let rollup = if view.consolidated {
                Some(rollup::rollup(conn, user, &s.ctx, unit, false)?)
            } else {
                None
            };
            let events = history::review_steps(conn, user, &s.ctx, unit)?;
            let orientation = orientation::orientation_for(conn, &s.ctx, unit)?;
            // The next report to review, named (a code outside the person's reach is no link).
            let next = match next_review.as_deref() {
                Some(code) => access::unit_for(conn, user, &s.ctx, code)
                    .ok()
                    .filter(|u| user.can_review(u))
                    .map(|u| (report_address(round_id, &u.code), u.name)),
                None => None,
            };
            let extension = round_life::extension(conn, s.ctx.round.id)?
                .filter(|_| view.can_edit)
                .map(|e| e.message(!view.consolidated));
            let back = if user.unit.id == unit.id && !view.consolidated {
                "/ky-bao-cao".to_owned()
            } else if view.consolidated {
                format!("/ky-bao-cao/{round_id}/don-vi/{}", unit.code)
            } else {
                match unit.parent_id {
                    Some(pid) => format!(
                        "/ky-bao-cao/{round_id}/don-vi/{}",
                        unit_by_id(conn, pid)?.code
                    ),
                    None => "/ky-bao-cao".to_owned(),
                }
            };
            Ok((
                s.ctx,
                view,
                rollup,
                events,
                back,
                (orientation, extension, next),
            ))
        })
        .await?;
    Ok(html(
        flash.status,
        &build_report_page(
            vm,
            &ctx,
            &view,
            rollup.as_ref(),
            form,
            flash.notice,
            flash.error,
            events,
            back,
            orientation,
            extension,
            next,
        ),
    ))
}

fn report_address(round_id: i32, code: &str) -> String {
    format!("/ky-bao-cao/{round_id}/bao-cao/{code}")
}

/// Whether `path` is a report form's address, `/ky-bao-cao/{round}/bao-cao/{unit}`: the only
/// form whose typing a login carries through.
pub fn report_form_path(path: &str) -> Option<(i32, String)> {
    let rest = path.strip_prefix("/ky-bao-cao/")?;
    let (round, rest) = rest.split_once('/')?;
    let code = rest.strip_prefix("bao-cao/")?;
    let round = round.parse().ok()?;
    let plain =
        !code.is_empty() && code.len() <= 32 && code.chars().all(|c| c.is_ascii_alphanumeric());
    plain.then(|| (round, code.to_owned()))
}

/// Whether the browser says the request comes from one of our own pages.
fn from_our_page(req: &HttpRequest) -> bool {
    req.headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        == Some("same-origin")
}

/// Back on the report form after logging in again, with what was typed before the session
/// ended: shown, not yet saved.
pub async fn resume(
    state: &web::Data<AppState>,
    user: CurrentUser,
    path: (i32, String),
    fields: Vec<(String, String)>,
    notice: &str,
) -> PageResult {
    let typed = Typed::of(fields);
    let form = FormState {
        values: typed.values,
        sections: typed.sections,
        overrides: typed.overrides,
        errors: Vec::new(),
        // Saved against the version it was typed on: a change made meanwhile is not overwritten.
        version: Some(typed.version),
    };
    render_report(
        state,
        user,
        path,
        Some(form),
        Flash::notice(Some(notice.into())),
    )
    .await
}

/// `?tiep=CODE`: after a review decision, the unit whose report is next to review.
#[derive(Debug, Deserialize, Default)]
struct NextQuery {
    #[serde(default)]
    tiep: Option<String>,
}

async fn report_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<(i32, String)>,
    query: web::Query<NoticeQuery>,
    next: web::Query<NextQuery>,
) -> PageResult {
    let mut notice = Flash::notice(notice_text(query.ok.as_deref()));
    notice.next_review = next.into_inner().tiep;
    render_report(&state, user, path.into_inner(), None, notice).await
}

/// The report form as typed: figures (`v.`), narratives (`s.`), reasons for differing from
/// the roster (`r.`), the version it was loaded at, and whether it is to be submitted.
struct Typed {
    values: BTreeMap<String, String>,
    sections: BTreeMap<String, String>,
    overrides: BTreeMap<String, String>,
    version: i32,
    submit: bool,
}

impl Typed {
    fn of(fields: Vec<(String, String)>) -> Typed {
        let mut typed = Typed {
            values: BTreeMap::new(),
            sections: BTreeMap::new(),
            overrides: BTreeMap::new(),
            version: 0,
            submit: false,
        };
        for (k, v) in fields {
            if let Some(key) = k.strip_prefix("v.") {
                typed.values.insert(key.to_owned(), v);
            } else if let Some(key) = k.strip_prefix("s.") {
                typed.sections.insert(key.to_owned(), v);
            } else if let Some(key) = k.strip_prefix("r.") {
                typed.overrides.insert(key.to_owned(), v);
            } else if k == "version" {
                typed.version = v.trim().parse().unwrap_or(-1);
            } else if k == "action" {
                typed.submit = v == "submit";
            }
        }
        typed
    }
}

/// The report form posted. When the session has ended meanwhile (a long narrative, a phone
/// left on a desk), nothing is saved and nothing is lost: the login page carries what was
/// typed, and after logging in again the person is back on the form with it.
async fn report_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i32, String)>,
    payload: web::Payload,
) -> PageResult {
    let fields = posted_fields(&req, payload).await?;
    let Some(user) = current_user(&state, &req).await? else {
        return login_carrying(&state, req.path(), fields);
    };
    let fields = match take_checked(&req, fields.clone()) {
        Ok(fields) => fields,
        // A form of ours (the browser says so) from an earlier session, in a tab left open
        // while the person logged in again elsewhere: shown back, not saved.
        Err(_) if from_our_page(&req) => {
            let notice = "Trang này được mở từ một lần đăng nhập trước nên báo cáo chưa được lưu. Những gì bạn đã nhập được giữ nguyên: xin xem lại rồi bấm «Lưu nháp» hoặc «Nộp báo cáo».";
            return resume(&state, user, path.into_inner(), fields, notice).await;
        }
        Err(e) => return Err(e),
    };
    let (round_id, code) = path.into_inner();
    let Typed {
        values,
        sections,
        overrides,
        version,
        submit,
    } = Typed::of(fields);
    let input = DraftInput {
        values: values
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| (k.clone(), Json::String(v.clone())))
            .collect(),
        sections: sections.clone(),
        overrides: overrides.clone(),
        version,
    };
    let path = (round_id, code.clone());
    // Nothing is read after the save in its turn (what follows is a redirect, or a page read in
    // a turn of its own, once the save is on disk): it need not wait for its group's commit.
    let outcome = on_unit(&state, user.clone(), path.clone(), move |conn, _, s| {
        let saved = unread(|| filing::save_draft(conn, &s.user, &s.ctx, &s.unit, &input))?;
        // The draft is kept even when the submission still lacks something; what it lacks is
        // shown beside the fields. Otherwise the submission is confirmed on its own page.
        if submit && !saved.problems.is_empty() {
            return Err(AppError::Invalid {
                message: format!(
                    "Bản nháp đã được lưu nhưng chưa nộp được: còn {} vấn đề phải giải quyết.",
                    saved.problems.len()
                ),
                fields: saved.problems,
            });
        }
        Ok(())
    })
    .await;
    let typed = |errors| FormState {
        values,
        sections,
        overrides,
        errors,
        version: None,
    };
    match outcome {
        Ok(()) if submit => Ok(redirect(&format!(
            "/ky-bao-cao/{round_id}/bao-cao/{code}/nop"
        ))),
        Ok(()) => Ok(redirect(&format!(
            "/ky-bao-cao/{round_id}/bao-cao/{code}?ok=luu"
        ))),
        Err(AppError::Invalid { message, fields }) => {
            let flash = Flash::error(message, StatusCode::UNPROCESSABLE_ENTITY);
            render_report(&state, user, path, Some(typed(fields)), flash).await
        }
        Err(e @ AppError::Conflict { .. }) => {
            let flash = Flash::error(e.user_message(), e.status_code());
            render_report(&state, user, path, Some(typed(Vec::new())), flash).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn decide_page(
    state: web::Data<AppState>,
    user: CurrentUser,
    (round_id, code): (i32, String),
    decision: Decision,
) -> PageResult {
    let ok = match decision {
        Decision::Accept => "tiep-nhan",
        Decision::Return { .. } => "tra-lai",
        Decision::Reopen { .. } => "mo-lai",
    };
    let path = (round_id, code.clone());
    let outcome = on_unit(&state, user.clone(), path.clone(), move |conn, _, s| {
        review::review(conn, &s.user, &s.ctx, &s.unit, &decision)?;
        queue::next_to_review(conn, &s.user, &s.ctx, &s.unit)
    })
    .await;
    match outcome {
        Ok(next) => Ok(redirect(&format!(
            "/ky-bao-cao/{round_id}/bao-cao/{code}?ok={ok}{}",
            next.map(|u| format!("&tiep={}", u.code))
                .unwrap_or_default()
        ))),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            let flash = Flash::error(all_messages(&e), e.status_code());
            render_report(&state, user, path, None, flash).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn accept_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<(i32, String)>,
    _: CheckedForm<NoFields>,
) -> PageResult {
    decide_page(state, user, path.into_inner(), Decision::Accept).await
}

#[derive(Deserialize)]
struct ReturnForm {
    reason: String,
    #[serde(default)]
    confirm: Option<String>,
}

/// Returning a report: the reason is shown back for confirmation first.
async fn return_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<(i32, String)>,
    CheckedForm(form): CheckedForm<ReturnForm>,
) -> PageResult {
    let path = path.into_inner();
    let reason = vn::clean(form.reason.trim());
    if form.confirm.as_deref() != Some("1") && !reason.is_empty() {
        let vm = UserVm::from(&user);
        let view = on_unit(&state, user.clone(), path.clone(), |conn, _, s| {
            filing::report_view(conn, &s.user, &s.ctx, &s.unit)
        })
        .await?;
        if view.can_review {
            let page = confirm::return_question(vm, path, &view.unit.name, &reason);
            return Ok(html(StatusCode::OK, &page));
        }
    }
    decide_page(state, user, path, Decision::Return { reason }).await
}

#[derive(Deserialize)]
struct ReopenForm {
    reason: String,
}

async fn reopen_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<(i32, String)>,
    CheckedForm(form): CheckedForm<ReopenForm>,
) -> PageResult {
    let reason = form.reason;
    decide_page(state, user, path.into_inner(), Decision::Reopen { reason }).await
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage {
    user: Option<UserVm>,
    round_id: i32,
    round_title: String,
    unit_name: String,
    unit_code: String,
    entries: Vec<HistoryVm>,
}

struct HistoryVm {
    at: String,
    actor: String,
    action: String,
    reason: String,
    changes: Vec<Change>,
}

async fn history_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<(i32, String)>,
) -> PageResult {
    let vm = UserVm::from(&user);
    let (round_id, round_title, unit_name, unit_code, entries) =
        on_unit(&state, user, path.into_inner(), |conn, _, s| {
            let entries = history::history(conn, &s.user, &s.ctx, &s.unit)?;
            Ok((
                s.ctx.round.id,
                s.ctx.round.title,
                s.unit.name,
                s.unit.code,
                entries,
            ))
        })
        .await?;
    Ok(html(
        StatusCode::OK,
        &HistoryPage {
            user: Some(vm),
            round_id,
            round_title,
            unit_name,
            unit_code,
            entries: entries
                .into_iter()
                .rev()
                .map(|e| HistoryVm {
                    at: vn::datetime(e.at),
                    actor: e.actor.unwrap_or_else(|| "Hệ thống".into()),
                    action: e.action_label,
                    reason: e.reason.unwrap_or_default(),
                    changes: e.changes,
                })
                .collect(),
        },
    ))
}
