//! The approval chain: a locked report, its reopening by its reviewer with a reason, the
//! history of every change, and a consolidation sent up before every child was accepted.

use serde_json::json;

use crate::helpers::*;

#[test]
fn only_the_reviewer_reopens_an_accepted_report_and_only_with_a_reason() {
    let app = TestApp::spawn();
    let commune = app.login(COMMUNE);
    file_report(&app, &commune, COMMUNE, 8);
    let path = app.report_path(COMMUNE);
    let district = app.login(DISTRICT);
    assert_eq!(
        district
            .post(
                &format!("{path}/reopen"),
                &json!({ "reason": "Sửa số liệu." })
            )
            .0,
        409,
        "not accepted yet"
    );
    let (_, accepted) = district.post_empty(&format!("{path}/accept"));
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["can_reopen"], true);

    // Locked: the commune cannot edit or reopen it; strangers cannot reopen it.
    let (status, _) = commune.put(
        &path,
        &json!({ "values": full_values(9), "version": accepted["version"] }),
    );
    assert_eq!(status, 409);
    assert_eq!(
        commune
            .post(
                &format!("{path}/reopen"),
                &json!({ "reason": "Xin sửa lại." })
            )
            .0,
        403
    );
    assert_eq!(
        app.login(OTHER_DISTRICT)
            .post(
                &format!("{path}/reopen"),
                &json!({ "reason": "Xin sửa lại." })
            )
            .0,
        403
    );
    assert_eq!(
        app.login(PROVINCE)
            .post(
                &format!("{path}/reopen"),
                &json!({ "reason": "Xin sửa lại." })
            )
            .0,
        403
    );
    let (status, err) = district.post(&format!("{path}/reopen"), &json!({ "reason": "" }));
    assert_eq!(status, 422, "{err}");
    assert!(
        err["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("lý do mở lại")
    );

    // Reopened with a reason: the commune reads it, corrects and resubmits.
    let (status, reopened) = district.post(
        &format!("{path}/reopen"),
        &json!({ "reason": "Huyện phát hiện số thành viên nữ chưa đúng, đề nghị sửa." }),
    );
    assert_eq!(status, 200, "{reopened}");
    let (_, seen) = commune.get(&path);
    assert_eq!(seen["status"], "returned");
    assert_eq!(seen["can_edit"], true);
    assert!(
        seen["return_reason"]
            .as_str()
            .unwrap()
            .contains("chưa đúng")
    );
    let mut values = full_values(8);
    values["so_nu"] = json!(3);
    let (status, saved) = commune.put(
        &path,
        &json!({ "values": values, "sections": full_sections(), "version": seen["version"] }),
    );
    assert_eq!(status, 200, "{saved}");
    assert_eq!(
        commune
            .post(
                &format!("{path}/submit"),
                &json!({ "version": saved["version"] })
            )
            .0,
        200
    );
    assert_eq!(district.post_empty(&format!("{path}/accept")).0, 200);
}

