//! The `baocao` binary itself: `serve --demo` answers over HTTP on a fresh database, `export`
//! writes the same workbook as the web download, `setup` sets a province up for real people, and
//! the commands fail clearly, in Vietnamese, without leaving anything behind.

use std::io::{BufRead, BufReader, Cursor};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};

const BIN: &str = env!("CARGO_BIN_EXE_baocao");

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Every sheet's cells, as text, for comparing two workbooks.
fn cells(bytes: &[u8]) -> Vec<(String, Vec<String>)> {
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    wb.sheet_names()
        .into_iter()
        .map(|name| {
            let range = wb.worksheet_range(&name).unwrap();
            let cells = range
                .cells()
                .filter(|(_, _, d)| !matches!(d, Data::Empty))
                .map(|(r, c, d)| format!("{r},{c}={d}"))
                .collect();
            (name, cells)
        })
        .collect()
}

#[test]
fn serve_demo_starts_on_a_fresh_database_and_export_matches_the_download() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("baocao.db");
    let port = free_port();
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--demo",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--database",
        ])
        .arg(&db)
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut banner = String::new();
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref().take(3) {
        banner.push_str(&line.unwrap());
        banner.push('\n');
    }
    assert!(banner.contains("mật khẩu \"demo\""), "{banner}");

    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    loop {
        match agent.get(format!("{base}/dang-nhap")).call() {
            Ok(res) if res.status() == 200 => break,
            _ if started.elapsed() < Duration::from_secs(60) => {
                std::thread::sleep(Duration::from_millis(100))
            }
            other => panic!("server did not start: {other:?}"),
        }
    }
    let res = agent
        .post(format!("{base}/api/v1/login"))
        .send_json(serde_json::json!({ "username": "34", "password": "demo" }))
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut res = agent
        .get(format!("{base}/api/v1/rounds/1/export/338.xlsx"))
        .call()
        .unwrap();
    assert_eq!(res.status(), 200);
    let web = res.body_mut().read_to_vec().unwrap();
    drop(server);

    let out = dir.path().join("338.xlsx");
    let status = Command::new(BIN)
        .args(["export", "--round", "1", "--unit", "338", "--database"])
        .arg(&db)
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let cli = std::fs::read(&out).unwrap();
    assert_eq!(cells(&cli), cells(&web));
}

#[test]
fn export_of_an_unknown_unit_fails_with_a_vietnamese_message() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("baocao.db");
    // The demo database, as `serve --demo` makes it.
    drop(start(&db, free_port(), true));
    let out = Command::new(BIN)
        .args([
            "export",
            "--round",
            "1",
            "--unit",
            "99999",
            "--out",
            "x.xlsx",
            "--database",
        ])
        .arg(&db)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Không có đơn vị mã 99999"), "{err}");
}

fn start(db: &std::path::Path, port: u16, demo: bool) -> Server {
    start_with(db, port, demo, &[])
}

fn start_with(db: &std::path::Path, port: u16, demo: bool, extra: &[&str]) -> Server {
    let mut cmd = Command::new(BIN);
    cmd.args([
        "serve",
        "--bind",
        &format!("127.0.0.1:{port}"),
        "--database",
    ])
    .arg(db)
    .args(extra)
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    if demo {
        cmd.arg("--demo");
    }
    let server = Server(cmd.spawn().unwrap());
    let started = Instant::now();
    // The port is taken before the database is prepared: ready is when a page answers.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(2)))
        .build()
        .into();
    while agent
        .get(format!("http://127.0.0.1:{port}/dang-nhap"))
        .call()
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

fn logged_in(port: u16, user: &str) -> ureq::Agent {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let res = agent
        .post(format!("http://127.0.0.1:{port}/api/v1/login"))
        .send_json(serde_json::json!({ "username": user, "password": "demo" }))
        .unwrap();
    assert_eq!(res.status(), 200);
    agent
}

/// Saves drafts one after another while the server is killed with SIGKILL; after a restart,
/// every save the server acknowledged is there, and the report is whole.
#[test]
fn an_acknowledged_save_survives_the_server_being_killed_mid_stream() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("baocao.db");
    let port = free_port();
    let mut server = start(&db, port, true);
    // Xã An Hiệp has not started its demo report.
    let url = format!("http://127.0.0.1:{port}/api/v1/rounds/1/reports/12490");
    let agent = logged_in(port, "12490");
    let writer = {
        let url = url.clone();
        std::thread::spawn(move || {
            let mut acked = 0i64;
            for n in 1..10_000i64 {
                let body = serde_json::json!({
                    "values": { "so_cuoc_hop": n % 100, "luot_nguoi_nghe": 100, "tt_giao_duc": n % 10 },
                    "sections": { "ket_qua": format!("Lần lưu thứ {n}.") },
                    "version": acked,
                });
                match agent.put(&url).send_json(&body) {
                    Ok(mut res) if res.status() == 200 => {
                        let v: serde_json::Value = res.body_mut().read_json().unwrap();
                        acked = v["version"].as_i64().unwrap();
                        assert_eq!(acked, n);
                    }
                    _ => return acked,
                }
            }
            acked
        })
    };
    std::thread::sleep(Duration::from_millis(1500));
    let _ = server.0.kill();
    let _ = server.0.wait();
    let acked = writer.join().unwrap();
    assert!(acked > 5, "too few saves before the kill: {acked}");

    let _server = start(&db, port, false);
    let agent = logged_in(port, "12490");
    let mut res = agent.get(&url).call().unwrap();
    let report: serde_json::Value = res.body_mut().read_json().unwrap();
    let version = report["version"].as_i64().unwrap();
    // The last acknowledged save is there; at most one more, whose answer the kill cut off.
    assert!(
        version == acked || version == acked + 1,
        "{version} vs {acked}"
    );
    assert_eq!(report["values"]["so_cuoc_hop"], version % 100);
    assert_eq!(report["values"]["tt_giao_duc"], version % 10);
    assert_eq!(
        report["sections"]["ket_qua"],
        format!("Lần lưu thứ {version}.")
    );
}

