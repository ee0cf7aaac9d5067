//! A report as its readers see it: read, or made of what a change just wrote.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use report_schemas::{AggValue, FieldError, Mode, Rollup, Template, Values};
use serde::Serialize;
use serde_json::Value as Json;

use super::{check_overrides, roster_prefill};
use crate::db::Conn;
use crate::db::models::{Report, Unit};
use crate::domain::{ReportStatus, UnitRef};
use crate::error::AppResult;
use crate::service::access::CurrentUser;
use crate::service::deadlines::{DueNotice, due_notice};
use crate::service::rollup::Included;
use crate::service::units::has_children;
use crate::service::{RoundCtx, find_report, parse_map};

/// One report as its readers see it.
#[derive(Debug, Clone, Serialize)]
pub struct ReportView {
    pub round_id: i32,
    pub unit: UnitRef,
    /// Its figures are computed from the units below it, not typed in.
    pub consolidated: bool,
    pub status: ReportStatus,
    pub status_label: &'static str,
    pub version: i32,
    pub values: BTreeMap<String, Json>,
    /// Derived ratios of this report alone.
    pub computed: BTreeMap<String, Option<f64>>,
    pub sections: BTreeMap<String, String>,
    pub return_reason: Option<String>,
    /// For a consolidated report that was sent up: which children it counted.
    pub included: Option<Included>,
    /// For its filer: the reminder that the report is due soon or overdue.
    pub due: Option<DueNotice>,
    pub deadline: NaiveDateTime,
    pub first_submitted_at: Option<NaiveDateTime>,
    pub submitted_at: Option<NaiveDateTime>,
    pub reviewed_at: Option<NaiveDateTime>,
    pub updated_at: Option<NaiveDateTime>,
    /// What the person asking may do with it now.
    pub can_edit: bool,
    pub can_review: bool,
    /// The reviewer may unlock it (it is accepted).
    pub can_reopen: bool,
    /// The organisation figures from the team's roster on the round's cut-off date, which the
    /// form starts from; a filer who changes one gives a reason.
    pub prefill: BTreeMap<String, Json>,
    /// The reasons given for figures that differ from the roster.
    pub overrides: BTreeMap<String, String>,
    /// For a draft its filer can still change: what must be solved before it can be submitted
    /// (required fields, broken rules, missing reasons), by field.
    pub problems: Vec<FieldError>,
    /// What the template's warning rules say of the stored figures: for the filer and the
    /// reviewer to look at, never blocking.
    pub warnings: Vec<FieldError>,
    /// Figures far from the commune's own earlier rounds or from its peers (`quality`):
    /// questions for the filer and the reviewer, never blocking. A reading of the report
    /// against others, so given when the report is read, not in the answer to a change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flags: Option<Vec<FieldError>>,
}

/// A report as its readers see it, with the outlier flags.
pub fn report_view(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
) -> AppResult<ReportView> {
    view(conn, user, ctx, unit, true)
}

/// A report as stored, with what blocks its submission and its warnings but without the
/// outlier flags (which read its district's reports and its earlier rounds): the answer to a
/// change, and what a workbook or a document takes of it.
pub fn stored_view(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
) -> AppResult<ReportView> {
    view(conn, user, ctx, unit, false)
}

fn view(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
    with_flags: bool,
) -> AppResult<ReportView> {
    let consolidated = has_children(conn, unit, ctx.round.period_end)?;
    let report = find_report(conn, ctx.round.id, unit.id)?;
    let prefill = if consolidated {
        BTreeMap::new()
    } else {
        roster_prefill(conn, ctx, unit)?
    };
    let known = Known {
        consolidated,
        report,
        prefill,
        parsed: None,
    };
    view_of(conn, user, ctx, unit, known, with_flags)
}

/// What a view of a report is made of: read, or (after a change) what was just written.
pub(super) struct Known {
    pub(super) consolidated: bool,
    pub(super) report: Option<Report>,
    pub(super) prefill: BTreeMap<String, Json>,
    /// The written row's values and sections as the change had them parsed (and checked):
    /// its answer does not parse them again.
    pub(super) parsed: Option<Parsed>,
}

/// A written row's values and sections, as the change that wrote them parsed them.
pub(super) struct Parsed {
    pub(super) values: BTreeMap<String, Json>,
    pub(super) sections: BTreeMap<String, String>,
    /// `values` checked as a draft, if the change checked them: the view's ratios and warnings
    /// are made of its values and warnings (which depend on the values alone); its sections and
    /// pending rules are not read.
    pub(super) filled: Option<report_schemas::FilledReport>,
}

