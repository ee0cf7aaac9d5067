//! Rounds and their calendar: who opens which, editing until someone files, closing,
//! the orientation that flows down, and deadlines judged at midnight Vietnam time.

use serde_json::{Value, json};

use crate::helpers::*;

/// A quarter-2 2026 round: data from 15/03 to 14/06/2026, communes due 17/06, districts 22/06.
fn open_q2(app: &TestApp, province: &Client, extra: Value) -> i64 {
    let mut body = json!({
        "template": "dinh-ky",
        "period_type": "quarter",
        "year": 2026,
        "index": 2,
        "commune_deadline": "2026-06-17",
        "district_deadline": "2026-06-22",
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (status, created) = province.post("/api/v1/rounds", &body);
    assert_eq!(status, 201, "{created}");
    let _ = app;
    created["id"].as_i64().unwrap()
}

fn round_ids(client: &Client) -> Vec<i64> {
    let (status, body) = client.get("/api/v1/rounds");
    assert_eq!(status, 200);
    body["rounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

#[test]
fn a_district_opens_a_thematic_round_that_only_its_own_communes_see() {
    let app = TestApp::spawn();
    let district = app.login(DISTRICT);
    let (status, created) = district.post(
        "/api/v1/rounds",
        &json!({
            "template": "tong-ket-nq06",
            "period_type": "window",
            "year": 2026,
            "start": "2026-01-01",
            "end": "2026-06-30",
            "orientation": "Tổng kết 15 năm thực hiện Nghị quyết 06-NQ/TU ở cơ sở.",
            "tasks": ["Rà soát số trường đạt chuẩn quốc gia."],
        }),
    );
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();

    let mine = app.login(COMMUNE);
    assert!(round_ids(&mine).contains(&id));
    let (status, round) = mine.get(&format!("/api/v1/rounds/{id}"));
    assert_eq!(status, 200);
    assert_eq!(round["owner"]["code"], DISTRICT);
    assert_eq!(round["period_label"], "Từ 01/01/2026 đến 30/06/2026");
    assert_eq!(
        round["orientation"]["tasks"][0]["tasks"][0],
        "Rà soát số trường đạt chuẩn quốc gia."
    );
    let (status, report) = mine.get(&format!("/api/v1/rounds/{id}/reports/{COMMUNE}"));
    assert_eq!(status, 200);
    assert_eq!(report["status"], "not_started");

    for outsider in [OTHER_COMMUNE, OTHER_DISTRICT] {
        let client = app.login(outsider);
        assert!(!round_ids(&client).contains(&id), "{outsider} sees it");
        let (status, _) = client.get(&format!("/api/v1/rounds/{id}"));
        assert_eq!(status, 404, "{outsider}");
    }
    let province = app.login(PROVINCE);
    assert!(
        round_ids(&province).contains(&id),
        "the province sees everything below it"
    );
    let (_, rollup) = district.get(&format!("/api/v1/rounds/{id}/rollup/{DISTRICT}"));
    assert_eq!(rollup["total"]["completeness"]["expected"], 35);

    // A district opens no periodic rounds, and a commune opens none at all.
    let (status, err) = district.post(
        "/api/v1/rounds",
        &json!({ "template": "dinh-ky", "period_type": "quarter", "year": 2026, "index": 1 }),
    );
    assert_eq!(status, 403, "{err}");
    assert!(err["message"].as_str().unwrap().contains("chuyên đề"));
    let (status, _) = mine.post(
        "/api/v1/rounds",
        &json!({ "template": "tong-ket-nq06", "period_type": "year", "year": 2026 }),
    );
    assert_eq!(status, 403);
}

#[test]
fn a_round_is_edited_until_someone_files_and_takes_nothing_once_closed() {
    let app = TestApp::spawn();
    let province = app.login(PROVINCE);
    let id = open_q2(&app, &province, json!({}));
    let path = format!("/api/v1/rounds/{id}");
    let (_, before) = province.get(&path);
    assert_eq!(before["period_label"], "Quý II/2026");
    assert_eq!(before["period_start"], "2026-03-15");
    assert_eq!(before["period_end"], "2026-06-14");

    // Bad edits are refused by field.
    let (status, err) = province.put(
        &path,
        &json!({ "template": "dinh-ky", "period_type": "quarter", "year": 2026, "index": 5 }),
    );
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["fields"][0]["field"], "index");
    let (status, err) = province.put(
        &path,
        &json!({ "template": "dinh-ky", "period_type": "quarter", "year": 2026, "index": 2,
                 "commune_deadline": "2026-06-01" }),
    );
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["fields"][0]["field"], "commune_deadline");

    let (status, _) = province.put(
        &path,
        &json!({ "template": "dinh-ky", "period_type": "quarter", "year": 2026, "index": 2,
                 "title": "Báo cáo quý II/2026 (sửa)", "commune_deadline": "2026-06-20",
                 "district_deadline": "2026-06-25" }),
    );
    assert_eq!(status, 204);
    let (_, after) = province.get(&path);
    assert_eq!(after["title"], "Báo cáo quý II/2026 (sửa)");
    assert_eq!(after["commune_deadline"], "2026-06-20T16:59:59");
    let district = app.login(DISTRICT);
    let (status, _) = district.put(
        &path,
        &json!({ "template": "dinh-ky", "period_type": "quarter", "year": 2026, "index": 2 }),
    );
    assert_eq!(status, 403, "only the opener edits");

    // Once a commune has filed, the terms stand.
    let commune = app.login(COMMUNE);
    let report = format!("{path}/reports/{COMMUNE}");
    let (_, saved) = commune.put(
        &report,
        &json!({ "values": full_values(8), "sections": full_sections(), "version": 0 }),
    );
    let (status, _) = commune.post(
        &format!("{report}/submit"),
        &json!({ "version": saved["version"] }),
    );
    assert_eq!(status, 200);
    let (status, err) = province.put(
        &path,
        &json!({ "template": "dinh-ky", "period_type": "quarter", "year": 2026, "index": 2 }),
    );
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["error"], "round_filed");

    // Closed: no saves, no reviews, no second close.
    assert_eq!(district.post_empty(&format!("{path}/close")).0, 403);
    assert_eq!(province.post_empty(&format!("{path}/close")).0, 204);
    let other = app.login(COMMUNE_2);
    let (status, err) = other.put(
        &format!("{path}/reports/{COMMUNE_2}"),
        &json!({ "values": { "so_thanh_vien": 3 }, "version": 0 }),
    );
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["error"], "round_closed");
    let (status, _) = district.post_empty(&format!("{report}/accept"));
    assert_eq!(status, 409);
    assert_eq!(province.post_empty(&format!("{path}/close")).0, 409);
    let (_, closed) = province.get(&path);
    assert_eq!(closed["status"], "closed");
}

