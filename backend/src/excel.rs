//! The consolidated workbook of a round for a unit (domain.md, "Excel"): the Party document
//! header, a summary sheet with a row per child unit and live totals, a sheet per child that
//! has units of its own, the completeness sheet and the narratives. Formulas carry their true
//! cached values so that readers which do not recalculate still see the right totals.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::NaiveDate;
use report_schemas::{AggValue, Aggregate, IndicatorKind, Template};
use rust_xlsxwriter::{
    Chart, ChartType, Format, FormatAlign, FormatBorder, FormatUnderline, Formula, Workbook,
    Worksheet, XlsxError,
};

use crate::auth::CurrentUser;
use crate::db::Conn;
use crate::db::models::{Round, Unit};
use crate::domain::vn;
use crate::error::{AppError, AppResult};
use crate::service::{self, RollupRow, RollupView, RoundCtx};

/// What a workbook says of itself before any report is read: the round, the unit, the day.
pub struct ExportData {
    pub round: Round,
    pub period_label: String,
    pub template: Arc<Template>,
    pub unit: Unit,
    pub today: NaiveDate,
    pub provisional: bool,
    /// The indicator charted by unit (default: the first summed one).
    pub chart_indicator: Option<String>,
}

impl ExportData {
    pub fn new(ctx: &RoundCtx, unit: &Unit, provisional: bool) -> ExportData {
        ExportData {
            period_label: service::period_label(&ctx.round),
            round: ctx.round.clone(),
            template: ctx.template.clone(),
            unit: unit.clone(),
            today: vn::today(),
            provisional,
            chart_indicator: None,
        }
    }

    /// ASCII, so that every browser and mail program keeps it: `tong-hop-34-dot-1.xlsx`.
    pub fn file_name(&self) -> String {
        format!("tong-hop-{}-ky-{}.xlsx", self.unit.code, self.round.id)
    }
}

/// The unit's name without its level word: "Huyện Quỳnh Phụ" → "Quỳnh Phụ".
pub fn short_name(name: &str) -> &str {
    const LEVELS: [&str; 8] = [
        "Thành phố ",
        "Thị trấn ",
        "Thị xã ",
        "Huyện ",
        "Tỉnh ",
        "Phường ",
        "Quận ",
        "Xã ",
    ];
    LEVELS
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name)
}

/// The Party committee of a unit, as named in a document header: "TỈNH ỦY THÁI BÌNH".
fn committee(unit: &Unit) -> String {
    let short = short_name(&unit.name);
    let body = if unit.name.starts_with("Tỉnh ") {
        "Tỉnh ủy"
    } else if unit.name.starts_with("Thành phố ") || unit.name.starts_with("Thị xã ") {
        "Thành ủy"
    } else if unit.name.starts_with("Huyện ") || unit.name.starts_with("Quận ") {
        "Huyện ủy"
    } else {
        "Đảng ủy"
    };
    format!("{body} {short}").to_uppercase()
}

fn doc_symbol(unit: &Unit) -> &'static str {
    if unit.name.starts_with("Tỉnh ") || unit.name.starts_with("Thành phố ") {
        "BC/BTGTU"
    } else if unit.name.starts_with("Huyện ") || unit.name.starts_with("Quận ") {
        "BC/BTGHU"
    } else {
        "BC/BTG"
    }
}

/// Excel column letters: 0 → A, 26 → AA.
pub fn col_name(mut col: u16) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// A value as a formula's cached result.
fn cached(x: Option<f64>) -> String {
    x.map_or_else(String::new, |x| {
        if x.fract() == 0.0 && x.abs() < 1e15 {
            format!("{}", x as i64)
        } else {
            format!("{x}")
        }
    })
}

struct Formats {
    base: Format,
    bold: Format,
    header: Format,
    title: Format,
    subtitle: Format,
    italic_center: Format,
    party: Format,
    body_center: Format,
    cell_text: Format,
    cell_int: Format,
    cell_dec: Format,
    total_text: Format,
    total_int: Format,
    total_dec: Format,
    percent: Format,
    total_percent: Format,
    wrap: Format,
}

