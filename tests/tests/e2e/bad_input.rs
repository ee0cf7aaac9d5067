//! Bad input gets a clear Vietnamese error naming the field, and changes nothing.

use serde_json::{Value, json};

use crate::helpers::*;

/// Saves a valid draft first, so that "nothing changed" is checked against real content.
fn with_draft(app: &TestApp) -> (Client, String, Value) {
    let commune = app.login(COMMUNE);
    let path = app.report_path(COMMUNE);
    let (status, saved) = commune.put(
        &path,
        &json!({ "values": full_values(8), "sections": full_sections(), "version": 0 }),
    );
    assert_eq!(status, 200, "{saved}");
    (commune, path, saved)
}

#[test]
fn each_bad_value_is_refused_with_a_message_naming_its_field_and_nothing_changes() {
    let app = TestApp::spawn();
    let (commune, path, saved) = with_draft(&app);
    let long = "ư".repeat(8001);
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "a negative count",
            json!({ "values": { "so_cuoc_hop": -2 } }),
            "so_cuoc_hop",
            "không được nhỏ hơn 0",
        ),
        (
            "a non-integer count",
            json!({ "values": { "so_cuoc_hop": 2.5 } }),
            "so_cuoc_hop",
            "phải là số nguyên",
        ),
        (
            "text in a number",
            json!({ "values": { "so_cuoc_hop": "mười" } }),
            "so_cuoc_hop",
            "phải là một số",
        ),
        (
            "a value over its bound",
            json!({ "values": { "so_thanh_vien": 51 } }),
            "so_thanh_vien",
            "không được lớn hơn 50",
        ),
        (
            "an over-long narrative",
            json!({ "sections": { "ket_qua": long } }),
            "ket_qua",
            "vượt quá giới hạn",
        ),
        (
            "an unknown indicator",
            json!({ "values": { "so_may_bay": 1 } }),
            "so_may_bay",
            "không có trong mẫu",
        ),
        (
            "a derived ratio typed in",
            json!({ "values": { "ty_le_dai_hoc": 50 } }),
            "ty_le_dai_hoc",
            "",
        ),
        (
            "a yes/no answered with a number",
            json!({ "values": { "co_to_truong": 7 } }),
            "co_to_truong",
            "Tổ đã có tổ trưởng",
        ),
        (
            "an unknown choice",
            json!({ "values": { "muc_do_hoan_thanh": "tuyet_voi" } }),
            "muc_do_hoan_thanh",
            "",
        ),
    ];
    for (what, mut body, field, message) in cases {
        body["version"] = saved["version"].clone();
        let (status, err) = commune.put(&path, &body);
        assert_eq!(status, 422, "{what}: {err}");
        assert_eq!(err["error"], "invalid", "{what}");
        let hit = err["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == field)
            .unwrap_or_else(|| panic!("{what}: no error for {field}: {err}"));
        let text = hit["message"].as_str().unwrap();
        assert!(text.contains(message), "{what}: {text}");
        let (_, now) = commune.get(&path);
        assert_eq!(
            now["version"], saved["version"],
            "{what} changed the report"
        );
        assert_eq!(now["values"], saved["values"], "{what} changed the values");
        assert_eq!(
            now["sections"], saved["sections"],
            "{what} changed the narrative"
        );
    }
}

#[test]
fn a_stale_version_is_a_conflict_and_the_newer_save_survives() {
    let app = TestApp::spawn();
    let (commune, path, saved) = with_draft(&app);
    let mut newer = full_values(8);
    newer["so_cuoc_hop"] = json!(9);
    let (status, _) = commune.put(
        &path,
        &json!({ "values": newer, "version": saved["version"] }),
    );
    assert_eq!(status, 200);
    let (status, err) = commune.put(
        &path,
        &json!({ "values": full_values(8), "version": saved["version"] }),
    );
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["error"], "stale_version");
    assert!(err["message"].as_str().unwrap().contains("tải lại"));
    let (_, now) = commune.get(&path);
    assert_eq!(now["values"]["so_cuoc_hop"], 9);
}

