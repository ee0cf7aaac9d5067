//! Excel both ways: the offline form downloaded, filled by another program (openpyxl, then saved
//! again by LibreOffice, also as old .xls), uploaded; every bad file refused by sheet and cell;
//! and the export recalculated by LibreOffice itself to the same totals.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::helpers::*;

pub fn python_fill(dir: &Path, form: &[u8], spec: &Value) -> Vec<u8> {
    let src = dir.join("form.xlsx");
    let dst = dir.join("filled.xlsx");
    let spec_path = dir.join("spec.json");
    std::fs::write(&src, form).unwrap();
    std::fs::write(&spec_path, spec.to_string()).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/py/fill_form.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(&src)
        .arg(&dst)
        .arg(&spec_path)
        .env(
            "PYTHONPATH",
            std::env::var("BAOCAO_TEST_PYTHONPATH").unwrap_or_else(|_| {
                concat!(env!("CARGO_MANIFEST_DIR"), "/../target/pydeps").to_owned()
            }),
        )
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "openpyxl failed (run ./scripts/test, which installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(&dst).unwrap()
}

/// LibreOffice headless with its own profile, set to recalculate formulas on load.
pub fn soffice(dir: &Path, input: &Path, filter: &str) -> PathBuf {
    let profile = dir.join("lo-profile");
    let user = profile.join("user");
    std::fs::create_dir_all(&user).unwrap();
    std::fs::write(
        user.join("registrymodifications.xcu"),
        r#"<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>"#,
    )
    .unwrap();
    let out_dir = dir.join(format!("lo-out-{}", filter.split(':').next().unwrap()));
    std::fs::create_dir_all(&out_dir).unwrap();
    let status = Command::new("soffice")
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args([
            "--headless",
            "--norestore",
            "--convert-to",
            filter,
            "--outdir",
        ])
        .arg(&out_dir)
        .arg(input)
        .output()
        .expect("LibreOffice is not installed: run ./scripts/test, which installs it");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let ext = filter.split(':').next().unwrap();
    out_dir.join(format!(
        "{}.{ext}",
        input.file_stem().unwrap().to_string_lossy()
    ))
}

fn form(client: &Client, app: &TestApp, unit: &str) -> Vec<u8> {
    let (status, ctype, bytes) =
        client.get_bytes(&format!("/api/v1/rounds/{}/form/{unit}.xlsx", app.round_id));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    assert!(ctype.contains("spreadsheetml"));
    bytes
}

fn upload(client: &Client, app: &TestApp, unit: &str, bytes: Vec<u8>) -> (u16, Value) {
    client.post_bytes(
        &format!("/api/v1/rounds/{}/reports/{unit}/upload", app.round_id),
        bytes,
    )
}

/// The full report as a person fills the form: yes/no and choices by their Vietnamese labels.
pub fn filled() -> Value {
    let mut v = full_values(9);
    for (k, text) in [
        ("co_to_truong", "Có"),
        ("ct03_co_ke_hoach", "Có"),
        ("sk_nq03_y_te", "Có"),
        ("sk_nq06_giao_duc", "Không"),
        ("muc_do_hoan_thanh", "Hoàn thành tốt nhiệm vụ"),
    ] {
        v[k] = json!(text);
    }
    v
}

