//! Team rosters (point 1 of Công văn 409): kept by the commune, pre-filling the organisation
//! part of its report as of the round's cut-off, reviewed by district and province.

use serde_json::{Value, json};

use crate::helpers::*;

fn member(name: &str, position: &str, sex: &str, birth_year: i32, education: &str) -> Value {
    json!({
        "full_name": name, "position": position, "sex": sex, "birth_year": birth_year,
        "education": education, "theory": "trung_cap", "joined_on": "2020-01-01",
    })
}

/// The spawned round is the year 2025: its cut-off is 14/12/2025.
pub fn add_team(commune: &Client) {
    let path = format!("/api/v1/units/{COMMUNE}/members");
    for (i, m) in [
        member("Nguyễn Văn An", "to_truong", "nam", 1970, "dai_hoc"),
        member("Trần Thị Bình", "to_pho", "nu", 1985, "thac_si"),
        member("Lê Văn Cường", "thanh_vien", "nam", 1960, "trung_cap"),
        member("Phạm Thị Dung", "thanh_vien", "nu", 1990, "cao_dang"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut m = m;
        if i < 2 {
            m["other_post"] = json!("Cán bộ văn hóa - xã hội");
        }
        let (status, body) = commune.post(&path, &m);
        assert_eq!(status, 201, "{body}");
    }
    // One who left before the cut-off and one who joined after it do not count.
    let mut left = member("Vũ Văn Em", "thanh_vien", "nam", 1975, "dai_hoc");
    left["left_on"] = json!("2025-03-01");
    assert_eq!(commune.post(&path, &left).0, 201);
    let mut late = member("Đỗ Thị Gấm", "thanh_vien", "nu", 1995, "dai_hoc");
    late["joined_on"] = json!("2025-12-20");
    assert_eq!(commune.post(&path, &late).0, 201);
}

#[test]
fn a_commune_keeps_its_roster_and_bad_entries_are_refused_by_field() {
    let app = TestApp::spawn();
    let commune = app.login(COMMUNE);
    let path = format!("/api/v1/units/{COMMUNE}/members");
    let mut bad = member("  ", "pho_chu_tich", "khac", 1800, "dai_hoc");
    bad["left_on"] = json!("2019-01-01");
    let (status, err) = commune.post(&path, &bad);
    assert_eq!(status, 422, "{err}");
    let fields: Vec<&str> = err["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    for f in ["full_name", "position", "sex", "birth_year", "left_on"] {
        assert!(fields.contains(&f), "{f} missing in {fields:?}");
    }
    let (_, list) = commune.get(&path);
    assert_eq!(
        list["members"].as_array().unwrap().len(),
        0,
        "nothing was saved"
    );

    add_team(&commune);
    let (_, list) = commune.get(&format!("{path}?date=2025-12-14"));
    let f = &list["figures"];
    assert_eq!(f["members"], 4);
    assert_eq!(f["part_time"], 2);
    assert_eq!(f["women"], 2);
    assert_eq!(f["degree"], 2);
    assert_eq!(f["over_60"], 1);
    assert_eq!(f["has_leader"], true);
    assert_eq!(
        list["members"][0]["full_name"], "Nguyễn Văn An",
        "the leader first"
    );

    // An edit without the version it was made on, or with a stale one, is refused; a fresh one
    // is kept.
    let id = list["members"][3]["id"].as_i64().unwrap();
    let mut edit = member("Phạm Thị Dung", "thanh_vien", "nu", 1990, "dai_hoc");
    let (status, err) = commune.put(&format!("{path}/{id}"), &edit);
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["fields"][0]["field"], "version", "{err}");
    edit["version"] = json!(7);
    assert_eq!(commune.put(&format!("{path}/{id}"), &edit).0, 409);
    edit["version"] = json!(1);
    let (status, saved) = commune.put(&format!("{path}/{id}"), &edit);
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["education"], "dai_hoc");

    // The district reads it; nobody but the commune changes it; strangers do not see it.
    let district = app.login(DISTRICT);
    assert_eq!(district.get(&path).0, 200);
    assert_eq!(
        district
            .post(&path, &member("X Y", "thanh_vien", "nam", 1980, "dai_hoc"))
            .0,
        403
    );
    assert_eq!(app.login(COMMUNE_2).get(&path).0, 403);
    assert_eq!(app.login(OTHER_DISTRICT).get(&path).0, 403);
}

