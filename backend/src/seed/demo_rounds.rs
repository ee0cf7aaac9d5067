//! The demo's rounds: the open six-month round of 2025 with reports in every state, and the
//! closed rounds before it (six months of 2022; six months and year of 2023 and 2024), every report accepted,
//! so that trends and comparisons have real history to show.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use report_schemas::{Mode, Template};
use serde_json::json;

use super::{
    DEMO_ORIENTATION, DEMO_TASKS, Rng, demo_values, draw_values, finish_values, scaled_values,
};
use crate::catalog::Catalog;
use crate::db::Conn;
use crate::db::models::{NewAuditEntry, NewReport, NewReviewEvent, Round, Unit};
use crate::db::schema::{accounts, audit_log, reports, review_events, rounds, units};
use crate::domain::vn;
use crate::service::rounds::RoundInput;
use crate::service::{self, CurrentUser};

/// The rounds before the demo's open one: period type, year, and how busy the communes were
/// against the first half of 2025 (a year's round counts about twice a half-year's).
const HISTORY: &[(&str, i32, f64)] = &[
    ("half_year", 2022, 0.64),
    ("half_year", 2023, 0.72),
    ("year", 2023, 1.50),
    ("half_year", 2024, 0.86),
    ("year", 2024, 1.77),
];

/// Opens the demo round (6 tháng đầu năm 2025, when the three-level tree still stood) and
/// files reports for part of the communes: accepted, submitted, returned, late, drafts, missing.
pub fn demo_round(conn: &mut Conn, catalog: &Catalog) -> anyhow::Result<Option<i32>> {
    let Some(province) = province(conn)? else {
        return Ok(None);
    };
    let input = RoundInput {
        template: "dinh-ky".into(),
        period_type: "half_year".into(),
        year: 2025,
        orientation: Some(DEMO_ORIENTATION.into()),
        tasks: DEMO_TASKS.iter().map(|t| (*t).to_owned()).collect(),
        ..RoundInput::default()
    };
    let Some((round, template)) = open(conn, catalog, &province, &input, vn::now_utc())? else {
        return Ok(None);
    };
    let account_of = accounts_by_unit(conn)?;
    let communes = communes_of(conn, &province)?;
    crate::db::write_lock_transaction(conn, |conn| {
        file_communes(conn, &template, &round, &communes, &account_of)?;
        // Filed behind the service's back: consolidate the round from scratch.
        service::rollup::live::rebuild_round(conn, round.id).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok::<_, anyhow::Error>(())
    })?;
    district_reports(
        conn,
        catalog,
        round.id,
        &province,
        &account_of,
        &[("336", "accepted"), ("341", "submitted")],
    )?;
    Ok(Some(round.id))
}

/// The closed rounds before the demo's open one, each with every commune's report accepted
/// (the same commune busier or quieter as the years go) and every district's consolidation
/// accepted by the province. Returns how many rounds were added.
pub fn demo_history(conn: &mut Conn, catalog: &Catalog) -> anyhow::Result<usize> {
    history_rounds(conn, catalog, HISTORY)
}

