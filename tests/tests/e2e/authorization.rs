//! Every request is checked on the server: a person sees and changes only their unit's
//! subtree, as their role allows, and units outside it do not even reveal that they exist.

use serde_json::json;

use crate::helpers::*;

#[test]
fn nobody_signed_in_gets_401_everywhere() {
    let app = TestApp::spawn();
    let anon = app.client();
    for path in [
        "/api/v1/rounds".to_owned(),
        "/api/v1/me".to_owned(),
        app.report_path(COMMUNE),
        format!("/api/v1/rounds/{}/rollup/{PROVINCE}", app.round_id),
        format!("/api/v1/rounds/{}/export/{PROVINCE}.xlsx", app.round_id),
    ] {
        let (status, body) = anon.get(&path);
        assert_eq!(status, 401, "{path}: {body}");
        assert_eq!(body["error"], "unauthenticated");
    }
    let (status, _) = anon.put(
        &app.report_path(COMMUNE),
        &json!({ "values": {}, "version": 0 }),
    );
    assert_eq!(status, 401);
}

#[test]
fn a_commune_cannot_touch_another_commune_and_cannot_tell_whether_it_exists() {
    let app = TestApp::spawn();
    let other = app.login(COMMUNE_2);
    file_report(&app, &other, COMMUNE_2, 7);
    let commune = app.login(COMMUNE);
    let (_, missing) = commune.get(&app.report_path("99999"));
    for unit in [
        COMMUNE_2,
        OTHER_COMMUNE,
        DISTRICT,
        PROVINCE,
        "99999",
        "../34",
    ] {
        let path = app.report_path(unit);
        let (status, body) = commune.get(&path);
        assert!(status == 403 || status == 404, "{unit}: {status}");
        if status == 403 {
            assert_eq!(
                body, missing,
                "{unit}: the answer must not depend on existence"
            );
        }
        let (status, _) = commune.put(
            &path,
            &json!({ "values": { "so_thanh_vien": 1 }, "version": 1 }),
        );
        assert!(status == 403 || status == 404, "{unit}: PUT {status}");
        let (status, _) = commune.post_empty(&format!("{path}/submit"));
        assert!(status == 403 || status == 404, "{unit}: submit {status}");
    }
    let rollup = format!("/api/v1/rounds/{}/rollup/{DISTRICT}", app.round_id);
    assert_eq!(commune.get(&rollup).0, 403);
    let export = format!("/api/v1/rounds/{}/export/{DISTRICT}.xlsx", app.round_id);
    assert_eq!(commune.get_bytes(&export).0, 403);
    // A commune does not review, not even its own report.
    let path = app.report_path(COMMUNE_2);
    assert_eq!(commune.post_empty(&format!("{path}/accept")).0, 403);
    let (_, still) = other.get(&path);
    assert_eq!(still["status"], "submitted");
}

#[test]
fn a_district_reviews_only_its_own_communes_and_files_for_none_of_them() {
    let app = TestApp::spawn();
    let mine = app.login(COMMUNE);
    file_report(&app, &mine, COMMUNE, 8);
    let theirs = app.login(OTHER_COMMUNE);
    file_report(&app, &theirs, OTHER_COMMUNE, 8);
    let district = app.login(DISTRICT);

    let (status, _) = district.get(&app.report_path(COMMUNE));
    assert_eq!(status, 200, "its own commune");
    let (status, body) = district.get(&app.report_path(OTHER_COMMUNE));
    assert_eq!(status, 403, "{body}");
    let (status, _) = district.post_empty(&format!("{}/accept", app.report_path(OTHER_COMMUNE)));
    assert_eq!(status, 403);
    let (status, _) = district.post(
        &format!("{}/return", app.report_path(OTHER_COMMUNE)),
        &json!({ "reason": "Không phải việc của huyện này." }),
    );
    assert_eq!(status, 403);
    let (_, other_view) = theirs.get(&app.report_path(OTHER_COMMUNE));
    assert_eq!(other_view["status"], "submitted");

    // A district does not type in a commune's figures.
    let (status, body) = district.put(
        &app.report_path(COMMUNE),
        &json!({ "values": full_values(3), "version": 3 }),
    );
    assert_eq!(status, 403, "{body}");
    let rollup = format!("/api/v1/rounds/{}/rollup/{OTHER_DISTRICT}", app.round_id);
    assert_eq!(district.get(&rollup).0, 403);
    assert_eq!(
        district
            .get(&format!(
                "/api/v1/rounds/{}/rollup/{PROVINCE}",
                app.round_id
            ))
            .0,
        403
    );
    // The province is the one that reviews a district's report, not a district.
    let (status, _) = district.post_empty(&format!("{}/accept", app.report_path(OTHER_DISTRICT)));
    assert_eq!(status, 403);
}

#[test]
fn the_province_reads_everything_below_it_but_reviews_only_districts() {
    let app = TestApp::spawn();
    let commune = app.login(COMMUNE);
    file_report(&app, &commune, COMMUNE, 8);
    let province = app.login(PROVINCE);
    let (status, view) = province.get(&app.report_path(COMMUNE));
    assert_eq!(status, 200);
    assert_eq!(view["can_review"], false);
    let (status, _) = province.post_empty(&format!("{}/accept", app.report_path(COMMUNE)));
    assert_eq!(
        status, 403,
        "a commune's report is its district's to accept"
    );
    let (status, _) = province.put(
        &app.report_path(COMMUNE),
        &json!({ "values": {}, "version": 1 }),
    );
    assert_eq!(status, 403);
    // Only the province opens rounds.
    let (status, _) = commune.post(
        "/api/v1/rounds",
        &json!({ "template": "dinh-ky", "period_type": "quarter", "year": 2025, "index": 2 }),
    );
    assert_eq!(status, 403);
}

#[test]
fn a_logged_out_session_is_dead() {
    let app = TestApp::spawn();
    let commune = app.login(COMMUNE);
    assert_eq!(commune.get("/api/v1/me").0, 200);
    assert_eq!(commune.post_empty("/api/v1/logout").0, 204);
    assert_eq!(commune.get("/api/v1/me").0, 401);
}
