//! Who is asking, and what they may see and do: the rules, always judged on the server. A
//! unit outside a person's subtree and a unit that does not exist get the same answer, so that
//! nothing leaks.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::RoundCtx;
use super::units::unit_by_code;
use crate::catalog::Catalog;
use crate::db::Conn;
use crate::db::models::{Account, Round, Unit};
use crate::db::schema::{reports, rounds, unit_successions, units};
use crate::domain::{Role, UnitCode, vn};
use crate::error::{AppError, AppResult};

/// The signed-in person, with their unit and role.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub account: Account,
    pub unit: Unit,
    pub role: Role,
    /// The unit and the units it continues after reorganisations (merged communes, a merged
    /// province): a team reads, files and reviews what its predecessors did.
    pub reach: Vec<Unit>,
    /// The token every form of this person's session carries (see [`super::session::csrf_token`]);
    /// empty for the console.
    pub csrf: String,
    /// The session this request came with (its token's hash); `None` for the console.
    pub session: Option<String>,
}

impl CurrentUser {
    /// The operator at the console (`baocao export`): an administrator's reading rights over
    /// `unit`'s subtree, and no account row behind it.
    pub fn console(unit: Unit) -> CurrentUser {
        CurrentUser {
            account: Account {
                id: 0,
                username: "console".into(),
                password_hash: String::new(),
                full_name: "Người vận hành".into(),
                unit_id: unit.id,
                role: Role::Admin.as_str().into(),
                active: true,
                created_at: vn::now_utc(),
                phone: None,
                email: None,
                must_change_password: false,
                last_login_at: None,
                previous_login_at: None,
            },
            reach: vec![unit.clone()],
            unit,
            role: Role::Admin,
            csrf: String::new(),
            session: None,
        }
    }

    /// Whether this person may see `unit` (their own unit, its predecessors, or anything below).
    pub fn can_read(&self, unit: &Unit) -> bool {
        self.role == Role::Admin || self.reach.iter().any(|r| r.contains(unit))
    }

    /// Whether this person files `unit`'s report (their unit's, or a predecessor's).
    pub fn can_file(&self, unit: &Unit) -> bool {
        self.role.files() && self.reach.iter().any(|r| r.id == unit.id)
    }

    /// Whether this person reviews `unit`'s report: the board of its parent unit.
    pub fn can_review(&self, unit: &Unit) -> bool {
        self.role.reviews() && self.reach.iter().any(|r| unit.parent_id == Some(r.id))
    }
}

/// The units merged into those the filter `$which` names (on the successions' new unit): one
/// query, written once, for both backends' own connections (see `read_on_backend!`).
macro_rules! predecessors {
    ($which:expr) => {
        unit_successions::table
            .inner_join(units::table.on(units::id.eq(unit_successions::old_unit_id)))
            .filter($which)
            .select(Unit::as_select())
    };
}

/// A unit and, transitively, the units it succeeded.
pub fn reach_of(conn: &mut Conn, unit: &Unit) -> AppResult<Vec<Unit>> {
    let mut reach = vec![unit.clone()];
    let mut frontier = vec![unit.id];
    while !frontier.is_empty() {
        // The units merged into one of `frontier`, read on the backend's own connection. One
        // unit (every request's first step, and most units have no predecessor): a statement
        // prepared once; a list is written out (and prepared) anew each time.
        let older: Vec<Unit> = match frontier[..] {
            [one] => crate::read_on_backend!(
                conn,
                load,
                predecessors!(unit_successions::new_unit_id.eq(one))
            )?,
            ref many => crate::read_on_backend!(
                conn,
                load,
                predecessors!(unit_successions::new_unit_id.eq_any(many))
            )?,
        };
        frontier = older
            .iter()
            .filter(|u| !reach.iter().any(|r| r.id == u.id))
            .map(|u| u.id)
            .collect();
        reach.extend(older.into_iter().filter(|u| frontier.contains(&u.id)));
    }
    Ok(reach)
}