#[test]
fn a_form_filled_by_openpyxl_and_saved_again_by_libreoffice_becomes_the_draft() {
    let app = TestApp::spawn();
    let dir = tempfile::tempdir().unwrap();
    let commune = app.login(COMMUNE);
    let blank = form(&commune, &app, COMMUNE);
    let bytes = python_fill(
        dir.path(),
        &blank,
        &json!({ "values": filled(), "sections": full_sections() }),
    );
    // LibreOffice opens what openpyxl wrote and saves it again, as an office would.
    let by_openpyxl = dir.path().join("filled.xlsx");
    std::fs::write(&by_openpyxl, &bytes).unwrap();
    let by_libreoffice = soffice(dir.path(), &by_openpyxl, "xlsx");
    let (status, body) = upload(
        &commune,
        &app,
        COMMUNE,
        std::fs::read(&by_libreoffice).unwrap(),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["converted"], json!([]), "nothing to convert");
    let view = &body["report"];
    assert_eq!(view["status"], "draft");
    let expected = full_values(9);
    for key in [
        "so_thanh_vien",
        "so_kiem_nhiem",
        "luot_nguoi_nghe",
        "van_de_giai_quyet",
    ] {
        assert_eq!(view["values"][key], expected[key], "{key}");
    }
    assert_eq!(view["values"]["kinh_phi"], 12.5);
    assert_eq!(view["values"]["co_to_truong"], true);
    assert_eq!(view["values"]["sk_nq06_giao_duc"], false);
    assert_eq!(view["values"]["muc_do_hoan_thanh"], "tot");
    assert_eq!(view["sections"]["ket_qua"], full_sections()["ket_qua"]);
    // Ready to submit as it is.
    let (status, sent) = commune.post_empty(&format!("{}/submit", app.report_path(COMMUNE)));
    assert_eq!(status, 200, "{sent}");

    // The old .xls format works too.
    let other = app.login(COMMUNE_2);
    let bytes = python_fill(
        dir.path(),
        &form(&other, &app, COMMUNE_2),
        &json!({ "values": filled() }),
    );
    let xlsx = dir.path().join("other.xlsx");
    std::fs::write(&xlsx, bytes).unwrap();
    let xls = soffice(dir.path(), &xlsx, "xls:MS Excel 97");
    let (status, body) = upload(&other, &app, COMMUNE_2, std::fs::read(&xls).unwrap());
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["report"]["values"]["so_thanh_vien"], 9);

    // And LibreOffice's own .ods, whose sheets end in rows and cells repeated to the edge.
    let ods = soffice(dir.path(), &xlsx, "ods");
    let (status, body) = upload(&other, &app, COMMUNE_2, std::fs::read(&ods).unwrap());
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["report"]["values"]["so_thanh_vien"], 9);
}

#[test]
fn every_bad_file_is_refused_by_sheet_and_cell_and_changes_nothing() {
    let app = TestApp::spawn();
    let dir = tempfile::tempdir().unwrap();
    let commune = app.login(COMMUNE);
    let path = app.report_path(COMMUNE);
    let (_, before) = commune.put(
        &path,
        &json!({ "values": { "so_cuoc_hop": 4 }, "version": 0 }),
    );
    let blank = form(&commune, &app, COMMUNE);
    let district = app.login(DISTRICT);
    let someone_elses = form(&district, &app, COMMUNE_2);

    let mut text_in_number = filled();
    text_in_number["so_cuoc_hop"] = json!("mười");
    let mut over_bound = filled();
    over_bound["so_thanh_vien"] = json!(51);
    let mut broken_rule = filled();
    broken_rule["so_dai_hoc"] = json!(12);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "text in a number",
            python_fill(dir.path(), &blank, &json!({ "values": text_in_number })),
            "phải là một số",
        ),
        (
            "a value over its bound",
            python_fill(dir.path(), &blank, &json!({ "values": over_bound })),
            "không được lớn hơn 50",
        ),
        (
            "another unit's form",
            python_fill(dir.path(), &someone_elses, &json!({ "values": filled() })),
            "mẫu của đơn vị mã 12478",
        ),
        (
            "another template version",
            python_fill(
                dir.path(),
                &blank,
                &json!({ "values": filled(), "meta": { "version": "0" } }),
            ),
            "phiên bản",
        ),
        (
            "another round",
            python_fill(
                dir.path(),
                &blank,
                &json!({ "values": filled(), "meta": { "round": "99" } }),
            ),
            "kỳ báo cáo số 99",
        ),
        (
            "a renamed sheet",
            python_fill(
                dir.path(),
                &blank,
                &json!({ "values": filled(), "rename_sheet": ["Nhập liệu", "Sheet1"] }),
            ),
            "Không thấy trang «Nhập liệu»",
        ),
        (
            "moved rows",
            python_fill(
                dir.path(),
                &blank,
                &json!({ "values": filled(), "insert_row_at": 9 }),
            ),
            "bị chèn, xóa hoặc di chuyển",
        ),
        (
            "not a workbook",
            b"PK\x03\x04 this is not really a zip".to_vec(),
            "Không đọc được tệp",
        ),
    ];
    for (what, bytes, message) in cases {
        let (status, err) = upload(&commune, &app, COMMUNE, bytes);
        assert_eq!(status, 422, "{what}: {err}");
        let all: Vec<&str> = err["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["message"].as_str().unwrap())
            .collect();
        assert!(all.iter().any(|m| m.contains(message)), "{what}: {all:?}");
        let (_, now) = commune.get(&path);
        assert_eq!(
            now["version"], before["version"],
            "{what} changed the report"
        );
    }
    // A broken rule is no bad figure: the form is kept as the draft, the rule shown pending.
    let (status, body) = upload(
        &commune,
        &app,
        COMMUNE,
        python_fill(dir.path(), &blank, &json!({ "values": broken_rule })),
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        body["report"]["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["field"] == "so_dai_hoc"
                && p["message"]
                    .as_str()
                    .unwrap()
                    .contains("không được vượt quá")),
        "{body}"
    );
    // Value errors name the sheet, the cell and the indicator.
    let mut bad = filled();
    bad["so_cuoc_hop"] = json!("mười");
    let (_, err) = upload(
        &commune,
        &app,
        COMMUNE,
        python_fill(dir.path(), &blank, &json!({ "values": bad })),
    );
    let message = err["fields"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("Ô Nhập liệu!D"), "{message}");
    assert!(message.contains("«Số cuộc họp của Tổ»"), "{message}");
    // Only the unit itself uploads its report.
    assert_eq!(upload(&district, &app, COMMUNE, blank).0, 403);
}

