//! What the HTTP benchmarks share: the release server started on a database, answering on a
//! free loopback port, and stopped when dropped; a PostgreSQL cluster for the runs on it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

#[allow(dead_code)]
pub mod wire;

pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Server {
    /// `baocao serve` on `db` (a file, or a postgres:// URL), once it answers.
    pub fn start(db: impl AsRef<std::ffi::OsStr>) -> Result<Server> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(env!("CARGO_BIN_EXE_baocao"))
            .args(["serve", "--database"])
            .arg(db.as_ref())
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting baocao serve")?;
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let probe: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let ready = Instant::now();
        while probe
            .get(format!("{}/dang-nhap", server.base))
            .call()
            .is_err()
        {
            if ready.elapsed() > Duration::from_secs(30) {
                bail!("the server did not start");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(server)
    }

    /// For reading its threads and memory from /proc (not every benchmark does).
    #[allow(dead_code)]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// A client bounded in time that spawns no thread per request: ureq resolves the host on a
/// thread of its own whenever the resolving has a deadline (a global one included), which cost
/// the benches' clients about a third of their CPU; so each phase after it has the deadline.
#[allow(dead_code)]
pub fn agent(limit: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(limit))
        .timeout_send_request(Some(limit))
        .timeout_send_body(Some(limit))
        .timeout_recv_response(Some(limit))
        .timeout_recv_body(Some(limit))
        .build()
        .into()
}

/// Opens a round of `template` owned by `owner`, its deadlines far off (nobody files late).
#[allow(dead_code)]
pub fn open_round(
    conn: &mut baocao::db::Conn,
    catalog: &baocao::catalog::Catalog,
    owner: &baocao::db::models::Unit,
    template: &str,
    period_type: &str,
    year: i32,
) -> Result<i32> {
    let input = baocao::service::rounds::RoundInput {
        template: template.into(),
        period_type: period_type.into(),
        year,
        commune_deadline: chrono::NaiveDate::from_ymd_opt(2099, 1, 1),
        district_deadline: chrono::NaiveDate::from_ymd_opt(2099, 1, 5),
        ..Default::default()
    };
    baocao::service::rounds::open_round(
        conn,
        catalog,
        None,
        owner,
        &input,
        baocao::domain::vn::now_utc(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))
}

/// A process's resident memory (kB) and threads, from /proc.
#[allow(dead_code)]
pub fn proc_status(pid: u32) -> (u64, u64) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("Threads:"))
}

/// The CPU time a process has used so far (user and system), from /proc, in milliseconds
/// (at the kernel's 100 ticks a second).
#[allow(dead_code)]
pub fn cpu_ms(pid: u32) -> f64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command (in parentheses, which may hold spaces): utime is the 14th
    // field of the line, stime the 15th.
    let rest = text.rsplit_once(')').map_or("", |(_, r)| r);
    let ticks: u64 = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    ticks as f64 * 10.0
}

/// The peak resident memory (kB) and threads of a process, sampled from /proc every 20 ms on a
/// thread of its own until [`Peaks::stop`].
#[allow(dead_code)]
pub struct Peaks {
    stop: Arc<AtomicBool>,
    peaks: Arc<(AtomicU64, AtomicU64)>,
    sampler: std::thread::JoinHandle<()>,
}

#[allow(dead_code)]
impl Peaks {
    pub fn watch(pid: u32) -> Peaks {
        let stop = Arc::new(AtomicBool::new(false));
        let peaks = Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
        let sampler = {
            let (stop, peaks) = (stop.clone(), peaks.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let (rss, threads) = proc_status(pid);
                    peaks.0.fetch_max(rss, Ordering::Relaxed);
                    peaks.1.fetch_max(threads, Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        };
        Peaks {
            stop,
            peaks,
            sampler,
        }
    }

    /// Stops sampling: the peak resident memory (kB) and threads seen.
    pub fn stop(self) -> Result<(u64, u64)> {
        self.stop.store(true, Ordering::Relaxed);
        self.sampler
            .join()
            .map_err(|_| anyhow::anyhow!("the sampler panicked"))?;
        Ok((
            self.peaks.0.load(Ordering::Relaxed),
            self.peaks.1.load(Ordering::Relaxed),
        ))
    }
}

/// The median of some timings, in milliseconds.
#[allow(dead_code)]
pub fn median_ms(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times
        .get(times.len() / 2)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The PostgreSQL cluster the bench uses: named, or started for the run and stopped after.
#[allow(dead_code)]
pub struct Cluster {
    pub url: String,
    started: Option<PathBuf>,
}

#[allow(dead_code)]
impl Cluster {
    /// `durable`: with PostgreSQL's durable defaults (for benchmarks that write).
    pub fn get(dir: &Path, durable: bool) -> Result<Cluster> {
        if let Ok(url) = std::env::var("BAOCAO_BENCH_POSTGRES") {
            return Ok(Cluster {
                url: url.trim_end_matches('/').to_owned(),
                started: None,
            });
        }
        let data = dir.join("pg");
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let out = std::process::Command::new(Self::script())
            .env("PG_DURABLE", if durable { "1" } else { "0" })
            .arg("start")
            .arg(&data)
            .arg(port.to_string())
            .output()
            .context("scripts/pg-cluster")?;
        if !out.status.success() {
            bail!(
                "scripts/pg-cluster: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(Cluster {
            url: String::from_utf8(out.stdout)?.trim().to_owned(),
            started: Some(data),
        })
    }

    fn script() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/pg-cluster")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(data) = &self.started {
            let _ = std::process::Command::new(Self::script())
                .arg("stop")
                .arg(data)
                .output();
        }
    }
}

/// A new, empty database `name` on the cluster at `cluster` (dropped first if it exists): its URL.
#[allow(dead_code)]
pub fn new_database(cluster: &str, name: &str) -> Result<String> {
    use diesel::RunQueryDsl;
    let mut admin = baocao::db::establish(&baocao::db::Target::of(&format!("{cluster}/postgres")))?;
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name}")).execute(&mut admin)?;
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin)?;
    Ok(format!("{cluster}/{name}"))
}