#[test]
fn the_history_shows_every_step_and_which_values_changed_from_what_to_what() {
    let app = TestApp::spawn();
    let commune = app.login(COMMUNE);
    let path = app.report_path(COMMUNE);
    let (_, v1) = commune.put(&path, &json!({ "values": { "so_thanh_vien": 9, "so_nu": 4, "co_to_truong": true }, "version": 0 }));
    let (_, v2) = commune.put(
        &path,
        &json!({ "values": { "so_thanh_vien": 9, "so_nu": 6, "co_to_truong": false }, "sections": { "ket_qua": "Đã họp 3 lần." }, "version": v1["version"] }),
    );
    let (status, _) = commune.put(
        &path,
        &json!({ "values": full_values(9), "sections": full_sections(), "version": v2["version"] }),
    );
    assert_eq!(status, 200);
    assert_eq!(commune.post_empty(&format!("{path}/submit")).0, 200);
    let district = app.login(DISTRICT);
    district.post(
        &format!("{path}/return"),
        &json!({ "reason": "Bổ sung phần tồn tại, hạn chế." }),
    );

    let (status, body) = district.get(&format!("{path}/history"));
    assert_eq!(status, 200);
    let entries = body["history"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["save_draft", "save_draft", "save_draft", "submit", "return"]
    );
    assert!(entries[0]["actor"].as_str().unwrap().contains("Xã An Khê"));
    let second = &entries[1]["changes"];
    let change = |field: &str| {
        second
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["field"] == field)
            .unwrap()
            .clone()
    };
    let so_nu = change("values.so_nu");
    assert_eq!(
        (so_nu["from"].as_i64(), so_nu["to"].as_i64()),
        (Some(4), Some(6))
    );
    assert_eq!(so_nu["label"], "Số thành viên nữ");
    let leader = change("values.co_to_truong");
    assert_eq!(
        (leader["from_text"].as_str(), leader["to_text"].as_str()),
        (Some("Có"), Some("Không"))
    );
    let text = change("sections.ket_qua");
    assert_eq!(text["from_text"], "(trống)");
    assert_eq!(text["label"], "Kết quả đạt được");
    assert_eq!(entries[3]["changes"][0]["to_text"], "Đã nộp, chờ tiếp nhận");
    assert_eq!(entries[4]["reason"], "Bổ sung phần tồn tại, hạn chế.");
    assert!(entries[4]["actor"].as_str().unwrap().contains("Quỳnh Phụ"));

    // Whoever may read the report may read its history; nobody else.
    assert_eq!(app.login(PROVINCE).get(&format!("{path}/history")).0, 200);
    assert_eq!(app.login(COMMUNE_2).get(&format!("{path}/history")).0, 403);
}

#[test]
fn a_district_may_report_up_early_with_the_missing_and_unaccepted_communes_listed() {
    let app = TestApp::spawn();
    let district = app.login(DISTRICT);
    file_report(&app, &app.login(COMMUNE), COMMUNE, 8);
    file_report(&app, &app.login(COMMUNE_2), COMMUNE_2, 6);
    district.post_empty(&format!("{}/accept", app.report_path(COMMUNE)));

    let own = app.report_path(DISTRICT);
    let (_, saved) = district.put(&own, &json!({ "sections": full_sections(), "version": 0 }));
    let (status, sent) = district.post(
        &format!("{own}/submit"),
        &json!({ "version": saved["version"] }),
    );
    assert_eq!(status, 200, "{sent}");
    let included = &sent["included"];
    assert_eq!(included["accepted"].as_array().unwrap().len(), 1);
    assert_eq!(included["accepted"][0]["code"], COMMUNE);
    assert_eq!(included["pending"][0]["code"], COMMUNE_2);
    assert_eq!(included["missing"].as_array().unwrap().len(), 33);
    // Only what was accepted is in its figures.
    assert_eq!(sent["values"]["so_thanh_vien"], 8.0);

    let (_, seen) = app.login(PROVINCE).get(&own);
    assert_eq!(seen["included"], sent["included"]);
}

#[test]
fn a_save_that_changes_no_figure_lists_none_as_changed() {
    let app = TestApp::spawn();
    let commune = app.login(COMMUNE);
    let path = app.report_path(COMMUNE);
    // Whole numbers, decimals (85.0, 12.5), yes or no, a choice: each compared as stored.
    let (_, first) = commune.put(
        &path,
        &json!({ "values": full_values(9), "sections": full_sections(), "version": 0 }),
    );
    let mut sections = full_sections();
    sections["ket_qua"] = json!("Đã họp 4 lần.");
    let (status, _) = commune.put(
        &path,
        &json!({ "values": full_values(9), "sections": sections, "version": first["version"] }),
    );
    assert_eq!(status, 200);
    let (_, body) = commune.get(&format!("{path}/history"));
    let entries = body["history"].as_array().unwrap();
    let fields: Vec<&str> = entries[1]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["sections.ket_qua"], "{body}");
}
