//! Reorganisations of the unit tree (communes merged; on 1/7/2025 the district level abolished
//! and Thái Bình merged into Hưng Yên). Old units keep their rows, closed the day before; new
//! units open on the day; a succession links each old unit to the one that continues it.
//! Rounds of earlier periods keep their tree and their rollups; nothing filed moves or is lost.

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveDate};
use diesel::prelude::*;
use serde_json::json;

use crate::db::Conn;
use crate::db::models::{NewAuditEntry, NewUnit, TeamMember, TeamMemberForm, Unit};
use crate::db::schema::{accounts, audit_log, rounds, team_members, unit_successions, units};
use crate::domain::{UnitCode, vn};
use crate::service::units::unit_by_code;

#[derive(Debug, serde::Deserialize)]
struct MappingRow {
    old_code: String,
    new_code: String,
    new_name: String,
}

/// Where the new units hang: the unit they are placed under, created if it does not exist.
#[derive(Debug, Clone)]
pub struct Placement {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Default, serde::Serialize)]
pub struct Summary {
    pub new_units: usize,
    pub closed_units: usize,
    pub accounts_moved: usize,
    pub rounds_moved: usize,
    pub members_carried: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ReorgError {
    /// A fault in the file or the request, in Vietnamese, naming the line or the code.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<crate::error::AppError> for ReorgError {
    fn from(e: crate::error::AppError) -> Self {
        ReorgError::Other(anyhow::anyhow!("{e}"))
    }
}

fn invalid(message: impl Into<String>) -> ReorgError {
    ReorgError::Invalid(message.into())
}

/// Reads the mapping (`old_code,new_code,new_name`), every old code once, one name per new code.
fn read_mapping(csv_text: &str) -> Result<Vec<MappingRow>, ReorgError> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let mut rows: Vec<MappingRow> = Vec::new();
    let mut names: HashMap<String, String> = HashMap::new();
    for (i, row) in reader.deserialize::<MappingRow>().enumerate() {
        let line = i + 2;
        let mut row = row.map_err(|e| invalid(format!("Dòng {line}: không đọc được ({e}).")))?;
        row.new_name = vn::nfc(row.new_name.trim());
        for code in [&row.old_code, &row.new_code] {
            if UnitCode::parse(code).is_none() {
                return Err(invalid(format!(
                    "Dòng {line}: mã đơn vị «{code}» không hợp lệ."
                )));
            }
        }
        if row.new_name.is_empty() {
            return Err(invalid(format!("Dòng {line}: thiếu tên đơn vị mới.")));
        }
        if rows.iter().any(|r| r.old_code == row.old_code) {
            return Err(invalid(format!(
                "Dòng {line}: đơn vị cũ {} có hai dòng; một đơn vị cũ chỉ nhập vào một đơn vị mới.",
                row.old_code
            )));
        }
        if let Some(name) = names.get(&row.new_code)
            && *name != row.new_name
        {
            return Err(invalid(format!(
                "Dòng {line}: đơn vị mới {} có hai tên khác nhau («{name}», «{}»).",
                row.new_code, row.new_name
            )));
        }
        names.insert(row.new_code.clone(), row.new_name.clone());
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(invalid("Tệp không có dòng nào."));
    }
    Ok(rows)
}

fn kind_of(name: &str) -> &'static str {
    if name.starts_with("Tỉnh ") || name.starts_with("Thành phố trực thuộc") {
        "province"
    } else {
        "commune"
    }
}