#[test]
fn the_report_starts_from_the_roster_at_the_cut_off_and_a_change_needs_a_reason() {
    let app = TestApp::spawn();
    let commune = app.login(COMMUNE);
    add_team(&commune);
    let path = app.report_path(COMMUNE);
    let (_, report) = commune.get(&path);
    let prefill = &report["prefill"];
    assert_eq!(prefill["so_thanh_vien"], 4);
    assert_eq!(prefill["so_kiem_nhiem"], 2);
    assert_eq!(prefill["so_nu"], 2);
    assert_eq!(prefill["so_dai_hoc"], 2);
    assert_eq!(prefill["so_tren_60"], 1);
    assert_eq!(prefill["co_to_truong"], true);

    // The roster's figures go through as they are.
    let mut values = full_values(4);
    for (k, v) in prefill.as_object().unwrap() {
        values[k] = v.clone();
    }
    let (status, body) = commune.put(
        &path,
        &json!({ "values": values, "sections": full_sections(), "version": 0 }),
    );
    assert_eq!(status, 200, "{body}");

    // A different figure without a reason is kept as a draft, the missing reason named with the
    // roster's figure; the report cannot be submitted until it is given.
    values["so_thanh_vien"] = json!(5);
    let (status, draft) = commune.put(
        &path,
        &json!({ "values": values, "sections": full_sections(), "version": 1 }),
    );
    assert_eq!(status, 200, "{draft}");
    let problem = draft["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["field"] == "so_thanh_vien")
        .unwrap_or_else(|| panic!("{draft}"));
    let message = problem["message"].as_str().unwrap();
    assert!(
        message.contains("danh sách Tổ") && message.contains("(4)"),
        "{message}"
    );
    let (status, err) = commune.post(&format!("{path}/submit"), &json!({ "version": 2 }));
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["fields"][0]["field"], "so_thanh_vien");

    // With a reason it is kept, with the reason, in the report and in its history.
    let reason = "Một đồng chí mới được Đảng ủy phân công, chưa cập nhật danh sách.";
    let (status, saved) = commune.put(
        &path,
        &json!({ "values": values, "sections": full_sections(), "overrides": { "so_thanh_vien": reason }, "version": 2 }),
    );
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["values"]["so_thanh_vien"], 5);
    assert_eq!(saved["overrides"]["so_thanh_vien"], reason);
    let (_, history) = commune.get(&format!("{path}/history"));
    let change = history["history"][1]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == "values.so_thanh_vien")
        .unwrap()
        .clone();
    assert_eq!(change["from"], 4);
    assert_eq!(change["to"], 5);
}

#[test]
fn district_and_province_review_the_teams_and_see_which_need_attention() {
    let app = TestApp::spawn();
    let commune = app.login(COMMUNE);
    add_team(&commune);
    let small = app.login(COMMUNE_2);
    let (status, _) = small.post(
        &format!("/api/v1/units/{COMMUNE_2}/members"),
        &member("Bùi Văn Hải", "thanh_vien", "nam", 1980, "dai_hoc"),
    );
    assert_eq!(status, 201);

    let district = app.login(DISTRICT);
    let (status, review) = district.get(&format!("/api/v1/units/{DISTRICT}/teams?date=2025-12-14"));
    assert_eq!(status, 200, "{review}");
    let row = |code: &str| {
        review["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["unit"]["code"] == code)
            .unwrap()
            .clone()
    };
    assert_eq!(row(COMMUNE)["figures"]["members"], 4);
    assert_eq!(row(COMMUNE)["without_leader"], 0);
    assert_eq!(row(COMMUNE_2)["figures"]["members"], 1);
    assert_eq!(review["total"]["teams"], 35);
    assert_eq!(review["total"]["figures"]["members"], 5);
    let weak: Vec<&str> = review["weak"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["unit"]["code"].as_str().unwrap())
        .collect();
    assert!(weak.contains(&COMMUNE_2), "one member, no leader");
    assert!(!weak.contains(&COMMUNE));
    assert_eq!(weak.len(), 34);

    let province = app.login(PROVINCE);
    let (_, top) = province.get(&format!("/api/v1/units/{PROVINCE}/teams?date=2025-12-14"));
    assert_eq!(top["rows"].as_array().unwrap().len(), 8);
    assert_eq!(top["total"]["teams"], 242);
    assert_eq!(
        district.get(&format!("/api/v1/units/{PROVINCE}/teams")).0,
        403
    );
}
