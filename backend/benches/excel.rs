//! Excel both ways at full size, against what an office scripts today in Python.
//!
//! (a) The export of a national-size round (10,600 communes in 700 districts, 60 indicators)
//!     by `baocao`, against a Python script reading the same database and writing the same
//!     sheets with XlsxWriter.
//! (b) The upload and check of Thái Bình's 242 communes' filled forms by their eight district
//!     boards (the real bulk upload: matched, validated, stored as drafts), against pandas
//!     reading the same files.
//!
//! Every measured job runs in a process of its own, which reports its own time (from start to
//! the file written, interpreter start-up and imports left out) and peak resident memory, so
//! that the baseline and baocao are measured alike in the same run; each side runs three times,
//! alternating, and its median run is reported. The figures that matter are the ratios. Run with `scripts/bench` (it installs the Python
//! packages), or `cargo bench -p baocao --bench excel -- [--quick] [--communes N] [--districts N]`
//! when they are installed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use baocao::catalog::Catalog;
use baocao::config::Settings;
use baocao::db::models::{Account, NewReport, Unit};
use baocao::db::schema::{accounts, reports, units};
use baocao::domain::{Role, vn};
use baocao::error::AppError;
use baocao::service::access::reach_of;
use baocao::service::rounds::RoundInput;
use baocao::service::{self, CurrentUser, RoundCtx};
use baocao::startup::prepare;
use diesel::prelude::*;
use serde_json::{Value as Json, json};

const EXPORT_ROUND: i32 = 1;
const NATIONAL_ROOT: &str = "99";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().map(String::as_str) == Some("job") {
        return job(&args[1..]);
    }
    let quick = args.iter().any(|a| a == "--quick");
    let option = |name: &str| -> Option<usize> {
        let at = args.iter().position(|a| a == name)?;
        args.get(at + 1)?.parse().ok()
    };
    let (communes, districts) = if quick { (1_000, 70) } else { (10_600, 700) };
    let communes = option("--communes").unwrap_or(communes);
    let districts = option("--districts")
        .unwrap_or(districts)
        .clamp(1, communes.max(1));
    let indicators = 60;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&dir)?;
    let dir = dir.canonicalize()?;
    let python = Python::find()?;

    println!("# baocao: Excel both ways, against the Python baseline (same machine, same run)");
    println!();
    let t = Instant::now();
    let national = dir.join("national.db");
    generate_national(&dir, &national, communes, districts, indicators)?;
    println!(
        "Generated {communes} communes in {districts} districts, {indicators} indicators, \
         in {:.1} s.",
        t.elapsed().as_secs_f64()
    );
    let rust_out = dir.join("export-baocao.xlsx");
    let py_out = dir.join("export-python.xlsx");
    let (ours, theirs) = median_pair(
        || {
            run_job(Command::new(std::env::current_exe()?).args([
                "job",
                "export",
                path_str(&national)?,
                path_str(&rust_out)?,
            ]))
        },
        || {
            run_job(python.command("bench_export.py").args([
                path_str(&national)?,
                &EXPORT_ROUND.to_string(),
                path_str(&py_out)?,
            ]))
        },
    )?;
    let export = Comparison {
        job: format!(
            "(a) export: {communes} communes, {districts} districts, {indicators} indicators"
        ),
        ours,
        theirs,
        baseline: "Python XlsxWriter",
        sizes: (file_len(&rust_out), file_len(&py_out)),
    };
    export.print();

    let t = Instant::now();
    let tb = dir.join("thai-binh.db");
    let forms = dir.join("forms");
    let (round, files) = generate_forms(&tb, &forms)?;
    println!(
        "Generated {files} filled commune forms (Thái Bình) in {:.1} s.",
        t.elapsed().as_secs_f64()
    );
    let (ours, theirs) = median_pair(
        || {
            clear_round(&tb, round)?;
            let ours = run_job(Command::new(std::env::current_exe()?).args([
                "job",
                "upload",
                path_str(&tb)?,
                &round.to_string(),
                path_str(&forms)?,
            ]))?;
            if ours.stored != Some(files as u64) {
                bail!("baocao stored {:?} of {files} forms", ours.stored);
            }
            Ok(ours)
        },
        || run_job(python.command("bench_upload.py").arg(path_str(&forms)?)),
    )?;
    let upload = Comparison {
        job: format!("(b) upload and check: {files} filled commune forms"),
        ours,
        theirs,
        baseline: "pandas.read_excel",
        sizes: (0, 0),
    };
    upload.print();
    println!();
    println!(
        "Targets: export ≥ 5× faster than XlsxWriter and < 100 MB peak: {} ({:.1}×, {:.0} MB); \
         uploads ≥ 10× faster than pandas: {} ({:.1}×).",
        verdict(export.ratio() >= 5.0 && export.ours.peak_mb() < 100.0),
        export.ratio(),
        export.ours.peak_mb(),
        verdict(upload.ratio() >= 10.0),
        upload.ratio()
    );
    Ok(())
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