#[test]
fn submitted_and_accepted_reports_cannot_be_edited() {
    let app = TestApp::spawn();
    let commune = app.login(COMMUNE);
    let submitted = file_report(&app, &commune, COMMUNE, 8);
    let path = app.report_path(COMMUNE);
    let (status, err) = commune.put(
        &path,
        &json!({ "values": full_values(9), "version": submitted["version"] }),
    );
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["error"], "submitted");

    let district = app.login(DISTRICT);
    let (status, accepted) = district.post_empty(&format!("{path}/accept"));
    assert_eq!(status, 200);
    let (status, err) = commune.put(
        &path,
        &json!({ "values": full_values(9), "version": accepted["version"] }),
    );
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["error"], "locked");
    assert!(err["message"].as_str().unwrap().contains("đã khóa"));
    let (status, err) = commune.post_empty(&format!("{path}/submit"));
    assert_eq!(status, 409, "{err}");
    let (status, err) = district.post_empty(&format!("{path}/accept"));
    assert_eq!(status, 409, "accepting twice: {err}");
    let (_, now) = commune.get(&path);
    assert_eq!(now["status"], "accepted");
    assert_eq!(now["values"]["so_thanh_vien"], 8);
}

#[test]
fn a_return_needs_a_reason_and_only_a_submitted_report_can_be_reviewed() {
    let app = TestApp::spawn();
    let (_, path, _) = with_draft(&app);
    let district = app.login(DISTRICT);
    let (status, err) = district.post_empty(&format!("{path}/accept"));
    assert_eq!(status, 409, "accepting a draft: {err}");
    assert_eq!(err["error"], "not_submitted");
    let commune = app.login(COMMUNE);
    let (status, _) = commune.post_empty(&format!("{path}/submit"));
    assert_eq!(status, 200);
    let (status, err) = district.post(&format!("{path}/return"), &json!({ "reason": "  " }));
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["fields"][0]["field"], "reason");
    let (_, now) = district.get(&path);
    assert_eq!(now["status"], "submitted");
}

#[test]
fn a_wrong_password_and_an_unknown_user_get_the_same_401() {
    let app = TestApp::spawn();
    let client = app.client();
    let (status, wrong) = client.post(
        "/api/v1/login",
        &json!({ "username": COMMUNE, "password": "sai" }),
    );
    assert_eq!(status, 401);
    assert_eq!(wrong["message"], "Tên đăng nhập hoặc mật khẩu không đúng.");
    let (status, unknown) = client.post(
        "/api/v1/login",
        &json!({ "username": "khong-co", "password": "demo" }),
    );
    assert_eq!(status, 401);
    assert_eq!(unknown, wrong);
    let (status, _) = client.get("/api/v1/rounds");
    assert_eq!(status, 401, "a failed login opens no session");
    let (status, empty) = client.post("/api/v1/login", &json!({ "username": "", "password": "" }));
    assert_eq!(status, 422, "{empty}");
}

