//! The leadership's pages at the province's size: Thái Bình's 242 communes with the demo's
//! rounds, plus six earlier ones (2020–2022), so that a trend spans ten rounds.
//!
//! The real server (`baocao serve`, release build) answers real HTTP on this machine; each
//! page is asked for 30 times after a warm-up and its median time is reported, built for each
//! request (`Cache-Control: no-cache`, as a forced reload asks) beside the consolidation JSON
//! of the same unit asked for in the same run (the work every one of these pages does at least
//! once), so the ratio reads the same on a quiet or a busy machine; and as a viewer gets it
//! again while nothing has changed (kept by the server, `routes::kept`).
//!
//! Every request says what a browser says it takes (`Accept-Encoding: gzip, …`).
//!
//! Then 50 people watch the province's pages at once for 10 seconds (each in a session of its
//! own, one page after another: the unit page with its dashboard, the consolidation JSON, the
//! trend chart): their p50 and p99 against the single viewer's median of the same pages, the
//! pages served per second, and the server's peak threads and memory (from /proc).
//! Run with `cargo bench -p baocao --bench dashboard`.

use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use baocao::config::Settings;
use baocao::db::schema::accounts;
use baocao::service::session;
use baocao::startup::prepare;
use diesel::prelude::*;

const ROUND: i32 = 1;
const PROVINCE: &str = "34";
const DISTRICT: &str = "338";
const RUNS: usize = 30;
const VIEWERS: usize = 50;
const WATCH: Duration = Duration::from_secs(10);

/// The six rounds before the demo's history: six months and year of 2020, 2021 and 2022.
const EARLIER: &[(&str, i32, f64)] = &[
    ("half_year", 2020, 0.55),
    ("year", 2020, 1.15),
    ("half_year", 2021, 0.6),
    ("year", 2021, 1.25),
    ("half_year", 2022, 0.66),
    ("year", 2022, 1.38),
];