fn path_str(p: &Path) -> Result<&str> {
    p.to_str()
        .ok_or_else(|| anyhow!("non-UTF-8 path {}", p.display()))
}

fn file_len(p: &Path) -> u64 {
    std::fs::metadata(p).map_or(0, |m| m.len())
}

/// What a measured job reports on its last line of output.
#[derive(Debug, serde::Deserialize)]
struct Measured {
    seconds: f64,
    peak_kb: u64,
    #[serde(default)]
    stored: Option<u64>,
}

impl Measured {
    fn peak_mb(&self) -> f64 {
        self.peak_kb as f64 / 1024.0
    }
}

/// Runs each side `RUNS` times, alternating, and keeps each side's median run: the machine is
/// shared, and a single run can be slowed by a neighbour.
fn median_pair(
    mut ours: impl FnMut() -> Result<Measured>,
    mut theirs: impl FnMut() -> Result<Measured>,
) -> Result<(Measured, Measured)> {
    const RUNS: usize = 3;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        a.push(ours()?);
        b.push(theirs()?);
    }
    let median = |mut runs: Vec<Measured>| {
        runs.sort_by(|x, y| x.seconds.total_cmp(&y.seconds));
        runs.swap_remove(RUNS / 2)
    };
    Ok((median(a), median(b)))
}

fn run_job(cmd: &mut Command) -> Result<Measured> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).with_context(|| format!("reading the result of {cmd:?}: {stdout}"))
}

struct Comparison {
    job: String,
    ours: Measured,
    theirs: Measured,
    baseline: &'static str,
    sizes: (u64, u64),
}

impl Comparison {
    fn ratio(&self) -> f64 {
        self.theirs.seconds / self.ours.seconds.max(1e-9)
    }

    fn print(&self) {
        println!();
        println!("{}", self.job);
        println!(
            "  baocao             {:>8.2} s   peak {:>6.1} MB{}",
            self.ours.seconds,
            self.ours.peak_mb(),
            size(self.sizes.0)
        );
        println!(
            "  {:<18} {:>8.2} s   peak {:>6.1} MB{}",
            self.baseline,
            self.theirs.seconds,
            self.theirs.peak_mb(),
            size(self.sizes.1)
        );
        println!("  baocao is {:.1}× faster", self.ratio());
    }
}

fn size(bytes: u64) -> String {
    if bytes == 0 {
        String::new()
    } else {
        format!("   file {:.1} MB", bytes as f64 / 1_048_576.0)
    }
}

/// The Python the baseline runs on, with its packages where `scripts/bench` put them.
struct Python {
    scripts: PathBuf,
    path: String,
}

impl Python {
    fn find() -> Result<Python> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let path = std::env::var("BAOCAO_BENCH_PYTHONPATH")
            .unwrap_or_else(|_| root.join("target/benchdeps").to_string_lossy().into_owned());
        let python = Python {
            scripts: root.join("tests/py"),
            path,
        };
        let ok = Command::new("python3")
            .env("PYTHONPATH", &python.path)
            .args(["-c", "import pandas, xlsxwriter, openpyxl"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            bail!(
                "the baseline needs python3 with pandas, xlsxwriter and openpyxl: run scripts/bench"
            );
        }
        Ok(python)
    }