impl Formats {
    fn new() -> Formats {
        let base = Format::new()
            .set_font_name("Times New Roman")
            .set_font_size(12);
        let cell = base.clone().set_border(FormatBorder::Thin);
        let total = cell.clone().set_bold().set_background_color("F2F2F2");
        Formats {
            bold: base.clone().set_bold().set_align(FormatAlign::Center),
            header: cell
                .clone()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_background_color("DDEBF7"),
            title: base
                .clone()
                .set_bold()
                .set_font_size(14)
                .set_align(FormatAlign::Center),
            subtitle: base
                .clone()
                .set_bold()
                .set_align(FormatAlign::Center)
                .set_text_wrap(),
            italic_center: base.clone().set_italic().set_align(FormatAlign::Center),
            party: base
                .clone()
                .set_bold()
                .set_underline(FormatUnderline::Single)
                .set_align(FormatAlign::Center),
            body_center: base.clone().set_align(FormatAlign::Center),
            cell_text: cell.clone().set_text_wrap(),
            cell_int: cell.clone().set_num_format("#,##0"),
            cell_dec: cell.clone().set_num_format("#,##0.0"),
            total_text: total.clone(),
            total_int: total.clone().set_num_format("#,##0"),
            total_dec: total.clone().set_num_format("#,##0.0"),
            percent: cell.clone().set_num_format("0.0%"),
            total_percent: total.set_num_format("0.0%"),
            wrap: base.clone().set_text_wrap().set_align(FormatAlign::Top),
            base,
        }
    }
}

/// One numeric column of the summary: an indicator, or one option of a choice indicator.
struct Column {
    key: String,
    group: String,
    header: String,
    kind: ColKind,
    decimal: bool,
}

enum ColKind {
    Value(Aggregate),
    Option(String),
    Ratio { num: u16, den: u16, scale: f64 },
}

const FIRST_COL: u16 = 3;
const GROUP_ROW: u32 = 8;
const HEADER_ROW: u32 = 9;
const FIRST_DATA_ROW: u32 = 10;

fn columns(template: &Template) -> Vec<Column> {
    let mut cols: Vec<Column> = Vec::new();
    let mut at: BTreeMap<String, u16> = BTreeMap::new();
    for ind in &template.indicators {
        let unit = ind
            .unit
            .as_deref()
            .map(|u| format!(" ({u})"))
            .unwrap_or_default();
        let group = template
            .groups
            .iter()
            .find(|g| g.key == ind.group)
            .map_or_else(String::new, |g| g.title.clone());
        match &ind.kind {
            IndicatorKind::Choice { options } => {
                for o in options {
                    cols.push(Column {
                        key: ind.key.clone(),
                        group: group.clone(),
                        header: format!("{}: {} (số đơn vị)", ind.label, o.label),
                        kind: ColKind::Option(o.key.clone()),
                        decimal: false,
                    });
                }
            }
            IndicatorKind::Ratio { .. } => cols.push(Column {
                key: ind.key.clone(),
                group,
                header: format!("{}{unit}", ind.label),
                kind: ColKind::Ratio {
                    num: 0,
                    den: 0,
                    scale: 1.0,
                },
                decimal: true,
            }),
            other => {
                at.insert(ind.key.clone(), FIRST_COL + cols.len() as u16);
                let decimal = matches!(other, IndicatorKind::Decimal { .. })
                    || matches!(ind.aggregate, Aggregate::Average);
                let header = if matches!(other, IndicatorKind::YesNo) {
                    format!("{} (số đơn vị có)", ind.label)
                } else {
                    format!("{}{unit}", ind.label)
                };
                cols.push(Column {
                    key: ind.key.clone(),
                    group,
                    header,
                    kind: ColKind::Value(ind.aggregate),
                    decimal,
                });
            }
        }
    }
    for col in &mut cols {
        if let ColKind::Ratio { num, den, scale } = &mut col.kind
            && let Some(IndicatorKind::Ratio {
                numerator,
                denominator,
                scale: s,
            }) = template.indicator(&col.key).map(|i| &i.kind)
        {
            *num = at.get(numerator).copied().unwrap_or(0);
            *den = at.get(denominator).copied().unwrap_or(0);
            *scale = *s;
        }
    }
    cols
}

fn number_of(row: &RollupRow, col: &Column) -> Option<f64> {
    match (row.values.get(&col.key)?.as_ref()?, &col.kind) {
        (AggValue::Number(x), _) => Some(*x),
        (AggValue::Counts(counts), ColKind::Option(o)) => counts.get(o).map(|&n| n as f64),
        (AggValue::Counts(_), _) => None,
    }
}

