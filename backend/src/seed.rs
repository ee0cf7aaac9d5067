//! Seed data: the real units of Thái Bình, and for `--demo` an account per unit, an open
//! six-month round and filed reports for part of the communes, so that every screen has
//! something real to show. Every step is idempotent.

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use report_schemas::{IndicatorKind, Mode, Template};
use serde_json::{Value as Json, json};

use crate::catalog::Catalog;
use crate::db::Conn;
use crate::db::models::{NewAccount, NewAuditEntry, NewReport, NewReviewEvent, NewUnit, Unit};
use crate::db::schema::{accounts, audit_log, reports, review_events, rounds, units};
use crate::domain::{Role, vn};
use crate::service::rounds::RoundInput;
use crate::service::{self, CurrentUser};

/// The official list of Thái Bình's units (GSO, 2025-01-04), shipped inside the binary.
pub const THAI_BINH_UNITS: &str = include_str!("../../seeds/thai_binh_units.csv");

pub const DEMO_PASSWORD: &str = "demo";

const DEMO_ORIENTATION: &str = "Trong 6 tháng đầu năm 2025, các Tổ khoa giáo tập trung tuyên truyền việc thực hiện các nghị quyết, kết luận của Tỉnh ủy về giáo dục - đào tạo, y tế, khoa học - công nghệ và bảo vệ môi trường; nắm bắt tình hình tư tưởng, tâm trạng xã hội ở cơ sở; chủ động tham mưu cho cấp ủy giải quyết các vấn đề bức xúc nảy sinh.";

const DEMO_TASKS: &[&str] = &[
    "Sơ kết việc thực hiện Nghị quyết 06-NQ/TU về phát triển giáo dục - đào tạo.",
    "Tuyên truyền phòng, chống dịch bệnh mùa hè và vệ sinh an toàn thực phẩm.",
    "Kiện toàn Tổ khoa giáo, bảo đảm mỗi Tổ có tổ trưởng và ít nhất 5 thành viên.",
    "Đẩy mạnh học tập và làm theo tấm gương đạo đức Hồ Chí Minh theo Chỉ thị 03-CT/TW.",
];

#[derive(Debug, serde::Deserialize)]
struct UnitRow {
    code: String,
    name: String,
    kind: String,
    parent_code: String,
}

/// Loads units from `code,name,kind,parent_code` CSV (parents before children, as the
/// official lists are ordered). Existing codes are left as they are. Returns how many were added.
pub fn load_units(conn: &mut Conn, csv_text: &str) -> anyhow::Result<usize> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let rows: Vec<UnitRow> = reader.deserialize().collect::<Result<_, _>>()?;
    conn.immediate_transaction(|conn| {
        let mut known: HashMap<String, (i32, String, i32)> = units::table
            .select((units::code, units::id, units::path, units::depth))
            .load::<(String, i32, String, i32)>(conn)?
            .into_iter()
            .map(|(code, id, path, depth)| (code, (id, path, depth)))
            .collect();
        let mut added = 0;
        for row in &rows {
            if known.contains_key(&row.code) {
                continue;
            }
            let (parent_id, path, depth) = if row.parent_code.is_empty() {
                (None, format!("/{}/", row.code), 0)
            } else {
                let (pid, ppath, pdepth) = known.get(&row.parent_code).ok_or_else(|| {
                    anyhow::anyhow!("unit {}: parent {} not found", row.code, row.parent_code)
                })?;
                (Some(*pid), format!("{ppath}{}/", row.code), pdepth + 1)
            };
            let name = vn::nfc(row.name.trim());
            let id: i32 = diesel::insert_into(units::table)
                .values(NewUnit {
                    code: &row.code,
                    name: &name,
                    kind: &row.kind,
                    parent_id,
                    path: &path,
                    depth,
                    valid_from: None,
                })
                .returning(units::id)
                .get_result(conn)?;
            known.insert(row.code.clone(), (id, path, depth));
            added += 1;
        }
        Ok(added)
    })
}

fn role_for(kind: &str) -> Role {
    match kind {
        "province" => Role::Province,
        "district" => Role::District,
        _ => Role::Commune,
    }
}

fn account_name(unit: &Unit, role: Role) -> String {
    match role {
        Role::Commune => format!("Tổ khoa giáo {}", unit.name),
        Role::District => format!("Ban Tuyên giáo {}", unit.name),
        Role::Province => "Ban Tuyên giáo Tỉnh ủy Thái Bình".to_owned(),
        Role::Admin => "Quản trị hệ thống".to_owned(),
    }
}

