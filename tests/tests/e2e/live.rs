//! Live consolidations stay exactly what consolidating from scratch gives: random histories of
//! saves, submits, returns, accepts and reopens, by communes of two districts, the districts'
//! own reports and the province's reviews of them, some filed late, with a deadline extended on
//! the way. After every step, every stored state equals a consolidation from scratch
//! (`live::check`, what `baocao rollups check` runs), and the rollups the API serves equal an
//! independent sum over the reports table.

use std::collections::BTreeMap;

use baocao::db::models::{Report, Unit};
use baocao::db::schema::reports;
use baocao::service::rollup::live;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::helpers::{
    Client, DISTRICT, OTHER_DISTRICT, PROVINCE, TestApp, full_sections, full_values,
};

/// A small, seeded generator: the same seed, the same history.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Integer indicators consolidated by summing, which the independent check recomputes.
const SUMMED: [&str; 5] = [
    "so_thanh_vien",
    "so_cuoc_hop",
    "luot_nguoi_nghe",
    "tt_y_te",
    "tin_bai_truyen_thanh",
];

struct World {
    app: TestApp,
    /// (code, its district's code, a client logged in as it)
    communes: Vec<(String, String, Client)>,
    boards: BTreeMap<String, Client>,
}

pub fn communes_of(conn: &mut baocao::db::Conn, district: &str) -> Vec<String> {
    let unit = baocao::service::units::unit_by_code(conn, district, None)
        .unwrap()
        .unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
    baocao::service::units::children_on(conn, &unit, day)
        .unwrap()
        .into_iter()
        .map(|u: Unit| u.code)
        .collect()
}

pub fn version(client: &Client, path: &str) -> i64 {
    let (status, body) = client.get(path);
    assert_eq!(status, 200, "{body}");
    body["version"].as_i64().unwrap_or(0)
}

impl World {
    fn step(&mut self, rng: &mut Rng, log: &mut Vec<String>) {
        let pick = rng.below(self.communes.len());
        let (code, district, commune) = &self.communes[pick];
        let path = self.app.report_path(code);
        let board = &self.boards[district];
        let (what, status) = match rng.below(10) {
            0..=2 => {
                let mut values = full_values(3 + rng.below(12) as i64);
                for key in SUMMED.iter().skip(1) {
                    values[*key] = json!(rng.below(400));
                }
                let body = json!({ "values": values, "sections": full_sections(), "version": version(commune, &path) });
                ("lưu", commune.put(&path, &body).0)
            }
            3..=4 => {
                let body = json!({ "version": version(commune, &path) });
                ("nộp", commune.post(&format!("{path}/submit"), &body).0)
            }
            5..=6 => ("tiếp nhận", board.post_empty(&format!("{path}/accept")).0),
            7 => {
                let body = json!({ "reason": "Số liệu chưa khớp với biên bản họp." });
                ("trả lại", board.post(&format!("{path}/return"), &body).0)
            }
            8 => {
                let body = json!({ "reason": "Cần sửa lại số lượt người nghe." });
                ("mở lại", board.post(&format!("{path}/reopen"), &body).0)
            }
            _ => {
                // The district itself: its own report up, and the province's review of it.
                let own = self.app.report_path(district);
                let province = &self.boards[PROVINCE];
                match rng.below(3) {
                    0 => {
                        let v = version(board, &own);
                        board.put(&own, &json!({ "sections": full_sections(), "version": v }));
                        let v = version(board, &own);
                        (
                            "huyện nộp",
                            board
                                .post(&format!("{own}/submit"), &json!({ "version": v }))
                                .0,
                        )
                    }
                    1 => (
                        "tỉnh tiếp nhận",
                        province.post_empty(&format!("{own}/accept")).0,
                    ),
                    _ => {
                        let body = json!({ "reason": "Xin bổ sung phần phương hướng." });
                        (
                            "tỉnh trả lại",
                            province.post(&format!("{own}/return"), &body).0,
                        )
                    }
                }
            }
        };
        assert!([200, 409, 422].contains(&status), "{what} {code}: {status}");
        log.push(format!("{what} {code} → {status}"));
    }
}