    fn command(&self, script: &str) -> Command {
        let mut cmd = Command::new("python3");
        cmd.env("PYTHONPATH", &self.path)
            .arg(self.scripts.join(script));
        cmd
    }
}

/// Peak resident memory of this process so far, from the kernel.
fn peak_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn settings(db: &Path, schemas: Option<PathBuf>, demo: bool) -> Result<Settings> {
    Ok(Settings {
        database: path_str(db)?.to_owned(),
        schemas,
        demo,
        ..Settings::default()
    })
}

/// A measured job, in a process of its own.
fn job(args: &[String]) -> Result<()> {
    match args {
        [kind, db, out] if kind == "export" => {
            let started = Instant::now();
            let (state, _) = prepare(&settings(Path::new(db), None, false)?)?;
            let mut conn = state.pool.get()?;
            service::export::to_file(
                &mut conn,
                &state.catalog,
                EXPORT_ROUND,
                NATIONAL_ROOT,
                false,
                Path::new(out),
            )
            .map_err(said)?;
            let seconds = started.elapsed().as_secs_f64();
            println!("{}", json!({"seconds": seconds, "peak_kb": peak_kb()}));
            Ok(())
        }
        // The consolidation alone, without writing a workbook: how the export's time divides.
        [kind, db] if kind == "rollup" => {
            let started = Instant::now();
            let (state, _) = prepare(&settings(Path::new(db), None, false)?)?;
            let mut conn = state.pool.get()?;
            let root = unit(&mut conn, NATIONAL_ROOT)?;
            let (console, ctx) = console_round(&mut conn, &state.catalog, &root, EXPORT_ROUND)?;
            let mut rows = 0u64;
            let view = service::rollup::rollup_each(&mut conn, &console, &ctx, &root, false, |v| {
                rows += v.rows.len() as u64;
                Ok(())
            })
            .map_err(said)?;
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "{}",
                json!({"seconds": seconds, "peak_kb": peak_kb(), "stored": rows + view.rows.len() as u64})
            );
            Ok(())
        }
        [kind, db, round, forms] if kind == "upload" => {
            let started = Instant::now();
            let (state, _) = prepare(&settings(Path::new(db), None, false)?)?;
            let mut conn = state.pool.get()?;
            let round: i32 = round.parse()?;
            let mut by_board: BTreeMap<String, Vec<(String, Vec<u8>)>> = BTreeMap::new();
            let all: Vec<(i32, String, Option<i32>)> = units::table
                .select((units::id, units::code, units::parent_id))
                .load(&mut conn)?;
            let code_of: BTreeMap<i32, &str> = all
                .iter()
                .map(|(id, code, _)| (*id, code.as_str()))
                .collect();
            let parent_of: BTreeMap<&str, &str> = all
                .iter()
                .filter_map(|(_, code, parent)| Some((code.as_str(), *code_of.get(&(*parent)?)?)))
                .collect();
            for entry in std::fs::read_dir(forms)? {
                let path = entry?.path();
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_owned();
                let code = name.split('.').next().unwrap_or_default();
                let board = parent_of
                    .get(code)
                    .ok_or_else(|| anyhow!("no parent for {name}"))?;
                by_board
                    .entry((*board).to_owned())
                    .or_default()
                    .push((name, std::fs::read(&path)?));
            }
            let mut stored = 0u64;
            for (board, files) in by_board {
                let user = board_user(&mut conn, &board)?;
                let ctx = service::access::round_for(
                    &mut conn,
                    &state.catalog,
                    &user,
                    round,
                    vn::now_utc(),
                )
                .map_err(said)?;
                let results = service::upload::bulk_upload(
                    &mut conn,
                    &user,
                    &ctx,
                    &user.unit.clone(),
                    files,
                    &state.limits,
                )
                .map_err(said)?;
                for r in results {
                    if r.stored {
                        stored += 1;
                    } else {
                        eprintln!("{}: {}", r.file, r.messages.join(" "));
                    }
                }
            }
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "{}",
                json!({"seconds": seconds, "peak_kb": peak_kb(), "stored": stored})
            );
            Ok(())
        }
        _ => bail!("unknown job {args:?}"),
    }
}