/// What a browser says it takes: the pages come compressed, as they reach people.
const BROWSER_ENCODINGS: &str = "gzip, deflate, br, zstd";

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
    let province_id: i32 = accounts::table
        .filter(accounts::username.eq(PROVINCE))
        .select(accounts::id)
        .first(&mut conn)?;
    let tokens = (0..VIEWERS)
        .map(|_| {
            session::open_session(
                &mut conn,
                province_id,
                &settings.sessions,
                &session::Client::default(),
            )
            .map_err(|e| anyhow!("{e}"))
        })
        .collect::<Result<Vec<_>>>()?;
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

    let mut singles = [0.0; 3];
    println!(
        "\n{:<58} {:>9} {:>9} {:>9}",
        "", "built", "× rollup", "kept"
    );
    for unit in [PROVINCE, DISTRICT] {
        let res = agent
            .post(format!("{base}/api/v1/login"))
            .send_json(serde_json::json!({ "username": unit, "password": "demo" }))?;
        if res.status() != 200 {
            bail!("login {unit}: {}", res.status());
        }
        // The median time of a page: `fresh`, built for each request (what a forced reload
        // asks for); otherwise as a viewer gets it again while nothing changed (kept).
        let time = |path: &str, fresh: bool| -> Result<f64> {
            let url = format!("{base}{path}");
            let ask = || {
                let req = agent.get(&url).header("Accept-Encoding", BROWSER_ENCODINGS);
                if fresh {
                    req.header("Cache-Control", "no-cache").call()
                } else {
                    req.call()
                }
            };
            for _ in 0..3 {
                ask()?.body_mut().read_to_vec()?;
            }
            let mut times = Vec::with_capacity(RUNS);
            for _ in 0..RUNS {
                let t = Instant::now();
                let mut res = ask()?;
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
        let rollup = format!("/api/v1/rounds/{ROUND}/rollup/{unit}");
        let baseline = time(&rollup, true)?;
        let who = if unit == PROVINCE {
            "province, 8 districts, 242 communes"
        } else {
            "district, 35 communes"
        };
        println!("{who}");
        let mut kept = [0.0; 3];
        let pages = [
            ("consolidation JSON (baseline)", rollup.clone()),
            (
                "unit page with its dashboard",
                format!("/ky-bao-cao/{ROUND}/don-vi/{unit}"),
            ),
            (
                "trend chart over 10 rounds (SVG, whole dashboard built)",
                format!("/ky-bao-cao/{ROUND}/don-vi/{unit}/bieu-do/xu-huong.svg"),
            ),
        ];
        for (i, (name, path)) in pages.iter().enumerate() {
            let built = if i == 0 { baseline } else { time(path, true)? };
            kept[i] = time(path, false)?;
            println!(
                "  {name:<56} {built:>6.1} ms {:>8.2} {:>6.1} ms",
                built / baseline,
                kept[i]
            );
        }
        if unit == PROVINCE {
            // The order of `pages()`: the unit page, the JSON, the chart.
            singles = [kept[1], kept[0], kept[2]];
        }
    }
    watch(&server, &tokens, singles)
}

/// The pages each viewer goes through, in turn.
fn pages() -> [String; 3] {
    [
        format!("/ky-bao-cao/{ROUND}/don-vi/{PROVINCE}"),
        format!("/api/v1/rounds/{ROUND}/rollup/{PROVINCE}"),
        format!("/ky-bao-cao/{ROUND}/don-vi/{PROVINCE}/bieu-do/xu-huong.svg"),
    ]
}

/// `VIEWERS` sessions reading the province's pages at once for `WATCH`.
fn watch(server: &common::Server, tokens: &[String], singles: [f64; 3]) -> Result<()> {
    let pid = server.pid();
    let start = Arc::new(Barrier::new(tokens.len() + 1));
    let stop = Arc::new(AtomicBool::new(false));
    let peaks = common::Peaks::watch(pid);
    let viewers: Vec<_> = tokens
        .iter()
        .enumerate()
        .map(|(n, token)| {
            let (start, stop, base) = (start.clone(), stop.clone(), server.base.clone());
            let cookie = format!("baocao_session={token}");
            std::thread::spawn(move || -> Result<Vec<(usize, Duration)>> {
                let agent: ureq::Agent = common::agent(Duration::from_secs(30));
                let pages = pages();
                let mut out = Vec::new();
                // One buffer for every answer: the viewer's own allocations stay out of the
                // figures (they share the machine with the server).
                let mut body = Vec::with_capacity(256 << 10);
                start.wait();
                let mut i = n;
                while !stop.load(Ordering::Relaxed) {
                    let page = i % pages.len();
                    let t = Instant::now();
                    let mut res = agent
                        .get(format!("{base}{}", pages[page]))
                        .header("Cookie", &cookie)
                        .header("Accept-Encoding", BROWSER_ENCODINGS)
                        .call()?;
                    body.clear();
                    res.body_mut()
                        .with_config()
                        .limit(64 << 20)
                        .reader()
                        .read_to_end(&mut body)?;
                    if res.status() != 200 {
                        bail!("{}: {}", pages[page], res.status());
                    }
                    out.push((page, t.elapsed()));
                    i += 1;
                }
                Ok(out)
            })
        })
        .collect();
    start.wait();
    std::thread::sleep(WATCH);
    stop.store(true, Ordering::Relaxed);
    let mut all: Vec<(usize, Duration)> = Vec::new();
    for v in viewers {
        all.extend(v.join().map_err(|_| anyhow!("a viewer panicked"))??);
    }
    stop.store(true, Ordering::Relaxed);
    let (peak_rss, peak_threads) = peaks.stop()?;
    let quantile = |times: &mut Vec<Duration>, q: f64| -> f64 {
        times.sort();
        let at = ((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1;
        times[at].as_secs_f64() * 1000.0
    };
    println!(
        "\n{VIEWERS} viewers of the province's pages at once for {} s: {} pages, {:.0} per second",
        WATCH.as_secs(),
        all.len(),
        all.len() as f64 / WATCH.as_secs_f64()
    );
    println!(
        "  {:<40} {:>9} {:>9} {:>9} {:>12}",
        "", "alone", "p50", "p99", "p99 × alone"
    );
    let names = [
        "unit page with its dashboard",
        "consolidation JSON",
        "trend chart (SVG)",
    ];
    for (page, name) in names.iter().enumerate() {
        let mut times: Vec<Duration> = all
            .iter()
            .filter(|(p, _)| *p == page)
            .map(|x| x.1)
            .collect();
        let p50 = quantile(&mut times, 0.5);
        let p99 = quantile(&mut times, 0.99);
        println!(
            "  {name:<40} {:>6.1} ms {p50:>6.1} ms {p99:>6.1} ms {:>12.1}",
            singles[page],
            p99 / singles[page]
        );
    }
    let mut every: Vec<Duration> = all.iter().map(|x| x.1).collect();
    println!(
        "  {:<40} {:>9} {:>6.1} ms {:>6.1} ms",
        "every page",
        "",
        quantile(&mut every, 0.5),
        quantile(&mut every, 0.99)
    );
    println!(
        "  server threads at most {}, resident memory at most {} MB",
        peak_threads,
        peak_rss / 1024
    );
    Ok(())
}
