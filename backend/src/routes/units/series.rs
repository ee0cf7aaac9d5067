//! A unit's series: one indicator across the rounds of the template, with the same period a
//! year before, drawn and tabled; the unit's key figures against the previous period; the
//! same as JSON, and as a workbook with a native line chart.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::page::{PageResult, PageUser, UserVm, html};
use super::super::{Scope, on_unit};
use super::dashboard::{ChartQuery, delta_parts, period_lines, show};
use crate::AppState;
use crate::charts::{self, Column};
use crate::domain::RollupView;
use crate::domain::period::{parse_period_type, type_label};
use crate::error::AppResult;
use crate::excel::series::{SeriesRow, SeriesSheet, series_workbook};
use crate::service::dashboard::{self, KeyFigures, chartable};
use crate::service::series::{self, Series};
use crate::service::units::has_children;
use crate::service::{CurrentUser, RoundCtx, rollup, rounds};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

pub async fn series_json(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, String)>,
    query: web::Query<ChartQuery>,
) -> AppResult<HttpResponse> {
    let key = query.into_inner().chi_tieu;
    let s = on_unit(&state, user, path.into_inner(), move |conn, st, s| {
        series::series(conn, &st.catalog, &s.user, &s.ctx, &s.unit, key.as_deref())
    })
    .await?;
    Ok(HttpResponse::Ok().json(s))
}

struct PointVm {
    link: String,
    period: String,
    kind: &'static str,
    value: String,
    reports: u64,
    year_before: String,
    delta: String,
    delta_pct: String,
    delta_class: &'static str,
}

struct KeyVm {
    label: String,
    now: String,
    before: String,
    delta: String,
    delta_class: &'static str,
}

#[derive(Template)]
#[template(path = "series.html")]
struct SeriesPage {
    user: Option<UserVm>,
    round_id: i32,
    unit_name: String,
    unit_code: String,
    back: String,
    key: String,
    label: String,
    note: String,
    options: Vec<(String, String)>,
    svg: String,
    points: Vec<PointVm>,
    previous: Option<String>,
    keys: Vec<KeyVm>,
}

/// "6 tháng", "Năm", … for a stored period type.
fn kind_label(period_type: &str) -> &'static str {
    parse_period_type(period_type).map_or("", type_label)
}

/// The page, or with `.xlsx` after the unit's code, the workbook.
pub async fn series_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<(i32, String)>,
    query: web::Query<ChartQuery>,
) -> PageResult {
    let vm = UserVm::from(&user);
    let (round_id, file) = path.into_inner();
    let (code, workbook) = match file.strip_suffix(".xlsx") {
        Some(code) => (code.to_owned(), true),
        None => (file, false),
    };
    let key = query.into_inner().chi_tieu;
    let (ctx, s, view, board, leaf) =
        on_unit(&state, user, (round_id, code), move |conn, st, sc| {
            let Scope { user, ctx, unit } = sc;
            let s = series::series(conn, &st.catalog, &user, &ctx, &unit, key.as_deref())?;
            let leaf = !has_children(conn, &unit, ctx.round.period_end)?;
            // A commune's own figures count once submitted; a board's, once accepted.
            let view = rollup::rollup(conn, &user, &ctx, &unit, leaf)?;
            let board = dashboard::key_figures(conn, &st.catalog, &user, &ctx, &unit, &view)?;
            Ok((ctx, s, view, board, leaf))
        })
        .await?;
    if workbook {
        return Ok(workbook_response(&ctx, &s)?);
    }
    Ok(html(
        StatusCode::OK,
        &page(vm, &ctx, &s, &view, &board, leaf),
    ))
}

