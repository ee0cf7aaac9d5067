//! The orientation (*định hướng*) that flows down with a round: the opener's text and key tasks
//! (*nhiệm vụ trọng tâm*), and the tasks each board below adds for its own units (point 2 of
//! Công văn 409).

use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;

use super::access::CurrentUser;
use super::rounds::{clean_tasks, replace_tasks};
use super::{RoundCtx, audit, ensure_open};
use crate::db::Conn;
use crate::db::models::{RoundTask, Unit};
use crate::db::schema::{round_tasks, units};
use crate::domain::UnitRef;
use crate::error::{AppError, AppResult};

/// A board below the round's owner adds its own key tasks for the units below it
/// (a district's local tasks for its communes, point 2 of Công văn 409).
pub fn set_tasks(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
    tasks: &[String],
) -> AppResult<()> {
    if user.unit.id != unit.id || !user.role.reviews() || unit.id == ctx.owner.id {
        return Err(AppError::Forbidden(
            "Chỉ Ban Tuyên giáo của đơn vị này mới được bổ sung nhiệm vụ cho các đơn vị trực thuộc.".into(),
        ));
    }
    ensure_open(ctx)?;
    let mut errors = Vec::new();
    let tasks = clean_tasks(tasks, &mut errors);
    if !errors.is_empty() {
        return Err(AppError::invalid(errors));
    }
    super::write_transaction(conn, |conn| {
        let old = replace_tasks(conn, ctx.round.id, unit.id, &tasks)?;
        audit(
            conn,
            user,
            "set_tasks",
            "round",
            Some(ctx.round.id),
            Some(unit.id),
            json!({ "tasks": { "from": old, "to": tasks } }),
            ctx.now,
        )?;
        Ok(())
    })
}

/// Key tasks set by one unit.
#[derive(Debug, Clone, Serialize)]
pub struct TaskGroup {
    pub from: UnitRef,
    pub tasks: Vec<String>,
}

/// The orientation as one unit receives it: the owner's text and tasks, then the tasks each
/// board between the owner and the unit added.
#[derive(Debug, Clone, Serialize)]
pub struct Orientation {
    pub text: String,
    pub tasks: Vec<TaskGroup>,
}

impl Orientation {
    pub fn is_empty(&self) -> bool {
        self.text.is_empty() && self.tasks.iter().all(|g| g.tasks.is_empty())
    }
}

pub fn orientation_for(conn: &mut Conn, ctx: &RoundCtx, unit: &Unit) -> AppResult<Orientation> {
    // The unit's ancestors from the owner down, by their codes in its path.
    let codes: Vec<&str> = unit.path.split('/').filter(|c| !c.is_empty()).collect();
    let chain: Vec<Unit> = units::table
        .filter(units::code.eq_any(&codes))
        .select(Unit::as_select())
        .load(conn)?;
    let mut chain: Vec<Unit> = chain
        .into_iter()
        .filter(|u| ctx.owner.contains(u) && u.contains(unit))
        .collect();
    chain.sort_by_key(|u| u.depth);
    let ids: Vec<i32> = chain.iter().map(|u| u.id).collect();
    let rows: Vec<RoundTask> = round_tasks::table
        .filter(round_tasks::round_id.eq(ctx.round.id))
        .filter(round_tasks::unit_id.eq_any(&ids))
        .order(round_tasks::position.asc())
        .select(RoundTask::as_select())
        .load(conn)?;
    let tasks = chain
        .iter()
        .map(|u| TaskGroup {
            from: u.into(),
            tasks: rows
                .iter()
                .filter(|t| t.unit_id == u.id)
                .map(|t| t.text.clone())
                .collect(),
        })
        .filter(|g| !g.tasks.is_empty())
        .collect();
    Ok(Orientation {
        text: ctx.round.orientation.clone(),
        tasks,
    })
}

/// The key tasks one unit set itself in a round.
pub fn own_tasks(conn: &mut Conn, ctx: &RoundCtx, unit: &Unit) -> AppResult<Vec<String>> {
    Ok(round_tasks::table
        .filter(round_tasks::round_id.eq(ctx.round.id))
        .filter(round_tasks::unit_id.eq(unit.id))
        .order(round_tasks::position.asc())
        .select(round_tasks::text)
        .load(conn)?)
}
