//! Text typed in the legacy TCVN3 (ABC) fonts (.VnTime, .VnArial, ...) arrives in a workbook
//! as Latin-1 mojibake: "Th¸i B×nh" is "Thái Bình". It is recognised by its character profile
//! (nothing beyond U+00FF, and symbols such as ¸ × µ where Vietnamese letters should be) and
//! converted to Unicode NFC with the TCVN3 table (`seeds/tcvn3_table.json`, as glibc's iconv
//! TCVN5712-1 gives it).

use std::collections::HashMap;
use std::sync::OnceLock;

use super::vn;

const TABLE: &str = include_str!("../../../seeds/tcvn3_table.json");

/// TCVN3 byte (as the Latin-1 character it shows as) → the Vietnamese letter.
fn table() -> &'static HashMap<char, char> {
    static TABLE_MAP: OnceLock<HashMap<char, char>> = OnceLock::new();
    TABLE_MAP.get_or_init(|| {
        let raw: HashMap<String, String> = serde_json::from_str(TABLE).unwrap_or_default();
        raw.into_iter()
            .filter_map(|(letter, byte)| {
                let code = u32::from_str_radix(byte.trim_start_matches("0x"), 16).ok()?;
                Some((char::from_u32(code)?, letter.chars().next()?))
            })
            .collect()
    })
}

/// Characters that are symbols in Latin-1 but letters in TCVN3: their presence, in text with
/// nothing beyond Latin-1, is what gives TCVN3 away. Unicode Vietnamese always has letters
/// beyond U+00FF (ă, đ, ơ, ư, ạ, ...) or only Latin-1 letters (à, á, â, ...), never these.
fn is_telltale(c: char) -> bool {
    matches!(c, '\u{A1}'..='\u{BF}' | '\u{D7}' | '\u{F7}') && table().contains_key(&c)
}

/// Whether `text` looks like TCVN3 shown as Latin-1.
pub fn looks_tcvn3(text: &str) -> bool {
    text.chars().all(|c| (c as u32) <= 0xFF) && text.chars().any(is_telltale)
}

/// `text` converted from TCVN3 if it looks like it; `None` when it does not.
pub fn from_tcvn3(text: &str) -> Option<String> {
    if !looks_tcvn3(text) {
        return None;
    }
    let map = table();
    let converted: String = text
        .chars()
        .map(|c| map.get(&c).copied().unwrap_or(c))
        .collect();
    Some(vn::nfc(&converted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcvn3_mojibake_becomes_unicode() {
        assert_eq!(from_tcvn3("Th¸i B×nh").as_deref(), Some("Thái Bình"));
        assert_eq!(
            from_tcvn3("Tæ khoa gi¸o ®· tæ chøc tuyªn truyÒn").as_deref(),
            Some("Tổ khoa giáo đã tổ chức tuyên truyền")
        );
    }

    #[test]
    fn unicode_and_plain_text_are_left_alone() {
        for text in ["Thái Bình", "Tổ khoa giáo đã họp", "Hà Nội", "abc 123", ""] {
            assert_eq!(from_tcvn3(text), None, "{text}");
        }
    }
}