fn sheet_name(name: &str, taken: &mut HashSet<String>) -> String {
    let clean: String = short_name(name)
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
        .take(28)
        .collect();
    let mut candidate = clean.clone();
    let mut n = 2;
    while !taken.insert(candidate.to_lowercase()) {
        candidate = format!("{clean} ({n})");
        n += 1;
    }
    candidate
}

/// The header of a Party document (Hướng dẫn 36-HD/VPTW) and the report title.
fn document_header(
    ws: &mut Worksheet,
    f: &Formats,
    data: &ExportData,
    last_col: u16,
    subtitle: &str,
) -> Result<(), XlsxError> {
    // The header spans what fits on the first printed page, not the whole width of the table.
    let width = last_col.clamp(7, PAGE_COLUMNS - 1);
    let right_first = width / 2 + 1;
    let right_last = width;
    // Row by row: the sheets are written in rust_xlsxwriter's low-memory mode, which flushes
    // each row to a temporary file as soon as the next one is started.
    ws.merge_range(0, 0, 0, 2, &committee(&data.unit), &f.body_center)?;
    ws.merge_range(
        0,
        right_first,
        0,
        right_last,
        "ĐẢNG CỘNG SẢN VIỆT NAM",
        &f.party,
    )?;
    ws.merge_range(1, 0, 1, 2, "BAN TUYÊN GIÁO", &f.bold)?;
    ws.merge_range(2, 0, 2, 2, "*", &f.body_center)?;
    ws.merge_range(
        3,
        0,
        3,
        2,
        &format!("Số       -{}", doc_symbol(&data.unit)),
        &f.body_center,
    )?;
    ws.merge_range(
        3,
        right_first,
        3,
        right_last,
        &format!(
            "{}, {}",
            short_name(&data.unit.name),
            vn::date_long(data.today)
        ),
        &f.italic_center,
    )?;
    ws.merge_range(5, 0, 5, width, "BÁO CÁO", &f.title)?;
    ws.merge_range(6, 0, 6, width, subtitle, &f.subtitle)?;
    ws.set_row_height(6, 33)?;
    let mut note = format!(
        "(Số liệu từ ngày {} đến ngày {}",
        vn::date_short(data.round.period_start),
        vn::date_short(data.round.period_end)
    );
    note.push_str(if data.provisional {
        "; tạm tính: gồm cả báo cáo đã nộp, chưa tiếp nhận)"
    } else {
        "; chỉ gồm báo cáo đã được tiếp nhận)"
    });
    ws.merge_range(7, 0, 7, width, &note, &f.italic_center)?;
    Ok(())
}

/// Columns that print readably across one A4 landscape page.
const PAGE_COLUMNS: u16 = 14;

/// A4 landscape, as many pages wide as the table needs to stay readable (one for most
/// sheets), the header rows and the unit names repeated on every page, page numbers.
fn print_setup(ws: &mut Worksheet, repeat_to: u32, columns: u16) -> Result<(), XlsxError> {
    ws.set_paper_size(9); // A4
    ws.set_landscape();
    ws.set_print_fit_to_pages(columns.div_ceil(PAGE_COLUMNS).max(1), 0);
    if columns > PAGE_COLUMNS {
        ws.set_repeat_columns(0, 1)?;
    }
    ws.set_print_center_horizontally(true);
    ws.set_margins(0.5, 0.5, 0.6, 0.6, 0.3, 0.3);
    ws.set_repeat_rows(HEADER_ROW.saturating_sub(1), repeat_to)?;
    ws.set_footer("&CTrang &P/&N");
    Ok(())
}

