//! Accounts for real people: delegated administration along the hierarchy (tested like the
//! access matrix), one-time passwords changed at the first login, resets and deactivations
//! that take effect at once, accounts from a sheet (all or none), the handout sheet, and each
//! person's own sessions.

use std::io::Cursor;

use calamine::{Reader, Xlsx, open_workbook_from_rs};
use serde_json::{Value, json};

use crate::helpers::*;

const STRONG: &str = "lúa chiêm xanh mướt 2026";

fn new_account(unit: &str, username: &str) -> Value {
    json!({ "unit": unit, "username": username, "full_name": "Nguyễn Thị Hoa", "phone": "0912 345 678" })
}

fn login_as(app: &TestApp, username: &str, password: &str) -> (u16, Client) {
    let client = app.client();
    let (status, _) = client.post(
        "/api/v1/login",
        &json!({ "username": username, "password": password }),
    );
    (status, client)
}

#[test]
fn each_board_administers_the_accounts_right_below_it_and_no_others() {
    let app = TestApp::spawn();
    let admin = app.login("admin");
    let province = app.login(PROVINCE);
    let district = app.login(DISTRICT);
    let other_district = app.login(OTHER_DISTRICT);
    let commune = app.login(COMMUNE);
    // (who, for which unit, allowed)
    let cases: [(&Client, &str, &str, bool); 9] = [
        (&admin, PROVINCE, "admin-tinh", true),
        (&admin, COMMUNE, "admin-xa", true),
        (&province, DISTRICT, "tinh-huyen", true),
        (&province, COMMUNE, "tinh-xa", false),
        (&district, COMMUNE, "huyen-xa", true),
        (&district, DISTRICT, "huyen-chinh-minh", false),
        (&district, OTHER_COMMUNE, "huyen-xa-khac", false),
        (&other_district, COMMUNE, "khac-xa", false),
        (&district, "99999", "huyen-khong-co", false),
    ];
    let mut refusals = Vec::new();
    for (who, unit, username, allowed) in cases {
        let (status, body) = who.post("/api/v1/accounts", &new_account(unit, username));
        if allowed {
            assert_eq!(status, 201, "{username}: {body}");
            assert_eq!(body["account"]["unit"]["code"], unit);
            assert_eq!(body["account"]["must_change_password"], true);
        } else {
            assert_eq!(status, 422, "{username}: {body}");
            refusals.push(body["fields"][0]["message"].as_str().unwrap().to_owned());
        }
    }
    // A unit outside one's reach reads exactly like one that does not exist, but for its code.
    let shapes: Vec<String> = refusals
        .iter()
        .map(|m| m.split('«').next().unwrap().to_owned())
        .collect();
    assert!(shapes.windows(2).all(|w| w[0] == w[1]), "{refusals:?}");
    let (status, _) = commune.post("/api/v1/accounts", &new_account(COMMUNE, "xa-tu-tao"));
    assert_eq!(status, 403, "a commune manages no accounts");

    // Each sees the accounts it manages, and only those.
    let usernames = |who: &Client| -> Vec<String> {
        let (status, body) = who.get("/api/v1/accounts");
        assert_eq!(status, 200, "{body}");
        body["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["username"].as_str().unwrap().to_owned())
            .collect()
    };
    let seen = usernames(&district);
    assert!(seen.contains(&"huyen-xa".to_owned()) && seen.contains(&COMMUNE.to_owned()));
    assert!(!seen.contains(&DISTRICT.to_owned()) && !seen.contains(&OTHER_COMMUNE.to_owned()));
    let seen = usernames(&province);
    assert!(seen.contains(&DISTRICT.to_owned()) && seen.contains(&"tinh-huyen".to_owned()));
    assert!(
        !seen.contains(&COMMUNE.to_owned()),
        "the province manages its districts' accounts"
    );
    assert!(usernames(&admin).contains(&"admin".to_owned()));

    // Resetting and locking follow the same lines; a foreign account is as one that is not.
    let (_, list) = admin.get("/api/v1/accounts");
    let id_of = |name: &str| {
        list["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["username"] == name)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let foreign = id_of(OTHER_COMMUNE);
    for path in [
        format!("/api/v1/accounts/{foreign}/reset"),
        format!("/api/v1/accounts/{foreign}/deactivate"),
        "/api/v1/accounts/999999/reset".to_owned(),
    ] {
        let (status, body) = district.post_empty(&path);
        assert_eq!(status, 403, "{path}: {body}");
        assert!(body["message"].as_str().unwrap().contains("không quản lý"));
    }
    assert_eq!(
        district
            .post_empty(&format!("/api/v1/accounts/{}/reset", id_of(COMMUNE_2)))
            .0,
        200
    );
}

#[test]
fn a_one_time_password_opens_nothing_but_the_change_of_password() {
    let app = TestApp::spawn();
    let district = app.login(DISTRICT);
    let (status, created) = district.post("/api/v1/accounts", &new_account(COMMUNE, "hoa.ankhe"));
    assert_eq!(status, 201, "{created}");
    let one_time = created["password"].as_str().unwrap().to_owned();
    let (status, hoa) = login_as(&app, "hoa.ankhe", &one_time);
    assert_eq!(status, 200);
    let (status, me) = hoa.get("/api/v1/me");
    assert_eq!(status, 200);
    assert_eq!(me["must_change_password"], true);
    let (status, body) = hoa.get("/api/v1/rounds");
    assert_eq!(status, 403);
    assert_eq!(body["error"], "password_change_required");
    let (status, location, _) = hoa.page("/ky-bao-cao");
    assert_eq!((status, location.as_str()), (303, "/doi-mat-khau"));
    // Too weak, or the one-time password again: refused by field.
    for (new, field) in [("hoa12345678", "new"), (one_time.as_str(), "new")] {
        let (status, body) = hoa.put(
            "/api/v1/password",
            &json!({ "current": one_time, "new": new }),
        );
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["fields"][0]["field"], field);
    }
    let (status, body) = hoa.put(
        "/api/v1/password",
        &json!({ "current": "sai", "new": STRONG }),
    );
    assert_eq!(
        (status, body["fields"][0]["field"].as_str()),
        (422, Some("current"))
    );
    let (status, _) = hoa.put(
        "/api/v1/password",
        &json!({ "current": one_time, "new": STRONG }),
    );
    assert_eq!(status, 204);
    assert_eq!(hoa.get("/api/v1/rounds").0, 200, "in, on the same session");
    assert_eq!(
        login_as(&app, "hoa.ankhe", &one_time).0,
        401,
        "the one-time password is spent"
    );
    assert_eq!(login_as(&app, "hoa.ankhe", STRONG).0, 200);
}

#[test]
fn a_reset_and_a_deactivation_take_effect_at_once() {
    let app = TestApp::spawn();
    let district = app.login(DISTRICT);
    let commune = app.login(COMMUNE);
    let id = account_id(&district, COMMUNE);
    let (status, reset) = district.post_empty(&format!("/api/v1/accounts/{id}/reset"));
    assert_eq!(status, 200, "{reset}");
    assert_eq!(
        commune.get("/api/v1/me").0,
        401,
        "the session ended at once"
    );
    assert_eq!(
        login_as(&app, COMMUNE, "demo").0,
        401,
        "the old password is gone"
    );
    let (status, again) = login_as(&app, COMMUNE, reset["password"].as_str().unwrap());
    assert_eq!(status, 200);
    assert_eq!(
        again.get("/api/v1/rounds").1["error"],
        "password_change_required"
    );

    let (status, view) = district.post_empty(&format!("/api/v1/accounts/{id}/deactivate"));
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["active"], false);
    assert_eq!(
        again.get("/api/v1/me").0,
        401,
        "deactivation ends the sessions"
    );
    assert_eq!(
        login_as(&app, COMMUNE, reset["password"].as_str().unwrap()).0,
        401
    );
    district.post_empty(&format!("/api/v1/accounts/{id}/reactivate"));
    assert_eq!(
        login_as(&app, COMMUNE, reset["password"].as_str().unwrap()).0,
        200
    );
    // Nobody locks or resets themselves here.
    let (_, me) = district.get("/api/v1/accounts");
    assert!(
        !me["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["username"] == DISTRICT),
        "a board's own account is managed from above"
    );
}

#[test]
fn accounts_from_a_sheet_are_created_all_or_none() {
    let app = TestApp::spawn();
    let district = app.login(DISTRICT);
    let bad = format!(
        "Mã đơn vị,Họ và tên,Tên đăng nhập,Điện thoại\n{COMMUNE},Lê Văn Nam,nam.ankhe,0987654321\n{OTHER_COMMUNE},Phạm Thu,thu.khac,\n{COMMUNE_2},Đỗ Hà,nam.ankhe,12\n"
    );
    let (status, body) = district.post_bytes("/api/v1/accounts/bulk", bad.into_bytes());
    assert_eq!(status, 422, "{body}");
    let said = body["fields"].to_string();
    assert!(
        said.contains("Dòng 3") && said.contains(OTHER_COMMUNE),
        "{said}"
    );
    assert!(
        said.contains("Dòng 4") && said.contains("trùng với dòng 2"),
        "{said}"
    );
    assert!(said.contains("Số điện thoại không hợp lệ"), "{said}");
    assert_eq!(login_as(&app, "nam.ankhe", "x").0, 401);
    let (_, before) = district.get("/api/v1/accounts");
    let good = format!(
        "Mã đơn vị,Họ và tên,Tên đăng nhập,Điện thoại\n{COMMUNE},Lê Văn Nam,nam.ankhe,0987654321\n{COMMUNE_2},Đỗ Hà,ha.andong,\n"
    );
    let (status, body) = district.post_bytes("/api/v1/accounts/bulk", good.into_bytes());
    assert_eq!(status, 201, "{body}");
    let created = body["created"].as_array().unwrap();
    assert_eq!(created.len(), 2);
    let (_, after) = district.get("/api/v1/accounts");
    assert_eq!(
        after["accounts"].as_array().unwrap().len(),
        before["accounts"].as_array().unwrap().len() + 2
    );
    let password = created[1]["password"].as_str().unwrap();
    assert_eq!(login_as(&app, "ha.andong", password).0, 200);
}

#[test]
fn the_pages_create_an_account_show_its_password_once_and_hand_it_out_as_a_sheet() {
    let app = TestApp::spawn();
    let district = app.client();
    let (status, _, _) = district.post_form(
        "/dang-nhap",
        &[("username", DISTRICT), ("password", "demo")],
    );
    assert_eq!(status, 303);
    let (status, _, html) = district.page("/tai-khoan");
    assert_eq!(status, 200);
    assert!(
        html.contains("id=\"accounts\"") && html.contains(COMMUNE),
        "{html}"
    );
    // A mistake is shown beside its field, with what was typed kept.
    let (status, _, html) = district.post_form(
        "/tai-khoan/moi",
        &[
            ("unit", COMMUNE),
            ("full_name", "Vũ Minh Tâm"),
            ("username", "có dấu"),
        ],
    );
    assert_eq!(status, 422);
    assert!(
        html.contains("Tên đăng nhập gồm 2 đến 64 chữ cái không dấu"),
        "{html}"
    );
    assert!(html.contains("value=\"Vũ Minh Tâm\""), "{html}");
    let (status, _, html) = district.post_form(
        "/tai-khoan/moi",
        &[
            ("unit", COMMUNE),
            ("full_name", "Vũ Minh Tâm"),
            ("username", "tam.ankhe"),
        ],
    );
    assert_eq!(status, 200, "{html}");
    let password = html
        .split("class=\"password\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap()
        .to_owned();
    assert_eq!(password.len(), 14, "{password}");
    // The handout sheet, from the page's own fields.
    let (status, _, sheet_html) = district.page("/tai-khoan");
    assert_eq!(status, 200);
    assert!(
        !sheet_html.contains(&password),
        "the password is shown only once"
    );
    let fields = [
        ("unit", "Xã An Khê"),
        ("name", "Vũ Minh Tâm"),
        ("username", "tam.ankhe"),
        ("password", password.as_str()),
    ];
    let (status, ctype, bytes) = district.post_form_download("/tai-khoan/phieu", &fields);
    assert_eq!(status, 200);
    assert!(ctype.contains("spreadsheetml"), "{ctype}");
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    let sheet = wb.worksheet_range("Phiếu giao tài khoản").unwrap();
    let text: Vec<String> = sheet.cells().map(|(_, _, d)| d.to_string()).collect();
    assert!(
        text.contains(&"tam.ankhe".to_owned()) && text.contains(&password),
        "{text:?}"
    );
    let (status, _) = login_as(&app, "tam.ankhe", &password);
    assert_eq!(status, 200);
}

#[test]
fn a_person_sees_their_sessions_and_ends_one_elsewhere() {
    let app = TestApp::spawn();
    let office = app.login(COMMUNE);
    let phone = app.login(COMMUNE);
    let (status, body) = office.get("/api/v1/sessions");
    assert_eq!(status, 200);
    let sessions = body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{body}");
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let other = sessions.iter().find(|s| s["current"] == false).unwrap();
    let (status, _) = office.delete(&format!(
        "/api/v1/sessions/{}",
        other["id"].as_str().unwrap()
    ));
    assert_eq!(status, 204);
    assert_eq!(
        phone.get("/api/v1/me").0,
        401,
        "the phone's session is over"
    );
    assert_eq!(office.get("/api/v1/me").0, 200);
    // Another person's session is never found.
    let district = app.login(DISTRICT);
    let (_, mine) = district.get("/api/v1/sessions");
    let theirs = mine["sessions"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(office.delete(&format!("/api/v1/sessions/{theirs}")).0, 404);
    assert_eq!(district.get("/api/v1/me").0, 200);
    let (_, me) = office.get("/api/v1/me");
    assert!(
        !me["previous_login_at"].is_null(),
        "the login before this one is shown: {me}"
    );
}
