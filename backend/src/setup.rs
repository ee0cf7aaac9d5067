//! `baocao setup`: a province goes live on an empty database. It chooses its province (any of
//! the 63, by GSO code, from the official national list shipped in the binary, or a CSV of the
//! same shape for a tree of its own), loads its units, and creates the first administrator with
//! a password the operator types (never a default one). Run again, it does only what is missing
//! and says what it found.

use diesel::prelude::*;

use crate::db::Conn;
use crate::db::models::{NewAccount, NewAuditEntry, Unit};
use crate::db::schema::{accounts, audit_log, units};
use crate::domain::{Role, UnitRef, vn};
use crate::seed;
use crate::service::session;

/// The official list of the whole country's units (GSO, 2025-01-04): 63 provinces, 696
/// district-level units, 10,051 communes.
pub const NATIONAL_UNITS: &str = include_str!("../../seeds/vietnam_units_2025-01-04.csv");

#[derive(Debug, serde::Deserialize, Clone)]
struct Row {
    code: String,
    name: String,
    kind: String,
    parent_code: String,
}

/// Why setup did not go ahead, in Vietnamese for the operator.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SetupError(pub String);

impl From<anyhow::Error> for SetupError {
    fn from(e: anyhow::Error) -> Self {
        SetupError(format!("Lỗi khi thiết lập: {e:#}"))
    }
}

impl From<diesel::result::Error> for SetupError {
    fn from(e: diesel::result::Error) -> Self {
        SetupError(format!("Lỗi cơ sở dữ liệu khi thiết lập: {e}"))
    }
}

/// Where the units come from.
pub enum Source<'a> {
    /// A province of the national list, by its GSO code (e.g. "34").
    Province(&'a str),
    /// A CSV `code,name,kind,parent_code` of a tree of one's own, with a single root.
    File(&'a str),
    /// The whole country: every province of the national list under a national root.
    Country,
}

/// The national root of a whole-country installation.
pub const NATION_CODE: &str = "VN";
pub const NATION_NAME: &str = "Toàn quốc";

/// The first administrator.
pub struct Admin {
    pub username: String,
    pub full_name: String,
}

/// What setup did.
#[derive(Debug)]
pub struct Summary {
    pub root: UnitRef,
    pub units_added: usize,
    pub units_total: usize,
    /// The administrator created now, or `None` when one was there already.
    pub admin_created: Option<String>,
    pub admin_existing: Vec<String>,
}

/// The rows of `root` and every unit below it, parents first, as the lists are ordered.
fn subtree(rows: &[Row], root: &str) -> Vec<Row> {
    let mut inside = std::collections::HashSet::from([root.to_owned()]);
    let mut out = Vec::new();
    for row in rows {
        if row.code == root || inside.contains(&row.parent_code) {
            inside.insert(row.code.clone());
            out.push(row.clone());
        }
    }
    out
}

fn read_rows(csv_text: &str) -> Result<Vec<Row>, SetupError> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    reader
        .deserialize()
        .enumerate()
        .map(|(i, row)| {
            row.map_err(|e| {
                SetupError(format!(
                    "Tệp đơn vị, dòng {}: không đọc được ({e}). Cần các cột code,name,kind,parent_code.",
                    i + 2
                ))
            })
        })
        .collect()
}

/// The units the source names: the province's subtree, or the file's whole tree.
fn units_of(source: &Source) -> Result<Vec<Row>, SetupError> {
    match source {
        Source::Province(code) => {
            let rows = read_rows(NATIONAL_UNITS)?;
            let code = code.trim();
            if !rows
                .iter()
                .any(|r| r.code == code && r.parent_code.is_empty())
            {
                let mut provinces: Vec<String> = rows
                    .iter()
                    .filter(|r| r.parent_code.is_empty())
                    .map(|r| format!("{} {}", r.code, r.name))
                    .collect();
                provinces.sort();
                return Err(SetupError(format!(
                    "Không có tỉnh, thành phố mã «{code}» trong danh sách đơn vị hành chính ngày 04/01/2025. Các mã: {}.",
                    provinces.join("; ")
                )));
            }
            Ok(subtree(&rows, code))
        }
        Source::Country => {
            let mut rows = read_rows(NATIONAL_UNITS)?;
            for r in rows.iter_mut().filter(|r| r.parent_code.is_empty()) {
                r.parent_code = NATION_CODE.into();
            }
            rows.insert(
                0,
                Row {
                    code: NATION_CODE.into(),
                    name: NATION_NAME.into(),
                    kind: "nation".into(),
                    parent_code: String::new(),
                },
            );
            Ok(rows)
        }
        Source::File(text) => {
            let rows = read_rows(text)?;
            let roots: Vec<&Row> = rows.iter().filter(|r| r.parent_code.is_empty()).collect();
            match roots.as_slice() {
                [root] => Ok(subtree(&rows, &root.code.clone())),
                [] => Err(SetupError(
                    "Tệp đơn vị không có đơn vị gốc (dòng có parent_code để trống).".into(),
                )),
                _ => Err(SetupError(format!(
                    "Tệp đơn vị có {} đơn vị gốc; cần đúng một (tỉnh hoặc đơn vị cao nhất).",
                    roots.len()
                ))),
            }
        }
    }
}

fn to_csv(rows: &[Row]) -> Result<String, SetupError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["code", "name", "kind", "parent_code"])
        .map_err(anyhow::Error::from)?;
    for r in rows {
        w.write_record([&r.code, &r.name, &r.kind, &r.parent_code])
            .map_err(anyhow::Error::from)?;
    }
    Ok(
        String::from_utf8(w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)
            .map_err(anyhow::Error::from)?,
    )
}