#[test]
fn libreoffice_recalculates_the_export_to_the_same_totals() {
    let app = TestApp::spawn_demo();
    let province = app.login(PROVINCE);
    let (status, _, bytes) = province.get_bytes(&format!(
        "/api/v1/rounds/{}/export/{PROVINCE}.xlsx",
        app.round_id
    ));
    assert_eq!(status, 200);
    let ours = crate::export::read_summary(&bytes);
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("export.xlsx");
    std::fs::write(&xlsx, &bytes).unwrap();
    // LibreOffice writes the first sheet, its formulas computed by itself.
    // 76 = UTF-8; the ninth option "false" writes raw numbers, not as formatted with separators.
    let csv = soffice(
        dir.path(),
        &xlsx,
        "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false",
    );
    let rows: Vec<Vec<String>> = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(csv)
        .unwrap()
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    let header = &rows[9];
    let total = rows
        .iter()
        .find(|r| r.get(1).is_some_and(|c| c == "Tổng cộng"))
        .expect("totals row");
    let template = crate::export::template();
    let mut checked = 0;
    for ind in &template.indicators {
        if !matches!(
            ind.aggregate,
            report_schemas::Aggregate::Sum
                | report_schemas::Aggregate::Ratio
                | report_schemas::Aggregate::Average
        ) {
            continue;
        }
        let Some(col) = header.iter().position(|h| {
            h.starts_with(&ind.label) && !h[ind.label.len()..].starts_with(char::is_alphabetic)
        }) else {
            continue;
        };
        let theirs: f64 = total[col]
            .parse()
            .unwrap_or_else(|_| panic!("{}: {:?}", ind.key, total[col]));
        let mine = ours.total(&ind.key);
        assert!(
            (theirs - mine).abs() < 0.05,
            "{}: LibreOffice {theirs}, baocao {mine}",
            ind.key
        );
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} columns compared");
}

#[test]
fn the_report_page_takes_the_filled_form_as_a_file_upload() {
    let app = TestApp::spawn();
    let dir = tempfile::tempdir().unwrap();
    let commune = app.login(COMMUNE);
    let page = format!("/ky-bao-cao/{}/bao-cao/{COMMUNE}", app.round_id);
    let (_, _, html) = commune.page(&page);
    assert!(html.contains("id=\"download-form\""));
    let (status, _, blank) =
        commune.get_bytes(&format!("/ky-bao-cao/{}/mau/{COMMUNE}.xlsx", app.round_id));
    assert_eq!(status, 200);

    let (status, _, html) = commune.post_file(
        &format!("{page}/tai-len"),
        "tep",
        "sai.xlsx",
        b"not a workbook",
    );
    assert_eq!(status, 422);
    assert!(html.contains("Tệp chưa được nhận, báo cáo không thay đổi."));
    assert!(html.contains("Không đọc được tệp"));

    let filled = python_fill(
        dir.path(),
        &blank,
        &json!({ "values": filled(), "sections": full_sections() }),
    );
    let (status, location, _) =
        commune.post_file(&format!("{page}/tai-len"), "tep", "bao-cao.xlsx", &filled);
    assert_eq!(status, 303);
    let (_, _, html) = commune.page(&location);
    assert!(html.contains("Đã nhận tệp Excel"));
    let (_, report) = commune.get(&app.report_path(COMMUNE));
    assert_eq!(report["values"]["so_thanh_vien"], 9);
}

