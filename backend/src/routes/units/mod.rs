//! A unit in a round: its page (completeness by child unit, the consolidation, each narrative
//! section listed per child, the overdue list, the orientation), its rollup as JSON, and the
//! comparison of two rounds.

mod dashboard;
mod grid;
mod quality;
mod series;

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use report_schemas::AggValue;
use serde::Deserialize;

use super::kept::{self, Share};
use super::page::{
    Listed, NoticeQuery, PageResult, PageUser, UserVm, display_agg, html, redirect, status_class,
};
use super::session::Session;
use super::{ProvisionalQuery, Scope, db, on_unit};
use crate::AppState;
use crate::domain::{RollupRow, RollupView, vn};
use crate::error::AppResult;
use crate::service::access::{round_for, unit_for};
use crate::service::filing::{self, ReportView};
use crate::service::orientation::{self, Orientation};
use crate::service::round_life::{self, RoundEvent};
use crate::service::units::{has_children, unit_by_id};
use crate::service::{CurrentUser, RoundCtx, compare, deadlines, rollup, rounds};

pub fn api(cfg: &mut web::ServiceConfig) {
    cfg.route("/rounds/{round}/rollup/{unit}", web::get().to(rollup_json))
        .route("/rounds/{round}/overdue/{unit}", web::get().to(overdue))
        .route(
            "/rounds/{round}/quality/{unit}",
            web::get().to(quality::quality_json),
        )
        .route(
            "/rounds/{round}/series/{unit}",
            web::get().to(series::series_json),
        )
        .route(
            "/rounds/{round}/compare/{other}/{unit}",
            web::get().to(compare_json),
        );
}

pub fn pages(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/ky-bao-cao/{round}/don-vi/{unit}",
        web::get().to(unit_page),
    )
    .route(
        "/ky-bao-cao/{round}/so-sanh/{unit}",
        web::get().to(compare_page),
    )
    .route(
        "/ky-bao-cao/{round}/xu-huong/{unit}",
        web::get().to(series::series_page),
    )
    .route(
        "/ky-bao-cao/{round}/chat-luong/{unit}",
        web::get().to(quality::quality_page),
    )
    .route(
        "/ky-bao-cao/{round}/don-vi/{unit}/bieu-do/{chart}",
        web::get().to(dashboard::chart_file),
    );
}

// JSON API

async fn rollup_json(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<(i32, String)>,
    query: web::Query<ProvisionalQuery>,
) -> AppResult<HttpResponse> {
    let provisional = query.provisional();
    kept::kept_json(
        &state,
        &req,
        session,
        Share::Account,
        path.into_inner(),
        move |conn, _, s| rollup::rollup(conn, &s.user, &s.ctx, &s.unit, provisional),
    )
    .await
}

async fn overdue(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, String)>,
) -> AppResult<HttpResponse> {
    let list = on_unit(&state, user, path.into_inner(), |conn, _, s| {
        deadlines::overdue(conn, &s.user, &s.ctx, &s.unit)
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "overdue": list })))
}

/// Both rounds and the unit, each as this person may see it.
async fn comparison(
    state: &web::Data<AppState>,
    user: CurrentUser,
    (round_id, other_id, code): (i32, i32, String),
    provisional: bool,
) -> AppResult<(RoundCtx, RoundCtx, compare::Comparison)> {
    db(state, move |conn, st| {
        let now = st.clock.now();
        let ctx = round_for(conn, &st.catalog, &user, round_id, now)?;
        let other = round_for(conn, &st.catalog, &user, other_id, now)?;
        let unit = unit_for(conn, &user, &ctx, &code)?;
        let cmp = compare::compare(conn, &user, &ctx, &other, &unit, provisional)?;
        Ok((ctx, other, cmp))
    })
    .await
}

async fn compare_json(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, i32, String)>,
    query: web::Query<ProvisionalQuery>,
) -> AppResult<HttpResponse> {
    let (_, _, view) = comparison(&state, user, path.into_inner(), query.provisional()).await?;
    Ok(HttpResponse::Ok().json(view))
}

// Pages

struct ChildRow {
    name: String,
    link: String,
    status: String,
    status_class: &'static str,
    submitted_at: String,
    timing: String,
    expected: u32,
    submitted: u32,
    accepted: u32,
    late: u32,
    missing: u32,
    rate: String,
}

