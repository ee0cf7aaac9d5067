//! Excel both ways (domain.md, "Excel"), as its own room: the consolidated workbook of a round,
//! the offline form a commune fills in Excel, the account sheets (people in, one-time passwords
//! out), and reading that form back (with the converter for
//! text typed in the old TCVN3 and VNI fonts).
//!
//! Everything here turns report-schemas types and plain data into bytes and back. It imports
//! neither the service layer, nor the database, nor the web server: the service layer calls in,
//! handing over what to write (the consolidation, as it walks the tree) and taking back what was
//! read. `scripts/check-layout` keeps it so.

pub mod accounts;
pub mod export;
pub mod form;
pub mod guard;
pub mod legacy;
pub mod series;
pub mod upload;

pub use export::{Consolidated, ExportData, ExportError, WriterStopped, write_workbook};
pub use form::{FormData, Identity, form_workbook};
pub use upload::{
    ReadForm, Unpacked, Upload, check_form, expand_files, locate, read_form, read_forms,
};

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
