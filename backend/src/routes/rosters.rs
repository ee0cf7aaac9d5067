//! Team rosters (*Tổ khoa giáo*): a commune keeps its team's list (JSON and page); district and
//! province boards review the teams below them.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::db;
use super::page::{
    CheckedForm, Listed, PageError, PageResult, PageUser, UserVm, form_date, form_failure, html,
    redirect,
};
use crate::AppState;
use crate::db::models::TeamMember;
use crate::domain::vn;
use crate::error::{AppError, AppResult};
use crate::service::CurrentUser;
use crate::service::access::unit_in_reach;
use crate::service::rosters::{
    self as service, EDUCATION, MIN_TEAM_SIZE, MemberInput, POSITIONS, RosterFigures, SEXES,
    THEORY, label_of,
};
use crate::service::units::has_children;

pub fn api(cfg: &mut web::ServiceConfig) {
    cfg.route("/units/{unit}/members", web::get().to(list_members))
        .route("/units/{unit}/members", web::post().to(add_member))
        .route("/units/{unit}/members/{id}", web::put().to(edit_member))
        .route("/units/{unit}/teams", web::get().to(review_teams));
}

pub fn pages(cfg: &mut web::ServiceConfig) {
    cfg.route("/to-khoa-giao", web::get().to(home))
        .route("/to-khoa-giao/thong-ke/{unit}", web::get().to(review))
        .route("/to-khoa-giao/{unit}", web::get().to(roster))
        .route("/to-khoa-giao/{unit}/them", web::post().to(add))
        .route("/to-khoa-giao/{unit}/{id}", web::get().to(edit_form))
        .route("/to-khoa-giao/{unit}/{id}", web::post().to(edit));
}

