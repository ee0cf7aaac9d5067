//! Several servers on one database, as behind a load balancer: a session opened on one works
//! on the other and ends on both; a change saved through one server makes the other's copy
//! stale; communes of two districts filing at once through both servers, reviewed through the
//! other one, leave every live consolidation exact, and both servers serve the same rollup.
//! Runs on SQLite and, in the suite's second pass, on PostgreSQL.

use serde_json::json;

use crate::helpers::*;
use crate::live::{communes_of, every_round_is_exact, version};

#[test]
fn a_session_opened_on_one_server_works_on_the_other_and_ends_on_both() {
    let a = TestApp::spawn();
    let b = a.another_server();
    let (status, headers) = a.client().post_headers(
        "/api/v1/login",
        &json!({ "username": PROVINCE, "password": "demo" }),
    );
    assert_eq!(status, 200);
    let cookie = headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("baocao_session="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    // The browser's cookie, sent as it is to either server.
    let on_a = a.client().with_header("Cookie", &cookie);
    let on_b = on_a.at(&b);
    let (status, me) = on_b.get("/api/v1/me");
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["unit"]["code"], PROVINCE);
    assert_eq!(on_a.get("/api/v1/me").0, 200);
    assert_eq!(on_b.post_empty("/api/v1/logout").0, 204);
    assert_eq!(
        on_a.get("/api/v1/me").0,
        401,
        "ended on the first server too"
    );
    assert_eq!(on_b.get("/api/v1/me").0, 401);
}

#[test]
fn a_report_saved_through_one_server_is_stale_on_the_other() {
    let a = TestApp::spawn();
    let b = a.another_server();
    let commune = a.login(COMMUNE);
    let path = a.report_path(COMMUNE);
    let first = json!({ "values": full_values(4), "sections": full_sections(), "version": 0 });
    let (status, body) = commune.put(&path, &first);
    assert_eq!(status, 200, "{body}");
    let seen = version(&commune, &path);
    let mine = json!({ "values": full_values(5), "sections": full_sections(), "version": seen });
    let (status, body) = commune.put(&path, &mine);
    assert_eq!(status, 200, "{body}");
    // The same version again, through the other server: someone saved meanwhile.
    let theirs = json!({ "values": full_values(6), "sections": full_sections(), "version": seen });
    let (status, body) = commune.at(&b).put(&path, &theirs);
    assert_eq!(status, 409, "{body}");
    let (_, report) = commune.at(&b).get(&path);
    assert_eq!(
        report["values"]["so_thanh_vien"], 5,
        "the first server's save stands"
    );
}