/// The whole country's units under the national root, as the CSV `seed::load_units` reads.
pub fn country_csv() -> Result<String, SetupError> {
    to_csv(&units_of(&Source::Country)?)
}

/// The administrators already there, by user name.
pub fn administrators(conn: &mut Conn) -> Result<Vec<String>, SetupError> {
    Ok(accounts::table
        .filter(accounts::role.eq(Role::Admin.as_str()))
        .select(accounts::username)
        .order(accounts::username.asc())
        .load(conn)?)
}

/// Sets the province up. `password` is asked for only when an administrator is to be created:
/// it is called at most once, and its answer is checked for strength.
pub fn setup(
    conn: &mut Conn,
    source: &Source,
    admin: &Admin,
    password: impl FnOnce() -> Result<String, SetupError>,
) -> Result<Summary, SetupError> {
    let rows = units_of(source)?;
    let root = rows
        .first()
        .cloned()
        .ok_or_else(|| SetupError("Không có đơn vị nào để nạp.".into()))?;
    // One database serves one tree: a second root would be a second installation.
    let roots: Vec<Unit> = units::table
        .filter(units::parent_id.is_null())
        .select(Unit::as_select())
        .load(conn)?;
    if let Some(other) = roots.iter().find(|u| u.code != root.code) {
        return Err(SetupError(format!(
            "Cơ sở dữ liệu này đã được thiết lập cho {} (mã {}); mỗi cơ sở dữ liệu phục vụ một tỉnh. Dùng một tệp cơ sở dữ liệu khác cho {}.",
            other.name, other.code, root.name
        )));
    }
    let csv_text = to_csv(&rows)?;
    let units_added = seed::load_units(conn, &csv_text)?;
    let root_unit: Unit = units::table
        .filter(units::code.eq(&root.code))
        .filter(units::parent_id.is_null())
        .select(Unit::as_select())
        .first(conn)?;
    let admin_existing = administrators(conn)?;
    let admin_created = if admin_existing.is_empty() {
        let username = admin.username.trim().to_owned();
        if username.is_empty() || username.chars().any(char::is_whitespace) {
            return Err(SetupError(
                "Tên đăng nhập của quản trị không được để trống hay có khoảng trắng.".into(),
            ));
        }
        let full_name = vn::clean(admin.full_name.trim());
        let password = password()?;
        if let Some(problem) =
            session::password_problem(&password, &[&username, &full_name, &root_unit.name])
        {
            return Err(SetupError(problem));
        }
        let hash = session::hash_password(&password)?;
        let now = vn::now_utc();
        crate::db::write_lock_transaction::<_, SetupError>(conn, |conn| {
            let taken: i64 = accounts::table
                .filter(accounts::username.eq(&username))
                .count()
                .get_result(conn)?;
            if taken > 0 {
                return Err(SetupError(format!(
                    "Tên đăng nhập «{username}» đã có người dùng; xin chọn tên khác (--admin-username)."
                )));
            }
            diesel::insert_into(accounts::table)
                .values(NewAccount {
                    username: &username,
                    password_hash: &hash,
                    full_name: &full_name,
                    unit_id: root_unit.id,
                    role: Role::Admin.as_str(),
                    active: true,
                    created_at: now,
                    phone: None,
                    email: None,
                    must_change_password: false,
                })
                .execute(conn)?;
            diesel::insert_into(audit_log::table)
                .values(NewAuditEntry {
                    at: now,
                    actor_id: None,
                    action: "setup",
                    entity: "account",
                    entity_id: None,
                    unit_id: Some(root_unit.id),
                    details: &serde_json::json!({
                        "administrator": username,
                        "units_added": units_added,
                    })
                    .to_string(),
                })
                .execute(conn)?;
            Ok(())
        })?;
        Some(username)
    } else {
        None
    };
    let units_total = rows.len();
    Ok(Summary {
        root: UnitRef {
            code: root_unit.code,
            name: root_unit.name,
        },
        units_added,
        units_total,
        admin_created,
        admin_existing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_province_of_the_national_list_is_found_with_its_units() {
        let thai_binh = units_of(&Source::Province("34")).unwrap();
        assert_eq!(
            thai_binh.len(),
            251,
            "1 province, 8 districts, 242 communes"
        );
        assert_eq!(thai_binh[0].name, "Tỉnh Thái Bình");
        let ha_noi = units_of(&Source::Province("01")).unwrap();
        assert_eq!(ha_noi[0].name, "Thành phố Hà Nội");
        assert!(
            ha_noi
                .iter()
                .all(|r| r.code == "01" || !r.parent_code.is_empty())
        );
        let err = units_of(&Source::Province("99")).unwrap_err();
        assert!(err.0.contains("Không có tỉnh, thành phố mã «99»"), "{err}");
        assert!(err.0.contains("34 Tỉnh Thái Bình"), "{err}");
    }

    #[test]
    fn a_file_of_ones_own_needs_a_single_root() {
        let two = "code,name,kind,parent_code\n1,A,province,\n2,B,province,\n";
        assert!(
            units_of(&Source::File(two))
                .unwrap_err()
                .0
                .contains("2 đơn vị gốc")
        );
        let broken = "code,name\n1,A\n";
        assert!(
            units_of(&Source::File(broken))
                .unwrap_err()
                .0
                .contains("dòng 2")
        );
    }
}