#[test]
fn narrative_typed_in_a_tcvn3_or_vni_font_arrives_as_unicode_and_the_user_is_told() {
    let app = TestApp::spawn();
    let dir = tempfile::tempdir().unwrap();
    let commune = app.login(COMMUNE);
    let blank = form(&commune, &app, COMMUNE);
    for (font, typed, named) in [
        (
            ".VnTime",
            "Tæ khoa gi¸o ®· tæ chøc tuyªn truyÒn t¹i Th¸i B×nh.",
            "TCVN3",
        ),
        (
            "VNI-Times",
            "Toå khoa giaùo ñaõ toå chöùc tuyeân truyeàn taïi Thaùi Bình.",
            "VNI",
        ),
    ] {
        let bytes = python_fill(
            dir.path(),
            &blank,
            &json!({
                "values": filled(),
                "sections": {
                    "ket_qua": typed,
                    "phuong_huong": "Tiếp tục kiện toàn Tổ."
                },
                "legacy_font": font,
            }),
        );
        let (status, body) = upload(&commune, &app, COMMUNE, bytes);
        assert_eq!(status, 200, "{font}: {body}");
        let sections = &body["report"]["sections"];
        assert_eq!(
            sections["ket_qua"], "Tổ khoa giáo đã tổ chức tuyên truyền tại Thái Bình.",
            "{font}"
        );
        assert_eq!(
            sections["phuong_huong"], "Tiếp tục kiện toàn Tổ.",
            "{font}: Unicode is left alone"
        );
        let notes = body["converted"].as_array().unwrap();
        assert_eq!(notes.len(), 1, "{font}: {notes:?}");
        let note = notes[0].as_str().unwrap();
        assert!(
            note.contains("Thuyết minh!B") && note.contains(named),
            "{note}"
        );
    }
}

fn zip_files(dir: &Path, files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut args = Vec::new();
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        args.push(path);
    }
    let out = dir.join("cac-xa.zip");
    let status = Command::new("python3")
        .args(["-m", "zipfile", "-c"])
        .arg(&out)
        .args(&args)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read(out).unwrap()
}

#[test]
fn a_district_uploads_its_communes_forms_at_once_each_stored_or_rejected_on_its_own() {
    let app = TestApp::spawn();
    let dir = tempfile::tempdir().unwrap();
    let district = app.login(DISTRICT);
    let good = python_fill(
        dir.path(),
        &form(&district, &app, COMMUNE),
        &json!({ "values": filled(), "sections": full_sections() }),
    );
    let mut wrong = filled();
    wrong["so_cuoc_hop"] = json!(-3);
    let bad = python_fill(
        dir.path(),
        &form(&district, &app, COMMUNE_2),
        &json!({ "values": wrong }),
    );
    let province = app.login(PROVINCE);
    let elsewhere = python_fill(
        dir.path(),
        &form(&province, &app, OTHER_COMMUNE),
        &json!({ "values": filled() }),
    );
    let archive = zip_files(
        dir.path(),
        &[
            ("an-khe.xlsx", &good),
            ("an-dong.xlsx", &bad),
            ("quang-trung.xlsx", &elsewhere),
            ("ghi-chu.xlsx", b"not a workbook"),
        ],
    );
    let (status, body) = district.post_bytes(
        &format!("/api/v1/rounds/{}/bulk/{DISTRICT}", app.round_id),
        archive.clone(),
    );
    assert_eq!(status, 200, "{body}");
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 4, "{body}");
    let by_file = |f: &str| {
        results
            .iter()
            .find(|r| r["file"].as_str().unwrap().ends_with(f))
            .unwrap()
            .clone()
    };
    assert_eq!(by_file("an-khe.xlsx")["stored"], true);
    assert_eq!(by_file("an-khe.xlsx")["unit"]["code"], COMMUNE);
    let rejected = by_file("an-dong.xlsx");
    assert_eq!(rejected["stored"], false);
    assert!(
        rejected["messages"][0]
            .as_str()
            .unwrap()
            .contains("không được nhỏ hơn 0"),
        "{rejected}"
    );
    // Another district's commune: refused without naming it, as a code that does not exist is.
    let foreign = by_file("quang-trung.xlsx");
    let said = foreign["messages"][0].as_str().unwrap();
    assert!(said.contains("không trực thuộc"), "{foreign}");
    assert!(said.contains(&format!("mã {OTHER_COMMUNE}")), "{foreign}");
    assert!(foreign["unit"].is_null(), "{foreign}");
    assert!(
        by_file("ghi-chu.xlsx")["messages"][0]
            .as_str()
            .unwrap()
            .contains("Không phải mẫu")
    );

    let commune = app.login(COMMUNE);
    let (_, mine) = commune.get(&app.report_path(COMMUNE));
    assert_eq!(mine["status"], "draft");
    assert_eq!(mine["values"]["so_thanh_vien"], 9);
    let (_, untouched) = app.login(COMMUNE_2).get(&app.report_path(COMMUNE_2));
    assert_eq!(
        untouched["status"], "not_started",
        "a rejected file changes nothing"
    );
    // The commune still submits its own report.
    assert_eq!(
        commune
            .post_empty(&format!("{}/submit", app.report_path(COMMUNE)))
            .0,
        200
    );

    // Through the page: several files at once, a result table.
    let (status, _, html) = district.post_file(
        &format!(
            "/ky-bao-cao/{}/don-vi/{DISTRICT}/tai-len-nhieu",
            app.round_id
        ),
        "tep",
        "cac-xa.zip",
        &archive,
    );
    assert_eq!(status, 200);
    assert!(html.contains("id=\"bulk-results\""));
    assert!(
        html.contains("Đã nhận 0 tệp; 4 tệp không được nhận"),
        "the submitted report is not overwritten"
    );
    // A commune uploads for nobody else.
    assert_eq!(
        commune
            .post_bytes(
                &format!("/api/v1/rounds/{}/bulk/{COMMUNE}", app.round_id),
                archive
            )
            .0,
        403
    );
}