/// A service error as the user would read it.
fn said(e: AppError) -> anyhow::Error {
    anyhow!("{}", e.user_message())
}

/// The unit with `code`.
fn unit(conn: &mut baocao::db::Conn, code: &str) -> Result<Unit> {
    service::units::unit_by_code(conn, code, None)
        .map_err(said)?
        .ok_or_else(|| anyhow!("no unit {code}"))
}

/// The console operator over `root`, and `round` as that operator reads it.
fn console_round(
    conn: &mut baocao::db::Conn,
    catalog: &Catalog,
    root: &Unit,
    round: i32,
) -> Result<(CurrentUser, RoundCtx)> {
    let console = CurrentUser::console(root.clone());
    let ctx =
        service::access::round_for(conn, catalog, &console, round, vn::now_utc()).map_err(said)?;
    Ok((console, ctx))
}

/// Removes a SQLite database and its journal files, if there.
fn remove_database(db: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}

/// The signed-in board of the unit with `code`, as a request would carry it.
fn board_user(conn: &mut baocao::db::Conn, code: &str) -> Result<CurrentUser> {
    let (account, unit): (Account, Unit) = accounts::table
        .inner_join(units::table)
        .filter(accounts::username.eq(code))
        .select((Account::as_select(), Unit::as_select()))
        .first(conn)
        .with_context(|| format!("no account {code}"))?;
    let role = Role::parse(&account.role).ok_or_else(|| anyhow!("role of {code}"))?;
    let reach = reach_of(conn, &unit).map_err(said)?;
    Ok(CurrentUser {
        account,
        unit,
        role,
        reach,
        csrf: String::new(),
        session: None,
    })
}

/// A template of `indicators` indicators in six groups, every kind and aggregate represented.
fn national_template(indicators: usize) -> String {
    const FIELDS: [&str; 6] = [
        "giáo dục - đào tạo",
        "y tế, dân số",
        "khoa học - công nghệ",
        "môi trường",
        "văn hóa, thể thao",
        "an sinh xã hội",
    ];
    let mut toml = String::from(
        "key = \"quoc-gia\"\nversion = 1\ntitle = \"Báo cáo định kỳ công tác khoa giáo (mẫu thử quy mô toàn quốc)\"\n\
         kind = \"periodic\"\nperiod_types = [\"quarter\", \"half_year\", \"year\"]\n\
         description = \"Mẫu sinh tự động cho phép đo hiệu năng.\"\n\n",
    );
    for (g, field) in FIELDS.iter().enumerate() {
        let _ = write!(
            toml,
            "[[groups]]\nkey = \"nhom_{g}\"\ntitle = \"{}. Lĩnh vực {field}\"\n\n",
            ["I", "II", "III", "IV", "V", "VI"][g]
        );
    }
    let per_group = indicators.div_ceil(FIELDS.len());
    for n in 0..indicators {
        let (g, i) = (n / per_group, n % per_group);
        let field = FIELDS[g.min(FIELDS.len() - 1)];
        let key = format!("ct_{g}_{i}");
        let body = match i {
            0 => format!(
                "label = \"Số buổi tuyên truyền về {field}\"\ntype = \"integer\"\nunit = \"buổi\"\nmax = 1000"
            ),
            1 => format!(
                "label = \"Số lượt người được tuyên truyền về {field}\"\ntype = \"integer\"\nunit = \"lượt\"\nmax = 100000"
            ),
            7 => format!(
                "label = \"Đã sơ kết chuyên đề về {field}\"\ntype = \"yes_no\"\naggregate = \"count_yes\""
            ),
            8 if g % 2 == 0 => format!(
                "label = \"Kinh phí cho hoạt động về {field}\"\ntype = \"decimal\"\nunit = \"triệu đồng\"\nmin = 0\nmax = 100000\naggregate = \"sum\""
            ),
            8 => format!(
                "label = \"Điểm tự chấm lĩnh vực {field}\"\ntype = \"decimal\"\nunit = \"điểm\"\nmin = 0\nmax = 100\naggregate = \"average\""
            ),
            9 if g == 0 => format!(
                "label = \"Tự đánh giá lĩnh vực {field}\"\ntype = \"choice\"\noptions = [\n  {{ key = \"tot\", label = \"Tốt\" }},\n  {{ key = \"kha\", label = \"Khá\" }},\n  {{ key = \"trung_binh\", label = \"Trung bình\" }},\n  {{ key = \"yeu\", label = \"Yếu\" }},\n]"
            ),
            9 if g == 1 => format!(
                "label = \"Số người được tuyên truyền bình quân mỗi buổi về {field}\"\ntype = \"ratio\"\nnumerator = \"ct_{g}_1\"\ndenominator = \"ct_{g}_0\"\nscale = 1"
            ),
            9 if g == 2 => format!(
                "label = \"Số buổi nhiều nhất của một xã về {field}\"\ntype = \"integer\"\nunit = \"buổi\"\nmax = 1000\naggregate = \"max\""
            ),
            _ => format!(
                "label = \"Số hoạt động loại {i} về {field}\"\ntype = \"integer\"\nunit = \"hoạt động\"\nmax = 1000"
            ),
        };
        let _ = write!(
            toml,
            "[[indicators]]\nkey = \"{key}\"\ngroup = \"nhom_{g}\"\n{body}\n\n"
        );
    }
    toml.push_str(
        "[[sections]]\nkey = \"ket_qua\"\ntitle = \"Kết quả đạt được\"\nrequired = true\nmax_chars = 8000\n\n\
         [[sections]]\nkey = \"ton_tai\"\ntitle = \"Tồn tại, hạn chế\"\nmax_chars = 4000\n\n\
         [[sections]]\nkey = \"phuong_huong\"\ntitle = \"Phương hướng, nhiệm vụ kỳ tới\"\nrequired = true\nmax_chars = 4000\n",
    );
    toml
}

