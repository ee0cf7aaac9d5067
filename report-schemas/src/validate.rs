//! Raw input → checked [`FilledReport`], or every problem at once.
//!
//! Input comes from HTML forms (always strings), the JSON API and Excel uploads, so each value
//! may be a JSON number, bool or a string typed the Vietnamese way. An empty string and JSON
//! `null` both mean "not entered": a form cannot send anything else for an empty box.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::text::{Reading, TypedNumber, format_dec, format_int, nfc, read_typed_number};
use crate::{
    Answer, FieldError, FilledReport, Indicator, IndicatorKind, Mode, RuleOp, Section, Sections,
    Template, Value, Values,
};

pub(crate) fn validate(
    template: &Template,
    values: &BTreeMap<String, Json>,
    sections: &BTreeMap<String, String>,
    mode: Mode,
) -> Result<FilledReport, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut error = |field: &str, message: String| {
        errors.push(FieldError {
            field: field.to_owned(),
            message,
        });
    };

    for key in values.keys() {
        if template.indicator(key).is_none() {
            error(key, format!("Chỉ tiêu «{key}» không có trong mẫu báo cáo."));
        }
    }
    for key in sections.keys() {
        if template.section(key).is_none() {
            error(
                key,
                format!("Phần thuyết minh «{key}» không có trong mẫu báo cáo."),
            );
        }
    }

    let mut checked = Values::new();
    for indicator in &template.indicators {
        match check_value(template, indicator, values.get(&indicator.key)) {
            Ok(Some(value)) => {
                checked.insert(indicator.key.clone(), value);
            }
            Ok(None) if mode == Mode::Submit && indicator.required => {
                error(&indicator.key, format!("Chưa nhập «{}».", indicator.label));
            }
            Ok(None) => {}
            Err(message) => error(&indicator.key, message),
        }
    }

    // A rule is only judged on values that are there and well-formed: a missing or wrong value
    // has its own message already, and a rule over it would only add noise. A draft breaking
    // a rule is kept, the rule pending; only submitting refuses it.
    let mut pending = Vec::new();
    let mut warnings = Vec::new();
    for rule in &template.rules {
        if !applies(&checked, rule) {
            continue;
        }
        let (Some(left), Some(right)) = (
            side_total(&checked, &rule.left),
            side_total(&checked, &rule.right),
        ) else {
            continue;
        };
        let right = match (rule.value, right) {
            (None, right) => right,
            (Some(v), TypedNumber::Int(r)) if v.fract() == 0.0 => TypedNumber::Int(r + v as i128),
            (Some(v), TypedNumber::Int(r)) => TypedNumber::Dec(r as f64 + v),
            (Some(v), TypedNumber::Dec(r)) => TypedNumber::Dec(r + v),
        };
        if !holds(left, rule.op, right)
            && let Some(field) = rule.left.first()
        {
            let broken = FieldError {
                field: field.clone(),
                message: rule.message.clone(),
            };
            if rule.warning {
                warnings.push(broken);
            } else if mode == Mode::Draft {
                pending.push(broken);
            } else {
                error(field, rule.message.clone());
            }
        }
    }

    let mut kept = Sections::new();
    for section in &template.sections {
        let text = sections.get(&section.key).map_or("", |t| t.trim());
        if text.is_empty() {
            if mode == Mode::Submit && section.required {
                error(&section.key, format!("Chưa nhập «{}».", section.title));
            }
            continue;
        }
        match section_problem(section, text) {
            Some(message) => error(&section.key, message),
            None => {
                kept.insert(section.key.clone(), text.to_owned());
            }
        }
    }

    if errors.is_empty() {
        Ok(FilledReport {
            values: checked,
            sections: kept,
            pending,
            warnings,
        })
    } else {
        Err(errors)
    }
}

fn section_problem(section: &Section, text: &str) -> Option<String> {
    let length = text.chars().count();
    (length > section.max_chars).then(|| {
        format!(
            "«{}» dài {} ký tự, vượt quá giới hạn {} ký tự.",
            section.title,
            format_int(length as i128),
            format_int(section.max_chars as i128)
        )
    })
}

