//! Text typed in the legacy Vietnamese fonts arrives in a workbook as mojibake: the font's bytes
//! shown as the Western characters they are in Windows. It is recognised by its character
//! profile and converted to Unicode NFC.
//!
//! - TCVN3 (ABC) fonts (.VnTime, .VnArial, ...) show as Latin-1: "Th¸i B×nh" is "Thái Bình".
//!   Nothing beyond U+00FF, and symbols such as ¸ × µ where Vietnamese letters should be; the
//!   table is `seeds/tcvn3_table.json`, as glibc's iconv TCVN5712-1 gives it.
//! - VNI-Windows fonts (VNI-Times, VNI-Helve, ...) show as Windows-1252: "Thaùi Bình" is
//!   "Thái Bình". Most toned or hatted vowels are two bytes, the base letter and a mark ("aù" á,
//!   "eä" ệ, "ôø" ờ); đ ơ ư and the toned i are one ("ñ" đ, "ô" ơ, "ö" ư, "ò" ị). The table is
//!   `seeds/vni_table.json`, from UniKey's converter (VnConv `data.cpp`, VNI-WIN) and checked
//!   against two other keyboard programs' tables; see `seeds/README.md`.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use crate::domain::vn;

const TCVN3_TABLE: &str = include_str!("../../../seeds/tcvn3_table.json");
const VNI_TABLE: &str = include_str!("../../../seeds/vni_table.json");

/// A legacy Vietnamese encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Legacy {
    /// TCVN3 (ABC): the .VnTime, .VnArial, ... fonts.
    Tcvn3,
    /// VNI-Windows: the VNI-Times, VNI-Helve, ... fonts.
    Vni,
}

impl Legacy {
    /// The encoding a font's name implies: ".VnTime" is TCVN3, "VNI-Times" is VNI.
    pub fn of_font(name: &str) -> Option<Legacy> {
        let starts = |prefix: &str| {
            name.get(..prefix.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
        };
        if starts(".vn") {
            Some(Legacy::Tcvn3)
        } else if starts("vni") {
            Some(Legacy::Vni)
        } else {
            None
        }
    }
}

/// The one legacy encoding that a file's fonts name, if they name just one.
pub fn font_hint<'a>(fonts: impl IntoIterator<Item = &'a str>) -> Option<Legacy> {
    let mut named = fonts.into_iter().filter_map(Legacy::of_font);
    let first = named.next()?;
    named.all(|other| other == first).then_some(first)
}

/// `text` converted from the legacy encoding it is in, and which one that was; `None` when it
/// looks like neither. `hint` is the encoding the file's fonts name ([`font_hint`]): then only
/// that one is tried, and VNI needs no more than a letter of its own (ñ for đ, ö for ư, ...)
/// where, on its looks alone, it needs a vowel and its mark. Without a hint VNI goes first: text
/// that fits its stricter profile fits TCVN3's only through a stray «, ° or ·.
pub fn from_legacy(text: &str, hint: Option<Legacy>) -> Option<(String, Legacy)> {
    let vni = match hint {
        Some(Legacy::Tcvn3) => None,
        Some(Legacy::Vni) => decode_vni(text).filter(|found| found.pairs + found.letters > 0),
        None => decode_vni(text).filter(|found| found.pairs > 0),
    };
    if let Some(found) = vni {
        return Some((vn::nfc(&found.text), Legacy::Vni));
    }
    if hint == Some(Legacy::Vni) {
        return None;
    }
    from_tcvn3_given(text, hint == Some(Legacy::Tcvn3)).map(|unicode| (unicode, Legacy::Tcvn3))
}

