//! The report page as it is shown: each indicator's field (with the roster's figure, the reason
//! for a change, its error), each narrative section, the review trail, and what the person may
//! do with the report now.

use std::collections::BTreeMap;

use askama::Template;
use report_schemas::{AggValue, FieldError, IndicatorKind, Template as ReportTemplate};
use serde_json::Value as Json;

use super::super::page::{UserVm, display_agg, status_class};
use crate::domain::{ReportStatus, RollupView, vn};
use crate::service::RoundCtx;
use crate::service::deadlines::DueNotice;
use crate::service::filing::ReportView;
use crate::service::history::ReviewStep;
use crate::service::orientation::Orientation;
use crate::service::rollup::Included;
use crate::service::rounds::period_beside_title;

struct FieldVm {
    key: String,
    label: String,
    unit: String,
    help: String,
    /// "integer", "decimal", "yes_no", "choice" or "ratio".
    input: &'static str,
    value: String,
    display: String,
    options: Vec<(String, String)>,
    error: Option<String>,
    /// In a saved draft: what must be solved before submitting (a broken rule, a required
    /// field still empty, a missing reason).
    problem: Option<String>,
    /// What a warning rule says of the figure: worth a look, never blocking.
    warning: Option<String>,
    /// Why the figure looks unusual against the unit's past or its peers.
    flag: Option<String>,
    required: bool,
    /// The roster's figure, for an indicator pre-filled from it.
    roster: Option<String>,
    /// The reason given for differing from the roster.
    reason: String,
}

struct GroupVm {
    title: String,
    fields: Vec<FieldVm>,
}

struct SectionVm {
    key: String,
    title: String,
    help: String,
    value: String,
    error: Option<String>,
    problem: Option<String>,
    required: bool,
    max_chars: usize,
    max_chars_text: String,
}

/// One line of the summary above the form: the field it is about (a link to it) and what.
struct SummaryItem {
    anchor: String,
    message: String,
}

/// The summary above the form: the errors that kept a save from happening, or what a saved
/// draft still lacks before it can be submitted. It takes the focus when the page opens.
struct SummaryVm {
    /// "error" or "pending".
    kind: &'static str,
    heading: String,
    items: Vec<SummaryItem>,
}

struct EventVm {
    at: String,
    action: String,
    who: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "report.html")]
pub struct ReportPage {
    user: Option<UserVm>,
    round_id: i32,
    round_title: String,
    period: String,
    unit_name: String,
    unit_code: String,
    back_link: String,
    status: String,
    status_class: &'static str,
    deadline: String,
    overdue: bool,
    version: i32,
    consolidated: bool,
    can_edit: bool,
    can_review: bool,
    can_reopen: bool,
    return_reason: Option<String>,
    groups: Vec<GroupVm>,
    sections: Vec<SectionVm>,
    summary: Option<SummaryVm>,
    notice: Option<String>,
    error: Option<String>,
    events: Vec<EventVm>,
    due: Option<String>,
    due_overdue: bool,
    /// The round's deadlines were extended: from what, and why.
    extension: Option<String>,
    /// After a decision: the next report to review (link, unit name).
    next: Option<(String, String)>,
    orientation: Orientation,
    open_orientation: bool,
    included: Option<Included>,
    /// For a consolidated report still being written: the children not yet counted.
    not_counted: Option<Included>,
}

/// A consolidated figure as stored in a submitted snapshot.
fn agg_of(v: &Json) -> Option<AggValue> {
    match v {
        Json::Number(n) => n.as_f64().map(AggValue::Number),
        Json::Object(_) => serde_json::from_value(v.clone()).ok().map(AggValue::Counts),
        _ => None,
    }
}

/// A stored value as the form shows it back.
fn raw_of(v: &Json) -> String {
    match v {
        Json::Bool(true) => "co".into(),
        Json::Bool(false) => "khong".into(),
        Json::Number(n) => match n.as_i64() {
            Some(i) => i.to_string(),
            None => n.as_f64().map(typed_back).unwrap_or_default(),
        },
        Json::String(s) => s.clone(),
        _ => String::new(),
    }
}

/// A stored decimal as the form types it back, so that saving the form again reads it the same:
/// 1.234 is written "1,2340", since "1,234" would read two ways (see report-schemas' number reading).
fn typed_back(x: f64) -> String {
    let mut text = vn::number(x, 6);
    let ambiguous = text.split_once(',').is_some_and(|(int, frac)| {
        let int = int.trim_start_matches('-');
        frac.len() == 3 && !int.contains('.') && int.len() <= 3 && !int.starts_with('0')
    });
    if ambiguous {
        text.push('0');
    }
    text
}

