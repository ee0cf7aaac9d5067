//! The offline form: a workbook to fill in Excel (or LibreOffice) where the connection is poor
//! (read back by [`super::upload`]). Input cells are unlocked and validated, everything else is protected;
//! a hidden sheet ties the file to its template, version, round and unit, and records on which
//! row each indicator stands, so a renamed sheet or moved rows are caught, never misread.

use std::collections::BTreeMap;

use report_schemas::{IndicatorKind, Template};
use rust_xlsxwriter::{
    DataValidation, DataValidationRule, Format, FormatAlign, FormatBorder, Formula, Workbook,
    Worksheet, XlsxError,
};
use serde_json::Value as Json;

use crate::domain::vn;

pub const INPUT_SHEET: &str = "Nhập liệu";
pub const TEXT_SHEET: &str = "Thuyết minh";
pub const META_SHEET: &str = "_baocao";

const HEADER_ROW: u32 = 5;
pub(super) const COL_LABEL: u16 = 1;
pub(super) const COL_VALUE: u16 = 3;
pub(super) const COL_ROSTER: u16 = 4;
pub(super) const COL_REASON: u16 = 5;
pub(super) const COL_KEY: u16 = 7;
const TEXT_FIRST_ROW: u32 = 4;

/// What ties a file to one report: checked on upload before any value is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub template_key: String,
    pub template_version: u32,
    pub round_id: i32,
    pub unit_code: String,
}

/// Everything the form shows.
pub struct FormData<'a> {
    pub identity: Identity,
    pub template: &'a Template,
    pub round_title: &'a str,
    /// The period, when the round's title does not already say it (else empty).
    pub period: String,
    pub unit_name: &'a str,
    pub deadline: String,
    /// Current values (raw JSON), or the roster's figures for a report not started.
    pub values: &'a BTreeMap<String, Json>,
    pub sections: &'a BTreeMap<String, String>,
    pub roster: &'a BTreeMap<String, Json>,
    pub reasons: &'a BTreeMap<String, String>,
}

/// A roster figure as it reads back from its cell (see the upload's `cell_text`).
fn roster_text(kind: &IndicatorKind, v: &Json) -> String {
    match (text_of(kind, v), v) {
        (Some(text), _) => text,
        (None, Json::Number(n)) => match n.as_i64() {
            Some(i) => i.to_string(),
            None => n.to_string(),
        },
        (None, Json::Bool(b)) => b.to_string(),
        (None, other) => other.as_str().unwrap_or_default().to_owned(),
    }
}

fn text_of(kind: &IndicatorKind, v: &Json) -> Option<String> {
    match (kind, v) {
        (IndicatorKind::YesNo, Json::Bool(b)) => Some(if *b { "Có" } else { "Không" }.into()),
        (IndicatorKind::Choice { options }, Json::String(s)) => Some(
            options
                .iter()
                .find(|o| &o.key == s)
                .map_or_else(|| s.clone(), |o| o.label.clone()),
        ),
        _ => None,
    }
}

fn write_value(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    kind: &IndicatorKind,
    v: Option<&Json>,
    fmt: &Format,
) -> Result<(), XlsxError> {
    match v {
        Some(Json::Number(n)) => {
            ws.write_number_with_format(row, col, n.as_f64().unwrap_or(0.0), fmt)?;
        }
        Some(v) => match text_of(kind, v) {
            Some(t) => {
                ws.write_string_with_format(row, col, t, fmt)?;
            }
            None => {
                ws.write_blank(row, col, fmt)?;
            }
        },
        None => {
            ws.write_blank(row, col, fmt)?;
        }
    }
    Ok(())
}