fn run(args: &[&str], db: &std::path::Path, env: &[(&str, &str)]) -> (bool, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .arg("--database")
        .arg(db)
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const STRONG: &str = "đồng lúa chín vàng ươm 2026";

#[test]
fn setup_sets_a_province_up_once_with_a_password_of_the_operators_choosing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hanam.db");
    // No password at hand (no terminal, no file, no variable): nothing is created.
    let (ok, _, err) = run(&["setup", "--province", "35"], &db, &[]);
    assert!(!ok);
    assert!(err.contains("Cần mật khẩu cho tài khoản quản trị"), "{err}");
    // A weak one is refused, with the reason.
    let (ok, _, err) = run(
        &["setup", "--province", "35"],
        &db,
        &[("BAOCAO_ADMIN_PASSWORD", "hanam12345")],
    );
    assert!(!ok);
    assert!(err.contains("Mật khẩu quá dễ đoán"), "{err}");
    // An unknown province is named as such, with the list to choose from.
    let (ok, _, err) = run(
        &["setup", "--province", "99"],
        &db,
        &[("BAOCAO_ADMIN_PASSWORD", STRONG)],
    );
    assert!(!ok);
    assert!(
        err.contains("Không có tỉnh, thành phố mã «99»") && err.contains("35 Tỉnh Hà Nam"),
        "{err}"
    );
    let (ok, out, err) = run(
        &["setup", "--province", "35"],
        &db,
        &[("BAOCAO_ADMIN_PASSWORD", STRONG)],
    );
    assert!(ok, "{err}");
    assert!(out.contains("Tỉnh Hà Nam (mã 35)"), "{out}");
    assert!(out.contains("Đã tạo tài khoản quản trị «admin»"), "{out}");
    // Again: nothing more is done, and it says so.
    let (ok, out, err) = run(&["setup", "--province", "35"], &db, &[]);
    assert!(ok, "{err}");
    assert!(out.contains("trong đó 0 đơn vị mới nạp"), "{out}");
    assert!(out.contains("Đã có tài khoản quản trị (admin)"), "{out}");
    // Another province on the same database is refused.
    let (ok, _, err) = run(
        &["setup", "--province", "34"],
        &db,
        &[("BAOCAO_ADMIN_PASSWORD", STRONG)],
    );
    assert!(!ok);
    assert!(err.contains("đã được thiết lập cho Tỉnh Hà Nam"), "{err}");

    // The administrator logs in with the password chosen.
    let port = free_port();
    let _server = start(&db, port, false);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let login = |password: &str| {
        agent
            .post(format!("http://127.0.0.1:{port}/api/v1/login"))
            .send_json(serde_json::json!({ "username": "admin", "password": password }))
            .unwrap()
            .status()
    };
    assert_eq!(login("demo"), 401, "there is no default password");
    assert_eq!(login(STRONG), 200);
}

#[test]
fn the_server_refuses_a_database_nobody_has_set_up_and_says_how() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moi.db");
    let out = Command::new(BIN)
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{}", free_port()),
            "--database",
        ])
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("chưa được thiết lập"), "{err}");
    assert!(err.contains("baocao setup --province"), "{err}");
}

