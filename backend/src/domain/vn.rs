//! Vietnamese conventions for everything a user sees: NFC text, collation, numbers
//! ("1.234.567", "12,5%") and dates in Vietnam time.

use std::cmp::Ordering;
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};
use icu_collator::options::CollatorOptions;
use icu_collator::{Collator, CollatorBorrowed};
use unicode_normalization::UnicodeNormalization;

/// Text as typed, as it is stored: control characters (NUL, escapes, ...) removed, but tabs
/// and line breaks kept, and NFC. Every text a person sends goes through here.
pub fn clean(s: &str) -> String {
    let unwanted = |c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r');
    if s.chars().any(unwanted) {
        nfc(&s.chars().filter(|&c| !unwanted(c)).collect::<String>())
    } else {
        nfc(s)
    }
}

/// "Thái Bình" → "thaibinh": the letters without their marks (đ as d), lower case, without
/// spaces; for matching what people type without a Vietnamese keyboard.
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c) && !c.is_whitespace())
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            other => other,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

pub fn nfc(s: &str) -> String {
    // Nearly all text arrives composed already; the quick check spares re-composing it.
    if unicode_normalization::is_nfc_quick(s.chars()) == unicode_normalization::IsNormalized::Yes {
        s.to_owned()
    } else {
        s.nfc().collect()
    }
}

fn collator() -> &'static CollatorBorrowed<'static> {
    static COLLATOR: OnceLock<CollatorBorrowed<'static>> = OnceLock::new();
    COLLATOR.get_or_init(|| {
        let locale = icu_locale_core::locale!("vi");
        match Collator::try_new(locale.into(), CollatorOptions::default()) {
            Ok(c) => c,
            // The data for "vi" is compiled in; failing here is a build defect.
            Err(e) => panic!("Vietnamese collation data missing: {e}"),
        }
    })
}

/// Vietnamese collation (CLDR `vi`): "Dân Chủ" < "Đông Hưng"; tones break ties.
pub fn compare(a: &str, b: &str) -> Ordering {
    collator().compare(a, b)
}

/// The first letter in lower case: "Quý I/2025" reads "quý I/2025" inside a sentence.
pub fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

pub fn upper_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// "1.234.567"; negative numbers keep their sign.
pub fn int(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(ch);
    }
    out
}

/// A number with at most `places` decimals, Vietnamese separators: "1.234,5".
pub fn number(x: f64, places: usize) -> String {
    if !x.is_finite() {
        return String::new();
    }
    let fixed = format!("{:.*}", places, x.abs());
    let (whole, frac) = match fixed.split_once('.') {
        Some((w, f)) => (w, f.trim_end_matches('0')),
        None => (fixed.as_str(), ""),
    };
    let whole: i64 = whole.parse().unwrap_or(0);
    let sign = if x < 0.0 && (whole != 0 || !frac.is_empty()) {
        "-"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{}", int(whole))
    } else {
        format!("{sign}{},{frac}", int(whole))
    }
}

pub fn percent(x: f64) -> String {
    format!("{}%", number(x, 1))
}

/// "13/02/2012".
pub fn date_short(d: NaiveDate) -> String {
    format!("{:02}/{:02}/{}", d.day(), d.month(), d.year())
}

/// "ngày 13 tháng 02 năm 2012", "ngày 05 tháng 6 năm 2025", as in the place-and-date line of
/// a Party document: a day under 10 and the months 1 and 2 take a leading zero.
pub fn date_long(d: NaiveDate) -> String {
    let month = if d.month() < 3 {
        format!("{:02}", d.month())
    } else {
        d.month().to_string()
    };
    format!("ngày {:02} tháng {month} năm {}", d.day(), d.year())
}

/// A stored UTC instant in Vietnam time. Asia/Ho_Chi_Minh has kept UTC+7, without daylight
/// saving, since 1975, so a fixed offset is exact for every date baocao handles.
pub fn local(utc: NaiveDateTime) -> NaiveDateTime {
    utc + chrono::Duration::hours(7)
}

/// "17:00 ngày 18/06/2025" in Vietnam time.
pub fn datetime(utc: NaiveDateTime) -> String {
    let t = local(utc);
    format!(
        "{:02}:{:02} ngày {}",
        t.hour(),
        t.minute(),
        date_short(t.date())
    )
}

/// The instant (UTC) at which a Vietnam-time wall clock reads `local`.
pub fn from_local(local: NaiveDateTime) -> NaiveDateTime {
    local - chrono::Duration::hours(7)
}

/// To the microsecond: what both databases keep of a time (PostgreSQL keeps no more), so a
/// time read back is the time written.
pub fn now_utc() -> NaiveDateTime {
    use chrono::SubsecRound;
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// Today's date in Vietnam.
pub fn today() -> NaiveDate {
    local(now_utc()).date()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_text_loses_control_characters_but_keeps_its_lines() {
        assert_eq!(clean("Tổ\u{0}  khoa\u{1b}[31m giáo"), "Tổ  khoa[31m giáo");
        assert_eq!(clean("dòng 1\r\ndòng 2\tcột"), "dòng 1\r\ndòng 2\tcột");
        assert_eq!(clean("Hoa\u{300}"), "Hoà", "and NFC");
        assert_eq!(clean("\u{85}\u{9f}x"), "x", "C1 controls too");
    }

    #[test]
    fn numbers_use_vietnamese_separators() {
        assert_eq!(int(1_234_567), "1.234.567");
        assert_eq!(int(0), "0");
        assert_eq!(int(-1000), "-1.000");
        assert_eq!(number(12.5, 1), "12,5");
        assert_eq!(number(1234.0, 2), "1.234");
        assert_eq!(percent(12.5), "12,5%");
    }

    #[test]
    fn collation_puts_d_stroke_after_d() {
        assert_eq!(compare("Dân Chủ", "Đông Hưng"), Ordering::Less);
        assert_eq!(compare("Đông Hưng", "Én"), Ordering::Less);
        let mut names = vec!["Xã Đông Hòa", "Xã Đông Mỹ", "Xã Dũng Nghĩa", "Xã An Bình"];
        names.sort_by(|a, b| compare(a, b));
        assert_eq!(
            names,
            vec!["Xã An Bình", "Xã Dũng Nghĩa", "Xã Đông Hòa", "Xã Đông Mỹ"]
        );
    }

    #[test]
    fn dates_read_the_vietnamese_way() {
        let d = NaiveDate::from_ymd_opt(2012, 2, 13).unwrap();
        assert_eq!(date_long(d), "ngày 13 tháng 02 năm 2012");
        let june = NaiveDate::from_ymd_opt(2025, 6, 5).unwrap();
        assert_eq!(date_long(june), "ngày 05 tháng 6 năm 2025");
        let utc = d.and_hms_opt(17, 30, 0).unwrap();
        assert_eq!(datetime(utc), "00:30 ngày 14/02/2012");
    }
}
