//! The national rollup: the whole country (63 provinces, 696 districts, 10,051 communes, the
//! list of 2025-01-04) under the central board, every commune's report of 60 whole-number
//! indicators accepted, against the release server over real HTTP on loopback.
//!
//! Measured in the same run: the baseline, bare SQLite summing the same values from an EAV
//! table (`SELECT key, SUM(value) … GROUP BY key`, 603,060 rows); the national rollup
//! (`GET /api/v1/rounds/{r}/rollup/VN`) as it stands, and right after a change below it (a
//! district reopening a commune's report, the commune submitting it again, the district
//! accepting it); and the same country with every district's communes doubled (20,102
//! communes under the same 63 provinces), where a rollup that grows with the number of
//! children, not of communes, takes the same time. The server's peak memory is read from /proc.
//!
//! Then the same country moved to PostgreSQL (`baocao migrate`'s engine), the EAV table with
//! it, and both measured again there: the baseline is PostgreSQL's own GROUP BY. The cluster is
//! `BAOCAO_BENCH_POSTGRES` (`postgres://user@host:port`) or, without it, a throwaway one that
//! `scripts/pg-cluster` starts (and installs when missing).
//! Run with `cargo bench -p baocao --bench national`.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use baocao::config::Settings;
use baocao::db::models::NewReport;
use baocao::db::schema::{accounts, reports, units};
use baocao::domain::vn;
use baocao::service::{self, session};
use baocao::setup::{Admin, Source};
use baocao::startup::prepare;
use diesel::prelude::*;

mod common;

const INDICATORS: usize = 60;
const RUNS: usize = 30;
const NATION: &str = "VN";

/// A periodic template of 60 whole-number indicators, summed.
fn template() -> String {
    let mut t = String::from(
        "key = \"quoc-gia-60\"\nversion = 1\ntitle = \"Báo cáo thử 60 chỉ tiêu\"\nkind = \"periodic\"\n\
         period_types = [\"year\"]\n\n[[groups]]\nkey = \"chung\"\ntitle = \"Chung\"\n",
    );
    for i in 0..INDICATORS {
        t.push_str(&format!(
            "\n[[indicators]]\nkey = \"ct_{i:02}\"\nlabel = \"Chỉ tiêu {i:02}\"\ngroup = \"chung\"\ntype = \"integer\"\nmin = 0\n"
        ));
    }
    t
}

/// The same figure for the same commune every run.
fn value(unit: i32, i: usize) -> i64 {
    ((unit as i64 * 2_654_435_761 + i as i64 * 40_503) % 997).abs()
}

struct Country {
    /// A file, or a postgres:// URL.
    db: String,
    round: i32,
    /// A district with communes, and one of its communes: where the changes are made.
    district: String,
    commune: String,
}

