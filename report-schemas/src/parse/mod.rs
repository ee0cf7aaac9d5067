//! TOML text → checked [`Template`].
//!
//! Two passes over the text. A loose pass keeps only the spans of the list elements (groups,
//! indicators, rules, sections), so that any later error can be placed as
//! `indicators[3] (so_thanh_vien)` rather than a bare line number. The strict pass deserializes
//! into raw structs with `deny_unknown_fields`; then [`Checker`] enforces everything serde cannot
//! (keys, references, types against aggregates, bounds) and builds the model.

use std::collections::BTreeSet;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::text::{format_dec, format_int, line_col, nfc, translate_toml_message};
use crate::{
    Aggregate, ChoiceOption, Group, Indicator, IndicatorKind, PeriodType, RosterMeasure, Section,
    Template, TemplateError,
};

mod raw;
mod rules;

use self::raw::*;

/// The loose pass: list elements only, whatever their content.
#[derive(Deserialize)]
struct Skeleton {
    #[serde(default)]
    groups: Vec<Spanned<toml::Value>>,
    #[serde(default)]
    indicators: Vec<Spanned<toml::Value>>,
    #[serde(default)]
    rules: Vec<Spanned<toml::Value>>,
    #[serde(default)]
    sections: Vec<Spanned<toml::Value>>,
}

/// Where one list element sits in the text.
struct Element {
    list: &'static str,
    /// From 0; shown from 1.
    index: usize,
    key: Option<String>,
    span: Range<usize>,
}

impl Element {
    fn label(&self) -> String {
        match self.key.as_deref().filter(|k| !k.is_empty()) {
            Some(key) => format!("{}[{}] ({key})", self.list, self.index + 1),
            None => format!("{}[{}]", self.list, self.index + 1),
        }
    }
}

struct Context<'a> {
    source: &'a str,
    file: &'a str,
    elements: Vec<Element>,
}

pub(crate) fn parse(source: &str, file: &str) -> Result<Template, TemplateError> {
    let mut context = Context {
        source,
        file,
        elements: Vec::new(),
    };
    let skeleton: Skeleton = toml::from_str(source).map_err(|e| context.toml_error(&e))?;
    context.elements = context.locate(skeleton);
    let raw: RawTemplate = toml::from_str(source).map_err(|e| context.toml_error(&e))?;
    Checker { context }.check(raw)
}