fn display_of(template: &ReportTemplate, key: &str, v: &Json) -> String {
    let Some(ind) = template.indicator(key) else {
        return String::new();
    };
    match (&ind.kind, v) {
        (IndicatorKind::YesNo, Json::Bool(b)) => if *b { "Có" } else { "Không" }.into(),
        (IndicatorKind::Choice { options }, Json::String(s)) => options
            .iter()
            .find(|o| &o.key == s)
            .map_or_else(|| s.clone(), |o| o.label.clone()),
        (IndicatorKind::YesNo | IndicatorKind::Choice { .. }, _) => String::new(),
        (_, Json::Number(n)) => n.as_f64().map(|x| vn::number(x, 2)).unwrap_or_default(),
        _ => String::new(),
    }
}

pub struct FormState {
    pub values: BTreeMap<String, String>,
    pub sections: BTreeMap<String, String>,
    pub overrides: BTreeMap<String, String>,
    pub errors: Vec<FieldError>,
    /// The version the form was typed on, when it is not the stored one.
    pub version: Option<i32>,
}

#[expect(
    clippy::too_many_arguments,
    reason = "the page is assembled from independent parts read in one transaction"
)]
pub fn build_report_page(
    user: UserVm,
    ctx: &RoundCtx,
    view: &ReportView,
    rollup: Option<&RollupView>,
    form: Option<FormState>,
    notice: Option<String>,
    error: Option<String>,
    events: Vec<ReviewStep>,
    back_link: String,
    orientation: Orientation,
    extension: Option<String>,
    next: Option<(String, String)>,
) -> ReportPage {
    let t = &ctx.template;
    let joined = |list: &[FieldError], key: &str| {
        let msgs: Vec<&str> = list
            .iter()
            .filter(|e| e.field == key)
            .map(|e| e.message.as_str())
            .collect();
        (!msgs.is_empty()).then(|| msgs.join(" "))
    };
    let error_for = |key: &str| form.as_ref().and_then(|f| joined(&f.errors, key));
    // A saved draft's problems, shown while it is not being re-shown with errors.
    let pending: &[FieldError] = if form.is_none() && view.can_edit {
        &view.problems
    } else {
        &[]
    };
    let problem_for = |key: &str| joined(pending, key);
    let summary = summary_of(t, form.as_ref().map_or(&[][..], |f| &f.errors), pending);
    let groups = t
        .groups
        .iter()
        .map(|g| GroupVm {
            title: g.title.clone(),
            fields: t
                .indicators
                .iter()
                .filter(|i| i.group == g.key)
                .map(|ind| {
                    let stored = view.values.get(&ind.key);
                    let from_roster = view.prefill.get(&ind.key);
                    let value = match &form {
                        Some(f) => f.values.get(&ind.key).cloned().unwrap_or_default(),
                        None => stored.or(from_roster).map(raw_of).unwrap_or_default(),
                    };
                    let display = if view.consolidated && view.status.is_filed() {
                        // What was reported up: the snapshot taken at submission.
                        display_agg(t, &ind.key, stored.and_then(agg_of).as_ref())
                    } else if view.consolidated {
                        rollup
                            .map(|r| {
                                display_agg(
                                    t,
                                    &ind.key,
                                    r.total.values.get(&ind.key).and_then(Option::as_ref),
                                )
                            })
                            .unwrap_or_default()
                    } else if matches!(ind.kind, IndicatorKind::Ratio { .. }) {
                        view.computed
                            .get(&ind.key)
                            .copied()
                            .flatten()
                            .map_or_else(|| "–".into(), vn::percent)
                    } else {
                        stored
                            .map(|v| display_of(t, &ind.key, v))
                            .unwrap_or_default()
                    };
                    let (input, options) = match &ind.kind {
                        IndicatorKind::Integer { .. } => ("integer", Vec::new()),
                        IndicatorKind::Decimal { .. } => ("decimal", Vec::new()),
                        IndicatorKind::YesNo => ("yes_no", Vec::new()),
                        IndicatorKind::Choice { options } => (
                            "choice",
                            options
                                .iter()
                                .map(|o| (o.key.clone(), o.label.clone()))
                                .collect(),
                        ),
                        IndicatorKind::Ratio { .. } => ("ratio", Vec::new()),
                    };
                    FieldVm {
                        key: ind.key.clone(),
                        label: ind.label.clone(),
                        unit: ind.unit.clone().unwrap_or_default(),
                        // The help tells a commune what to type; a consolidation types nothing.
                        help: if view.consolidated {
                            String::new()
                        } else {
                            ind.help.clone().unwrap_or_default()
                        },
                        input,
                        value,
                        display,
                        options,
                        error: error_for(&ind.key),
                        problem: problem_for(&ind.key),
                        warning: joined(&view.warnings, &ind.key),
                        flag: joined(view.flags.as_deref().unwrap_or_default(), &ind.key),
                        required: ind.required,
                        roster: from_roster.map(|v| display_of(t, &ind.key, v)),
                        reason: match &form {
                            Some(f) => f.overrides.get(&ind.key).cloned().unwrap_or_default(),
                            None => view.overrides.get(&ind.key).cloned().unwrap_or_default(),
                        },
                    }
                })
                .collect(),
        })
        .collect();
    let sections = t
        .sections
        .iter()
        .map(|s| SectionVm {
            key: s.key.clone(),
            title: s.title.clone(),
            help: s.help.clone().unwrap_or_default(),
            value: match &form {
                Some(f) => f.sections.get(&s.key).cloned().unwrap_or_default(),
                None => view.sections.get(&s.key).cloned().unwrap_or_default(),
            },
            error: error_for(&s.key),
            problem: problem_for(&s.key),
            required: s.required,
            max_chars: s.max_chars,
            max_chars_text: vn::int(i64::try_from(s.max_chars).unwrap_or(i64::MAX)),
        })
        .collect();
    let general: Vec<String> = form
        .as_ref()
        .map(|f| {
            f.errors
                .iter()
                .filter(|e| t.indicator(&e.field).is_none() && t.section(&e.field).is_none())
                .map(|e| e.message.clone())
                .collect()
        })
        .unwrap_or_default();
    let error = match (error, general.is_empty()) {
        (Some(e), true) => Some(e),
        (Some(e), false) => Some(format!("{e} {}", general.join(" "))),
        (None, false) => Some(general.join(" ")),
        (None, true) => None,
    };
    ReportPage {
        user: Some(user),
        round_id: ctx.round.id,
        round_title: ctx.round.title.clone(),
        period: period_beside_title(&ctx.round),
        unit_name: view.unit.name.clone(),
        unit_code: view.unit.code.clone(),
        back_link,
        status: view.status.label().into(),
        status_class: status_class(view.status),
        deadline: vn::datetime(view.deadline),
        overdue: view.deadline < vn::now_utc() && !view.status.is_filed(),
        version: form
            .as_ref()
            .and_then(|f| f.version)
            .unwrap_or(view.version),
        consolidated: view.consolidated,
        can_edit: view.can_edit,
        can_review: view.can_review,
        can_reopen: view.can_reopen,
        return_reason: view
            .return_reason
            .clone()
            .filter(|_| view.status == ReportStatus::Returned),
        groups,
        sections,
        summary,
        notice,
        error,
        events: events.into_iter().map(event_vm).collect(),
        due: view.due.as_ref().map(DueNotice::message),
        due_overdue: view.due.as_ref().is_some_and(|d| d.overdue),
        extension,
        next,
        open_orientation: view.can_edit,
        orientation,
        included: view.included.clone(),
        not_counted: rollup
            .filter(|_| view.consolidated && view.can_edit)
            .map(|r| Included::of(&r.rows))
            .filter(|i| !i.is_complete()),
    }
}