/// A database of the whole country (with `twins`, every district's communes doubled), every
/// commune's report accepted; and, alongside, the EAV table of the same values.
fn build(dir: &Path, name: &str, twins: bool) -> Result<Country> {
    let schemas = dir.join("schemas");
    std::fs::create_dir_all(&schemas)?;
    std::fs::write(schemas.join("quoc-gia-60.toml"), template())?;
    let db = dir.join(format!("{name}.db"));
    let settings = Settings {
        database: db.to_string_lossy().into_owned(),
        schemas: Some(schemas),
        ..Settings::default()
    };
    let (state, _) = prepare(&settings)?;
    let mut conn = state.pool.get()?;
    let admin = Admin {
        username: "admin".into(),
        full_name: "Quản trị".into(),
    };
    let source = if twins {
        let text = twin_csv()?;
        baocao::setup::setup(&mut conn, &Source::File(&text), &admin, || {
            Ok("đồng lúa chín vàng ươm 2026".into())
        })
    } else {
        baocao::setup::setup(&mut conn, &Source::Country, &admin, || {
            Ok("đồng lúa chín vàng ươm 2026".into())
        })
    };
    source.map_err(|e| anyhow!("{e}"))?;
    let root = service::units::unit_by_code(&mut conn, NATION, None)
        .map_err(|e| anyhow!("{e}"))?
        .context("no national root")?;
    let round = common::open_round(
        &mut conn,
        &state.catalog,
        &root,
        "quoc-gia-60",
        "year",
        2025,
    )?;
    // Every leaf files: the communes, and the few districts with none (islands).
    let all: Vec<(i32, Option<i32>)> = units::table
        .select((units::id, units::parent_id))
        .load(&mut conn)?;
    let parents: std::collections::HashSet<i32> = all.iter().filter_map(|u| u.1).collect();
    let leaves: Vec<i32> = all
        .iter()
        .map(|u| u.0)
        .filter(|id| !parents.contains(id))
        .collect();
    let now = vn::now_utc();
    let texts: Vec<String> = leaves
        .iter()
        .map(|&u| {
            let values: serde_json::Map<String, serde_json::Value> = (0..INDICATORS)
                .map(|i| (format!("ct_{i:02}"), value(u, i).into()))
                .collect();
            serde_json::Value::Object(values).to_string()
        })
        .collect();
    baocao::db::write_lock_transaction(&mut conn, |conn| {
        diesel::sql_query("CREATE TABLE bench_eav (report_id INTEGER NOT NULL, key TEXT NOT NULL, value INTEGER NOT NULL)")
            .execute(conn)?;
        for (chunk, texts) in leaves.chunks(500).zip(texts.chunks(500)) {
            let rows: Vec<NewReport> = chunk
                .iter()
                .zip(texts)
                .map(|(&unit_id, text)| NewReport {
                    round_id: round,
                    unit_id,
                    status: "accepted",
                    values_json: text,
                    sections_json: "{}",
                    version: 2,
                    first_submitted_at: Some(now),
                    submitted_at: Some(now),
                    reviewed_at: Some(now),
                    reviewed_by: None,
                    return_reason: None,
                    updated_at: now,
                    updated_by: None,
                    included_json: None,
                    prefill_json: None,
                })
                .collect();
            baocao::execute_on_backend!(conn, diesel::insert_into(reports::table).values(&rows))?;
            let mut eav = String::from("INSERT INTO bench_eav (report_id, key, value) VALUES ");
            for (n, &unit) in chunk.iter().enumerate() {
                for i in 0..INDICATORS {
                    if n + i > 0 {
                        eav.push(',');
                    }
                    eav.push_str(&format!("({unit}, 'ct_{i:02}', {})", value(unit, i)));
                }
            }
            diesel::sql_query(eav).execute(conn)?;
        }
        service::rollup::live::rebuild_round(conn, round).map_err(|e| anyhow!("{e}"))?;
        Ok::<_, anyhow::Error>(())
    })?;
    baocao::seed::demo_accounts(&mut conn)?;
    // A district of Thái Bình and one of its communes.
    Ok(Country {
        db: db.to_string_lossy().into_owned(),
        round,
        district: "338".into(),
        commune: "12475".into(),
    })
}

/// The national list with a twin of every commune beside it, in the same district.
fn twin_csv() -> Result<String> {
    let text = include_str!("../../seeds/vietnam_units_2025-01-04.csv");
    let mut out = String::from("code,name,kind,parent_code\n");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([NATION, "Toàn quốc", "nation", ""])?;
    for row in reader.records() {
        let row = row?;
        let (code, name, kind) = (&row[0], &row[1], &row[2]);
        let parent = if row[3].is_empty() { NATION } else { &row[3] };
        writer.write_record([code, name, kind, parent])?;
        if kind == "commune" {
            writer.write_record([&format!("{code}9"), &format!("{name} mới"), kind, parent])?;
        }
    }
    out.push_str(&String::from_utf8(writer.into_inner()?)?);
    Ok(out)
}

/// The baseline: the database itself summing the EAV table, median of `RUNS`.
fn group_by(db: &str) -> Result<f64> {
    #[derive(QueryableByName)]
    struct Sum {
        #[diesel(sql_type = diesel::sql_types::Text)]
        _key: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        _total: i64,
    }
    let mut conn = baocao::db::establish(&baocao::db::Target::of(db))?;
    let mut times = Vec::new();
    for run in 0..RUNS + 2 {
        let t = Instant::now();
        let sums: Vec<Sum> = diesel::sql_query(
            "SELECT key AS _key, CAST(SUM(value) AS BIGINT) AS _total FROM bench_eav GROUP BY key",
        )
        .load(&mut conn)?;
        if sums.len() != INDICATORS {
            bail!("{} sums", sums.len());
        }
        if run >= 2 {
            times.push(t.elapsed());
        }
    }
    Ok(common::median_ms(times))
}

