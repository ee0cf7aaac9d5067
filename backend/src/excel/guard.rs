//! Bounds checked on an uploaded workbook before any reader allocates from it.
//!
//! A spreadsheet reader sizes its memory from what the file says: calamine builds a dense grid
//! over the extent of a sheet's cells (a single cell at `XFD1048576` asks for half a terabyte),
//! reserves room for as many shared strings as the file declares, and an archive's parts may
//! inflate to gigabytes. So before calamine sees a file, this module walks it with readers of
//! its own that hold only a small buffer: every zip part is inflated through a counter that
//! stops at a cap, every cell that carries a value is checked against the extent a form can
//! have, and an old `.xls` file's records are scanned the same way. A file that passes fits in
//! a few megabytes whatever reads it next.

use std::io::{self, Cursor, Read};

use quick_xml::Reader as XmlReader;
use quick_xml::events::{BytesStart, Event};
use report_schemas::FieldError;

use crate::domain::vn;
use crate::excel::col_name;

/// Rows a sheet of a form may use: a form has a row per indicator and per section.
pub const MAX_ROWS: u32 = 2_000;
/// Columns a sheet of a form may use.
pub const MAX_COLS: u32 = 64;
/// Parts (zip entries) of one workbook: a real one has a few dozen.
const MAX_PARTS: usize = 500;
/// What one part of a workbook may inflate to.
const MAX_PART: u64 = 16 << 20;
/// What all parts of a workbook together may inflate to.
const MAX_INFLATED: u64 = 48 << 20;
/// Shared strings a workbook may declare or hold.
const MAX_STRINGS: u64 = 200_000;

fn refusal(message: String) -> FieldError {
    FieldError {
        field: "file".into(),
        message,
    }
}

fn unreadable() -> FieldError {
    refusal(
        "Không đọc được tệp: cần tệp Excel (.xlsx, .xls) hoặc LibreOffice (.ods) tải từ hệ thống."
            .into(),
    )
}

fn too_big_inflated() -> FieldError {
    refusal(format!(
        "Tệp được nén với dung lượng giải nén quá lớn (một phần trên {} MB hoặc tổng cộng trên {} MB): không phải mẫu nhập liệu của hệ thống.",
        MAX_PART >> 20,
        MAX_INFLATED >> 20
    ))
}

fn outside(row: u32, col: u32) -> FieldError {
    let cell = match u16::try_from(col) {
        Ok(col) => format!("{}{}", col_name(col), u64::from(row) + 1),
        Err(_) => format!("ở dòng {}, cột {}", u64::from(row) + 1, u64::from(col) + 1),
    };
    refusal(format!(
        "Tệp có dữ liệu ở ô {cell}, ngoài vùng của mẫu nhập liệu (tối đa {} dòng, {} cột): xin nhập vào đúng các ô của mẫu tải từ hệ thống.",
        vn::int(i64::from(MAX_ROWS)),
        MAX_COLS
    ))
}

fn too_many_strings() -> FieldError {
    refusal(format!(
        "Tệp có quá nhiều chuỗi chữ (trên {}): không phải mẫu nhập liệu của hệ thống.",
        vn::int(MAX_STRINGS as i64)
    ))
}

/// Checks that a value at 0-based (`row`, `col`), repeated over `rows` rows and `cols` columns,
/// stays inside a form's extent.
fn inside(row: u64, col: u64, rows: u64, cols: u64) -> Result<(), FieldError> {
    let last_row = row.saturating_add(rows.max(1) - 1);
    let last_col = col.saturating_add(cols.max(1) - 1);
    if last_row >= u64::from(MAX_ROWS) || last_col >= u64::from(MAX_COLS) {
        let clamp = |x: u64| u32::try_from(x).unwrap_or(u32::MAX);
        let (r, c) = if row >= u64::from(MAX_ROWS) || col >= u64::from(MAX_COLS) {
            (row, col)
        } else {
            (last_row, last_col)
        };
        return Err(outside(clamp(r), clamp(c)));
    }
    Ok(())
}

/// Checks an uploaded workbook (.xlsx, .ods or .xls) against the bounds above.
pub fn check_workbook(bytes: &[u8]) -> Result<(), FieldError> {
    if bytes.starts_with(b"PK\x03\x04") {
        check_zip(bytes)
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        check_xls(bytes)
    } else {
        Err(unreadable())
    }
}

/// Why a capped read stopped.
#[derive(Debug)]
struct Inflated;

impl std::fmt::Display for Inflated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("inflated past the cap")
    }
}

impl std::error::Error for Inflated {}

/// A reader that fails once a part, or all parts together, have given more than their cap.
struct Capped<'a, R> {
    inner: R,
    part: u64,
    total: &'a mut u64,
}

