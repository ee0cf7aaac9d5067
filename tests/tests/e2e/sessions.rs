//! Logins and sessions under attack and over time: guessing a password is slowed, then locked
//! by address and account, while the real user still gets in; sessions end when unused, and
//! ended sessions are removed.

use std::time::{Duration, Instant};

use baocao::db::schema::{accounts, sessions};
use diesel::prelude::*;
use serde_json::json;

use crate::helpers::*;

const ATTACKER: &str = "203.0.113.5";
const REAL_USER: &str = "198.51.100.7";

fn login_from(app: &TestApp, address: &str, password: &str) -> (u16, serde_json::Value, Client) {
    let client = app.client().with_header("X-Forwarded-For", address);
    let (status, body) = client.post(
        "/api/v1/login",
        &json!({ "username": COMMUNE, "password": password }),
    );
    (status, body, client)
}

#[test]
fn guessing_a_password_is_slowed_then_locked_and_the_real_user_still_gets_in() {
    // Growing waits between guesses are checked in the throttle's own tests; here the third
    // failure locks at once, so that nothing depends on how fast the test runs.
    let app = TestApp::spawn_with(|s| {
        s.login.free_failures = 3;
        s.login.pair_failures = 3;
        s.login.lock_seconds = 5;
    });
    for _ in 0..3 {
        assert_eq!(login_from(&app, ATTACKER, "sai").0, 401);
    }
    // The fourth guess, even the right password, is not checked.
    let (status, body, _) = login_from(&app, ATTACKER, "demo");
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"], "too_many_attempts");
    assert!(
        body["message"].as_str().unwrap().contains("thử lại sau"),
        "{body}"
    );
    // 200 guesses in a row: each answered at once, none of them checked.
    let started = Instant::now();
    let refused = (0..200)
        .filter(|_| login_from(&app, ATTACKER, "sai").0 == 429)
        .count();
    assert_eq!(refused, 200);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "refusals cost no password check"
    );
    // Meanwhile the real user, from their own address, logs in at once.
    let (status, body, user) = login_from(&app, REAL_USER, "demo");
    assert_eq!(status, 200, "{body}");
    assert_eq!(user.get("/api/v1/me").0, 200);
    // Through the login page the attacker reads why, in Vietnamese.
    let page = app.client().with_header("X-Forwarded-For", ATTACKER);
    let (status, _, html) =
        page.post_form("/dang-nhap", &[("username", COMMUNE), ("password", "demo")]);
    assert_eq!(status, 429);
    assert!(html.contains("tạm thời bị chặn"), "{html}");
    // After the window, the address may try again.
    std::thread::sleep(Duration::from_millis(5200));
    assert_eq!(login_from(&app, ATTACKER, "demo").0, 200);
}

#[test]
fn an_address_guessing_many_accounts_is_locked_out_of_all() {
    let app = TestApp::spawn_with(|s| {
        s.login.address_failures = 5;
        s.login.lock_seconds = 60;
    });
    let attacker = app.client().with_header("X-Forwarded-For", ATTACKER);
    for code in [COMMUNE, COMMUNE_2, DISTRICT, OTHER_DISTRICT, OTHER_COMMUNE] {
        let (status, _) = attacker.post(
            "/api/v1/login",
            &json!({ "username": code, "password": "sai" }),
        );
        assert_eq!(status, 401);
    }
    let (status, _) = attacker.post(
        "/api/v1/login",
        &json!({ "username": PROVINCE, "password": "demo" }),
    );
    assert_eq!(status, 429, "even the right password, from that address");
    let (status, _, _) = login_from(&app, REAL_USER, "demo");
    assert_eq!(status, 200, "other addresses are not affected");
}

fn connection(app: &TestApp) -> baocao::db::Conn {
    baocao::db::establish(&baocao::db::Target::of(&app.database)).unwrap()
}

fn sessions_in(app: &TestApp) -> i64 {
    sessions::table
        .count()
        .get_result(&mut connection(app))
        .unwrap()
}

#[test]
fn a_session_unused_past_the_idle_time_ends_and_ended_sessions_are_removed() {
    let app = TestApp::spawn();
    let commune = app.login(COMMUNE);
    assert_eq!(commune.get("/api/v1/me").0, 200);
    let district = app.login(DISTRICT);
    assert_eq!(
        sessions_in(&app),
        3,
        "the province's, the commune's, the district's"
    );
    // The commune's session was last used two hours ago (the idle time is an hour).
    let now = baocao::domain::vn::now_utc();
    diesel::update(
        sessions::table.filter(
            sessions::account_id.eq_any(
                accounts::table
                    .filter(accounts::username.eq(COMMUNE))
                    .select(accounts::id),
            ),
        ),
    )
    .set((
        sessions::last_seen_at.eq(now - chrono::Duration::hours(2)),
        sessions::created_at.eq(now - chrono::Duration::hours(3)),
    ))
    .execute(&mut connection(&app))
    .unwrap();
    let (status, body) = commune.get("/api/v1/me");
    assert_eq!(status, 401, "{body}");
    let (status, location, _) = commune.page("/ky-bao-cao");
    assert_eq!((status, location.as_str()), (303, "/dang-nhap"));
    // A session in use stays.
    assert_eq!(district.get("/api/v1/me").0, 200);
    // The next login clears the ended one away.
    let _again = app.login(COMMUNE);
    assert_eq!(
        sessions_in(&app),
        3,
        "the ended session is gone, the new one is there"
    );
}

