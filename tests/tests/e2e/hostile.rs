//! Hostile uploads: files small on the wire that would cost a reader trusting them gigabytes
//! (a value at XFD1048576, parts inflating to hundreds of megabytes, a trillion declared
//! strings, a value repeated over a whole sheet, an .xls declaring four billion rows, a zip
//! bomb in a bulk upload) and bodies over the limits. Each is refused with a Vietnamese message
//! naming what is wrong, quickly and without the server's memory growing, and the server
//! keeps answering with nothing changed.

use std::io::{Cursor, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::*;

fn hostile(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = dir.join(format!("hostile-{}", args[0]));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/py/hostile.py");
    let mut command = Command::new("python3");
    command.arg(script).arg(args[0]);
    for a in &args[1..] {
        command.arg(a.replace("OUT", &out.to_string_lossy()));
    }
    if !args.contains(&"OUT") {
        command.arg(&out);
    }
    let status = command.status().expect("python3");
    assert!(status.success(), "hostile.py {args:?}");
    std::fs::read(&out).expect("the hostile file")
}

/// The peak resident memory of this process (the server runs in it), in MB.
fn peak_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

/// Runs `upload`, and checks that it was answered within a second and without the process's
/// peak memory growing by 100 MB. The memory is judged only when this test has a process of
/// its own (cargo-nextest, which `scripts/test` uses); elsewhere other tests share the process.
fn bounded<T>(what: &str, upload: impl FnOnce() -> T) -> T {
    let before = peak_mb();
    let started = Instant::now();
    let out = upload();
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "{what}: answered in {took:?}, not under a second"
    );
    let grown = peak_mb().saturating_sub(before);
    if std::env::var("NEXTEST_EXECUTION_MODE").as_deref() == Ok("process-per-test") {
        assert!(
            grown < 100,
            "{what}: the server's memory grew by {grown} MB"
        );
    }
    out
}

fn upload_path(app: &TestApp, unit: &str) -> String {
    format!("/api/v1/rounds/{}/reports/{unit}/upload", app.round_id)
}