impl<R: Read> Read for Capped<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.part += n as u64;
        *self.total += n as u64;
        if self.part > MAX_PART || *self.total > MAX_INFLATED {
            return Err(io::Error::other(Inflated));
        }
        Ok(n)
    }
}

/// A read failure as the user hears of it: too much inflated, or a damaged file.
fn io_refusal(e: &io::Error) -> FieldError {
    if e.get_ref().is_some_and(|inner| inner.is::<Inflated>()) {
        too_big_inflated()
    } else {
        unreadable()
    }
}

fn xml_refusal(e: quick_xml::Error) -> FieldError {
    match e {
        quick_xml::Error::Io(io) => io_refusal(&io),
        _ => unreadable(),
    }
}

/// What a part of a zipped workbook is, for what must be checked in it.
enum Part {
    XlsxSheet,
    SharedStrings,
    OdsContent,
    Other,
}

fn check_zip(bytes: &[u8]) -> Result<(), FieldError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| unreadable())?;
    if zip.len() > MAX_PARTS {
        return Err(refusal(format!(
            "Tệp gồm quá nhiều phần (trên {MAX_PARTS}): không phải mẫu nhập liệu của hệ thống."
        )));
    }
    if zip.index_for_name("xl/workbook.bin").is_some() {
        return Err(refusal(
            "Tệp Excel dạng nhị phân (.xlsb) không được nhận: xin mở tệp và lưu lại dạng .xlsx."
                .into(),
        ));
    }
    let ods = zip.index_for_name("content.xml").is_some();
    let mut total = 0u64;
    for i in 0..zip.len() {
        let entry = zip.by_index(i).map_err(|_| unreadable())?;
        if entry.size() > MAX_PART {
            return Err(too_big_inflated());
        }
        let Ok(name) = entry.name().map(|n| n.into_owned()) else {
            return Err(unreadable());
        };
        let part = if ods && name == "content.xml" {
            Part::OdsContent
        } else if name.starts_with("xl/worksheets/") && name.ends_with(".xml") {
            Part::XlsxSheet
        } else if name == "xl/sharedStrings.xml" {
            Part::SharedStrings
        } else {
            Part::Other
        };
        let mut reader = Capped {
            inner: entry,
            part: 0,
            total: &mut total,
        };
        match part {
            Part::XlsxSheet => scan_xlsx_sheet(io::BufReader::new(reader))?,
            Part::SharedStrings => scan_shared_strings(io::BufReader::new(reader))?,
            Part::OdsContent => scan_ods_content(io::BufReader::new(reader))?,
            Part::Other => {
                io::copy(&mut reader, &mut io::sink()).map_err(|e| io_refusal(&e))?;
            }
        }
    }
    Ok(())
}

fn attr_u64(e: &BytesStart, name: &str) -> Option<u64> {
    let attr = e.try_get_attribute(name).ok().flatten()?;
    attr.value.trim().parse().ok()
}

/// "AB12" → 0-based (row 11, column 27); `None` when it is no cell reference.
fn cell_position(text: &[u8]) -> Option<(u64, u64)> {
    let letters = text.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    if letters == 0 || letters > 7 {
        return None;
    }
    let mut col = 0u64;
    for b in &text[..letters] {
        col = col * 26 + u64::from(b.to_ascii_uppercase() - b'A' + 1);
    }
    let row: u64 = std::str::from_utf8(&text[letters..]).ok()?.parse().ok()?;
    Some((row.checked_sub(1)?, col - 1))
}

