//! Cross-site request forgery and the browser's protections: a request another site's page
//! sends with the person's cookie is refused (API and pages), every page form carries its
//! session's token, the login form its own, and the pages forbid inline script, framing and
//! caching; behind HTTPS the cookie is Secure and HSTS is sent.

use serde_json::json;

use crate::helpers::*;

/// A client logged in through the login page, as a browser is.
fn page_login(app: &TestApp, user: &str) -> Client {
    let client = app.client();
    let (status, location, _) =
        client.post_form("/dang-nhap", &[("username", user), ("password", "demo")]);
    assert_eq!((status, location.as_str()), (303, "/ky-bao-cao"));
    client
}

fn report_page(app: &TestApp, unit: &str) -> String {
    format!("/ky-bao-cao/{}/bao-cao/{unit}", app.round_id)
}

#[test]
fn a_request_from_another_site_is_refused_api_and_pages_alike_and_changes_nothing() {
    let app = TestApp::spawn();
    let commune = page_login(&app, COMMUNE);
    let token = commune.csrf_from(&report_page(&app, COMMUNE));
    assert_eq!(token.len(), 64, "the report page's forms carry a token");
    let fields = |n: &'static str| {
        vec![
            ("v.so_cuoc_hop", n),
            ("version", "0"),
            ("action", "save"),
            ("_csrf", token.as_str()),
        ]
    };
    for (header, value) in [
        ("Origin", "http://evil.example"),
        ("Origin", "null"),
        ("Sec-Fetch-Site", "cross-site"),
        ("Sec-Fetch-Site", "same-site"),
    ] {
        let forged = commune.with_header(header, value);
        // Even with the right token: the browser says another site sent it.
        let (status, _, html) = forged.post_form_raw(&report_page(&app, COMMUNE), &fields("4"));
        assert_eq!(status, 403, "{header}: {value}");
        assert!(html.contains("trang web khác"), "{html}");
        assert!(html.contains("Đăng xuất"), "the error page keeps the menu");
        let (status, body) = forged.put(
            &app.report_path(COMMUNE),
            &json!({ "values": { "so_cuoc_hop": 4 }, "version": 0 }),
        );
        assert_eq!(status, 403, "{header}: {value}: {body}");
        assert_eq!(body["error"], "forbidden");
        let (status, _) =
            forged.post_bytes(&format!("{}/upload", app.report_path(COMMUNE)), vec![]);
        assert_eq!(status, 403, "an upload too");
    }
    let (_, report) = commune.get(&app.report_path(COMMUNE));
    assert_eq!(
        report["status"], "not_started",
        "nothing was saved: {report}"
    );

    // From our own origin, as the browser says of our own pages, it goes through.
    let own = commune.with_header("Origin", &app.base);
    let (status, location, _) = own.post_form_raw(&report_page(&app, COMMUNE), &fields("4"));
    assert_eq!(status, 303, "{location}");
    let same = commune.with_header("Sec-Fetch-Site", "same-origin");
    let (_, report) = same.get(&app.report_path(COMMUNE));
    assert_eq!(report["values"]["so_cuoc_hop"], 4);
    let (status, body) = same.put(
        &app.report_path(COMMUNE),
        &json!({ "values": { "so_cuoc_hop": 5 }, "version": report["version"] }),
    );
    assert_eq!(status, 200, "{body}");
    // Reading is never refused: a link from elsewhere opens the page.
    let (status, _, _) = commune
        .with_header("Sec-Fetch-Site", "cross-site")
        .page(&report_page(&app, COMMUNE));
    assert_eq!(status, 200);
}