#[test]
fn the_orientation_reaches_each_commune_with_its_own_district_tasks() {
    let app = TestApp::spawn();
    let province = app.login(PROVINCE);
    let id = open_q2(
        &app,
        &province,
        json!({
            "orientation": "Tập trung tuyên truyền phòng, chống dịch bệnh mùa hè.",
            "tasks": ["Tuyên truyền vệ sinh an toàn thực phẩm.", "  ", "Kiện toàn Tổ khoa giáo."],
        }),
    );
    let district = app.login(DISTRICT);
    let tasks = format!("/api/v1/rounds/{id}/tasks/{DISTRICT}");
    let (status, _) = district.put(
        &tasks,
        &json!({ "tasks": ["Sơ kết mô hình khuyến học ở Quỳnh Phụ."] }),
    );
    assert_eq!(status, 204);

    let (_, round) = app.login(COMMUNE).get(&format!("/api/v1/rounds/{id}"));
    let o = &round["orientation"];
    assert_eq!(
        o["text"],
        "Tập trung tuyên truyền phòng, chống dịch bệnh mùa hè."
    );
    assert_eq!(o["tasks"][0]["from"]["code"], PROVINCE);
    assert_eq!(
        o["tasks"][0]["tasks"],
        json!([
            "Tuyên truyền vệ sinh an toàn thực phẩm.",
            "Kiện toàn Tổ khoa giáo."
        ])
    );
    assert_eq!(o["tasks"][1]["from"]["code"], DISTRICT);
    assert_eq!(
        o["tasks"][1]["tasks"][0],
        "Sơ kết mô hình khuyến học ở Quỳnh Phụ."
    );

    let (_, elsewhere) = app
        .login(OTHER_COMMUNE)
        .get(&format!("/api/v1/rounds/{id}"));
    assert_eq!(
        elsewhere["orientation"]["tasks"].as_array().unwrap().len(),
        1
    );

    // Only a board adds tasks, and only for itself.
    let commune = app.login(COMMUNE);
    assert_eq!(
        commune
            .put(
                &format!("/api/v1/rounds/{id}/tasks/{COMMUNE}"),
                &json!({ "tasks": ["x"] })
            )
            .0,
        403
    );
    assert_eq!(
        district
            .put(
                &format!("/api/v1/rounds/{id}/tasks/{OTHER_DISTRICT}"),
                &json!({ "tasks": ["x"] })
            )
            .0,
        403
    );
    let (status, err) = district.put(&tasks, &json!({ "tasks": ["ư".repeat(1001)] }));
    assert_eq!(status, 422, "{err}");
}

