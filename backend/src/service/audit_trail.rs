//! The audit of administration: who created, reset, locked or unlocked whose account, changed
//! a password, added, renamed or closed a unit, and when. The administrator reads all of it; a
//! board reads what concerns its own subtree.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value as Json;

use super::access::CurrentUser;
use crate::db::Conn;
use crate::db::schema::{accounts, audit_log, units};
use crate::domain::Role;
use crate::error::{AppError, AppResult};

/// The administrative acts and how they read.
const ACTS: [(&str, &str); 9] = [
    ("setup", "Thiết lập hệ thống"),
    ("create_account", "Tạo tài khoản"),
    ("reset_password", "Đặt lại mật khẩu"),
    ("deactivate_account", "Khóa tài khoản"),
    ("reactivate_account", "Mở khóa tài khoản"),
    ("change_password", "Tự đổi mật khẩu"),
    ("create_unit", "Thêm đơn vị"),
    ("rename_unit", "Đổi tên đơn vị"),
    ("close_unit", "Kết thúc đơn vị"),
];

/// An audit row as read: when, what, its details, who, which unit.
type AuditRow = (
    NaiveDateTime,
    String,
    String,
    Option<String>,
    Option<String>,
);

#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub at: NaiveDateTime,
    /// Who did it ("Hệ thống" for the console).
    pub actor: String,
    pub action: String,
    pub action_label: &'static str,
    pub unit: Option<String>,
    /// What it concerned, as a sentence: the account's user name and person, the unit's name.
    pub subject: String,
}

fn subject_of(action: &str, details: &Json) -> String {
    let text = |key: &str| details[key].as_str().unwrap_or_default().to_owned();
    match action {
        "rename_unit" => format!(
            "«{}» thành «{}»",
            details["changes"][0]["from"].as_str().unwrap_or_default(),
            details["changes"][0]["to"].as_str().unwrap_or_default()
        ),
        "create_unit" | "close_unit" => format!("{} (mã {})", text("name"), text("code")),
        "setup" => format!("quản trị «{}»", text("administrator")),
        _ => {
            let name = text("full_name");
            if name.is_empty() {
                format!("tài khoản «{}»", text("username"))
            } else {
                format!("tài khoản «{}» ({name})", text("username"))
            }
        }
    }
}

/// The newest `limit` administrative acts `user` may read, newest first.
pub fn administration(
    conn: &mut Conn,
    user: &CurrentUser,
    limit: i64,
) -> AppResult<Vec<AuditEntry>> {
    if user.role != Role::Admin && !user.role.reviews() {
        return Err(AppError::Forbidden(
            "Chỉ quản trị và Ban Tuyên giáo mới xem nhật ký quản trị.".into(),
        ));
    }
    let actions: Vec<&str> = ACTS.iter().map(|(a, _)| *a).collect();
    let mut query = audit_log::table
        .left_join(accounts::table.on(accounts::id.nullable().eq(audit_log::actor_id)))
        .left_join(units::table.on(units::id.nullable().eq(audit_log::unit_id)))
        .filter(audit_log::action.eq_any(actions))
        .order(audit_log::id.desc())
        .limit(limit)
        .select((
            audit_log::at,
            audit_log::action,
            audit_log::details,
            accounts::full_name.nullable(),
            units::name.nullable(),
        ))
        .into_boxed();
    if user.role != Role::Admin {
        // A board's subtree: the units whose path starts with one of its own.
        let mut ids: Vec<i32> = Vec::new();
        for r in &user.reach {
            ids.extend(
                units::table
                    .filter(units::path.like(format!("{}%", r.path)))
                    .select(units::id)
                    .load::<i32>(conn)?,
            );
        }
        query = query.filter(audit_log::unit_id.eq_any(ids));
    }
    let rows: Vec<AuditRow> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(at, action, details, actor, unit)| {
            let details: Json = serde_json::from_str(&details).unwrap_or(Json::Null);
            AuditEntry {
                at,
                actor: actor.unwrap_or_else(|| "Hệ thống".into()),
                action_label: ACTS
                    .iter()
                    .find(|(a, _)| *a == action)
                    .map_or("Thay đổi khác", |(_, l)| l),
                subject: subject_of(&action, &details),
                action,
                unit,
            }
        })
        .collect())
}