/// One account per unit (user name = unit code) and an `admin`, all with the password
/// "demo". The demo password is public, so one hash serves every demo account.
pub fn demo_accounts(conn: &mut Conn) -> anyhow::Result<usize> {
    let hash = service::session::hash_password(DEMO_PASSWORD)?;
    let all: Vec<Unit> = units::table.select(Unit::as_select()).load(conn)?;
    let existing: std::collections::HashSet<String> = accounts::table
        .select(accounts::username)
        .load(conn)?
        .into_iter()
        .collect();
    let now = vn::now_utc();
    conn.immediate_transaction(|conn| {
        let mut added = 0;
        for unit in &all {
            if existing.contains(&unit.code) {
                continue;
            }
            let role = role_for(&unit.kind);
            diesel::insert_into(accounts::table)
                .values(NewAccount {
                    username: &unit.code,
                    password_hash: &hash,
                    full_name: &account_name(unit, role),
                    unit_id: unit.id,
                    role: role.as_str(),
                    active: true,
                    created_at: now,
                    phone: None,
                    email: None,
                    must_change_password: false,
                })
                .execute(conn)?;
            added += 1;
        }
        if !existing.contains("admin")
            && let Some(root) = all.iter().find(|u| u.parent_id.is_none())
        {
            diesel::insert_into(accounts::table)
                .values(NewAccount {
                    username: "admin",
                    password_hash: &hash,
                    full_name: &account_name(root, Role::Admin),
                    unit_id: root.id,
                    role: Role::Admin.as_str(),
                    active: true,
                    created_at: now,
                    phone: None,
                    email: None,
                    must_change_password: false,
                })
                .execute(conn)?;
            added += 1;
        }
        Ok(added)
    })
}

const FAMILY: &[&str] = &[
    "Nguyễn", "Trần", "Lê", "Phạm", "Vũ", "Đỗ", "Bùi", "Hoàng", "Đặng", "Ngô",
];
const MIDDLE_M: &[&str] = &["Văn", "Đức", "Minh", "Quang", "Hữu"];
const MIDDLE_F: &[&str] = &["Thị", "Thu", "Ngọc", "Thanh", "Hồng"];
const GIVEN_M: &[&str] = &[
    "Hùng", "Dũng", "Tuấn", "Thắng", "Cường", "Long", "Sơn", "Hải",
];
const GIVEN_F: &[&str] = &["Lan", "Hương", "Mai", "Hà", "Thủy", "Nga", "Hạnh", "Yến"];
const POSTS: &[&str] = &[
    "Phó Bí thư Đảng ủy",
    "Cán bộ văn hóa - xã hội",
    "Hiệu trưởng trường tiểu học",
    "Trạm trưởng trạm y tế",
    "Chủ tịch Hội Khuyến học",
];

