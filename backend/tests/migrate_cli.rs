//! `baocao migrate` as the operator runs it: the binary, a demo SQLite file, a new database on
//! the test's PostgreSQL cluster (`./scripts/test` starts one and names it in
//! `BAOCAO_TEST_PG_CLUSTER`); then `rollups check` on the target through the same binary.

use baocao::config::Settings;
use baocao::startup::prepare;
use diesel::prelude::*;

fn baocao(args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_baocao"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A new database on the cluster, dropped when the guard goes.
struct PgDatabase {
    cluster: String,
    name: String,
}

impl PgDatabase {
    fn new(name: &str) -> PgDatabase {
        let cluster = std::env::var("BAOCAO_TEST_PG_CLUSTER")
            .or_else(|_| std::env::var("BAOCAO_TEST_POSTGRES"))
            .expect("this test needs a PostgreSQL cluster: run ./scripts/test, which starts one, or set BAOCAO_TEST_PG_CLUSTER=postgres://user@host:port");
        let db = PgDatabase {
            cluster: cluster.trim_end_matches('/').to_owned(),
            name: format!("{name}_{}", std::process::id()),
        };
        db.admin(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", db.name));
        db.admin(&format!("CREATE DATABASE {}", db.name));
        db
    }

    fn url(&self) -> String {
        format!("{}/{}", self.cluster, self.name)
    }

    fn admin(&self, sql: &str) {
        let mut conn = diesel::PgConnection::establish(&format!("{}/postgres", self.cluster))
            .expect("the test cluster");
        diesel::sql_query(sql).execute(&mut conn).unwrap();
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        self.admin(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}

#[test]
fn the_operator_moves_a_demo_file_to_postgresql_and_checks_it_there() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("baocao.db");
    let file = file.to_str().unwrap();
    drop(
        prepare(&Settings {
            database: file.to_owned(),
            demo: true,
            ..Settings::default()
        })
        .unwrap(),
    );
    let target = PgDatabase::new("migrate_cli");
    let url = target.url();

    // A source that is not there: said, and nothing made at the target (the move below
    // needs it empty).
    let missing = dir.path().join("khong-co.db");
    let (ok, _, err) = baocao(&["migrate", "--from", missing.to_str().unwrap(), "--to", &url]);
    assert!(!ok);
    assert!(err.contains("không có tệp cơ sở dữ liệu nguồn"), "{err}");

    let (ok, out, err) = baocao(&["migrate", "--from", file, "--to", &url]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("số dòng từng bảng khớp"), "{out}");
    assert!(out.contains("  reports: 1.446"), "{out}");
    assert!(out.contains("6 kỳ báo cáo"), "{out}");

    let (ok, out, err) = baocao(&["rollups", "check", "--database", &url]);
    assert!(ok, "{out}{err}");
    assert_eq!(out.matches("số liệu tổng hợp khớp").count(), 6, "{out}");
    let (ok, out, _) = baocao(&["rounds", "--database", &url]);
    assert!(ok && out.contains("6 tháng đầu năm 2025"), "{out}");

    // Once more: the target is in use now.
    let (ok, _, err) = baocao(&["migrate", "--from", file, "--to", &url]);
    assert!(!ok);
    assert!(err.contains("đã có dữ liệu"), "{err}");
}