fn validation(kind: &IndicatorKind, label: &str) -> Result<Option<DataValidation>, XlsxError> {
    let clamp = |x: i64| i32::try_from(x).unwrap_or(if x < 0 { i32::MIN } else { i32::MAX });
    let dv = match kind {
        IndicatorKind::Integer { min, max } => {
            let rule = match max {
                Some(max) => DataValidationRule::Between(clamp(*min), clamp(*max)),
                None => DataValidationRule::GreaterThanOrEqualTo(clamp(*min)),
            };
            let bounds = match max {
                Some(max) => format!("từ {} đến {}", vn::int(*min), vn::int(*max)),
                None => format!("từ {} trở lên", vn::int(*min)),
            };
            DataValidation::new()
                .allow_whole_number(rule)
                .set_error_title("Số liệu không hợp lệ")?
                .set_error_message(format!("«{label}» phải là số nguyên {bounds}."))?
        }
        IndicatorKind::Decimal { min, max } => {
            let rule = match (min, max) {
                (Some(a), Some(b)) => DataValidationRule::Between(*a, *b),
                (Some(a), None) => DataValidationRule::GreaterThanOrEqualTo(*a),
                (None, Some(b)) => DataValidationRule::LessThanOrEqualTo(*b),
                (None, None) => DataValidationRule::Between(-1e15, 1e15),
            };
            DataValidation::new()
                .allow_decimal_number(rule)
                .set_error_title("Số liệu không hợp lệ")?
                .set_error_message(format!("«{label}» phải là một số trong giới hạn cho phép."))?
        }
        IndicatorKind::YesNo => DataValidation::new()
            .allow_list_strings(&["Có", "Không"])?
            .set_error_title("Chọn Có hoặc Không")?
            .set_error_message(format!("«{label}»: chọn «Có» hoặc «Không»."))?,
        IndicatorKind::Choice { options } => {
            let labels: Vec<&str> = options.iter().map(|o| o.label.as_str()).collect();
            DataValidation::new()
                .allow_list_strings(&labels)?
                .set_error_title("Chọn trong danh sách")?
                .set_error_message(format!("«{label}»: chọn một mục trong danh sách."))?
        }
        IndicatorKind::Ratio { .. } => return Ok(None),
    };
    Ok(Some(dv))
}

/// Keys as written into the workbook. "_x…_" is an escape in OOXML strings, which LibreOffice
/// decodes leniently ("tt_xa_hoi" came back as "tt\nhoi"), so underscores are written as dots,
/// which keys never contain.
pub(super) fn encode_key(key: &str) -> String {
    key.replace('_', ".")
}

fn col_letter(col: u16) -> String {
    crate::excel::col_name(col)
}