/// A fresh database with a national-size tree, a round on the template above and a report
/// for nine communes in ten (nearly all accepted).
fn generate_national(
    dir: &Path,
    db: &Path,
    communes: usize,
    districts: usize,
    indicators: usize,
) -> Result<()> {
    remove_database(db);
    let schemas = dir.join("schemas");
    std::fs::create_dir_all(&schemas)?;
    std::fs::write(schemas.join("quoc-gia.toml"), national_template(indicators))?;
    let (state, _) = prepare(&settings(db, Some(schemas), false)?)?;
    let mut conn = state.pool.get()?;
    let mut csv = String::from("code,name,kind,parent_code\n");
    let _ = writeln!(csv, "{NATIONAL_ROOT},Tỉnh Thử Nghiệm,province,");
    for d in 0..districts {
        let _ = writeln!(
            csv,
            "{},Huyện Thử Nghiệm {:03},district,{NATIONAL_ROOT}",
            1000 + d,
            d + 1
        );
    }
    for c in 0..communes {
        let d = c % districts;
        let _ = writeln!(
            csv,
            "{},Xã {} {:03}-{:02},commune,{}",
            100_000 + c,
            ["An", "Bình", "Đông", "Hòa", "Minh", "Tân", "Thanh", "Việt"][c % 8],
            d + 1,
            c / districts + 1,
            1000 + d
        );
    }
    baocao::seed::load_units(&mut conn, &csv)?;
    let root = unit(&mut conn, NATIONAL_ROOT)?;
    let input = RoundInput {
        template: "quoc-gia".into(),
        period_type: "half_year".into(),
        year: 2025,
        ..RoundInput::default()
    };
    let round = service::rounds::open_round(
        &mut conn,
        &state.catalog,
        None,
        &root,
        &input,
        vn::now_utc(),
    )
    .map_err(said)?;
    if round != EXPORT_ROUND {
        bail!("expected round {EXPORT_ROUND}, got {round}");
    }
    let (_, ctx) = console_round(&mut conn, &state.catalog, &root, round)?;
    let leaves: Vec<Unit> = units::table
        .filter(units::kind.eq("commune"))
        .select(Unit::as_select())
        .load(&mut conn)?;
    let deadline = ctx.round.commune_deadline;
    let empty = BTreeMap::new();
    baocao::db::write_lock_transaction(&mut conn, |conn| -> Result<()> {
        for unit in &leaves {
            let n: u64 = unit.code.parse().unwrap_or(0);
            if n % 10 == 3 {
                continue;
            }
            let (values, sections) =
                baocao::seed::sample_report(&ctx.template, &unit.code, &empty)?;
            let values = serde_json::to_string(&values)?;
            let sections = serde_json::to_string(&sections)?;
            let filed = deadline - chrono::Duration::hours((n % 100) as i64 - 20);
            let status = if n % 10 == 7 { "submitted" } else { "accepted" };
            diesel::insert_into(reports::table)
                .values(NewReport {
                    round_id: round,
                    unit_id: unit.id,
                    status,
                    values_json: &values,
                    sections_json: &sections,
                    version: 2,
                    first_submitted_at: Some(filed),
                    submitted_at: Some(filed),
                    reviewed_at: (status == "accepted")
                        .then(|| filed + chrono::Duration::hours(30)),
                    reviewed_by: None,
                    return_reason: None,
                    updated_at: filed,
                    updated_by: None,
                    included_json: None,
                    prefill_json: None,
                })
                .execute(conn)?;
        }
        // Filed behind the service's back: the round's live consolidations are built again.
        service::rollup::live::rebuild_round(conn, round).map_err(said)?;
        Ok(())
    })?;
    Ok(())
}