/// The rollup the API serves for `unit`, against a sum over the reports table of the communes
/// below it whose reports count.
fn agrees_with_the_reports(world: &World, conn: &mut baocao::db::Conn, unit: &str, log: &[String]) {
    let filed: Vec<Report> = reports::table
        .filter(reports::round_id.eq(world.app.round_id as i32))
        .select(Report::as_select())
        .load(conn)
        .unwrap();
    let by_unit: BTreeMap<i32, &Report> = filed.iter().map(|r| (r.unit_id, r)).collect();
    for provisional in [false, true] {
        let (status, view) = world.boards[PROVINCE].get(&format!(
            "/api/v1/rounds/{}/rollup/{unit}{}",
            world.app.round_id,
            if provisional { "?provisional=true" } else { "" }
        ));
        assert_eq!(status, 200, "{view}");
        for row in view["rows"]
            .as_array()
            .unwrap()
            .iter()
            .chain([&view["total"]])
        {
            let code = row["unit"]["code"].as_str().unwrap();
            let below: Vec<String> = if row["leaf"] == true {
                vec![code.to_owned()]
            } else {
                world
                    .communes
                    .iter()
                    .filter(|(_, d, _)| d == code)
                    .map(|(c, _, _)| c.clone())
                    .chain(
                        // The total of the province: both districts' communes.
                        (code == PROVINCE)
                            .then(|| world.communes.iter().map(|(c, _, _)| c.clone()))
                            .into_iter()
                            .flatten(),
                    )
                    .collect()
            };
            let mut sums: BTreeMap<&str, Option<i64>> = SUMMED.iter().map(|k| (*k, None)).collect();
            let (mut accepted, mut submitted, mut returned) = (0, 0, 0);
            for c in &below {
                let id = baocao::service::units::unit_by_code(conn, c, None)
                    .unwrap()
                    .unwrap()
                    .id;
                let Some(r) = by_unit.get(&id) else { continue };
                accepted += u64::from(r.status == "accepted");
                submitted += u64::from(r.status == "accepted" || r.status == "submitted");
                returned += u64::from(r.status == "returned");
                let counts = r.status == "accepted" || (provisional && r.status == "submitted");
                if counts {
                    let values: Value = serde_json::from_str(&r.values_json).unwrap();
                    for (key, sum) in sums.iter_mut() {
                        if let Some(v) = values[*key].as_i64() {
                            *sum = Some(sum.unwrap_or(0) + v);
                        }
                    }
                }
            }
            let context = || format!("{code} (provisional: {provisional}) after {:?}", log.last());
            for (key, sum) in &sums {
                assert_eq!(
                    row["values"][*key].as_f64(),
                    sum.map(|s| s as f64),
                    "{key} of {}",
                    context()
                );
            }
            assert_eq!(row["completeness"]["accepted"], accepted, "{}", context());
            assert_eq!(row["completeness"]["submitted"], submitted, "{}", context());
            assert_eq!(row["completeness"]["returned"], returned, "{}", context());
        }
    }
}

fn stored_states_are_exact(conn: &mut baocao::db::Conn, round: i32, log: &[String]) {
    let ctx = live::round_ctx(conn, round).unwrap();
    let wrong = live::check(conn, &ctx).unwrap();
    assert!(
        wrong.is_empty(),
        "{wrong:?} after {:#?}",
        &log[log.len().saturating_sub(5)..]
    );
}

/// Every round's stored states equal a consolidation from scratch.
pub fn every_round_is_exact(app: &TestApp) {
    let pool = baocao::db::connect(&app.database).unwrap();
    let mut conn = pool.get().unwrap();
    let rounds: Vec<i32> = baocao::db::schema::rounds::table
        .select(baocao::db::schema::rounds::id)
        .load(&mut conn)
        .unwrap();
    assert!(!rounds.is_empty());
    for round in rounds {
        stored_states_are_exact(&mut conn, round, &[format!("round {round}")]);
    }
}

fn history(seed: u64, steps: usize) {
    let app = TestApp::spawn();
    let pool = baocao::db::connect(&app.database).unwrap();
    let mut conn = pool.get().unwrap();
    let mut communes = Vec::new();
    for district in [DISTRICT, OTHER_DISTRICT] {
        for code in communes_of(&mut conn, district).into_iter().take(4) {
            let client = app.login(&code);
            communes.push((code, district.to_owned(), client));
        }
    }
    let boards = [PROVINCE, DISTRICT, OTHER_DISTRICT]
        .into_iter()
        .map(|c| (c.to_owned(), app.login(c)))
        .collect();
    let mut world = World {
        app,
        communes,
        boards,
    };
    let round = world.app.round_id as i32;
    let mut rng = Rng(seed);
    let mut log = Vec::new();
    stored_states_are_exact(&mut conn, round, &log);
    for i in 0..steps {
        if i == steps / 3 {
            // From here on, filings are late: past the commune deadline.
            let late = chrono::Utc::now().date_naive() + chrono::Duration::days(32);
            world.app.set_vietnam_time(
                chrono::Datelike::year(&late),
                chrono::Datelike::month(&late),
                chrono::Datelike::day(&late),
                9,
                0,
                0,
            );
        }
        if i == 2 * steps / 3 {
            // The deadline is extended past them: who was late is judged again.
            let later = chrono::Utc::now().date_naive() + chrono::Duration::days(40);
            let body = json!({ "commune_deadline": later, "district_deadline": later + chrono::Duration::days(5), "reason": "Gia hạn do mưa bão." });
            let (status, answer) =
                world.boards[PROVINCE].post(&format!("/api/v1/rounds/{round}/deadlines"), &body);
            assert_eq!(status, 204, "{answer}");
            log.push("gia hạn".into());
        }
        world.step(&mut rng, &mut log);
        stored_states_are_exact(&mut conn, round, &log);
        if i % 10 == 9 {
            for unit in [PROVINCE, DISTRICT, OTHER_DISTRICT] {
                agrees_with_the_reports(&world, &mut conn, unit, &log);
            }
        }
    }
    // The history did move reports through every state.
    let statuses: Vec<String> = reports::table
        .filter(reports::round_id.eq(round))
        .select(reports::status)
        .load(&mut conn)
        .unwrap();
    for s in ["accepted", "submitted", "returned"] {
        assert!(statuses.iter().any(|x| x == s), "no {s} in {statuses:?}");
    }
}

#[test]
fn random_histories_keep_every_live_consolidation_exact() {
    for seed in [0x9E37_79B9_7F4A_7C15, 0x2545_F491_4F6C_DD1D] {
        history(seed, 150);
    }
}
