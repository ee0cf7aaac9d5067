//! Accounts (JSON and pages): the list of the accounts a board manages, creating one or many
//! (from a sheet), the one-time passwords shown once and downloadable as a handout sheet,
//! resetting, deactivating and reactivating, and changing one's own password.

use std::collections::HashMap;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;
use serde::Deserialize;

use super::page::{
    CHANGE_PASSWORD_PAGE, CheckedForm, Listed, NoFields, PageError, PageResult, PageUser, UserVm,
    all_messages, form_failure, html, redirect,
};
use super::{db, form_files, read_body};
use crate::AppState;
use crate::domain::{Role, vn};
use crate::error::{AppError, AppResult};
use crate::excel::accounts::{self as sheet, HandoutRow, PersonRow};
use crate::service::CurrentUser;
use crate::service::accounts::{self, AccountInput, AccountView, Handout};

pub fn api(cfg: &mut web::ServiceConfig) {
    cfg.route("/accounts", web::get().to(list_json))
        .route("/accounts", web::post().to(create_json))
        .route("/accounts/bulk", web::post().to(bulk_json))
        .route("/accounts/{id}/reset", web::post().to(reset_json))
        .route("/accounts/{id}/deactivate", web::post().to(deactivate_json))
        .route("/accounts/{id}/reactivate", web::post().to(reactivate_json))
        .route("/password", web::put().to(password_json));
}

pub fn pages(cfg: &mut web::ServiceConfig) {
    cfg.route("/tai-khoan", web::get().to(list_page))
        .route("/tai-khoan/moi", web::post().to(create_page))
        .route("/tai-khoan/nhieu", web::post().to(bulk_page))
        .route("/tai-khoan/phieu", web::post().to(handout_sheet))
        .route("/tai-khoan/{id}/dat-lai", web::post().to(reset_page))
        .route("/tai-khoan/{id}/khoa", web::post().to(deactivate_page))
        .route("/tai-khoan/{id}/mo-khoa", web::post().to(reactivate_page))
        .route(CHANGE_PASSWORD_PAGE, web::get().to(password_form))
        .route(CHANGE_PASSWORD_PAGE, web::post().to(password_post));
}

fn person(row: PersonRow) -> AccountInput {
    AccountInput {
        unit: row.unit,
        username: row.username,
        full_name: row.full_name,
        role: row.role,
        phone: row.phone,
        email: row.email,
    }
}

// JSON API

async fn list_json(state: web::Data<AppState>, user: CurrentUser) -> AppResult<HttpResponse> {
    let list = db(&state, move |conn, _| accounts::managed(conn, &user)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "accounts": list })))
}

async fn create_json(
    state: web::Data<AppState>,
    user: CurrentUser,
    input: web::Json<AccountInput>,
) -> AppResult<HttpResponse> {
    let input = input.into_inner();
    let mut created = db(&state, move |conn, st| {
        accounts::create(conn, &user, &[input], st.clock.now())
    })
    .await?;
    let handout = created
        .pop()
        .ok_or_else(|| anyhow::anyhow!("no account created"))?;
    Ok(HttpResponse::Created().json(handout))
}

/// A sheet of people (.xlsx, .ods, .xls or CSV) as the body.
async fn bulk_json(
    state: web::Data<AppState>,
    user: CurrentUser,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let body = read_body(&req, payload, state.limits.form_bytes).await?;
    let created = db(&state, move |conn, st| {
        let people = sheet::read_people(&body).map_err(AppError::invalid)?;
        let inputs: Vec<AccountInput> = people.into_iter().map(person).collect();
        accounts::create(conn, &user, &inputs, st.clock.now())
    })
    .await?;
    Ok(HttpResponse::Created().json(serde_json::json!({ "created": created })))
}

