//! What a board's dashboard shows for a unit in a round, as plain data: completeness, the key
//! figures against the previous period of the same kind, a chosen indicator by child unit and
//! across the rounds of the template, and the activity fields by child unit.

use report_schemas::{AggValue, Aggregate, IndicatorKind, Rollup, Template};

use super::RoundCtx;
use super::access::CurrentUser;
use super::trends::{self, Mapping, SeriesRound};
use super::units::cached_subtree;
use crate::catalog::Catalog;
use crate::db::Conn;
use crate::db::models::{Round, Unit};
use crate::domain::{ReportStatus, RollupView};
use crate::error::AppResult;

/// How many rounds a trend goes back.
pub const TREND_ROUNDS: usize = 10;

pub struct KeyFigure {
    pub key: String,
    pub now: Option<f64>,
    /// The previous period's figure, mapped onto this round's units.
    pub before: Option<f64>,
}

/// The activity fields (propaganda sessions on health, on the environment, ...) by child unit.
pub struct Fields {
    pub group_title: String,
    pub keys: Vec<String>,
}

pub struct Dashboard {
    /// How many reports the previous period's figures count: those of the units that count now.
    pub reports_before: Option<u64>,
    /// Direct children whose reports wait for this board's review.
    pub awaiting_children: usize,
    pub previous: Option<Round>,
    pub key_figures: Vec<KeyFigure>,
    /// The indicator ranked and traced.
    pub chosen: String,
    pub series: Vec<SeriesRound>,
    pub fields: Option<Fields>,
}

/// A figure of an aggregate as a plain number (none for a choice's counts).
pub fn number(template: &Template, rollup: &Rollup, key: &str) -> Option<f64> {
    match rollup.value(template, key) {
        Some(AggValue::Number(x)) => Some(x),
        _ => None,
    }
}

/// The indicators a board may rank and trace: the template's figures.
pub fn chartable(template: &Template) -> impl Iterator<Item = &report_schemas::Indicator> {
    template.indicators.iter().filter(|i| i.kind.is_numeric())
}

/// The indicator a chart or series draws: the one `asked` for if it can be drawn, else the
/// template's first key figure.
pub fn chosen_key(template: &Template, asked: Option<&str>) -> String {
    asked
        .filter(|k| chartable(template).any(|i| i.key == *k))
        .map(str::to_owned)
        .or_else(|| template.key_indicators().first().map(|i| i.key.clone()))
        .unwrap_or_default()
}

/// The dashboard of `unit` in `ctx`'s round, around its consolidation `view`; `chosen` is the
/// indicator asked for (the first key figure otherwise).
pub fn dashboard(
    conn: &mut Conn,
    catalog: &Catalog,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
    view: &RollupView,
    chosen: Option<&str>,
) -> AppResult<Dashboard> {
    let t = &ctx.template;
    let chosen = chosen_key(t, chosen);
    let figures = key_figures(conn, catalog, user, ctx, unit, view)?;
    let mut series = trends::series(
        conn,
        catalog,
        user,
        ctx,
        unit,
        TREND_ROUNDS,
        Some(&stored_keys(t, [chosen.as_str()])),
    )?;
    // This round as the page counts it (provisional or not).
    if let Some(own) = series.iter_mut().find(|s| s.ctx.round.id == ctx.round.id) {
        own.total = view.total.rollup.clone();
    }
    Ok(Dashboard {
        reports_before: figures.reports_before,
        awaiting_children: view
            .rows
            .iter()
            .filter(|r| r.status == ReportStatus::Submitted)
            .count(),
        previous: figures.previous,
        key_figures: figures.figures,
        chosen,
        series,
        fields: fields_of(t),
    })
}

/// The template's key figures of `unit` in this round, each beside the previous period of the
/// same kind.
pub struct KeyFigures {
    pub previous: Option<Round>,
    /// How many reports the previous period's figures count: those of the units that count now.
    pub reports_before: Option<u64>,
    pub figures: Vec<KeyFigure>,
}