fn message(body: &Value) -> String {
    body["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["message"].as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The server still answers, and the commune's report is untouched.
fn still_healthy(app: &TestApp, client: &Client) {
    let (status, me) = client.get("/api/v1/me");
    assert_eq!(status, 200, "{me}");
    let (status, report) = client.get(&app.report_path(COMMUNE));
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["status"], "not_started", "nothing was stored");
}

/// An old .xls file (a compound file with a BIFF8 workbook stream) whose sheet declares four
/// billion rows and holds a number at the last cell a sheet can have.
fn far_xls() -> Vec<u8> {
    fn record(out: &mut Vec<u8>, typ: u16, data: &[u8]) {
        out.extend_from_slice(&typ.to_le_bytes());
        out.extend_from_slice(&(data.len() as u16).to_le_bytes());
        out.extend_from_slice(data);
    }
    let bof = |dt: u16| {
        let mut d = vec![0u8; 16];
        d[0..2].copy_from_slice(&0x0600u16.to_le_bytes());
        d[2..4].copy_from_slice(&dt.to_le_bytes());
        d
    };
    let name = b"Nhap lieu";
    // The globals: BOF, BOUNDSHEET (its offset filled in below), EOF.
    let mut globals = Vec::new();
    record(&mut globals, 0x0809, &bof(0x0005));
    let mut sheet_entry = vec![0u8; 8];
    sheet_entry[6] = name.len() as u8;
    sheet_entry.extend_from_slice(name);
    let at = globals.len() + 4;
    record(&mut globals, 0x0085, &sheet_entry);
    record(&mut globals, 0x000A, &[]);
    let offset = globals.len() as u32;
    globals[at..at + 4].copy_from_slice(&offset.to_le_bytes());
    // The sheet: BOF, DIMENSIONS over 4 billion rows, a NUMBER at IV65536, EOF.
    let mut stream = globals;
    record(&mut stream, 0x0809, &bof(0x0010));
    let mut dims = vec![0u8; 14];
    dims[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    dims[10..12].copy_from_slice(&256u16.to_le_bytes());
    record(&mut stream, 0x0200, &dims);
    let mut number = vec![0u8; 14];
    number[0..2].copy_from_slice(&65535u16.to_le_bytes());
    number[2..4].copy_from_slice(&255u16.to_le_bytes());
    number[6..14].copy_from_slice(&1.0f64.to_le_bytes());
    record(&mut stream, 0x0203, &number);
    record(&mut stream, 0x000A, &[]);
    let mut file = cfb::CompoundFile::create(Cursor::new(Vec::new())).expect("a compound file");
    file.create_stream("/Workbook")
        .and_then(|mut s| s.write_all(&stream))
        .expect("the workbook stream");
    file.flush().expect("flush");
    file.into_inner().into_inner()
}

#[test]
fn a_form_with_a_value_at_xfd1048576_is_refused_naming_the_cell_and_the_server_keeps_answering() {
    let app = TestApp::spawn();
    let dir = tempfile::tempdir().unwrap();
    let commune = app.login(COMMUNE);
    let (status, _, blank) = commune.get_bytes(&format!(
        "/api/v1/rounds/{}/form/{COMMUNE}.xlsx",
        app.round_id
    ));
    assert_eq!(status, 200);
    let form = dir.path().join("form.xlsx");
    std::fs::write(&form, &blank).unwrap();
    let far = hostile(dir.path(), &["outside", &form.to_string_lossy(), "OUT"]);
    assert!(far.len() < 100_000, "a small file: {} bytes", far.len());
    let (status, body) = bounded("XFD1048576", || {
        commune.post_bytes(&upload_path(&app, COMMUNE), far.clone())
    });
    assert_eq!(status, 422, "{body}");
    let said = message(&body);
    assert!(said.contains("ô XFD1048576"), "{said}");
    assert!(said.contains("ngoài vùng của mẫu nhập liệu"), "{said}");
    still_healthy(&app, &commune);

    // The same file among a district's bulk upload is rejected on its own, for the same reason.
    let district = app.login(DISTRICT);
    let (status, body) = district.post_bytes(
        &format!("/api/v1/rounds/{}/bulk/{DISTRICT}", app.round_id),
        far,
    );
    assert_eq!(status, 200, "{body}");
    let result = &body["results"][0];
    assert_eq!(result["stored"], false, "{body}");
    let said = result["messages"].to_string();
    assert!(said.contains("ô XFD1048576"), "{said}");
    still_healthy(&app, &commune);
}

#[test]
fn files_that_inflate_or_declare_too_much_are_refused_quickly_with_a_message() {
    let app = TestApp::spawn();
    let dir = tempfile::tempdir().unwrap();
    let commune = app.login(COMMUNE);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "a sheet inflating to 256 MB",
            hostile(dir.path(), &["bomb", "OUT", "256"]),
            "giải nén quá lớn",
        ),
        // The zip reader stops at the size the headers claim, and finds the checksum wrong.
        (
            "the same, its headers claiming 1 kB",
            hostile(dir.path(), &["liar", "OUT", "256"]),
            "Không đọc được tệp",
        ),
        (
            "a zip directory claiming a trillion entries",
            hostile(dir.path(), &["entries", "OUT"]),
            "Không đọc được tệp",
        ),
        (
            "a trillion shared strings declared",
            hostile(dir.path(), &["strings", "OUT"]),
            "quá nhiều chuỗi chữ",
        ),
        (
            "an .ods value repeated over a whole sheet",
            hostile(dir.path(), &["ods", "OUT"]),
            "ngoài vùng của mẫu nhập liệu",
        ),
        (
            "an .xls declaring four billion rows",
            far_xls(),
            "ngoài vùng của mẫu nhập liệu",
        ),
    ];
    for (what, bytes, expected) in cases {
        assert!(bytes.len() < 2 << 20, "{what}: {} bytes", bytes.len());
        let (status, body) = bounded(what, || {
            commune.post_bytes(&upload_path(&app, COMMUNE), bytes)
        });
        assert_eq!(status, 422, "{what}: {body}");
        assert!(message(&body).contains(expected), "{what}: {body}");
        still_healthy(&app, &commune);
    }
}

