//! Data-quality flags on a constructed history: three earlier years of steady attendance,
//! then a year with an extra zero typed. The flag reaches the filer while filling, the
//! reviewer beside the value, and the board's list; steady figures raise none.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::pages::page_login;

const KEY: &str = "luot_nguoi_nghe";

fn open_year(province: &Client, year: i32) -> i64 {
    let (status, created) = province.post(
        "/api/v1/rounds",
        &json!({ "template": "dinh-ky", "period_type": "year", "year": year,
                 "commune_deadline": "2099-01-01", "district_deadline": "2099-01-05" }),
    );
    assert_eq!(status, 201, "{created}");
    created["id"].as_i64().unwrap()
}

/// Files the commune's report with `attendance`, as a draft; returns the saved report as
/// it is read back (the flags are a reading of it: the answer to the save has none).
fn draft(client: &Client, round: i64, attendance: i64, version: &Value) -> Value {
    let mut values = full_values(7);
    values[KEY] = json!(attendance);
    let path = format!("/api/v1/rounds/{round}/reports/{COMMUNE}");
    let (status, saved) = client.put(
        &path,
        &json!({ "values": values, "sections": full_sections(), "version": version }),
    );
    assert_eq!(status, 200, "{saved}");
    assert!(saved.get("flags").is_none(), "{saved}");
    let (status, read) = client.get(&path);
    assert_eq!(status, 200, "{read}");
    read
}

fn flags_of(report: &Value) -> Vec<String> {
    report["flags"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["field"] == KEY)
        .map(|f| f["message"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_jump_against_the_communes_own_years_is_flagged_where_it_is_read_and_steady_data_is_not() {
    let app = TestApp::spawn();
    let province = app.login(PROVINCE);
    let commune = app.login(COMMUNE);
    let district = app.login(DISTRICT);
    // Three earlier years, accepted: 340, 350, 360.
    for (year, attendance) in [(2022, 340), (2023, 350), (2024, 360)] {
        let round = open_year(&province, year);
        let saved = draft(&commune, round, attendance, &json!(0));
        assert!(flags_of(&saved).is_empty(), "{year}: too little history");
        let path = format!("/api/v1/rounds/{round}/reports/{COMMUNE}");
        let (status, _) = commune.post(
            &format!("{path}/submit"),
            &json!({ "version": saved["version"] }),
        );
        assert_eq!(status, 200);
        let (status, _) = district.post(&format!("{path}/accept"), &json!({}));
        assert_eq!(status, 200);
    }

    // This year an extra zero: 3,600. The commune sees the question while filling.
    let round = app.round_id;
    let saved = draft(&commune, round, 3600, &json!(0));
    let flags = flags_of(&saved);
    assert_eq!(flags.len(), 1, "{saved}");
    assert!(
        flags[0].starts_with("Cao gấp 10 lần kỳ trước: 3.600 so với 360 (năm 2024)"),
        "{}",
        flags[0]
    );
    assert!(
        flags[0].contains("trung vị 3 kỳ trước cùng loại là 350"),
        "{}",
        flags[0]
    );
    let page = page_login(&app, COMMUNE);
    let (_, _, html) = page.page(&format!("/ky-bao-cao/{round}/bao-cao/{COMMUNE}"));
    assert!(
        html.contains(&format!("id=\"fl-{KEY}\"")),
        "the form shows it"
    );

    // A flag never blocks: the report goes up; the reviewer sees it beside the value, and the
    // board's list of unusual figures names the commune.
    let (status, _) = commune.post(
        &format!("/api/v1/rounds/{round}/reports/{COMMUNE}/submit"),
        &json!({ "version": saved["version"] }),
    );
    assert_eq!(status, 200);
    let board = page_login(&app, DISTRICT);
    let (_, _, html) = board.page(&format!("/ky-bao-cao/{round}/bao-cao/{COMMUNE}"));
    let at = html
        .find(&format!("id=\"fl-{KEY}\""))
        .expect("the reviewer sees it");
    assert!(html[at..].contains("Cao gấp 10 lần kỳ trước"));
    let (_, list) = district.get(&format!("/api/v1/rounds/{round}/quality/{DISTRICT}"));
    let listed = list["flags"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{list}");
    assert_eq!(listed[0]["unit"]["code"], COMMUNE);
    assert_eq!(listed[0]["against"], "history");
    let (status, _, html) = board.page(&format!("/ky-bao-cao/{round}/chat-luong/{DISTRICT}"));
    assert_eq!(status, 200);
    assert!(html.contains("1 số liệu khác thường ở 1 đơn vị"), "{html}");
    assert!(html.contains("Xã An Khê"));
    // Another district's board cannot read this district's list.
    let (status, _) = app
        .login(OTHER_DISTRICT)
        .get(&format!("/api/v1/rounds/{round}/quality/{DISTRICT}"));
    assert_eq!(status, 403);

    // Returned and mended to a steady figure: no flag anywhere.
    let (_, returned) = district.post(
        &format!("/api/v1/rounds/{round}/reports/{COMMUNE}/return"),
        &json!({ "reason": "Kiểm tra lại số lượt người nghe." }),
    );
    let saved = draft(&commune, round, 380, &returned["version"]);
    assert!(flags_of(&saved).is_empty(), "{saved}");
    let (_, list) = district.get(&format!("/api/v1/rounds/{round}/quality/{DISTRICT}"));
    assert!(list["flags"].as_array().unwrap().is_empty(), "{list}");
}
