//! Nothing typed is lost: a half-finished report is parked as a draft with its broken rules
//! and empty required fields, which the draft shows beside the fields; only submitting needs
//! them solved. A value that is no valid figure is still refused, with everything typed kept.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::pages::{form_fields, page_login};

fn problems_of(report: &Value) -> Vec<(String, String)> {
    report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["field"].as_str().unwrap().to_owned(),
                p["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

const RULE: &str =
    "Số thành viên có trình độ đại học trở lên không được vượt quá số thành viên của Tổ.";

#[test]
fn a_draft_is_parked_with_its_broken_rules_and_empty_fields_and_only_submitting_needs_them() {
    let app = TestApp::spawn();
    let commune = app.login(COMMUNE);
    let path = app.report_path(COMMUNE);

    // Through the API: half a report with a broken rule is stored as it is.
    let (status, draft) = commune.put(
        &path,
        &json!({ "values": { "so_thanh_vien": 5, "so_dai_hoc": "6" }, "version": 0 }),
    );
    assert_eq!(status, 200, "{draft}");
    assert_eq!(
        draft["values"],
        json!({ "so_thanh_vien": 5, "so_dai_hoc": 6 })
    );
    let problems = problems_of(&draft);
    assert!(
        problems.contains(&("so_dai_hoc".into(), RULE.into())),
        "{problems:?}"
    );
    assert!(problems.contains(&("so_nu".into(), "Chưa nhập «Số thành viên nữ».".into())));
    assert!(problems.contains(&("ket_qua".into(), "Chưa nhập «Kết quả đạt được».".into())));
    // Submitting is what needs them solved.
    let (status, err) = commune.post_empty(&format!("{path}/submit"));
    assert_eq!(status, 422, "{err}");
    assert!(
        err["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["message"] == RULE)
    );
    assert_eq!(commune.get(&path).1["status"], "draft");

    // The page shows each problem beside its field, and a summary that counts and links them.
    let page = page_login(&app, COMMUNE);
    let address = format!("/ky-bao-cao/{}/bao-cao/{COMMUNE}", app.round_id);
    let (status, _, html) = page.page(&address);
    assert_eq!(status, 200);
    assert!(html.contains(&format!(
        "Bản nháp đã được lưu. Còn {} vấn đề phải giải quyết trước khi nộp:",
        problems.len()
    )));
    assert!(html.contains(&format!("<a href=\"#v-so_dai_hoc\">{RULE}</a>")));
    assert!(html.contains(&format!(
        "<p class=\"problem-text\" id=\"pb-so_dai_hoc\">{RULE}</p>"
    )));
    assert!(html.contains("class=\"field has-problem\" id=\"field-so_dai_hoc\""));
    assert!(html.contains("<a href=\"#s-ket_qua\">Chưa nhập «Kết quả đạt được».</a>"));
    // A draft's problems are no error: the summary does not take the focus from the form.
    assert!(!html.contains("role=\"alert\" autofocus"));

    // The whole form typed on the page, the rule still broken: "save" parks it ...
    let mut values = full_values(5);
    values["so_dai_hoc"] = json!(6);
    let version = commune.get(&path).1["version"].to_string();
    let mut fields = form_fields(&values);
    fields.push(("version".into(), version));
    fields.push(("action".into(), "save".into()));
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let (status, location, _) = page.post_form(&address, &borrowed);
    assert_eq!(
        (status, location.as_str()),
        (303, format!("{address}?ok=luu").as_str())
    );
    let (_, stored) = commune.get(&path);
    assert_eq!(stored["values"]["so_dai_hoc"], 6);
    assert_eq!(
        problems_of(&stored),
        [("so_dai_hoc".to_owned(), RULE.to_owned())]
    );

    // ... and "submit" saves it too but goes no further, saying why beside the field.
    let version = stored["version"].to_string();
    let mut fields = form_fields(&values);
    fields.push(("version".into(), version));
    fields.push(("action".into(), "submit".into()));
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let (status, _, html) = page.post_form(&address, &borrowed);
    assert_eq!(status, 422);
    assert!(
        html.contains("Bản nháp đã được lưu nhưng chưa nộp được: còn 1 vấn đề phải giải quyết.")
    );
    assert!(html.contains(&format!(
        "<p class=\"error-text\" id=\"err-so_dai_hoc\">{RULE}</p>"
    )));
    assert!(
        html.contains("value=\"6\""),
        "what was typed is on the page"
    );
    // The confirmation page is not offered while problems remain, nor can it be forged past.
    let (status, location, _) = page.page(&format!("{address}/nop"));
    assert_eq!((status, location.as_str()), (303, address.as_str()));
    let version = commune.get(&path).1["version"].to_string();
    let (status, _, html) = page.post_form(
        &format!("{address}/nop"),
        &[("version", version.as_str()), ("confirm", "1")],
    );
    assert_eq!(status, 422);
    assert!(html.contains(RULE));
    assert_eq!(commune.get(&path).1["status"], "draft");

    // Solved, it is submitted once confirmed.
    values["so_dai_hoc"] = json!(3);
    let mut fields = form_fields(&values);
    fields.push(("version".into(), version));
    fields.push(("action".into(), "submit".into()));
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let (status, location, _) = page.post_form(&address, &borrowed);
    assert_eq!(
        (status, location.as_str()),
        (303, format!("{address}/nop").as_str())
    );
    let version = commune.get(&path).1["version"].to_string();
    // Without the confirmation nothing is submitted: the question is asked again.
    let (status, location, _) =
        page.post_form(&format!("{address}/nop"), &[("version", version.as_str())]);
    assert_eq!(
        (status, location.as_str()),
        (303, format!("{address}/nop").as_str())
    );
    assert_eq!(commune.get(&path).1["status"], "draft");
    let (status, _, _) = page.post_form(
        &format!("{address}/nop"),
        &[("version", version.as_str()), ("confirm", "1")],
    );
    assert_eq!(status, 303);
    let (_, submitted) = commune.get(&path);
    assert_eq!(submitted["status"], "submitted");
    assert_eq!(submitted["problems"], json!([]));
}

#[test]
fn a_warning_rule_is_shown_to_the_filer_and_the_reviewer_and_never_blocks() {
    let app = TestApp::spawn();
    let commune = app.login(COMMUNE);
    let path = app.report_path(COMMUNE);
    let mut values = full_values(7);
    values["diem_tu_cham"] = json!("95");
    values["muc_do_hoan_thanh"] = json!("khong_hoan_thanh");
    let (status, saved) = commune.put(
        &path,
        &json!({ "values": values, "sections": full_sections(), "version": 0 }),
    );
    assert_eq!(status, 200, "{saved}");
    let warning = &saved["warnings"][0];
    assert_eq!(warning["field"], "diem_tu_cham", "{saved}");
    assert!(
        warning["message"]
            .as_str()
            .unwrap()
            .contains("Điểm tự chấm trên 90")
    );
    assert!(problems_of(&saved).is_empty(), "a warning is no problem");

    // The filer sees it beside the field while filling.
    let page = page_login(&app, COMMUNE);
    let (_, _, html) = page.page(&format!("/ky-bao-cao/{}/bao-cao/{COMMUNE}", app.round_id));
    assert!(html.contains("id=\"wn-diem_tu_cham\""), "{html}");

    // It never blocks: the report goes up, and the reviewer sees the same note beside the value.
    let (status, submitted) = commune.post(
        &format!("{path}/submit"),
        &json!({ "version": saved["version"] }),
    );
    assert_eq!(status, 200, "{submitted}");
    let district = page_login(&app, DISTRICT);
    let (_, _, html) = district.page(&format!("/ky-bao-cao/{}/bao-cao/{COMMUNE}", app.round_id));
    let at = html
        .find("id=\"wn-diem_tu_cham\"")
        .expect("the reviewer sees the warning");
    assert!(html[at..].contains("Điểm tự chấm trên 90"));

    // Mended, the warning is gone.
    let (_, returned) = app.login(DISTRICT).post(
        &format!("{path}/return"),
        &json!({ "reason": "Xem lại điểm tự chấm." }),
    );
    values["diem_tu_cham"] = json!("60");
    let (status, saved) = commune.put(
        &path,
        &json!({ "values": values, "sections": full_sections(), "version": returned["version"] }),
    );
    assert_eq!(status, 200, "{saved}");
    assert!(
        saved
            .get("warnings")
            .is_none_or(|w| w.as_array().unwrap().is_empty()),
        "{saved}"
    );
}

#[test]
fn a_reports_ratios_are_worked_out_from_its_figures_in_every_answer() {
    let app = TestApp::spawn();
    let commune = app.login(COMMUNE);
    let path = app.report_path(COMMUNE);
    let ratio = |report: &Value, key: &str| report["computed"][key].as_f64();
    let mut values = full_values(8);
    values["van_de_phat_sinh"] = json!(4);
    values["van_de_giai_quyet"] = json!(3);
    let (status, saved) = commune.put(
        &path,
        &json!({ "values": values, "sections": full_sections(), "version": 0 }),
    );
    assert_eq!(status, 200, "{saved}");
    // 3 of 4 problems solved, 7 of 8 members holding another post.
    assert_eq!(ratio(&saved, "ty_le_giai_quyet"), Some(75.0), "{saved}");
    assert_eq!(ratio(&saved, "ty_le_kiem_nhiem"), Some(87.5), "{saved}");
    let (_, read) = commune.get(&path);
    assert_eq!(read["computed"], saved["computed"], "{read}");

    // Saved again with nothing reported, the ratio has no value; the others are worked out anew.
    values["van_de_phat_sinh"] = json!(0);
    values["van_de_giai_quyet"] = json!(0);
    values["so_kiem_nhiem"] = json!(2);
    // And a warning rule broken: shown in every answer alike.
    values["diem_tu_cham"] = json!("95");
    values["muc_do_hoan_thanh"] = json!("khong_hoan_thanh");
    let (status, saved) = commune.put(
        &path,
        &json!({ "values": values, "sections": full_sections(), "version": saved["version"] }),
    );
    assert_eq!(status, 200, "{saved}");
    assert_eq!(
        saved["computed"]["ty_le_giai_quyet"],
        Value::Null,
        "{saved}"
    );
    assert_eq!(ratio(&saved, "ty_le_kiem_nhiem"), Some(25.0), "{saved}");
    assert_eq!(saved["warnings"][0]["field"], "diem_tu_cham", "{saved}");
    let (status, submitted) = commune.post(
        &format!("{path}/submit"),
        &json!({ "version": saved["version"] }),
    );
    assert_eq!(status, 200, "{submitted}");
    assert_eq!(submitted["computed"], saved["computed"], "{submitted}");
    assert_eq!(submitted["warnings"], saved["warnings"], "{submitted}");
    let (_, read) = commune.get(&path);
    assert_eq!(read["computed"], saved["computed"], "{read}");
    assert_eq!(read["warnings"], saved["warnings"], "{read}");
    assert_eq!(read["values"], submitted["values"], "{read}");
    assert_eq!(read["sections"], submitted["sections"], "{read}");
}
