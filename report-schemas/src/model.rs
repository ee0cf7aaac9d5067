//! The parsed, checked form of a report template. Construct it only through
//! [`Template::parse`](crate::Template::parse) so every invariant below holds.

use serde::{Deserialize, Serialize};

/// Periodic reports recur every period; thematic ones review one subject once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateKind {
    Periodic,
    Thematic,
}

/// The period types a round can cover (domain.md, "Periods and rounds").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodType {
    Month,
    Quarter,
    HalfYear,
    NineMonths,
    Year,
    /// A free date window, for thematic rounds.
    Window,
}

/// A report template: data, loaded from a TOML file under `schemas/`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Template {
    /// Stable ASCII key, e.g. `dinh-ky`.
    pub key: String,
    pub version: u32,
    /// Vietnamese title shown to users.
    pub title: String,
    pub kind: TemplateKind,
    pub period_types: Vec<PeriodType>,
    pub description: Option<String>,
    /// Display groups, in order; every indicator belongs to one of them.
    pub groups: Vec<Group>,
    /// Indicators in display order.
    pub indicators: Vec<Indicator>,
    pub rules: Vec<Rule>,
    pub sections: Vec<Section>,
    /// The keys of the numeric indicators a dashboard shows first (`key_figures`), in order.
    pub key_figures: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub key: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Indicator {
    pub key: String,
    pub label: String,
    pub group: String,
    pub kind: IndicatorKind,
    /// Unit of measure shown beside the value: người, buổi, lượt, %, ...
    pub unit: Option<String>,
    /// Required on submission (never required for a draft). Derived ratios are never required.
    pub required: bool,
    pub help: Option<String>,
    pub aggregate: Aggregate,
    /// The figure of the team's roster this indicator is pre-filled from, if any.
    pub roster: Option<RosterMeasure>,
}

/// Figures of a team's roster (point 1 of Công văn 409) as of a round's data cut-off, which a
/// template may use to pre-fill its organisation indicators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RosterMeasure {
    /// Members on the team.
    Members,
    /// Members who hold another post (kiêm nhiệm).
    PartTime,
    Women,
    /// Members with a university degree or higher.
    Degree,
    /// Members older than 60.
    #[serde(rename = "over_60")]
    Over60,
    /// Whether the team has a leader (tổ trưởng).
    HasLeader,
}

impl RosterMeasure {
    /// The name as written in a template file.
    pub fn name(self) -> &'static str {
        match self {
            RosterMeasure::Members => "members",
            RosterMeasure::PartTime => "part_time",
            RosterMeasure::Women => "women",
            RosterMeasure::Degree => "degree",
            RosterMeasure::Over60 => "over_60",
            RosterMeasure::HasLeader => "has_leader",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum IndicatorKind {
    /// A whole-number count. `min` defaults to 0: counts are never negative.
    Integer {
        min: i64,
        max: Option<i64>,
    },
    Decimal {
        min: Option<f64>,
        max: Option<f64>,
    },
    YesNo,
    Choice {
        options: Vec<ChoiceOption>,
    },
    /// Derived, never entered: `numerator / denominator * scale`, recomputed from
    /// summed parts at every level of the tree. Both parts are sum-aggregated numeric indicators.
    Ratio {
        numerator: String,
        denominator: String,
        scale: f64,
    },
}

impl IndicatorKind {
    /// A figure (count, amount or ratio), not an answer.
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            IndicatorKind::Integer { .. }
                | IndicatorKind::Decimal { .. }
                | IndicatorKind::Ratio { .. }
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChoiceOption {
    pub key: String,
    pub label: String,
}

/// How an indicator's values combine up the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    Sum,
    Average,
    Min,
    Max,
    /// Number of reports answering "yes" (yes/no indicators).
    CountYes,
    /// Number of reports per option (choice indicators).
    CountEach,
    /// Recomputed from summed numerator and denominator (ratio indicators).
    Ratio,
}

/// A cross-indicator rule: `sum(left) op sum(right)`, checked when every named value is present.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    pub left: Vec<String>,
    pub op: RuleOp,
    pub right: Vec<String>,
    /// A constant added to the right side (`value = 90`); a rule may compare with it alone.
    pub value: Option<f64>,
    /// The rule is judged only when this answer was given.
    pub when: Option<Condition>,
    /// A warning is shown but never blocks: the figures may be right, the filer should look.
    pub warning: bool,
    /// Vietnamese message shown when the rule is broken.
    pub message: String,
}

/// An answer that makes a rule apply: a yes/no indicator answered so, or a choice with
/// this option chosen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Condition {
    pub key: String,
    pub is: Answer,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    YesNo(bool),
    Option(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleOp {
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = "=")]
    Eq,
}

/// A narrative section (*phần thuyết minh*).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    pub key: String,
    pub title: String,
    pub required: bool,
    /// Limit in characters (Unicode scalar values, after NFC is the caller's job).
    pub max_chars: usize,
    pub help: Option<String>,
}

/// A checked value of one entered indicator. Stored as plain JSON: a number, `true`/`false`
/// or the option's key.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Int(i64),
    Dec(f64),
    Bool(bool),
    /// The key of the chosen option.
    Choice(String),
}

impl Value {
    /// A figure as a plain number; none for an answer or a choice.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Dec(d) => Some(*d),
            Value::Bool(_) | Value::Choice(_) => None,
        }
    }
}

/// Read by the JSON type directly, as `#[serde(untagged)]` would (a whole number is `Int`, any
/// other number `Dec`), without buffering and retrying each variant: consolidating a national
/// round reads hundreds of thousands of values.
impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Value;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number, true/false or an option key")
            }

            fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
                Ok(Value::Bool(b))
            }

            fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
                Ok(Value::Int(i))
            }

            fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
                Ok(i64::try_from(u).map_or(Value::Dec(u as f64), Value::Int))
            }

            fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
                Ok(Value::Dec(f))
            }

            fn visit_str<E>(self, s: &str) -> Result<Value, E> {
                Ok(Value::Choice(s.to_owned()))
            }

            fn visit_string<E>(self, s: String) -> Result<Value, E> {
                Ok(Value::Choice(s))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// One problem with a filled report or a field of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The indicator or section key the problem belongs to (or `values`/`sections` for the map itself).
    pub field: String,
    /// Vietnamese, names the indicator by its label.
    pub message: String,
}