struct NarrativeBlock {
    title: String,
    entries: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "unit.html")]
struct UnitPage {
    user: Option<UserVm>,
    round_id: i32,
    round_title: String,
    period: String,
    unit_name: String,
    unit_code: String,
    parent_link: Option<String>,
    provisional: bool,
    own_report_link: Option<String>,
    own_status: String,
    own_status_class: &'static str,
    total: ChildRow,
    children: Vec<ChildRow>,
    /// Every child files its own figures (a district's communes): the table shows each one's
    /// status and dates, not counts that are always 1 or 0.
    leaves_only: bool,
    child_names: Vec<String>,
    indicators: Vec<grid::IndicatorRow>,
    narratives: Vec<NarrativeBlock>,
    commune_deadline: String,
    district_deadline: String,
    /// Who answers to the second deadline.
    upper_deadline: &'static str,
    orientation: Orientation,
    open_orientation: bool,
    owned: bool,
    open: bool,
    can_set_tasks: bool,
    own_tasks: String,
    own_task_count: usize,
    overdue: Listed<OverdueVm>,
    board: dashboard::DashboardVm,
    /// Other rounds this consolidation can be compared with: (id, title).
    others: Vec<(i32, String)>,
    /// For the round's owner: the round's history.
    history: Vec<RoundEventVm>,
    notice: Option<String>,
}

struct RoundEventVm {
    at: String,
    who: String,
    action: &'static str,
    details: Vec<String>,
}

struct OverdueVm {
    name: String,
    parent: String,
    status: String,
    status_class: &'static str,
    deadline: String,
    days: i64,
}

/// What the unit page shows around the consolidation.
struct UnitExtras {
    orientation: Orientation,
    owned: bool,
    can_set_tasks: bool,
    own_tasks: Vec<String>,
    overdue: Vec<deadlines::Overdue>,
    others: Vec<(i32, String)>,
    history: Vec<RoundEvent>,
    notice: Option<String>,
    dashboard: crate::service::dashboard::Dashboard,
}

fn child_row(round_id: i32, row: &RollupRow, provisional: bool) -> ChildRow {
    let c = &row.completeness;
    let link = dashboard::child_link(round_id, row, provisional);
    ChildRow {
        name: row.unit.name.clone(),
        link,
        status: row.status.label().into(),
        status_class: status_class(row.status),
        submitted_at: row.submitted_at.map(vn::datetime).unwrap_or_default(),
        timing: match row.on_time {
            Some(true) => "Đúng hạn".into(),
            Some(false) => "Trễ hạn".into(),
            None => String::new(),
        },
        expected: c.expected,
        submitted: c.submitted,
        accepted: c.accepted,
        late: c.late,
        missing: c.missing,
        rate: vn::percent(c.rate()),
    }
}

async fn unit_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    PageUser(user): PageUser,
    path: web::Path<(i32, String)>,
    query: web::Query<dashboard::ChartQuery>,
    notice: web::Query<NoticeQuery>,
) -> PageResult {
    let viewer = kept::viewer(&user, Share::Session);
    let round_id = path.0;
    let page = built_unit_page(state.clone(), user, path, query, notice);
    kept::kept(&state, &req, viewer, round_id, page).await
}