/// A session of the account `username`, opened in the database directly.
fn session_of(db: &str, username: &str) -> Result<String> {
    let pool = baocao::db::connect(db)?;
    let mut conn = pool.get()?;
    let id: i32 = accounts::table
        .filter(accounts::username.eq(username))
        .select(accounts::id)
        .first(&mut conn)?;
    let settings = Settings::default();
    session::open_session(
        &mut conn,
        id,
        &settings.sessions,
        &session::Client::default(),
    )
    .map_err(|e| anyhow!("{e}"))
}

struct Measured {
    rollup: f64,
    after_change: f64,
    province: f64,
    peak_rss_mb: f64,
}

fn measure(country: &Country) -> Result<Measured> {
    let tokens: Vec<String> = [NATION, &country.district, &country.commune]
        .iter()
        .map(|u| session_of(&country.db, u))
        .collect::<Result<_>>()?;
    let server = common::Server::start(&country.db)?;
    let agent: ureq::Agent = common::agent(Duration::from_secs(60));
    let base = &server.base;
    let round = country.round;
    let cookie = |who: usize| format!("baocao_session={}", tokens[who]);
    // Each rollup built for its request (`Cache-Control: no-cache`): the figures are the
    // consolidation's work, not a page the server kept from the request before (`routes::kept`).
    let get = |path: &str| -> Result<Duration> {
        let t = Instant::now();
        let mut res = agent
            .get(format!("{base}{path}"))
            .header("Cookie", &cookie(0))
            .header("Cache-Control", "no-cache")
            .call()?;
        let body = res.body_mut().with_config().limit(64 << 20).read_to_vec()?;
        let took = t.elapsed();
        if res.status() != 200 || body.is_empty() {
            bail!("{path}: {}", res.status());
        }
        Ok(took)
    };
    let national = format!("/api/v1/rounds/{round}/rollup/{NATION}");
    let times = (0..RUNS + 3)
        .map(|_| get(&national))
        .collect::<Result<Vec<_>>>()?;
    let rollup = common::median_ms(times[3..].to_vec());
    let province = common::median_ms(
        (0..RUNS)
            .map(|_| get(&format!("/api/v1/rounds/{round}/rollup/34")))
            .collect::<Result<Vec<_>>>()?,
    );
    // Right after a change below: reopened, submitted again, accepted again.
    let report = format!("{base}/api/v1/rounds/{round}/reports/{}", country.commune);
    let mut after = Vec::new();
    for _ in 0..RUNS / 3 {
        let steps: [(usize, String, serde_json::Value); 3] = [
            (
                1,
                format!("{report}/reopen"),
                serde_json::json!({ "reason": "Kiểm tra lại số liệu." }),
            ),
            (2, format!("{report}/submit"), serde_json::json!({})),
            (1, format!("{report}/accept"), serde_json::json!({})),
        ];
        for (who, url, body) in steps {
            let res = agent
                .post(&url)
                .header("Cookie", &cookie(who))
                .send_json(body)?;
            if res.status() != 200 {
                bail!("{url}: {}", res.status());
            }
            after.push(get(&national)?);
        }
    }
    let after_change = common::median_ms(after);
    let hwm = std::fs::read_to_string(format!("/proc/{}/status", server.pid()))?
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(0.0);
    Ok(Measured {
        rollup,
        after_change,
        province,
        peak_rss_mb: hwm / 1024.0,
    })
}