async fn reset_json(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let handout = db(&state, move |conn, st| {
        accounts::reset_password(conn, &user, id, st.clock.now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(handout))
}

async fn set_active_json(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: i32,
    active: bool,
) -> AppResult<HttpResponse> {
    let view = db(&state, move |conn, st| {
        accounts::set_active(conn, &user, id, active, st.clock.now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn deactivate_json(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<i32>,
) -> AppResult<HttpResponse> {
    set_active_json(state, user, path.into_inner(), false).await
}

async fn reactivate_json(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<i32>,
) -> AppResult<HttpResponse> {
    set_active_json(state, user, path.into_inner(), true).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordInput {
    pub current: String,
    pub new: String,
}

async fn password_json(
    state: web::Data<AppState>,
    req: HttpRequest,
    input: web::Json<PasswordInput>,
) -> AppResult<HttpResponse> {
    let user = super::session::current_user(&state, &req)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let PasswordInput { current, new } = input.into_inner();
    db(&state, move |conn, st| {
        accounts::change_own_password(conn, &user, &current, &new, st.clock.now())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

// Pages

struct AccountRow {
    id: i32,
    unit: String,
    /// Tells apart units of one name in different provinces (Huyện An Lão).
    unit_code: String,
    full_name: String,
    username: String,
    role: &'static str,
    contact: String,
    last_login: String,
    active: bool,
    must_change: bool,
    manageable: bool,
}

fn row_of(a: &AccountView, me: i32) -> AccountRow {
    AccountRow {
        id: a.id,
        unit: a.unit.name.clone(),
        unit_code: a.unit.code.clone(),
        full_name: a.full_name.clone(),
        username: a.username.clone(),
        role: a.role_label,
        contact: [a.phone.as_deref(), a.email.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · "),
        last_login: a
            .last_login_at
            .map_or_else(|| "Chưa đăng nhập".into(), vn::datetime),
        active: a.active,
        must_change: a.must_change_password,
        manageable: a.id != me,
    }
}

/// The account form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
struct AccountForm {
    #[serde(default)]
    unit: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
}

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage {
    user: Option<UserVm>,
    admin: bool,
    board: String,
    rows: Listed<AccountRow>,
    /// What the list is narrowed to, as typed (empty: every account).
    search: String,
    /// The units a new account may belong to, to choose from; empty where there are too many
    /// to choose from (a whole country's), and the unit's code is typed instead.
    units: Vec<(String, String)>,
    form: AccountForm,
    notice: Option<String>,
    error: Option<String>,
    errors: HashMap<String, String>,
}

/// Beyond this many units a new account's unit is typed as its code: a list of a whole
/// country's 10,810 units is megabytes that no one scrolls through.
const UNITS_TO_CHOOSE_AT_MOST: usize = 1000;

/// Whether an account is what `search` (folded) looks for: by its unit's name or code, the
/// person's name, or the user name, with or without the marks.
fn matches(a: &AccountView, search: &str) -> bool {
    search.is_empty()
        || [&a.unit.name, &a.unit.code, &a.full_name, &a.username]
            .iter()
            .any(|t| vn::fold(t).contains(search))
}

async fn render_accounts(
    state: &web::Data<AppState>,
    user: CurrentUser,
    search: String,
    form: AccountForm,
    notice: Option<String>,
    failure: Option<AppError>,
) -> PageResult {
    let vm = UserVm::from(&user);
    let (admin, board, me) = (
        user.role == Role::Admin,
        user.unit.name.clone(),
        user.account.id,
    );
    let (list, units) = db(state, move |conn, _| {
        if user.role != Role::Admin && !user.role.reviews() {
            return Err(AppError::Forbidden(
                "Chỉ Ban Tuyên giáo cấp trên và quản trị hệ thống mới quản lý tài khoản.".into(),
            ));
        }
        Ok((
            accounts::managed(conn, &user)?,
            accounts::manageable_units(conn, &user)?,
        ))
    })
    .await?;
    let (status, error, errors) = form_failure(failure);
    Ok(html(
        status,
        &AccountsPage {
            user: Some(vm),
            admin,
            board,
            rows: {
                let folded = vn::fold(&search);
                let found: Vec<&AccountView> =
                    list.iter().filter(|a| matches(a, &folded)).collect();
                Listed::of(found.into_iter().map(|a| row_of(a, me)))
            },
            search,
            units: match units.len() {
                n if n > UNITS_TO_CHOOSE_AT_MOST => Vec::new(),
                _ => units.into_iter().map(|u| (u.code, u.name)).collect(),
            },
            form,
            notice,
            error,
            errors,
        },
    ))
}

async fn list_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    query: web::Query<AccountsQuery>,
) -> PageResult {
    let notice = match query.ok.as_deref() {
        Some("khoa") => {
            Some("Đã khóa tài khoản; các phiên đăng nhập của người đó đã kết thúc.".into())
        }
        Some("mo-khoa") => Some("Đã mở khóa tài khoản.".into()),
        _ => None,
    };
    let search: String = query.tim.trim().chars().take(100).collect();
    render_accounts(&state, user, search, AccountForm::default(), notice, None).await
}

/// The accounts page's query: what was just done, and what the list is narrowed to.
#[derive(Debug, Default, Deserialize)]
struct AccountsQuery {
    #[serde(default)]
    ok: Option<String>,
    #[serde(default)]
    tim: String,
}

#[derive(Template)]
#[template(path = "handout.html")]
struct HandoutPage {
    user: Option<UserVm>,
    heading: String,
    rows: Vec<HandoutRow>,
}

fn handout_page(user: &CurrentUser, heading: String, handouts: Vec<Handout>) -> HttpResponse {
    html(
        StatusCode::OK,
        &HandoutPage {
            user: Some(UserVm::from(user)),
            heading,
            rows: handouts
                .into_iter()
                .map(|h| HandoutRow {
                    unit_name: h.account.unit.name,
                    full_name: h.account.full_name,
                    username: h.account.username,
                    password: h.password,
                })
                .collect(),
        },
    )
}

async fn create_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    CheckedForm(form): CheckedForm<AccountForm>,
) -> PageResult {
    let optional = |s: &str| (!s.trim().is_empty()).then(|| s.to_owned());
    let input = AccountInput {
        unit: form.unit.clone(),
        username: form.username.clone(),
        full_name: form.full_name.clone(),
        role: None,
        phone: optional(&form.phone),
        email: optional(&form.email),
    };
    let actor = user.clone();
    let outcome = db(&state, move |conn, st| {
        accounts::create(conn, &actor, &[input], st.clock.now())
    })
    .await;
    match outcome {
        Ok(created) => Ok(handout_page(&user, "Đã tạo tài khoản".into(), created)),
        Err(e @ AppError::Invalid { .. }) => {
            render_accounts(&state, user, String::new(), form, None, Some(e)).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn bulk_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    req: HttpRequest,
    form: actix_multipart::Multipart,
) -> PageResult {
    let limit = state.limits.form_bytes;
    let actor = user.clone();
    let outcome = match form_files(&req, form, limit, limit).await {
        Ok(mut files) => {
            let (_, bytes) = files.swap_remove(0);
            db(&state, move |conn, st| {
                let people = sheet::read_people(&bytes).map_err(AppError::invalid)?;
                let inputs: Vec<AccountInput> = people.into_iter().map(person).collect();
                accounts::create(conn, &actor, &inputs, st.clock.now())
            })
            .await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(created) => {
            let heading = format!("Đã tạo {} tài khoản", created.len());
            Ok(handout_page(&user, heading, created))
        }
        Err(e @ (AppError::Invalid { .. } | AppError::TooLarge(_))) => {
            let status = e.status_code();
            let message = format!(
                "Tệp chưa được nhận, không tài khoản nào được tạo. {}",
                all_messages(&e)
            );
            let failure = AppError::BadRequest(message);
            let mut page = render_accounts(
                &state,
                user,
                String::new(),
                AccountForm::default(),
                None,
                Some(failure),
            )
            .await?;
            *page.status_mut() = status;
            Ok(page)
        }
        Err(e) => Err(e.into()),
    }
}

/// The handout sheet of the accounts just shown: built from what the page carries, since the
/// one-time passwords are kept nowhere.
async fn handout_sheet(
    PageUser(_user): PageUser,
    CheckedForm(fields): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let mut rows: Vec<HandoutRow> = Vec::new();
    let mut current: Option<HandoutRow> = None;
    for (key, value) in fields {
        match key.as_str() {
            "unit" => {
                rows.extend(current.take());
                current = Some(HandoutRow {
                    unit_name: value,
                    full_name: String::new(),
                    username: String::new(),
                    password: String::new(),
                });
            }
            "name" => current.iter_mut().for_each(|r| r.full_name = value.clone()),
            "username" => current.iter_mut().for_each(|r| r.username = value.clone()),
            "password" => current.iter_mut().for_each(|r| r.password = value.clone()),
            _ => {}
        }
    }
    rows.extend(current);
    if rows.is_empty() || rows.len() > sheet::MAX_PEOPLE {
        return Err(PageError(AppError::BadRequest(
            "Không có tài khoản nào để in phiếu.".into(),
        )));
    }
    let title = format!("PHIẾU GIAO TÀI KHOẢN – {}", vn::date_long(vn::today()));
    let bytes = sheet::handout_workbook(&title, &rows)
        .map_err(|e| AppError::Unexpected(anyhow::anyhow!("handout sheet: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"phieu-giao-tai-khoan.xlsx\"",
        ))
        .body(bytes))
}

async fn reset_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<i32>,
    _: CheckedForm<NoFields>,
) -> PageResult {
    let id = path.into_inner();
    let actor = user.clone();
    let handout = db(&state, move |conn, st| {
        accounts::reset_password(conn, &actor, id, st.clock.now())
    })
    .await?;
    Ok(handout_page(
        &user,
        "Đã đặt lại mật khẩu".into(),
        vec![handout],
    ))
}

async fn set_active_page(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: i32,
    active: bool,
) -> PageResult {
    db(&state, move |conn, st| {
        accounts::set_active(conn, &user, id, active, st.clock.now())
    })
    .await?;
    Ok(redirect(if active {
        "/tai-khoan?ok=mo-khoa"
    } else {
        "/tai-khoan?ok=khoa"
    }))
}

async fn deactivate_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<i32>,
    _: CheckedForm<NoFields>,
) -> PageResult {
    set_active_page(state, user, path.into_inner(), false).await
}

async fn reactivate_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<i32>,
    _: CheckedForm<NoFields>,
) -> PageResult {
    set_active_page(state, user, path.into_inner(), true).await
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    user: Option<UserVm>,
    forced: bool,
    notice: Option<String>,
    error: Option<String>,
    errors: HashMap<String, String>,
}

fn render_password(
    user: &CurrentUser,
    notice: Option<String>,
    failure: Option<AppError>,
) -> HttpResponse {
    let (status, error, errors) = form_failure(failure);
    html(
        status,
        &PasswordPage {
            user: Some(UserVm::from(user)),
            forced: user.account.must_change_password,
            notice,
            error,
            errors,
        },
    )
}

/// The signed-in person, with or without a one-time password (this page is where they change it).
async fn any_user(
    state: &web::Data<AppState>,
    req: &HttpRequest,
) -> Result<CurrentUser, PageError> {
    super::session::current_user(state, req)
        .await?
        .ok_or(PageError(AppError::Unauthenticated))
}

async fn password_form(state: web::Data<AppState>, req: HttpRequest) -> PageResult {
    let user = any_user(&state, &req).await?;
    Ok(render_password(&user, None, None))
}

#[derive(Debug, Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    again: String,
}

async fn password_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    CheckedForm(form): CheckedForm<PasswordForm>,
) -> PageResult {
    let user = any_user(&state, &req).await?;
    if form.new != form.again {
        let e = AppError::invalid(vec![report_schemas::FieldError {
            field: "again".into(),
            message: "Hai lần gõ mật khẩu mới không giống nhau.".into(),
        }]);
        return Ok(render_password(&user, None, Some(e)));
    }
    let actor = user.clone();
    let outcome = db(&state, move |conn, st| {
        accounts::change_own_password(conn, &actor, &form.current, &form.new, st.clock.now())
    })
    .await;
    match outcome {
        Ok(()) => Ok(redirect("/ky-bao-cao")),
        Err(e @ AppError::Invalid { .. }) => Ok(render_password(&user, None, Some(e))),
        Err(e) => Err(e.into()),
    }
}