/// The table of a consolidation: a row per child unit and the totals row. `leaf_ranges` are
/// the sheet-qualified row ranges of the communes below, for the averages, minima and maxima,
/// which must be taken over communes, never over sub-totals.
fn consolidation_sheet(
    ws: &mut Worksheet,
    f: &Formats,
    data: &ExportData,
    view: &RollupView,
    cols: &[Column],
    leaf_ranges: Option<&[(String, u32, u32)]>,
    subtitle: &str,
) -> Result<(), XlsxError> {
    let last_col = FIRST_COL + cols.len() as u16 - 1;
    document_header(ws, f, data, last_col, subtitle)?;
    ws.set_column_width(0, 5)?;
    ws.set_column_width(1, 28)?;
    ws.set_column_width(2, 10)?;
    for c in FIRST_COL..=last_col {
        ws.set_column_width(c, 13)?;
    }
    ws.merge_range(GROUP_ROW, 0, HEADER_ROW, 0, "STT", &f.header)?;
    ws.merge_range(GROUP_ROW, 1, HEADER_ROW, 1, "Đơn vị", &f.header)?;
    ws.merge_range(
        GROUP_ROW,
        2,
        HEADER_ROW,
        2,
        "Số báo cáo được tổng hợp",
        &f.header,
    )?;
    // Group titles over their columns.
    let mut start = 0usize;
    while start < cols.len() {
        let mut end = start;
        while end + 1 < cols.len() && cols[end + 1].group == cols[start].group {
            end += 1;
        }
        let (a, b) = (FIRST_COL + start as u16, FIRST_COL + end as u16);
        if a == b {
            ws.write_string_with_format(GROUP_ROW, a, &cols[start].group, &f.header)?;
        } else {
            ws.merge_range(GROUP_ROW, a, GROUP_ROW, b, &cols[start].group, &f.header)?;
        }
        start = end + 1;
    }
    ws.set_row_height(GROUP_ROW, 30)?;
    for (i, col) in cols.iter().enumerate() {
        ws.write_string_with_format(HEADER_ROW, FIRST_COL + i as u16, &col.header, &f.header)?;
    }
    ws.set_row_height(HEADER_ROW, 90)?;

    let mut r = FIRST_DATA_ROW;
    for (n, row) in view.rows.iter().enumerate() {
        ws.write_number_with_format(r, 0, (n + 1) as f64, &f.cell_int)?;
        ws.write_string_with_format(r, 1, &row.unit.name, &f.cell_text)?;
        ws.write_number_with_format(r, 2, row.reports as f64, &f.cell_int)?;
        for (i, col) in cols.iter().enumerate() {
            let c = FIRST_COL + i as u16;
            let fmt = if col.decimal {
                &f.cell_dec
            } else {
                &f.cell_int
            };
            let value = number_of(row, col);
            match &col.kind {
                ColKind::Ratio { num, den, scale } => {
                    let (nc, dc) = (col_name(*num), col_name(*den));
                    let row1 = r + 1;
                    let formula =
                        format!("=IF(N({dc}{row1})=0,\"\",{nc}{row1}/{dc}{row1}*{scale})");
                    ws.write_formula_with_format(
                        r,
                        c,
                        Formula::new(formula).set_result(cached(value)),
                        fmt,
                    )?;
                }
                _ => match value {
                    Some(x) => {
                        ws.write_number_with_format(r, c, x, fmt)?;
                    }
                    None => {
                        ws.write_blank(r, c, fmt)?;
                    }
                },
            }
        }
        r += 1;
    }
    let last_data = r.saturating_sub(1).max(FIRST_DATA_ROW);
    let empty = view.rows.is_empty();
    let total_row = r;
    ws.write_blank(total_row, 0, &f.total_text)?;
    ws.write_string_with_format(total_row, 1, "Tổng cộng", &f.total_text)?;
    let range = |c: u16| {
        let name = col_name(c);
        format!("{name}{}:{name}{}", FIRST_DATA_ROW + 1, last_data + 1)
    };
    let total = &view.total;
    let reports_formula = if empty {
        "=0".to_owned()
    } else {
        format!("=SUM({})", range(2))
    };
    ws.write_formula_with_format(
        total_row,
        2,
        Formula::new(reports_formula).set_result(cached(Some(total.reports as f64))),
        &f.total_int,
    )?;
    for (i, col) in cols.iter().enumerate() {
        let c = FIRST_COL + i as u16;
        let fmt = if col.decimal {
            &f.total_dec
        } else {
            &f.total_int
        };
        let value = number_of(total, col);
        let formula = match &col.kind {
            ColKind::Ratio { num, den, scale } => {
                let (nc, dc) = (col_name(*num), col_name(*den));
                let t = total_row + 1;
                Some(format!("=IF(N({dc}{t})=0,\"\",{nc}{t}/{dc}{t}*{scale})"))
            }
            ColKind::Value(Aggregate::Sum | Aggregate::CountYes) | ColKind::Option(_) => {
                (!empty).then(|| format!("=SUM({})", range(c)))
            }
            ColKind::Value(agg @ (Aggregate::Average | Aggregate::Min | Aggregate::Max)) => {
                let func = match agg {
                    Aggregate::Average => "AVERAGE",
                    Aggregate::Min => "MIN",
                    _ => "MAX",
                };
                let name = col_name(c);
                let args = match leaf_ranges {
                    None if !empty => Some(range(c)),
                    Some(ranges) if !ranges.is_empty() => Some(
                        ranges
                            .iter()
                            .map(|(sheet, a, b)| {
                                format!("'{sheet}'!{name}{}:{name}{}", a + 1, b + 1)
                            })
                            .collect::<Vec<_>>()
                            .join(","),
                    ),
                    _ => None,
                };
                args.map(|args| {
                    if matches!(agg, Aggregate::Average) {
                        format!("=IFERROR({func}({args}),\"\")")
                    } else {
                        format!("=IF(COUNT({args})=0,\"\",{func}({args}))")
                    }
                })
            }
            ColKind::Value(_) => None,
        };
        match (formula, value) {
            (Some(formula), v) => {
                ws.write_formula_with_format(
                    total_row,
                    c,
                    Formula::new(formula).set_result(cached(v)),
                    fmt,
                )?;
            }
            (None, Some(x)) => {
                ws.write_number_with_format(total_row, c, x, fmt)?;
            }
            (None, None) => {
                ws.write_blank(total_row, c, fmt)?;
            }
        }
    }
    ws.set_freeze_panes(FIRST_DATA_ROW, FIRST_COL)?;
    if !empty {
        ws.autofilter(HEADER_ROW, 0, last_data, last_col)?;
    }
    print_setup(ws, HEADER_ROW, last_col + 1)?;
    Ok(())
}