#[test]
fn commands_refuse_a_missing_database_and_a_busy_port_before_writing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nham-ten.db");
    for args in [
        &["export", "--round", "1", "--unit", "34", "--out", "x.xlsx"][..],
        &["rounds"][..],
    ] {
        let (ok, _, err) = run(args, &missing, &[]);
        assert!(!ok, "{args:?}");
        assert!(
            err.contains("không có tệp cơ sở dữ liệu"),
            "{args:?}: {err}"
        );
        assert!(!missing.exists(), "{args:?} left a database behind");
    }
    // A port already taken is named, with the flag to choose another, and nothing is written.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = Command::new(BIN)
        .args(["serve", "--demo", "--bind", &addr, "--database"])
        .arg(&missing)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&addr) && err.contains("--bind"), "{err}");
    assert!(!missing.exists(), "a busy port wrote a database");
}

#[test]
fn rounds_lists_the_rounds_with_the_number_export_takes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("baocao.db");
    drop(start(&db, free_port(), true));
    let (ok, out, err) = run(&["rounds"], &db, &[]);
    assert!(ok, "{err}");
    assert!(
        out.contains("Kỳ số 1: Báo cáo định kỳ công tác khoa giáo 6 tháng đầu năm 2025"),
        "{out}"
    );
    assert!(out.contains("do Tỉnh Thái Bình mở, đang mở."), "{out}");
}

/// Saves the report of Xã An Hiệp again and again; returns the thread and the last version the
/// server acknowledged, kept up to date.
fn keep_saving(
    port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> (
    std::thread::JoinHandle<i64>,
    std::sync::Arc<std::sync::atomic::AtomicI64>,
) {
    let acked = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0));
    let seen = acked.clone();
    let agent = logged_in(port, "12490");
    let url = format!("http://127.0.0.1:{port}/api/v1/rounds/1/reports/12490");
    let writer = std::thread::spawn(move || {
        let mut version = 0i64;
        while !stop.load(std::sync::atomic::Ordering::SeqCst) {
            let body = serde_json::json!({
                "values": { "so_cuoc_hop": (version + 1) % 100 },
                "sections": { "ket_qua": format!("Lần lưu thứ {}.", version + 1) },
                "version": version,
            });
            let mut res = agent.put(&url).send_json(&body).unwrap();
            assert_eq!(res.status(), 200);
            let v: serde_json::Value = res.body_mut().read_json().unwrap();
            version = v["version"].as_i64().unwrap();
            seen.store(version, std::sync::atomic::Ordering::SeqCst);
        }
        version
    });
    (writer, acked)
}

#[test]
fn a_backup_taken_under_writes_restores_every_save_acknowledged_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("baocao.db");
    let port = free_port();
    let _server = start(&db, port, true);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (writer, acked) = keep_saving(port, stop.clone());
    std::thread::sleep(Duration::from_millis(700));
    let before = acked.load(std::sync::atomic::Ordering::SeqCst);
    assert!(before > 3, "saves before the backup: {before}");
    let backup = dir.path().join("sao-luu.db");
    let (ok, out, err) = run(&["backup", "--to", backup.to_str().unwrap()], &db, &[]);
    assert!(ok, "{err}");
    assert!(out.contains("đã kiểm tra toàn vẹn"), "{out}");
    let during = acked.load(std::sync::atomic::Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let last = writer.join().unwrap();
    assert!(
        last > during,
        "the writes went on during and after the backup"
    );

    // Restored to a new file: whole, with every save acknowledged before the backup began.
    let restored = dir.path().join("khoi-phuc.db");
    let (ok, out, err) = run(&["restore", backup.to_str().unwrap()], &restored, &[]);
    assert!(ok, "{err}");
    assert!(out.contains("Đã khôi phục"), "{out}");
    {
        use diesel::prelude::*;
        let mut conn = diesel::SqliteConnection::establish(restored.to_str().unwrap()).unwrap();
        #[derive(QueryableByName)]
        struct Check {
            #[diesel(sql_type = diesel::sql_types::Text)]
            integrity_check: String,
        }
        let check: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
            .load(&mut conn)
            .unwrap();
        assert_eq!(check.len(), 1);
        assert_eq!(check[0].integrity_check, "ok");
        #[derive(QueryableByName)]
        struct Saved {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            version: i32,
            #[diesel(sql_type = diesel::sql_types::Text)]
            sections_json: String,
        }
        let saved: Saved = diesel::sql_query(
            "SELECT r.version, r.sections_json FROM reports r JOIN units u ON u.id = r.unit_id \
             WHERE u.code = '12490' AND r.round_id = 1",
        )
        .get_result(&mut conn)
        .unwrap();
        assert!(
            i64::from(saved.version) >= before && i64::from(saved.version) <= last,
            "restored version {} (acknowledged before the backup: {before}, at the end: {last})",
            saved.version
        );
        assert!(
            saved
                .sections_json
                .contains(&format!("Lần lưu thứ {}.", saved.version)),
            "the report is whole at its version"
        );
    }
    // The restored database serves.
    drop(_server);
    let port = free_port();
    let _again = start(&restored, port, false);
    assert_eq!(
        logged_in(port, "12490")
            .get(format!("http://127.0.0.1:{port}/api/v1/me"))
            .call()
            .unwrap()
            .status(),
        200
    );
}