/// The hidden fields of a page's forms, as a browser would post them back.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let unescape = |s: &str| {
        s.replace("&#34;", "\"")
            .replace("&#39;", "'")
            .replace("&#60;", "<")
            .replace("&#62;", ">")
            .replace("&#38;", "&")
    };
    html.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .filter_map(|rest| {
            let (name, rest) = rest.split_once('"')?;
            let value = rest.strip_prefix(" value=\"")?.split('"').next()?;
            Some((unescape(name), unescape(value)))
        })
        .collect()
}

#[test]
fn what_was_typed_when_the_session_ended_comes_back_after_logging_in_again() {
    let app = TestApp::spawn();
    let commune = app.client();
    let (status, _, _) =
        commune.post_form("/dang-nhap", &[("username", COMMUNE), ("password", "demo")]);
    assert_eq!(status, 303);
    let form = format!("/ky-bao-cao/{}/bao-cao/{COMMUNE}", app.round_id);
    let token = commune.csrf_from(&form);
    // Half an hour of typing; meanwhile the session ends.
    let narrative = "Tổ đã tổ chức 6 buổi \"tuyên truyền\" & <b>hội nghị</b>.\nDòng thứ hai.";
    diesel::delete(sessions::table)
        .execute(&mut connection(&app))
        .unwrap();
    let (status, _, html) = commune.post_form_raw(
        &form,
        &[
            ("_csrf", &token),
            ("v.so_cuoc_hop", "6"),
            ("s.ket_qua", narrative),
            ("version", "0"),
            ("action", "save"),
        ],
    );
    assert_eq!(status, 401, "{html}");
    assert!(html.contains("Những gì bạn đã nhập vẫn được giữ"), "{html}");
    let carried = hidden_fields(&html);
    assert!(
        carried.contains(&("carry.s.ket_qua".to_owned(), narrative.to_owned())),
        "{carried:?}"
    );
    assert!(
        !carried.iter().any(|(k, _)| k == "carry._csrf"),
        "the old token is not carried"
    );
    // Logging in from that page: back on the form, the text in it, nothing saved yet.
    let mut login: Vec<(&str, &str)> = carried
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    login.extend([("username", COMMUNE), ("password", "demo")]);
    let (status, _, html) = commune.post_form_raw("/dang-nhap", &login);
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Bạn đã đăng nhập lại"), "{html}");
    assert!(
        html.contains(
            "Tổ đã tổ chức 6 buổi &#34;tuyên truyền&#34; &#38; &#60;b&#62;hội nghị&#60;/b&#62;."
        ),
        "the narrative is back, escaped: {html}"
    );
    let api = app.login(COMMUNE);
    let (_, report) = api.get(&app.report_path(COMMUNE));
    assert_eq!(
        report["status"], "not_started",
        "nothing was saved behind the person's back"
    );
    // Saving from the restored form keeps it.
    let restored = hidden_fields(&html);
    let version = restored
        .iter()
        .find(|(k, _)| k == "version")
        .map(|(_, v)| v.clone())
        .unwrap();
    let (status, location, _) = commune.post_form(
        &form,
        &[
            ("v.so_cuoc_hop", "6"),
            ("s.ket_qua", narrative),
            ("version", &version),
            ("action", "save"),
        ],
    );
    assert_eq!(status, 303, "{location}");
    let (_, report) = api.get(&app.report_path(COMMUNE));
    assert_eq!(report["sections"]["ket_qua"], narrative);
}

#[test]
fn a_form_left_open_from_an_earlier_login_is_shown_back_not_saved_nor_lost() {
    let app = TestApp::spawn();
    let commune = app.client();
    let (status, _, _) =
        commune.post_form("/dang-nhap", &[("username", COMMUNE), ("password", "demo")]);
    assert_eq!(status, 303);
    let form = format!("/ky-bao-cao/{}/bao-cao/{COMMUNE}", app.round_id);
    let old_token = commune.csrf_from(&form);
    // The person logs in again (another tab): a new session, a new token.
    let (status, _, _) =
        commune.post_form("/dang-nhap", &[("username", COMMUNE), ("password", "demo")]);
    assert_eq!(status, 303);
    let ours = commune.with_header("Sec-Fetch-Site", "same-origin");
    let (status, _, html) = ours.post_form_raw(
        &form,
        &[
            ("_csrf", &old_token),
            ("s.ket_qua", "Viết trong thẻ cũ."),
            ("version", "0"),
            ("action", "save"),
        ],
    );
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("một lần đăng nhập trước"), "{html}");
    assert!(html.contains("Viết trong thẻ cũ."), "{html}");
    let (_, report) = app.login(COMMUNE).get(&app.report_path(COMMUNE));
    assert_eq!(report["status"], "not_started");
    // Without the browser saying it is our page, a stale token is just refused.
    let (status, _, _) = commune.post_form_raw(
        &form,
        &[("_csrf", &old_token), ("s.ket_qua", "x"), ("version", "0")],
    );
    assert_eq!(status, 403);
}
