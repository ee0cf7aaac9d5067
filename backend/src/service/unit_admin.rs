//! The administrator's changes to the tree of units: adding a unit, renaming one, closing one
//! on a date. (A reorganisation of many units at once is `baocao units reorganise`.) Each
//! change is in the audit trail; rounds of earlier periods keep the tree they had.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use report_schemas::FieldError;
use serde::Deserialize;
use serde_json::json;

use super::access::CurrentUser;
use super::audit;
use super::units::unit_by_code;
use crate::db::Conn;
use crate::db::models::{NewUnit, Unit};
use crate::db::schema::units;
use crate::domain::{Role, UnitCode, UnitRef, vn};
use crate::error::{AppError, AppResult};

fn ensure_admin(user: &CurrentUser) -> AppResult<()> {
    if user.role == Role::Admin {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Chỉ quản trị hệ thống mới thêm, đổi tên hay kết thúc đơn vị.".into(),
        ))
    }
}

fn problem(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// A new unit as typed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUnitInput {
    /// The code of the unit it belongs to.
    pub parent: String,
    pub code: String,
    pub name: String,
    /// `district` or `commune`.
    pub kind: String,
    /// The day it exists from; by default, always.
    #[serde(default)]
    pub valid_from: Option<NaiveDate>,
}

fn clean_name(name: &str, errors: &mut Vec<FieldError>) -> String {
    let name = vn::clean(name.trim());
    if name.chars().count() < 2 || name.chars().count() > 100 {
        errors.push(problem(
            "name",
            "Tên đơn vị gồm 2 đến 100 ký tự, có chữ chỉ cấp, ví dụ «Xã An Khê».",
        ));
    }
    name
}

/// The current unit with `code`, or a field error naming it.
fn current(conn: &mut Conn, field: &str, code: &str) -> AppResult<Result<Unit, FieldError>> {
    let unit = match UnitCode::parse(code) {
        Some(c) => unit_by_code(conn, c.as_str(), None)?,
        None => None,
    };
    Ok(unit.filter(|u| u.valid_to.is_none()).ok_or_else(|| {
        problem(
            field,
            format!("Không có đơn vị đang hoạt động mã «{}».", code.trim()),
        )
    }))
}