#[test]
fn a_zip_bomb_in_a_bulk_upload_is_refused_file_by_file_and_a_zip_inside_is_not_opened() {
    let app = TestApp::spawn();
    let dir = tempfile::tempdir().unwrap();
    let district = app.login(DISTRICT);
    let archive = hostile(dir.path(), &["zipbomb", "OUT", "256"]);
    assert!(archive.len() < 2 << 20, "{} bytes", archive.len());
    let (status, body) = bounded("a zip bomb", || {
        district.post_bytes(
            &format!("/api/v1/rounds/{}/bulk/{DISTRICT}", app.round_id),
            archive,
        )
    });
    assert_eq!(status, 200, "{body}");
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{body}");
    let by_file = |f: &str| {
        results
            .iter()
            .find(|r| r["file"].as_str().unwrap().ends_with(f))
            .unwrap_or_else(|| panic!("{f} in {body}"))
            .clone()
    };
    let bomb = by_file("xa-an-khe.xlsx");
    assert_eq!(bomb["stored"], false);
    assert!(
        bomb["messages"].to_string().contains("lớn quá 5 MB"),
        "{bomb}"
    );
    let nested = by_file("lo-lo.zip");
    assert_eq!(nested["stored"], false);
    assert!(
        nested["messages"].to_string().contains("không được mở"),
        "{nested}"
    );
    still_healthy(&app, &app.login(COMMUNE));
}

#[test]
fn bodies_over_the_limits_get_a_json_413_and_a_real_districts_zip_is_taken() {
    let app = TestApp::spawn();
    let commune = app.login(COMMUNE);
    let (status, body) = commune.post_bytes(&upload_path(&app, COMMUNE), vec![b'x'; 6 << 20]);
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"], "too_large", "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("lớn quá 5 MB"),
        "{body}"
    );
    let district = app.login(DISTRICT);
    let bulk = format!("/api/v1/rounds/{}/bulk/{DISTRICT}", app.round_id);
    let (status, body) = district.post_bytes(&bulk, vec![b'x'; 33 << 20]);
    assert_eq!(status, 413, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("lớn quá 32 MB"),
        "{body}"
    );
    still_healthy(&app, &commune);

    // A district's real upload: the forms of all its communes, well over actix's default
    // 256 kB body limit, is taken.
    let (_, rollup) = district.get(&format!(
        "/api/v1/rounds/{}/rollup/{DISTRICT}",
        app.round_id
    ));
    let codes: Vec<String> = rollup["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["unit"]["code"].as_str().unwrap().to_owned())
        .collect();
    assert!(codes.len() >= 30, "{} communes", codes.len());
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for code in &codes {
        let (status, _, form) =
            district.get_bytes(&format!("/api/v1/rounds/{}/form/{code}.xlsx", app.round_id));
        assert_eq!(status, 200);
        zip.start_file(
            format!("{code}.xlsx"),
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        zip.write_all(&form).unwrap();
    }
    let archive = zip.finish().unwrap().into_inner();
    assert!(archive.len() > 256 << 10, "{} bytes", archive.len());
    // Meanwhile another district's commune keeps saving and people keep logging in: the bulk
    // upload reads its files before it takes the write lock, so none of them fails.
    let done = std::sync::atomic::AtomicBool::new(false);
    let (status, body, others) = std::thread::scope(|scope| {
        let saver = scope.spawn(|| {
            let other = app.login(OTHER_COMMUNE);
            let path = app.report_path(OTHER_COMMUNE);
            let mut statuses = Vec::new();
            let mut n = 0;
            while !done.load(std::sync::atomic::Ordering::SeqCst) || n < 3 {
                let (_, current) = other.get(&path);
                let (status, saved) = other.put(
                    &path,
                    &serde_json::json!({ "values": { "so_cuoc_hop": n }, "version": current["version"] }),
                );
                statuses.push((status, saved.to_string()));
                statuses.push((app.client().post(
                    "/api/v1/login",
                    &serde_json::json!({ "username": PROVINCE, "password": "demo" }),
                ).0, String::new()));
                n += 1;
            }
            statuses
        });
        let (status, body) = district.post_bytes(&bulk, archive);
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        (status, body, saver.join().unwrap())
    });
    assert!(
        others.iter().all(|(status, _)| *status == 200),
        "saves and logins during the bulk upload: {others:?}"
    );
    assert_eq!(status, 200, "{body}");
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), codes.len());
    assert!(
        results.iter().all(|r| r["stored"] == true),
        "every commune's form stored: {body}"
    );
}