/// TCVN3 byte (as the Latin-1 character it shows as) → the Vietnamese letter.
fn tcvn3_table() -> &'static HashMap<char, char> {
    static TABLE_MAP: OnceLock<HashMap<char, char>> = OnceLock::new();
    TABLE_MAP.get_or_init(|| {
        let raw: HashMap<String, String> = serde_json::from_str(TCVN3_TABLE).unwrap_or_default();
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
    matches!(c, '\u{A1}'..='\u{BF}' | '\u{D7}' | '\u{F7}') && tcvn3_table().contains_key(&c)
}

/// «, » and · are punctuation in Unicode text ("«Xuân»", "Có: 3 · Không: 1") and letters in
/// TCVN3 (ô, ằ, ã): on their own they tell TCVN3 only when the file's fonts say so.
fn is_punctuation_too(c: char) -> bool {
    matches!(c, '«' | '»' | '·')
}

/// Whether `text` looks like TCVN3 shown as Latin-1.
pub fn looks_tcvn3(text: &str) -> bool {
    looks_tcvn3_given(text, false)
}

/// [`looks_tcvn3`], knowing whether the file's fonts are TCVN3 ones.
fn looks_tcvn3_given(text: &str, font_says: bool) -> bool {
    text.chars().all(|c| (c as u32) <= 0xFF)
        && text
            .chars()
            .any(|c| is_telltale(c) && (font_says || !is_punctuation_too(c)))
}

/// `text` converted from TCVN3 if it looks like it; `None` when it does not.
pub fn from_tcvn3(text: &str) -> Option<String> {
    from_tcvn3_given(text, false)
}

fn from_tcvn3_given(text: &str, font_says: bool) -> Option<String> {
    if !looks_tcvn3_given(text, font_says) {
        return None;
    }
    let map = tcvn3_table();
    let converted: String = text
        .chars()
        .map(|c| map.get(&c).copied().unwrap_or(c))
        .collect();
    Some(vn::nfc(&converted))
}

/// Windows-1252's characters for the bytes 0x80..=0x9F, where it is not Latin-1. The five bytes
/// it leaves undefined stay the C1 controls, as Windows passes them through.
const CP1252_80_9F: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž', '\u{8F}',
    '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}', 'ž', 'Ÿ',
];

/// The character a byte shows as in Windows-1252.
fn cp1252(byte: u8) -> char {
    match byte {
        0x80..=0x9F => CP1252_80_9F[usize::from(byte - 0x80)],
        _ => char::from(byte),
    }
}

/// Whether `c` is one of Windows-1252's characters, as every character of VNI text is.
fn in_cp1252(c: char) -> bool {
    (c as u32) <= 0xFF || CP1252_80_9F.contains(&c)
}

/// The VNI table as Windows-1252 text.
#[derive(Default)]
struct VniTable {
    /// Letters of one character: "ñ" đ, "ô" ơ, "ò" ị, ...
    single: HashMap<char, char>,
    /// Letters of two, a base vowel and its mark: ('a', 'ù') á, ('E', 'Ä') Ệ, ...
    double: HashMap<(char, char), char>,
    /// The marks: never in VNI text but right after their vowel.
    marks: HashSet<char>,
}

fn vni_table() -> &'static VniTable {
    static TABLE_MAP: OnceLock<VniTable> = OnceLock::new();
    TABLE_MAP.get_or_init(|| {
        let raw: HashMap<String, String> = serde_json::from_str(VNI_TABLE).unwrap_or_default();
        let mut table = VniTable::default();
        for (letter, bytes) in raw {
            let Some(letter) = letter.chars().next() else {
                continue;
            };
            let chars: Option<Vec<char>> = bytes
                .split_whitespace()
                .map(|byte| u8::from_str_radix(byte.trim_start_matches("0x"), 16).ok())
                .map(|byte| byte.map(cp1252))
                .collect();
            match chars.as_deref() {
                Some(&[c]) => {
                    table.single.insert(c, letter);
                }
                Some(&[base, mark]) => {
                    table.double.insert((base, mark), letter);
                    table.marks.insert(mark);
                }
                _ => {}
            }
        }
        table
    })
}

