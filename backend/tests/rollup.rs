//! The streamed consolidation (`rollup_each`, which the export writes a sheet from as each
//! district is finished) gives exactly what consolidating each unit on its own gives.

use baocao::config::Settings;
use baocao::domain::vn;
use baocao::service::{self, CurrentUser};
use baocao::startup::prepare;

#[test]
fn each_district_handed_over_by_the_walk_is_that_district_s_own_consolidation() {
    let dir = tempfile::tempdir().unwrap();
    let (state, prepared) = prepare(&Settings {
        database: dir.path().join("baocao.db").to_string_lossy().into_owned(),
        demo: true,
        ..Settings::default()
    })
    .unwrap();
    let round = prepared.demo_round.expect("the demo round");
    let mut conn = state.pool.get().unwrap();
    let province = service::units::unit_by_code(&mut conn, "34", None)
        .unwrap()
        .unwrap();
    let console = CurrentUser::console(province.clone());
    let ctx = service::access::round_for(&mut conn, &state.catalog, &console, round, vn::now_utc())
        .unwrap();
    for provisional in [false, true] {
        let mut handed = Vec::new();
        let summary =
            service::rollup::rollup_each(&mut conn, &console, &ctx, &province, provisional, |v| {
                handed.push(v);
                Ok(())
            })
            .unwrap();
        let whole =
            service::rollup::rollup(&mut conn, &console, &ctx, &province, provisional).unwrap();
        assert_eq!(
            serde_json::to_value(&summary).unwrap(),
            serde_json::to_value(&whole).unwrap()
        );
        // Every district, in the order of the summary's rows.
        let names: Vec<&str> = handed.iter().map(|v| v.unit.name.as_str()).collect();
        let rows: Vec<&str> = summary.rows.iter().map(|r| r.unit.name.as_str()).collect();
        assert_eq!(names, rows);
        assert_eq!(handed.len(), 8);
        let mut accepted = 0;
        for view in &handed {
            let district = service::units::unit_by_code(&mut conn, &view.unit.code, None)
                .unwrap()
                .unwrap();
            let alone =
                service::rollup::rollup(&mut conn, &console, &ctx, &district, provisional).unwrap();
            assert_eq!(
                serde_json::to_value(view).unwrap(),
                serde_json::to_value(&alone).unwrap(),
                "{}",
                view.unit.name
            );
            accepted += view.total.reports;
        }
        assert_eq!(accepted, summary.total.reports);
        assert!(accepted > 50, "{accepted}");
    }
}

fn run(args: &[&str], db: &std::path::Path) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_baocao"))
        .args(args)
        .arg("--database")
        .arg(db)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn rollups_check_finds_a_stored_consolidation_that_is_wrong_and_rebuild_mends_it() {
    use diesel::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("baocao.db");
    let (state, _) = prepare(&Settings {
        database: db.to_string_lossy().into_owned(),
        demo: true,
        ..Settings::default()
    })
    .unwrap();
    let mut conn = state.pool.get().unwrap();
    let (ok, out, err) = run(&["rollups", "check"], &db);
    assert!(ok, "{out}{err}");
    // The open round and the five closed ones before it.
    assert_eq!(out.matches("số liệu tổng hợp khớp.").count(), 6, "{out}");

    // Spoil two states of the open round: one district's accepted figures become another's,
    // another district's state goes missing.
    diesel::sql_query(
        "UPDATE rollup_states SET accepted = (SELECT accepted FROM rollup_states s \
         JOIN units u ON u.id = s.unit_id WHERE s.round_id = 1 AND u.code = '336') \
         WHERE round_id = 1 AND unit_id = (SELECT id FROM units WHERE code = '338')",
    )
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query(
        "DELETE FROM rollup_states WHERE round_id = 1 AND unit_id = (SELECT id FROM units WHERE code = '339')",
    )
    .execute(&mut conn)
    .unwrap();
    let (ok, out, err) = run(&["rollups", "check"], &db);
    assert!(!ok, "{out}");
    assert!(
        out.contains("Kỳ số 1: Huyện Quỳnh Phụ (338): số liệu đã tiếp nhận khác."),
        "{out}"
    );
    assert!(out.contains("(339): thiếu số liệu tổng hợp."), "{out}");
    // The province above them is still right: it was merged from the states before the damage.
    assert_eq!(out.matches("Kỳ số 1:").count(), 2, "{out}");
    assert!(err.contains("2 chỗ không khớp"), "{err}");
    assert!(err.contains("baocao rollups rebuild"), "{err}");

    let (ok, out, err) = run(&["rollups", "rebuild", "--round", "1"], &db);
    assert!(ok, "{out}{err}");
    assert!(out.contains("Kỳ số 1: đã tổng hợp lại."), "{out}");
    let (ok, out, err) = run(&["rollups", "check"], &db);
    assert!(ok, "{out}{err}");
    let (ok, _, err) = run(&["rollups", "check", "--round", "99"], &db);
    assert!(!ok);
    assert!(err.contains("không có kỳ báo cáo số 99"), "{err}");
}

#[test]
fn the_national_demo_loads_the_whole_country_once_with_its_boards_and_a_round() {
    use diesel::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        database: dir.path().join("baocao.db").to_string_lossy().into_owned(),
        demo_national: true,
        ..Settings::default()
    };
    let (state, prepared) = prepare(&settings).unwrap();
    let round = prepared.demo_round.expect("the national round");
    let mut conn = state.pool.get().unwrap();
    let nation = service::units::unit_by_code(&mut conn, "VN", None)
        .unwrap()
        .unwrap();
    let console = CurrentUser::console(nation.clone());
    let ctx = service::access::round_for(&mut conn, &state.catalog, &console, round, vn::now_utc())
        .unwrap();
    let view = service::rollup::rollup(&mut conn, &console, &ctx, &nation, false).unwrap();
    assert_eq!(view.rows.len(), 63);
    assert!(view.total.completeness.expected >= 10_051);
    assert!(view.total.reports > 3_000, "{}", view.total.reports);
    assert!(
        service::rollup::live::check(&mut conn, &ctx)
            .unwrap()
            .is_empty()
    );
    // Every board has an account, communes only a sample.
    use baocao::db::schema::accounts;
    let roles: Vec<String> = accounts::table
        .select(accounts::role)
        .load(&mut conn)
        .unwrap();
    let count = |r: &str| roles.iter().filter(|x| *x == r).count();
    assert_eq!(count("national"), 1);
    assert_eq!(count("province"), 63);
    assert_eq!(count("district"), 696);
    let communes = count("commune");
    assert!((900..2_000).contains(&communes), "{communes}");
    drop(conn);
    drop(state);
    // Again: nothing new.
    let (_, again) = prepare(&settings).unwrap();
    assert_eq!(again.demo_round, None);
}