fn completeness_sheet(
    ws: &mut Worksheet,
    f: &Formats,
    data: &ExportData,
    summary: &RollupView,
) -> Result<(), XlsxError> {
    let heads = [
        "STT",
        "Đơn vị",
        "Số đơn vị phải nộp",
        "Đã nộp",
        "Đã tiếp nhận",
        "Đúng hạn",
        "Trễ hạn",
        "Chưa nộp",
        "Tỷ lệ đã nộp",
        "Báo cáo của đơn vị",
        "Nộp lúc",
    ];
    let last_col = heads.len() as u16 - 1;
    document_header(
        ws,
        f,
        data,
        last_col,
        &format!("Tình hình nộp báo cáo: {}", data.round.title),
    )?;
    for (c, w) in [5.0, 28.0, 11.0, 9.0, 11.0, 9.0, 9.0, 9.0, 10.0, 22.0, 20.0]
        .into_iter()
        .enumerate()
    {
        ws.set_column_width(c as u16, w)?;
    }
    for (c, h) in heads.iter().enumerate() {
        ws.write_string_with_format(HEADER_ROW, c as u16, *h, &f.header)?;
    }
    ws.set_row_height(HEADER_ROW, 45)?;
    let mut r = FIRST_DATA_ROW;
    for (n, row) in summary.rows.iter().enumerate() {
        let c = &row.completeness;
        ws.write_number_with_format(r, 0, (n + 1) as f64, &f.cell_int)?;
        ws.write_string_with_format(r, 1, &row.unit.name, &f.cell_text)?;
        for (i, v) in [
            c.expected,
            c.submitted,
            c.accepted,
            c.on_time,
            c.late,
            c.missing,
        ]
        .into_iter()
        .enumerate()
        {
            ws.write_number_with_format(r, 2 + i as u16, f64::from(v), &f.cell_int)?;
        }
        let rate = (c.expected > 0).then(|| f64::from(c.submitted) / f64::from(c.expected));
        ws.write_formula_with_format(
            r,
            8,
            Formula::new(format!("=IF(C{0}=0,\"\",D{0}/C{0})", r + 1)).set_result(cached(rate)),
            &f.percent,
        )?;
        ws.write_string_with_format(r, 9, row.status.label(), &f.cell_text)?;
        match row.submitted_at {
            Some(t) => ws.write_string_with_format(r, 10, vn::datetime(t), &f.cell_text)?,
            None => ws.write_blank(r, 10, &f.cell_text)?,
        };
        r += 1;
    }
    let total = &summary.total.completeness;
    ws.write_blank(r, 0, &f.total_text)?;
    ws.write_string_with_format(r, 1, "Tổng cộng", &f.total_text)?;
    for (i, v) in [
        total.expected,
        total.submitted,
        total.accepted,
        total.on_time,
        total.late,
        total.missing,
    ]
    .into_iter()
    .enumerate()
    {
        let c = 2 + i as u16;
        let name = col_name(c);
        let formula = if summary.rows.is_empty() {
            "=0".to_owned()
        } else {
            format!("=SUM({name}{}:{name}{})", FIRST_DATA_ROW + 1, r)
        };
        ws.write_formula_with_format(
            r,
            c,
            Formula::new(formula).set_result(cached(Some(f64::from(v)))),
            &f.total_int,
        )?;
    }
    let rate = (total.expected > 0).then(|| f64::from(total.submitted) / f64::from(total.expected));
    ws.write_formula_with_format(
        r,
        8,
        Formula::new(format!("=IF(C{0}=0,\"\",D{0}/C{0})", r + 1)).set_result(cached(rate)),
        &f.total_percent,
    )?;
    ws.write_blank(r, 9, &f.total_text)?;
    ws.write_blank(r, 10, &f.total_text)?;
    ws.set_freeze_panes(FIRST_DATA_ROW, 2)?;
    print_setup(ws, HEADER_ROW, last_col + 1)?;
    Ok(())
}

