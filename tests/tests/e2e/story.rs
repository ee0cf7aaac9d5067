//! The whole story over HTTP: a commune files, its district returns it, the commune fixes
//! and resubmits, the district accepts, consolidates and reports up, the province exports.

use serde_json::json;

use crate::export::read_summary;
use crate::helpers::*;

#[test]
fn a_commune_report_travels_from_draft_to_the_province_workbook() {
    let app = TestApp::spawn();
    let commune = app.login(COMMUNE);
    let district = app.login(DISTRICT);
    let province = app.login(PROVINCE);
    let path = app.report_path(COMMUNE);

    // The commune sees the round, with its own report not started.
    let (status, rounds) = commune.get("/api/v1/rounds");
    assert_eq!(status, 200);
    let round = &rounds["rounds"][0];
    assert_eq!(round["id"], app.round_id);
    assert_eq!(round["my_status"], "not_started");

    // A draft with part of the values.
    let (status, draft) = commune.put(
        &path,
        &json!({ "values": { "so_thanh_vien": 9, "so_nu": 4 }, "sections": {}, "version": 0 }),
    );
    assert_eq!(status, 200, "{draft}");
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["version"], 1);
    assert_eq!(draft["values"]["so_thanh_vien"], 9);

    // Submitting an incomplete draft names every missing required field, and changes nothing.
    let (status, refused) = commune.post_empty(&format!("{path}/submit"));
    assert_eq!(status, 422, "{refused}");
    let fields: Vec<&str> = refused["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"so_kiem_nhiem"), "{fields:?}");
    assert!(fields.contains(&"ket_qua"), "{fields:?}");
    assert!(
        refused["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains('«')
    );
    let (_, unchanged) = commune.get(&path);
    assert_eq!(unchanged["status"], "draft");
    assert_eq!(unchanged["version"], 1);

    // The full report, submitted.
    let submitted = file_report(&app, &commune, COMMUNE, 10);
    assert_eq!(submitted["version"], 3);
    assert!(submitted["first_submitted_at"].is_string());
    assert_eq!(submitted["can_edit"], false);

    // The district returns it with a reason.
    let (status, returned) = district.post(
        &format!("{path}/return"),
        &json!({ "reason": "Số thành viên nữ chưa khớp với danh sách Tổ, đề nghị rà soát." }),
    );
    assert_eq!(status, 200, "{returned}");
    assert_eq!(returned["status"], "returned");

    // The commune reads the reason, fixes the figure and resubmits.
    let (_, seen) = commune.get(&path);
    assert_eq!(seen["status"], "returned");
    assert!(
        seen["return_reason"]
            .as_str()
            .unwrap()
            .contains("thành viên nữ")
    );
    assert_eq!(seen["can_edit"], true);
    let mut values = full_values(10);
    values["so_nu"] = json!(6);
    let (status, fixed) = commune.put(
        &path,
        &json!({ "values": values, "sections": full_sections(), "version": seen["version"] }),
    );
    assert_eq!(status, 200, "{fixed}");
    let (status, again) = commune.post(
        &format!("{path}/submit"),
        &json!({ "version": fixed["version"] }),
    );
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["status"], "submitted");

    // Before acceptance the district's consolidation counts nothing, unless provisional.
    let rollup = format!("/api/v1/rounds/{}/rollup/{DISTRICT}", app.round_id);
    let (_, firm) = district.get(&rollup);
    assert_eq!(firm["total"]["reports"], 0);
    let (_, provisional) = district.get(&format!("{rollup}?provisional=true"));
    assert_eq!(provisional["total"]["reports"], 1);
    assert_eq!(provisional["provisional"], true);

    // The district accepts; a second commune files and is accepted too.
    let (status, accepted) = district.post_empty(&format!("{path}/accept"));
    assert_eq!(status, 200, "{accepted}");
    assert_eq!(accepted["status"], "accepted");
    let commune_2 = app.login(COMMUNE_2);
    file_report(&app, &commune_2, COMMUNE_2, 7);
    let (status, _) = district.post_empty(&format!("{}/accept", app.report_path(COMMUNE_2)));
    assert_eq!(status, 200);

    // Consolidated: members summed, ratios recomputed from the sums, completeness counted.
    let (status, view) = district.get(&rollup);
    assert_eq!(status, 200, "{view}");
    let total = &view["total"];
    assert_eq!(total["reports"], 2);
    assert_eq!(total["values"]["so_thanh_vien"], 17.0);
    assert_eq!(total["values"]["so_nu"], 6.0 + 3.0);
    // (9 + 6) part-time of 17 members.
    let ratio = total["values"]["ty_le_kiem_nhiem"].as_f64().unwrap();
    assert!((ratio - 15.0 / 17.0 * 100.0).abs() < 1e-9, "{ratio}");
    assert_eq!(total["values"]["sk_nq03_y_te"], 2.0);
    assert_eq!(total["values"]["muc_do_hoan_thanh"]["tot"], 2);
    assert_eq!(total["completeness"]["expected"], 35);
    assert_eq!(total["completeness"]["accepted"], 2);
    assert_eq!(total["completeness"]["on_time"], 2);
    assert_eq!(total["completeness"]["missing"], 33);
    let row = view["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit"]["code"] == COMMUNE)
        .unwrap();
    assert_eq!(row["values"]["so_thanh_vien"], 10.0);
    assert!(
        row["sections"]["ket_qua"]
            .as_str()
            .unwrap()
            .contains("tuyên truyền")
    );

    // The district writes its own report: narrative only; the figures are its consolidation.
    let own = app.report_path(DISTRICT);
    let (status, refused) = district.put(
        &own,
        &json!({ "values": { "so_thanh_vien": 3 }, "sections": full_sections(), "version": 0 }),
    );
    assert_eq!(status, 422, "{refused}");
    let (status, saved) = district.put(&own, &json!({ "sections": full_sections(), "version": 0 }));
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["consolidated"], true);
    let (status, sent) = district.post(&format!("{own}/submit"), &json!({ "version": 1 }));
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["status"], "submitted");
    assert_eq!(sent["values"]["so_thanh_vien"], 17.0);

    // The province sees the district's report and the communes in its rollup, and accepts.
    let (status, accepted) = province.post_empty(&format!("{own}/accept"));
    assert_eq!(status, 200, "{accepted}");
    let (_, top) = province.get(&format!(
        "/api/v1/rounds/{}/rollup/{PROVINCE}",
        app.round_id
    ));
    assert_eq!(top["total"]["values"]["so_thanh_vien"], 17.0);
    assert_eq!(top["total"]["completeness"]["expected"], 242);
    let district_row = top["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit"]["code"] == DISTRICT)
        .unwrap();
    assert_eq!(district_row["status"], "accepted");
    assert_eq!(district_row["completeness"]["submitted"], 2);

    // The province downloads the workbook; its totals are what was filed.
    let (status, ctype, bytes) = province.get_bytes(&format!(
        "/api/v1/rounds/{}/export/{PROVINCE}.xlsx",
        app.round_id
    ));
    assert_eq!(status, 200);
    assert!(ctype.contains("spreadsheetml"), "{ctype}");
    let summary = read_summary(&bytes);
    assert_eq!(summary.total("so_thanh_vien"), 17.0);
    assert_eq!(summary.total("so_nu"), 9.0);
    assert_eq!(summary.row("Huyện Quỳnh Phụ", "so_thanh_vien"), 17.0);
}
