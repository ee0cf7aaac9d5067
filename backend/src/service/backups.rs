//! The administrator's view of the backups: what the server's schedule did last, and the
//! backups in its folder.

use serde::Serialize;

use super::access::CurrentUser;
use crate::backup::{self, SharedStatus, Status};
use crate::domain::Role;
use crate::error::{AppError, AppResult};

/// One backup file in the folder.
#[derive(Debug, Clone, Serialize)]
pub struct BackupFile {
    pub name: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub status: Status,
    pub files: Vec<BackupFile>,
}

/// The backups, for the administrator only.
pub fn overview(user: &CurrentUser, status: &SharedStatus) -> AppResult<Overview> {
    if user.role != Role::Admin {
        return Err(AppError::Forbidden(
            "Chỉ quản trị hệ thống mới xem được tình hình sao lưu.".into(),
        ));
    }
    let status = status.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let files = status
        .dir
        .as_deref()
        .map(backup::list)
        .unwrap_or_default()
        .into_iter()
        .map(|path| BackupFile {
            bytes: std::fs::metadata(&path).map_or(0, |m| m.len()),
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        })
        .collect();
    Ok(Overview { status, files })
}
