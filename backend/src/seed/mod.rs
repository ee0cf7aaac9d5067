//! Seed data: the real units of Thái Bình, and for `--demo` an account per unit, an open
//! six-month round and filed reports for part of the communes, so that every screen has
//! something real to show. Every step is idempotent.

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;
use report_schemas::{IndicatorKind, Mode, Template};
use serde_json::{Value as Json, json};

use crate::db::Conn;
use crate::db::models::{NewAccount, NewUnit, Unit};
use crate::db::schema::{accounts, units};
use crate::domain::{Role, vn};
use crate::service;

mod national;

pub use national::national_demo;

/// The official list of Thái Bình's units (GSO, 2025-01-04), shipped inside the binary.
pub const THAI_BINH_UNITS: &str = include_str!("../../../seeds/thai_binh_units.csv");

pub const DEMO_PASSWORD: &str = "demo";

pub(crate) const DEMO_ORIENTATION: &str = "Trong 6 tháng đầu năm 2025, các Tổ khoa giáo tập trung tuyên truyền việc thực hiện các nghị quyết, kết luận của Tỉnh ủy về giáo dục - đào tạo, y tế, khoa học - công nghệ và bảo vệ môi trường; nắm bắt tình hình tư tưởng, tâm trạng xã hội ở cơ sở; chủ động tham mưu cho cấp ủy giải quyết các vấn đề bức xúc nảy sinh.";

pub(crate) const DEMO_TASKS: &[&str] = &[
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
    crate::db::write_lock_transaction(conn, |conn| {
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
        "nation" => Role::National,
        "district" => Role::District,
        _ => Role::Commune,
    }
}

fn account_name(unit: &Unit, role: Role) -> String {
    match role {
        Role::Commune => format!("Tổ khoa giáo {}", unit.name),
        Role::District => format!("Ban Tuyên giáo {}", unit.name),
        Role::Province if unit.code == "34" => "Ban Tuyên giáo Tỉnh ủy Thái Bình".to_owned(),
        Role::Province => format!("Ban Tuyên giáo {}", unit.name),
        Role::National => "Ban Tuyên giáo Trung ương".to_owned(),
        Role::Admin => "Quản trị hệ thống".to_owned(),
    }
}

/// One account per unit (user name = unit code) and an `admin`, all with the password
/// "demo". The demo password is public, so one hash serves every demo account.
pub fn demo_accounts(conn: &mut Conn) -> anyhow::Result<usize> {
    demo_accounts_for(conn, |_| true)
}

/// [`demo_accounts`] for the units `keep` chooses (and the administrator).
pub fn demo_accounts_for(conn: &mut Conn, keep: impl Fn(&Unit) -> bool) -> anyhow::Result<usize> {
    let hash = service::session::hash_password(DEMO_PASSWORD)?;
    let all: Vec<Unit> = units::table
        .select(Unit::as_select())
        .load::<Unit>(conn)?
        .into_iter()
        .filter(|u| keep(u))
        .collect();
    let existing: std::collections::HashSet<String> = accounts::table
        .select(accounts::username)
        .load(conn)?
        .into_iter()
        .collect();
    let now = vn::now_utc();
    crate::db::write_lock_transaction(conn, |conn| {
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
    crate::db::write_lock_transaction(conn, |conn| {
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
pub(super) struct Rng(u64);

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
    let values = draw_values(template, rng, roster);
    finish_values(template, rng, values)
}

/// The figures a commune would type, before the template's rules are looked at: the roster's
/// where the template links them, made-up ones elsewhere.
fn draw_values(
    template: &Template,
    rng: &mut Rng,
    roster: &BTreeMap<String, Json>,
) -> BTreeMap<String, Json> {
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
    values
}

/// `values` with every count and every sum of money (not the roster's figures, not scores)
/// multiplied by `scale` and by a little noise of its own (±15%), within each field's bounds:
/// the same commune in another period, busier or quieter.
fn scaled_values(
    template: &Template,
    rng: &mut Rng,
    roster: &BTreeMap<String, Json>,
    mut values: BTreeMap<String, Json>,
    scale: f64,
) -> BTreeMap<String, Json> {
    for ind in &template.indicators {
        if roster.contains_key(&ind.key) {
            continue;
        }
        let noise = 0.85 + (rng.next() % 301) as f64 / 1000.0;
        let Some(v) = values.get_mut(&ind.key) else {
            continue;
        };
        match &ind.kind {
            IndicatorKind::Integer { min, max } => {
                if let Some(n) = v.as_i64() {
                    let x = (n as f64 * scale * noise).round() as i64;
                    *v = json!(x.max(*min).min(max.unwrap_or(i64::MAX)));
                }
            }
            IndicatorKind::Decimal { min, max }
                if ind.unit.as_deref().is_some_and(|u| u.contains("triệu")) =>
            {
                if let Some(n) = v.as_f64() {
                    let x = ((n * scale * noise) * 10.0).round() / 10.0;
                    *v = json!(x.max(min.unwrap_or(0.0)).min(max.unwrap_or(f64::MAX)));
                }
            }
            _ => {}
        }
    }
    values
}

/// The narrative and the mended figures of a report on `template` that passes its checks.
fn finish_values(
    template: &Template,
    rng: &mut Rng,
    mut values: BTreeMap<String, Json>,
) -> anyhow::Result<(BTreeMap<String, Json>, BTreeMap<String, String>)> {
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

mod demo_rounds;

pub use demo_rounds::{demo_history, demo_round, history_rounds};
