//! The leadership's pages at the province's size: Thái Bình's 242 communes with the demo's
//! rounds, plus six earlier ones (2020–2022), so that a trend spans ten rounds.
//!
//! The real server (`baocao serve`, release build) answers real HTTP on this machine; each
//! page is asked for 30 times after a warm-up and its median time is reported, beside the
//! consolidation JSON of the same unit asked for in the same run (the work every one of these
//! pages does at least once), so the ratio reads the same on a quiet or a busy machine.
//! Run with `cargo bench -p baocao --bench dashboard`.

use std::path::Path;
use std::time::Instant;

use anyhow::{Result, bail};
use baocao::config::Settings;
use baocao::startup::prepare;

const ROUND: i32 = 1;
const PROVINCE: &str = "34";
const DISTRICT: &str = "338";
const RUNS: usize = 30;

/// The six rounds before the demo's history: six months and year of 2020, 2021 and 2022.
const EARLIER: &[(&str, i32, f64)] = &[
    ("half_year", 2020, 0.55),
    ("year", 2020, 1.15),
    ("half_year", 2021, 0.6),
    ("year", 2021, 1.25),
    ("half_year", 2022, 0.66),
    ("year", 2022, 1.38),
];

mod common;

fn main() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("bench.db");
    let settings = Settings {
        database: db.to_string_lossy().into_owned(),
        schemas: Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../report-schemas/schemas")),
        demo: true,
        ..Settings::default()
    };
    let started = Instant::now();
    let (state, _) = prepare(&settings)?;
    let mut conn = state.pool.get()?;
    baocao::seed::history_rounds(&mut conn, &state.catalog, EARLIER)?;
    drop(conn);
    drop(state);
    println!(
        "data: the demo (242 communes, 5 rounds) and 6 earlier rounds, in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let server = common::Server::start(&db)?;
    let base = server.base.clone();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();

    println!("\n{:<58} {:>9} {:>9}", "", "median", "× rollup");
    for unit in [PROVINCE, DISTRICT] {
        let res = agent
            .post(format!("{base}/api/v1/login"))
            .send_json(serde_json::json!({ "username": unit, "password": "demo" }))?;
        if res.status() != 200 {
            bail!("login {unit}: {}", res.status());
        }
        let time = |path: &str| -> Result<f64> {
            let url = format!("{base}{path}");
            for _ in 0..3 {
                agent.get(&url).call()?.body_mut().read_to_vec()?;
            }
            let mut times = Vec::with_capacity(RUNS);
            for _ in 0..RUNS {
                let t = Instant::now();
                let mut res = agent.get(&url).call()?;
                if res.status() != 200 {
                    bail!("{path}: {}", res.status());
                }
                res.body_mut().with_config().limit(64 << 20).read_to_vec()?;
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            times.sort_by(f64::total_cmp);
            Ok(times[RUNS / 2])
        };
        let trend = agent
            .get(format!(
                "{base}/ky-bao-cao/{ROUND}/don-vi/{unit}/bieu-do/xu-huong.svg"
            ))
            .call()?
            .body_mut()
            .read_to_string()?;
        let columns = trend.matches("class=\"column\"").count();
        if columns != 10 {
            bail!("the trend should span 10 rounds, spans {columns}");
        }
        let baseline = time(&format!("/api/v1/rounds/{ROUND}/rollup/{unit}"))?;
        let who = if unit == PROVINCE {
            "province, 8 districts, 242 communes"
        } else {
            "district, 35 communes"
        };
        println!("{who}");
        let row = |name: &str, ms: f64| {
            println!("  {name:<56} {ms:>6.1} ms {:>8.2}", ms / baseline);
        };
        row("consolidation JSON (baseline)", baseline);
        row(
            "unit page with its dashboard",
            time(&format!("/ky-bao-cao/{ROUND}/don-vi/{unit}"))?,
        );
        row(
            "trend chart over 10 rounds (SVG, whole dashboard built)",
            time(&format!(
                "/ky-bao-cao/{ROUND}/don-vi/{unit}/bieu-do/xu-huong.svg"
            ))?,
        );
    }
    Ok(())
}
