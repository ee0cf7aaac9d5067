//! The consolidation table of the unit page, made to read at a glance: an indicator per row,
//! a child unit per column. A yes/no question reads "16/35" (yes of those who answered), or
//! "Có"/"Không" for one commune; a choice gets a small row per option with its count.

use report_schemas::{AggValue, Aggregate, IndicatorKind, Rollup, Template};

use crate::domain::RollupView;
use crate::routes::page::display_agg;

pub struct IndicatorRow {
    pub group: Option<String>,
    pub label: String,
    pub unit: String,
    /// An option of the choice above it: indented, its cells the count of each unit.
    pub option: bool,
    pub cells: Vec<String>,
    pub total: String,
}

/// A yes/no question: "yes/answered" over many reports, the answer itself for one commune.
fn yes_no(
    t: &Template,
    key: &str,
    rollup: &Rollup,
    value: Option<&AggValue>,
    leaf: bool,
) -> String {
    let answered = rollup.answered(t, key);
    match value {
        Some(AggValue::Number(yes)) if leaf && answered == 1 => {
            if *yes > 0.0 { "Có" } else { "Không" }.into()
        }
        Some(AggValue::Number(yes)) => format!("{}/{answered}", *yes as u64),
        _ => "–".into(),
    }
}

/// The count of one option in a choice's counts; "–" where nobody answered.
fn option_count(value: Option<&AggValue>, option: &str) -> String {
    match value {
        Some(AggValue::Counts(counts)) => counts.get(option).copied().unwrap_or(0).to_string(),
        _ => "–".into(),
    }
}

pub fn indicator_rows(t: &Template, view: &RollupView) -> Vec<IndicatorRow> {
    let mut rows = Vec::new();
    let mut last_group = None;
    for ind in &t.indicators {
        let group = (last_group.as_ref() != Some(&ind.group)).then(|| {
            last_group = Some(ind.group.clone());
            t.groups
                .iter()
                .find(|g| g.key == ind.group)
                .map_or_else(|| ind.group.clone(), |g| g.title.clone())
        });
        let value = |values: &std::collections::BTreeMap<String, Option<AggValue>>| {
            values.get(&ind.key).and_then(Option::as_ref).cloned()
        };
        let row = |label: String, cells: Vec<String>, total: String, group, option| IndicatorRow {
            group,
            label,
            unit: ind.unit.clone().unwrap_or_default(),
            option,
            cells,
            total,
        };
        match (&ind.kind, ind.aggregate) {
            (IndicatorKind::YesNo, Aggregate::CountYes) => {
                let cells = view
                    .rows
                    .iter()
                    .map(|r| yes_no(t, &ind.key, &r.rollup, value(&r.values).as_ref(), r.leaf))
                    .collect();
                let total = yes_no(
                    t,
                    &ind.key,
                    &view.total.rollup,
                    value(&view.total.values).as_ref(),
                    false,
                );
                rows.push(row(
                    format!("{} (có/số trả lời)", ind.label),
                    cells,
                    total,
                    group,
                    false,
                ));
            }
            (IndicatorKind::Choice { options }, _) => {
                let blank = vec![String::new(); view.rows.len()];
                rows.push(row(ind.label.clone(), blank, String::new(), group, false));
                for o in options {
                    let cells = view
                        .rows
                        .iter()
                        .map(|r| option_count(value(&r.values).as_ref(), &o.key))
                        .collect();
                    let total = option_count(value(&view.total.values).as_ref(), &o.key);
                    rows.push(row(o.label.clone(), cells, total, None, true));
                }
            }
            _ => {
                let cells = view
                    .rows
                    .iter()
                    .map(|r| display_agg(t, &ind.key, value(&r.values).as_ref()))
                    .collect();
                let total = display_agg(t, &ind.key, value(&view.total.values).as_ref());
                rows.push(row(ind.label.clone(), cells, total, group, false));
            }
        }
    }
    rows
}