impl Context<'_> {
    fn locate(&self, skeleton: Skeleton) -> Vec<Element> {
        let lists = [
            ("groups", skeleton.groups),
            ("indicators", skeleton.indicators),
            ("rules", skeleton.rules),
            ("sections", skeleton.sections),
        ];
        // An element written as `[[indicators]]` spans only its header; its body runs to the
        // next header line. An inline element `{ ... }` spans itself.
        let header_lines: Vec<usize> = self
            .source
            .split_inclusive('\n')
            .scan(0, |offset, line| {
                let start = *offset;
                *offset += line.len();
                Some((start, line))
            })
            .filter(|(_, line)| line.trim_start().starts_with('['))
            .map(|(start, line)| start + (line.len() - line.trim_start().len()))
            .collect();
        let mut elements = Vec::new();
        for (list, values) in lists {
            for (index, value) in values.into_iter().enumerate() {
                let mut span = value.span();
                if self
                    .source
                    .get(span.clone())
                    .is_some_and(|s| s.starts_with("[["))
                {
                    span.end = header_lines
                        .iter()
                        .copied()
                        .find(|&start| start > span.start)
                        .unwrap_or(self.source.len());
                }
                let key = value
                    .get_ref()
                    .get("key")
                    .and_then(toml::Value::as_str)
                    .map(str::to_owned);
                elements.push(Element {
                    list,
                    index,
                    key,
                    span,
                });
            }
        }
        elements
    }

    fn element_at(&self, offset: usize) -> Option<&Element> {
        self.elements
            .iter()
            .filter(|e| e.span.start <= offset && offset < e.span.end.max(e.span.start + 1))
            .min_by_key(|e| e.span.len())
    }

    fn error(&self, location: String, message: String) -> TemplateError {
        TemplateError {
            file: self.file.to_owned(),
            location,
            message,
        }
    }

    fn toml_error(&self, error: &toml::de::Error) -> TemplateError {
        let span = error.span();
        let spanned_text = span
            .clone()
            .and_then(|s| self.source.get(s))
            .unwrap_or_default();
        let message = translate_toml_message(error.message(), spanned_text);
        let location = match span {
            Some(span) => {
                let (line, col) = line_col(self.source, span.start);
                let place = format!("dòng {line}, cột {col}");
                match self.element_at(span.start) {
                    Some(element) => format!("{}, {place}", element.label()),
                    None if span.is_empty() && error.message().starts_with("missing field") => {
                        "phần đầu tệp".to_owned()
                    }
                    None => place,
                }
            }
            None => "toàn tệp".to_owned(),
        };
        self.error(location, message)
    }

    /// `indicators[3] (so_thanh_vien), dòng 40` for a list element.
    fn element_location(&self, list: &str, index: usize, span: &Range<usize>) -> String {
        let (line, _) = line_col(self.source, span.start);
        let label = self
            .elements
            .iter()
            .find(|e| e.list == list && e.index == index)
            .map_or_else(|| format!("{list}[{}]", index + 1), Element::label);
        format!("{label}, dòng {line}")
    }

    /// `version, dòng 2` for a top-level key.
    fn key_location(&self, key: &str, span: &Range<usize>) -> String {
        let (line, _) = line_col(self.source, span.start);
        format!("{key}, dòng {line}")
    }
}

/// Keys end up in URLs, database columns and Excel cells: plain lowercase ASCII keeps them
/// stable and unambiguous everywhere.
fn key_problem(key: &str) -> Option<String> {
    if key.is_empty() {
        return Some("Khóa (key) không được để trống.".to_owned());
    }
    if key
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
    {
        None
    } else {
        Some(format!(
            "Khóa «{key}» không hợp lệ: chỉ được dùng chữ thường không dấu (a–z), chữ số (0–9), dấu gạch dưới (_) và gạch ngang (-)."
        ))
    }
}

fn optional_text(text: Option<String>) -> Option<String> {
    text.map(|t| nfc(&t)).filter(|t| !t.is_empty())
}

struct Checker<'a> {
    context: Context<'a>,
}

