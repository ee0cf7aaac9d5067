//! Consolidation (*tổng hợp*) of reports up the unit tree.
//!
//! A [`Rollup`] keeps, per indicator, a state that can be merged with another one: sums, counts,
//! extremes. Everything a level shows is computed from that state at [`Rollup::value`] time, never
//! from the values shown one level down. That is why a percentage is right at every level: a
//! province ratio is the province's summed numerator over its summed denominator, not an average
//! of district percentages.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Aggregate, IndicatorKind, Template, Value, Values};

/// Aggregation state of any number of reports; merging is associative and commutative, so the
/// tree can be consolidated in any shape and any order.
///
/// Missing values are skipped, not read as zero: a commune that left a box empty does not pull
/// an average or a minimum down.
///
/// States are kept by the indicator's position in the template (a national round merges
/// millions of them; a keyed map spent most of its time comparing keys), so a rollup is only
/// ever read with, and merged with rollups of, the template it was built with.
///
/// Its serde form is how a live consolidation is stored between requests
/// ([`Rollup::to_stored`], [`Rollup::from_stored`]): every number read back is the number written.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Rollup {
    reports: u64,
    states: Vec<Option<State>>,
}

/// What a level shows for one indicator.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AggValue {
    /// Sums, averages, extremes, counts of "yes", ratios.
    Number(f64),
    /// Reports per option of a choice indicator, every option listed (zero included).
    Counts(BTreeMap<String, u64>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct State {
    /// How many reports had a value for this indicator.
    answered: u64,
    acc: Acc,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Acc {
    /// For `sum` and `average` alike; the average divides by `answered`.
    Total(Number),
    Min(Number),
    Max(Number),
    Yes(u64),
    Each(BTreeMap<String, u64>),
}

/// Whole-number indicators are summed exactly; a province of ten thousand communes must not
/// drift by rounding. Tagged when stored, so that a whole number is never read back as a
/// decimal (nor one beyond 2^53 through a float).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
enum Number {
    #[serde(rename = "i")]
    Int(i128),
    #[serde(rename = "d")]
    Dec(f64),
}

impl Number {
    fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Dec(f) => f,
        }
    }

    fn add(self, other: Number) -> Number {
        match (self, other) {
            // i128 holds i64::MAX times 2^63 reports: saturation is unreachable in practice.
            (Number::Int(a), Number::Int(b)) => Number::Int(a.saturating_add(b)),
            (a, b) => Number::Dec(a.as_f64() + b.as_f64()),
        }
    }

    fn less_than(self, other: Number) -> bool {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => a < b,
            (a, b) => a.as_f64() < b.as_f64(),
        }
    }
}

impl Acc {
    fn merge(&mut self, other: &Acc) {
        match (self, other) {
            (Acc::Total(a), Acc::Total(b)) => *a = a.add(*b),
            (Acc::Min(a), Acc::Min(b)) if b.less_than(*a) => *a = *b,
            (Acc::Max(a), Acc::Max(b)) if a.less_than(*b) => *a = *b,
            (Acc::Yes(a), Acc::Yes(b)) => *a += b,
            (Acc::Each(a), Acc::Each(b)) => {
                for (option, count) in b {
                    *a.entry(option.clone()).or_insert(0) += count;
                }
            }
            // An extreme that does not beat the current one changes nothing. Only rollups of
            // one template are merged; a state of another shape is another template's and is
            // left out rather than guessed at.
            _ => {}
        }
    }
}