/// Applies a reorganisation on `on`, in one transaction with its audit row.
pub fn reorganise(
    conn: &mut Conn,
    csv_text: &str,
    on: NaiveDate,
    into: &Placement,
) -> Result<Summary, ReorgError> {
    let rows = read_mapping(csv_text)?;
    let eve = on - Duration::days(1);
    let now = vn::now_utc();
    crate::db::write_lock_transaction(conn, |conn| {
        let mut summary = Summary::default();
        // The old units, as they were the day before.
        let mut old: Vec<(Unit, &MappingRow)> = Vec::with_capacity(rows.len());
        for row in &rows {
            let unit = unit_by_code(conn, &row.old_code, Some(eve))?.ok_or_else(|| {
                invalid(format!(
                    "Không có đơn vị mã {} vào ngày {}.",
                    row.old_code,
                    vn::date_short(eve)
                ))
            })?;
            let children: i64 = units::table
                .filter(units::parent_id.eq(unit.id))
                .filter(units::valid_to.is_null().or(units::valid_to.ge(eve)))
                .count()
                .get_result(conn)?;
            if children > 0 {
                return Err(invalid(format!(
                    "Đơn vị {} ({}) còn đơn vị trực thuộc; tệp chỉ sắp xếp đơn vị cấp cơ sở.",
                    unit.code, unit.name
                )));
            }
            old.push((unit, row));
        }
        if let Some(row) = rows.iter().find(|r| {
            unit_by_code(conn, &r.new_code, Some(on))
                .ok()
                .flatten()
                .is_some_and(|u| u.valid_from == Some(on))
        }) {
            return Err(invalid(format!(
                "Sắp xếp này đã được áp dụng: đơn vị {} đã có từ ngày {}.",
                row.new_code,
                vn::date_short(on)
            )));
        }

        // The unit the new ones hang under.
        let parent = match unit_by_code(conn, &into.code, Some(on))? {
            Some(u) => u,
            None => {
                let name = vn::nfc(into.name.trim());
                if name.is_empty() {
                    return Err(invalid(format!(
                        "Chưa có đơn vị {}: cần tên của đơn vị này (--into-name).",
                        into.code
                    )));
                }
                let path = format!("/{}/", into.code);
                let id: i32 = diesel::insert_into(units::table)
                    .values(NewUnit {
                        code: &into.code,
                        name: &name,
                        kind: kind_of(&name),
                        parent_id: None,
                        path: &path,
                        depth: 0,
                        valid_from: Some(on),
                    })
                    .returning(units::id)
                    .get_result(conn)?;
                summary.new_units += 1;
                units::table
                    .find(id)
                    .select(Unit::as_select())
                    .first(conn)?
            }
        };

        // The new units.
        let mut new_units: BTreeMap<String, Unit> = BTreeMap::new();
        for row in &rows {
            if new_units.contains_key(&row.new_code) {
                continue;
            }
            let path = format!("{}{}/", parent.path, row.new_code);
            let id: i32 = diesel::insert_into(units::table)
                .values(NewUnit {
                    code: &row.new_code,
                    name: &row.new_name,
                    kind: "commune",
                    parent_id: Some(parent.id),
                    path: &path,
                    depth: parent.depth + 1,
                    valid_from: Some(on),
                })
                .returning(units::id)
                .get_result(conn)?;
            let unit = units::table
                .find(id)
                .select(Unit::as_select())
                .first(conn)?;
            new_units.insert(row.new_code.clone(), unit);
            summary.new_units += 1;
        }

        // Close the old units, link each to its successor, carry its team and its accounts.
        let mut successor: HashMap<i32, i32> = HashMap::new();
        for (unit, row) in &old {
            let new = &new_units[&row.new_code];
            diesel::update(units::table.find(unit.id))
                .set(units::valid_to.eq(Some(eve)))
                .execute(conn)?;
            summary.closed_units += 1;
            diesel::insert_into(unit_successions::table)
                .values((
                    unit_successions::old_unit_id.eq(unit.id),
                    unit_successions::new_unit_id.eq(new.id),
                    unit_successions::on_date.eq(on),
                ))
                .execute(conn)?;
            successor.insert(unit.id, new.id);
            summary.accounts_moved +=
                diesel::update(accounts::table.filter(accounts::unit_id.eq(unit.id)))
                    .set(accounts::unit_id.eq(new.id))
                    .execute(conn)?;
            // The merged team starts as the union of the teams still serving on the day.
            let members: Vec<TeamMember> = team_members::table
                .filter(team_members::unit_id.eq(unit.id))
                .select(TeamMember::as_select())
                .load(conn)?;
            for m in members.iter().filter(|m| m.left_on.is_none_or(|d| d >= on)) {
                diesel::insert_into(team_members::table)
                    .values(TeamMemberForm {
                        unit_id: new.id,
                        full_name: &m.full_name,
                        position: &m.position,
                        other_post: m.other_post.as_deref(),
                        sex: &m.sex,
                        birth_year: m.birth_year,
                        education: &m.education,
                        theory: &m.theory,
                        joined_on: m.joined_on,
                        left_on: m.left_on,
                        version: 1,
                        updated_at: now,
                        updated_by: None,
                    })
                    .execute(conn)?;
                summary.members_carried += 1;
            }
        }

        // Close every ancestor left without units; a closed root is continued by `parent`.
        let mut level: Vec<i32> = old.iter().filter_map(|(u, _)| u.parent_id).collect();
        level.sort_unstable();
        level.dedup();
        while !level.is_empty() {
            let mut next = Vec::new();
            for id in level {
                if id == parent.id {
                    continue;
                }
                let open_children: i64 = units::table
                    .filter(units::parent_id.eq(id))
                    .filter(units::valid_to.is_null().or(units::valid_to.ge(on)))
                    .count()
                    .get_result(conn)?;
                if open_children > 0 {
                    continue;
                }
                let unit: Unit = units::table
                    .find(id)
                    .select(Unit::as_select())
                    .first(conn)?;
                if unit.valid_to.is_some_and(|to| to < on) {
                    continue;
                }
                diesel::update(units::table.find(id))
                    .set(units::valid_to.eq(Some(eve)))
                    .execute(conn)?;
                summary.closed_units += 1;
                match unit.parent_id {
                    Some(p) => next.push(p),
                    None => {
                        diesel::insert_into(unit_successions::table)
                            .values((
                                unit_successions::old_unit_id.eq(unit.id),
                                unit_successions::new_unit_id.eq(parent.id),
                                unit_successions::on_date.eq(on),
                            ))
                            .execute(conn)?;
                        successor.insert(unit.id, parent.id);
                        summary.accounts_moved +=
                            diesel::update(accounts::table.filter(accounts::unit_id.eq(unit.id)))
                                .set(accounts::unit_id.eq(parent.id))
                                .execute(conn)?;
                    }
                }
            }
            next.sort_unstable();
            next.dedup();
            level = next;
        }

        // Open rounds of periods ending on or after the day follow their owner's successor.
        for (old_id, new_id) in &successor {
            summary.rounds_moved += diesel::update(
                rounds::table
                    .filter(rounds::owner_unit_id.eq(*old_id))
                    .filter(rounds::status.eq("open"))
                    .filter(rounds::period_end.ge(on)),
            )
            .set(rounds::owner_unit_id.eq(*new_id))
            .execute(conn)?;
        }
        // Rounds cut off on or after the day consolidate over the new tree; older ones keep theirs.
        crate::service::rollup::live::rebuild_from(conn, Some(on))?;

        diesel::insert_into(audit_log::table)
            .values(NewAuditEntry {
                at: now,
                actor_id: None,
                action: "reorganise",
                entity: "unit",
                entity_id: Some(parent.id),
                unit_id: Some(parent.id),
                details: &json!({ "on": on, "summary": &summary, "rows": rows.len() }).to_string(),
            })
            .execute(conn)?;
        Ok(summary)
    })
}