#[test]
fn restore_checks_the_backup_and_will_not_overwrite_a_database_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("baocao.db");
    drop(start(&db, free_port(), true));
    let not_a_backup = dir.path().join("rac.db");
    std::fs::write(&not_a_backup, b"this is not a database at all, just text").unwrap();
    let target = dir.path().join("dich.db");
    let (ok, _, err) = run(&["restore", not_a_backup.to_str().unwrap()], &target, &[]);
    assert!(!ok);
    assert!(err.contains("không phải tệp cơ sở dữ liệu"), "{err}");
    assert!(!target.exists());
    let backup = dir.path().join("sao-luu.db");
    assert!(run(&["backup", "--to", backup.to_str().unwrap()], &db, &[]).0);
    let (ok, _, err) = run(&["backup", "--to", backup.to_str().unwrap()], &db, &[]);
    assert!(
        !ok && err.contains("đã có tệp"),
        "a backup is never overwritten: {err}"
    );
    let (ok, _, err) = run(&["restore", backup.to_str().unwrap()], &db, &[]);
    assert!(!ok);
    assert!(err.contains("--force"), "{err}");
    let (ok, out, err) = run(&["restore", backup.to_str().unwrap(), "--force"], &db, &[]);
    assert!(ok, "{err}");
    assert!(out.contains("được giữ lại tại"), "{out}");
}

#[test]
fn the_server_takes_its_own_backups_and_the_administrator_sees_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("baocao.db");
    let backups = dir.path().join("sao-luu");
    let port = free_port();
    let _server = start_with(
        &db,
        port,
        true,
        &["--backup-dir", backups.to_str().unwrap()],
    );
    let admin = logged_in(port, "admin");
    let started = Instant::now();
    let overview = loop {
        let mut res = admin
            .get(format!("http://127.0.0.1:{port}/api/v1/backups"))
            .call()
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.body_mut().read_json().unwrap();
        if !body["status"]["last_ok"].is_null() {
            break body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no backup: {body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(overview["files"].as_array().unwrap().len(), 1, "{overview}");
    assert_eq!(std::fs::read_dir(&backups).unwrap().count(), 1);
    let mut page = admin
        .get(format!("http://127.0.0.1:{port}/quan-tri"))
        .call()
        .unwrap();
    let html = page.body_mut().read_to_string().unwrap();
    assert!(html.contains("Lần sao lưu gần nhất"), "{html}");
    // Nobody else sees them.
    let commune = logged_in(port, "12475");
    let res = commune
        .get(format!("http://127.0.0.1:{port}/api/v1/backups"))
        .call()
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[test]
fn the_settings_file_is_read_and_the_environment_and_flags_win_over_it() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = dir.path().join("baocao.toml");
    std::fs::write(
        &config,
        format!(
            "bind = \"127.0.0.1:{port}\"\ndatabase = \"du-lieu.db\"\n\n[sessions]\nidle_minutes = 30\n"
        ),
    )
    .unwrap();
    let mut server = Server(
        Command::new(BIN)
            .args(["serve", "--demo", "--config"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let started = Instant::now();
    while agent
        .get(format!("http://127.0.0.1:{port}/dang-nhap"))
        .call()
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no server on the file's address"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        dir.path().join("du-lieu.db").exists(),
        "the database named in the file, beside the file"
    );
    let _ = server.0.kill();
    let _ = server.0.wait();
    // The environment and a flag win over the file.
    let (ok, _, err) = run(
        &["rounds", "--config", config.to_str().unwrap()],
        &dir.path().join("khac.db"),
        &[],
    );
    assert!(!ok && err.contains("khac.db"), "the flag wins: {err}");
    let out = Command::new(BIN)
        .args(["rounds", "--config"])
        .arg(&config)
        .env("BAOCAO_DATABASE", dir.path().join("bien.db"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("bien.db"));
    // A misspelt key is named.
    std::fs::write(&config, "bnid = \"127.0.0.1:1\"\n").unwrap();
    let out = Command::new(BIN)
        .args(["rounds", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("không hợp lệ") && err.contains("bnid"),
        "{err}"
    );
}