fn narrative_sheet(
    ws: &mut Worksheet,
    f: &Formats,
    data: &ExportData,
    summary: &RollupView,
    own_sections: &BTreeMap<String, String>,
) -> Result<(), XlsxError> {
    ws.set_column_width(0, 32)?;
    ws.set_column_width(1, 110)?;
    ws.merge_range(0, 0, 0, 1, "PHẦN THUYẾT MINH", &f.title)?;
    ws.merge_range(
        1,
        0,
        1,
        1,
        &format!("{} – {}", data.round.title, data.unit.name),
        &f.subtitle,
    )?;
    let mut r = 3;
    let block = |ws: &mut Worksheet,
                 r: &mut u32,
                 name: &str,
                 sections: &BTreeMap<String, String>|
     -> Result<(), XlsxError> {
        ws.merge_range(*r, 0, *r, 1, name, &f.header)?;
        *r += 1;
        for s in &data.template.sections {
            let text = sections.get(&s.key).map_or("", String::as_str);
            ws.write_string_with_format(*r, 0, &s.title, &f.bold)?;
            ws.write_string_with_format(*r, 1, text, &f.wrap)?;
            let lines = text.chars().count() / 120 + text.matches('\n').count() + 1;
            ws.set_row_height(*r, (lines.min(25) as f64) * 15.0 + 3.0)?;
            *r += 1;
        }
        *r += 1;
        Ok(())
    };
    if !own_sections.is_empty() {
        block(
            ws,
            &mut r,
            &format!("{} (báo cáo của đơn vị)", data.unit.name),
            own_sections,
        )?;
    }
    for row in &summary.rows {
        if !row.sections.is_empty() {
            block(ws, &mut r, &row.unit.name, &row.sections)?;
        }
    }
    if r == 3 {
        ws.write_string_with_format(3, 0, "Chưa có phần thuyết minh nào được tổng hợp.", &f.base)?;
    }
    ws.set_paper_size(9);
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    ws.set_footer("&CTrang &P/&N");
    Ok(())
}

