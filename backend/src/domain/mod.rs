//! Domain vocabulary, parsed once at the edge: roles, statuses, unit codes, periods,
//! Vietnamese text conventions, and a consolidation as plain data.

pub mod board;
pub mod consolidation;
pub mod period;
pub mod vn;

pub use board::Board;
pub use consolidation::{Completeness, RollupRow, RollupView, UnitRef, display_figure};

use serde::Serialize;

/// What a person may do, with their unit's subtree as the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Files its own unit's reports.
    Commune,
    /// Files its own report, reviews and consolidates its children's.
    District,
    /// Opens rounds, reviews its children's reports, views and exports everything below.
    Province,
    /// The national board above the provinces (a whole-country installation): as a province
    /// board, one level up; it files to nobody.
    National,
    /// Units, accounts, backups; may read everything, files and reviews nothing.
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "commune" => Some(Role::Commune),
            "district" => Some(Role::District),
            "province" => Some(Role::Province),
            "national" => Some(Role::National),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Commune => "commune",
            Role::District => "district",
            Role::Province => "province",
            Role::National => "national",
            Role::Admin => "admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Commune => "Tổ khoa giáo cấp xã",
            Role::District => "Ban Tuyên giáo cấp huyện",
            Role::Province => "Ban Tuyên giáo Tỉnh ủy",
            Role::National => "Ban Tuyên giáo Trung ương",
            Role::Admin => "Quản trị",
        }
    }

    /// Roles that review the reports of their unit's direct children.
    pub fn reviews(self) -> bool {
        matches!(self, Role::District | Role::Province | Role::National)
    }

    /// Roles that file their own unit's report.
    pub fn files(self) -> bool {
        matches!(self, Role::Commune | Role::District | Role::Province)
    }
}

/// A report's place in the workflow. `NotStarted` is never stored: it is the absence of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    NotStarted,
    Draft,
    Submitted,
    Returned,
    Accepted,
}

impl ReportStatus {
    pub fn parse(s: &str) -> ReportStatus {
        match s {
            "draft" => ReportStatus::Draft,
            "submitted" => ReportStatus::Submitted,
            "returned" => ReportStatus::Returned,
            "accepted" => ReportStatus::Accepted,
            _ => ReportStatus::NotStarted,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::NotStarted => "not_started",
            ReportStatus::Draft => "draft",
            ReportStatus::Submitted => "submitted",
            ReportStatus::Returned => "returned",
            ReportStatus::Accepted => "accepted",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ReportStatus::NotStarted => "Chưa lập",
            ReportStatus::Draft => "Đang soạn",
            ReportStatus::Submitted => "Đã nộp, chờ tiếp nhận",
            ReportStatus::Returned => "Bị trả lại",
            ReportStatus::Accepted => "Đã tiếp nhận",
        }
    }

    /// Counted as filed: sent up and not sent back.
    pub fn is_filed(self) -> bool {
        matches!(self, ReportStatus::Submitted | ReportStatus::Accepted)
    }

    /// The filer may still change it.
    pub fn is_editable(self) -> bool {
        matches!(
            self,
            ReportStatus::NotStarted | ReportStatus::Draft | ReportStatus::Returned
        )
    }
}

/// A GSO unit code: ASCII digits (the official list zero-pads by level).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnitCode(String);

impl UnitCode {
    pub fn parse(s: &str) -> Option<UnitCode> {
        let s = s.trim();
        (!s.is_empty() && s.len() <= 16 && s.bytes().all(|b| b.is_ascii_alphanumeric()))
            .then(|| UnitCode(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