pub(super) fn view_of(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
    known: Known,
    with_flags: bool,
) -> AppResult<ReportView> {
    let Known {
        consolidated,
        report,
        prefill,
        parsed,
    } = known;
    let status = report
        .as_ref()
        .map_or(ReportStatus::NotStarted, |r| ReportStatus::parse(&r.status));
    let (values, sections, filled) = match (parsed, &report) {
        (Some(p), _) => (p.values, p.sections, p.filled),
        (None, Some(r)) => (
            parse_map(&r.values_json)?,
            parse_map(&r.sections_json)?,
            None,
        ),
        (None, None) => (BTreeMap::new(), BTreeMap::new(), None),
    };
    let overrides = stored_reasons(report.as_ref())?;
    // The figures checked as a draft: their warnings, and the values the ratios are made of.
    let typed = if consolidated || report.is_none() {
        None
    } else {
        filled.or_else(|| {
            ctx.template
                .validate(&values, &BTreeMap::new(), Mode::Draft)
                .ok()
        })
    };
    let mut computed = BTreeMap::new();
    if !consolidated {
        let typed_values: Cow<'_, Values> = match (&typed, &report) {
            (Some(f), _) => Cow::Borrowed(&f.values),
            (None, Some(r)) => Cow::Owned(parse_map(&r.values_json)?),
            (None, None) => Cow::Owned(Values::new()),
        };
        let single = Rollup::of(&ctx.template, [&*typed_values]);
        for ind in &ctx.template.indicators {
            if matches!(ind.kind, report_schemas::IndicatorKind::Ratio { .. }) {
                let v = match single.value(&ctx.template, &ind.key) {
                    Some(AggValue::Number(x)) => Some(x),
                    _ => None,
                };
                computed.insert(ind.key.clone(), v);
            }
        }
    }
    let can_edit = ctx.is_open()
        && user.can_file(unit)
        && unit.valid_on(ctx.round.period_end)
        && status.is_editable();
    let problems = if can_edit && report.is_some() {
        submit_problems(
            &ctx.template,
            consolidated,
            &values,
            &sections,
            &prefill,
            &overrides,
        )?
    } else {
        Vec::new()
    };
    let warnings = typed
        .as_ref()
        .map(|f| f.warnings.clone())
        .unwrap_or_default();
    let flags = match (&typed, unit.parent_id) {
        _ if !with_flags => None,
        (Some(f), Some(parent)) => {
            let scope = crate::service::units::unit_by_id(conn, parent)?;
            Some(
                crate::service::quality::flags(
                    conn,
                    user,
                    ctx,
                    &scope,
                    Some((unit.id, &f.values)),
                )?
                .into_iter()
                .filter(|flag| flag.unit.code == unit.code)
                .map(|flag| FieldError {
                    field: flag.key,
                    message: flag.message,
                })
                .collect(),
            )
        }
        _ => Some(Vec::new()),
    };
    Ok(ReportView {
        round_id: ctx.round.id,
        unit: unit.into(),
        consolidated,
        status,
        status_label: status.label(),
        version: report.as_ref().map_or(0, |r| r.version),
        values,
        computed,
        sections,
        return_reason: report.as_ref().and_then(|r| r.return_reason.clone()),
        due: (ctx.is_open() && user.can_file(unit))
            .then(|| due_notice(ctx.deadline_for(!consolidated), status, ctx.now))
            .flatten(),
        included: match report.as_ref().and_then(|r| r.included_json.as_deref()) {
            Some(text) => Some(parse_map(text)?),
            None => None,
        },
        deadline: ctx.deadline_for(!consolidated),
        first_submitted_at: report.as_ref().and_then(|r| r.first_submitted_at),
        submitted_at: report.as_ref().and_then(|r| r.submitted_at),
        reviewed_at: report.as_ref().and_then(|r| r.reviewed_at),
        updated_at: report.as_ref().map(|r| r.updated_at),
        can_edit,
        can_review: ctx.is_open() && user.can_review(unit) && status == ReportStatus::Submitted,
        can_reopen: ctx.is_open() && user.can_review(unit) && status == ReportStatus::Accepted,
        prefill,
        overrides,
        problems,
        warnings,
        flags,
    })
}

/// What stands between a stored report and its submission: required fields still empty,
/// broken rules, figures changed from the roster without a reason. A consolidated report's
/// figures come from below; only its narrative is its own.
pub(super) fn submit_problems(
    template: &Template,
    consolidated: bool,
    values: &BTreeMap<String, Json>,
    sections: &BTreeMap<String, String>,
    prefill: &BTreeMap<String, Json>,
    reasons: &BTreeMap<String, String>,
) -> AppResult<Vec<FieldError>> {
    let values = if consolidated {
        &BTreeMap::new()
    } else {
        values
    };
    let mut problems = match template.validate(values, sections, Mode::Submit) {
        Ok(_) => Vec::new(),
        Err(errors) => errors,
    };
    if consolidated {
        problems.retain(|e| template.section(&e.field).is_some());
    } else if let Ok(typed) = template.validate(values, sections, Mode::Draft) {
        let (_, missing) = check_overrides(template, prefill, &typed.values, reasons)?;
        problems.extend(missing);
    }
    Ok(problems)
}

/// The reasons stored with a report for its figures that differ from the roster.
pub(super) fn stored_reasons(report: Option<&Report>) -> AppResult<BTreeMap<String, String>> {
    match report.and_then(|r| r.prefill_json.as_deref()) {
        Some(text) => {
            let stored: Json = serde_json::from_str(text).map_err(anyhow::Error::new)?;
            Ok(serde_json::from_value(stored["reasons"].clone()).unwrap_or_default())
        }
        None => Ok(BTreeMap::new()),
    }
}