#[test]
fn communes_filing_at_once_through_two_servers_keep_every_consolidation_exact() {
    let a = TestApp::spawn();
    let b = a.another_server();
    let codes: Vec<(String, &str)> = {
        let pool = baocao::db::connect(&a.database).unwrap();
        let mut conn = pool.get().unwrap();
        [DISTRICT, OTHER_DISTRICT]
            .iter()
            .flat_map(|d| {
                communes_of(&mut conn, d)
                    .into_iter()
                    .take(5)
                    .map(move |c| (c, *d))
            })
            .collect()
    };
    let servers = [&a, &b];
    let boards: Vec<(&str, Client)> = [DISTRICT, OTHER_DISTRICT]
        .iter()
        .map(|d| (*d, a.login(d)))
        .collect();
    let board_of = |d: &str| boards.iter().find(|(c, _)| *c == d).unwrap().1.clone();
    // Every step starts in all threads at once: the reviews of one district's communes merge
    // that district and the province at the same moment, on both servers.
    let together = std::sync::Barrier::new(codes.len());
    std::thread::scope(|scope| {
        for (i, (code, district)) in codes.iter().enumerate() {
            let together = &together;
            let (mine, other) = (servers[i % 2], servers[(i + 1) % 2]);
            let commune = a.login(code).at(mine);
            let board = board_of(district).at(other);
            let path = a.report_path(code);
            scope.spawn(move || {
                // Filed, accepted, reopened and filed again with other figures, then accepted:
                // each step moves the district's and the province's consolidations.
                for (round, members) in [(0, 20 + i as i64), (1, 5 + i as i64)] {
                    let v = version(&commune, &path);
                    let body = json!({ "values": full_values(members), "sections": full_sections(), "version": v });
                    together.wait();
                    let (status, body) = commune.put(&path, &body);
                    assert_eq!(status, 200, "{code} saves: {body}");
                    let v = version(&commune, &path);
                    together.wait();
                    let (status, body) =
                        commune.post(&format!("{path}/submit"), &json!({ "version": v }));
                    assert_eq!(status, 200, "{code} submits: {body}");
                    together.wait();
                    let (status, body) = board.post_empty(&format!("{path}/accept"));
                    assert_eq!(status, 200, "{code} accepted: {body}");
                    if round == 0 {
                        together.wait();
                        let reason = json!({ "reason": "Cần sửa lại số thành viên." });
                        let (status, body) = board.post(&format!("{path}/reopen"), &reason);
                        assert_eq!(status, 200, "{code} reopened: {body}");
                    }
                }
            });
        }
    });
    every_round_is_exact(&a);
    let rollup = format!("/api/v1/rounds/{}/rollup/{PROVINCE}", a.round_id);
    let province = a.login(PROVINCE);
    let (status, seen_by_a) = province.get(&rollup);
    assert_eq!(status, 200, "{seen_by_a}");
    let (_, seen_by_b) = province.at(&b).get(&rollup);
    assert_eq!(seen_by_a, seen_by_b, "both servers serve one consolidation");
    let expected: i64 = (0..codes.len() as i64).map(|i| 5 + i).sum();
    assert_eq!(
        seen_by_a["total"]["values"]["so_thanh_vien"].as_f64(),
        Some(expected as f64),
        "{}",
        seen_by_a["total"]
    );
    assert_eq!(
        seen_by_a["total"]["completeness"]["accepted"],
        codes.len(),
        "{}",
        seen_by_a["total"]
    );
}

/// Two transactions, on two connections, each moving one commune's report of the same district
/// and merging the district and the province again: the second one, started while the first
/// is still open, must merge from the first one's change once it commits, not from what it
/// saw before. Deterministic: the first holds its transaction open, after its merge, until the
/// second has started. Both ways of merging: at once, and at the end of the transaction (how a
/// request's write does it on PostgreSQL).
#[test]
fn two_transactions_moving_reports_of_one_district_both_reach_its_consolidation() {
    let app = TestApp::spawn();
    let pool = baocao::db::connect(&app.database).unwrap();
    let communes = {
        let mut conn = pool.get().unwrap();
        communes_of(&mut conn, DISTRICT)
    };
    for code in communes.iter().take(4) {
        submitted(&app, code);
    }
    let round = app.round_id as i32;
    for (pair, at_the_end) in [(&communes[0..2], false), (&communes[2..4], true)] {
        let second = |conn: &mut baocao::db::Conn| accept(conn, round, &pair[1]);
        beside_a_held_merge(&pool, round, &pair[0], at_the_end, &second);
        assert_eq!(
            mismatches(&pool, round),
            vec![],
            "merging at the end: {at_the_end}"
        );
    }
    let total = district_total(&app, round);
    assert_eq!(total["completeness"]["accepted"], 4, "{total}");
}

/// `first` accepted in a transaction held open after its merge while `second` runs in another
/// transaction; with `at_the_end`, each through `service::write_transaction`, whose merges run
/// last (each unit's turn), otherwise merged at once (the round's whole turn).
fn beside_a_held_merge(
    pool: &baocao::db::DbPool,
    round: i32,
    first: &str,
    at_the_end: bool,
    second: &dyn Fn(&mut baocao::db::Conn),
) {
    let transaction = |conn: &mut baocao::db::Conn, body: &dyn Fn(&mut baocao::db::Conn)| {
        if at_the_end {
            baocao::service::write_transaction(conn, |conn| {
                body(conn);
                Ok(())
            })
            .unwrap();
        } else {
            baocao::db::write_lock_transaction(conn, |conn| {
                body(conn);
                Ok::<_, diesel::result::Error>(())
            })
            .unwrap();
        }
    };
    let (merged, go_on) = std::sync::mpsc::channel::<()>();
    std::thread::scope(|scope| {
        let mut one = pool.get().unwrap();
        let transaction = &transaction;
        scope.spawn(move || {
            transaction(&mut one, &|conn| {
                accept(conn, round, first);
                // After the merges left for the end (their keys sort before this one).
                let signal = merged.clone();
                let left =
                    baocao::db::writer::defer((i64::from(round), i64::MAX, 0), 0, move |_, _| {
                        hold(&signal);
                        Ok(())
                    });
                assert_eq!(left, at_the_end);
                if !left {
                    hold(&merged);
                }
            });
        });
        go_on.recv().unwrap();
        let mut two = pool.get().unwrap();
        transaction(&mut two, second);
    });
}