async fn built_unit_page(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, String)>,
    query: web::Query<dashboard::ChartQuery>,
    notice: web::Query<NoticeQuery>,
) -> PageResult {
    let round_id = path.0;
    let provisional = query.provisional();
    let chosen = query.into_inner().chi_tieu;
    let notice = match notice.ok.as_deref() {
        Some("gia-han") => {
            Some("Đã gia hạn nộp báo cáo; các đơn vị thấy hạn mới và lý do.".to_owned())
        }
        Some("mo-lai-ky") => Some("Đã mở lại kỳ báo cáo.".to_owned()),
        _ => None,
    };
    let vm = UserVm::from(&user);
    let result = on_unit(&state, user, path.into_inner(), move |conn, st, s| {
        let Scope { user, ctx, unit } = s;
        if !has_children(conn, &unit, ctx.round.period_end)? {
            return Ok(Err(format!("/ky-bao-cao/{round_id}/bao-cao/{}", unit.code)));
        }
        let view = rollup::rollup(conn, &user, &ctx, &unit, provisional)?;
        let own = filing::report_view(conn, &user, &ctx, &unit)?;
        let parent_link = match unit.parent_id {
            Some(pid) if pid != user.unit.id || user.unit.id != unit.id => {
                let parent = unit_by_id(conn, pid)?;
                user.can_read(&parent)
                    .then(|| format!("/ky-bao-cao/{round_id}/don-vi/{}", parent.code))
            }
            _ => None,
        };
        let files_own = user.can_file(&unit) && ctx.owner.id != unit.id;
        let owned = ctx.owner.id == unit.id && user.unit.id == unit.id && user.role.reviews();
        let board = crate::service::dashboard::dashboard(
            conn,
            &st.catalog,
            &user,
            &ctx,
            &unit,
            &view,
            chosen.as_deref(),
        )?;
        let extras = UnitExtras {
            dashboard: board,
            orientation: orientation::orientation_for(conn, &ctx, &unit)?,
            owned,
            history: if owned {
                round_life::round_history(conn, &ctx)?
            } else {
                Vec::new()
            },
            notice,
            can_set_tasks: ctx.is_open()
                && user.unit.id == unit.id
                && user.role.reviews()
                && ctx.owner.id != unit.id,
            own_tasks: orientation::own_tasks(conn, &ctx, &unit)?,
            overdue: deadlines::overdue(conn, &user, &ctx, &unit)?,
            others: rounds::list_rounds(conn, &st.catalog, &user, ctx.now)?
                .into_iter()
                .filter(|r| r.id != ctx.round.id)
                .map(|r| (r.id, r.title))
                .collect(),
        };
        Ok(Ok((ctx, view, own, parent_link, files_own, extras)))
    })
    .await?;
    let (ctx, view, own, parent_link, files_own, extras) = match result {
        Ok(parts) => parts,
        Err(to) => return Ok(redirect(&to)),
    };
    Ok(html(
        StatusCode::OK,
        &build_unit_page(vm, &ctx, &view, &own, parent_link, files_own, extras),
    ))
}

fn build_unit_page(
    user: UserVm,
    ctx: &RoundCtx,
    view: &RollupView,
    own: &ReportView,
    parent_link: Option<String>,
    files_own: bool,
    extras: UnitExtras,
) -> UnitPage {
    let t = &ctx.template;
    let board = dashboard::dashboard_vm(ctx, view, &extras.dashboard, extras.overdue.len());
    let indicators = grid::indicator_rows(t, view);
    let narratives = t
        .sections
        .iter()
        .map(|s| NarrativeBlock {
            title: s.title.clone(),
            entries: view
                .rows
                .iter()
                .filter_map(|r| {
                    r.sections
                        .get(&s.key)
                        .map(|text| (r.unit.name.clone(), text.clone()))
                })
                .collect(),
        })
        .collect();
    UnitPage {
        user: Some(user),
        round_id: ctx.round.id,
        round_title: ctx.round.title.clone(),
        period: rounds::period_beside_title(&ctx.round),
        unit_name: view.unit.name.clone(),
        unit_code: view.unit.code.clone(),
        parent_link,
        provisional: view.provisional,
        own_report_link: files_own
            .then(|| format!("/ky-bao-cao/{}/bao-cao/{}", ctx.round.id, view.unit.code)),
        own_status: own.status.label().into(),
        own_status_class: status_class(own.status),
        total: child_row(ctx.round.id, &view.total, view.provisional),
        children: view
            .rows
            .iter()
            .map(|r| child_row(ctx.round.id, r, view.provisional))
            .collect(),
        child_names: view.rows.iter().map(|r| r.unit.name.clone()).collect(),
        leaves_only: view.rows.iter().all(|r| r.leaf),
        indicators,
        narratives,
        commune_deadline: vn::datetime(ctx.round.commune_deadline),
        district_deadline: vn::datetime(ctx.round.district_deadline),
        upper_deadline: ctx.upper_deadline_label(),
        open_orientation: false,
        orientation: extras.orientation,
        owned: extras.owned,
        open: ctx.is_open(),
        can_set_tasks: extras.can_set_tasks,
        own_task_count: extras.own_tasks.len(),
        own_tasks: extras.own_tasks.join("\n"),
        others: extras.others,
        history: extras
            .history
            .into_iter()
            .map(|e| RoundEventVm {
                at: vn::datetime(e.at),
                who: e.actor.unwrap_or_else(|| "Hệ thống".into()),
                action: e.action_label,
                details: e.details,
            })
            .collect(),
        notice: extras.notice,
        board,
        overdue: Listed::of(extras.overdue.into_iter().map(|o| OverdueVm {
            name: o.unit.name,
            parent: o.parent.name,
            status: o.status.label().into(),
            status_class: status_class(o.status),
            deadline: vn::datetime(o.deadline),
            days: o.days_late,
        })),
    }
}