#[test]
fn malformed_bodies_are_refused_with_a_vietnamese_message() {
    let app = TestApp::spawn();
    let (commune, path, saved) = with_draft(&app);
    for (what, body) in [
        ("truncated JSON", r#"{"values": {"#),
        ("not JSON", "so_thanh_vien=5"),
        ("a misspelt field", r#"{"valuez": {}, "version": 1}"#),
        ("no version", r#"{"values": {}}"#),
        (
            "values not an object",
            r#"{"values": [1, 2], "version": 1}"#,
        ),
    ] {
        let (status, err) = commune.put_raw(&path, body);
        assert_eq!(status, 400, "{what}: {err}");
        assert!(
            err["message"].as_str().unwrap().contains("định dạng"),
            "{what}: {err}"
        );
    }
    let (_, now) = commune.get(&path);
    assert_eq!(now["version"], saved["version"]);
}

#[test]
fn control_characters_are_removed_and_a_form_that_is_not_utf8_is_refused() {
    let app = TestApp::spawn();
    let (commune, path, saved) = with_draft(&app);
    // NUL, an escape and a bell typed (or pasted) into a narrative are dropped; lines stay.
    let (status, stored) = commune.put(
        &path,
        &json!({
            "values": full_values(8),
            "sections": { "ket_qua": "Tổ đã họp\u{0} 6 lần.\u{1b}[0m\u{7}\nĐã tuyên truyền." },
            "version": saved["version"],
        }),
    );
    assert_eq!(status, 200, "{stored}");
    assert_eq!(
        stored["sections"]["ket_qua"],
        "Tổ đã họp 6 lần.[0m\nĐã tuyên truyền."
    );
    // A page form whose text is not UTF-8 (a legacy encoding, a broken client) is refused
    // whole, not stored with its letters replaced.
    let page = app.client();
    let (status, _, _) =
        page.post_form("/dang-nhap", &[("username", COMMUNE), ("password", "demo")]);
    assert_eq!(status, 303);
    let (status, _, html) = page.post_encoded(
        &format!("/ky-bao-cao/{}/bao-cao/{COMMUNE}", app.round_id),
        &format!(
            "s.ket_qua=Th%E1i+B%ECnh&version={}&action=save",
            stored["version"]
        ),
    );
    assert_eq!(status, 400);
    assert!(html.contains("không phải mã UTF-8"), "{html}");
    let (_, now) = commune.get(&path);
    assert_eq!(now["version"], stored["version"], "nothing was saved");
}

#[test]
fn a_malformed_address_of_a_page_gets_the_vietnamese_not_found_page() {
    let app = TestApp::spawn();
    let page = app.client();
    let (status, _, _) =
        page.post_form("/dang-nhap", &[("username", COMMUNE), ("password", "demo")]);
    assert_eq!(status, 303);
    for path in [
        "/ky-bao-cao/abc".to_owned(),
        format!("/ky-bao-cao/{}x/bao-cao/{COMMUNE}", app.round_id),
        "/to-khoa-giao/12475/khong-phai-so".to_owned(),
    ] {
        let (status, _, html) = page.page(&path);
        assert_eq!(status, 404, "{path}");
        assert!(html.contains("Không tìm thấy trang này."), "{path}: {html}");
        assert!(!html.contains("parse"), "{path}: {html}");
        assert!(
            html.contains("action=\"/dang-xuat\""),
            "the menu and the way to log out stay: {html}"
        );
    }
    let (status, _, html) = page.page(&format!("/ky-bao-cao/{}/so-sanh/{COMMUNE}", app.round_id));
    assert_eq!(status, 400);
    assert!(html.contains("Địa chỉ trang thiếu thông tin"), "{html}");
}

#[test]
fn a_typed_number_reads_one_way_at_every_door_and_two_way_texts_are_asked_about() {
    let app = TestApp::spawn();
    let (commune, path, saved) = with_draft(&app);
    let mut version = saved["version"].clone();
    // (what is typed, into which field, what is stored)
    let readings = [
        ("1.000", "luot_nguoi_nghe", json!(1000)),
        ("1,000", "luot_nguoi_nghe", json!(1000)),
        ("123.456", "luot_nguoi_nghe", json!(123_456)),
        ("12,5", "kinh_phi", json!(12.5)),
        ("12.5", "kinh_phi", json!(12.5)),
        ("1.234,5", "kinh_phi", json!(1234.5)),
        ("12.345,6", "kinh_phi", json!(12345.6)),
    ];
    for (typed, key, stored) in readings {
        let mut values = full_values(8);
        values[key] = json!(typed);
        let (status, body) = commune.put(
            &path,
            &json!({ "values": values, "sections": full_sections(), "version": version }),
        );
        assert_eq!(status, 200, "{typed} in {key}: {body}");
        assert_eq!(body["values"][key], stored, "{typed} in {key}");
        version = body["version"].clone();
    }
    // A text that reads two ways in a field with decimals: refused, both readings shown.
    for (typed, grouped, decimal) in [("1.234", "1234", "1,234"), ("2,500", "2500", "2,5")] {
        let mut values = full_values(8);
        values["kinh_phi"] = json!(typed);
        let (status, body) = commune.put(
            &path,
            &json!({ "values": values, "sections": full_sections(), "version": version }),
        );
        assert_eq!(status, 422, "{typed}: {body}");
        let field = &body["fields"][0];
        assert_eq!(field["field"], "kinh_phi");
        let said = field["message"].as_str().unwrap();
        assert!(said.contains("đọc được hai cách"), "{said}");
        assert!(said.contains(grouped) && said.contains(decimal), "{said}");
        let (_, now) = commune.get(&path);
        assert_eq!(now["version"], version, "nothing saved");
    }
    // The web form reads the same way, and types a stored decimal back so it reads the same.
    let page = app.client();
    page.post_form("/dang-nhap", &[("username", COMMUNE), ("password", "demo")]);
    let form = format!("/ky-bao-cao/{}/bao-cao/{COMMUNE}", app.round_id);
    let (status, _, html) = page.post_form(
        &form,
        &[
            ("v.kinh_phi", "1.234"),
            ("version", &version.to_string()),
            ("action", "save"),
        ],
    );
    assert_eq!(status, 422);
    assert!(html.contains("đọc được hai cách"), "{html}");
    let (status, _, _) = page.post_form(
        &form,
        &[
            ("v.kinh_phi", "1,2345"),
            ("version", &version.to_string()),
            ("action", "save"),
        ],
    );
    assert_eq!(status, 303);
    let (_, stored) = commune.get(&path);
    assert_eq!(stored["values"]["kinh_phi"], 1.2345);
    let (_, _, html) = page.page(&form);
    assert!(html.contains("value=\"1,2345\""), "typed back as read");
}
