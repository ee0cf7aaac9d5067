//! What every sheet of the consolidated workbook shares: the formats (Times New Roman), the
//! Party document header (Hướng dẫn 36-HD/VPTW), the table's fixed rows and the A4 print set-up.

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, FormatUnderline, Worksheet, XlsxError};

use super::ExportData;
use crate::domain::vn;

/// A value as a formula's cached result.
pub(super) fn cached(x: Option<f64>) -> String {
    x.map_or_else(String::new, |x| {
        if x.fract() == 0.0 && x.abs() < 1e15 {
            format!("{}", x as i64)
        } else {
            format!("{x}")
        }
    })
}

pub(super) struct Formats {
    pub(super) base: Format,
    pub(super) bold: Format,
    pub(super) header: Format,
    pub(super) title: Format,
    pub(super) subtitle: Format,
    pub(super) italic_center: Format,
    pub(super) party: Format,
    pub(super) body_center: Format,
    pub(super) cell_text: Format,
    pub(super) cell_int: Format,
    pub(super) cell_dec: Format,
    pub(super) total_text: Format,
    pub(super) total_int: Format,
    pub(super) total_dec: Format,
    pub(super) percent: Format,
    pub(super) total_percent: Format,
    pub(super) wrap: Format,
}

impl Formats {
    pub(super) fn new() -> Formats {
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

pub(super) const FIRST_COL: u16 = 3;
pub(super) const GROUP_ROW: u32 = 8;
pub(super) const HEADER_ROW: u32 = 9;
pub(super) const FIRST_DATA_ROW: u32 = 10;

/// The header of a Party document (Hướng dẫn 36-HD/VPTW) and the report title.
pub(super) fn document_header(
    ws: &mut Worksheet,
    f: &Formats,
    data: &ExportData,
    last_col: u16,
    subtitle: &str,
) -> Result<(), XlsxError> {
    // The header spans the table: the sheet prints to the page width.
    let width = last_col.max(7);
    let right_first = width / 2 + 1;
    let right_last = width;
    // Row by row: the sheets are written in rust_xlsxwriter's low-memory mode, which flushes
    // each row to a temporary file as soon as the next one is started.
    ws.merge_range(0, 0, 0, 2, &data.board.superior(), &f.body_center)?;
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
        &format!("Số       -BC/{}", data.board.abbreviation),
        &f.body_center,
    )?;
    ws.merge_range(
        3,
        right_first,
        3,
        right_last,
        &format!("{}, {}", data.board.seat, vn::date_long(data.today)),
        &f.italic_center,
    )?;
    ws.merge_range(5, 0, 5, width, "BÁO CÁO", &f.title)?;
    ws.merge_range(6, 0, 6, width, subtitle, &f.subtitle)?;
    ws.set_row_height(6, 33)?;
    let mut note = format!(
        "(Số liệu từ ngày {} đến ngày {}",
        vn::date_short(data.period_start),
        vn::date_short(data.period_end)
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
const A4_COLUMNS: u16 = 16;

/// Landscape, fitted to the page width however wide the table (a table cut at the page edge is
/// a table misread), as many pages long as it needs with the header rows repeated on each, page
/// numbers. A table wider than A4 holds readably goes on A3, which offices print such tables on.
pub(super) fn print_setup(
    ws: &mut Worksheet,
    repeat_to: u32,
    columns: u16,
) -> Result<(), XlsxError> {
    ws.set_paper_size(if columns > A4_COLUMNS { 8 } else { 9 }); // A3, A4
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    ws.set_print_center_horizontally(true);
    ws.set_margins(0.5, 0.5, 0.6, 0.6, 0.3, 0.3);
    ws.set_repeat_rows(HEADER_ROW.saturating_sub(1), repeat_to)?;
    ws.set_footer("&CTrang &P/&N");
    Ok(())
}
