//! Small text helpers shared by the parser and the validator: Vietnamese number formatting,
//! NFC normalisation, and turning `toml`/`serde` messages (English) into Vietnamese ones.

use unicode_normalization::UnicodeNormalization;

/// Text is stored NFC (domain.md, "Language"), so a label typed in a decomposed form still
/// matches the same label typed precomposed.
pub(crate) fn nfc(text: &str) -> String {
    text.trim().nfc().collect()
}

/// `1234567` → `1.234.567`: Vietnamese groups thousands with a dot.
pub(crate) fn format_int(value: i128) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if value < 0 {
        out.push('-');
    }
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(digit);
    }
    out
}

/// `1234.5` → `1.234,5`: a comma before the decimals, dots between thousands.
pub(crate) fn format_dec(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return format_int(value as i128);
    }
    let plain = format!("{}", value.abs());
    let (int_part, frac_part) = plain.split_once('.').unwrap_or((plain.as_str(), ""));
    let int_value: i128 = int_part.parse().unwrap_or(0);
    let sign = if value < 0.0 { "-" } else { "" };
    if frac_part.is_empty() {
        format!("{sign}{}", format_int(int_value))
    } else {
        format!("{sign}{},{frac_part}", format_int(int_value))
    }
}

/// A number typed by a person: either a whole number or one with decimals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum TypedNumber {
    Int(i128),
    Dec(f64),
}

/// How a typed text reads as a number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Reading {
    Number(TypedNumber),
    /// A single `.` or `,` followed by exactly three digits in a field that may hold decimals:
    /// `1.234` is 1234 to a Vietnamese reader (the dot groups thousands) and 1.234 to a
    /// spreadsheet (the dot is the decimal point). Never guessed: the person is asked.
    Ambiguous {
        separator: char,
        grouped: i128,
        decimal: f64,
    },
    NotANumber,
}

/// Reads a number as Vietnamese offices type it, one way in every field: dots group thousands
/// (`1.234.567`), a comma comes before the decimals (`12,5`). What reads only one way is read
/// that way whichever convention it follows: `12.5` (a single dot before one or two digits),
/// `1,234,567`, `1.234,5` and `1,234.5` (the last separator is the decimal one).
///
/// A single separator before exactly three digits reads two ways. In a whole-number field
/// only one is a count, so `1.000` and `1,000` are one thousand there; in a field that may
/// hold decimals the text is [`Reading::Ambiguous`].
pub(crate) fn read_typed_number(text: &str, integer_field: bool) -> Reading {
    let cleaned: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}'))
        .collect();
    let (negative, body) = match cleaned.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, cleaned.strip_prefix('+').unwrap_or(&cleaned)),
    };
    if body.is_empty()
        || !body
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    {
        return Reading::NotANumber;
    }
    let sign = if negative { "-" } else { "" };
    let whole = |digits: &str| -> Reading {
        match format!("{sign}{digits}").parse::<i128>() {
            Ok(v) => Reading::Number(TypedNumber::Int(v)),
            Err(_) => Reading::NotANumber,
        }
    };
    let decimal = |int_part: &str, frac: &str| -> Option<f64> {
        if int_part.is_empty()
            || frac.is_empty()
            || !int_part.chars().all(|c| c.is_ascii_digit())
            || !frac.chars().all(|c| c.is_ascii_digit())
        {
            return None;
        }
        let value: f64 = format!("{sign}{int_part}.{frac}").parse().ok()?;
        value.is_finite().then_some(value)
    };
    let dots = body.matches('.').count();
    let commas = body.matches(',').count();
    match (dots, commas) {
        (0, 0) => whole(body),
        (d, c) if d > 0 && c > 0 => {
            // The last separator is the decimal one, and appears once.
            let Some(pos) = body.rfind(['.', ',']) else {
                return Reading::NotANumber;
            };
            let point = if body[pos..].starts_with('.') {
                '.'
            } else {
                ','
            };
            let grouping = if point == '.' { ',' } else { '.' };
            if body.matches(point).count() != 1 {
                return Reading::NotANumber;
            }
            match ungroup(&body[..pos], grouping).and_then(|i| decimal(&i, &body[pos + 1..])) {
                Some(v) => Reading::Number(TypedNumber::Dec(v)),
                None => Reading::NotANumber,
            }
        }
        (1, 0) | (0, 1) => {
            let separator = if dots == 1 { '.' } else { ',' };
            let (int_part, frac) = body.split_once(separator).unwrap_or((body, ""));
            let as_grouped = ungroup(body, separator).filter(|_| !int_part.starts_with('0'));
            match (as_grouped, decimal(int_part, frac)) {
                (Some(digits), _) if integer_field => whole(&digits),
                (Some(digits), Some(value)) => match format!("{sign}{digits}").parse::<i128>() {
                    Ok(grouped) => Reading::Ambiguous {
                        separator,
                        grouped,
                        decimal: value,
                    },
                    Err(_) => Reading::NotANumber,
                },
                (Some(digits), None) => whole(&digits),
                (None, Some(value)) => Reading::Number(TypedNumber::Dec(value)),
                (None, None) => Reading::NotANumber,
            }
        }
        (_, 0) => ungroup(body, '.').map_or(Reading::NotANumber, |d| whole(&d)),
        (0, _) => ungroup(body, ',').map_or(Reading::NotANumber, |d| whole(&d)),
        _ => Reading::NotANumber,
    }
}