fn main() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let started = Instant::now();
    let country = build(&dir.path().join("one"), "country", false)?;
    println!(
        "data: the whole country, every commune's report of {INDICATORS} indicators accepted, in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let baseline = group_by(&country.db)?;
    let one = measure(&country)?;
    let started = Instant::now();
    let doubled = build(&dir.path().join("two"), "doubled", true)?;
    println!(
        "data: the same with every district's communes doubled, in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let baseline_2 = group_by(&doubled.db)?;
    let two = measure(&doubled)?;

    println!(
        "\nmedian of {RUNS}, ms                                  10,051 communes   20,102 communes"
    );
    println!(
        "bare SQLite SUM … GROUP BY over the EAV table        {:>10.1}        {:>10.1}",
        baseline, baseline_2
    );
    println!(
        "national rollup (GET …/rollup/VN)                    {:>10.1}        {:>10.1}",
        one.rollup, two.rollup
    );
    println!(
        "national rollup right after a change below it        {:>10.1}        {:>10.1}",
        one.after_change, two.after_change
    );
    println!(
        "a province's rollup (Thái Bình, 8 districts)         {:>10.1}        {:>10.1}",
        one.province, two.province
    );
    println!(
        "\nthe national rollup is {:.0}× faster than the GROUP BY ({:.0}× with twice the communes); \
         twice the communes under the same children: {:.2}× the time (the GROUP BY: {:.2}×)",
        baseline / one.rollup,
        baseline_2 / two.rollup,
        two.rollup / one.rollup,
        baseline_2 / baseline
    );
    println!(
        "server peak resident memory: {:.0} MB and {:.0} MB",
        one.peak_rss_mb, two.peak_rss_mb
    );

    let cluster = common::Cluster::get(dir.path(), false)?;
    let started = Instant::now();
    let pg = to_postgres(&country, &cluster.url, "bench_national")?;
    println!(
        "\ndata: the same country moved to PostgreSQL, in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let pg_baseline = group_by(&pg.db)?;
    let on_pg = measure(&pg)?;
    println!("\non PostgreSQL, median of {RUNS}, ms                      10,051 communes");
    println!("bare PostgreSQL SUM … GROUP BY over the EAV table     {pg_baseline:>10.1}");
    println!(
        "national rollup (GET …/rollup/VN)                    {:>10.1}",
        on_pg.rollup
    );
    println!(
        "national rollup right after a change below it        {:>10.1}",
        on_pg.after_change
    );
    println!(
        "a province's rollup (Thái Bình, 8 districts)         {:>10.1}",
        on_pg.province
    );
    println!(
        "\non PostgreSQL the national rollup is {:.0}× faster than its GROUP BY; server peak {:.0} MB",
        pg_baseline / on_pg.rollup,
        on_pg.peak_rss_mb
    );
    Ok(())
}

/// `country` moved to a new database `name` on the cluster, with its EAV table.
fn to_postgres(country: &Country, cluster: &str, name: &str) -> Result<Country> {
    {
        let mut admin =
            baocao::db::establish(&baocao::db::Target::of(&format!("{cluster}/postgres")))?;
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name}")).execute(&mut admin)?;
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin)?;
    }
    let url = format!("{cluster}/{name}");
    let (from, to) = (
        baocao::db::connect(&country.db)?,
        baocao::db::connect(&url)?,
    );
    let (mut a, mut b) = (from.get()?, to.get()?);
    baocao::transfer::transfer(&mut a, &mut b).map_err(|e| anyhow!("{e}"))?;
    #[derive(QueryableByName)]
    struct Eav {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        report_id: i32,
        #[diesel(sql_type = diesel::sql_types::Text)]
        key: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        value: i64,
    }
    let rows: Vec<Eav> =
        diesel::sql_query("SELECT report_id, key, value FROM bench_eav").load(&mut a)?;
    diesel::sql_query(
        "CREATE TABLE bench_eav (report_id INTEGER NOT NULL, key TEXT NOT NULL, value BIGINT NOT NULL)",
    )
    .execute(&mut b)?;
    for chunk in rows.chunks(5_000) {
        let mut insert = String::from("INSERT INTO bench_eav (report_id, key, value) VALUES ");
        for (n, r) in chunk.iter().enumerate() {
            if n > 0 {
                insert.push(',');
            }
            insert.push_str(&format!("({}, '{}', {})", r.report_id, r.key, r.value));
        }
        diesel::sql_query(insert).execute(&mut b)?;
    }
    // Measured settled: the tables just filled vacuumed and their statistics gathered now, and
    // the pages written out, rather than autovacuum and a checkpoint running amid the timings
    // (their medians then ranged from 2 to 12 ms). A checkpoint needs a superuser; without one,
    // PostgreSQL's own schedule stands.
    diesel::sql_query("VACUUM (ANALYZE)").execute(&mut b)?;
    let _ = diesel::sql_query("CHECKPOINT").execute(&mut b);
    Ok(Country {
        db: url,
        round: country.round,
        district: country.district.clone(),
        commune: country.commune.clone(),
    })
}