fn page(
    user: UserVm,
    ctx: &RoundCtx,
    s: &Series,
    view: &RollupView,
    board: &KeyFigures,
    leaf: bool,
) -> SeriesPage {
    let t = &ctx.template;
    let columns: Vec<Column> = s
        .points
        .iter()
        .map(|p| {
            let label = period_lines(&p.period_label);
            Column {
                label,
                round_id: p.round_id,
                value: p.value,
                text: show(&ctx.template, &s.key, p.value),
                reports: p.reports,
                href: None,
                current: p.round_id == ctx.round.id,
                other_kind: p.period_type != ctx.round.period_type,
            }
        })
        .collect();
    let points = s
        .points
        .iter()
        .map(|p| {
            let before = p.year_before.and_then(|(_, v)| v);
            let (delta, delta_pct, delta_class) = delta_parts(t, &s.key, p.value, before);
            PointVm {
                link: format!(
                    "/ky-bao-cao/{}/xu-huong/{}?chi-tieu={}",
                    p.round_id, s.unit.code, s.key
                ),
                period: p.period_label.clone(),
                kind: kind_label(&p.period_type),
                value: show(&ctx.template, &s.key, p.value),
                reports: p.reports,
                year_before: if p.year_before.is_some() {
                    show(&ctx.template, &s.key, before)
                } else {
                    String::new()
                },
                delta,
                delta_pct,
                delta_class,
            }
        })
        .collect();
    let keys = board
        .figures
        .iter()
        .map(|k| {
            let (d, pct, class) = delta_parts(t, &k.key, k.now, k.before);
            KeyVm {
                label: t
                    .indicator(&k.key)
                    .map_or_else(String::new, |i| i.label.clone()),
                now: show(&ctx.template, &k.key, k.now),
                before: show(&ctx.template, &k.key, k.before),
                delta: if pct.is_empty() {
                    d
                } else {
                    format!("{d} ({pct})")
                },
                delta_class: class,
            }
        })
        .collect();
    SeriesPage {
        user: Some(user),
        round_id: ctx.round.id,
        unit_name: s.unit.name.clone(),
        unit_code: s.unit.code.clone(),
        back: if leaf {
            format!("/ky-bao-cao/{}/bao-cao/{}", ctx.round.id, s.unit.code)
        } else {
            format!("/ky-bao-cao/{}/don-vi/{}", ctx.round.id, s.unit.code)
        },
        key: s.key.clone(),
        label: s.label.clone(),
        note: s.note.clone(),
        options: chartable(t)
            .map(|i| (i.key.clone(), i.label.clone()))
            .collect(),
        svg: charts::trend(
            "chart-series",
            &format!("{} qua các kỳ – {}", s.label, s.unit.name),
            &columns,
        ),
        points,
        previous: board.previous.as_ref().map(|p| {
            let n = view.total.reports;
            let period = rounds::period_label(p);
            match (n, leaf) {
                (0, _) => {
                    format!("{period} (kỳ này chưa có báo cáo được tính, nên chưa so sánh được)")
                }
                (_, true) => period,
                _ => format!("{period}, tính trên cùng {n} đơn vị có báo cáo được tính kỳ này"),
            }
        }),
        keys,
    }
}

fn workbook_response(ctx: &RoundCtx, s: &Series) -> AppResult<HttpResponse> {
    let t = &ctx.template;
    let ind = t.indicator(&s.key);
    let sheet = SeriesSheet {
        unit_name: s.unit.name.clone(),
        label: s.label.clone(),
        measure: ind.and_then(|i| i.unit.clone()).unwrap_or_default(),
        percent: ind.is_some_and(|i| matches!(i.kind, report_schemas::IndicatorKind::Ratio { .. })),
        note: s.note.clone(),
        rows: s
            .points
            .iter()
            .map(|p| SeriesRow {
                period: p.period_label.clone(),
                kind: kind_label(&p.period_type).to_owned(),
                value: p.value,
                reports: p.reports,
                year_before: p.year_before.and_then(|(_, v)| v),
            })
            .collect(),
    };
    let bytes = series_workbook(&sheet).map_err(anyhow::Error::from)?;
    Ok(HttpResponse::Ok()
        .content_type(XLSX)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"chuoi-{}-{}-ky-{}.xlsx\"",
                s.key, s.unit.code, ctx.round.id
            ),
        ))
        .body(bytes))
}
