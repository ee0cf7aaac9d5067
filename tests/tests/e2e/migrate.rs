//! `baocao migrate`: the demo province, reorganised (so that units sit under a unit added after
//! them), moved whole to a new PostgreSQL database: every round's rollup served from the new
//! database is the old one's, whoever was logged in still is, new rows get new ids, and moving
//! into a database that is no longer empty is refused and changes nothing.

use serde_json::json;

use crate::helpers::*;

#[test]
fn a_province_moves_whole_to_postgresql_and_serves_the_same_rollups() {
    let from = TestApp::spawn_demo();
    let admin = from.login("admin");
    let (status, body) = admin.post(
        "/api/v1/units",
        &json!({ "parent": DISTRICT, "code": "99901", "name": "Xã Thử Nghiệm", "kind": "commune" }),
    );
    assert_eq!(status, 201, "{body}");
    from.reorganise_2025();
    let province = from.login(PROVINCE);
    let rollups = |client: &Client| -> Vec<serde_json::Value> {
        (1..=6)
            .flat_map(|round| {
                ["", "?provisional=true"].map(|view| {
                    let (status, body) =
                        client.get(&format!("/api/v1/rounds/{round}/rollup/{PROVINCE}{view}"));
                    assert_eq!(status, 200, "round {round}{view}: {body}");
                    body
                })
            })
            .collect()
    };
    let before = rollups(&province);

    let target = Database::on_postgres();
    let url = target.url.clone();
    baocao::console::migrate(&from.database, &url).expect("migrate");
    let to = TestApp::open(target);
    // The province's session moved with the data.
    let moved = province.at(&to);
    assert_eq!(moved.get("/api/v1/me").0, 200);
    assert_eq!(rollups(&moved), before);
    let (status, body) = moved.get(&format!("/api/v1/rounds/1/reports/{COMMUNE}/history"));
    assert_eq!(status, 200, "{body}");
    // The ids go on after the last one moved.
    let admin = to.login("admin");
    let (status, body) = admin.post(
        "/api/v1/units",
        &json!({ "parent": "33", "code": "99902", "name": "Xã Thử Nghiệm Hai", "kind": "commune" }),
    );
    assert_eq!(status, 201, "{body}");

    // Again, into what is now a database in use: refused, nothing added.
    let units_there = || -> i64 {
        use diesel::prelude::*;
        let pool = baocao::db::connect(&url).unwrap();
        baocao::db::schema::units::table
            .count()
            .get_result(&mut pool.get().unwrap())
            .unwrap()
    };
    let there = units_there();
    let again = baocao::console::migrate(&from.database, &url).unwrap_err();
    assert!(again.to_string().contains("đã có dữ liệu"), "{again}");
    assert_eq!(units_there(), there);
    assert_eq!(rollups(&moved), before);
}
