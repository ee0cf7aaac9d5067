//! The dashboard at the top of a unit page: tiles, charts drawn as SVG, the activity fields by
//! child unit shaded by value; and each chart as a file to download.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use report_schemas::{AggValue, IndicatorKind, Template};
use serde::Deserialize;

use super::super::kept::{self, Share};
use super::super::page::display_agg;
use super::super::{Scope, on_unit};
use crate::AppState;
use crate::charts::{self, Bar, Column, Progress};
use crate::domain::{RollupRow, RollupView, vn};
use crate::error::{AppError, AppResult};
use crate::service::dashboard::{self, Dashboard, chartable, number, short_labels};
use crate::service::{CurrentUser, RoundCtx, rollup, rounds};

#[derive(Deserialize, Default)]
pub struct ChartQuery {
    #[serde(default, rename = "chi-tieu")]
    pub chi_tieu: Option<String>,
    #[serde(default, rename = "tam-tinh")]
    pub tam_tinh: Option<String>,
}

impl ChartQuery {
    pub fn provisional(&self) -> bool {
        self.tam_tinh.as_deref() == Some("1")
    }
}

pub struct Tile {
    pub id: String,
    pub label: String,
    pub value: String,
    pub detail: String,
    pub delta: String,
    pub delta_class: &'static str,
}

pub struct FieldCell {
    pub text: String,
    pub style: String,
}

pub struct FieldRow {
    pub name: String,
    pub link: String,
    pub cells: Vec<FieldCell>,
}

pub struct FieldsVm {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<FieldRow>,
}

pub struct DashboardVm {
    pub tiles: Vec<Tile>,
    pub compared_with: Option<String>,
    pub completeness_svg: String,
    pub ranked_svg: String,
    pub trend_svg: String,
    pub trend_note: String,
    pub chosen: String,
    pub chosen_label: String,
    pub options: Vec<(String, String)>,
    pub fields: Option<FieldsVm>,
    /// `?chi-tieu=…&tam-tinh=1` as the charts' download links carry it.
    pub query: String,
}

/// Where a child's bar leads: its report for a commune, its own page otherwise.
pub fn child_link(round_id: i32, row: &RollupRow, provisional: bool) -> String {
    if row.leaf {
        format!("/ky-bao-cao/{round_id}/bao-cao/{}", row.unit.code)
    } else {
        format!(
            "/ky-bao-cao/{round_id}/don-vi/{}{}",
            row.unit.code,
            if provisional { "?tam-tinh=1" } else { "" }
        )
    }
}

pub fn show(t: &Template, key: &str, x: Option<f64>) -> String {
    display_agg(t, key, x.map(AggValue::Number).as_ref())
}

/// The change from `before` to `now`: "+120" and "+8,5%" for a count; "+3,2 điểm %" and
/// nothing for a ratio (a change of a percentage in percent misleads); the direction's class.
pub fn delta_parts(
    t: &Template,
    key: &str,
    now: Option<f64>,
    before: Option<f64>,
) -> (String, String, &'static str) {
    let (Some(now), Some(before)) = (now, before) else {
        return (String::new(), String::new(), "");
    };
    let d = now - before;
    let class = if d.abs() < 1e-9 {
        "flat"
    } else if d > 0.0 {
        "up"
    } else {
        "down"
    };
    let sign = if d > 0.0 { "+" } else { "" };
    let ratio = t
        .indicator(key)
        .is_some_and(|i| matches!(i.kind, IndicatorKind::Ratio { .. }));
    if ratio {
        return (
            format!("{sign}{} điểm %", vn::number(d, 1)),
            String::new(),
            class,
        );
    }
    let decimals = usize::from(d.fract().abs() > 1e-9);
    let pct = if before.abs() > 1e-9 {
        let pct = d / before * 100.0;
        format!(
            "{}{}%",
            if pct > 0.0 { "+" } else { "" },
            vn::number(pct, 1)
        )
    } else {
        String::new()
    };
    (format!("{sign}{}", vn::number(d, decimals)), pct, class)
}