/// Whether `user` has any business with a round opened by `owner`.
pub fn sees_round(user: &CurrentUser, owner: &Unit) -> bool {
    user.role == Role::Admin
        || user
            .reach
            .iter()
            .any(|r| owner.contains(r) || r.contains(owner))
}

/// The unit through which `user` takes part in a round opened by `owner` for a period ending
/// on `day`: their own unit, or the predecessor that existed then.
pub fn filing_unit<'a>(user: &'a CurrentUser, owner: &Unit, day: NaiveDate) -> Option<&'a Unit> {
    user.reach
        .iter()
        .find(|r| owner.contains(r) && r.valid_on(day))
}

/// The unit named by `code` if this person may see it; the same refusal for a unit outside
/// their subtree and for a code that does not exist.
pub fn unit_in_reach(conn: &mut Conn, user: &CurrentUser, code: &str) -> AppResult<Unit> {
    let unit = match UnitCode::parse(code) {
        Some(code) => unit_by_code(conn, code.as_str(), None)?,
        None => None,
    };
    match unit {
        Some(unit) if user.can_read(&unit) => Ok(unit),
        _ => Err(AppError::Forbidden(
            "Bạn không có quyền xem danh sách Tổ khoa giáo của đơn vị này.".into(),
        )),
    }
}

fn round_not_found() -> AppError {
    AppError::NotFound("Không tìm thấy kỳ báo cáo.".into())
}

/// The round, if this person has any business with it; otherwise "not found", so that
/// rounds of other subtrees do not reveal themselves.
pub fn round_for(
    conn: &mut Conn,
    catalog: &Catalog,
    user: &CurrentUser,
    round_id: i32,
    now: NaiveDateTime,
) -> AppResult<RoundCtx> {
    // The round with the unit that opened it, in one statement (on PostgreSQL each is a round
    // trip to the database server).
    let (round, owner): (Round, Unit) = crate::read_on_backend!(
        conn,
        first,
        rounds::table
            .find(round_id)
            .inner_join(units::table.on(units::id.eq(rounds::owner_unit_id)))
            .select((Round::as_select(), Unit::as_select()))
    )
    .optional()?
    .ok_or_else(round_not_found)?;
    if !sees_round(user, &owner) {
        return Err(round_not_found());
    }
    let template = catalog.get(conn, round.template_id)?;
    Ok(RoundCtx {
        round,
        template,
        owner,
        now,
    })
}

/// The unit named by `code`, if this person may see it. A unit outside their subtree and a
/// code that does not exist get the same answer, so that nothing leaks.
pub fn unit_for(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    code: &str,
) -> AppResult<Unit> {
    let code = UnitCode::parse(code);
    let unit = match &code {
        Some(code) => unit_by_code(conn, code.as_str(), Some(ctx.round.period_end))?,
        None => None,
    };
    if let Some(unit) = unit {
        return match user.can_read(&unit) {
            true if ctx.owner.contains(&unit) => Ok(unit),
            true => Err(AppError::NotFound(format!(
                "Đơn vị «{}» không thuộc phạm vi của kỳ báo cáo này.",
                unit.name
            ))),
            false => Err(no_access()),
        };
    }
    // A unit merged away since it filed in this round: its report stays readable.
    if let Some(code) = &code {
        let filed: Option<Unit> = units::table
            .inner_join(reports::table.on(reports::unit_id.eq(units::id)))
            .filter(units::code.eq(code.as_str()))
            .filter(reports::round_id.eq(ctx.round.id))
            .select(Unit::as_select())
            .first(conn)
            .optional()?;
        if let Some(unit) = filed.filter(|u| user.can_read(u)) {
            return Ok(unit);
        }
    }
    Err(no_access())
}

fn no_access() -> AppError {
    AppError::Forbidden("Bạn không có quyền xem hay sửa báo cáo của đơn vị này.".into())
}
