//! The deadline rush: 1,000 communes (a test province of 67 districts) each saving its report
//! and submitting it, all at once, against the release server over real HTTP on loopback. The
//! communes are tasks on one thread (`common::wire`), so that their CPU, on the server's cores,
//! stays small beside the server's (printed too).
//!
//! Measured in the same run, on the same disk: the baseline, bare SQLite committing one row
//! per transaction at `synchronous = FULL` in WAL mode (what the server's connections use),
//! against the server's durable operations per second; and the latency of each operation
//! (p50, p99), the errors, and the server's peak threads and resident memory (from /proc).
//! Then a login rush: `--logins N` (200) communes logging in at once with their passwords
//! (argon2, about 57 ms of CPU each by design): logins served per second, latency, refusals
//! (503 with Retry-After when the queue is full), threads and memory, which must stay bounded.
//! With `--postgres`, the server runs on PostgreSQL (a throwaway cluster with its durable
//! defaults, or `BAOCAO_BENCH_POSTGRES`), and PostgreSQL's own single-row commits are
//! measured beside SQLite's.
//! Run with `cargo bench -p baocao --bench rush -- [--communes N] [--logins N] [--postgres]`.

use std::path::Path;

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use baocao::config::Settings;
use baocao::db::schema::accounts;
use baocao::service::{self, session};
use baocao::startup::prepare;
use diesel::prelude::*;

const ROOT: &str = "99";
const DISTRICTS: usize = 67;

mod common;

/// Bare SQLite: `n` single-row transactions at synchronous=FULL, WAL; commits per second.
fn baseline(dir: &Path, n: usize) -> Result<f64> {
    let path = dir.join("baseline.db");
    let mut conn = baocao::db::establish(&baocao::db::Target::of(&path.to_string_lossy()))?;
    diesel::connection::SimpleConnection::batch_execute(
        &mut conn,
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;",
    )?;
    commits_per_second(&mut conn, n)
}

/// Bare PostgreSQL: `n` single-row transactions (fsync, synchronous_commit on); per second.
fn pg_baseline(url: &str, n: usize) -> Result<f64> {
    commits_per_second(&mut baocao::db::establish(&baocao::db::Target::of(url))?, n)
}