/// Writes the workbook of `round` for the unit with `code`, as the operator at the console
/// sees it, to `path` (through a neighbouring file renamed at the end, so that a failed export
/// never leaves half a workbook under the name asked for). Returns the size written.
pub fn export_as_console(
    conn: &mut Conn,
    catalog: &crate::catalog::Catalog,
    round: i32,
    code: &str,
    provisional: bool,
    path: &std::path::Path,
) -> AppResult<u64> {
    use diesel::prelude::*;
    let period_end: chrono::NaiveDate = crate::db::schema::rounds::table
        .find(round)
        .select(crate::db::schema::rounds::period_end)
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::NotFound(format!("Không có kỳ báo cáo số {round}.")))?;
    let root = service::unit_by_code(conn, code, Some(period_end))?
        .ok_or_else(|| AppError::NotFound(format!("Không có đơn vị mã {code}.")))?;
    let operator = CurrentUser::console(root.clone());
    let ctx = service::round_for(conn, catalog, &operator, round, vn::now_utc())?;
    let data = ExportData::new(&ctx, &root, provisional);
    let mut part = path.as_os_str().to_owned();
    part.push(".part");
    let part = std::path::PathBuf::from(part);
    let written = (|| -> AppResult<u64> {
        let file = std::fs::File::create(&part).map_err(anyhow::Error::from)?;
        let mut out = std::io::BufWriter::new(file);
        write_workbook(conn, &operator, &ctx, &data, &mut out)?;
        let file = out
            .into_inner()
            .map_err(|e| anyhow::Error::from(e.into_error()))?;
        file.sync_all().map_err(anyhow::Error::from)?;
        Ok(file.metadata().map_err(anyhow::Error::from)?.len())
    })();
    match written {
        Ok(len) => {
            std::fs::rename(&part, path).map_err(anyhow::Error::from)?;
            Ok(len)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            Err(e)
        }
    }
}

/// Native charts: completeness by unit, and one indicator by unit, drawn from the sheets' cells.
fn charts_sheet(
    workbook: &mut Workbook,
    f: &Formats,
    data: &ExportData,
    summary: &RollupView,
    cols: &[Column],
) -> Result<(), XlsxError> {
    let n = summary.rows.len() as u32;
    if n == 0 {
        return Ok(());
    }
    let (first, last) = (FIRST_DATA_ROW, FIRST_DATA_ROW + n - 1);
    let mut completeness = Chart::new(ChartType::Column);
    completeness
        .add_series()
        .set_name("Tỷ lệ đã nộp")
        .set_categories(("Tình hình nộp", first, 1, last, 1))
        .set_values(("Tình hình nộp", first, 8, last, 8));
    completeness
        .title()
        .set_name(&format!("Tỷ lệ đơn vị đã nộp báo cáo – {}", data.unit.name));
    completeness.y_axis().set_num_format("0%");
    completeness.legend().set_hidden();
    completeness.set_width(960).set_height(420);

    let chosen = data
        .chart_indicator
        .as_deref()
        .and_then(|k| {
            cols.iter()
                .position(|c| c.key == k && matches!(c.kind, ColKind::Value(_)))
        })
        .or_else(|| {
            cols.iter()
                .position(|c| matches!(c.kind, ColKind::Value(Aggregate::Sum)))
        });
    let ws = workbook.add_worksheet().set_name("Biểu đồ")?;
    ws.merge_range(0, 0, 0, 12, "BIỂU ĐỒ", &f.title)?;
    ws.insert_chart(2, 0, &completeness)?;
    if let Some(i) = chosen {
        let col = FIRST_COL + i as u16;
        let label = data
            .template
            .indicator(&cols[i].key)
            .map_or_else(|| cols[i].header.clone(), |ind| ind.label.clone());
        let mut by_unit = Chart::new(ChartType::Bar);
        by_unit
            .add_series()
            .set_name(label.as_str())
            .set_categories(("Tổng hợp", first, 1, last, 1))
            .set_values(("Tổng hợp", first, col, last, col));
        by_unit.title().set_name(&format!("{label} theo đơn vị"));
        by_unit.legend().set_hidden();
        // A bar chart draws its first category at the bottom; read top-down like the table.
        by_unit.x_axis().set_reverse();
        by_unit
            .set_width(960)
            .set_height(std::cmp::max(420, 22 * n + 120));
        ws.insert_chart(25, 0, &by_unit)?;
    }
    ws.set_paper_size(9);
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    Ok(())
}

