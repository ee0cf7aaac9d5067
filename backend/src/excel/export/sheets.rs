//! The sheets of the consolidated workbook: the summary (a row per child unit, live totals),
//! a child's own consolidation, completeness, the narratives and the native charts.

use std::collections::BTreeMap;

use report_schemas::{AggValue, Aggregate, IndicatorKind, Template};
use rust_xlsxwriter::{
    Chart, ChartAxisCrossing, ChartFormat, ChartSolidFill, ChartType, Formula, Workbook, Worksheet,
    XlsxError,
};

use super::ExportData;
use super::layout::{
    FIRST_COL, FIRST_DATA_ROW, Formats, GROUP_ROW, HEADER_ROW, cached, document_header, print_setup,
};
use crate::domain::vn;
use crate::domain::{RollupRow, RollupView};
use crate::excel::col_name;

/// One numeric column of the summary: an indicator, or one option of a choice indicator.
pub(super) struct Column {
    key: String,
    group: String,
    header: String,
    kind: ColKind,
    decimal: bool,
}

pub(super) enum ColKind {
    Value(Aggregate),
    Option(String),
    Ratio { num: u16, den: u16, scale: f64 },
}

pub(super) fn columns(template: &Template) -> Vec<Column> {
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

/// The table of a consolidation: a row per child unit and the totals row. `leaf_ranges` are
/// the sheet-qualified row ranges of the communes below, for the averages, minima and maxima,
/// which must be taken over communes, never over sub-totals.
pub(super) fn consolidation_sheet(
    ws: &mut Worksheet,
    f: &Formats,
    data: &ExportData,
    view: &RollupView,
    cols: &[Column],
    leaf_ranges: Option<&[(String, u32, u32)]>,
    subtitle: &str,
) -> Result<(), XlsxError> {
    // A formula whose value is "" is cached as "", not as 0 (the writer's default).
    ws.set_formula_result_default("");
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
            // A sum over nothing is blank, as in the API, not 0.
            ColKind::Value(Aggregate::Sum | Aggregate::CountYes) | ColKind::Option(_) => (!empty)
                .then(|| {
                    let range = range(c);
                    format!("=IF(COUNT({range})=0,\"\",SUM({range}))")
                }),
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

pub(super) fn completeness_sheet(
    ws: &mut Worksheet,
    f: &Formats,
    data: &ExportData,
    summary: &RollupView,
) -> Result<(), XlsxError> {
    // A formula whose value is "" is cached as "", not as 0 (the writer's default).
    ws.set_formula_result_default("");
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
        &format!("Tình hình nộp báo cáo: {}", data.round_title),
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

pub(super) fn narrative_sheet(
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
        &format!("{} – {}", data.round_title, data.unit.name),
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

/// The bars' colour, set rather than left to the reader's theme.
const BAR: &str = "#2E75B6";
/// The row the second chart starts at, on the second page.
const SECOND_CHART_ROW: u32 = 25;
/// What of an A4 landscape page (default margins) a chart may take, in pixels at 100 %: counted
/// at 72 to the inch, as LibreOffice places a chart, which Excel (96) then prints a bit smaller.
const PAGE_WIDTH_PX: u32 = 720;
const PAGE_HEIGHT_PX: u32 = 470;
/// The charts' width in pixels.
const CHART_WIDTH: u32 = 960;

/// Native charts: completeness by unit, and one indicator by unit, drawn from the sheets' cells.
pub(super) fn charts_sheet(
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
        .set_values(("Tình hình nộp", first, 8, last, 8))
        .set_format(ChartFormat::new().set_solid_fill(ChartSolidFill::new().set_color(BAR)));
    completeness
        .title()
        .set_name(&format!("Tỷ lệ đơn vị đã nộp báo cáo – {}", data.unit.name));
    completeness.y_axis().set_num_format("0%");
    completeness.legend().set_hidden();
    completeness.set_width(CHART_WIDTH).set_height(420);

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
    let mut chart_height = 420;
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
            .set_values(("Tổng hợp", first, col, last, col))
            .set_format(ChartFormat::new().set_solid_fill(ChartSolidFill::new().set_color(BAR)));
        by_unit.title().set_name(&format!("{label} theo đơn vị"));
        by_unit.legend().set_hidden();
        // A bar chart draws its first category at the bottom: the category axis (the vertical
        // one) is reversed to read top-down like the table, and the value axis, which would
        // follow it to the top, is kept at the bottom. Bars grow from the left.
        by_unit
            .y_axis()
            .set_reverse()
            .set_crossing(ChartAxisCrossing::Max);
        let height = std::cmp::max(420, 22 * n + 120);
        by_unit.set_width(CHART_WIDTH).set_height(height);
        ws.insert_chart(SECOND_CHART_ROW, 0, &by_unit)?;
        // Each chart on its own page.
        ws.set_page_breaks(&[SECOND_CHART_ROW])?;
        chart_height = chart_height.max(height);
    }
    // Scaled so that each chart fits its page, the long one (many units) included.
    let scale = (PAGE_WIDTH_PX * 100 / CHART_WIDTH)
        .min(PAGE_HEIGHT_PX * 100 / chart_height)
        .clamp(10, 100);
    ws.set_print_scale(scale as u16);
    ws.set_paper_size(9);
    ws.set_landscape();
    Ok(())
}
