//! A round as the offices run it after it is opened: its owner extends the deadlines once
//! reports are in (the filers see the new deadline and why), closes it once asked, reopens it;
//! each step in the round's history. Nobody else may.

use serde_json::json;

use crate::helpers::*;
use crate::pages::page_login;

fn dmy(d: chrono::NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

#[test]
fn the_owner_extends_the_deadlines_and_the_filers_see_them_and_why() {
    let app = TestApp::spawn();
    file_report(&app, &app.login(COMMUNE), COMMUNE, 8);
    let today = chrono::Utc::now().date_naive();
    let (old_commune, old_district) = (
        today + chrono::Duration::days(30),
        today + chrono::Duration::days(35),
    );
    let province = page_login(&app, PROVINCE);
    let address = format!("/ky-bao-cao/{}/gia-han", app.round_id);
    let (status, _, form) = province.page(&address);
    assert_eq!(status, 200);
    assert!(
        form.contains(&format!("value=\"{}\"", dmy(old_commune))),
        "{form}"
    );

    // Earlier than now is refused, by field, and nothing changes.
    let earlier = dmy(old_commune - chrono::Duration::days(1));
    let district = dmy(old_district);
    let (status, _, html) = province.post_form(
        &address,
        &[
            ("commune_deadline", earlier.as_str()),
            ("district_deadline", district.as_str()),
        ],
    );
    assert_eq!(status, 422);
    assert!(
        html.contains("Hạn mới của cấp xã không được sớm hơn hạn hiện tại"),
        "{html}"
    );
    assert!(
        html.contains(&format!("value=\"{earlier}\"")),
        "what was typed is kept"
    );

    // A week more for everyone, with the reason.
    let (new_commune, new_district) = (
        dmy(old_commune + chrono::Duration::days(7)),
        dmy(old_district + chrono::Duration::days(7)),
    );
    let reason = "Các xã đang tổ chức đại hội chi bộ.";
    let (status, location, _) = province.post_form(
        &address,
        &[
            ("commune_deadline", new_commune.as_str()),
            ("district_deadline", new_district.as_str()),
            ("reason", reason),
        ],
    );
    assert_eq!(status, 303);
    let (_, _, unit_page) = province.page(&location);
    assert!(unit_page.contains("Đã gia hạn nộp báo cáo"));
    assert!(unit_page.contains(&format!("Hạn nộp cấp xã: 23:59 ngày {}", new_commune)));
    // The round's history says who extended what, from and to, and why.
    assert!(
        unit_page.contains("Gia hạn nộp báo cáo</strong>"),
        "{unit_page}"
    );
    assert!(unit_page.contains(&format!(
        "Hạn nộp cấp xã: 23:59 ngày {} → 23:59 ngày {new_commune}",
        dmy(old_commune)
    )));
    assert!(unit_page.contains(&format!("Lý do: {reason}")));
    let (status, history) = app
        .login(PROVINCE)
        .get(&format!("/api/v1/rounds/{}/history", app.round_id));
    assert_eq!(status, 200);
    let actions: Vec<&str> = history["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["open_round", "extend_deadlines"]);

    // A commune still filing sees the new deadline, the old one and the reason.
    let other = page_login(&app, COMMUNE_2);
    let (_, _, report) = other.page(&format!("/ky-bao-cao/{}/bao-cao/{COMMUNE_2}", app.round_id));
    assert!(
        report.contains(&format!("Hạn nộp: 23:59 ngày {new_commune}")),
        "{report}"
    );
    assert!(report.contains(&format!(
        "(hạn cũ: 23:59 ngày {}). Lý do: {reason}",
        dmy(old_commune)
    )));
    let (_, view) = app.login(COMMUNE_2).get(&app.report_path(COMMUNE_2));
    assert!(
        view["deadline"].as_str().unwrap().starts_with(
            &(old_commune + chrono::Duration::days(7))
                .format("%Y-%m-%d")
                .to_string()
        )
    );

    // Nobody but the owner extends it, through the API either.
    let body = json!({ "commune_deadline": old_commune + chrono::Duration::days(20), "district_deadline": old_district + chrono::Duration::days(20) });
    let path = format!("/api/v1/rounds/{}/deadlines", app.round_id);
    assert_eq!(app.login(DISTRICT).post(&path, &body).0, 403);
    assert_eq!(app.login(COMMUNE).post(&path, &body).0, 403);
    assert_eq!(app.login(PROVINCE).post(&path, &body).0, 204);
}

#[test]
fn closing_a_round_is_confirmed_and_its_owner_reopens_it() {
    let app = TestApp::spawn();
    let province = page_login(&app, PROVINCE);
    let close = format!("/ky-bao-cao/{}/dong", app.round_id);
    // Asked first, with what is still missing; nothing closed yet.
    let (status, _, question) = province.post_form(&close, &[]);
    assert_eq!(status, 200);
    assert!(question.contains("Đóng kỳ báo cáo «"), "{question}");
    assert!(question.contains("đơn vị chưa nộp báo cáo."), "{question}");
    let round = format!("/api/v1/rounds/{}", app.round_id);
    let api = app.login(PROVINCE);
    assert_eq!(api.get(&round).1["status"], "open");
    let (status, _, _) = province.post_form(&close, &[("confirm", "1")]);
    assert_eq!(status, 303);
    assert_eq!(api.get(&round).1["status"], "closed");
    // Closed, a commune cannot save.
    let commune = app.login(COMMUNE);
    let (status, _) = commune.put(
        &app.report_path(COMMUNE),
        &json!({ "values": { "so_cuoc_hop": 2 }, "version": 0 }),
    );
    assert_eq!(status, 409);

    // Only the owner reopens it; then the commune files again.
    let reopen = format!("/ky-bao-cao/{}/mo-lai", app.round_id);
    assert_eq!(page_login(&app, DISTRICT).post_form(&reopen, &[]).0, 403);
    let (status, location, _) = province.post_form(&reopen, &[]);
    assert_eq!(status, 303);
    let (_, _, page) = province.page(&location);
    assert!(page.contains("Đã mở lại kỳ báo cáo."));
    assert!(page.contains("Mở lại kỳ báo cáo</strong>"));
    assert_eq!(api.get(&round).1["status"], "open");
    let (status, body) = commune.put(
        &app.report_path(COMMUNE),
        &json!({ "values": { "so_cuoc_hop": 2 }, "version": 0 }),
    );
    assert_eq!(status, 200, "{body}");
}