/// The key figures of `unit` around its consolidation `view`, against the previous period
/// of the same kind over the same units as this one counts, so that a round still coming in
/// is not read as a fall.
pub fn key_figures(
    conn: &mut Conn,
    catalog: &Catalog,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
    view: &RollupView,
) -> AppResult<KeyFigures> {
    let t = &ctx.template;
    let previous = trends::previous_round(conn, user, ctx)?;
    let before = match &previous {
        Some(round) => {
            let other = super::access::round_for(conn, catalog, user, round.id, ctx.now)?;
            let tree = cached_subtree(conn, unit, ctx.round.period_end)?;
            let counted = trends::counted_units(conn, ctx, &tree, view.provisional)?;
            let keys = stored_keys(t, t.key_indicators().iter().map(|i| i.key.as_str()));
            let (total, _) = Mapping::onto(conn, &tree, &[])?.consolidate_for(
                conn,
                &other,
                false,
                Some(&counted),
                Some(&keys),
            )?;
            Some((other, total))
        }
        None => None,
    };
    let figures = t
        .key_indicators()
        .into_iter()
        .map(|i| KeyFigure {
            key: i.key.clone(),
            now: number(t, &view.total.rollup, &i.key),
            before: before.as_ref().and_then(|(other, total)| {
                other
                    .template
                    .indicator(&i.key)
                    .filter(|o| o.aggregate == i.aggregate)
                    .and_then(|_| number(&other.template, total, &i.key))
            }),
        })
        .collect();
    Ok(KeyFigures {
        reports_before: before.as_ref().map(|(_, total)| total.reports()),
        previous,
        figures,
    })
}

/// The stored figures that `keys` are computed from: each itself, a ratio its two parts.
pub fn stored_keys<'a>(
    template: &'a Template,
    keys: impl IntoIterator<Item = &'a str>,
) -> Vec<&'a str> {
    let mut out = Vec::new();
    for key in keys {
        match template.indicator(key).map(|i| &i.kind) {
            Some(IndicatorKind::Ratio {
                numerator,
                denominator,
                ..
            }) => {
                out.push(numerator.as_str());
                out.push(denominator.as_str());
            }
            _ => out.push(key),
        }
    }
    out
}

/// The group whose summed counts share one unit of measure, three or more of them: the
/// activity by field, read as a table of fields × units.
fn fields_of(template: &Template) -> Option<Fields> {
    template
        .groups
        .iter()
        .filter_map(|g| {
            let counts: Vec<_> = template
                .indicators
                .iter()
                .filter(|i| {
                    i.group == g.key
                        && matches!(i.kind, IndicatorKind::Integer { .. })
                        && i.aggregate == Aggregate::Sum
                        && i.roster.is_none()
                })
                .collect();
            let unit = most_common(counts.iter().filter_map(|i| i.unit.as_deref()))?;
            let keys: Vec<String> = counts
                .iter()
                .filter(|i| i.unit.as_deref() == Some(unit))
                .map(|i| i.key.clone())
                .collect();
            (keys.len() >= 3).then(|| Fields {
                group_title: g.title.clone(),
                keys,
            })
        })
        .max_by_key(|f| f.keys.len())
}

fn most_common<'a>(items: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for item in items {
        match counts.iter_mut().find(|(k, _)| *k == item) {
            Some((_, n)) => *n += 1,
            None => counts.push((item, 1)),
        }
    }
    counts.into_iter().max_by_key(|(_, n)| *n).map(|(k, _)| k)
}

/// The labels of `keys` without the words they all begin with ("Số buổi tuyên truyền về y
/// tế" → "y tế"), and those words, for the table's heading.
pub fn short_labels(template: &Template, keys: &[String]) -> (String, Vec<String>) {
    let labels: Vec<Vec<&str>> = keys
        .iter()
        .filter_map(|k| template.indicator(k))
        .map(|i| i.label.split(' ').collect())
        .collect();
    let Some(first) = labels.first() else {
        return (String::new(), Vec::new());
    };
    let mut common = first.len();
    for l in &labels[1..] {
        common = common.min(first.iter().zip(l).take_while(|(a, b)| a == b).count());
    }
    // Keep at least one word of each label.
    let shortest = labels.iter().map(Vec::len).min().unwrap_or(0);
    let common = common.min(shortest.saturating_sub(1));
    (
        first[..common].join(" "),
        labels.iter().map(|l| l[common..].join(" ")).collect(),
    )
}