pub fn add_unit(
    conn: &mut Conn,
    user: &CurrentUser,
    input: &NewUnitInput,
    now: NaiveDateTime,
) -> AppResult<UnitRef> {
    ensure_admin(user)?;
    let mut errors = Vec::new();
    let name = clean_name(&input.name, &mut errors);
    let code = input.code.trim().to_owned();
    match UnitCode::parse(&code) {
        None => errors.push(problem(
            "code",
            "Mã đơn vị gồm chữ số (mã của Tổng cục Thống kê), ví dụ 12475.",
        )),
        Some(c) => {
            if unit_by_code(conn, c.as_str(), None)?.is_some_and(|u| u.valid_to.is_none()) {
                errors.push(problem(
                    "code",
                    format!("Đã có đơn vị đang hoạt động mã «{code}»."),
                ));
            }
        }
    }
    if !matches!(input.kind.as_str(), "district" | "commune") {
        errors.push(problem(
            "kind",
            "Cấp đơn vị là «district» (huyện, thành phố, thị xã) hoặc «commune» (xã, phường, thị trấn).",
        ));
    }
    let parent = match current(conn, "parent", &input.parent)? {
        Ok(p) => Some(p),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    if !errors.is_empty() {
        return Err(AppError::invalid(errors));
    }
    let Some(parent) = parent else {
        return Err(AppError::invalid(errors));
    };
    let path = format!("{}{code}/", parent.path);
    super::write_transaction(conn, |conn| {
        let id: i32 = diesel::insert_into(units::table)
            .values(NewUnit {
                code: &code,
                name: &name,
                kind: &input.kind,
                parent_id: Some(parent.id),
                path: &path,
                depth: parent.depth + 1,
                valid_from: input.valid_from,
            })
            .returning(units::id)
            .get_result(conn)?;
        audit(
            conn,
            user,
            "create_unit",
            "unit",
            Some(id),
            Some(id),
            json!({ "code": code, "name": name, "parent": parent.code, "valid_from": input.valid_from }),
            now,
        )?;
        // Every round cut off since it exists expects its report.
        super::rollup::live::rebuild_from(conn, input.valid_from)?;
        Ok(())
    })?;
    Ok(UnitRef { code, name })
}

pub fn rename_unit(
    conn: &mut Conn,
    user: &CurrentUser,
    code: &str,
    new_name: &str,
    now: NaiveDateTime,
) -> AppResult<UnitRef> {
    ensure_admin(user)?;
    let mut errors = Vec::new();
    let name = clean_name(new_name, &mut errors);
    let unit = match current(conn, "code", code)? {
        Ok(u) => Some(u),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let Some(unit) = unit.filter(|_| errors.is_empty()) else {
        return Err(AppError::invalid(errors));
    };
    super::write_transaction(conn, |conn| {
        diesel::update(units::table.find(unit.id))
            .set(units::name.eq(&name))
            .execute(conn)?;
        audit(
            conn,
            user,
            "rename_unit",
            "unit",
            Some(unit.id),
            Some(unit.id),
            json!({ "code": unit.code, "changes": [{ "field": "name", "from": unit.name, "to": name }] }),
            now,
        )?;
        // Units are consolidated in the order of their names, which decides how decimal sums
        // round: every round is merged again in the new order.
        super::rollup::live::rebuild_from(conn, None)?;
        Ok(())
    })?;
    Ok(UnitRef {
        code: unit.code,
        name,
    })
}

/// Closes a unit: it exists until `on`, the last day. A unit with units still open below it
/// is not closed: they are closed (or moved by a reorganisation) first.
pub fn close_unit(
    conn: &mut Conn,
    user: &CurrentUser,
    code: &str,
    on: NaiveDate,
    now: NaiveDateTime,
) -> AppResult<UnitRef> {
    ensure_admin(user)?;
    let unit = current(conn, "code", code)?.map_err(|e| AppError::invalid(vec![e]))?;
    if unit.parent_id.is_none() {
        return Err(AppError::conflict(
            "root_unit",
            "Không kết thúc được đơn vị cao nhất của hệ thống.",
        ));
    }
    if unit.valid_from.is_some_and(|from| on < from) {
        return Err(AppError::invalid(vec![problem(
            "on",
            format!(
                "Ngày kết thúc phải từ ngày đơn vị bắt đầu ({}) trở đi.",
                unit.valid_from.map(vn::date_short).unwrap_or_default()
            ),
        )]));
    }
    let open_below: i64 = units::table
        .filter(units::parent_id.eq(unit.id))
        .filter(units::valid_to.is_null().or(units::valid_to.gt(on)))
        .count()
        .get_result(conn)?;
    if open_below > 0 {
        return Err(AppError::conflict(
            "has_children",
            format!(
                "{} còn {open_below} đơn vị trực thuộc đang hoạt động sau ngày {}; xin kết thúc hoặc sắp xếp các đơn vị đó trước.",
                unit.name,
                vn::date_short(on)
            ),
        ));
    }
    super::write_transaction(conn, |conn| {
        diesel::update(units::table.find(unit.id))
            .set(units::valid_to.eq(Some(on)))
            .execute(conn)?;
        audit(
            conn,
            user,
            "close_unit",
            "unit",
            Some(unit.id),
            Some(unit.id),
            json!({ "code": unit.code, "name": unit.name, "valid_to": on }),
            now,
        )?;
        // Rounds cut off after its last day no longer expect its report.
        super::rollup::live::rebuild_from(conn, Some(on))?;
        Ok(())
    })?;
    Ok(UnitRef {
        code: unit.code,
        name: unit.name,
    })
}