/// Closed rounds of the periodic template for `periods` (period type, year, how busy the
/// communes were against the first half of 2025), filed as [`demo_history`] files them; a
/// period already there is left alone. Returns how many rounds were added.
pub fn history_rounds(
    conn: &mut Conn,
    catalog: &Catalog,
    periods: &[(&str, i32, f64)],
) -> anyhow::Result<usize> {
    let Some(province) = province(conn)? else {
        return Ok(0);
    };
    let account_of = accounts_by_unit(conn)?;
    let communes = communes_of(conn, &province)?;
    let mut added = 0;
    for &(period_type, year, scale) in periods {
        let label = if period_type == "year" {
            format!("năm {year}")
        } else {
            format!("6 tháng đầu năm {year}")
        };
        let input = RoundInput {
            template: "dinh-ky".into(),
            period_type: period_type.into(),
            year,
            orientation: Some(format!(
                "Trong {label}, các Tổ khoa giáo tập trung tuyên truyền các nghị quyết, kết luận của Tỉnh ủy về giáo dục - đào tạo, y tế, khoa học - công nghệ và bảo vệ môi trường; nắm bắt tình hình tư tưởng ở cơ sở."
            )),
            ..RoundInput::default()
        };
        let month = if period_type == "year" { 12 } else { 6 };
        let opened = NaiveDate::from_ymd_opt(year, month, 10)
            .and_then(|d| d.and_hms_opt(2, 0, 0))
            .ok_or_else(|| anyhow::anyhow!("no such date"))?;
        let Some((round, template)) = open(conn, catalog, &province, &input, opened)? else {
            continue;
        };
        let deadline = round.commune_deadline;
        crate::db::write_lock_transaction(conn, |conn| {
            for unit in &communes {
                // The commune's usual figures (what it files in 2025), scaled to this period.
                let mut usual = Rng::new(&unit.code);
                usual.range(0, 99);
                let roster = roster_of(conn, unit, &round, &template)?;
                let base = draw_values(&template, &mut usual, &roster);
                let mut rng = Rng::new(&format!("{}/{period_type}/{year}", unit.code));
                let values = scaled_values(&template, &mut rng, &roster, base, scale);
                let (values, sections) = finish_values(&template, &mut rng, values)?;
                let submitted = if rng.chance(10) {
                    deadline + Duration::hours(rng.range(2, 120))
                } else {
                    deadline - Duration::hours(rng.range(2, 200))
                };
                let reviewed = submitted + Duration::hours(rng.range(4, 72));
                file(
                    conn,
                    &template,
                    &Filed {
                        round_id: round.id,
                        unit,
                        status: "accepted",
                        values: &values,
                        sections: &sections,
                        submitted: Some(submitted),
                        reviewed: Some(reviewed),
                        reason: None,
                        filer: account_of.get(&unit.id).copied(),
                        reviewer: unit.parent_id.and_then(|p| account_of.get(&p).copied()),
                        updated: reviewed,
                        included: None,
                    },
                )?;
            }
            service::rollup::live::rebuild_round(conn, round.id)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok::<_, anyhow::Error>(())
        })?;
        let districts: Vec<(String, &str)> = units::table
            .filter(units::parent_id.eq(province.id))
            .select(units::code)
            .load::<String>(conn)?
            .into_iter()
            .map(|c| (c, "accepted"))
            .collect();
        let districts: Vec<(&str, &str)> =
            districts.iter().map(|(c, s)| (c.as_str(), *s)).collect();
        district_reports(conn, catalog, round.id, &province, &account_of, &districts)?;
        diesel::update(rounds::table.find(round.id))
            .set((
                rounds::status.eq("closed"),
                rounds::closed_at.eq(Some(round.district_deadline + Duration::days(10))),
            ))
            .execute(conn)?;
        added += 1;
    }
    Ok(added)
}

fn province(conn: &mut Conn) -> anyhow::Result<Option<Unit>> {
    service::units::unit_by_code(conn, "34", None).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Opens the round of `province` (or of the centre) for `input`, unless one of that period
/// is there already.
pub(super) fn open(
    conn: &mut Conn,
    catalog: &Catalog,
    province: &Unit,
    input: &RoundInput,
    now: NaiveDateTime,
) -> anyhow::Result<Option<(Round, Arc<Template>)>> {
    let exists: i64 = rounds::table
        .filter(rounds::owner_unit_id.eq(province.id))
        .filter(rounds::period_type.eq(&input.period_type))
        .filter(rounds::period_year.eq(input.year))
        .count()
        .get_result(conn)?;
    if exists > 0 {
        return Ok(None);
    }
    let id = service::rounds::open_round(conn, catalog, None, province, input, now)
        .map_err(|e| anyhow::anyhow!("opening the demo round: {e}"))?;
    let round = rounds::table
        .find(id)
        .select(Round::as_select())
        .first(conn)?;
    let template = catalog
        .get(conn, round.template_id)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Some((round, template)))
}

pub(super) fn accounts_by_unit(conn: &mut Conn) -> anyhow::Result<HashMap<i32, i32>> {
    Ok(accounts::table
        .select((accounts::unit_id, accounts::id))
        .filter(accounts::role.ne("admin"))
        .load::<(i32, i32)>(conn)?
        .into_iter()
        .collect())
}

fn communes_of(conn: &mut Conn, province: &Unit) -> anyhow::Result<Vec<Unit>> {
    Ok(units::table
        .filter(units::path.like(format!("{}%", province.path)))
        .filter(units::kind.eq("commune"))
        .select(Unit::as_select())
        .load(conn)?)
}

