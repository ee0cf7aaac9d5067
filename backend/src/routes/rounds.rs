//! Rounds (*kỳ báo cáo*): the list, opening one, its home (which sends a filer to its report and
//! a board to its unit page), editing and closing it, and a board's own key tasks.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use askama::Template;
use report_schemas::{FieldError, PeriodType, TemplateKind};
use serde::Deserialize;

use super::page::{
    CheckedForm, PageError, PageResult, PageUser, UserVm, form_date, form_failure, html, redirect,
};
use super::{db, on_round, on_unit};
use crate::AppState;
use crate::domain::period::{period_type_str, type_label};
use crate::domain::{Role, vn};
use crate::error::{AppError, AppResult};
use crate::service::orientation::{orientation_for, own_tasks, set_tasks as set_unit_tasks};
use crate::service::rounds::{self as service, RoundInput};
use crate::service::units::has_children;
use crate::service::{CurrentUser, RoundCtx, access, upper_deadline_label};

pub fn api(cfg: &mut web::ServiceConfig) {
    cfg.route("/rounds", web::get().to(list_rounds))
        .route("/rounds", web::post().to(open_round))
        .route("/rounds/{round}", web::get().to(get_round))
        .route("/rounds/{round}", web::put().to(update_round))
        .route("/rounds/{round}/close", web::post().to(close_round))
        .route("/rounds/{round}/tasks/{unit}", web::put().to(set_tasks));
}

pub fn pages(cfg: &mut web::ServiceConfig) {
    cfg.route("/ky-bao-cao/moi", web::get().to(new_round_form))
        .route("/ky-bao-cao/moi", web::post().to(new_round))
        .route("/ky-bao-cao/{round}", web::get().to(round_home))
        .route("/ky-bao-cao/{round}/sua", web::get().to(edit_round_form))
        .route("/ky-bao-cao/{round}/sua", web::post().to(edit_round))
        .route(
            "/ky-bao-cao/{round}/nhiem-vu/{unit}",
            web::post().to(set_tasks_page),
        );
}

// JSON API

