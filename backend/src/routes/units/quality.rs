//! The data-quality page of a board: every figure of its communes that stands far from the
//! commune's own earlier rounds or from its peers, by commune; and the same as JSON.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::page::{PageResult, PageUser, UserVm, html};
use super::super::{Scope, on_unit};
use crate::AppState;
use crate::domain::vn;
use crate::error::AppResult;
use crate::service::{CurrentUser, quality};

pub async fn quality_json(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i32, String)>,
) -> AppResult<HttpResponse> {
    let flags = on_unit(&state, user, path.into_inner(), |conn, _, s| {
        quality::flags(conn, &s.user, &s.ctx, &s.unit, None)
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "flags": flags })))
}

struct FlagRow {
    unit: String,
    link: String,
    indicator: String,
    value: String,
    against: &'static str,
    message: String,
}

#[derive(Template)]
#[template(path = "quality.html")]
struct QualityPage {
    user: Option<UserVm>,
    round_id: i32,
    round_title: String,
    unit_name: String,
    unit_code: String,
    units: usize,
    rows: Vec<FlagRow>,
    min_history: usize,
    z_limit: String,
    min_ratio: String,
    min_peers: usize,
    fence: String,
    min_gap: String,
}

pub async fn quality_page(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<(i32, String)>,
) -> PageResult {
    let vm = UserVm::from(&user);
    let round_id = path.0;
    let (ctx, unit, flags) = on_unit(&state, user, path.into_inner(), |conn, _, s| {
        let Scope { user, ctx, unit } = s;
        let flags = quality::flags(conn, &user, &ctx, &unit, None)?;
        Ok((ctx, unit, flags))
    })
    .await?;
    let t = &ctx.template;
    let mut units: Vec<&str> = flags.iter().map(|f| f.unit.code.as_str()).collect();
    units.dedup();
    let rows = flags
        .iter()
        .map(|f| {
            let ind = t.indicator(&f.key);
            let decimals = usize::from(matches!(
                ind.map(|i| &i.kind),
                Some(report_schemas::IndicatorKind::Decimal { .. })
            ));
            FlagRow {
                unit: f.unit.name.clone(),
                link: format!("/ky-bao-cao/{round_id}/bao-cao/{}", f.unit.code),
                indicator: ind.map_or_else(|| f.key.clone(), |i| i.label.clone()),
                value: vn::number(f.value, decimals),
                against: if f.against == "history" {
                    "Các kỳ trước của đơn vị"
                } else {
                    "Các đơn vị cùng kỳ"
                },
                message: f.message.clone(),
            }
        })
        .collect();
    Ok(html(
        StatusCode::OK,
        &QualityPage {
            user: Some(vm),
            round_id,
            round_title: ctx.round.title.clone(),
            unit_name: unit.name.clone(),
            unit_code: unit.code.clone(),
            units: units.len(),
            rows,
            min_history: quality::MIN_HISTORY,
            z_limit: vn::number(quality::Z_LIMIT, 1),
            min_ratio: vn::number(quality::MIN_RATIO, 0),
            min_peers: quality::MIN_PEERS,
            fence: vn::number(quality::FENCE, 0),
            min_gap: vn::number(quality::MIN_GAP, 0),
        },
    ))
}
