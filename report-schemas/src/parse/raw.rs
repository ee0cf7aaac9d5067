//! The raw shape of a template file, as serde reads it (`deny_unknown_fields`, with spans so
//! that a later error can name its place); nothing here is checked beyond its syntax.

use serde::Deserialize;
use toml::Spanned;

use crate::{Aggregate, PeriodType, RosterMeasure, RuleOp, TemplateKind};

/// Default limit of a narrative section: about a page and a half, what a commune writes per heading.
pub(super) const DEFAULT_MAX_CHARS: usize = 4000;
/// Ratios are percentages unless the template says otherwise.
pub(super) const DEFAULT_SCALE: f64 = 100.0;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTemplate {
    pub(super) key: Spanned<String>,
    pub(super) version: Spanned<u32>,
    pub(super) title: Spanned<String>,
    pub(super) kind: TemplateKind,
    pub(super) period_types: Spanned<Vec<PeriodType>>,
    pub(super) description: Option<String>,
    #[serde(default)]
    pub(super) groups: Vec<Spanned<RawGroup>>,
    #[serde(default)]
    pub(super) indicators: Vec<Spanned<RawIndicator>>,
    #[serde(default)]
    pub(super) rules: Vec<Spanned<RawRule>>,
    #[serde(default)]
    pub(super) sections: Vec<Spanned<RawSection>>,
    /// The figures a dashboard shows first, by key.
    pub(super) key_figures: Option<Spanned<Vec<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGroup {
    pub(super) key: String,
    pub(super) title: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIndicator {
    pub(super) key: String,
    pub(super) label: String,
    pub(super) group: String,
    #[serde(rename = "type")]
    pub(super) kind: RawKind,
    pub(super) unit: Option<String>,
    #[serde(default)]
    pub(super) required: bool,
    pub(super) help: Option<String>,
    pub(super) aggregate: Option<Aggregate>,
    pub(super) min: Option<RawNumber>,
    pub(super) max: Option<RawNumber>,
    pub(super) options: Option<Vec<RawOption>>,
    pub(super) numerator: Option<String>,
    pub(super) denominator: Option<String>,
    pub(super) scale: Option<RawNumber>,
    pub(super) roster: Option<RosterMeasure>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawKind {
    Integer,
    Decimal,
    YesNo,
    Choice,
    Ratio,
}

impl RawKind {
    /// The name as written in the file, so messages quote what the author typed.
    pub(super) fn name(self) -> &'static str {
        match self {
            RawKind::Integer => "integer",
            RawKind::Decimal => "decimal",
            RawKind::YesNo => "yes_no",
            RawKind::Choice => "choice",
            RawKind::Ratio => "ratio",
        }
    }

    pub(super) fn default_aggregate(self) -> Aggregate {
        match self {
            RawKind::Integer | RawKind::Decimal => Aggregate::Sum,
            RawKind::YesNo => Aggregate::CountYes,
            RawKind::Choice => Aggregate::CountEach,
            RawKind::Ratio => Aggregate::Ratio,
        }
    }

    pub(super) fn allowed_aggregates(self) -> &'static [Aggregate] {
        match self {
            RawKind::Integer | RawKind::Decimal => &[
                Aggregate::Sum,
                Aggregate::Average,
                Aggregate::Min,
                Aggregate::Max,
            ],
            RawKind::YesNo => &[Aggregate::CountYes],
            RawKind::Choice => &[Aggregate::CountEach],
            RawKind::Ratio => &[Aggregate::Ratio],
        }
    }
}

pub(super) fn aggregate_name(aggregate: Aggregate) -> &'static str {
    match aggregate {
        Aggregate::Sum => "sum",
        Aggregate::Average => "average",
        Aggregate::Min => "min",
        Aggregate::Max => "max",
        Aggregate::CountYes => "count_yes",
        Aggregate::CountEach => "count_each",
        Aggregate::Ratio => "ratio",
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOption {
    pub(super) key: String,
    pub(super) label: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    pub(super) left: Vec<String>,
    pub(super) op: RuleOp,
    #[serde(default)]
    pub(super) right: Vec<String>,
    pub(super) value: Option<RawNumber>,
    pub(super) when: Option<RawWhen>,
    pub(super) severity: Option<Severity>,
    pub(super) message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWhen {
    pub(super) key: String,
    pub(super) is: RawAnswer,
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum RawAnswer {
    YesNo(bool),
    Option(String),
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(super) enum Severity {
    Error,
    Warning,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSection {
    pub(super) key: String,
    pub(super) title: String,
    #[serde(default)]
    pub(super) required: bool,
    pub(super) max_chars: Option<i64>,
    pub(super) help: Option<String>,
}

/// A number in the file, whole or not; which one is allowed depends on the indicator type,
/// and the checker can say so in Vietnamese instead of serde's "did not match any variant".
#[derive(Clone, Copy)]
pub(super) enum RawNumber {
    Int(i64),
    Float(f64),
}

impl RawNumber {
    pub(super) fn as_f64(self) -> f64 {
        match self {
            RawNumber::Int(i) => i as f64,
            RawNumber::Float(f) => f,
        }
    }
}

impl<'de> Deserialize<'de> for RawNumber {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = RawNumber;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E>(self, v: i64) -> Result<RawNumber, E> {
                Ok(RawNumber::Int(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RawNumber, E> {
                i64::try_from(v)
                    .map(RawNumber::Int)
                    .map_err(|_| E::custom("số quá lớn"))
            }
            fn visit_f64<E>(self, v: f64) -> Result<RawNumber, E> {
                Ok(RawNumber::Float(v))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}