async fn list_rounds(state: web::Data<AppState>, user: CurrentUser) -> AppResult<HttpResponse> {
    let rounds = db(&state, move |conn, st| {
        service::list_rounds(conn, &st.catalog, &user, st.clock.now())
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
    let body = on_round(&state, user, path.into_inner(), |conn, _, user, ctx| {
        let mine =
            access::filing_unit(&user, &ctx.owner, ctx.round.period_end).unwrap_or(&user.unit);
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
            "orientation": orientation_for(conn, &ctx, mine)?,
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
    let input = input.into_inner();
    on_round(
        &state,
        user,
        path.into_inner(),
        move |conn, st, user, ctx| service::update_round(conn, &st.catalog, &user, &ctx, &input),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn close_round(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<i32>,
) -> AppResult<HttpResponse> {
    on_round(&state, user, path.into_inner(), |conn, _, user, ctx| {
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
    let tasks = input.into_inner().tasks;
    on_unit(&state, user, path.into_inner(), move |conn, _, s| {
        set_unit_tasks(conn, &s.user, &s.ctx, &s.unit, &tasks)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

// Pages

async fn round_home(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<i32>,
) -> PageResult {
    let round_id = path.into_inner();
    let (leaf, code) = on_round(&state, user, round_id, |conn, _, user, ctx| {
        let mine = access::filing_unit(&user, &ctx.owner, ctx.round.period_end)
            .unwrap_or(&user.unit)
            .clone();
        let leaf = !has_children(conn, &mine, ctx.round.period_end)?;
        Ok((leaf, mine.code))
    })
    .await?;
    Ok(if leaf {
        redirect(&format!("/ky-bao-cao/{round_id}/bao-cao/{code}"))
    } else {
        redirect(&format!("/ky-bao-cao/{round_id}/don-vi/{code}"))
    })
}

/// The round form as typed: every field a string, checked when converted.
#[derive(Debug, Clone, Default, Deserialize)]
struct RoundForm {
    #[serde(default)]
    template: String,
    #[serde(default)]
    period_type: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    index: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    commune_deadline: String,
    #[serde(default)]
    district_deadline: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    orientation: String,
    #[serde(default)]
    tasks: String,
    /// The form as it was when its preview was shown: opened only if nothing changed since.
    #[serde(default)]
    preview_of: String,
}

impl RoundForm {
    /// What the preview depends on, to tell whether the form changed after it was shown.
    fn fingerprint(&self) -> String {
        [
            &self.template,
            &self.period_type,
            &self.year,
            &self.index,
            &self.start,
            &self.end,
            &self.commune_deadline,
            &self.district_deadline,
            &self.title,
        ]
        .iter()
        .map(|f| f.trim())
        .collect::<Vec<_>>()
        .join("|")
    }

    fn from_round(ctx: &RoundCtx, tasks: &[String]) -> RoundForm {
        let r = &ctx.round;
        let window = r.period_type == "window";
        let date = vn::date_short;
        RoundForm {
            template: ctx.template.key.clone(),
            period_type: r.period_type.clone(),
            year: r.period_year.to_string(),
            index: if matches!(r.period_type.as_str(), "month" | "quarter") {
                r.period_index.to_string()
            } else {
                String::new()
            },
            start: if window {
                date(r.period_start)
            } else {
                String::new()
            },
            end: if window {
                date(r.period_end)
            } else {
                String::new()
            },
            commune_deadline: date(vn::local(r.commune_deadline).date()),
            district_deadline: date(vn::local(r.district_deadline).date()),
            title: r.title.clone(),
            orientation: r.orientation.clone(),
            tasks: tasks.join("\n"),
            preview_of: String::new(),
        }
    }

    /// The form as the service's input; what cannot even be read is reported by field.
    fn to_input(&self) -> Result<RoundInput, AppError> {
        let mut errors = Vec::new();
        let start = form_date("start", &self.start, false, &mut errors);
        let end = form_date("end", &self.end, false, &mut errors);
        let commune_deadline = form_date(
            "commune_deadline",
            &self.commune_deadline,
            false,
            &mut errors,
        );
        let district_deadline = form_date(
            "district_deadline",
            &self.district_deadline,
            false,
            &mut errors,
        );
        let year = self.year.trim().parse::<i32>().unwrap_or_else(|_| {
            errors.push(FieldError {
                field: "year".into(),
                message: "Năm phải là một số, ví dụ 2026.".into(),
            });
            0
        });
        let index = match self.index.trim() {
            "" => None,
            text => match text.parse::<u32>() {
                Ok(n) => Some(n),
                Err(_) => {
                    errors.push(FieldError {
                        field: "index".into(),
                        message: "Tháng hoặc quý phải là một số.".into(),
                    });
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(AppError::invalid(errors));
        }
        Ok(RoundInput {
            template: self.template.clone(),
            period_type: self.period_type.clone(),
            year,
            index,
            start,
            end,
            commune_deadline,
            district_deadline,
            title: Some(self.title.clone()),
            orientation: Some(self.orientation.clone()),
            tasks: self.tasks.lines().map(str::to_owned).collect(),
        })
    }
}

struct TemplateOption {
    key: String,
    title: String,
    kind: &'static str,
}

#[derive(Template)]
#[template(path = "round_form.html")]
struct RoundFormPage {
    user: Option<UserVm>,
    heading: String,
    action: String,
    back_link: String,
    button: &'static str,
    error: Option<String>,
    errors: std::collections::HashMap<String, String>,
    templates: Vec<TemplateOption>,
    period_types: Vec<(String, &'static str)>,
    form: RoundForm,
    district_only: bool,
    /// Who answers to the second deadline.
    upper_deadline: &'static str,
    preview: Option<PreviewVm>,
}

/// The round as it would be opened, shown before it is.
struct PreviewVm {
    title: String,
    window: String,
    deadlines: String,
    warning: Option<String>,
}

impl PreviewVm {
    fn of(p: &service::RoundPreview, upper: &str) -> PreviewVm {
        let warning = match (p.commune_past, p.district_past) {
            (false, false) => None,
            (true, false) => Some(format!(
                "Hạn nộp của cấp xã ({}) đã qua: khi mở kỳ, mọi xã chưa nộp đều bị tính trễ hạn ngay. Xin xem lại hạn nộp, hoặc xác nhận nếu đúng như vậy.",
                vn::datetime(p.commune_deadline)
            )),
            _ => Some(format!(
                "Các hạn nộp đã qua (cấp xã {}, {upper} {}): khi mở kỳ, mọi đơn vị chưa nộp đều bị tính trễ hạn ngay. Xin xem lại hạn nộp, hoặc xác nhận nếu đúng như vậy.",
                vn::datetime(p.commune_deadline),
                vn::datetime(p.district_deadline)
            )),
        };
        PreviewVm {
            title: p.title.clone(),
            window: format!(
                "Số liệu từ ngày {} đến ngày {} ({})",
                vn::date_short(p.start),
                vn::date_short(p.end),
                vn::lower_first(&p.label)
            ),
            deadlines: format!(
                "Hạn nộp: cấp xã {}; {upper} {}",
                vn::datetime(p.commune_deadline),
                vn::datetime(p.district_deadline)
            ),
            warning,
        }
    }
}

const PERIOD_TYPES: [PeriodType; 6] = [
    PeriodType::Month,
    PeriodType::Quarter,
    PeriodType::HalfYear,
    PeriodType::NineMonths,
    PeriodType::Year,
    PeriodType::Window,
];

/// Everything the round form shows besides what was typed.
struct RoundFormFrame {
    heading: String,
    action: String,
    back_link: String,
    button: &'static str,
}

async fn render_round_form(
    state: &web::Data<AppState>,
    user: &CurrentUser,
    frame: RoundFormFrame,
    form: RoundForm,
    failure: Option<AppError>,
    preview: Option<PreviewVm>,
) -> PageResult {
    let district_only = user.role == Role::District;
    let asker = user.clone();
    let templates = db(state, move |conn, st| {
        service::templates_for(conn, &st.catalog, &asker)
    })
    .await?;
    let templates = templates
        .into_iter()
        .map(|t| TemplateOption {
            key: t.key.clone(),
            title: t.title.clone(),
            kind: match t.kind {
                TemplateKind::Periodic => "định kỳ",
                TemplateKind::Thematic => "chuyên đề",
            },
        })
        .collect();
    let (status, error, errors) = form_failure(failure);
    Ok(html(
        status,
        &RoundFormPage {
            user: Some(user.into()),
            heading: frame.heading,
            action: frame.action,
            back_link: frame.back_link,
            button: frame.button,
            error,
            errors,
            templates,
            period_types: PERIOD_TYPES
                .iter()
                .map(|p| (period_type_str(*p).to_owned(), type_label(*p)))
                .collect(),
            form,
            district_only,
            upper_deadline: upper_deadline_label(&user.unit.kind),
            preview,
        },
    ))
}

fn ensure_opener(user: &CurrentUser) -> Result<(), PageError> {
    if user.role.reviews() {
        Ok(())
    } else {
        Err(PageError(AppError::Forbidden(
            "Chỉ Ban Tuyên giáo cấp tỉnh, cấp huyện mới được mở kỳ báo cáo.".into(),
        )))
    }
}

fn new_frame() -> RoundFormFrame {
    RoundFormFrame {
        heading: "Mở kỳ báo cáo mới".into(),
        action: "/ky-bao-cao/moi".into(),
        back_link: "/ky-bao-cao".into(),
        button: "Mở kỳ báo cáo",
    }
}

async fn new_round_form(state: web::Data<AppState>, PageUser(user): PageUser) -> PageResult {
    ensure_opener(&user)?;
    let form = RoundForm {
        template: if user.role == Role::District {
            "tong-ket-nq06".into()
        } else {
            "dinh-ky".into()
        },
        period_type: "quarter".into(),
        year: vn::today().format("%Y").to_string(),
        ..RoundForm::default()
    };
    render_round_form(&state, &user, new_frame(), form, None, None).await
}

async fn new_round(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    CheckedForm(form): CheckedForm<RoundForm>,
) -> PageResult {
    ensure_opener(&user)?;
    let input = match form.to_input() {
        Ok(input) => input,
        Err(e) => return render_round_form(&state, &user, new_frame(), form, Some(e), None).await,
    };
    // First the round as it would be: its data window and deadlines, and a warning if they
    // have passed. It is opened when confirmed unchanged.
    if form.preview_of != form.fingerprint() {
        let (actor, typed) = (user.clone(), input.clone());
        let preview = db(&state, move |conn, st| {
            service::preview_round(conn, &st.catalog, &actor, &typed, st.clock.now())
        })
        .await;
        let mut form = form;
        return match preview {
            Ok(p) => {
                form.preview_of = form.fingerprint();
                let frame = RoundFormFrame {
                    button: if p.commune_past {
                        "Vẫn mở kỳ báo cáo"
                    } else {
                        "Xác nhận mở kỳ báo cáo"
                    },
                    ..new_frame()
                };
                render_round_form(
                    &state,
                    &user,
                    frame,
                    form,
                    None,
                    Some(PreviewVm::of(&p, upper_deadline_label(&user.unit.kind))),
                )
                .await
            }
            Err(e @ (AppError::Invalid { .. } | AppError::Forbidden(_))) => {
                render_round_form(&state, &user, new_frame(), form, Some(e), None).await
            }
            Err(e) => Err(e.into()),
        };
    }
    let actor = user.clone();
    let outcome = db(&state, move |conn, st| {
        service::open_round(
            conn,
            &st.catalog,
            Some(&actor),
            &actor.unit,
            &input,
            st.clock.now(),
        )
    })
    .await;
    match outcome {
        Ok(id) => Ok(redirect(&format!("/ky-bao-cao/{id}"))),
        Err(e @ AppError::Invalid { .. }) => {
            render_round_form(&state, &user, new_frame(), form, Some(e), None).await
        }
        Err(e) => Err(e.into()),
    }
}

fn edit_frame(round_id: i32) -> RoundFormFrame {
    RoundFormFrame {
        heading: "Sửa kỳ báo cáo".into(),
        action: format!("/ky-bao-cao/{round_id}/sua"),
        back_link: format!("/ky-bao-cao/{round_id}"),
        button: "Lưu thay đổi",
    }
}

async fn edit_round_form(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<i32>,
) -> PageResult {
    let round_id = path.into_inner();
    let form = on_round(&state, user.clone(), round_id, |conn, _, user, ctx| {
        if ctx.owner.id != user.unit.id || !user.role.reviews() {
            return Err(AppError::Forbidden(
                "Chỉ đơn vị đã mở kỳ báo cáo mới được sửa kỳ này.".into(),
            ));
        }
        let tasks = own_tasks(conn, &ctx, &ctx.owner)?;
        Ok(RoundForm::from_round(&ctx, &tasks))
    })
    .await?;
    render_round_form(&state, &user, edit_frame(round_id), form, None, None).await
}

async fn edit_round(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<i32>,
    CheckedForm(form): CheckedForm<RoundForm>,
) -> PageResult {
    let round_id = path.into_inner();
    let input = match form.to_input() {
        Ok(input) => input,
        Err(e) => {
            return render_round_form(&state, &user, edit_frame(round_id), form, Some(e), None)
                .await;
        }
    };
    let outcome = on_round(
        &state,
        user.clone(),
        round_id,
        move |conn, st, user, ctx| service::update_round(conn, &st.catalog, &user, &ctx, &input),
    )
    .await;
    match outcome {
        Ok(()) => Ok(redirect(&format!("/ky-bao-cao/{round_id}"))),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            render_round_form(&state, &user, edit_frame(round_id), form, Some(e), None).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct TasksForm {
    #[serde(default)]
    tasks: String,
}

async fn set_tasks_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<(i32, String)>,
    CheckedForm(form): CheckedForm<TasksForm>,
) -> PageResult {
    let (round_id, code) = path.into_inner();
    let tasks: Vec<String> = form.tasks.lines().map(str::to_owned).collect();
    on_unit(&state, user, (round_id, code.clone()), move |conn, _, s| {
        set_unit_tasks(conn, &s.user, &s.ctx, &s.unit, &tasks)
    })
    .await?;
    Ok(redirect(&format!("/ky-bao-cao/{round_id}/don-vi/{code}")))
}