/// Pairs that Unicode has too, in the old-style spelling of "hoà", "toán", "hoãn" (in VNI they
/// are ồ, ố, ỗ): they are converted in VNI text but do not tell VNI text.
fn is_unicode_pair(base: char, mark: char) -> bool {
    matches!(
        (base, mark),
        ('o', 'à' | 'á' | 'ã') | ('O', 'À' | 'Á' | 'Ã')
    )
}

/// Text decoded from VNI, with what gave it away.
struct Decoded {
    text: String,
    /// Vowel-and-mark pairs that Unicode Vietnamese never has: "aù", "eä", "öø", ...
    pairs: usize,
    /// Letters that Unicode Vietnamese never has: ñ Ñ (đ Đ), ö Ö (ư Ư), æ Æ (ỉ Ỉ), î Î (ỵ Ỵ).
    letters: usize,
}

/// `text` decoded from VNI, greedily pairs first, or `None` where it cannot be VNI: a character
/// beyond Windows-1252, a mark with no vowel before it, a capital right after a small letter
/// (TCVN3 shows the small ệ as Ö, VNI never mixes cases within a word), or đ inside a word.
fn decode_vni(text: &str) -> Option<Decoded> {
    if !text.chars().all(in_cp1252) {
        return None;
    }
    let table = vni_table();
    let mut found = Decoded {
        text: String::with_capacity(text.len() * 2),
        pairs: 0,
        letters: 0,
    };
    let mut chars = text.chars().peekable();
    let mut prev: Option<char> = None;
    while let Some(c) = chars.next() {
        if prev.is_some_and(char::is_lowercase) && matches!(c, 'À'..='Þ') && c != '×' {
            return None;
        }
        let pair = chars
            .peek()
            .and_then(|&mark| table.double.get(&(c, mark)).map(|&letter| (mark, letter)));
        if let Some((mark, letter)) = pair {
            chars.next();
            if !is_unicode_pair(c, mark) {
                found.pairs += 1;
            }
            found.text.push(letter);
            prev = Some(mark);
            continue;
        }
        let inside_word = prev.is_some_and(char::is_alphabetic);
        if table.marks.contains(&c) || (matches!(c, 'ñ' | 'Ñ') && inside_word) {
            return None;
        }
        match table.single.get(&c) {
            Some(&letter) => {
                if matches!(c, 'ñ' | 'Ñ' | 'ö' | 'Ö' | 'æ' | 'Æ' | 'î' | 'Î') {
                    found.letters += 1;
                }
                found.text.push(letter);
            }
            None => found.text.push(c),
        }
        prev = Some(c);
    }
    Some(found)
}

/// Whether `text` looks like VNI shown as Windows-1252 on its looks alone: every mark right
/// after its vowel, and at least one vowel-and-mark pair that Unicode Vietnamese never has.
/// Unicode Vietnamese either has letters beyond Windows-1252 (ă, đ, ơ, ư, ạ, ...) or only
/// Latin-1 letters in the pairs Vietnamese spelling makes ("Xuân", "Yên", "hoà"), never these.
pub fn looks_vni(text: &str) -> bool {
    decode_vni(text).is_some_and(|found| found.pairs > 0)
}

