//! Checking a template's `[[rules]]`: what they compare, when they apply, and whether a broken
//! one is an error (blocks submitting) or a warning (shown, never blocking).

use toml::Spanned;

use super::raw::{RawAnswer, RawRule, Severity};
use super::{Checker, kind_name};
use crate::text::nfc;
use crate::{Answer, Condition, Indicator, IndicatorKind, Rule, TemplateError};

impl Checker<'_> {
    pub(super) fn check_rules(
        &self,
        raw: Vec<Spanned<RawRule>>,
        indicators: &[Indicator],
    ) -> Result<Vec<Rule>, TemplateError> {
        let ctx = &self.context;
        let mut rules = Vec::with_capacity(raw.len());
        for (index, spanned) in raw.into_iter().enumerate() {
            let location = ctx.element_location("rules", index, &spanned.span());
            let rule = spanned.into_inner();
            let fail = |message: String| Err(ctx.error(location.clone(), message));
            if rule.right.is_empty() && rule.value.is_none() {
                return fail(
                    "Vế «right» của quy tắc phải nêu ít nhất một chỉ tiêu, hoặc quy tắc phải có một giá trị so sánh (value)."
                        .to_owned(),
                );
            }
            let mut sides = vec![("left", &rule.left)];
            if !rule.right.is_empty() {
                sides.push(("right", &rule.right));
            }
            for (side, keys) in sides {
                if keys.is_empty() {
                    return fail(format!(
                        "Vế «{side}» của quy tắc phải nêu ít nhất một chỉ tiêu."
                    ));
                }
                for key in keys {
                    let Some(indicator) = indicators.iter().find(|i| &i.key == key) else {
                        return fail(format!(
                            "Quy tắc nhắc đến chỉ tiêu «{key}» nhưng mẫu báo cáo không có chỉ tiêu này."
                        ));
                    };
                    if !matches!(
                        indicator.kind,
                        IndicatorKind::Integer { .. } | IndicatorKind::Decimal { .. }
                    ) {
                        return fail(format!(
                            "Quy tắc chỉ so sánh được chỉ tiêu kiểu «integer» hoặc «decimal»; «{key}» là kiểu «{}».",
                            kind_name(&indicator.kind)
                        ));
                    }
                }
            }
            let when = match rule.when {
                None => None,
                Some(w) => match condition(indicators, w.key, w.is) {
                    Ok(c) => Some(c),
                    Err(message) => return fail(message),
                },
            };
            let message = nfc(&rule.message);
            if message.is_empty() {
                return fail(
                    "Quy tắc phải có thông báo (message) để người nhập biết sai ở đâu.".to_owned(),
                );
            }
            rules.push(Rule {
                left: rule.left,
                op: rule.op,
                right: rule.right,
                value: rule.value.map(|v| v.as_f64()),
                when,
                warning: rule.severity == Some(Severity::Warning),
                message,
            });
        }
        Ok(rules)
    }
}

/// `when = { key = …, is = … }`: a yes/no indicator with `true`/`false`, or a choice with one
/// of its options.
fn condition(indicators: &[Indicator], key: String, is: RawAnswer) -> Result<Condition, String> {
    let Some(indicator) = indicators.iter().find(|i| i.key == key) else {
        return Err(format!(
            "Điều kiện «when» của quy tắc nhắc đến chỉ tiêu «{key}» nhưng mẫu báo cáo không có chỉ tiêu này."
        ));
    };
    let is = match (&indicator.kind, is) {
        (IndicatorKind::YesNo, RawAnswer::YesNo(b)) => Answer::YesNo(b),
        (IndicatorKind::Choice { options }, RawAnswer::Option(o)) => {
            if !options.iter().any(|opt| opt.key == o) {
                let known: Vec<&str> = options.iter().map(|opt| opt.key.as_str()).collect();
                return Err(format!(
                    "Điều kiện «when» nêu lựa chọn «{o}» nhưng chỉ tiêu «{key}» chỉ có các lựa chọn: {}.",
                    known.join(", ")
                ));
            }
            Answer::Option(o)
        }
        (IndicatorKind::YesNo, RawAnswer::Option(_)) => {
            return Err(format!(
                "Điều kiện «when» trên chỉ tiêu có/không «{key}» phải ghi is = true hoặc is = false."
            ));
        }
        (IndicatorKind::Choice { .. }, RawAnswer::YesNo(_)) => {
            return Err(format!(
                "Điều kiện «when» trên chỉ tiêu «{key}» phải ghi khóa của một lựa chọn, ví dụ is = \"{}\".",
                match &indicator.kind {
                    IndicatorKind::Choice { options } =>
                        options.first().map_or("", |o| o.key.as_str()),
                    _ => "",
                }
            ));
        }
        (kind, _) => {
            return Err(format!(
                "Điều kiện «when» chỉ dùng được chỉ tiêu có/không hoặc chọn một; «{key}» là kiểu «{}».",
                kind_name(kind)
            ));
        }
    };
    Ok(Condition { key, is })
}
