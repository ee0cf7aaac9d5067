//! A series as a workbook: one row per round (period, kind, figure, reports counted, the same
//! period a year before and the change, as live formulas that cache their values), and a
//! native line chart of the figure over the rounds.

use rust_xlsxwriter::{
    Chart, ChartFormat, ChartLine, ChartMarker, ChartMarkerType, ChartType, Format, FormatAlign,
    FormatBorder, Workbook, XlsxError,
};

pub struct SeriesRow {
    pub period: String,
    pub kind: String,
    pub value: Option<f64>,
    pub reports: u64,
    pub year_before: Option<f64>,
}

pub struct SeriesSheet {
    pub unit_name: String,
    pub label: String,
    /// "người", "buổi", … (empty for a ratio).
    pub measure: String,
    /// The figure is a percentage (stored as a number of percent, e.g. 47.5).
    pub percent: bool,
    pub note: String,
    pub rows: Vec<SeriesRow>,
}

const FIRST: u32 = 4;

pub fn series_workbook(s: &SeriesSheet) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let font = |f: Format| f.set_font_name("Times New Roman").set_font_size(12);
    let title = font(Format::new()).set_bold().set_font_size(14);
    let head = font(Format::new())
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_border(FormatBorder::Thin)
        .set_background_color("#DDEBF7");
    let text = font(Format::new()).set_border(FormatBorder::Thin);
    let num_format = if s.percent { "0.0" } else { "#,##0.##" };
    let number = font(Format::new())
        .set_border(FormatBorder::Thin)
        .set_num_format(num_format);
    let whole = font(Format::new())
        .set_border(FormatBorder::Thin)
        .set_num_format("#,##0");
    let pct = font(Format::new())
        .set_border(FormatBorder::Thin)
        .set_num_format("0.0%");
    let note = font(Format::new()).set_italic().set_text_wrap();

    let ws = wb.add_worksheet().set_name("Chuỗi số liệu")?;
    ws.set_formula_result_default("");
    let measure = if s.measure.is_empty() || s.percent {
        String::new()
    } else {
        format!(" ({})", s.measure)
    };
    ws.merge_range(
        0,
        0,
        0,
        6,
        &format!("{}{measure} – {}", s.label, s.unit_name),
        &title,
    )?;
    ws.merge_range(1, 0, 1, 6, &s.note, &note)?;
    ws.set_row_height(1, 48)?;
    let headers = [
        "Kỳ báo cáo",
        "Loại kỳ",
        if s.percent {
            "Giá trị (%)"
        } else {
            "Giá trị"
        },
        "Số báo cáo được tính",
        "Cùng kỳ năm trước",
        "Tăng, giảm",
        "Tăng, giảm (%)",
    ];
    for (c, h) in headers.iter().enumerate() {
        ws.write_with_format(FIRST - 1, c as u16, *h, &head)?;
    }
    ws.set_column_width(0, 26)?;
    ws.set_column_width(1, 12)?;
    for c in 2..=6 {
        ws.set_column_width(c, 15)?;
    }
    for (i, r) in s.rows.iter().enumerate() {
        let row = FIRST + i as u32;
        let excel_row = row + 1;
        ws.write_with_format(row, 0, &r.period, &text)?;
        ws.write_with_format(row, 1, &r.kind, &text)?;
        match r.value {
            Some(v) => ws.write_number_with_format(row, 2, v, &number)?,
            None => ws.write_blank(row, 2, &number)?,
        };
        ws.write_number_with_format(row, 3, r.reports as f64, &whole)?;
        match r.year_before {
            Some(v) => ws.write_number_with_format(row, 4, v, &number)?,
            None => ws.write_blank(row, 4, &number)?,
        };
        let (delta, ratio) = match (r.value, r.year_before) {
            (Some(v), Some(b)) => (
                (v - b).to_string(),
                if b != 0.0 {
                    ((v - b) / b).to_string()
                } else {
                    String::new()
                },
            ),
            _ => (String::new(), String::new()),
        };
        ws.write_formula_with_format(
            row,
            5,
            rust_xlsxwriter::Formula::new(format!(
                "=IF(OR(C{excel_row}=\"\",E{excel_row}=\"\"),\"\",C{excel_row}-E{excel_row})"
            ))
            .set_result(delta),
            &number,
        )?;
        ws.write_formula_with_format(
            row,
            6,
            rust_xlsxwriter::Formula::new(format!(
                "=IF(OR(C{excel_row}=\"\",E{excel_row}=\"\",E{excel_row}=0),\"\",(C{excel_row}-E{excel_row})/E{excel_row})"
            ))
            .set_result(ratio),
            &pct,
        )?;
    }
    ws.set_freeze_panes(FIRST, 0)?;
    if !s.rows.is_empty() {
        let last = FIRST + s.rows.len() as u32 - 1;
        let mut chart = Chart::new(ChartType::Line);
        chart
            .add_series()
            .set_name(s.label.as_str())
            .set_categories(("Chuỗi số liệu", FIRST, 0, last, 0))
            .set_values(("Chuỗi số liệu", FIRST, 2, last, 2))
            .set_format(
                ChartFormat::new().set_line(ChartLine::new().set_color("#2E75B6").set_width(2.25)),
            )
            .set_marker(
                ChartMarker::new()
                    .set_type(ChartMarkerType::Circle)
                    .set_size(7),
            );
        chart
            .title()
            .set_name(&format!("{} qua các kỳ – {}", s.label, s.unit_name));
        chart.legend().set_hidden();
        chart.set_width(760).set_height(380);
        ws.insert_chart(last + 3, 0, &chart)?;
    }
    ws.set_landscape();
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    wb.save_to_buffer()
}