/// `1.234.567` with `.` → `1234567`, only when every group after the first has three digits.
fn ungroup(text: &str, separator: char) -> Option<String> {
    let mut groups = text.split(separator);
    let first = groups.next()?;
    if first.is_empty() || first.len() > 3 || !first.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut out = first.to_owned();
    for group in groups {
        if group.len() != 3 || !group.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        out.push_str(group);
    }
    Some(out)
}

/// Line and column (both from 1, the column in characters) of a byte offset, as an editor shows them.
pub(crate) fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = source[line_start..offset].chars().count() + 1;
    (line, col)
}

/// Turns a `toml` or `serde` error message into Vietnamese. The template author is a province
/// staff member, not a programmer: they get a sentence in their language naming the key,
/// and the original English only where we have no translation.
pub(crate) fn translate_toml_message(message: &str, spanned_text: &str) -> String {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let (field, expected) = split_expected(rest);
        let allowed = backticked(expected);
        return if allowed.is_empty() {
            format!("Khóa «{field}» không được dùng ở đây.")
        } else {
            format!(
                "Khóa «{field}» không được dùng ở đây; các khóa được dùng: {}.",
                allowed.join(", ")
            )
        };
    }
    if let Some(rest) = message.strip_prefix("missing field ") {
        return format!("Thiếu khóa bắt buộc «{}».", unquote(rest));
    }
    if let Some(rest) = message.strip_prefix("duplicate field ") {
        return format!("Khóa «{}» được khai báo hai lần.", unquote(rest));
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let (value, expected) = split_expected(rest);
        return format!(
            "Giá trị «{value}» không hợp lệ; chỉ được dùng: {}.",
            backticked(expected).join(", ")
        );
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        return format!(
            "Giá trị sai kiểu: đang là {}, cần {}.",
            describe_found(found),
            describe_expected(expected)
        );
    }
    if let Some(rest) = message.strip_prefix("invalid value: ") {
        let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        return format!(
            "Giá trị không hợp lệ: {}, cần {}.",
            describe_found(found),
            describe_expected(expected)
        );
    }
    if message.starts_with("invalid length ") {
        return format!("Số phần tử của danh sách không đúng ({message}).");
    }
    if message.starts_with("duplicate key") {
        let key = spanned_text.trim().trim_matches('"');
        return if key.is_empty() {
            "Sai cú pháp TOML: một khóa được khai báo hai lần.".to_owned()
        } else {
            format!("Sai cú pháp TOML: khóa «{key}» được khai báo hai lần.")
        };
    }
    translate_syntax(message)
}

fn translate_syntax(message: &str) -> String {
    const TABLE: &[(&str, &str)] = &[
        (
            "string values must be quoted",
            "giá trị chữ phải đặt trong dấu ngoặc kép \"...\"",
        ),
        (
            "invalid basic string",
            "chuỗi chưa được đóng bằng dấu ngoặc kép",
        ),
        (
            "invalid literal string",
            "chuỗi chưa được đóng bằng dấu nháy đơn",
        ),
        (
            "invalid multi-line basic string",
            "chuỗi nhiều dòng chưa được đóng bằng \"\"\"",
        ),
        ("missing value", "thiếu giá trị sau dấu ="),
        ("key with no value", "thiếu dấu = và giá trị sau khóa"),
        (
            "missing assignment between key-value pairs",
            "dòng không đúng dạng «khóa = giá trị»",
        ),
        (
            "invalid key-value pair",
            "dòng không đúng dạng «khóa = giá trị»",
        ),
        (
            "unexpected key or value",
            "dòng không đúng dạng «khóa = giá trị»",
        ),
        ("unexpected content", "có nội dung thừa ở cuối dòng"),
        ("unclosed array table", "thiếu dấu ]] đóng tên bảng"),
        ("unclosed table", "thiếu dấu ] đóng tên bảng"),
        ("unclosed array", "thiếu dấu ] đóng danh sách"),
        ("unclosed inline table", "thiếu dấu } đóng bảng"),
        (
            "missing comma between array elements",
            "thiếu dấu phẩy giữa các phần tử của danh sách",
        ),
        (
            "extra comma in inline table",
            "thừa dấu phẩy trong bảng { ... }",
        ),
        ("invalid unquoted key", "tên khóa không hợp lệ"),
        (
            "unquoted keys cannot be empty",
            "tên khóa không được để trống",
        ),
    ];
    for (english, vietnamese) in TABLE {
        if message.starts_with(english) {
            return format!("Sai cú pháp TOML: {vietnamese}.");
        }
    }
    format!("Sai cú pháp TOML ({message}).")
}

