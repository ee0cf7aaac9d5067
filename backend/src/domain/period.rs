//! Reporting periods and their data cut-off (*thời gian chốt số liệu*), the Vietnamese rule
//! in domain.md: a month runs from the 15th of the previous month to the 14th, and so on.

use chrono::{Datelike, NaiveDate};
use report_schemas::PeriodType;

pub fn period_type_str(p: PeriodType) -> &'static str {
    match p {
        PeriodType::Month => "month",
        PeriodType::Quarter => "quarter",
        PeriodType::HalfYear => "half_year",
        PeriodType::NineMonths => "nine_months",
        PeriodType::Year => "year",
        PeriodType::Window => "window",
    }
}

pub fn parse_period_type(s: &str) -> Option<PeriodType> {
    Some(match s {
        "month" => PeriodType::Month,
        "quarter" => PeriodType::Quarter,
        "half_year" => PeriodType::HalfYear,
        "nine_months" => PeriodType::NineMonths,
        "year" => PeriodType::Year,
        "window" => PeriodType::Window,
        _ => return None,
    })
}

fn ymd(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

/// The 15th of the month before `month` (1-based) of `year`.
fn cut_start(year: i32, month: u32) -> Option<NaiveDate> {
    if month == 1 {
        ymd(year - 1, 12, 15)
    } else {
        ymd(year, month - 1, 15)
    }
}

/// First and last day of a period by the cut-off rule. `index` is the month (1–12) or the
/// quarter (1–4); other types ignore it. `None` for an impossible period or a window.
pub fn cut_off(kind: PeriodType, year: i32, index: u32) -> Option<(NaiveDate, NaiveDate)> {
    match kind {
        PeriodType::Month if (1..=12).contains(&index) => {
            Some((cut_start(year, index)?, ymd(year, index, 14)?))
        }
        PeriodType::Quarter if (1..=4).contains(&index) => {
            Some((cut_start(year, index * 3 - 2)?, ymd(year, index * 3, 14)?))
        }
        PeriodType::HalfYear => Some((ymd(year - 1, 12, 15)?, ymd(year, 6, 14)?)),
        PeriodType::NineMonths => Some((ymd(year - 1, 12, 15)?, ymd(year, 9, 14)?)),
        PeriodType::Year => Some((ymd(year - 1, 12, 15)?, ymd(year, 12, 14)?)),
        _ => None,
    }
}

const ROMAN: [&str; 4] = ["I", "II", "III", "IV"];

/// "Tháng 6/2025", "Quý II/2025", "6 tháng đầu năm 2025", "9 tháng năm 2025", "Năm 2025".
pub fn label(kind: PeriodType, year: i32, index: u32, start: NaiveDate, end: NaiveDate) -> String {
    match kind {
        PeriodType::Month => format!("Tháng {index}/{year}"),
        PeriodType::Quarter => {
            let roman = ROMAN.get(index.saturating_sub(1) as usize).unwrap_or(&"?");
            format!("Quý {roman}/{year}")
        }
        PeriodType::HalfYear => format!("6 tháng đầu năm {year}"),
        PeriodType::NineMonths => format!("9 tháng năm {year}"),
        PeriodType::Year => format!("Năm {year}"),
        PeriodType::Window => format!(
            "Từ {} đến {}",
            super::vn::date_short(start),
            super::vn::date_short(end)
        ),
    }
}

/// The period type's own name, for forms.
pub fn type_label(kind: PeriodType) -> &'static str {
    match kind {
        PeriodType::Month => "Tháng",
        PeriodType::Quarter => "Quý",
        PeriodType::HalfYear => "6 tháng",
        PeriodType::NineMonths => "9 tháng",
        PeriodType::Year => "Năm",
        PeriodType::Window => "Khoảng thời gian",
    }
}

/// The year a window belongs to, for sorting and labels.
pub fn window_year(start: NaiveDate) -> i32 {
    start.year()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn cut_off_follows_the_fifteenth_to_fourteenth_rule() {
        assert_eq!(
            cut_off(PeriodType::Month, 2025, 1),
            Some((d(2024, 12, 15), d(2025, 1, 14)))
        );
        assert_eq!(
            cut_off(PeriodType::Month, 2025, 7),
            Some((d(2025, 6, 15), d(2025, 7, 14)))
        );
        assert_eq!(
            cut_off(PeriodType::Quarter, 2025, 1),
            Some((d(2024, 12, 15), d(2025, 3, 14)))
        );
        assert_eq!(
            cut_off(PeriodType::Quarter, 2025, 3),
            Some((d(2025, 6, 15), d(2025, 9, 14)))
        );
        assert_eq!(
            cut_off(PeriodType::HalfYear, 2025, 1),
            Some((d(2024, 12, 15), d(2025, 6, 14)))
        );
        assert_eq!(
            cut_off(PeriodType::NineMonths, 2025, 1),
            Some((d(2024, 12, 15), d(2025, 9, 14)))
        );
        assert_eq!(
            cut_off(PeriodType::Year, 2025, 1),
            Some((d(2024, 12, 15), d(2025, 12, 14)))
        );
        assert_eq!(cut_off(PeriodType::Month, 2025, 13), None);
        assert_eq!(cut_off(PeriodType::Quarter, 2025, 0), None);
    }

    #[test]
    fn labels_are_vietnamese() {
        let (s, e) = cut_off(PeriodType::Quarter, 2012, 1).unwrap();
        assert_eq!(label(PeriodType::Quarter, 2012, 1, s, e), "Quý I/2012");
        let (s, e) = cut_off(PeriodType::HalfYear, 2012, 1).unwrap();
        assert_eq!(
            label(PeriodType::HalfYear, 2012, 1, s, e),
            "6 tháng đầu năm 2012"
        );
    }
}