/// The fill-in workbook for one report.
pub fn form_workbook(data: &FormData) -> anyhow::Result<Vec<u8>> {
    let base = Format::new()
        .set_font_name("Times New Roman")
        .set_font_size(12);
    let cell = base
        .clone()
        .set_border(FormatBorder::Thin)
        .set_text_wrap()
        .set_align(FormatAlign::VerticalCenter);
    let bold = base.clone().set_bold();
    let title = base.clone().set_bold().set_font_size(14);
    let header = cell
        .clone()
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_background_color("DDEBF7");
    let group = cell.clone().set_bold().set_background_color("F2F2F2");
    let input = cell.clone().set_unlocked().set_background_color("FFF2CC");
    let input_number = input.clone().set_num_format("#,##0.##");
    let computed = cell
        .clone()
        .set_num_format("0.0")
        .set_background_color("EDEDED");
    let note = base.clone().set_italic().set_text_wrap();

    let mut wb = Workbook::new();
    let t = data.template;
    let mut rows: Vec<(String, u32)> = Vec::new();
    {
        let ws = wb.add_worksheet().set_name(INPUT_SHEET)?;
        // A ratio with a blank denominator is cached as "", as its formula gives, not as 0.
        ws.set_formula_result_default("");
        ws.set_column_width(0, 5)?;
        ws.set_column_width(1, 48)?;
        ws.set_column_width(2, 11)?;
        ws.set_column_width(3, 16)?;
        ws.set_column_width(4, 14)?;
        ws.set_column_width(5, 30)?;
        ws.set_column_width(6, 50)?;
        ws.set_column_hidden(COL_KEY)?;
        ws.merge_range(0, 0, 0, 6, &t.title.to_uppercase(), &title)?;
        ws.merge_range(
            1,
            0,
            1,
            6,
            &if data.period.is_empty() {
                data.round_title.to_owned()
            } else {
                format!("{} – {}", data.round_title, data.period)
            },
            &bold,
        )?;
        ws.merge_range(
            2,
            0,
            2,
            6,
            &format!(
                "Đơn vị: {} (mã {}) · Hạn nộp: {}",
                data.unit_name, data.identity.unit_code, data.deadline
            ),
            &base,
        )?;
        ws.merge_range(
            3,
            0,
            3,
            6,
            "Chỉ nhập vào các ô màu vàng. Không đổi tên trang, không chèn, xóa hay di chuyển dòng. Lưu tệp rồi tải lên ở trang báo cáo của đơn vị; tệp có lỗi sẽ không làm thay đổi gì.",
            &note,
        )?;
        ws.set_row_height(3, 33)?;
        for (c, h) in [
            "STT",
            "Chỉ tiêu",
            "Đơn vị tính",
            "Số liệu",
            "Theo danh sách Tổ",
            "Lý do nếu khác danh sách Tổ",
            "Hướng dẫn",
        ]
        .iter()
        .enumerate()
        {
            ws.write_string_with_format(HEADER_ROW, c as u16, *h, &header)?;
        }
        ws.write_string(HEADER_ROW, COL_KEY, "key")?;
        ws.set_row_height(HEADER_ROW, 33)?;
        let mut r = HEADER_ROW + 1;
        let mut n = 0;
        let mut at: BTreeMap<&str, u32> = BTreeMap::new();
        for g in &t.groups {
            ws.merge_range(r, 0, r, 6, &g.title, &group)?;
            r += 1;
            for ind in t.indicators.iter().filter(|i| i.group == g.key) {
                n += 1;
                ws.write_number_with_format(r, 0, f64::from(n), &cell)?;
                ws.write_string_with_format(r, COL_LABEL, &ind.label, &cell)?;
                ws.write_string_with_format(r, 2, ind.unit.as_deref().unwrap_or(""), &cell)?;
                ws.write_string_with_format(r, 6, ind.help.as_deref().unwrap_or(""), &cell)?;
                ws.write_string(r, COL_KEY, encode_key(&ind.key))?;
                // Wrapped text does not grow its row in every program: size it for the longest cell.
                let lines = [
                    ind.label.chars().count() / 44,
                    ind.help.as_deref().map_or(0, |h| h.chars().count() / 46),
                ]
                .into_iter()
                .max()
                .unwrap_or(0)
                    + 1;
                ws.set_row_height(r, 15.75 * lines as f64)?;
                at.insert(&ind.key, r);
                rows.push((ind.key.clone(), r));
                if !matches!(ind.kind, IndicatorKind::Ratio { .. }) {
                    let fmt = match ind.kind {
                        IndicatorKind::Integer { .. } | IndicatorKind::Decimal { .. } => {
                            &input_number
                        }
                        _ => &input,
                    };
                    write_value(ws, r, COL_VALUE, &ind.kind, data.values.get(&ind.key), fmt)?;
                    if let Some(dv) = validation(&ind.kind, &ind.label)? {
                        ws.add_data_validation(r, COL_VALUE, r, COL_VALUE, &dv)?;
                    }
                }
                match data.roster.get(&ind.key) {
                    Some(v) => {
                        write_value(ws, r, COL_ROSTER, &ind.kind, Some(v), &cell)?;
                        let reason = data.reasons.get(&ind.key).map_or("", String::as_str);
                        ws.write_string_with_format(r, COL_REASON, reason, &input)?;
                    }
                    None => {
                        ws.write_blank(r, COL_ROSTER, &cell)?;
                        ws.write_blank(r, COL_REASON, &cell)?;
                    }
                }
                r += 1;
            }
        }
        // Ratios are computed in the sheet from the cells they divide.
        for ind in &t.indicators {
            if let IndicatorKind::Ratio {
                numerator,
                denominator,
                scale,
            } = &ind.kind
                && let (Some(&row), Some(&num), Some(&den)) = (
                    at.get(ind.key.as_str()),
                    at.get(numerator.as_str()),
                    at.get(denominator.as_str()),
                )
            {
                let d = col_letter(COL_VALUE);
                let formula = format!(
                    "=IF(N({d}{})=0,\"\",{d}{}/{d}{}*{scale})",
                    den + 1,
                    num + 1,
                    den + 1
                );
                let cached = match (
                    data.values.get(numerator).and_then(Json::as_f64),
                    data.values.get(denominator).and_then(Json::as_f64),
                ) {
                    (Some(a), Some(b)) if b != 0.0 => format!("{}", a / b * scale),
                    _ => String::new(),
                };
                ws.write_formula_with_format(
                    row,
                    COL_VALUE,
                    Formula::new(formula).set_result(cached),
                    &computed,
                )?;
            }
        }
        ws.set_freeze_panes(HEADER_ROW + 1, 2)?;
        ws.set_paper_size(9);
        ws.set_landscape();
        ws.set_print_fit_to_pages(1, 0);
        ws.protect();
    }
    let mut text_rows: Vec<(String, u32)> = Vec::new();
    {
        let ws = wb.add_worksheet().set_name(TEXT_SHEET)?;
        ws.set_column_width(0, 32)?;
        ws.set_column_width(1, 110)?;
        ws.set_column_hidden(2)?;
        ws.merge_range(0, 0, 0, 1, "PHẦN THUYẾT MINH", &title)?;
        ws.merge_range(
            1,
            0,
            1,
            1,
            &format!("{} – {}", data.unit_name, data.round_title),
            &bold,
        )?;
        ws.merge_range(
            2,
            0,
            2,
            1,
            "Viết vào các ô màu vàng ở cột «Nội dung» (xuống dòng trong ô: Alt+Enter).",
            &note,
        )?;
        ws.write_string_with_format(TEXT_FIRST_ROW - 1, 0, "Mục", &header)?;
        ws.write_string_with_format(TEXT_FIRST_ROW - 1, 1, "Nội dung", &header)?;
        for (r, s) in (TEXT_FIRST_ROW..).zip(&t.sections) {
            let heading = format!(
                "{}{} (tối đa {} ký tự)",
                s.title,
                if s.required { " *" } else { "" },
                vn::int(i64::try_from(s.max_chars).unwrap_or(i64::MAX))
            );
            ws.write_string_with_format(r, 0, heading, &cell)?;
            let text = data.sections.get(&s.key).map_or("", String::as_str);
            ws.write_string_with_format(r, 1, text, &input)?;
            ws.write_string(r, 2, encode_key(&s.key))?;
            ws.set_row_height(r, 120)?;
            text_rows.push((s.key.clone(), r));
        }
        ws.protect();
    }
    {
        let ws = wb.add_worksheet().set_name(META_SHEET)?;
        let id = &data.identity;
        let mut r = 0;
        for (k, v) in [
            ("template", id.template_key.clone()),
            ("version", id.template_version.to_string()),
            ("round", id.round_id.to_string()),
            ("unit", id.unit_code.clone()),
        ] {
            ws.write_string(r, 0, k)?;
            ws.write_string(r, 1, v)?;
            r += 1;
        }
        for (key, row) in &rows {
            ws.write_string(r, 0, format!("row:{}", encode_key(key)))?;
            ws.write_number(r, 1, f64::from(*row + 1))?;
            r += 1;
        }
        for (key, row) in &text_rows {
            ws.write_string(r, 0, format!("text:{}", encode_key(key)))?;
            ws.write_number(r, 1, f64::from(*row + 1))?;
            r += 1;
        }
        // The roster's figures as written beside their rows: a change there is no figure.
        for ind in &t.indicators {
            if let Some(v) = data.roster.get(&ind.key) {
                ws.write_string(r, 0, format!("roster:{}", encode_key(&ind.key)))?;
                ws.write_string(r, 1, roster_text(&ind.kind, v))?;
                r += 1;
            }
        }
        ws.set_hidden(true);
        ws.protect();
    }
    Ok(wb.save_to_buffer()?)
}