#[derive(Deserialize)]
struct CompareQuery {
    voi: i32,
    #[serde(default, rename = "chi-tieu")]
    chi_tieu: Option<String>,
}

#[derive(Template)]
#[template(path = "compare.html")]
struct ComparePage {
    user: Option<UserVm>,
    round_id: i32,
    other_id: i32,
    unit_name: String,
    unit_code: String,
    title: String,
    other_title: String,
    note: String,
    /// When the two periods are of different kinds (six months against a year).
    kind_warning: Option<String>,
    totals: Vec<CompareLine>,
    chosen_label: String,
    units: Vec<CompareLine>,
}

/// A line of the comparison: an indicator (or a unit), both figures and the change.
struct CompareLine {
    key: String,
    label: String,
    now: String,
    other: String,
    delta: String,
    delta_pct: String,
    delta_class: &'static str,
    reports: u64,
}

async fn compare_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<(i32, String)>,
    query: web::Query<CompareQuery>,
) -> PageResult {
    let vm = UserVm::from(&user);
    let (round_id, code) = path.into_inner();
    let CompareQuery { voi, chi_tieu } = query.into_inner();
    let (ctx, other, cmp) = comparison(&state, user, (round_id, voi, code), false).await?;
    let t = &ctx.template;
    let number = |key: &str, v: &BTreeMap<String, Option<AggValue>>| match v.get(key) {
        Some(Some(AggValue::Number(x))) => Some(*x),
        _ => None,
    };
    let line = |key: &str,
                label: String,
                now: &BTreeMap<String, Option<AggValue>>,
                other: &BTreeMap<String, Option<AggValue>>,
                reports: u64| {
        let (delta, delta_pct, delta_class) =
            dashboard::delta_parts(t, key, number(key, now), number(key, other));
        CompareLine {
            key: key.to_owned(),
            label,
            now: display_agg(t, key, now.get(key).and_then(Option::as_ref)),
            other: display_agg(t, key, other.get(key).and_then(Option::as_ref)),
            delta,
            delta_pct,
            delta_class,
            reports,
        }
    };
    let keys: Vec<&String> = cmp.total.values.keys().collect();
    let chosen = chi_tieu
        .filter(|k| cmp.total.values.contains_key(k))
        .or_else(|| {
            t.indicators
                .iter()
                .map(|i| i.key.clone())
                .find(|k| cmp.total.values.contains_key(k))
        })
        .unwrap_or_default();
    let label = |key: &str| {
        t.indicator(key)
            .map_or_else(|| key.to_owned(), |i| i.label.clone())
    };
    let mut totals: Vec<CompareLine> = keys
        .iter()
        .map(|k| {
            line(
                k,
                label(k),
                &cmp.total.values,
                &cmp.total.other_values,
                cmp.total.other_reports,
            )
        })
        .collect();
    let order = |k: &str| {
        t.indicators
            .iter()
            .position(|i| i.key == k)
            .unwrap_or(usize::MAX)
    };
    totals.sort_by_key(|r| order(&r.key));
    Ok(html(
        StatusCode::OK,
        &ComparePage {
            user: Some(vm),
            round_id,
            other_id: voi,
            unit_name: cmp.unit.name.clone(),
            unit_code: cmp.unit.code.clone(),
            title: ctx.round.title.clone(),
            other_title: other.round.title.clone(),
            note: cmp.note.clone(),
            kind_warning: cmp.kind_warning.clone(),
            totals,
            chosen_label: label(&chosen),
            units: cmp
                .rows
                .iter()
                .map(|r| {
                    line(
                        &chosen,
                        r.unit.name.clone(),
                        &r.values,
                        &r.other_values,
                        r.other_reports,
                    )
                })
                .collect(),
        },
    ))
}