fn action_label(action: &str) -> String {
    match action {
        "submit" => "Nộp báo cáo",
        "accept" => "Tiếp nhận",
        "return" => "Trả lại",
        "reopen" => "Mở lại",
        other => other,
    }
    .into()
}

/// The summary of `errors` (a save refused) or else of `pending` (a draft's open problems), in
/// the form's order, each linked to its field.
fn summary_of(
    t: &ReportTemplate,
    errors: &[FieldError],
    pending: &[FieldError],
) -> Option<SummaryVm> {
    let (kind, list) = if !errors.is_empty() {
        ("error", errors)
    } else if !pending.is_empty() {
        ("pending", pending)
    } else {
        return None;
    };
    let fields = t
        .indicators
        .iter()
        .map(|i| (i.key.as_str(), "v"))
        .chain(t.sections.iter().map(|s| (s.key.as_str(), "s")));
    let mut items = Vec::new();
    for (key, prefix) in fields {
        for e in list.iter().filter(|e| e.field == key) {
            items.push(SummaryItem {
                anchor: format!("{prefix}-{key}"),
                message: e.message.clone(),
            });
        }
    }
    if items.is_empty() {
        return None;
    }
    let n = items.len();
    let heading = if kind == "error" {
        format!("Có {n} lỗi cần sửa; những gì đã nhập vẫn được giữ trên trang:")
    } else {
        format!("Bản nháp đã được lưu. Còn {n} vấn đề phải giải quyết trước khi nộp:")
    };
    Some(SummaryVm {
        kind,
        heading,
        items,
    })
}

fn event_vm(step: ReviewStep) -> EventVm {
    EventVm {
        at: vn::datetime(step.at),
        action: action_label(&step.action),
        who: step.actor,
        reason: step.reason.unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::typed_back;

    #[test]
    fn a_decimal_typed_back_reads_one_way() {
        assert_eq!(typed_back(12.5), "12,5");
        assert_eq!(typed_back(1.234), "1,2340");
        assert_eq!(typed_back(-1.234), "-1,2340");
        assert_eq!(typed_back(1234.5), "1.234,5");
        assert_eq!(typed_back(0.125), "0,125");
    }
}