#[test]
fn deadlines_are_judged_at_midnight_vietnam_time() {
    let app = TestApp::spawn();
    let province = app.login(PROVINCE);
    let id = open_q2(&app, &province, json!({}));
    let commune = app.login(COMMUNE);
    let late = app.login(COMMUNE_2);

    // Three days ahead: nothing yet. Two days ahead: a reminder.
    app.set_vietnam_time(2026, 6, 13, 9, 0, 0);
    let (_, list) = commune.get("/api/v1/rounds");
    let mine = list["rounds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap()
        .clone();
    assert!(mine["due"].is_null(), "{mine}");
    app.set_vietnam_time(2026, 6, 15, 9, 0, 0);
    let (_, list) = commune.get("/api/v1/rounds");
    let mine = list["rounds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(mine["due"]["overdue"], false);
    assert_eq!(mine["due"]["days"], 2);

    // 23:59:30 on 17/06 in Vietnam (16:59:30 UTC): on time.
    let path = |u: &str| format!("/api/v1/rounds/{id}/reports/{u}");
    for (client, unit) in [(&commune, COMMUNE), (&late, COMMUNE_2)] {
        let (status, _) = client.put(
            &path(unit),
            &json!({ "values": full_values(8), "sections": full_sections(), "version": 0 }),
        );
        assert_eq!(status, 200);
    }
    app.set_vietnam_time(2026, 6, 17, 23, 59, 30);
    let (status, _) = commune.post(&format!("{}/submit", path(COMMUNE)), &json!({}));
    assert_eq!(status, 200);
    // 00:00:30 on 18/06 in Vietnam, still 17/06 in UTC: late.
    app.set_vietnam_time(2026, 6, 18, 0, 0, 30);
    let (_, report) = late.get(&path(COMMUNE_2));
    assert_eq!(report["due"]["overdue"], true);
    let (status, _) = late.post(&format!("{}/submit", path(COMMUNE_2)), &json!({}));
    assert_eq!(status, 200);

    let district = app.login(DISTRICT);
    let (_, view) = district.get(&format!(
        "/api/v1/rounds/{id}/rollup/{DISTRICT}?provisional=true"
    ));
    let row = |code: &str| {
        view["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["unit"]["code"] == code)
            .unwrap()
            .clone()
    };
    assert_eq!(row(COMMUNE)["on_time"], true);
    assert_eq!(row(COMMUNE_2)["on_time"], false);
    let c = &view["total"]["completeness"];
    assert_eq!(
        (
            c["on_time"].as_i64(),
            c["late"].as_i64(),
            c["missing"].as_i64()
        ),
        (Some(1), Some(1), Some(33))
    );

    // The overdue list: every commune still missing, none that filed; the district not yet.
    app.set_vietnam_time(2026, 6, 20, 8, 0, 0);
    let (status, overdue) = district.get(&format!("/api/v1/rounds/{id}/overdue/{DISTRICT}"));
    assert_eq!(status, 200);
    let list = overdue["overdue"].as_array().unwrap();
    assert_eq!(list.len(), 33);
    assert!(
        list.iter()
            .all(|o| o["unit"]["code"] != COMMUNE && o["unit"]["code"] != COMMUNE_2)
    );
    assert!(list.iter().all(|o| o["days_late"] == 3));
    let (_, top) = province.get(&format!("/api/v1/rounds/{id}/overdue/{PROVINCE}"));
    let top = top["overdue"].as_array().unwrap();
    assert_eq!(top.len(), 240, "every missing commune of the province");
    // After the district deadline, district boards that have not reported are overdue too.
    app.set_vietnam_time(2026, 6, 23, 8, 0, 0);
    let (_, top) = province.get(&format!("/api/v1/rounds/{id}/overdue/{PROVINCE}"));
    assert_eq!(top["overdue"].as_array().unwrap().len(), 248);
    assert_eq!(
        district
            .get(&format!("/api/v1/rounds/{id}/overdue/{PROVINCE}"))
            .0,
        403
    );
}