/// `n` rows of 1,500 bytes inserted into a new table, each its own transaction; per second.
fn commits_per_second(conn: &mut baocao::db::Conn, n: usize) -> Result<f64> {
    diesel::sql_query("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)").execute(conn)?;
    let row = "x".repeat(1500);
    let started = Instant::now();
    for i in 0..n {
        diesel::sql_query(format!("INSERT INTO t (id, v) VALUES ({i}, '{row}')")).execute(conn)?;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let communes: usize = args
        .iter()
        .position(|a| a == "--communes")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(1000);
    let logins: usize = args
        .iter()
        .position(|a| a == "--logins")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(200);
    let postgres = args.iter().any(|a| a == "--postgres");
    let dir = tempfile::tempdir()?;
    let cluster = if postgres {
        Some(common::Cluster::get(dir.path(), true)?)
    } else {
        None
    };
    let db = match &cluster {
        Some(c) => common::new_database(&c.url, "bench_rush")?,
        None => dir.path().join("rush.db").to_string_lossy().into_owned(),
    };
    let settings = Settings {
        database: db.clone(),
        schemas: Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../report-schemas/schemas")),
        ..Settings::default()
    };
    let (state, _) = prepare(&settings)?;
    let mut conn = state.pool.get()?;
    let mut csv = String::from("code,name,kind,parent_code\n");
    csv.push_str(&format!("{ROOT},Tỉnh Thử Nghiệm,province,\n"));
    for d in 0..DISTRICTS {
        csv.push_str(&format!(
            "{},Huyện Thử Nghiệm {:03},district,{ROOT}\n",
            1000 + d,
            d + 1
        ));
    }
    for c in 0..communes {
        csv.push_str(&format!(
            "{},Xã Thử Nghiệm {:04},commune,{}\n",
            100_000 + c,
            c + 1,
            1000 + c % DISTRICTS
        ));
    }
    baocao::seed::load_units(&mut conn, &csv)?;
    baocao::seed::demo_accounts(&mut conn)?;
    let root = service::units::unit_by_code(&mut conn, ROOT, None)
        .map_err(|e| anyhow!("{e}"))?
        .context("no root")?;
    let round = common::open_round(
        &mut conn,
        &state.catalog,
        &root,
        "dinh-ky",
        "half_year",
        2026,
    )?;
    // A session for every commune, opened here: a rush of logins is another matter (argon2).
    let commune_accounts: Vec<(String, i32)> = accounts::table
        .filter(accounts::role.eq("commune"))
        .select((accounts::username, accounts::id))
        .load(&mut conn)?;
    let usernames: Vec<String> = commune_accounts
        .iter()
        .take(logins)
        .map(|a| a.0.clone())
        .collect();
    let mut clients = Vec::new();
    for (username, id) in commune_accounts.into_iter().take(communes) {
        let token = session::open_session(
            &mut conn,
            id,
            &settings.sessions,
            &session::Client::default(),
        )
        .map_err(|e| anyhow!("{e}"))?;
        clients.push((username, token));
    }
    drop(conn);
    drop(state);

    let commits = baseline(dir.path(), 2000)?;
    let pg_commits = match &cluster {
        Some(c) => Some(pg_baseline(
            &common::new_database(&c.url, "bench_rush_baseline")?,
            2000,
        )?),
        None => None,
    };

    let server = common::Server::start(&db)?;
    let pid = server.pid();
    let base = server.base.clone();
    let (rss_idle, threads_idle) = common::proc_status(pid);

    let values = serde_json::json!({
        "so_thanh_vien": 7, "so_kiem_nhiem": 6, "so_nu": 3, "so_dai_hoc": 2, "so_tren_60": 1,
        "co_to_truong": true, "so_cuoc_hop": 6, "tt_giao_duc": 2, "tt_khcn": 1, "tt_moi_truong": 3,
        "tt_y_te": 4, "tt_dan_so": 1, "tt_vsattp": 2, "tt_khuyen_hoc": 1, "tt_xa_hoi": 0,
        "luot_nguoi_nghe": 350, "tin_bai_truyen_thanh": 12, "so_de_xuat": 3, "van_de_phat_sinh": 4,
        "van_de_giai_quyet": 3, "ct03_co_ke_hoach": true, "ct03_so_buoi": 2, "ct03_dien_hinh": 1,
        "kinh_phi": 12.5, "diem_tu_cham": 85.0, "muc_do_hoan_thanh": "tot"
    });
    let sections = serde_json::json!({
        "ket_qua": "Tổ đã tổ chức các buổi tuyên truyền theo kế hoạch.",
        "phuong_huong": "Tiếp tục kiện toàn Tổ khoa giáo."
    });
    let peaks = common::Peaks::watch(pid);
    let cpu_before = common::cpu_ms(pid);
    let client_before = common::cpu_ms(std::process::id());
    let draft = Arc::new(
        serde_json::to_vec(
            &serde_json::json!({ "values": values, "sections": sections, "version": 0 }),
        )
        .expect("JSON"),
    );
    let host = base.trim_start_matches("http://").to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (go, ready) = tokio::sync::watch::channel(false);
    let (ops, elapsed) = runtime.block_on(async {
        let tasks: Vec<_> = clients
            .into_iter()
            .map(|(unit, token)| {
                let (draft, host, mut ready) = (draft.clone(), host.clone(), ready.clone());
                tokio::spawn(async move {
                    let cookie = format!("baocao_session={token}");
                    let path = format!("/api/v1/rounds/{round}/reports/{unit}");
                    let _ = ready.wait_for(|go| *go).await;
                    one_commune(&host, &cookie, &path, &draft).await
                })
            })
            .collect();
        tokio::task::yield_now().await;
        let began = Instant::now();
        let _ = go.send(true);
        let mut ops: Vec<(Duration, bool)> = Vec::new();
        for task in tasks {
            ops.extend(task.await.map_err(|_| anyhow!("a client panicked"))?);
        }
        Ok::<_, anyhow::Error>((ops, began.elapsed().as_secs_f64()))
    })?;
    let cpu = common::cpu_ms(pid) - cpu_before;
    let client_cpu = common::cpu_ms(std::process::id()) - client_before;
    let (peak_rss, peak_threads) = peaks.stop()?;
    let errors = ops.iter().filter(|o| !o.1).count();
    let mut times: Vec<f64> = ops.iter().map(|o| o.0.as_secs_f64() * 1000.0).collect();
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    let rate = (ops.len() - errors) as f64 / elapsed;
    println!(
        "rush: {} communes, each saving then submitting ({} operations)",
        ops.len() / 2,
        ops.len()
    );
    println!("  bare SQLite single-row commits (FULL, WAL), baseline  {commits:>8.0} /s");
    if let Some(pg) = pg_commits {
        println!(
            "  bare PostgreSQL single-row commits (durable)          {pg:>8.0} /s  (the server on PostgreSQL)"
        );
    }
    println!(
        "  durable operations served                             {rate:>8.0} /s  ({:.2}× the baseline)",
        rate / commits
    );
    println!(
        "  latency p50 / p99                                     {:>8.0} / {:.0} ms",
        pct(0.5),
        pct(0.99)
    );
    println!("  errors                                                {errors:>8}");
    println!(
        "  server CPU per operation                              {:>8.2} ms",
        cpu / ops.len() as f64
    );
    println!(
        "  clients' CPU per operation (on the same cores)        {:>8.2} ms",
        client_cpu / ops.len() as f64
    );
    println!(
        "  server threads idle / peak                            {threads_idle:>8} / {}",
        peak_threads
    );
    println!(
        "  server memory idle / peak                             {:>8.0} / {:.0} MB",
        rss_idle as f64 / 1024.0,
        peak_rss as f64 / 1024.0
    );
    login_rush(&base, pid, &usernames)
}

/// One commune's rush: its report saved, then submitted with the version the save answered;
/// each operation's time, and whether it was served.
async fn one_commune(host: &str, cookie: &str, path: &str, draft: &[u8]) -> Vec<(Duration, bool)> {
    let limit = Duration::from_secs(120);
    let mut out = Vec::new();
    let t = Instant::now();
    let saved = match common::wire::Connection::open(host, limit).await {
        Ok(mut conn) => conn
            .send("PUT", path, cookie, draft)
            .await
            .map(|a| (conn, a)),
        Err(e) => Err(e),
    };
    let (mut conn, version) = match saved {
        Ok((conn, (200, body))) => {
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            out.push((t.elapsed(), true));
            (conn, body["version"].clone())
        }
        _ => {
            out.push((t.elapsed(), false));
            return out;
        }
    };
    let t = Instant::now();
    let submit = serde_json::to_vec(&serde_json::json!({ "version": version })).expect("JSON");
    let sent = conn
        .send("POST", &format!("{path}/submit"), cookie, &submit)
        .await;
    out.push((t.elapsed(), matches!(sent, Ok((200, _)))));
    out
}

/// Every one of `usernames` logging in at once (password "demo"), each from an address of its
/// own, as an office's people would.
fn login_rush(base: &str, pid: u32, usernames: &[String]) -> Result<()> {
    let (rss_before, threads_before) = common::proc_status(pid);
    let start = Arc::new(Barrier::new(usernames.len() + 1));
    let peaks = common::Peaks::watch(pid);
    let handles: Vec<_> = usernames
        .iter()
        .enumerate()
        .map(|(i, username)| {
            let (start, url, username) = (
                start.clone(),
                format!("{base}/api/v1/login"),
                username.clone(),
            );
            std::thread::Builder::new()
                .stack_size(256 << 10)
                .spawn(move || {
                    let agent: ureq::Agent = common::agent(Duration::from_secs(120));
                    start.wait();
                    let t = Instant::now();
                    let status = agent
                        .post(&url)
                        .header(
                            "X-Forwarded-For",
                            &format!("10.0.{}.{}", i / 250, i % 250 + 1),
                        )
                        .send_json(serde_json::json!({ "username": username, "password": "demo" }))
                        .map_or(0, |r| r.status().as_u16());
                    (t.elapsed(), status)
                })
                .expect("client thread")
        })
        .collect();
    start.wait();
    let began = Instant::now();
    let mut outcomes = Vec::new();
    for h in handles {
        outcomes.push(h.join().map_err(|_| anyhow!("a client panicked"))?);
    }
    let elapsed = began.elapsed().as_secs_f64();
    let (peak_rss, peak_threads) = peaks.stop()?;
    let ok = outcomes.iter().filter(|o| o.1 == 200).count();
    let busy = outcomes.iter().filter(|o| o.1 == 503).count();
    let other = outcomes.len() - ok - busy;
    let mut times: Vec<f64> = outcomes
        .iter()
        .filter(|o| o.1 == 200)
        .map(|o| o.0.as_secs_f64() * 1000.0)
        .collect();
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        times
            .get(((times.len() as f64 * p) as usize).min(times.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    println!(
        "\nlogin rush: {} communes logging in at once",
        outcomes.len()
    );
    println!(
        "  logins served                                         {:>8.1} /s  ({ok} in {elapsed:.1} s)",
        ok as f64 / elapsed
    );
    println!(
        "  latency of a served login p50 / p99                   {:>8.0} / {:.0} ms",
        pct(0.5),
        pct(0.99)
    );
    println!("  refused as busy (503, Retry-After) / other failures   {busy:>8} / {other}");
    println!(
        "  server threads before / peak                          {threads_before:>8} / {}",
        peak_threads
    );
    println!(
        "  server memory before / peak                           {:>8.0} / {:.0} MB",
        rss_before as f64 / 1024.0,
        peak_rss as f64 / 1024.0
    );
    Ok(())
}
