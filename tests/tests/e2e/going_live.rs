//! The story of going live, from an empty database: a province other than Thái Bình is set up,
//! its administrator creates the province board's and the districts' accounts from a sheet,
//! a district creates its communes', a commune logs in with its one-time password, is made to
//! change it, and files; the board's reset and deactivation take effect at once; the audit
//! of administration shows who did what, to each for their own subtree.

use serde_json::{Value, json};

use crate::helpers::*;

const ADMIN_PASSWORD: &str = "đồng chiêm Hà Nam 1890";

/// Hà Nam's units, from the national list the binary ships: (code, name, parent code).
fn ha_nam() -> Vec<(String, String, String)> {
    let text = include_str!("../../../seeds/vietnam_units_2025-01-04.csv");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<(String, String, String, String)> =
        reader.deserialize().map(Result::unwrap).collect();
    let districts: Vec<String> = rows
        .iter()
        .filter(|r| r.3 == "35")
        .map(|r| r.0.clone())
        .collect();
    rows.into_iter()
        .filter(|r| r.0 == "35" || r.3 == "35" || districts.contains(&r.3))
        .map(|(code, name, _, parent)| (code, name, parent))
        .collect()
}

fn login_as(app: &TestApp, username: &str, password: &str) -> (u16, Client) {
    let client = app.client();
    let (status, _) = client.post(
        "/api/v1/login",
        &json!({ "username": username, "password": password }),
    );
    (status, client)
}

/// Logs in with a one-time password, is refused everything else, and chooses `new`.
fn first_login(app: &TestApp, username: &str, one_time: &str, new: &str) -> Client {
    let (status, client) = login_as(app, username, one_time);
    assert_eq!(status, 200, "{username}");
    assert_eq!(
        client.get("/api/v1/rounds").1["error"],
        "password_change_required",
        "{username}"
    );
    let (status, body) = client.put(
        "/api/v1/password",
        &json!({ "current": one_time, "new": new }),
    );
    assert_eq!(status, 204, "{username}: {body}");
    client
}

fn password_of(created: &Value, username: &str) -> String {
    created["created"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["account"]["username"] == username)
        .unwrap_or_else(|| panic!("{username} in {created}"))["password"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn a_province_goes_live_from_an_empty_database_to_a_filed_report() {
    let app = TestApp::set_up("35", ADMIN_PASSWORD);
    let units = ha_nam();
    let districts: Vec<&(String, String, String)> = units.iter().filter(|u| u.2 == "35").collect();
    let (district, district_name, _) = districts[0].clone();
    let communes: Vec<&(String, String, String)> =
        units.iter().filter(|u| u.2 == district).take(2).collect();
    assert!(districts.len() >= 5 && communes.len() == 2);

    // Only the administrator exists, with the password chosen at set-up.
    assert_eq!(login_as(&app, "admin", "demo").0, 401);
    let (status, admin) = login_as(&app, "admin", ADMIN_PASSWORD);
    assert_eq!(status, 200);

    // The province board's and every district board's accounts, from one sheet.
    let mut sheet = String::from("Mã đơn vị,Họ và tên,Tên đăng nhập,Điện thoại\n");
    sheet.push_str("35,Nguyễn Văn Tỉnh,btg.hanam,0226 385 2345\n");
    for (code, name, _) in &districts {
        sheet.push_str(&format!("{code},Trưởng ban {name},btg.{code},\n"));
    }
    let (status, created) = admin.post_bytes("/api/v1/accounts/bulk", sheet.into_bytes());
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        created["created"].as_array().unwrap().len(),
        districts.len() + 1
    );

    // The province board chooses its password and opens a round for the whole province.
    let province = first_login(
        &app,
        "btg.hanam",
        &password_of(&created, "btg.hanam"),
        "mùa gặt sông Châu 35",
    );
    let deadline = chrono::Utc::now().date_naive() + chrono::Duration::days(20);
    let (status, round) = province.post(
        "/api/v1/rounds",
        &json!({
            "template": "dinh-ky",
            "period_type": "year",
            "year": 2026,
            "commune_deadline": deadline,
            "district_deadline": deadline + chrono::Duration::days(5),
        }),
    );
    assert_eq!(status, 201, "{round}");
    let round_id = round["id"].as_i64().unwrap();

    // The district board creates its communes' accounts from its own sheet.
    let district_user = format!("btg.{district}");
    let board = first_login(
        &app,
        &district_user,
        &password_of(&created, &district_user),
        "cầu Hồng Phú gió nồm 9",
    );
    let mut sheet = String::from("Mã đơn vị,Họ và tên,Tên đăng nhập\n");
    for (code, name, _) in &communes {
        sheet.push_str(&format!("{code},Tổ trưởng {name},tkg.{code}\n"));
    }
    let (status, commune_accounts) = board.post_bytes("/api/v1/accounts/bulk", sheet.into_bytes());
    assert_eq!(status, 201, "{commune_accounts}");
    // It could not have created the province's or another district's.
    let (status, _) = board.post(
        "/api/v1/accounts",
        &json!({ "unit": districts[1].0, "username": "vuot.cap", "full_name": "Vượt Cấp" }),
    );
    assert_eq!(status, 422);

    // A commune logs in with its slip, chooses its password, and files.
    let (commune, _, _) = communes[0].clone();
    let commune_user = format!("tkg.{commune}");
    let one_time = password_of(&commune_accounts, &commune_user);
    let team = first_login(&app, &commune_user, &one_time, "lúa nếp cái hoa vàng 7");
    let path = format!("/api/v1/rounds/{round_id}/reports/{commune}");
    let (status, saved) = team.put(
        &path,
        &json!({ "values": full_values(7), "sections": full_sections(), "version": 0 }),
    );
    assert_eq!(status, 200, "{saved}");
    let (status, sent) = team.post(
        &format!("{path}/submit"),
        &json!({ "version": saved["version"] }),
    );
    assert_eq!(status, 200, "{sent}");
    let (_, seen) = board.get(&format!("/api/v1/rounds/{round_id}/rollup/{district}"));
    assert_eq!(seen["total"]["completeness"]["submitted"], 1, "{seen}");
    assert_eq!(seen["unit"]["name"], district_name.as_str());

    // The board resets the commune's password: its session ends at once; then locks it.
    let id = account_id(&board, &commune_user);
    let (status, reset) = board.post_empty(&format!("/api/v1/accounts/{id}/reset"));
    assert_eq!(status, 200);
    assert_eq!(
        team.get("/api/v1/me").0,
        401,
        "reset: the session ended at once"
    );
    let (status, again) = login_as(&app, &commune_user, reset["password"].as_str().unwrap());
    assert_eq!(status, 200);
    assert_eq!(
        board
            .post_empty(&format!("/api/v1/accounts/{id}/deactivate"))
            .0,
        200
    );
    assert_eq!(
        again.get("/api/v1/me").0,
        401,
        "deactivated: the session ended at once"
    );
    assert_eq!(
        login_as(&app, &commune_user, reset["password"].as_str().unwrap()).0,
        401
    );

    // The audit of administration: the administrator sees everything, the district its own.
    let acts = |who: &Client| -> Vec<String> {
        let (status, body) = who.get("/api/v1/admin/audit");
        assert_eq!(status, 200, "{body}");
        body["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    e["action"].as_str().unwrap(),
                    e["subject"].as_str().unwrap()
                )
            })
            .collect()
    };
    let everything = acts(&admin);
    assert!(
        everything.iter().any(|a| a.starts_with("setup")),
        "{everything:?}"
    );
    assert!(
        everything.iter().any(|a| a.contains("btg.hanam")),
        "{everything:?}"
    );
    let theirs = acts(&board);
    assert!(
        theirs
            .iter()
            .any(|a| a.starts_with("deactivate_account") && a.contains(&commune_user)),
        "{theirs:?}"
    );
    assert!(
        theirs.iter().any(|a| a.starts_with("reset_password")),
        "{theirs:?}"
    );
    assert!(
        !theirs
            .iter()
            .any(|a| a.contains("btg.hanam") || a.starts_with("setup")),
        "nothing above or beside the district: {theirs:?}"
    );
}