/// A roster for every commune without one: usually a leader, a deputy and members, some
/// part-time, a few teams too small or without a leader, so the review has something to find.
pub fn demo_rosters(conn: &mut Conn) -> anyhow::Result<usize> {
    use crate::db::models::TeamMemberForm;
    use crate::db::schema::team_members;
    let communes: Vec<Unit> = units::table
        .filter(units::kind.eq("commune"))
        .select(Unit::as_select())
        .load(conn)?;
    let have: std::collections::HashSet<i32> = team_members::table
        .select(team_members::unit_id)
        .distinct()
        .load(conn)?
        .into_iter()
        .collect();
    let now = vn::now_utc();
    let pick =
        |rng: &mut Rng, list: &[&'static str]| list[(rng.next() % list.len() as u64) as usize];
    conn.immediate_transaction(|conn| {
        let mut added = 0;
        for unit in communes.iter().filter(|u| !have.contains(&u.id)) {
            let mut rng = Rng::new(&format!("roster-{}", unit.code));
            let size = if rng.chance(6) { 2 } else { rng.range(4, 9) };
            let leaderless = rng.chance(8);
            for i in 0..size {
                let woman = rng.chance(45);
                let name = format!(
                    "{} {} {}",
                    pick(&mut rng, FAMILY),
                    pick(&mut rng, if woman { MIDDLE_F } else { MIDDLE_M }),
                    pick(&mut rng, if woman { GIVEN_F } else { GIVEN_M })
                );
                let position = match i {
                    0 if !leaderless => "to_truong",
                    1 => "to_pho",
                    _ => "thanh_vien",
                };
                let post =
                    (position != "thanh_vien" || rng.chance(60)).then(|| pick(&mut rng, POSTS));
                let education = [
                    "trung_hoc",
                    "trung_cap",
                    "cao_dang",
                    "dai_hoc",
                    "dai_hoc",
                    "thac_si",
                ][(rng.next() % 6) as usize];
                let theory = ["so_cap", "trung_cap", "trung_cap", "cao_cap", "chua_co"]
                    [(rng.next() % 5) as usize];
                let joined = chrono::NaiveDate::from_ymd_opt(
                    i32::try_from(rng.range(2012, 2024)).unwrap_or(2020),
                    u32::try_from(rng.range(1, 12)).unwrap_or(1),
                    1,
                )
                .unwrap_or_default();
                diesel::insert_into(team_members::table)
                    .values(TeamMemberForm {
                        unit_id: unit.id,
                        full_name: &name,
                        position,
                        other_post: post,
                        sex: if woman { "nu" } else { "nam" },
                        birth_year: i32::try_from(rng.range(1958, 1996)).unwrap_or(1975),
                        education,
                        theory,
                        joined_on: joined,
                        left_on: None,
                        version: 1,
                        updated_at: now,
                        updated_by: None,
                    })
                    .execute(conn)?;
                added += 1;
            }
        }
        Ok::<_, anyhow::Error>(added)
    })
}

/// A small deterministic generator, so the demo is the same on every machine.
struct Rng(u64);

impl Rng {
    fn new(seed: &str) -> Rng {
        Rng(seed.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        }))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + (self.next() % ((hi - lo + 1) as u64)) as i64
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const SAMPLE_TEXT: &[(&str, &str)] = &[
    (
        "tinh_hinh_tu_tuong",
        "Tình hình tư tưởng của cán bộ, đảng viên và nhân dân trong xã cơ bản ổn định; nhân dân phấn khởi, tin tưởng vào sự lãnh đạo của Đảng. Một bộ phận nhân dân còn băn khoăn về giá cả vật tư nông nghiệp và việc làm của thanh niên.",
    ),
    (
        "ket_qua",
        "Tổ khoa giáo đã tham mưu cho Đảng ủy triển khai các chương trình tuyên truyền về y tế, giáo dục, môi trường; phối hợp với trạm y tế, nhà trường tổ chức các buổi nói chuyện chuyên đề; duy trì chuyên mục khoa giáo trên đài truyền thanh xã.",
    ),
    (
        "ton_tai",
        "Một số thành viên kiêm nhiệm nhiều việc nên thời gian dành cho hoạt động của Tổ còn hạn chế; nội dung tuyên truyền có lúc chưa phong phú.",
    ),
    (
        "nguyen_nhan",
        "Kinh phí hoạt động còn hạn hẹp; trình độ chuyên môn của một số thành viên chưa đáp ứng yêu cầu.",
    ),
    (
        "phuong_huong",
        "Tiếp tục kiện toàn Tổ khoa giáo; đẩy mạnh tuyên truyền về phòng, chống dịch bệnh, vệ sinh an toàn thực phẩm và bảo vệ môi trường; nâng cao chất lượng các buổi sinh hoạt chuyên đề.",
    ),
    (
        "de_xuat",
        "Đề nghị Ban Tuyên giáo cấp trên mở lớp bồi dưỡng nghiệp vụ cho thành viên Tổ khoa giáo và hỗ trợ tài liệu tuyên truyền.",
    ),
];

/// A plausible report on `template` that passes its submission checks, the same for the same
/// `seed`: the roster's figures where the template links them, made-up counts elsewhere, the
/// sample narrative. What the demo and the benchmarks file.
pub fn sample_report(
    template: &Template,
    seed: &str,
    roster: &BTreeMap<String, Json>,
) -> anyhow::Result<(BTreeMap<String, Json>, BTreeMap<String, String>)> {
    demo_values(template, &mut Rng::new(seed), roster)
}

/// Plausible raw values for a template, as a commune would type them, then checked by the
/// template itself; a broken rule is mended by lowering its left side.
fn demo_values(
    template: &Template,
    rng: &mut Rng,
    roster: &BTreeMap<String, Json>,
) -> anyhow::Result<(BTreeMap<String, Json>, BTreeMap<String, String>)> {
    let mut values: BTreeMap<String, Json> = BTreeMap::new();
    for ind in &template.indicators {
        if let Some(v) = roster.get(&ind.key) {
            values.insert(ind.key.clone(), v.clone());
            continue;
        }
        let unit = ind.unit.as_deref().unwrap_or("");
        let v = match &ind.kind {
            IndicatorKind::Integer { min, max } => {
                let (lo, hi) = match unit {
                    "lượt" | "lượt người" => (80, 2500),
                    "người" => (3, 12),
                    _ => (0, 12),
                };
                let lo = lo.max(*min);
                let hi = max.map_or(hi, |m| m.min(hi)).max(lo);
                json!(rng.range(lo, hi))
            }
            IndicatorKind::Decimal { min, max } => {
                let lo = min.unwrap_or(0.0);
                let hi = max.unwrap_or(50.0).min(if unit.contains("triệu") {
                    40.0
                } else {
                    100.0
                });
                let lo = if hi > 60.0 { lo.max(60.0) } else { lo };
                let x = lo + (rng.next() % 1000) as f64 / 1000.0 * (hi - lo);
                json!((x * 10.0).round() / 10.0)
            }
            IndicatorKind::YesNo => json!(rng.chance(75)),
            IndicatorKind::Choice { options } => {
                let i = (rng.next() % options.len().max(1) as u64) as usize;
                match options.get(i) {
                    Some(o) => json!(o.key),
                    None => continue,
                }
            }
            IndicatorKind::Ratio { .. } => continue,
        };
        values.insert(ind.key.clone(), v);
    }
    let sections: BTreeMap<String, String> = template
        .sections
        .iter()
        .filter_map(|s| {
            let text = SAMPLE_TEXT
                .iter()
                .find(|(k, _)| *k == s.key)
                .map_or("Nội dung đang được Tổ khoa giáo hoàn thiện.", |(_, t)| *t);
            (s.required || rng.chance(60))
                .then(|| (s.key.clone(), text.chars().take(s.max_chars).collect()))
        })
        .collect();
    // Mend broken rules: set each offending left side to a share of its right side.
    for _ in 0..10 {
        match template.validate(&values, &sections, Mode::Submit) {
            Ok(_) => return Ok((values, sections)),
            Err(errors) => {
                for e in errors {
                    let rule = template
                        .rules
                        .iter()
                        .find(|r| r.left.first() == Some(&e.field));
                    let bound: i64 = rule
                        .map(|r| {
                            r.right
                                .iter()
                                .filter_map(|k| values.get(k).and_then(Json::as_i64))
                                .sum()
                        })
                        .unwrap_or(0);
                    let v = rng.range(0, bound.max(0));
                    values.insert(e.field.clone(), json!(v));
                }
            }
        }
    }
    anyhow::bail!("demo values could not be made to pass the template's rules")
}

/// Opens the demo round (6 tháng đầu năm 2025, when the three-level tree still stood) and
/// files reports for part of the communes: accepted, submitted, returned, late, drafts, missing.
pub fn demo_round(conn: &mut Conn, catalog: &Catalog) -> anyhow::Result<Option<i32>> {
    let Some(province) =
        service::units::unit_by_code(conn, "34", None).map_err(|e| anyhow::anyhow!("{e}"))?
    else {
        return Ok(None);
    };
    let exists: i64 = rounds::table
        .filter(rounds::owner_unit_id.eq(province.id))
        .filter(rounds::period_type.eq("half_year"))
        .filter(rounds::period_year.eq(2025))
        .count()
        .get_result(conn)?;
    if exists > 0 {
        return Ok(None);
    }
    let input = RoundInput {
        template: "dinh-ky".into(),
        period_type: "half_year".into(),
        year: 2025,
        orientation: Some(DEMO_ORIENTATION.into()),
        tasks: DEMO_TASKS.iter().map(|t| (*t).to_owned()).collect(),
        ..RoundInput::default()
    };
    let round_id =
        service::rounds::open_round(conn, catalog, None, &province, &input, vn::now_utc())
            .map_err(|e| anyhow::anyhow!("opening the demo round: {e}"))?;
    let round = rounds::table
        .find(round_id)
        .select(crate::db::models::Round::as_select())
        .first(conn)?;
    let template = catalog
        .get(conn, round.template_id)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let all: Vec<Unit> = units::table
        .filter(units::path.like(format!("{}%", province.path)))
        .select(Unit::as_select())
        .load(conn)?;
    let account_of: HashMap<i32, i32> = accounts::table
        .select((accounts::unit_id, accounts::id))
        .filter(accounts::role.ne("admin"))
        .load::<(i32, i32)>(conn)?
        .into_iter()
        .collect();
    let deadline = round.commune_deadline;
    conn.immediate_transaction(|conn| {
        for unit in all.iter().filter(|u| u.kind == "commune") {
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
            let members = service::rosters::members_of(conn, unit).map_err(|e| anyhow::anyhow!("{e}"))?;
            let roster =
                service::rosters::RosterFigures::of(&members, round.period_end).prefill(&template);
            let (values, sections) = demo_values(&template, &mut rng, &roster)?;
            let checked = template
                .validate(&values, &sections, Mode::Submit)
                .map_err(|e| anyhow::anyhow!("demo report invalid: {e:?}"))?;
            let late = rng.chance(20);
            let submitted: Option<NaiveDateTime> = (status != "draft").then(|| {
                if late {
                    deadline + Duration::hours(rng.range(2, 240))
                } else {
                    deadline - Duration::hours(rng.range(2, 200))
                }
            });
            let filer = account_of.get(&unit.id).copied();
            let reviewer = unit.parent_id.and_then(|p| account_of.get(&p).copied());
            let reviewed = matches!(status, "accepted" | "returned")
                .then(|| submitted.map(|t| t + Duration::hours(rng.range(4, 72))))
                .flatten();
            let reason = (status == "returned").then_some(
                "Số thành viên nữ và số thành viên trên 60 tuổi chưa khớp với danh sách Tổ; đề nghị rà soát lại và bổ sung phần tồn tại, hạn chế.",
            );
            let updated = reviewed.or(submitted).unwrap_or(deadline - Duration::days(3));
            let report_id: i32 = diesel::insert_into(reports::table)
                .values(NewReport {
                    round_id,
                    unit_id: unit.id,
                    status,
                    values_json: &serde_json::to_string(&checked.values)?,
                    sections_json: &serde_json::to_string(&checked.sections)?,
                    version: if status == "draft" { 1 } else { 2 },
                    first_submitted_at: submitted,
                    submitted_at: submitted,
                    reviewed_at: reviewed,
                    reviewed_by: reviewed.and(reviewer),
                    return_reason: reason,
                    updated_at: updated,
                    updated_by: filer,
                    included_json: None,
                    prefill_json: None,
                })
                .returning(reports::id)
                .get_result(conn)?;
            let mut events = Vec::new();
            if let (Some(t), Some(filer)) = (submitted, filer) {
                events.push(("submit", None, filer, t));
            }
            if let (Some(t), Some(reviewer)) = (reviewed, reviewer) {
                let action = if status == "accepted" { "accept" } else { "return" };
                events.push((action, reason, reviewer, t));
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
                    unit_id: Some(unit.id),
                    details: &json!({ "round_id": round_id, "status": status }).to_string(),
                })
                .execute(conn)?;
        }
        Ok::<_, anyhow::Error>(())
    })?;
    demo_district_reports(conn, catalog, round_id, &province, &account_of)?;
    Ok(Some(round_id))
}