/// `code`'s report filled in and submitted through the API.
fn submitted(app: &TestApp, code: &str) {
    let commune = app.login(code);
    let path = app.report_path(code);
    let body = json!({ "values": full_values(7), "sections": full_sections(), "version": 0 });
    assert_eq!(commune.put(&path, &body).0, 200);
    let v = version(&commune, &path);
    let (status, body) = commune.post(&format!("{path}/submit"), &json!({ "version": v }));
    assert_eq!(status, 200, "{body}");
}

/// `code`'s report in the round marked accepted, and the units above it merged again.
fn accept(conn: &mut baocao::db::Conn, round: i32, code: &str) {
    use baocao::db::schema::reports;
    use baocao::service::rollup::live;
    use diesel::prelude::*;

    let ctx = live::round_ctx(conn, round).unwrap();
    let unit = baocao::service::units::unit_by_code(conn, code, None)
        .unwrap()
        .unwrap();
    diesel::update(
        reports::table
            .filter(reports::round_id.eq(round))
            .filter(reports::unit_id.eq(unit.id)),
    )
    .set(reports::status.eq("accepted"))
    .execute(conn)
    .unwrap();
    live::refresh(conn, &ctx, &unit).unwrap();
}

/// The round's states built anew while a change below one district is merged but not yet
/// committed: the rebuild waits for the change and counts it. (On PostgreSQL the units' merges
/// share the round's turn, which a rebuild takes whole; a rebuild that read the reports before
/// the change committed would store states without it over the merged ones.)
#[test]
fn a_rebuild_of_the_round_waits_for_a_merge_in_progress_and_counts_its_change() {
    use baocao::service::rollup::live;

    let app = TestApp::spawn();
    let pool = baocao::db::connect(&app.database).unwrap();
    let communes = {
        let mut conn = pool.get().unwrap();
        communes_of(&mut conn, DISTRICT)
    };
    let round = app.round_id as i32;
    let rebuilt = |conn: &mut baocao::db::Conn| {
        let ctx = live::round_ctx(conn, round).unwrap();
        live::rebuild(conn, &ctx).unwrap();
    };
    // Merged at the end, each unit in its turn (how a request's write merges on PostgreSQL),
    // and at once.
    for (code, at_the_end) in communes.iter().zip([true, false]) {
        submitted(&app, code);
        beside_a_held_merge(&pool, round, code, at_the_end, &rebuilt);
        assert_eq!(
            mismatches(&pool, round),
            vec![],
            "merging at the end: {at_the_end}"
        );
    }
    let total = district_total(&app, round);
    assert_eq!(total["completeness"]["accepted"], 2, "{total}");
}

/// Where the round's live consolidations differ from one made from scratch.
fn mismatches(
    pool: &baocao::db::DbPool,
    round: i32,
) -> Vec<baocao::service::rollup::live::Mismatch> {
    use baocao::service::rollup::live;

    let mut conn = pool.get().unwrap();
    let ctx = live::round_ctx(&mut conn, round).unwrap();
    live::check(&mut conn, &ctx).unwrap()
}

/// The district's consolidation in the round, as the province reads it.
fn district_total(app: &TestApp, round: i32) -> serde_json::Value {
    let (_, rollup) = app
        .login(PROVINCE)
        .get(&format!("/api/v1/rounds/{round}/rollup/{DISTRICT}"));
    rollup["total"].clone()
}

/// Holds the transaction open, after its merge, while the second one starts and merges.
fn hold(merged: &std::sync::mpsc::Sender<()>) {
    merged.send(()).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
}
