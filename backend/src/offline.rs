//! The offline form: a workbook to fill in Excel (or LibreOffice) where the connection is poor,
//! and reading it back. Input cells are unlocked and validated, everything else is protected;
//! a hidden sheet ties the file to its template, version, round and unit, and records on which
//! row each indicator stands, so a renamed sheet or moved rows are caught, never misread.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{Data, Reader, open_workbook_auto_from_rs};
use report_schemas::{FieldError, IndicatorKind, Template};
use rust_xlsxwriter::{
    DataValidation, DataValidationRule, Format, FormatAlign, FormatBorder, Formula, Workbook,
    Worksheet, XlsxError,
};
use serde_json::Value as Json;

use crate::domain::legacy::{self, Legacy};
use crate::domain::vn;

pub const INPUT_SHEET: &str = "Nhập liệu";
pub const TEXT_SHEET: &str = "Thuyết minh";
pub const META_SHEET: &str = "_baocao";

const HEADER_ROW: u32 = 5;
const COL_LABEL: u16 = 1;
const COL_VALUE: u16 = 3;
const COL_ROSTER: u16 = 4;
const COL_REASON: u16 = 5;
const COL_KEY: u16 = 7;
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
    pub period: String,
    pub unit_name: &'a str,
    pub deadline: String,
    /// Current values (raw JSON), or the roster's figures for a report not started.
    pub values: &'a BTreeMap<String, Json>,
    pub sections: &'a BTreeMap<String, String>,
    pub roster: &'a BTreeMap<String, Json>,
    pub reasons: &'a BTreeMap<String, String>,
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
fn encode_key(key: &str) -> String {
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
            &format!("{} – {}", data.round_title, data.period),
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
        ws.set_hidden(true);
        ws.protect();
    }
    Ok(wb.save_to_buffer()?)
}

/// What an uploaded form says, as the web form would have sent it.
#[derive(Debug, Default)]
pub struct Upload {
    pub values: BTreeMap<String, Json>,
    pub sections: BTreeMap<String, String>,
    pub overrides: BTreeMap<String, String>,
    /// Where each field was read from, to name the cell in an error: key → "Nhập liệu!D12".
    pub cells: BTreeMap<String, String>,
    /// What was converted from legacy encodings, told to the user.
    pub converted: Vec<String>,
}

/// The legacy Vietnamese fonts named in an .xlsx file's styles, if any.
fn legacy_fonts(bytes: &[u8]) -> Vec<String> {
    use std::io::Read;
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Vec::new();
    };
    let mut styles = String::new();
    match zip.by_name("xl/styles.xml") {
        Ok(mut file) => {
            if file.read_to_string(&mut styles).is_err() {
                return Vec::new();
            }
        }
        Err(_) => return Vec::new(),
    }
    let mut found: Vec<String> = styles
        .split("<name val=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|name| Legacy::of_font(name).is_some())
        .map(str::to_owned)
        .collect();
    found.sort();
    found.dedup();
    found
}

/// Converts a text cell from TCVN3 or VNI if it is in one, noting where. `hint` is the legacy
/// encoding the file's fonts name, if just one.
fn legacy_text(
    text: String,
    hint: Option<Legacy>,
    at: &str,
    what: &str,
    converted: &mut Vec<String>,
) -> String {
    match legacy::from_legacy(&text, hint) {
        Some((unicode, encoding)) => {
            let font = match encoding {
                Legacy::Tcvn3 => "TCVN3 (.VnTime)",
                Legacy::Vni => "VNI (VNI-Times)",
            };
            converted.push(format!(
                "Ô {at} ({what}): chữ gõ bằng phông {font} đã được chuyển sang Unicode."
            ));
            unicode
        }
        None => text,
    }
}

fn problem(field: &str, message: String) -> FieldError {
    FieldError {
        field: field.into(),
        message,
    }
}

