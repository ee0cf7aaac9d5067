//! A board's home is its work queue: the reports waiting for its review (the longest waiting
//! first), the ones it returned that are not back, the units that have not started; after each
//! decision, the next report to review. A commune's home says why its report was returned.

use crate::helpers::*;
use crate::pages::page_login;

fn name_of(app: &TestApp, unit: &str) -> String {
    let (_, report) = app.login(unit).get(&app.report_path(unit));
    report["unit"]["name"].as_str().unwrap().to_owned()
}

#[test]
fn a_district_works_through_its_queue_and_a_returned_commune_reads_why_at_home() {
    let app = TestApp::spawn();
    file_report(&app, &app.login(COMMUNE), COMMUNE, 8);
    file_report(&app, &app.login(COMMUNE_2), COMMUNE_2, 9);
    let (first, second) = (name_of(&app, COMMUNE), name_of(&app, COMMUNE_2));
    let report = |code: &str| format!("/ky-bao-cao/{}/bao-cao/{code}", app.round_id);

    let district = page_login(&app, DISTRICT);
    let (_, _, home) = district.page("/ky-bao-cao");
    let queue = &home[home.find("id=\"queue-").expect("the district's queue")..];
    assert!(queue.contains("Chờ xem xét (2)"), "{queue}");
    assert!(queue.contains(&format!(
        "href=\"{}\" id=\"next-review-{}\">Xem xét báo cáo tiếp theo: {first}</a>",
        report(COMMUNE),
        app.round_id
    )));
    assert!(queue.contains(&format!("<a href=\"{}\">{second}</a>", report(COMMUNE_2))));
    assert!(
        queue.contains("Chưa lập báo cáo ("),
        "the communes not started"
    );
    assert!(queue.contains("đã tiếp nhận 0/"));
    // Another district's queue has none of them.
    let (_, _, other) = page_login(&app, OTHER_DISTRICT).page("/ky-bao-cao");
    assert!(!other.contains(&first) && !other.contains(&second));

    // Accepting the first leads to the next one.
    let (status, location, _) = district.post_form(&format!("{}/tiep-nhan", report(COMMUNE)), &[]);
    assert_eq!(status, 303);
    assert!(
        location.ends_with(&format!("?ok=tiep-nhan&tiep={COMMUNE_2}")),
        "{location}"
    );
    let (_, _, page) = district.page(&location);
    assert!(page.contains(&format!(
        "<a class=\"button primary\" href=\"{}\" id=\"next-review\">Xem xét báo cáo tiếp theo: {second}</a>",
        report(COMMUNE_2)
    )));
    // A code put in the address by hand that is not the person's to review is no link.
    let (_, _, forged) = district.page(&format!(
        "{}?ok=tiep-nhan&tiep={OTHER_COMMUNE}",
        report(COMMUNE)
    ));
    assert!(!forged.contains("id=\"next-review\""));

    // Returning the second: nothing left to review; it waits among the returned.
    let reason = "Thiếu số liệu về kinh phí.";
    let (status, location, _) = district.post_form(
        &format!("{}/tra-lai", report(COMMUNE_2)),
        &[("reason", reason), ("confirm", "1")],
    );
    assert_eq!(status, 303);
    assert!(!location.contains("tiep="), "{location}");
    let (_, _, home) = district.page("/ky-bao-cao");
    assert!(home.contains("Chờ xem xét (0)"));
    assert!(home.contains("Đã trả lại, chưa nộp lại (1)"));
    assert!(home.contains(&format!("lý do: {reason}")));
    assert!(home.contains("đã tiếp nhận 1/"));

    // The commune reads the reason on its home page, not only a badge.
    let (_, _, home) = page_login(&app, COMMUNE_2).page("/ky-bao-cao");
    assert!(
        home.contains("<strong>Báo cáo bị trả lại</strong>"),
        "{home}"
    );
    assert!(home.contains(&format!("Lý do: {reason}")));
    assert!(!home.contains("id=\"queue-"), "a commune has no queue");
}