/// `` `foo`, expected one of `a`, `b` `` → (`foo`, "one of `a`, `b`")
fn split_expected(rest: &str) -> (String, &str) {
    match rest.split_once(", expected ") {
        Some((value, expected)) => (unquote(value), expected),
        None => (unquote(rest), ""),
    }
}

fn unquote(text: &str) -> String {
    text.trim().trim_matches('`').to_owned()
}

/// Every `` `name` `` in a serde "expected ..." phrase.
fn backticked(text: &str) -> Vec<String> {
    text.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, name)| name.to_owned())
        .collect()
}

fn describe_found(found: &str) -> String {
    let value = found
        .split_once(' ')
        .map(|(_, v)| v.trim_matches('`'))
        .unwrap_or("");
    if found.starts_with("string") {
        format!("chuỗi {value}")
    } else if found.starts_with("integer") {
        format!("số nguyên {value}")
    } else if found.starts_with("floating point") {
        format!(
            "số thập phân {}",
            found
                .trim_start_matches("floating point ")
                .trim_matches('`')
        )
    } else if found.starts_with("boolean") {
        format!("giá trị đúng/sai {value}")
    } else if found.starts_with("map") {
        "một bảng".to_owned()
    } else if found.starts_with("sequence") {
        "một danh sách".to_owned()
    } else {
        found.to_owned()
    }
}

fn describe_expected(expected: &str) -> String {
    match expected.trim() {
        "a string" | "a borrowed string" | "string" => "một chuỗi trong dấu ngoặc kép".to_owned(),
        "u8" | "u16" | "u32" | "u64" | "usize" => "một số nguyên không âm".to_owned(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "một số nguyên".to_owned(),
        "f32" | "f64" | "a number" => "một số".to_owned(),
        "a boolean" => "true hoặc false".to_owned(),
        "a sequence" => "một danh sách [ ... ]".to_owned(),
        "a map" => "một bảng".to_owned(),
        other if other.starts_with("struct ") => "một bảng".to_owned(),
        other if other.starts_with("enum ") => "một giá trị chữ".to_owned(),
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_are_grouped_by_thousands_with_dots() {
        assert_eq!(format_int(0), "0");
        assert_eq!(format_int(999), "999");
        assert_eq!(format_int(4000), "4.000");
        assert_eq!(format_int(1_234_567), "1.234.567");
        assert_eq!(format_int(-1_234), "-1.234");
    }

    #[test]
    fn decimals_use_a_comma_before_the_fraction() {
        assert_eq!(format_dec(12.5), "12,5");
        assert_eq!(format_dec(1234.25), "1.234,25");
        assert_eq!(format_dec(100.0), "100");
        assert_eq!(format_dec(-0.5), "-0,5");
    }

    #[test]
    fn typed_numbers_are_read_one_way_and_asked_about_when_they_read_two() {
        use Reading::{Ambiguous, NotANumber, Number};
        use TypedNumber::{Dec, Int};
        let ambiguous = |separator, grouped, decimal| Ambiguous {
            separator,
            grouped,
            decimal,
        };
        // (text, whole-number field, reading)
        let cases: &[(&str, bool, Reading)] = &[
            ("12", true, Number(Int(12))),
            ("-3", true, Number(Int(-3))),
            ("1.234", true, Number(Int(1234))),
            ("1,000", true, Number(Int(1000))),
            ("1.000", true, Number(Int(1000))),
            ("1.234", false, ambiguous('.', 1234, 1.234)),
            ("1.000", false, ambiguous('.', 1000, 1.0)),
            ("1,000", false, ambiguous(',', 1000, 1.0)),
            ("12,500", false, ambiguous(',', 12500, 12.5)),
            ("1.234.567", false, Number(Int(1_234_567))),
            ("1,234,567", false, Number(Int(1_234_567))),
            ("12,5", true, Number(Dec(12.5))),
            ("12,5", false, Number(Dec(12.5))),
            ("12.5", false, Number(Dec(12.5))),
            ("12,50", false, Number(Dec(12.5))),
            ("0,125", false, Number(Dec(0.125))),
            ("0.125", false, Number(Dec(0.125))),
            ("1234.567", false, Number(Dec(1234.567))),
            ("1.234,5", false, Number(Dec(1234.5))),
            ("1,234.5", false, Number(Dec(1234.5))),
            ("1 234", true, Number(Int(1234))),
            ("abc", true, NotANumber),
            ("12a", true, NotANumber),
            ("1.2.3", true, NotANumber),
            ("1.234,5.6", false, NotANumber),
            (",5", false, NotANumber),
            ("5,", false, NotANumber),
            ("", true, NotANumber),
        ];
        for (text, integer_field, expected) in cases {
            assert_eq!(
                read_typed_number(text, *integer_field),
                *expected,
                "input {text:?} (whole-number field: {integer_field})"
            );
        }
    }

    #[test]
    fn line_and_column_count_characters_not_bytes() {
        let source = "a = 1\ntiêu = \"đ\" x";
        let offset = source.find('x').unwrap_or(0);
        assert_eq!(line_col(source, offset), (2, 12));
        assert_eq!(line_col(source, 0), (1, 1));
    }
}
