//! Account sheets both ways: reading a sheet of people to create accounts for (one row per
//! person, .xlsx, .ods, .xls or CSV, headed in Vietnamese or by field name), and writing the
//! handout sheet of one-time passwords a board prints and hands out.

use std::io::Cursor;

use calamine::{Data, Reader, open_workbook_auto_from_rs};
use report_schemas::FieldError;
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, XlsxError};

use super::guard;
use crate::domain::vn;

/// One person of a sheet, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonRow {
    pub unit: String,
    pub username: String,
    pub full_name: String,
    pub role: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// Most people one sheet may create accounts for.
pub const MAX_PEOPLE: usize = 2_000;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Column {
    Unit,
    Username,
    FullName,
    Role,
    Phone,
    Email,
}

/// A header as people write it: "Mã đơn vị", "ma don vi", "unit", ...
fn column_of(header: &str) -> Option<Column> {
    Some(
        match vn::fold(header).replace(['_', '-', '.', ':'], "").as_str() {
            "madonvi" | "donvi" | "unit" | "unitcode" => Column::Unit,
            "tendangnhap" | "username" | "taikhoan" => Column::Username,
            "hovaten" | "hoten" | "fullname" | "ten" => Column::FullName,
            "vaitro" | "role" => Column::Role,
            "dienthoai" | "sodienthoai" | "phone" | "sdt" => Column::Phone,
            "thudientu" | "email" | "thu" => Column::Email,
            _ => return None,
        },
    )
}

fn problem(message: String) -> FieldError {
    FieldError {
        field: "file".into(),
        message,
    }
}

fn cell(d: &Data) -> String {
    match d {
        Data::String(s) => vn::clean(s.trim()),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        _ => String::new(),
    }
}

/// The rows of a sheet of people: a header row naming at least the unit, the user name and the
/// full name, then a row per person (blank rows skipped). Problems name the row and column.
pub fn read_people(bytes: &[u8]) -> Result<Vec<PersonRow>, Vec<FieldError>> {
    let table = if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])
    {
        guard::check_workbook(bytes).map_err(|e| vec![e])?;
        let mut wb = open_workbook_auto_from_rs(Cursor::new(bytes))
            .map_err(|_| vec![problem("Không đọc được tệp bảng tính.".into())])?;
        let first = wb
            .sheet_names()
            .first()
            .cloned()
            .ok_or_else(|| vec![problem("Tệp không có trang nào.".into())])?;
        let range = wb
            .worksheet_range(&first)
            .map_err(|e| vec![problem(format!("Không đọc được trang «{first}» ({e})."))])?;
        range
            .rows()
            .map(|row| row.iter().map(cell).collect::<Vec<String>>())
            .collect::<Vec<_>>()
    } else {
        let text = std::str::from_utf8(bytes).map_err(|_| {
            vec![problem(
                "Tệp CSV không phải mã UTF-8: xin lưu lại dạng «CSV UTF-8».".into(),
            )]
        })?;
        let text = text.trim_start_matches('\u{feff}');
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut rows = Vec::new();
        for (i, record) in reader.records().enumerate() {
            let record = record.map_err(|e| {
                vec![problem(format!(
                    "Dòng {} của tệp CSV không đọc được ({e}).",
                    i + 1
                ))]
            })?;
            rows.push(record.iter().map(|f| vn::clean(f.trim())).collect());
            if rows.len() > MAX_PEOPLE + 1 {
                break;
            }
        }
        rows
    };
    let mut rows = table.into_iter();
    let header = rows
        .next()
        .ok_or_else(|| vec![problem("Tệp trống.".into())])?;
    let columns: Vec<Option<Column>> = header.iter().map(|h| column_of(h)).collect();
    for (needed, name) in [
        (Column::Unit, "Mã đơn vị"),
        (Column::Username, "Tên đăng nhập"),
        (Column::FullName, "Họ và tên"),
    ] {
        if !columns.contains(&Some(needed)) {
            return Err(vec![problem(format!(
                "Dòng đầu của tệp thiếu cột «{name}» (cần các cột: Mã đơn vị, Họ và tên, Tên đăng nhập; tùy chọn: Điện thoại, Thư điện tử, Vai trò)."
            ))]);
        }
    }
    let mut people = Vec::new();
    for row in rows {
        if row.iter().all(String::is_empty) {
            continue;
        }
        if people.len() == MAX_PEOPLE {
            return Err(vec![problem(format!(
                "Một tệp tạo được nhiều nhất {} tài khoản; xin chia thành nhiều tệp.",
                vn::int(MAX_PEOPLE as i64)
            ))]);
        }
        let mut person = PersonRow::default();
        for (value, column) in row.into_iter().zip(&columns) {
            let optional = (!value.is_empty()).then(|| value.clone());
            match column {
                Some(Column::Unit) => person.unit = value,
                Some(Column::Username) => person.username = value,
                Some(Column::FullName) => person.full_name = value,
                Some(Column::Role) => person.role = optional,
                Some(Column::Phone) => person.phone = optional,
                Some(Column::Email) => person.email = optional,
                None => {}
            }
        }
        people.push(person);
    }
    Ok(people)
}