/// A worksheet of an .xlsx file: every cell that holds a value lies inside a form's extent.
fn scan_xlsx_sheet(input: impl io::BufRead) -> Result<(), FieldError> {
    let mut xml = XmlReader::from_reader(input);
    let mut buf = Vec::new();
    // Rows and cells may omit their reference: they then follow the previous one.
    let mut row: u64 = 0;
    let mut next_row: u64 = 0;
    let mut col: u64 = 0;
    let mut next_col: u64 = 0;
    loop {
        match xml.read_event_into(&mut buf).map_err(xml_refusal)? {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "row" => {
                row = attr_u64(&e, "r")
                    .and_then(|r| r.checked_sub(1))
                    .unwrap_or(next_row);
                next_row = row.saturating_add(1);
                next_col = 0;
            }
            Event::Start(e) if e.local_name().as_ref() == "c" => {
                let at = e
                    .try_get_attribute("r")
                    .ok()
                    .flatten()
                    .and_then(|a| cell_position(a.value.as_bytes()));
                (row, col) = at.unwrap_or((row, next_col));
                next_col = col.saturating_add(1);
            }
            Event::Empty(e) if e.local_name().as_ref() == "c" => {
                // A cell without content (a style alone) holds no value; it still takes its place.
                let at = e
                    .try_get_attribute("r")
                    .ok()
                    .flatten()
                    .and_then(|a| cell_position(a.value.as_bytes()));
                next_col = at.map_or(next_col, |(_, c)| c).saturating_add(1);
            }
            Event::Start(e) if matches!(e.local_name().as_ref(), "v" | "is" | "f") => {
                inside(row, col, 1, 1)?;
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
        buf.clear();
    }
}

/// The shared strings of an .xlsx file: no more declared or held than a form could use.
fn scan_shared_strings(input: impl io::BufRead) -> Result<(), FieldError> {
    let mut xml = XmlReader::from_reader(input);
    let mut buf = Vec::new();
    let mut held = 0u64;
    loop {
        match xml.read_event_into(&mut buf).map_err(xml_refusal)? {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "sst" => {
                for name in ["uniqueCount", "count"] {
                    if attr_u64(&e, name).is_some_and(|n| n > MAX_STRINGS) {
                        return Err(too_many_strings());
                    }
                }
                // A count that is no number at all is refused too: a reader may trust it.
                for name in ["uniqueCount", "count"] {
                    if e.try_get_attribute(name).ok().flatten().is_some()
                        && attr_u64(&e, name).is_none()
                    {
                        return Err(unreadable());
                    }
                }
            }
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "si" => {
                held += 1;
                if held > MAX_STRINGS {
                    return Err(too_many_strings());
                }
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
        buf.clear();
    }
}

/// The content of an .ods file (every sheet): every cell that holds a value, with its repeats,
/// lies inside a form's extent. Empty repeated rows and cells (LibreOffice writes the rest of
/// a sheet that way) hold nothing and cost a reader nothing.
fn scan_ods_content(input: impl io::BufRead) -> Result<(), FieldError> {
    let mut xml = XmlReader::from_reader(input);
    let mut buf = Vec::new();
    let mut row: u64 = 0;
    let mut row_repeats: u64 = 1;
    let mut col: u64 = 0;
    loop {
        match xml.read_event_into(&mut buf).map_err(xml_refusal)? {
            Event::Start(e) if e.name().as_ref() == "table:table" => {
                row = 0;
            }
            Event::Start(e) if e.name().as_ref() == "table:table-row" => {
                row_repeats = attr_u64(&e, "table:number-rows-repeated").unwrap_or(1);
                col = 0;
            }
            Event::End(e) if e.name().as_ref() == "table:table-row" => {
                row = row.saturating_add(row_repeats.max(1));
            }
            Event::Empty(e) if e.name().as_ref() == "table:table-row" => {
                let repeats = attr_u64(&e, "table:number-rows-repeated").unwrap_or(1);
                row = row.saturating_add(repeats.max(1));
            }
            Event::Start(e) if is_ods_cell(&e) => {
                col = ods_cell(&e, true, row, row_repeats, col)?;
            }
            Event::Empty(e) if is_ods_cell(&e) => {
                col = ods_cell(&e, false, row, row_repeats, col)?;
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
        buf.clear();
    }
}

fn is_ods_cell(e: &BytesStart) -> bool {
    matches!(
        e.name().as_ref(),
        "table:table-cell" | "table:covered-table-cell"
    )
}

/// One cell element of an .ods row at column `col`: a cell with content (a value type, or
/// children such as its text) must fit with its repeats. Returns the column after it.
fn ods_cell(
    e: &BytesStart,
    has_children: bool,
    row: u64,
    row_repeats: u64,
    col: u64,
) -> Result<u64, FieldError> {
    let repeats = attr_u64(e, "table:number-columns-repeated").unwrap_or(1);
    let typed = e
        .try_get_attribute("office:value-type")
        .ok()
        .flatten()
        .is_some();
    if typed || has_children {
        inside(row, col, row_repeats, repeats)?;
    }
    Ok(col.saturating_add(repeats.max(1)))
}

/// An old .xls file: its workbook stream's records, from the start and from each sheet's own
/// offset (as a reader follows them), hold no cell and declare no extent outside a form's.
fn check_xls(bytes: &[u8]) -> Result<(), FieldError> {
    let mut file = cfb::CompoundFile::open(Cursor::new(bytes)).map_err(|_| unreadable())?;
    let name = ["/Workbook", "/Book"]
        .into_iter()
        .find(|n| file.is_stream(n))
        .ok_or_else(unreadable)?;
    let mut stream = Vec::new();
    file.open_stream(name)
        .map_err(|_| unreadable())?
        .take(bytes.len() as u64)
        .read_to_end(&mut stream)
        .map_err(|_| unreadable())?;
    let sheets = scan_biff(&stream, 0)?;
    for offset in sheets {
        scan_biff(&stream, offset)?;
    }
    Ok(())
}

fn u16_at(data: &[u8], at: usize) -> Option<u64> {
    data.get(at..at + 2)
        .map(|b| u64::from(u16::from_le_bytes([b[0], b[1]])))
}

fn u32_at(data: &[u8], at: usize) -> Option<u64> {
    data.get(at..at + 4)
        .map(|b| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
}

/// Scans BIFF records from `start` to the end of that substream; returns the sheets' offsets
/// that its BOUNDSHEET records name.
fn scan_biff(stream: &[u8], start: usize) -> Result<Vec<usize>, FieldError> {
    let mut at = start;
    let mut sheets = Vec::new();
    let mut depth = 0u32;
    while let (Some(typ), Some(len)) = (u16_at(stream, at), u16_at(stream, at + 2)) {
        let body = at + 4;
        let data = stream
            .get(body..body + len as usize)
            .ok_or_else(unreadable)?;
        at = body + len as usize;
        match typ {
            // BOF: a substream begins (the sheet's own, or one nested in it).
            0x0809 => depth += 1,
            // EOF: a substream ends; the one this scan began is over.
            0x000A => {
                depth = depth.saturating_sub(1);
                if depth == 0 && start != 0 {
                    break;
                }
            }
            // BOUNDSHEET: where a sheet's records start.
            0x0085 => {
                let offset = u32_at(data, 0).ok_or_else(unreadable)?;
                sheets.push(usize::try_from(offset).map_err(|_| unreadable())?);
            }
            // DIMENSIONS: the extent a reader reserves room for.
            0x0200 => {
                let (first_row, last_row, first_col, last_col) = match data.len() {
                    10 => (
                        u16_at(data, 0),
                        u16_at(data, 2),
                        u16_at(data, 4),
                        u16_at(data, 6),
                    ),
                    14 | 16 => (
                        u32_at(data, 0),
                        u32_at(data, 4),
                        u16_at(data, 8),
                        u16_at(data, 10),
                    ),
                    _ => return Err(unreadable()),
                };
                let (Some(fr), Some(lr), Some(fc), Some(lc)) =
                    (first_row, last_row, first_col, last_col)
                else {
                    return Err(unreadable());
                };
                if lr < fr || lc < fc {
                    return Err(unreadable());
                }
                // The last row and column are one past the used range.
                if lr > 0 || lc > 0 {
                    inside(lr.saturating_sub(1), lc.saturating_sub(1), 1, 1)?;
                }
            }
            // Cells: NUMBER, LABEL, RSTRING, BOOLERR, RK, LABELSST, FORMULA, BLANK.
            0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD | 0x0006 | 0x0201 => {
                let (Some(row), Some(col)) = (u16_at(data, 0), u16_at(data, 2)) else {
                    return Err(unreadable());
                };
                inside(row, col, 1, 1)?;
            }
            // MULRK, MULBLANK: a run of cells on one row, its last column at the end.
            0x00BD | 0x00BE => {
                let (Some(row), Some(first), Some(last)) = (
                    u16_at(data, 0),
                    u16_at(data, 2),
                    data.len().checked_sub(2).and_then(|end| u16_at(data, end)),
                ) else {
                    return Err(unreadable());
                };
                if last < first {
                    return Err(unreadable());
                }
                inside(row, first, 1, last - first + 1)?;
            }
            // SST: the shared strings it declares.
            0x00FC if u32_at(data, 4).is_some_and(|n| n > MAX_STRINGS) => {
                return Err(too_many_strings());
            }
            _ => {}
        }
    }
    Ok(sheets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_references_read_as_excel_numbers_them() {
        assert_eq!(cell_position(b"A1"), Some((0, 0)));
        assert_eq!(cell_position(b"AB12"), Some((11, 27)));
        assert_eq!(cell_position(b"XFD1048576"), Some((1_048_575, 16_383)));
        assert_eq!(cell_position(b"A0"), None);
        assert_eq!(cell_position(b"12"), None);
    }

    #[test]
    fn a_value_outside_the_form_is_named_by_its_cell() {
        let e = inside(1_048_575, 16_383, 1, 1).unwrap_err();
        assert!(e.message.contains("ô XFD1048576"), "{}", e.message);
        assert!(inside(MAX_ROWS as u64 - 1, MAX_COLS as u64 - 1, 1, 1).is_ok());
        // A repeated value counts to its last repeat.
        let e = inside(10, 2, 1, 100).unwrap_err();
        assert!(e.message.contains("ô CX11"), "{}", e.message);
    }

    #[test]
    fn what_is_no_workbook_is_refused_as_unreadable() {
        assert!(check_workbook(b"hello").is_err());
        assert!(check_workbook(b"PK\x03\x04 not really a zip").is_err());
    }
}
