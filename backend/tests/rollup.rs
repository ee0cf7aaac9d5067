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
