//! The leadership's pages kept between requests (`routes::kept`): served again only while they
//! still show what building them anew would, only to whom they were built for, and built anew
//! on a forced reload.

use crate::helpers::*;

/// The status of `unit`'s row in a consolidation.
fn row_status(rollup: &serde_json::Value, unit: &str) -> String {
    rollup["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["unit"]["code"] == unit)
        .unwrap_or_else(|| panic!("no row for {unit}: {rollup}"))["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn a_kept_page_follows_a_report_moved_through_another_server() {
    let a = TestApp::spawn();
    let b = a.another_server();
    let round = a.round_id;
    let board = a.login(DISTRICT);
    // Logged in (a write) before anything is kept.
    let commune = a.login(COMMUNE).at(&b);
    let rollup = format!("/api/v1/rounds/{round}/rollup/{DISTRICT}?provisional=true");
    let page = format!("/ky-bao-cao/{round}/don-vi/{DISTRICT}?tam-tinh=1");
    let chart = format!("/ky-bao-cao/{round}/don-vi/{DISTRICT}/bieu-do/tinh-hinh-nop.svg");
    // Asked for twice on the first server: the second answer is the kept one.
    for _ in 0..2 {
        let (status, body) = board.get(&rollup);
        assert_eq!(status, 200, "{body}");
        assert_eq!(row_status(&body, COMMUNE), "not_started");
        assert_eq!(board.page(&page).0, 200);
    }
    let (_, _, svg_before) = board.get_bytes(&chart);
    let (_, _, html_before) = board.page(&page);

    // Filed through the other server: nothing was written through the first.
    file_report(&a, &commune, COMMUNE, 9);

    let (status, body) = board.get(&rollup);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        row_status(&body, COMMUNE),
        "submitted",
        "the first server's kept consolidation is not served once the round moved"
    );
    let (_, _, html_after) = board.page(&page);
    assert_ne!(html_after, html_before, "the unit page is built anew");
    let (_, _, svg_after) = board.get_bytes(&chart);
    assert_ne!(svg_after, svg_before, "the chart is drawn anew");
}

#[test]
fn a_kept_page_is_served_only_to_the_session_and_the_account_it_was_built_for() {
    let app = TestApp::spawn();
    let round = app.round_id;
    let page = format!("/ky-bao-cao/{round}/don-vi/{DISTRICT}");
    let first = app.login(DISTRICT);
    let second = app.login(DISTRICT);
    let (_, _, html) = first.page(&page);
    let (_, _, again) = first.page(&page);
    assert_eq!(html, again, "kept for the same session");
    let token = |html: &str| {
        html.split("name=\"_csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a form token")
            .to_owned()
    };
    let (status, _, other) = second.page(&page);
    assert_eq!(status, 200);
    assert_ne!(
        token(&other),
        token(&html),
        "another session gets its own form token"
    );
    // A board of another district asks for the same pages, kept for this one: it gets what it
    // gets for a unit that does not exist.
    let stranger = app.login(OTHER_DISTRICT);
    let missing = |client: &Client, path: &str| client.get(&path.replace(DISTRICT, "99999"));
    assert_ne!(stranger.page(&page).0, 200);
    assert_eq!(
        stranger.page(&page).0,
        stranger.page(&page.replace(DISTRICT, "99999")).0
    );
    let rollup = format!("/api/v1/rounds/{round}/rollup/{DISTRICT}");
    assert_eq!(first.get(&rollup).0, 200);
    let (status, body) = stranger.get(&rollup);
    assert_ne!(status, 200, "{body}");
    assert_eq!((status, body), missing(&stranger, &rollup));
    // Once logged out, nothing kept is served to the old cookie.
    assert_eq!(first.post_empty("/api/v1/logout").0, 204);
    assert_eq!(first.get(&rollup).0, 401);
}

#[test]
fn a_forced_reload_builds_the_page_anew() {
    let a = TestApp::spawn();
    let b = a.another_server();
    let round = a.round_id;
    let board = a.login(DISTRICT);
    let commune = a.login(COMMUNE).at(&b);
    let rollup = format!("/api/v1/rounds/{round}/rollup/{DISTRICT}");
    assert_eq!(row_status(&board.get(&rollup).1, COMMUNE), "not_started");
    // A draft saved through the other server moves no consolidation, and the first server
    // wrote nothing: what it kept is still what it serves.
    let (status, body) = commune.put(
        &a.report_path(COMMUNE),
        &serde_json::json!({ "values": full_values(4), "sections": full_sections(), "version": 0 }),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(row_status(&board.get(&rollup).1, COMMUNE), "not_started");
    let (status, fresh) = board.with_header("Cache-Control", "no-cache").get(&rollup);
    assert_eq!(status, 200, "{fresh}");
    assert_eq!(row_status(&fresh, COMMUNE), "draft");
    // What was built then is what is kept from then on.
    assert_eq!(row_status(&board.get(&rollup).1, COMMUNE), "draft");
}

#[test]
fn a_kept_page_goes_to_a_browser_compressed_once_and_reads_the_same() {
    use std::io::Read;
    let app = TestApp::spawn();
    let board = app.login(DISTRICT);
    let page = format!("/ky-bao-cao/{}/don-vi/{DISTRICT}", app.round_id);
    let (_, _, plain) = board.page(&page);
    let browser = board.with_header("Accept-Encoding", "gzip, deflate, br");
    for _ in 0..2 {
        let (status, headers) = browser.headers(&page);
        assert_eq!(status, 200);
        assert_eq!(headers.get("content-encoding").unwrap(), "gzip");
        assert_eq!(headers.get("vary").unwrap(), "accept-encoding");
        let (_, _, bytes) = browser.get_bytes(&page);
        let mut html = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut html)
            .expect("a gzip body");
        assert_eq!(html, plain, "the same page, compressed");
    }
    // One who refuses gzip gets the page as it is.
    let refusing = board.with_header("Accept-Encoding", "gzip;q=0, identity");
    let (_, headers) = refusing.headers(&page);
    assert!(headers.get("content-encoding").is_none());
    assert_eq!(refusing.page(&page).2, plain);
}