/// "+120 (+8,5%)" for a count, "+3,2 điểm %" for a ratio.
fn delta(t: &Template, key: &str, now: Option<f64>, before: Option<f64>) -> (String, &'static str) {
    let (d, pct, class) = delta_parts(t, key, now, before);
    if pct.is_empty() {
        (d, class)
    } else {
        (format!("{d} ({pct})"), class)
    }
}

/// A period in two short lines under its column: "6 tháng đầu" / "2024", "Cả năm" / "2024",
/// "Quý I" / "2024".
pub fn period_lines(label: &str) -> (String, String) {
    let head = label.trim_end_matches(|c: char| c.is_ascii_digit());
    let year = &label[head.len()..];
    if year.is_empty() {
        return (label.to_owned(), String::new());
    }
    let head = head.trim_end_matches('/').trim_end();
    let head = head.strip_suffix(" năm").unwrap_or(head).trim();
    let head = if head.is_empty() || head == "Năm" {
        "Cả năm"
    } else {
        head
    };
    (head.to_owned(), year.to_owned())
}

fn tiles(ctx: &RoundCtx, view: &RollupView, d: &Dashboard, overdue: usize) -> Vec<Tile> {
    let t = &ctx.template;
    let c = &view.total.completeness;
    let share = |n: u32| {
        if c.expected == 0 {
            "–".to_owned()
        } else {
            vn::percent(f64::from(n) / f64::from(c.expected) * 100.0)
        }
    };
    let waiting = c.submitted.saturating_sub(c.accepted);
    let mut out = vec![
        Tile {
            id: "tile-submitted".into(),
            label: "Tỷ lệ nộp".into(),
            value: share(c.submitted),
            detail: format!("{}/{} đơn vị đã nộp", c.submitted, c.expected),
            delta: String::new(),
            delta_class: "",
        },
        Tile {
            id: "tile-accepted".into(),
            label: "Tỷ lệ tiếp nhận".into(),
            value: share(c.accepted),
            detail: format!("{}/{} báo cáo đã được tiếp nhận", c.accepted, c.expected),
            delta: String::new(),
            delta_class: "",
        },
        Tile {
            id: "tile-overdue".into(),
            label: "Quá hạn chưa nộp".into(),
            value: vn::number(overdue as f64, 0),
            detail: format!("{} báo cáo nộp trễ hạn", c.late),
            delta: String::new(),
            delta_class: "",
        },
        Tile {
            id: "tile-waiting".into(),
            label: "Chờ xem xét".into(),
            value: vn::number(f64::from(waiting), 0),
            detail: if d.awaiting_children > 0 {
                format!(
                    "{} báo cáo của đơn vị trực thuộc chờ Ban xem xét",
                    d.awaiting_children
                )
            } else {
                "báo cáo đã nộp, chưa được tiếp nhận".into()
            },
            delta: String::new(),
            delta_class: "",
        },
    ];
    let counted = view.total.reports;
    let same_units = if c.accepted == c.expected && !view.provisional {
        String::new()
    } else {
        format!(", cùng {counted} đơn vị")
    };
    for k in &d.key_figures {
        let Some(ind) = t.indicator(&k.key) else {
            continue;
        };
        let (delta, delta_class) = delta(t, &k.key, k.now, k.before);
        out.push(Tile {
            id: format!("tile-{}", k.key),
            label: ind.label.clone(),
            value: show(t, &k.key, k.now),
            detail: match (&d.previous, k.before) {
                (Some(p), Some(_)) => format!(
                    "kỳ trước ({}{same_units}): {}",
                    rounds::period_label(p),
                    show(t, &k.key, k.before)
                ),
                (Some(p), None) => {
                    format!("kỳ trước ({}): chưa có số liệu", rounds::period_label(p))
                }
                (None, _) => "chưa có kỳ trước cùng loại".into(),
            },
            delta,
            delta_class,
        });
    }
    out
}