// JSON API

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
        let unit = unit_in_reach(conn, &user, &code)?;
        let members = service::members_of(conn, &unit)?;
        let day = day.unwrap_or_else(|| vn::local(st.clock.now()).date());
        Ok(serde_json::json!({
            "unit": { "code": unit.code, "name": unit.name },
            "date": day,
            "figures": RosterFigures::of(&members, day),
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
    input: web::Json<MemberInput>,
) -> AppResult<HttpResponse> {
    let code = path.into_inner();
    let input = input.into_inner();
    let member = db(&state, move |conn, st| {
        let unit = unit_in_reach(conn, &user, &code)?;
        service::save_member(conn, &user, &unit, None, &input, st.clock.now())
    })
    .await?;
    Ok(HttpResponse::Created().json(member))
}

async fn edit_member(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, i32)>,
    input: web::Json<MemberInput>,
) -> AppResult<HttpResponse> {
    let (code, id) = path.into_inner();
    let input = input.into_inner();
    let member = db(&state, move |conn, st| {
        let unit = unit_in_reach(conn, &user, &code)?;
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
        let unit = unit_in_reach(conn, &user, &code)?;
        let day = day.unwrap_or_else(|| vn::local(st.clock.now()).date());
        service::review_teams(conn, &user, &unit, day)
    })
    .await?;
    Ok(HttpResponse::Ok().json(review))
}

// Pages

async fn home(state: web::Data<AppState>, PageUser(user): PageUser) -> PageResult {
    let code = user.unit.code.clone();
    let leaf = db(&state, move |conn, st| {
        let today = vn::local(st.clock.now()).date();
        Ok(!has_children(conn, &user.unit, today)?)
    })
    .await?;
    Ok(if leaf {
        redirect(&format!("/to-khoa-giao/{code}"))
    } else {
        redirect(&format!("/to-khoa-giao/thong-ke/{code}"))
    })
}

struct MemberRow {
    id: i32,
    full_name: String,
    position: &'static str,
    other_post: String,
    sex: &'static str,
    birth_year: i32,
    education: &'static str,
    theory: &'static str,
    joined_on: String,
    left_on: String,
    active: bool,
}

/// The member form's fields as typed.
#[derive(Debug, Clone, Default, Deserialize)]
struct MemberForm {
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    position: String,
    #[serde(default)]
    other_post: String,
    #[serde(default)]
    sex: String,
    #[serde(default)]
    birth_year: String,
    #[serde(default)]
    education: String,
    #[serde(default)]
    theory: String,
    #[serde(default)]
    joined_on: String,
    #[serde(default)]
    left_on: String,
    #[serde(default)]
    version: String,
}

impl MemberForm {
    fn of(m: &TeamMember) -> MemberForm {
        MemberForm {
            full_name: m.full_name.clone(),
            position: m.position.clone(),
            other_post: m.other_post.clone().unwrap_or_default(),
            sex: m.sex.clone(),
            birth_year: m.birth_year.to_string(),
            education: m.education.clone(),
            theory: m.theory.clone(),
            joined_on: vn::date_short(m.joined_on),
            left_on: m.left_on.map(vn::date_short).unwrap_or_default(),
            version: m.version.to_string(),
        }
    }

    fn to_input(&self) -> Result<MemberInput, AppError> {
        let mut errors = Vec::new();
        let joined_on = form_date("joined_on", &self.joined_on, true, &mut errors);
        let left_on = form_date("left_on", &self.left_on, false, &mut errors);
        let birth_year = self.birth_year.trim().parse::<i32>().unwrap_or_else(|_| {
            errors.push(report_schemas::FieldError {
                field: "birth_year".into(),
                message: "Năm sinh phải là một số, ví dụ 1975.".into(),
            });
            0
        });
        match (joined_on, errors.is_empty()) {
            (Some(joined_on), true) => Ok(MemberInput {
                full_name: self.full_name.clone(),
                position: self.position.clone(),
                other_post: Some(self.other_post.clone()),
                sex: self.sex.clone(),
                birth_year,
                education: self.education.clone(),
                theory: self.theory.clone(),
                joined_on,
                left_on,
                version: self.version.trim().parse().ok(),
            }),
            _ => Err(AppError::invalid(errors)),
        }
    }
}

type Choices = Vec<(&'static str, &'static str)>;

#[derive(Template)]
#[template(path = "members.html")]
struct RosterPage {
    user: Option<UserVm>,
    unit_name: String,
    unit_code: String,
    today: String,
    figures: RosterFigures,
    rows: Vec<MemberRow>,
    keeper: bool,
    form: MemberForm,
    action: String,
    heading: &'static str,
    error: Option<String>,
    errors: std::collections::HashMap<String, String>,
    positions: Choices,
    sexes: Choices,
    education: Choices,
    theory: Choices,
    min_size: u32,
}

fn rows_of(members: &[TeamMember], today: chrono::NaiveDate) -> Vec<MemberRow> {
    members
        .iter()
        .map(|m| MemberRow {
            id: m.id,
            full_name: m.full_name.clone(),
            position: label_of(&POSITIONS, &m.position),
            other_post: m.other_post.clone().unwrap_or_default(),
            sex: label_of(&SEXES, &m.sex),
            birth_year: m.birth_year,
            education: label_of(&EDUCATION, &m.education),
            theory: label_of(&THEORY, &m.theory),
            joined_on: vn::date_short(m.joined_on),
            left_on: m.left_on.map(vn::date_short).unwrap_or_default(),
            active: service::active_on(m, today),
        })
        .collect()
}

/// The roster page; `form` is the add or edit form (with its errors) shown under the list.
async fn render(
    state: &web::Data<AppState>,
    user: CurrentUser,
    code: String,
    form: Option<(MemberForm, String, &'static str)>,
    failure: Option<AppError>,
) -> PageResult {
    let vm = UserVm::from(&user);
    let (unit, members, today, keeper) = db(state, move |conn, st| {
        let unit = unit_in_reach(conn, &user, &code)?;
        let members = service::members_of(conn, &unit)?;
        let keeper = user.unit.id == unit.id && user.role.files();
        Ok((unit, members, vn::local(st.clock.now()).date(), keeper))
    })
    .await?;
    let (form, action, heading) = form.unwrap_or_else(|| {
        (
            MemberForm {
                position: "thanh_vien".into(),
                sex: "nam".into(),
                education: "dai_hoc".into(),
                theory: "trung_cap".into(),
                joined_on: vn::date_short(today),
                ..MemberForm::default()
            },
            format!("/to-khoa-giao/{}/them", unit.code),
            "Thêm thành viên",
        )
    });
    let (status, error, errors) = form_failure(failure);
    Ok(html(
        status,
        &RosterPage {
            user: Some(vm),
            unit_name: unit.name.clone(),
            unit_code: unit.code.clone(),
            today: vn::date_short(today),
            figures: RosterFigures::of(&members, today),
            rows: rows_of(&members, today),
            keeper,
            form,
            action,
            heading,
            error,
            errors,
            positions: POSITIONS.to_vec(),
            sexes: SEXES.to_vec(),
            education: EDUCATION.to_vec(),
            theory: THEORY.to_vec(),
            min_size: MIN_TEAM_SIZE,
        },
    ))
}

async fn roster(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<String>,
) -> PageResult {
    render(&state, user, path.into_inner(), None, None).await
}

async fn save(
    state: web::Data<AppState>,
    user: CurrentUser,
    code: String,
    id: Option<i32>,
    form: MemberForm,
) -> PageResult {
    let (action, heading) = match id {
        Some(id) => (
            format!("/to-khoa-giao/{code}/{id}"),
            "Sửa thông tin thành viên",
        ),
        None => (format!("/to-khoa-giao/{code}/them"), "Thêm thành viên"),
    };
    let input = match form.to_input() {
        Ok(input) => input,
        Err(e) => return render(&state, user, code, Some((form, action, heading)), Some(e)).await,
    };
    let actor = user.clone();
    let c = code.clone();
    let outcome = db(&state, move |conn, st| {
        let unit = unit_in_reach(conn, &actor, &c)?;
        service::save_member(conn, &actor, &unit, id, &input, st.clock.now())
    })
    .await;
    match outcome {
        Ok(_) => Ok(redirect(&format!("/to-khoa-giao/{code}"))),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            render(&state, user, code, Some((form, action, heading)), Some(e)).await
        }
        Err(e) => Err(PageError(e)),
    }
}

async fn add(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<String>,
    CheckedForm(form): CheckedForm<MemberForm>,
) -> PageResult {
    save(state, user, path.into_inner(), None, form).await
}

async fn edit(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<(String, i32)>,
    CheckedForm(form): CheckedForm<MemberForm>,
) -> PageResult {
    let (code, id) = path.into_inner();
    save(state, user, code, Some(id), form).await
}

async fn edit_form(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<(String, i32)>,
) -> PageResult {
    let (code, id) = path.into_inner();
    let actor = user.clone();
    let c = code.clone();
    let member = db(&state, move |conn, _| {
        let unit = unit_in_reach(conn, &actor, &c)?;
        service::members_of(conn, &unit)?
            .into_iter()
            .find(|m| m.id == id)
            .ok_or_else(|| AppError::NotFound("Không tìm thấy thành viên này trong Tổ.".into()))
    })
    .await?;
    let form = MemberForm::of(&member);
    let action = format!("/to-khoa-giao/{code}/{id}");
    render(
        &state,
        user,
        code,
        Some((form, action, "Sửa thông tin thành viên")),
        None,
    )
    .await
}

struct ReviewRow {
    name: String,
    link: String,
    teams: u32,
    members: u32,
    degree: String,
    part_time: String,
    women: String,
    under_40: u32,
    over_60: u32,
    without_leader: u32,
    too_small: u32,
}

struct WeakRow {
    name: String,
    link: String,
    parent: String,
    members: u32,
    has_leader: bool,
}

#[derive(Template)]
#[template(path = "teams.html")]
struct ReviewPage {
    user: Option<UserVm>,
    unit_name: String,
    day: String,
    rows: Vec<ReviewRow>,
    total: ReviewRow,
    weak: Listed<WeakRow>,
    min_size: u32,
}

fn review_row(r: &service::TeamReviewRow) -> ReviewRow {
    let share = |n: u32| r.share(n).map_or_else(|| "–".into(), vn::percent);
    let link = if r.teams == 1 {
        format!("/to-khoa-giao/{}", r.unit.code)
    } else {
        format!("/to-khoa-giao/thong-ke/{}", r.unit.code)
    };
    ReviewRow {
        name: r.unit.name.clone(),
        link,
        teams: r.teams,
        members: r.figures.members,
        degree: share(r.figures.degree),
        part_time: share(r.figures.part_time),
        women: share(r.figures.women),
        under_40: r.figures.under_40,
        over_60: r.figures.over_60,
        without_leader: r.without_leader,
        too_small: r.too_small,
    }
}

async fn review(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<String>,
) -> PageResult {
    let vm = UserVm::from(&user);
    let code = path.into_inner();
    let review = db(&state, move |conn, st| {
        let unit = unit_in_reach(conn, &user, &code)?;
        service::review_teams(conn, &user, &unit, vn::local(st.clock.now()).date())
    })
    .await?;
    Ok(html(
        StatusCode::OK,
        &ReviewPage {
            user: Some(vm),
            unit_name: review.unit.name.clone(),
            day: vn::date_short(review.day),
            rows: review.rows.iter().map(review_row).collect(),
            total: review_row(&review.total),
            weak: Listed::of(review.weak.iter().map(|w| WeakRow {
                name: w.unit.name.clone(),
                link: format!("/to-khoa-giao/{}", w.unit.code),
                parent: w.parent.name.clone(),
                members: w.members,
                has_leader: w.has_leader,
            })),
            min_size: MIN_TEAM_SIZE,
        },
    ))
}