/// The demo database of Thái Bình with a second, open round, and a filled form (as baocao
/// hands it out, values in its input cells) for each of its communes. Returns the round and
/// the number of forms.
fn generate_forms(db: &Path, forms: &Path) -> Result<(i32, usize)> {
    remove_database(db);
    let _ = std::fs::remove_dir_all(forms);
    std::fs::create_dir_all(forms)?;
    let (state, _) = prepare(&settings(db, None, true)?)?;
    let mut conn = state.pool.get()?;
    let province = unit(&mut conn, "34")?;
    let input = RoundInput {
        template: "dinh-ky".into(),
        period_type: "year".into(),
        year: chrono::Datelike::year(&vn::today()),
        ..RoundInput::default()
    };
    let round = service::rounds::open_round(
        &mut conn,
        &state.catalog,
        None,
        &province,
        &input,
        vn::now_utc(),
    )
    .map_err(said)?;
    let (console, ctx) = console_round(&mut conn, &state.catalog, &province, round)?;
    let communes: Vec<Unit> = units::table
        .filter(units::kind.eq("commune"))
        .select(Unit::as_select())
        .load(&mut conn)?;
    for unit in &communes {
        let members = service::rosters::members_of(&mut conn, unit).map_err(said)?;
        let roster = service::rosters::RosterFigures::of(&members, ctx.round.period_end)
            .prefill(&ctx.template);
        let (values, sections) =
            baocao::seed::sample_report(&ctx.template, &format!("{}-nam", unit.code), &roster)?;
        let values: BTreeMap<String, Json> = values;
        diesel::insert_into(reports::table)
            .values(NewReport {
                round_id: round,
                unit_id: unit.id,
                status: "draft",
                values_json: &serde_json::to_string(&values)?,
                sections_json: &serde_json::to_string(&sections)?,
                version: 1,
                first_submitted_at: None,
                submitted_at: None,
                reviewed_at: None,
                reviewed_by: None,
                return_reason: None,
                updated_at: vn::now_utc(),
                updated_by: None,
                included_json: None,
                prefill_json: None,
            })
            .execute(&mut conn)?;
        let bytes = service::upload::offline_form(&mut conn, &console, &ctx, unit).map_err(said)?;
        std::fs::write(forms.join(format!("{}.xlsx", unit.code)), bytes)?;
    }
    Ok((round, communes.len()))
}

/// Forgets the round's reports, so that the uploads start from nothing.
fn clear_round(db: &Path, round: i32) -> Result<()> {
    let (state, _) = prepare(&settings(db, None, false)?)?;
    let mut conn = state.pool.get()?;
    diesel::delete(reports::table.filter(reports::round_id.eq(round))).execute(&mut conn)?;
    Ok(())
}