/// The charts of a dashboard, as SVG: completeness, the chosen indicator ranked, its trend.
pub struct Svgs {
    pub completeness: String,
    pub ranked: String,
    pub trend: String,
}

pub fn svgs(ctx: &RoundCtx, view: &RollupView, d: &Dashboard) -> Svgs {
    let t = &ctx.template;
    let round_id = ctx.round.id;
    let provisional = view.provisional;
    let label = t.indicator(&d.chosen).map_or("", |i| i.label.as_str());
    let progress: Vec<Progress> = view
        .rows
        .iter()
        .map(|r| {
            let c = &r.completeness;
            Progress {
                label: r.unit.name.clone(),
                code: r.unit.code.clone(),
                expected: c.expected,
                accepted: c.accepted,
                waiting: c.submitted.saturating_sub(c.accepted),
                text: if r.leaf {
                    r.status.label().to_owned()
                } else {
                    format!("{}/{} · {}", c.submitted, c.expected, vn::percent(c.rate()))
                },
                href: Some(child_link(round_id, r, provisional)),
            }
        })
        .collect();
    let mut bars: Vec<Bar> = view
        .rows
        .iter()
        .map(|r| {
            let value = match r.values.get(&d.chosen) {
                Some(Some(AggValue::Number(x))) => Some(*x),
                _ => None,
            };
            Bar {
                label: r.unit.name.clone(),
                code: r.unit.code.clone(),
                value,
                text: show(t, &d.chosen, value),
                href: Some(child_link(round_id, r, provisional)),
            }
        })
        .collect();
    bars.sort_by(|a, b| {
        b.value
            .unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&a.value.unwrap_or(f64::NEG_INFINITY))
    });
    let columns: Vec<Column> = d
        .series
        .iter()
        .map(|s| {
            let value = number(&s.ctx.template, &s.total, &d.chosen);
            let current = s.ctx.round.id == round_id;
            Column {
                label: period_lines(&rounds::period_label(&s.ctx.round)),
                round_id: s.ctx.round.id,
                value,
                text: show(t, &d.chosen, value),
                reports: s.total.reports(),
                href: (!current)
                    .then(|| format!("/ky-bao-cao/{}/don-vi/{}", s.ctx.round.id, view.unit.code)),
                current,
                other_kind: s.ctx.round.period_type != ctx.round.period_type,
            }
        })
        .collect();
    Svgs {
        completeness: charts::progress(
            "chart-completeness",
            &format!("Tình hình nộp báo cáo theo đơn vị – {}", view.unit.name),
            &progress,
        ),
        ranked: charts::ranked(
            "chart-ranked",
            &format!("{label} theo đơn vị – {}", view.unit.name),
            &bars,
        ),
        trend: charts::trend(
            "chart-trend",
            &format!("{label} qua các kỳ báo cáo – {}", view.unit.name),
            &columns,
        ),
    }
}

fn fields_vm(ctx: &RoundCtx, view: &RollupView, d: &Dashboard) -> Option<FieldsVm> {
    let f = d.fields.as_ref()?;
    let t = &ctx.template;
    let (prefix, columns) = short_labels(t, &f.keys);
    let value = |r: &RollupRow, k: &str| match r.values.get(k) {
        Some(Some(AggValue::Number(x))) => Some(*x),
        _ => None,
    };
    let max = view
        .rows
        .iter()
        .flat_map(|r| f.keys.iter().filter_map(move |k| value(r, k)))
        .fold(0.0_f64, f64::max);
    Some(FieldsVm {
        title: format!("{} – {prefix}", f.group_title),
        columns,
        rows: view
            .rows
            .iter()
            .map(|r| FieldRow {
                name: r.unit.name.clone(),
                link: child_link(ctx.round.id, r, view.provisional),
                cells: f
                    .keys
                    .iter()
                    .map(|k| {
                        let v = value(r, k);
                        let share = match v {
                            Some(x) if max > 0.0 => x / max,
                            _ => 0.0,
                        };
                        let alpha = if v.is_some() {
                            0.06 + 0.84 * share
                        } else {
                            0.0
                        };
                        FieldCell {
                            text: show(t, k, v),
                            style: format!(
                                "background:rgba(46,117,182,{alpha:.2});color:{}",
                                if alpha > 0.5 { "#fff" } else { "#1f2933" }
                            ),
                        }
                    })
                    .collect(),
            })
            .collect(),
    })
}