fn cell_text(d: Option<&Data>) -> String {
    match d {
        Some(Data::String(s)) => vn::nfc(s.trim()),
        Some(Data::Float(f)) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Some(Data::Float(f)) => f.to_string(),
        Some(Data::Int(i)) => i.to_string(),
        Some(Data::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

fn cell_ref(sheet: &str, row: u32, col: u16) -> String {
    format!("{sheet}!{}{}", col_letter(col), row + 1)
}

/// A value cell as the validator's raw input: numbers as numbers, text as typed.
fn raw_value(kind: &IndicatorKind, d: &Data) -> Result<Option<Json>, String> {
    Ok(match d {
        Data::Empty => None,
        Data::Int(i) => Some(Json::from(*i)),
        Data::Float(f) => {
            if matches!(kind, IndicatorKind::Integer { .. }) && f.fract() == 0.0 && f.abs() < 9e15 {
                Some(Json::from(*f as i64))
            } else {
                serde_json::Number::from_f64(*f).map(Json::Number)
            }
        }
        Data::String(s) if s.trim().is_empty() => None,
        Data::String(s) => Some(Json::String(vn::nfc(s.trim()))),
        Data::Bool(b) => Some(Json::Bool(*b)),
        Data::DateTime(_) | Data::DateTimeIso(_) | Data::DurationIso(_) => {
            return Err("là ngày tháng, không phải số liệu".into());
        }
        Data::Error(e) => return Err(format!("có lỗi công thức ({e:?})")),
    })
}

/// A form's workbook read, not yet checked against anything: what its hidden sheet says, and
/// its input and text sheets (or why they could not be read). Reading is the costly part and
/// needs no database, so a bulk upload reads its files in parallel.
pub struct ReadForm {
    info: BTreeMap<String, String>,
    input: Result<calamine::Range<Data>, Vec<FieldError>>,
    text: Result<calamine::Range<Data>, Vec<FieldError>>,
    hint: Option<Legacy>,
}

impl ReadForm {
    /// The unit code the form was made for.
    pub fn unit(&self) -> Option<&str> {
        self.info
            .get("unit")
            .map(String::as_str)
            .filter(|code| !code.is_empty())
    }
}

/// Reads an uploaded workbook; only a file that is no form at all is refused here.
pub fn read_form(bytes: &[u8]) -> Result<ReadForm, Vec<FieldError>> {
    let mut wb = open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|_| {
        vec![problem(
            "file",
            "Không đọc được tệp: cần tệp Excel (.xlsx, .xls) hoặc LibreOffice (.ods) tải từ hệ thống.".into(),
        )]
    })?;
    let names = wb.sheet_names();
    let Some(meta) = names.iter().find(|n| n.as_str() == META_SHEET).cloned() else {
        return Err(vec![problem(
            "file",
            "Tệp không phải mẫu nhập liệu của hệ thống (thiếu trang ẩn «_baocao»). Xin tải mẫu mới từ trang báo cáo.".into(),
        )]);
    };
    let meta = wb.worksheet_range(&meta).map_err(|e| {
        vec![problem(
            "file",
            format!("Không đọc được trang «_baocao» ({e})."),
        )]
    })?;
    let mut info: BTreeMap<String, String> = BTreeMap::new();
    for row in meta.rows() {
        let k = cell_text(row.first());
        if !k.is_empty() {
            info.insert(k, cell_text(row.get(1)));
        }
    }
    let mut sheet = |name: &str| -> Result<calamine::Range<Data>, Vec<FieldError>> {
        if !names.iter().any(|n| n == name) {
            return Err(vec![problem(
                "file",
                format!("Không thấy trang «{name}»: xin đừng đổi tên hay xóa trang trong mẫu."),
            )]);
        }
        wb.worksheet_range(name).map_err(|e| {
            vec![problem(
                "file",
                format!("Không đọc được trang «{name}» ({e})."),
            )]
        })
    };
    let input = sheet(INPUT_SHEET);
    let text = sheet(TEXT_SHEET);
    Ok(ReadForm {
        info,
        input,
        text,
        hint: legacy::font_hint(legacy_fonts(bytes).iter().map(String::as_str)),
    })
}

/// Checks a form read by [`read_form`] against the report it is uploaded for. Structural faults
/// (another unit's or round's file, another template version, a renamed sheet, moved rows) and
/// unreadable cells come back as errors naming the sheet and cell; nothing is judged here that
/// the template's own validation judges.
pub fn check_form(
    form: ReadForm,
    expected: &Identity,
    template: &Template,
) -> Result<Upload, Vec<FieldError>> {
    let ReadForm {
        info,
        input,
        text,
        hint,
    } = form;
    let mut errors = Vec::new();
    let get = |k: &str| info.get(k).cloned().unwrap_or_default();
    if get("unit") != expected.unit_code {
        errors.push(problem(
            "file",
            format!(
                "Tệp này là mẫu của đơn vị mã {}, không phải của đơn vị mã {}.",
                get("unit"),
                expected.unit_code
            ),
        ));
    }
    if get("round") != expected.round_id.to_string() {
        errors.push(problem(
            "file",
            format!(
                "Tệp này là mẫu của kỳ báo cáo số {}, không phải kỳ số {}.",
                get("round"),
                expected.round_id
            ),
        ));
    }
    if get("template") != expected.template_key
        || get("version") != expected.template_version.to_string()
    {
        errors.push(problem(
            "file",
            format!(
                "Tệp được lập theo mẫu «{}» phiên bản {}, nay kỳ báo cáo dùng phiên bản {}. Xin tải mẫu mới.",
                get("template"),
                get("version"),
                expected.template_version
            ),
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let input = input?;
    let text = text?;
    let mut up = Upload::default();
    for ind in &template.indicators {
        let Some(row) = info
            .get(&format!("row:{}", encode_key(&ind.key)))
            .and_then(|r| r.parse::<u32>().ok())
            .and_then(|r| r.checked_sub(1))
        else {
            errors.push(problem(
                &ind.key,
                format!(
                    "Mẫu thiếu dòng của chỉ tiêu «{}». Xin tải mẫu mới.",
                    ind.label
                ),
            ));
            continue;
        };
        let key_here = cell_text(input.get_value((row, u32::from(COL_KEY))));
        let label_here = cell_text(input.get_value((row, u32::from(COL_LABEL))));
        if key_here != encode_key(&ind.key) || label_here != ind.label {
            errors.push(problem(
                &ind.key,
                format!(
                    "Dòng {} của trang «{INPUT_SHEET}» không còn là chỉ tiêu «{}»: các dòng đã bị chèn, xóa hoặc di chuyển. Xin nhập lại vào mẫu mới.",
                    row + 1,
                    ind.label
                ),
            ));
            continue;
        }
        let at = cell_ref(INPUT_SHEET, row, COL_VALUE);
        up.cells.insert(ind.key.clone(), at.clone());
        if matches!(ind.kind, IndicatorKind::Ratio { .. }) {
            continue;
        }
        match input
            .get_value((row, u32::from(COL_VALUE)))
            .map(|d| raw_value(&ind.kind, d))
            .transpose()
        {
            Ok(Some(Some(Json::String(t)))) => {
                let t = legacy_text(t, hint, &at, &ind.label, &mut up.converted);
                up.values.insert(ind.key.clone(), Json::String(t));
            }
            Ok(Some(Some(v))) => {
                up.values.insert(ind.key.clone(), v);
            }
            Ok(_) => {}
            Err(e) => errors.push(problem(
                &ind.key,
                format!("Ô {at}, chỉ tiêu «{}»: {e}.", ind.label),
            )),
        }
        let reason = cell_text(input.get_value((row, u32::from(COL_REASON))));
        if !reason.is_empty() {
            up.overrides.insert(ind.key.clone(), reason);
        }
    }
    for s in &template.sections {
        let Some(row) = info
            .get(&format!("text:{}", encode_key(&s.key)))
            .and_then(|r| r.parse::<u32>().ok())
            .and_then(|r| r.checked_sub(1))
        else {
            continue;
        };
        if cell_text(text.get_value((row, 2))) != encode_key(&s.key) {
            errors.push(problem(
                &s.key,
                format!(
                    "Dòng {} của trang «{TEXT_SHEET}» không còn là mục «{}»: các dòng đã bị di chuyển.",
                    row + 1,
                    s.title
                ),
            ));
            continue;
        }
        let at = cell_ref(TEXT_SHEET, row, 1);
        up.cells.insert(s.key.clone(), at.clone());
        let value = match text.get_value((row, 1)) {
            Some(Data::String(t)) => {
                legacy_text(vn::nfc(t), hint, &at, &s.title, &mut up.converted)
            }
            Some(other) => cell_text(Some(other)),
            None => String::new(),
        };
        if !value.trim().is_empty() {
            up.sections.insert(s.key.clone(), value);
        }
    }
    if errors.is_empty() {
        Ok(up)
    } else {
        Err(errors)
    }
}

/// Prefixes each error with the cell it came from.
pub fn locate(errors: Vec<FieldError>, cells: &BTreeMap<String, String>) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|e| match cells.get(&e.field) {
            Some(at) if !e.message.starts_with("Ô ") => FieldError {
                message: format!("Ô {at}: {}", e.message),
                field: e.field,
            },
            _ => e,
        })
        .collect()
}
