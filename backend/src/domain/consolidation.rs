//! A consolidation (*tổng hợp*) as plain data: a row per unit with its aggregate and who has
//! filed below it. The service layer computes it; the pages, the API and the workbook show it.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use report_schemas::{AggValue, IndicatorKind, Rollup, Template};
use serde::{Deserialize, Serialize};

use super::{ReportStatus, vn};

/// A unit as a view names it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct UnitRef {
    pub code: String,
    pub name: String,
}

/// Who has filed, among the leaf units (communes) of a subtree.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Completeness {
    pub expected: u32,
    /// Sent up and not sent back: submitted or accepted.
    pub submitted: u32,
    pub accepted: u32,
    pub returned: u32,
    pub on_time: u32,
    pub late: u32,
    pub missing: u32,
}

impl Completeness {
    pub fn add(&mut self, other: &Completeness) {
        self.expected += other.expected;
        self.submitted += other.submitted;
        self.accepted += other.accepted;
        self.returned += other.returned;
        self.on_time += other.on_time;
        self.late += other.late;
        self.missing += other.missing;
    }

    /// Share of expected units that filed, 0–100.
    pub fn rate(&self) -> f64 {
        if self.expected == 0 {
            0.0
        } else {
            f64::from(self.submitted) * 100.0 / f64::from(self.expected)
        }
    }
}

/// One row of a consolidation: a child unit and everything below it.
#[derive(Debug, Clone, Serialize)]
pub struct RollupRow {
    pub unit: UnitRef,
    /// A commune (files figures) rather than a unit with children.
    pub leaf: bool,
    /// The status of this unit's own report.
    pub status: ReportStatus,
    pub submitted_at: Option<NaiveDateTime>,
    pub on_time: Option<bool>,
    #[serde(skip)]
    pub rollup: Rollup,
    pub reports: u64,
    pub values: BTreeMap<String, Option<AggValue>>,
    pub completeness: Completeness,
    /// The unit's own narrative, when its report counts.
    pub sections: BTreeMap<String, String>,
}

impl RollupRow {
    /// Fills in what the row shows from its aggregate.
    pub fn finish(&mut self, template: &Template) {
        self.reports = self.rollup.reports();
        self.values = template
            .indicators
            .iter()
            .enumerate()
            .map(|(at, i)| (i.key.clone(), self.rollup.value_at(template, at)))
            .collect();
    }
}

/// The consolidation of one unit's subtree in one round.
#[derive(Debug, Clone, Serialize)]
pub struct RollupView {
    pub round_id: i32,
    pub unit: UnitRef,
    /// Submitted-but-not-accepted reports are counted, and marked as provisional.
    pub provisional: bool,
    pub rows: Vec<RollupRow>,
    pub total: RollupRow,
}

/// A figure as the pages show it: "1.234", "12,5", "75,0%", "Có: 3 · Không: 1".
pub fn display_figure(template: &Template, key: &str, v: Option<&AggValue>) -> String {
    let Some(ind) = template.indicator(key) else {
        return String::new();
    };
    match v {
        None => "–".into(),
        Some(AggValue::Number(x)) => match &ind.kind {
            IndicatorKind::Ratio { .. } => vn::percent(*x),
            IndicatorKind::Decimal { .. } => vn::number(*x, 1),
            _ if matches!(ind.aggregate, report_schemas::Aggregate::Average) => vn::number(*x, 1),
            _ => vn::number(*x, 0),
        },
        Some(AggValue::Counts(counts)) => match &ind.kind {
            IndicatorKind::Choice { options } => options
                .iter()
                .map(|o| format!("{}: {}", o.label, counts.get(&o.key).copied().unwrap_or(0)))
                .collect::<Vec<_>>()
                .join("\n"),
            _ => String::new(),
        },
    }
}