/// `text` converted from VNI if it looks like it; `None` when it does not.
pub fn from_vni(text: &str) -> Option<String> {
    decode_vni(text)
        .filter(|found| found.pairs > 0)
        .map(|found| vn::nfc(&found.text))
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

    #[test]
    fn quotes_and_middle_dots_in_unicode_text_are_not_taken_for_tcvn3() {
        for text in [
            "«Xuân»",
            "Có: 3 · Không: 1",
            "Đề án «Tổ khoa giáo»",
            "«month»",
        ] {
            assert_eq!(from_legacy(text, None), None, "{text}");
        }
        // In a file whose fonts are TCVN3 ones, « is ô.
        assert_eq!(
            from_legacy("t«i", Some(Legacy::Tcvn3)),
            Some(("tôi".to_owned(), Legacy::Tcvn3))
        );
    }

    #[test]
    fn vni_mojibake_becomes_unicode() {
        for (vni, unicode) in [
            ("Thaùi Bình", "Thái Bình"),
            (
                "Toå khoa giaùo ñaõ toå chöùc tuyeân truyeàn",
                "Tổ khoa giáo đã tổ chức tuyên truyền",
            ),
            ("Ñaûng uûy xaõ", "Đảng ủy xã"),
            ("Nghò quyeát", "Nghị quyết"),
            ("Höng Yeân", "Hưng Yên"),
            ("ÑAÛNG COÄNG SAÛN VIEÄT NAM", "ĐẢNG CỘNG SẢN VIỆT NAM"),
            ("Ñaø Naüng, Ñinh Thò Haèng", "Đà Nẵng, Đinh Thị Hằng"),
            (
                "Ngöôøi uûng hoä «Xuaân» ñaït 95%",
                "Người ủng hộ «Xuân» đạt 95%",
            ),
        ] {
            assert!(looks_vni(vni), "{vni}");
            assert_eq!(from_vni(vni).as_deref(), Some(unicode), "{vni}");
            assert_eq!(
                from_legacy(vni, None),
                Some((unicode.to_owned(), Legacy::Vni)),
                "{vni}"
            );
        }
    }

    #[test]
    fn the_vni_table_has_every_letter_once() {
        let table = vni_table();
        let mut letters: Vec<char> = table.single.values().copied().collect();
        letters.extend(table.double.values().copied());
        letters.sort_unstable();
        letters.dedup();
        assert_eq!(letters.len(), 134);
        assert_eq!(table.single.len() + table.double.len(), 134);
        assert_eq!(table.marks.len(), 34);
        assert!(
            table
                .marks
                .iter()
                .all(|mark| !table.single.contains_key(mark))
        );
    }

    #[test]
    fn unicode_ascii_and_tcvn3_are_not_taken_for_vni() {
        for text in [
            "Thái Bình",
            "Tổ khoa giáo đã họp",
            "Hưng Yên",
            "Xuân Quang, Tuyên truyền, Yên",
            "Hoàn thành, Hoà Bình, quá trình, Toán",
            "España",
            "abc 123",
            "",
            "Th¸i B×nh",
            "Tæ khoa gi¸o ®· tæ chøc tuyªn truyÒn",
            "cña huyÖn",
        ] {
            assert!(!looks_vni(text), "{text}");
            assert_eq!(from_vni(text), None, "{text}");
            assert_eq!(from_legacy(text, Some(Legacy::Vni)), None, "{text}");
        }
        assert_eq!(
            from_legacy("Th¸i B×nh", None),
            Some(("Thái Bình".to_owned(), Legacy::Tcvn3))
        );
    }

    #[test]
    fn the_fonts_named_decide() {
        assert_eq!(font_hint([".VnTime", ".VnTimeH"]), Some(Legacy::Tcvn3));
        assert_eq!(font_hint(["VNI-Times", "Calibri"]), Some(Legacy::Vni));
        assert_eq!(font_hint(["VNI-Helve", ".VnArial"]), None);
        assert_eq!(font_hint(["Times New Roman"]), None);
        // A letter of its own is enough once the file names a VNI font, not before.
        assert_eq!(from_legacy("Höng", None), None);
        assert_eq!(
            from_legacy("Höng", Some(Legacy::Vni)),
            Some(("Hưng".to_owned(), Legacy::Vni))
        );
        // "Hoàng" may be Unicode even in such a file: it stays, though in VNI it reads Hồng.
        assert_eq!(from_legacy("Hoàng", Some(Legacy::Vni)), None);
        // TCVN3 text that would pass for VNI ("thuỷ lợi") is not taken for it in a TCVN3 file.
        assert_eq!(from_legacy("thuû lîi", Some(Legacy::Tcvn3)), None);
        assert_eq!(
            from_legacy("Thaùi Bình", Some(Legacy::Tcvn3)),
            None,
            "not VNI in a file of TCVN3 fonts"
        );
    }
}