impl Rollup {
    pub fn of<'a>(template: &Template, reports: impl IntoIterator<Item = &'a Values>) -> Rollup {
        let mut rollup = Rollup::default();
        for values in reports {
            rollup.add(template, values);
        }
        rollup
    }

    /// Adds one report's checked values. Values whose type does not fit the indicator (which
    /// [`Template::validate`] never produces) are skipped, as are ratios: they are derived.
    pub fn add(&mut self, template: &Template, values: &Values) {
        self.reports += 1;
        if self.states.len() < template.indicators.len() {
            self.states.resize(template.indicators.len(), None);
        }
        for (at, indicator) in template.indicators.iter().enumerate() {
            let Some(value) = values.get(&indicator.key) else {
                continue;
            };
            let number = match (&indicator.kind, value) {
                (IndicatorKind::Integer { .. }, Value::Int(i)) => Some(Number::Int((*i).into())),
                (IndicatorKind::Decimal { .. }, Value::Int(i)) => Some(Number::Dec(*i as f64)),
                (IndicatorKind::Decimal { .. }, Value::Dec(f)) if f.is_finite() => {
                    Some(Number::Dec(*f))
                }
                _ => None,
            };
            let acc = match (indicator.aggregate, number, value) {
                (Aggregate::Sum | Aggregate::Average, Some(n), _) => Acc::Total(n),
                (Aggregate::Min, Some(n), _) => Acc::Min(n),
                (Aggregate::Max, Some(n), _) => Acc::Max(n),
                (Aggregate::CountYes, _, Value::Bool(b)) => Acc::Yes(u64::from(*b)),
                (Aggregate::CountEach, _, Value::Choice(option)) => {
                    Acc::Each(BTreeMap::from([(option.clone(), 1)]))
                }
                _ => continue,
            };
            merge_state(&mut self.states[at], &State { answered: 1, acc });
        }
    }

    /// The state as stored text (JSON), to be read back with [`Rollup::from_stored`].
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).expect("a rollup state always serialises")
    }

    pub fn from_stored(text: &str) -> Result<Rollup, serde_json::Error> {
        serde_json::from_str(text)
    }

    pub fn merge(&mut self, other: &Rollup) {
        self.reports += other.reports;
        if self.states.len() < other.states.len() {
            self.states.resize(other.states.len(), None);
        }
        for (mine, theirs) in self.states.iter_mut().zip(&other.states) {
            if let Some(theirs) = theirs {
                merge_state(mine, theirs);
            }
        }
    }

    /// The state of the indicator with `key`.
    fn state(&self, template: &Template, key: &str) -> Option<&State> {
        let at = template.indicators.iter().position(|i| i.key == key)?;
        self.states.get(at)?.as_ref()
    }

    /// How many reports went in.
    pub fn reports(&self) -> u64 {
        self.reports
    }

    /// How many reports had a value for `key` (for a ratio: for its denominator). Lets a view
    /// say "12 of 15 communes answered" beside a total.
    pub fn answered(&self, template: &Template, key: &str) -> u64 {
        let key = match template.indicator(key).map(|i| &i.kind) {
            Some(IndicatorKind::Ratio { denominator, .. }) => denominator.as_str(),
            _ => key,
        };
        self.state(template, key).map_or(0, |s| s.answered)
    }

    /// The consolidated value of one indicator. `None`: no report had a value for it, or
    /// (for a ratio) a part is missing or the denominator sums to zero.
    pub fn value(&self, template: &Template, key: &str) -> Option<AggValue> {
        let at = template.indicators.iter().position(|i| i.key == key)?;
        self.value_at(template, at)
    }

    /// [`Rollup::value`] of the template's indicator at position `at`: reading every indicator
    /// in order needs no search of the template by key.
    pub fn value_at(&self, template: &Template, at: usize) -> Option<AggValue> {
        let indicator = template.indicators.get(at)?;
        if let IndicatorKind::Ratio {
            numerator,
            denominator,
            scale,
        } = &indicator.kind
        {
            let numerator = self.total(template, numerator)?;
            let denominator = self.total(template, denominator)?;
            return (denominator != 0.0).then(|| AggValue::Number(numerator / denominator * scale));
        }
        let state = self.states.get(at)?.as_ref()?;
        if state.answered == 0 {
            return None;
        }
        let value = match (&state.acc, indicator.aggregate) {
            (Acc::Total(n), Aggregate::Average) => {
                AggValue::Number(n.as_f64() / state.answered as f64)
            }
            (Acc::Total(n), _) | (Acc::Min(n), _) | (Acc::Max(n), _) => {
                AggValue::Number(n.as_f64())
            }
            (Acc::Yes(yes), _) => AggValue::Number(*yes as f64),
            (Acc::Each(counts), _) => {
                let IndicatorKind::Choice { options } = &indicator.kind else {
                    return None;
                };
                AggValue::Counts(
                    options
                        .iter()
                        .map(|o| (o.key.clone(), counts.get(&o.key).copied().unwrap_or(0)))
                        .collect(),
                )
            }
        };
        Some(value)
    }

    fn total(&self, template: &Template, key: &str) -> Option<f64> {
        match self.state(template, key)? {
            State {
                acc: Acc::Total(n),
                answered,
            } if *answered > 0 => Some(n.as_f64()),
            _ => None,
        }
    }
}

fn merge_state(mine: &mut Option<State>, other: &State) {
    match mine {
        Some(state) => {
            state.answered += other.answered;
            state.acc.merge(&other.acc);
        }
        None => *mine = Some(other.clone()),
    }
}