impl Checker<'_> {
    fn check(&self, raw: RawTemplate) -> Result<Template, TemplateError> {
        let ctx = &self.context;

        let key_span = raw.key.span();
        let key = raw.key.into_inner();
        if let Some(problem) = key_problem(&key) {
            return Err(ctx.error(ctx.key_location("key", &key_span), problem));
        }
        let version_span = raw.version.span();
        let version = raw.version.into_inner();
        if version == 0 {
            return Err(ctx.error(
                ctx.key_location("version", &version_span),
                "Phiên bản (version) phải là số nguyên từ 1 trở lên.".to_owned(),
            ));
        }
        let title_span = raw.title.span();
        let title = nfc(raw.title.get_ref());
        if title.is_empty() {
            return Err(ctx.error(
                ctx.key_location("title", &title_span),
                "Tên mẫu báo cáo (title) không được để trống.".to_owned(),
            ));
        }
        let period_span = raw.period_types.span();
        let period_types = raw.period_types.into_inner();
        if period_types.is_empty() {
            return Err(ctx.error(
                ctx.key_location("period_types", &period_span),
                "Phải khai báo ít nhất một loại kỳ báo cáo (period_types).".to_owned(),
            ));
        }
        let mut seen_periods = BTreeSet::new();
        for period in &period_types {
            if !seen_periods.insert(*period) {
                return Err(ctx.error(
                    ctx.key_location("period_types", &period_span),
                    format!(
                        "Loại kỳ báo cáo «{}» được khai báo hai lần.",
                        period_name(*period)
                    ),
                ));
            }
        }
        if raw.indicators.is_empty() && raw.sections.is_empty() {
            return Err(ctx.error(
                "toàn tệp".to_owned(),
                "Mẫu báo cáo phải có ít nhất một chỉ tiêu ([[indicators]]) hoặc một phần thuyết minh ([[sections]]).".to_owned(),
            ));
        }

        let groups = self.check_groups(raw.groups)?;
        let indicators = self.check_indicators(raw.indicators, &groups)?;
        let rules = self.check_rules(raw.rules, &indicators)?;
        let sections = self.check_sections(raw.sections, &indicators)?;
        let key_figures = self.check_key_figures(raw.key_figures, &indicators)?;

        Ok(Template {
            key,
            version,
            title,
            kind: raw.kind,
            period_types,
            description: optional_text(raw.description),
            groups,
            indicators,
            rules,
            sections,
            key_figures,
        })
    }

    /// `key_figures` names numeric indicators of the template, each once.
    fn check_key_figures(
        &self,
        raw: Option<Spanned<Vec<String>>>,
        indicators: &[Indicator],
    ) -> Result<Vec<String>, TemplateError> {
        let Some(raw) = raw else {
            return Ok(Vec::new());
        };
        let ctx = &self.context;
        let location = ctx.key_location("key_figures", &raw.span());
        let keys = raw.into_inner();
        for (i, key) in keys.iter().enumerate() {
            let problem = match indicators.iter().find(|ind| &ind.key == key) {
                None => Some(format!("Chỉ tiêu chính «{key}» không có trong mẫu.")),
                Some(ind) if !ind.kind.is_numeric() => Some(format!(
                    "Chỉ tiêu chính «{key}» phải là chỉ tiêu số (integer, decimal hoặc ratio)."
                )),
                Some(_) if keys[..i].contains(key) => {
                    Some(format!("Chỉ tiêu chính «{key}» được khai báo hai lần."))
                }
                Some(_) => None,
            };
            if let Some(message) = problem {
                return Err(ctx.error(location, message));
            }
        }
        Ok(keys)
    }

    fn check_groups(&self, raw: Vec<Spanned<RawGroup>>) -> Result<Vec<Group>, TemplateError> {
        let ctx = &self.context;
        let mut groups: Vec<Group> = Vec::with_capacity(raw.len());
        for (index, spanned) in raw.into_iter().enumerate() {
            let location = ctx.element_location("groups", index, &spanned.span());
            let group = spanned.into_inner();
            if let Some(problem) = key_problem(&group.key) {
                return Err(ctx.error(location, problem));
            }
            if let Some(first) = groups.iter().position(|g| g.key == group.key) {
                return Err(ctx.error(
                    location,
                    format!(
                        "Nhóm «{}» đã được khai báo ở groups[{}]; mỗi nhóm phải có khóa riêng.",
                        group.key,
                        first + 1
                    ),
                ));
            }
            let title = nfc(&group.title);
            if title.is_empty() {
                return Err(ctx.error(
                    location,
                    format!("Tên nhóm «{}» (title) không được để trống.", group.key),
                ));
            }
            groups.push(Group {
                key: group.key,
                title,
            });
        }
        Ok(groups)
    }

    fn check_indicators(
        &self,
        raw: Vec<Spanned<RawIndicator>>,
        groups: &[Group],
    ) -> Result<Vec<Indicator>, TemplateError> {
        let ctx = &self.context;
        let mut indicators: Vec<Indicator> = Vec::with_capacity(raw.len());
        let mut locations = Vec::with_capacity(raw.len());
        for (index, spanned) in raw.into_iter().enumerate() {
            let location = ctx.element_location("indicators", index, &spanned.span());
            let indicator = self.check_indicator(spanned.into_inner(), groups, &location)?;
            if let Some(first) = indicators.iter().position(|i| i.key == indicator.key) {
                return Err(ctx.error(
                    location,
                    format!(
                        "Chỉ tiêu «{}» đã được khai báo ở indicators[{}]; mỗi chỉ tiêu phải có khóa riêng.",
                        indicator.key,
                        first + 1
                    ),
                ));
            }
            if let Some(measure) = indicator.roster
                && let Some(first) = indicators.iter().position(|i| i.roster == Some(measure))
            {
                return Err(ctx.error(
                    location,
                    format!(
                        "Số liệu danh sách Tổ «{}» đã gắn với indicators[{}]; mỗi số liệu chỉ gắn với một chỉ tiêu.",
                        measure.name(),
                        first + 1
                    ),
                ));
            }
            indicators.push(indicator);
            locations.push(location);
        }
        // Ratios may name indicators declared after them, so their parts are checked once all are known.
        for (indicator, location) in indicators.iter().zip(&locations) {
            if let IndicatorKind::Ratio {
                numerator,
                denominator,
                ..
            } = &indicator.kind
            {
                for (role, part) in [("Tử số", numerator), ("Mẫu số", denominator)] {
                    if let Some(problem) = ratio_part_problem(&indicators, indicator, role, part) {
                        return Err(ctx.error(location.clone(), problem));
                    }
                }
            }
        }
        Ok(indicators)
    }

    fn check_indicator(
        &self,
        raw: RawIndicator,
        groups: &[Group],
        location: &str,
    ) -> Result<Indicator, TemplateError> {
        let fail = |message: String| Err(self.context.error(location.to_owned(), message));
        if let Some(problem) = key_problem(&raw.key) {
            return fail(problem);
        }
        let label = nfc(&raw.label);
        if label.is_empty() {
            return fail(format!(
                "Tên chỉ tiêu «{}» (label) không được để trống.",
                raw.key
            ));
        }
        if !groups.iter().any(|g| g.key == raw.group) {
            return fail(format!(
                "Nhóm «{}» chưa được khai báo trong [[groups]].",
                raw.group
            ));
        }

        let kind_name = raw.kind.name();
        let present = [
            ("min", raw.min.is_some()),
            ("max", raw.max.is_some()),
            ("options", raw.options.is_some()),
            ("numerator", raw.numerator.is_some()),
            ("denominator", raw.denominator.is_some()),
            ("scale", raw.scale.is_some()),
        ];
        let allowed: &[&str] = match raw.kind {
            RawKind::Integer | RawKind::Decimal => &["min", "max"],
            RawKind::YesNo => &[],
            RawKind::Choice => &["options"],
            RawKind::Ratio => &["numerator", "denominator", "scale"],
        };
        if let Some((field, _)) = present
            .iter()
            .find(|(field, is_present)| *is_present && !allowed.contains(field))
        {
            return fail(format!(
                "Khóa «{field}» không dùng cho chỉ tiêu kiểu «{kind_name}»."
            ));
        }

        if let Some(measure) = raw.roster {
            let fits = match measure {
                RosterMeasure::HasLeader => RawKind::YesNo,
                _ => RawKind::Integer,
            };
            if raw.kind != fits {
                return fail(format!(
                    "Khóa «roster = \"{}\"» chỉ dùng cho chỉ tiêu kiểu «{}».",
                    measure.name(),
                    fits.name()
                ));
            }
        }

        let aggregate = raw.aggregate.unwrap_or(raw.kind.default_aggregate());
        if !raw.kind.allowed_aggregates().contains(&aggregate) {
            let allowed: Vec<_> = raw
                .kind
                .allowed_aggregates()
                .iter()
                .map(|a| aggregate_name(*a))
                .collect();
            return fail(format!(
                "Cách tổng hợp «{}» không dùng được cho chỉ tiêu kiểu «{kind_name}»; chỉ được dùng: {}.",
                aggregate_name(aggregate),
                allowed.join(", ")
            ));
        }

        let kind = match raw.kind {
            RawKind::Integer => {
                let min = match raw.min {
                    None => 0,
                    Some(RawNumber::Int(i)) => i,
                    Some(RawNumber::Float(_)) => {
                        return fail(
                            "Giá trị nhỏ nhất (min) của chỉ tiêu kiểu «integer» phải là số nguyên."
                                .to_owned(),
                        );
                    }
                };
                let max = match raw.max {
                    None => None,
                    Some(RawNumber::Int(i)) => Some(i),
                    Some(RawNumber::Float(_)) => {
                        return fail(
                            "Giá trị lớn nhất (max) của chỉ tiêu kiểu «integer» phải là số nguyên."
                                .to_owned(),
                        );
                    }
                };
                if let Some(max) = max
                    && min > max
                {
                    return fail(format!(
                        "Giá trị nhỏ nhất (min = {}) lớn hơn giá trị lớn nhất (max = {}).",
                        format_int(min.into()),
                        format_int(max.into())
                    ));
                }
                IndicatorKind::Integer { min, max }
            }
            RawKind::Decimal => {
                let min = raw.min.map(RawNumber::as_f64);
                let max = raw.max.map(RawNumber::as_f64);
                if min.into_iter().chain(max).any(|v| !v.is_finite()) {
                    return fail("Giới hạn min, max phải là số hữu hạn.".to_owned());
                }
                if let (Some(min), Some(max)) = (min, max)
                    && min > max
                {
                    return fail(format!(
                        "Giá trị nhỏ nhất (min = {}) lớn hơn giá trị lớn nhất (max = {}).",
                        format_dec(min),
                        format_dec(max)
                    ));
                }
                IndicatorKind::Decimal { min, max }
            }
            RawKind::YesNo => IndicatorKind::YesNo,
            RawKind::Choice => {
                let raw_options = raw.options.unwrap_or_default();
                if raw_options.is_empty() {
                    return fail(
                        "Chỉ tiêu kiểu «choice» phải có ít nhất một lựa chọn (options).".to_owned(),
                    );
                }
                let mut options: Vec<ChoiceOption> = Vec::with_capacity(raw_options.len());
                for option in raw_options {
                    if let Some(problem) = key_problem(&option.key) {
                        return fail(format!("Lựa chọn: {problem}"));
                    }
                    let label = nfc(&option.label);
                    if label.is_empty() {
                        return fail(format!(
                            "Tên của lựa chọn «{}» (label) không được để trống.",
                            option.key
                        ));
                    }
                    if options.iter().any(|o| o.key == option.key) {
                        return fail(format!("Lựa chọn «{}» được khai báo hai lần.", option.key));
                    }
                    if options.iter().any(|o| o.label == label) {
                        return fail(format!(
                            "Hai lựa chọn cùng tên «{label}»; người nhập sẽ không phân biệt được."
                        ));
                    }
                    options.push(ChoiceOption {
                        key: option.key,
                        label,
                    });
                }
                IndicatorKind::Choice { options }
            }
            RawKind::Ratio => {
                let Some(numerator) = raw.numerator else {
                    return fail("Chỉ tiêu kiểu «ratio» phải có tử số (numerator).".to_owned());
                };
                let Some(denominator) = raw.denominator else {
                    return fail("Chỉ tiêu kiểu «ratio» phải có mẫu số (denominator).".to_owned());
                };
                let scale = raw.scale.map_or(DEFAULT_SCALE, RawNumber::as_f64);
                if !(scale.is_finite() && scale > 0.0) {
                    return fail("Hệ số (scale) phải là số lớn hơn 0.".to_owned());
                }
                if raw.required {
                    return fail(
                        "Chỉ tiêu kiểu «ratio» được tính tự động nên không thể bắt buộc nhập; hãy bỏ «required».".to_owned(),
                    );
                }
                IndicatorKind::Ratio {
                    numerator,
                    denominator,
                    scale,
                }
            }
        };

        Ok(Indicator {
            key: raw.key,
            label,
            group: raw.group,
            kind,
            unit: optional_text(raw.unit),
            required: raw.required,
            help: optional_text(raw.help),
            aggregate,
            roster: raw.roster,
        })
    }

    fn check_sections(
        &self,
        raw: Vec<Spanned<RawSection>>,
        indicators: &[Indicator],
    ) -> Result<Vec<Section>, TemplateError> {
        let ctx = &self.context;
        let mut sections: Vec<Section> = Vec::with_capacity(raw.len());
        for (index, spanned) in raw.into_iter().enumerate() {
            let location = ctx.element_location("sections", index, &spanned.span());
            let section = spanned.into_inner();
            let fail = |message: String| Err(ctx.error(location.clone(), message));
            if let Some(problem) = key_problem(&section.key) {
                return fail(problem);
            }
            if let Some(first) = sections.iter().position(|s| s.key == section.key) {
                return fail(format!(
                    "Phần thuyết minh «{}» đã được khai báo ở sections[{}]; mỗi phần phải có khóa riêng.",
                    section.key,
                    first + 1
                ));
            }
            // Errors name their field by key alone, so a key must mean one thing in a report.
            if indicators.iter().any(|i| i.key == section.key) {
                return fail(format!(
                    "Khóa «{}» đã được dùng cho một chỉ tiêu; phần thuyết minh phải có khóa khác.",
                    section.key
                ));
            }
            let title = nfc(&section.title);
            if title.is_empty() {
                return fail(format!(
                    "Tên phần thuyết minh «{}» (title) không được để trống.",
                    section.key
                ));
            }
            let max_chars = match section.max_chars {
                None => DEFAULT_MAX_CHARS,
                Some(n) if n > 0 => usize::try_from(n).unwrap_or(usize::MAX),
                Some(_) => {
                    return fail("Giới hạn số ký tự (max_chars) phải lớn hơn 0.".to_owned());
                }
            };
            sections.push(Section {
                key: section.key,
                title,
                required: section.required,
                max_chars,
                help: optional_text(section.help),
            });
        }
        Ok(sections)
    }
}