/// Files the demo's reports of `communes` in `round`, each as the commune's code decides:
/// 45% accepted, 20% submitted, 5% returned, 10% drafts, 20% missing; a fifth of the filed
/// ones late; a few slips a board must catch. Runs inside the caller's transaction.
pub(super) fn file_communes(
    conn: &mut Conn,
    template: &Template,
    round: &Round,
    communes: &[Unit],
    account_of: &HashMap<i32, i32>,
) -> anyhow::Result<()> {
    let deadline = round.commune_deadline;
    for unit in communes {
        let mut rng = Rng::new(&unit.code);
        let roll = rng.range(0, 99);
        // 45% accepted, 20% submitted, 5% returned, 10% drafts, 20% missing; a fifth of the
        // filed ones came in late.
        let status = match roll {
            0..=44 => "accepted",
            45..=64 => "submitted",
            65..=69 => "returned",
            70..=79 => "draft",
            _ => continue,
        };
        let roster = roster_of(conn, unit, round, template)?;
        let (mut values, sections) = demo_values(template, &mut rng, &roster)?;
        // A few slips of the kind a board must catch: an extra zero typed in the
        // attendance, an amount typed in thousands of đồng instead of millions.
        let slip = |values: &mut BTreeMap<String, serde_json::Value>, key: &str, by: f64| {
            if let Some(v) = values.get(key).and_then(serde_json::Value::as_f64) {
                values.insert(key.to_owned(), json!((v * by).round()));
            }
        };
        match roll {
            45..=47 => slip(&mut values, "luot_nguoi_nghe", 10.0),
            1 | 2 => slip(&mut values, "kinh_phi", 100.0),
            _ => {}
        }
        let late = rng.chance(20);
        let submitted: Option<NaiveDateTime> = (status != "draft").then(|| {
            if late {
                deadline + Duration::hours(rng.range(2, 240))
            } else {
                deadline - Duration::hours(rng.range(2, 200))
            }
        });
        let reviewed = matches!(status, "accepted" | "returned")
            .then(|| submitted.map(|t| t + Duration::hours(rng.range(4, 72))))
            .flatten();
        let reason = (status == "returned").then_some(
            "Số thành viên nữ và số thành viên trên 60 tuổi chưa khớp với danh sách Tổ; đề nghị rà soát lại và bổ sung phần tồn tại, hạn chế.",
        );
        file(
            conn,
            template,
            &Filed {
                round_id: round.id,
                unit,
                status,
                values: &values,
                sections: &sections,
                submitted,
                reviewed,
                reason,
                filer: account_of.get(&unit.id).copied(),
                reviewer: unit.parent_id.and_then(|p| account_of.get(&p).copied()),
                updated: reviewed
                    .or(submitted)
                    .unwrap_or(deadline - Duration::days(3)),
                included: None,
            },
        )?;
    }
    Ok(())
}

/// The template's roster-linked figures as the commune's team stood at the round's cut-off.
fn roster_of(
    conn: &mut Conn,
    unit: &Unit,
    round: &Round,
    template: &Template,
) -> anyhow::Result<BTreeMap<String, serde_json::Value>> {
    let members = service::rosters::members_of(conn, unit).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(service::rosters::RosterFigures::of(&members, round.period_end).prefill(template))
}

/// A report as the demo files it, with the review steps that brought it to its status.
struct Filed<'a> {
    round_id: i32,
    unit: &'a Unit,
    status: &'static str,
    values: &'a BTreeMap<String, serde_json::Value>,
    sections: &'a BTreeMap<String, String>,
    submitted: Option<NaiveDateTime>,
    reviewed: Option<NaiveDateTime>,
    reason: Option<&'a str>,
    filer: Option<i32>,
    reviewer: Option<i32>,
    updated: NaiveDateTime,
    included: Option<&'a str>,
}

/// Writes a commune's report, checked by its template, with its review trail and audit row.
fn file(conn: &mut Conn, template: &Template, f: &Filed) -> anyhow::Result<i32> {
    let checked = template
        .validate(f.values, f.sections, Mode::Submit)
        .map_err(|e| anyhow::anyhow!("demo report invalid: {e:?}"))?;
    let values = serde_json::to_string(&checked.values)?;
    let sections = serde_json::to_string(&checked.sections)?;
    insert(conn, f, &values, &sections)
}