/// Absent (`Ok(None)`), a checked value, or the Vietnamese message for the field.
fn check_value(
    template: &Template,
    indicator: &Indicator,
    raw: Option<&Json>,
) -> Result<Option<Value>, String> {
    let Some(raw) = raw.filter(|raw| !is_blank(raw)) else {
        return Ok(None);
    };
    let label = &indicator.label;
    match &indicator.kind {
        IndicatorKind::Integer { min, max } => {
            let value = read_integer(label, raw)?;
            if value < *min {
                return Err(format!(
                    "«{label}» không được nhỏ hơn {}.",
                    format_int((*min).into())
                ));
            }
            if let Some(max) = max
                && value > *max
            {
                return Err(format!(
                    "«{label}» không được lớn hơn {}.",
                    format_int((*max).into())
                ));
            }
            Ok(Some(Value::Int(value)))
        }
        IndicatorKind::Decimal { min, max } => {
            let value = read_decimal(label, raw)?;
            if let Some(min) = min
                && value < *min
            {
                return Err(format!(
                    "«{label}» không được nhỏ hơn {}.",
                    format_dec(*min)
                ));
            }
            if let Some(max) = max
                && value > *max
            {
                return Err(format!(
                    "«{label}» không được lớn hơn {}.",
                    format_dec(*max)
                ));
            }
            Ok(Some(Value::Dec(value)))
        }
        IndicatorKind::YesNo => read_yes_no(raw)
            .map(|b| Some(Value::Bool(b)))
            .ok_or_else(|| format!("«{label}» chỉ nhận «Có» hoặc «Không».")),
        IndicatorKind::Choice { options } => {
            let chosen = raw.as_str().map(nfc).and_then(|text| {
                options
                    .iter()
                    .find(|o| o.key == text || o.label == text)
                    .map(|o| o.key.clone())
            });
            chosen.map(|key| Some(Value::Choice(key))).ok_or_else(|| {
                let labels: Vec<String> =
                    options.iter().map(|o| format!("«{}»", o.label)).collect();
                format!(
                    "«{label}»: lựa chọn không hợp lệ; hãy chọn một trong: {}.",
                    labels.join(", ")
                )
            })
        }
        IndicatorKind::Ratio {
            numerator,
            denominator,
            ..
        } => {
            let part = |key: &str| {
                template
                    .indicator(key)
                    .map_or_else(|| key.to_owned(), |i| i.label.clone())
            };
            Err(format!(
                "«{label}» được tính tự động từ «{}» và «{}», không nhập trực tiếp.",
                part(numerator),
                part(denominator)
            ))
        }
    }
}

fn is_blank(raw: &Json) -> bool {
    match raw {
        Json::Null => true,
        Json::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

fn read_integer(label: &str, raw: &Json) -> Result<i64, String> {
    let not_whole = || format!("«{label}» phải là số nguyên.");
    let not_number = || format!("«{label}» phải là một số.");
    let too_large = || format!("«{label}» quá lớn.");
    let from_float = |f: f64| {
        if f.fract() != 0.0 {
            Err(not_whole())
        } else if f.abs() < 9.0e15 {
            Ok(f as i64)
        } else {
            Err(too_large())
        }
    };
    match raw {
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(i)
            } else if n.is_u64() {
                Err(too_large())
            } else {
                n.as_f64().map_or_else(|| Err(not_number()), from_float)
            }
        }
        Json::String(s) => match read_typed_number(s.trim(), true) {
            Reading::Number(TypedNumber::Int(i)) => i64::try_from(i).map_err(|_| too_large()),
            Reading::Number(TypedNumber::Dec(f)) => from_float(f),
            // A whole-number field reads a separator before three digits as thousands.
            Reading::Ambiguous { grouped, .. } => i64::try_from(grouped).map_err(|_| too_large()),
            Reading::NotANumber => Err(not_number()),
        },
        _ => Err(not_number()),
    }
}