#[test]
fn the_administrator_adds_renames_and_closes_units_and_nobody_else_does() {
    let app = TestApp::spawn();
    let admin = app.login("admin");
    let (status, unit) = admin.post(
        "/api/v1/units",
        &json!({ "parent": DISTRICT, "code": "99901", "name": "Xã Thử Nghiệm", "kind": "commune" }),
    );
    assert_eq!(status, 201, "{unit}");
    let (status, body) = admin.post(
        "/api/v1/units",
        &json!({ "parent": DISTRICT, "code": "99901", "name": "X", "kind": "tinh" }),
    );
    assert_eq!(status, 422);
    let fields: Vec<&str> = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "code", "kind"], "{body}");
    // The district board can now give the new commune its account.
    let district = app.login(DISTRICT);
    let (status, _) = district.post(
        "/api/v1/accounts",
        &json!({ "unit": "99901", "username": "tkg.99901", "full_name": "Tổ trưởng Thử Nghiệm" }),
    );
    assert_eq!(status, 201);
    let (status, renamed) = admin.put(
        "/api/v1/units/99901",
        &json!({ "name": "Xã Thử Nghiệm Mới" }),
    );
    assert_eq!(
        (status, renamed["name"].as_str()),
        (200, Some("Xã Thử Nghiệm Mới"))
    );
    // A district with communes open is not closed; the new commune is.
    let (status, body) = admin.post(
        &format!("/api/v1/units/{DISTRICT}/close"),
        &json!({ "on": "2026-12-31" }),
    );
    assert_eq!(status, 409, "{body}");
    let (status, _) = admin.post("/api/v1/units/99901/close", &json!({ "on": "2026-12-31" }));
    assert_eq!(status, 200);
    for (path, body) in [
        (
            "/api/v1/units",
            json!({ "parent": DISTRICT, "code": "99902", "name": "Xã Khác", "kind": "commune" }),
        ),
        ("/api/v1/units/12475/close", json!({ "on": "2026-12-31" })),
    ] {
        assert_eq!(district.post(path, &body).0, 403, "{path}");
    }
    assert_eq!(
        district
            .put("/api/v1/units/12475", &json!({ "name": "Xã Đổi" }))
            .0,
        403
    );
    let (_, audit) = admin.get("/api/v1/admin/audit");
    let said = audit["entries"].to_string();
    assert!(
        said.contains("close_unit") && said.contains("rename_unit") && said.contains("create_unit"),
        "{said}"
    );
    // The round in progress consolidates over the units as they are now.
    crate::live::every_round_is_exact(&app);
}