/// One line of the handout sheet.
pub struct HandoutRow {
    pub unit_name: String,
    pub full_name: String,
    pub username: String,
    pub password: String,
}

/// The handout sheet: for each new account, the person, the user name and the one-time
/// password, to print and cut into slips; A4, Times New Roman.
pub fn handout_workbook(title: &str, rows: &[HandoutRow]) -> Result<Vec<u8>, XlsxError> {
    let base = Format::new()
        .set_font_name("Times New Roman")
        .set_font_size(12);
    let cell = base.clone().set_border(FormatBorder::Thin).set_text_wrap();
    let header = cell
        .clone()
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_background_color("DDEBF7");
    let code = cell.clone().set_font_name("Courier New").set_bold();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("Phiếu giao tài khoản")?;
    ws.merge_range(
        0,
        0,
        0,
        4,
        title,
        &base.clone().set_bold().set_font_size(14),
    )?;
    ws.merge_range(
        1,
        0,
        1,
        4,
        "Mật khẩu dưới đây chỉ dùng một lần: ở lần đăng nhập đầu tiên, hệ thống yêu cầu mỗi người tự đặt mật khẩu mới. Giữ phiếu kín, giao tận tay.",
        &base.clone().set_italic().set_text_wrap(),
    )?;
    ws.set_row_height(1, 33)?;
    for (c, (h, w)) in [
        ("STT", 5.0),
        ("Đơn vị", 28.0),
        ("Họ và tên", 26.0),
        ("Tên đăng nhập", 20.0),
        ("Mật khẩu dùng một lần", 22.0),
    ]
    .into_iter()
    .enumerate()
    {
        ws.set_column_width(c as u16, w)?;
        ws.write_string_with_format(3, c as u16, h, &header)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let at = 4 + i as u32;
        ws.write_number_with_format(at, 0, (i + 1) as f64, &cell)?;
        ws.write_string_with_format(at, 1, &r.unit_name, &cell)?;
        ws.write_string_with_format(at, 2, &r.full_name, &cell)?;
        ws.write_string_with_format(at, 3, &r.username, &code)?;
        ws.write_string_with_format(at, 4, &r.password, &code)?;
        ws.set_row_height(at, 24)?;
    }
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(3, 3)?;
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_headed_in_vietnamese_reads_as_people() {
        let csv = "\u{feff}Mã đơn vị,Họ và tên,Tên đăng nhập,Điện thoại\n12475,Nguyễn Văn An,an.12475,0912 345 678\n,,,\n12478,Trần Thị Bình,binh.12478,\n";
        let people = read_people(csv.as_bytes()).unwrap();
        assert_eq!(people.len(), 2);
        assert_eq!(people[0].full_name, "Nguyễn Văn An");
        assert_eq!(people[0].phone.as_deref(), Some("0912 345 678"));
        assert_eq!(people[1].phone, None);
        let missing = read_people(b"ho ten,ten dang nhap\nA,b\n").unwrap_err();
        assert!(missing[0].message.contains("Mã đơn vị"), "{missing:?}");
    }

    #[test]
    fn an_xlsx_sheet_of_people_reads_the_same_and_the_handout_reads_back() {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        for (c, h) in [
            "STT",
            "Họ và tên",
            "Mã đơn vị",
            "Tên đăng nhập",
            "Thư điện tử",
        ]
        .into_iter()
        .enumerate()
        {
            ws.write_string(0, c as u16, h).unwrap();
        }
        ws.write_number(1, 0, 1.0).unwrap();
        ws.write_string(1, 1, "Nguyễn Văn An").unwrap();
        ws.write_number(1, 2, 12475.0).unwrap();
        ws.write_string(1, 3, "an.12475").unwrap();
        ws.write_string(1, 4, "an@tinhuy.vn").unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        let people = read_people(&bytes).unwrap();
        assert_eq!(
            people,
            vec![PersonRow {
                unit: "12475".into(),
                username: "an.12475".into(),
                full_name: "Nguyễn Văn An".into(),
                role: None,
                phone: None,
                email: Some("an@tinhuy.vn".into()),
            }]
        );
        let handout = handout_workbook(
            "PHIẾU",
            &[HandoutRow {
                unit_name: "Xã An Khê".into(),
                full_name: "Nguyễn Văn An".into(),
                username: "an.12475".into(),
                password: "abcd-efgh-ijkm".into(),
            }],
        )
        .unwrap();
        let mut back = open_workbook_auto_from_rs(Cursor::new(handout)).unwrap();
        let range = back.worksheet_range("Phiếu giao tài khoản").unwrap();
        assert!(
            range
                .cells()
                .any(|(_, _, d)| matches!(d, Data::String(s) if s == "abcd-efgh-ijkm"))
        );
    }
}