pub fn dashboard_vm(
    ctx: &RoundCtx,
    view: &RollupView,
    d: &Dashboard,
    overdue: usize,
) -> DashboardVm {
    let t = &ctx.template;
    let svgs = svgs(ctx, view, d);
    let mut query = format!("?chi-tieu={}", d.chosen);
    if view.provisional {
        query.push_str("&tam-tinh=1");
    }
    let other_kinds = d
        .series
        .iter()
        .any(|s| s.ctx.round.period_type != ctx.round.period_type);
    DashboardVm {
        tiles: tiles(ctx, view, d, overdue),
        compared_with: d.previous.as_ref().map(rounds::period_label),
        completeness_svg: svgs.completeness,
        ranked_svg: svgs.ranked,
        trend_svg: svgs.trend,
        trend_note: format!(
            "Mỗi cột là một kỳ báo cáo, trong ngoặc là số báo cáo được tính{}; số liệu các kỳ trước tính theo các đơn vị hiện nay của {} (đơn vị cũ đã hợp nhất được cộng vào đơn vị mới), chỉ gồm báo cáo đã được tiếp nhận.",
            if other_kinds {
                "; cột nhạt là kỳ khác loại với kỳ này (kỳ năm so với kỳ 6 tháng), không so trực tiếp được"
            } else {
                ""
            },
            view.unit.name
        ),
        chosen: d.chosen.clone(),
        chosen_label: t
            .indicator(&d.chosen)
            .map_or_else(String::new, |i| i.label.clone()),
        options: chartable(t)
            .map(|i| (i.key.clone(), i.label.clone()))
            .collect(),
        fields: fields_vm(ctx, view, d),
        query,
    }
}

fn no_such_chart() -> AppError {
    AppError::NotFound("Không có biểu đồ này.".into())
}

/// `/ky-bao-cao/{round}/don-vi/{unit}/bieu-do/{name}.svg`: one chart of the dashboard as a file.
pub async fn chart_file(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CurrentUser,
    path: web::Path<(i32, String, String)>,
    query: web::Query<ChartQuery>,
) -> AppResult<HttpResponse> {
    let viewer = kept::viewer(&user, Share::Account);
    let round_id = path.0;
    let chart = built_chart(state.clone(), user, path, query);
    kept::kept(&state, &req, viewer, round_id, chart).await
}

async fn built_chart(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, String, String)>,
    query: web::Query<ChartQuery>,
) -> AppResult<HttpResponse> {
    let (round_id, code, name) = path.into_inner();
    let Some(which) = name.strip_suffix(".svg").map(str::to_owned) else {
        return Err(no_such_chart());
    };
    if !matches!(which.as_str(), "tinh-hinh-nop" | "xep-hang" | "xu-huong") {
        return Err(no_such_chart());
    }
    let query = query.into_inner();
    let provisional = query.provisional();
    let (svg, file) = on_unit(&state, user, (round_id, code), move |conn, st, s| {
        let Scope { user, ctx, unit } = s;
        let view = rollup::rollup(conn, &user, &ctx, &unit, provisional)?;
        let d = dashboard::dashboard(
            conn,
            &st.catalog,
            &user,
            &ctx,
            &unit,
            &view,
            query.chi_tieu.as_deref(),
        )?;
        let svgs = svgs(&ctx, &view, &d);
        let svg = match which.as_str() {
            "tinh-hinh-nop" => svgs.completeness,
            "xep-hang" => svgs.ranked,
            _ => svgs.trend,
        };
        let file = format!("{which}-{}-ky-{round_id}.svg", unit.code);
        Ok((svg, file))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file}\""),
        ))
        .body(format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{svg}")))
}