#[test]
fn a_page_form_without_its_sessions_token_is_refused_and_changes_nothing() {
    let app = TestApp::spawn();
    let commune = page_login(&app, COMMUNE);
    let fields = [("v.so_cuoc_hop", "4"), ("version", "0"), ("action", "save")];
    let (status, _, html) = commune.post_form_raw(&report_page(&app, COMMUNE), &fields);
    assert_eq!(status, 403);
    assert!(html.contains("Biểu mẫu này không còn hợp lệ"), "{html}");
    // Another session's token (the same person, logged in elsewhere) is not this one's.
    let elsewhere = page_login(&app, COMMUNE);
    let theirs = elsewhere.csrf_from(&report_page(&app, COMMUNE));
    let mine = commune.csrf_from(&report_page(&app, COMMUNE));
    assert_ne!(theirs, mine, "a token per session");
    let mut with_theirs = fields.to_vec();
    with_theirs.push(("_csrf", &theirs));
    let (status, _, _) = commune.post_form_raw(&report_page(&app, COMMUNE), &with_theirs);
    assert_eq!(status, 403);
    let (_, report) = commune.get(&app.report_path(COMMUNE));
    assert_eq!(report["status"], "not_started", "nothing was saved");

    // A button's form (accept) and a file upload need the token too.
    file_report(&app, &app.login(COMMUNE_2), COMMUNE_2, 7);
    let district = page_login(&app, DISTRICT);
    let accept = format!("{}/tiep-nhan", report_page(&app, COMMUNE_2));
    assert_eq!(district.post_form_raw(&accept, &[]).0, 403);
    let (_, report) = district.get(&app.report_path(COMMUNE_2));
    assert_eq!(report["status"], "submitted", "not accepted");
    assert_eq!(district.post_form(&accept, &[]).0, 303);
    let (_, report) = district.get(&app.report_path(COMMUNE_2));
    assert_eq!(report["status"], "accepted");
    let logout = commune.post_form_raw("/dang-xuat", &[]);
    assert_eq!(logout.0, 403, "logging out takes the token too");
    let (status, location, _) = commune.post_form("/dang-xuat", &[]);
    assert_eq!((status, location.as_str()), (303, "/dang-nhap"));
}

#[test]
fn a_login_posted_without_the_login_pages_token_logs_nobody_in() {
    let app = TestApp::spawn();
    let stranger = app.client();
    let (status, _, html) =
        stranger.post_form_raw("/dang-nhap", &[("username", COMMUNE), ("password", "demo")]);
    assert_eq!(status, 403);
    assert!(html.contains("Xin đăng nhập lại"), "{html}");
    let (status, location, _) = stranger.page("/ky-bao-cao");
    assert_eq!(
        (status, location.as_str()),
        (303, "/dang-nhap"),
        "not logged in"
    );
    // The page it answers with carries a fresh token: logging in from it works.
    let (status, location, _) =
        stranger.post_form("/dang-nhap", &[("username", COMMUNE), ("password", "demo")]);
    assert_eq!((status, location.as_str()), (303, "/ky-bao-cao"));
}

#[test]
fn pages_forbid_inline_script_framing_and_caching() {
    let app = TestApp::spawn();
    let district = page_login(&app, DISTRICT);
    let unit_page = format!("/ky-bao-cao/{}/don-vi/{DISTRICT}", app.round_id);
    let (status, headers) = district.headers(&unit_page);
    assert_eq!(status, 200);
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let csp = header("content-security-policy");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(header("cache-control"), "no-store");
    assert!(
        header("strict-transport-security").is_empty(),
        "no HSTS over plain HTTP"
    );
    let (_, _, html) = district.page(&unit_page);
    assert!(
        html.contains("<script src=\"/static/bulk.js\""),
        "the script is a file"
    );
    assert_eq!(
        html.matches("<script").count(),
        html.matches("<script src=").count()
    );
    let (status, ctype, script) = district.get_bytes("/static/bulk.js");
    assert_eq!(status, 200);
    assert!(ctype.starts_with("text/javascript"));
    assert!(String::from_utf8_lossy(&script).contains("bulk-form"));
    // Downloads are not cached either; the stylesheet is.
    let (_, headers) = district.headers(&format!(
        "/ky-bao-cao/{}/xuat/{DISTRICT}.xlsx",
        app.round_id
    ));
    assert_eq!(
        headers.get("cache-control").and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let (_, headers) = district.headers("/static/style.css");
    assert!(
        headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .contains("max-age")
    );
}

#[test]
fn behind_https_the_cookie_is_secure_and_browsers_are_told_to_keep_to_https() {
    let app = TestApp::spawn_at(Some("https://baocao.example.vn/"));
    let client = app.client();
    let res_headers = |path: &str| client.headers(path).1;
    let login_page = res_headers("/dang-nhap");
    assert_eq!(
        login_page
            .get("strict-transport-security")
            .and_then(|v| v.to_str().ok()),
        Some("max-age=31536000")
    );
    let cookie = login_page
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(cookie.contains("Secure"), "{cookie}");
    // The session cookie too.
    let api = client.with_header("Origin", "https://baocao.example.vn");
    let (status, headers) = api.post_headers(
        "/api/v1/login",
        &json!({ "username": COMMUNE, "password": "demo" }),
    );
    assert_eq!(status, 200);
    let cookie = headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        cookie.starts_with("baocao_session=") && cookie.contains("Secure"),
        "{cookie}"
    );
    // Requests that change something must come from the public origin.
    let (status, body) = client.with_header("Origin", &app.base).post(
        "/api/v1/login",
        &json!({ "username": COMMUNE, "password": "demo" }),
    );
    assert_eq!(status, 403, "{body}");
}