/// A formula without its computed value (as openpyxl writes one) is refused by cell; with the
/// value (saved again by LibreOffice) it is the figure; what is typed where nothing is read is
/// stored without it, and the user is told which cells were ignored.
#[test]
fn formulas_without_values_are_refused_and_cells_typed_outside_the_inputs_are_named() {
    let app = TestApp::spawn();
    let dir = tempfile::tempdir().unwrap();
    let commune = app.login(COMMUNE);
    crate::roster::add_team(&commune);
    let path = app.report_path(COMMUNE);
    let blank = form(&commune, &app, COMMUNE);
    // The full report, with the roster's figures as they are.
    let prefill = commune.get(&path).1["prefill"].clone();
    let filled = || {
        let mut values = filled();
        for (k, v) in prefill.as_object().unwrap() {
            values[k] = v.clone();
        }
        values
    };

    let mut values = filled();
    values["so_cuoc_hop"] = json!("=5+7");
    let by_script = python_fill(dir.path(), &blank, &json!({ "values": values }));
    let (status, err) = upload(&commune, &app, COMMUNE, by_script.clone());
    assert_eq!(status, 422, "{err}");
    let message = err["fields"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("Ô Nhập liệu!D"), "{message}");
    assert!(
        message.contains("«Số cuộc họp của Tổ»: công thức chưa được tính: mở tệp bằng Excel hoặc LibreOffice, lưu lại rồi tải lên"),
        "{message}"
    );
    assert_eq!(commune.get(&path).1["version"], 0, "nothing stored");

    // Saved again by LibreOffice, the formula carries its value: that value is the figure.
    let script_file = dir.path().join("script.xlsx");
    std::fs::write(&script_file, &by_script).unwrap();
    let saved = soffice(dir.path(), &script_file, "xlsx");
    let (status, body) = upload(&commune, &app, COMMUNE, std::fs::read(saved).unwrap());
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["report"]["values"]["so_cuoc_hop"], 12);
    assert_eq!(body["ignored"], json!([]));

    // Typed over a computed ratio, over the roster's figure, as a reason where no roster figure
    // is, and outside the form on both sheets: stored without them, each cell named.
    let mut values = filled();
    values["ty_le_kiem_nhiem"] = json!(75);
    let typed = python_fill(
        dir.path(),
        &blank,
        &json!({
            "values": values,
            "roster": { "so_thanh_vien": 9 },
            "reasons": { "so_cuoc_hop": "họp thêm" },
            "cells": [["Nhập liệu", "J7", "ghi chú riêng"], ["Thuyết minh", "F5", "nháp"]],
        }),
    );
    let (status, body) = upload(&commune, &app, COMMUNE, typed);
    assert_eq!(status, 200, "{body}");
    let report = &body["report"];
    assert_eq!(report["values"]["so_thanh_vien"], 4);
    assert!(
        report["values"].get("ty_le_kiem_nhiem").is_none(),
        "{report}"
    );
    assert_eq!(report["overrides"], json!({}), "{report}");
    let ignored: Vec<&str> = body["ignored"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert_eq!(ignored.len(), 5, "{ignored:?}");
    for expected in [
        "«Tỷ lệ thành viên kiêm nhiệm») được tính tự động",
        "(«Số thành viên của Tổ khoa giáo», theo danh sách Tổ) do hệ thống điền",
        "(«Số cuộc họp của Tổ»): chỉ ghi lý do cho số liệu lấy từ danh sách Tổ",
        "Ô Nhập liệu!J7 nằm ngoài các ô nhập liệu",
        "Ô Thuyết minh!F5 nằm ngoài các ô nhập liệu",
    ] {
        assert!(
            ignored.iter().any(|m| m.contains(expected)),
            "{expected}: {ignored:?}"
        );
    }
}