/// Two district boards have reported up already: Thành phố Thái Bình (accepted by the
/// province) and Huyện Thái Thụy (submitted), each with its consolidation as figures.
fn demo_district_reports(
    conn: &mut Conn,
    catalog: &Catalog,
    round_id: i32,
    province: &Unit,
    account_of: &HashMap<i32, i32>,
) -> anyhow::Result<()> {
    let console = CurrentUser::console(province.clone());
    let ctx = service::access::round_for(conn, catalog, &console, round_id, vn::now_utc())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let province_account = account_of.get(&province.id).copied();
    for (code, status) in [("336", "accepted"), ("341", "submitted")] {
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
        let filer = account_of.get(&unit.id).copied();
        conn.immediate_transaction(|conn| {
            let id: i32 = diesel::insert_into(reports::table)
                .values(NewReport {
                    round_id,
                    unit_id: unit.id,
                    status,
                    values_json: &serde_json::to_string(&snapshot)?,
                    sections_json: &serde_json::to_string(&sections)?,
                    version: 2,
                    first_submitted_at: Some(submitted),
                    submitted_at: Some(submitted),
                    reviewed_at: reviewed,
                    reviewed_by: reviewed.and(province_account),
                    return_reason: None,
                    updated_at: reviewed.unwrap_or(submitted),
                    updated_by: filer,
                    included_json: Some(&included),
                    prefill_json: None,
                })
                .returning(reports::id)
                .get_result(conn)?;
            let mut events = Vec::new();
            if let Some(filer) = filer {
                events.push(("submit", filer, submitted));
            }
            if let (Some(at), Some(reviewer)) = (reviewed, province_account) {
                events.push(("accept", reviewer, at));
            }
            for (action, actor_id, at) in events {
                diesel::insert_into(review_events::table)
                    .values(NewReviewEvent {
                        report_id: id,
                        action,
                        reason: None,
                        actor_id,
                        at,
                    })
                    .execute(conn)?;
            }
            Ok::<_, anyhow::Error>(())
        })?;
    }
    Ok(())
}