/// The message for a text that reads two ways: both readings, and how to type each.
fn ambiguous(label: &str, text: &str, separator: char, grouped: i128, decimal: f64) -> String {
    let plain_decimal = format_dec(decimal);
    format!(
        "«{label}»: «{text}» đọc được hai cách: {grouped} (dấu «{separator}» ngăn cách hàng nghìn) hoặc {plain_decimal} (dấu «{separator}» là dấu thập phân). Xin gõ rõ: {grouped} hoặc {plain_decimal}."
    )
}

fn read_decimal(label: &str, raw: &Json) -> Result<f64, String> {
    let value = match raw {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => match read_typed_number(s.trim(), false) {
            Reading::Number(TypedNumber::Int(i)) => Some(i as f64),
            Reading::Number(TypedNumber::Dec(f)) => Some(f),
            Reading::Ambiguous {
                separator,
                grouped,
                decimal,
            } => return Err(ambiguous(label, s.trim(), separator, grouped, decimal)),
            Reading::NotANumber => None,
        },
        _ => None,
    };
    value
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("«{label}» phải là một số."))
}

fn read_yes_no(raw: &Json) -> Option<bool> {
    match raw {
        Json::Bool(b) => Some(*b),
        Json::Number(n) => match n.as_i64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        Json::String(s) => match nfc(&s.to_lowercase()).as_str() {
            "co" | "có" | "true" | "1" => Some(true),
            "khong" | "không" | "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// The sum of one side of a rule, if every indicator it names was entered. Whole numbers are
/// summed exactly; a side with a decimal falls back to floating point.
/// Whether a rule applies: always, or when its condition's answer was given.
fn applies(values: &Values, rule: &crate::Rule) -> bool {
    let Some(when) = &rule.when else {
        return true;
    };
    match (values.get(&when.key), &when.is) {
        (Some(Value::Bool(b)), Answer::YesNo(want)) => b == want,
        (Some(Value::Choice(c)), Answer::Option(want)) => c == want,
        _ => false,
    }
}

fn side_total(values: &Values, keys: &[String]) -> Option<TypedNumber> {
    let mut total = TypedNumber::Int(0);
    for key in keys {
        total = match (total, values.get(key)?) {
            (TypedNumber::Int(a), Value::Int(b)) => TypedNumber::Int(a + i128::from(*b)),
            (TypedNumber::Int(a), Value::Dec(b)) => TypedNumber::Dec(a as f64 + b),
            (TypedNumber::Dec(a), Value::Int(b)) => TypedNumber::Dec(a + *b as f64),
            (TypedNumber::Dec(a), Value::Dec(b)) => TypedNumber::Dec(a + b),
            (_, Value::Bool(_) | Value::Choice(_)) => return None,
        };
    }
    Some(total)
}

fn holds(left: TypedNumber, op: RuleOp, right: TypedNumber) -> bool {
    use std::cmp::Ordering;
    let ordering = match (left, right) {
        (TypedNumber::Int(a), TypedNumber::Int(b)) => a.cmp(&b),
        (a, b) => {
            let (a, b) = (as_f64(a), as_f64(b));
            // Decimals typed as 0,1 + 0,2 must still equal 0,3.
            let tolerance = 1e-9 * a.abs().max(b.abs()).max(1.0);
            if (a - b).abs() <= tolerance {
                Ordering::Equal
            } else if a < b {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
    };
    match op {
        RuleOp::Le => ordering.is_le(),
        RuleOp::Lt => ordering.is_lt(),
        RuleOp::Ge => ordering.is_ge(),
        RuleOp::Gt => ordering.is_gt(),
        RuleOp::Eq => ordering.is_eq(),
    }
}

fn as_f64(number: TypedNumber) -> f64 {
    match number {
        TypedNumber::Int(i) => i as f64,
        TypedNumber::Dec(f) => f,
    }
}