/// Writes the workbook of `ctx`'s round for `unit` to `out`, reading the reports as it goes:
/// the sheet of each child unit is written and let go as soon as it is read, and every sheet
/// streams its rows to a temporary file (low-memory mode: rows on disk, strings shared once in
/// memory), so that a national round needs a few tens of MB, not a copy of every cell.
pub fn write_workbook<W: std::io::Write + Send>(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    data: &ExportData,
    out: W,
) -> AppResult<()> {
    let f = Formats::new();
    let cols = columns(&data.template);
    let mut workbook = Workbook::new();
    let xlsx = |e: XlsxError| AppError::from(anyhow::Error::from(e));
    workbook
        .add_worksheet_with_low_memory()
        .and_then(|ws| ws.set_name("Tổng hợp").map(|_| ()))
        .map_err(xlsx)?;
    let mut taken: HashSet<String> = ["tổng hợp", "tình hình nộp", "thuyết minh", "biểu đồ"]
        .into_iter()
        .map(String::from)
        .collect();
    let title = vn::lower_first(&data.round.title);
    // Child sheets' commune rows, for averages over communes in the summary totals.
    let mut leaf_ranges: Vec<(String, u32, u32)> = Vec::new();
    // The reports are read and consolidated on one thread while the sheets are written on
    // this one, a district at a time through a short queue.
    let (sender, receiver) = std::sync::mpsc::sync_channel::<RollupView>(8);
    let (summary, own) = std::thread::scope(|scope| -> AppResult<_> {
        let reader = scope.spawn(move || -> AppResult<_> {
            let summary =
                service::rollup_each(conn, user, ctx, &data.unit, data.provisional, |view| {
                    sender
                        .send(view)
                        .map_err(|_| AppError::from(anyhow::anyhow!("the workbook writer stopped")))
                })?;
            drop(sender);
            let own = service::report_view(conn, user, ctx, &data.unit)?;
            Ok((summary, own))
        });
        let mut written = Ok(());
        for view in receiver.iter() {
            let name = sheet_name(&view.unit.name, &mut taken);
            let mut sheet = || -> Result<(), XlsxError> {
                let ws = workbook.add_worksheet_with_low_memory()?;
                ws.set_name(&name)?;
                let subtitle = format!("Tổng hợp {title} của {}", view.unit.name);
                consolidation_sheet(ws, &f, data, &view, &cols, None, &subtitle)
            };
            if let Err(e) = sheet() {
                written = Err(xlsx(e));
                break;
            }
            if !view.rows.is_empty() && view.rows.iter().all(|r| r.leaf) {
                let last = FIRST_DATA_ROW + view.rows.len() as u32 - 1;
                leaf_ranges.push((name, FIRST_DATA_ROW, last));
            }
        }
        // Stops the reader, if the writer failed.
        drop(receiver);
        let read = reader
            .join()
            .map_err(|_| AppError::from(anyhow::anyhow!("the report reader panicked")))?;
        written?;
        read
    })?;
    let subtitle = format!("Tổng hợp {title} của {}", data.unit.name);
    let ws = workbook.worksheet_from_index(0).map_err(xlsx)?;
    consolidation_sheet(
        ws,
        &f,
        data,
        &summary,
        &cols,
        summary
            .rows
            .iter()
            .any(|r| !r.leaf)
            .then_some(leaf_ranges.as_slice()),
        &subtitle,
    )
    .map_err(xlsx)?;
    let ws = workbook.add_worksheet_with_low_memory().map_err(xlsx)?;
    ws.set_name("Tình hình nộp").map_err(xlsx)?;
    completeness_sheet(ws, &f, data, &summary).map_err(xlsx)?;
    let ws = workbook.add_worksheet_with_low_memory().map_err(xlsx)?;
    ws.set_name("Thuyết minh").map_err(xlsx)?;
    narrative_sheet(ws, &f, data, &summary, &own.sections).map_err(xlsx)?;
    charts_sheet(&mut workbook, &f, data, &summary, &cols).map_err(xlsx)?;
    workbook.save_to_writer(out).map_err(xlsx)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_follow_excel() {
        assert_eq!(col_name(0), "A");
        assert_eq!(col_name(25), "Z");
        assert_eq!(col_name(26), "AA");
        assert_eq!(col_name(27), "AB");
        assert_eq!(col_name(701), "ZZ");
        assert_eq!(col_name(702), "AAA");
    }

    #[test]
    fn short_names_drop_the_level_word() {
        assert_eq!(short_name("Huyện Quỳnh Phụ"), "Quỳnh Phụ");
        assert_eq!(short_name("Thành phố Thái Bình"), "Thái Bình");
        assert_eq!(short_name("Thị trấn Diêm Điền"), "Diêm Điền");
    }
}
