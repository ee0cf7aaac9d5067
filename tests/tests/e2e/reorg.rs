//! A hierarchy that changes: the 2025 reorganisation (Thái Bình into Hưng Yên, no more
//! districts, 242 communes into 65) leaves older rounds as they were and gives later rounds
//! the new two-level tree; accounts follow their communes; nothing filed is lost.

use serde_json::{Value, json};

use crate::helpers::*;

/// A.Sào (12499) is where Xã An Khê and Xã An Đồng went.
const MERGED: &str = "12499";
const NEW_PROVINCE: &str = "33";

fn open_round(province: &Client, body: Value) -> i64 {
    let (status, created) = province.post("/api/v1/rounds", &body);
    assert_eq!(status, 201, "{created}");
    created["id"].as_i64().unwrap()
}

fn file_in(client: &Client, round: i64, unit: &str, members: i64) {
    let path = format!("/api/v1/rounds/{round}/reports/{unit}");
    let (status, saved) = client.put(
        &path,
        &json!({ "values": full_values(members), "sections": full_sections(), "version": 0 }),
    );
    assert_eq!(status, 200, "{saved}");
    let (status, sent) = client.post(&format!("{path}/submit"), &json!({}));
    assert_eq!(status, 200, "{sent}");
}

#[test]
fn a_2024_round_keeps_its_structure_and_rollup_after_the_2025_reorganisation() {
    let app = TestApp::spawn();
    let province = app.login(PROVINCE);
    let r2024 = open_round(
        &province,
        json!({ "template": "dinh-ky", "period_type": "year", "year": 2024,
                "commune_deadline": "2099-01-01", "district_deadline": "2099-01-05" }),
    );
    let district = app.login(DISTRICT);
    for (unit, members) in [(COMMUNE, 8), (COMMUNE_2, 6)] {
        file_in(&app.login(unit), r2024, unit, members);
        let (status, _) =
            district.post_empty(&format!("/api/v1/rounds/{r2024}/reports/{unit}/accept"));
        assert_eq!(status, 200);
    }
    file_in(&app.login(OTHER_COMMUNE), r2024, OTHER_COMMUNE, 5);
    app.login(OTHER_DISTRICT).post_empty(&format!(
        "/api/v1/rounds/{r2024}/reports/{OTHER_COMMUNE}/accept"
    ));
    let rollup = format!("/api/v1/rounds/{r2024}/rollup/{PROVINCE}");
    let (_, before) = province.get(&rollup);
    assert_eq!(before["total"]["values"]["so_thanh_vien"], 19.0);

    let summary = app.reorganise_2025();
    assert_eq!(summary.new_units, 66, "65 communes and the new province");
    assert_eq!(summary.closed_units, 251);

    // The same session, now of the Hưng Yên board, still reads the 2024 rollup, unchanged.
    let (status, after) = province.get(&rollup);
    assert_eq!(status, 200, "{after}");
    assert_eq!(after, before, "the 2024 rollup must not change");
    // The 2025 round, cut off after the change, consolidates over the new tree; 2024's keeps its own.
    crate::live::every_round_is_exact(&app);
    let (_, me) = province.get("/api/v1/me");
    assert_eq!(me["unit"]["code"], NEW_PROVINCE);
    let (status, _, bytes) =
        province.get_bytes(&format!("/api/v1/rounds/{r2024}/export/{PROVINCE}.xlsx"));
    assert_eq!(status, 200);
    assert_eq!(
        crate::export::read_summary(&bytes).total("so_thanh_vien"),
        19.0
    );

    // A merged commune's account moved to the new commune and still reads its 2024 report.
    let commune = app.login(COMMUNE);
    let (_, me) = commune.get("/api/v1/me");
    assert_eq!(me["unit"]["code"], MERGED);
    assert_eq!(me["unit"]["name"], "Xã A Sào");
    let (status, old) = commune.get(&format!("/api/v1/rounds/{r2024}/reports/{COMMUNE}"));
    assert_eq!(status, 200);
    assert_eq!(old["status"], "accepted");
    assert_eq!(old["values"]["so_thanh_vien"], 8);

    // A round after the change compares with 2024, the old communes summed into the new one.
    let q3 = open_round(
        &province,
        json!({ "template": "dinh-ky", "period_type": "quarter", "year": 2025, "index": 3 }),
    );
    let (status, cmp) = province.get(&format!(
        "/api/v1/rounds/{q3}/compare/{r2024}/{NEW_PROVINCE}"
    ));
    assert_eq!(status, 200, "{cmp}");
    assert!(cmp["note"].as_str().unwrap().contains("quy đổi"));
    // A quarter against a year: said, since their counts cover different lengths of time.
    assert!(
        cmp["kind_warning"]
            .as_str()
            .is_some_and(|w| w.contains("Hai kỳ khác loại")),
        "{cmp}"
    );
    assert_eq!(cmp["rows"].as_array().unwrap().len(), 65);
    let row = cmp["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit"]["code"] == MERGED)
        .unwrap()
        .clone();
    assert_eq!(
        row["other_values"]["so_thanh_vien"], 14.0,
        "An Khê 8 + An Đồng 6"
    );
    assert_eq!(row["other_reports"], 2);
    assert_eq!(cmp["total"]["other_values"]["so_thanh_vien"], 19.0);
    let (status, _, html) = province.page(&format!(
        "/ky-bao-cao/{q3}/so-sanh/{NEW_PROVINCE}?voi={r2024}&chi-tieu=so_thanh_vien"
    ));
    assert_eq!(status, 200);
    assert!(html.contains("quy đổi"));
    assert!(html.contains("id=\"kind-warning\""));
    assert!(html.contains("Xã A Sào"));
    crate::live::every_round_is_exact(&app);
}