fn kind_name(kind: &IndicatorKind) -> &'static str {
    match kind {
        IndicatorKind::Integer { .. } => "integer",
        IndicatorKind::Decimal { .. } => "decimal",
        IndicatorKind::YesNo => "yes_no",
        IndicatorKind::Choice { .. } => "choice",
        IndicatorKind::Ratio { .. } => "ratio",
    }
}

fn period_name(period: PeriodType) -> &'static str {
    match period {
        PeriodType::Month => "month",
        PeriodType::Quarter => "quarter",
        PeriodType::HalfYear => "half_year",
        PeriodType::NineMonths => "nine_months",
        PeriodType::Year => "year",
        PeriodType::Window => "window",
    }
}

/// A ratio is recomputed from the summed parts at every level, so each part must be a number
/// that sums up the tree; anything else would give a meaningless province percentage.
fn ratio_part_problem(
    indicators: &[Indicator],
    ratio: &Indicator,
    role: &str,
    key: &str,
) -> Option<String> {
    if key == ratio.key {
        return Some(format!("{role} của tỷ lệ không thể là chính nó («{key}»)."));
    }
    let Some(part) = indicators.iter().find(|i| i.key == key) else {
        return Some(format!(
            "{role} «{key}» không có trong danh sách chỉ tiêu của mẫu báo cáo."
        ));
    };
    if !matches!(
        part.kind,
        IndicatorKind::Integer { .. } | IndicatorKind::Decimal { .. }
    ) {
        return Some(format!(
            "{role} «{key}» phải là chỉ tiêu kiểu «integer» hoặc «decimal», không phải «{}».",
            kind_name(&part.kind)
        ));
    }
    if part.aggregate != Aggregate::Sum {
        return Some(format!(
            "{role} «{key}» phải được tổng hợp bằng «sum» (đang là «{}»): tỷ lệ được tính lại từ tổng ở mỗi cấp.",
            aggregate_name(part.aggregate)
        ));
    }
    None
}