fn insert(conn: &mut Conn, f: &Filed, values: &str, sections: &str) -> anyhow::Result<i32> {
    let report_id: i32 = diesel::insert_into(reports::table)
        .values(NewReport {
            round_id: f.round_id,
            unit_id: f.unit.id,
            status: f.status,
            values_json: values,
            sections_json: sections,
            version: if f.status == "draft" { 1 } else { 2 },
            first_submitted_at: f.submitted,
            submitted_at: f.submitted,
            reviewed_at: f.reviewed,
            reviewed_by: f.reviewed.and(f.reviewer),
            return_reason: f.reason,
            updated_at: f.updated,
            updated_by: f.filer,
            included_json: f.included,
            prefill_json: None,
        })
        .returning(reports::id)
        .get_result(conn)?;
    let mut events = Vec::new();
    if let (Some(t), Some(filer)) = (f.submitted, f.filer) {
        events.push(("submit", None, filer, t));
    }
    if let (Some(t), Some(reviewer)) = (f.reviewed, f.reviewer) {
        let action = if f.status == "accepted" {
            "accept"
        } else {
            "return"
        };
        events.push((action, f.reason, reviewer, t));
    }
    for (action, reason, actor_id, at) in events {
        diesel::insert_into(review_events::table)
            .values(NewReviewEvent {
                report_id,
                action,
                reason,
                actor_id,
                at,
            })
            .execute(conn)?;
    }
    diesel::insert_into(audit_log::table)
        .values(NewAuditEntry {
            at: vn::now_utc(),
            actor_id: None,
            action: "seed_demo",
            entity: "report",
            entity_id: Some(report_id),
            unit_id: Some(f.unit.id),
            details: &json!({ "round_id": f.round_id, "status": f.status }).to_string(),
        })
        .execute(conn)?;
    Ok(report_id)
}

/// District boards that have reported up: each with its consolidation as figures, accepted
/// by the province or waiting for it.
fn district_reports(
    conn: &mut Conn,
    catalog: &Catalog,
    round_id: i32,
    province: &Unit,
    account_of: &HashMap<i32, i32>,
    which: &[(&str, &'static str)],
) -> anyhow::Result<()> {
    let console = CurrentUser::console(province.clone());
    let ctx = service::access::round_for(conn, catalog, &console, round_id, vn::now_utc())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let province_account = account_of.get(&province.id).copied();
    for &(code, status) in which {
        let Some(unit) = service::units::unit_by_code(conn, code, Some(ctx.round.period_end))
            .map_err(|e| anyhow::anyhow!("{e}"))?
        else {
            continue;
        };
        let rollup = service::rollup::rollup(conn, &console, &ctx, &unit, false)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let snapshot: BTreeMap<&str, _> = ctx
            .template
            .indicators
            .iter()
            .filter_map(|i| {
                rollup
                    .total
                    .rollup
                    .value(&ctx.template, &i.key)
                    .map(|v| (i.key.as_str(), v))
            })
            .collect();
        let sections: BTreeMap<&str, String> = [
            ("tinh_hinh_tu_tuong", format!("Tình hình tư tưởng của cán bộ, đảng viên và nhân dân trên địa bàn {} ổn định; các Tổ khoa giáo cơ sở nắm bắt kịp thời dư luận xã hội.", unit.name)),
            ("ket_qua", format!("Ban Tuyên giáo đã tổng hợp báo cáo của {} trên {} đơn vị cơ sở; các Tổ khoa giáo duy trì sinh hoạt, tuyên truyền về y tế, giáo dục, môi trường.", rollup.total.completeness.submitted, rollup.total.completeness.expected)),
            ("phuong_huong", "Tiếp tục kiện toàn các Tổ khoa giáo còn thiếu tổ trưởng; đôn đốc các đơn vị chưa nộp báo cáo.".to_owned()),
        ]
        .into_iter()
        .collect();
        let included = serde_json::to_string(&service::rollup::Included::of(&rollup.rows))?;
        let deadline = ctx.round.district_deadline;
        let submitted = deadline - Duration::days(1);
        let reviewed = (status == "accepted").then(|| deadline + Duration::days(1));
        let filed = Filed {
            round_id,
            unit: &unit,
            status,
            values: &BTreeMap::new(),
            sections: &BTreeMap::new(),
            submitted: Some(submitted),
            reviewed,
            reason: None,
            filer: account_of.get(&unit.id).copied(),
            reviewer: province_account,
            updated: reviewed.unwrap_or(submitted),
            included: Some(&included),
        };
        crate::db::write_lock_transaction(conn, |conn| {
            insert(
                conn,
                &filed,
                &serde_json::to_string(&snapshot)?,
                &serde_json::to_string(&sections)?,
            )
        })?;
    }
    Ok(())
}