#[test]
fn later_rounds_expect_the_new_units_and_completeness_never_exceeds_all() {
    let app = TestApp::spawn();
    // The year-2025 round (data to 14/12/2025) was opened by Thái Bình before the change;
    // Xã An Khê had filed in it already.
    let round = app.round_id;
    file_in(&app.login(COMMUNE), round, COMMUNE, 8);
    let province = app.login(PROVINCE);
    let summary = app.reorganise_2025();
    assert_eq!(
        summary.rounds_moved, 1,
        "the open 2025 round follows Thái Bình's successor"
    );

    let (status, view) = province.get(&format!("/api/v1/rounds/{round}/rollup/{NEW_PROVINCE}"));
    assert_eq!(status, 200, "{view}");
    crate::live::every_round_is_exact(&app);
    let c = &view["total"]["completeness"];
    assert_eq!(
        c["expected"], 65,
        "two levels: the province and its 65 communes"
    );
    assert!(c["submitted"].as_i64().unwrap() <= 65);
    assert!(
        view["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["leaf"] == true)
    );
    let (_, provisional) = province.get(&format!(
        "/api/v1/rounds/{round}/rollup/{NEW_PROVINCE}?provisional=true"
    ));
    assert!(
        provisional["total"]["completeness"]["submitted"]
            .as_i64()
            .unwrap()
            <= 65
    );

    // The report filed before the change is still there, readable.
    let commune = app.login(COMMUNE);
    let (status, old) = commune.get(&format!("/api/v1/rounds/{round}/reports/{COMMUNE}"));
    assert_eq!(status, 200, "{old}");
    assert_eq!(old["values"]["so_thanh_vien"], 8);
    assert_eq!(
        old["can_edit"], false,
        "Xã An Khê no longer files in this round"
    );

    // The merged commune files as the new unit; the province, its parent now, accepts.
    file_in(&commune, round, MERGED, 12);
    let (status, accepted) =
        province.post_empty(&format!("/api/v1/rounds/{round}/reports/{MERGED}/accept"));
    assert_eq!(status, 200, "{accepted}");
    let (_, view) = province.get(&format!("/api/v1/rounds/{round}/rollup/{NEW_PROVINCE}"));
    let c = &view["total"]["completeness"];
    assert_eq!(
        (c["expected"].as_i64(), c["accepted"].as_i64()),
        (Some(65), Some(1))
    );
    assert_eq!(view["total"]["values"]["so_thanh_vien"], 12.0);
    // A district board that no longer exists files nothing in it.
    let district = app.login(DISTRICT);
    let (status, _) = district.put(
        &format!("/api/v1/rounds/{round}/reports/{DISTRICT}"),
        &json!({ "sections": full_sections(), "version": 0 }),
    );
    assert!(status == 403 || status == 404, "{status}");
}
