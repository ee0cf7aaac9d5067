//! The drafted consolidated report (.docx): opened by LibreOffice and printed to PDF, its
//! text has the Party header, the title, every commune in the annex; its figure tables, read
//! from the document itself, are the consolidation's.

use std::io::{Cursor, Read};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::helpers::*;
use crate::offline::soffice;

/// The PDF's text, as LibreOffice printed the document.
fn printed(dir: &Path, name: &str, bytes: &[u8]) -> (String, u32) {
    let docx = dir.join(name);
    std::fs::write(&docx, bytes).unwrap();
    let pdf = soffice(dir, &docx, "pdf");
    let text = Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is not installed: run ./scripts/test");
    let info = Command::new("pdfinfo").arg(&pdf).output().unwrap();
    let pages = String::from_utf8_lossy(&info.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (String::from_utf8(text.stdout).unwrap(), pages)
}

/// Every table row of the document, as the text of its cells.
fn table_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut xml = String::new();
    zip.by_name("word/document.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    let text_of = |cell: &str| {
        cell.split("<w:t")
            .skip(1)
            .filter_map(|t| {
                let start = t.find('>')? + 1;
                Some(t[start..t.find("</w:t>")?].to_owned())
            })
            .collect::<String>()
            .replace("&amp;", "&")
    };
    xml.split("<w:tr>")
        .skip(1)
        .map(|row| {
            let row = &row[..row.find("</w:tr>").unwrap_or(row.len())];
            row.split("<w:tc>").skip(1).map(text_of).collect()
        })
        .collect()
}

fn display(v: &Value, decimals: bool) -> String {
    let x = v.as_f64().unwrap();
    if decimals || x.fract() != 0.0 {
        format!("{x:.1}").replace('.', ",")
    } else {
        let s = (x as i64).to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push('.');
            }
            out.push(c);
        }
        out
    }
}

#[test]
fn the_drafted_report_is_in_the_party_format_with_the_consolidations_figures() {
    let app = TestApp::spawn_demo();
    let round = app.round_id;
    let dir = tempfile::tempdir().unwrap();
    let district = app.login(DISTRICT);

    let path = format!("/ky-bao-cao/{round}/bao-cao-tong-hop/{DISTRICT}.docx");
    let (_, _, page) = district.page(&format!("/ky-bao-cao/{round}/don-vi/{DISTRICT}"));
    assert!(
        page.contains(&format!("href=\"{path}\"")),
        "the unit page offers it"
    );
    let (status, ctype, bytes) = district.get_bytes(&path);
    assert_eq!(status, 200);
    assert!(ctype.contains("wordprocessingml"), "{ctype}");
    let (_, headers) = district.headers(&path);
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("bao-cao-tong-hop-{DISTRICT}-ky-{round}.docx"))
    );

    // A4, margins of 20 mm top and bottom, 30 mm left, 15 mm right (in twips); Times New
    // Roman 14 (28 half-points) by default.
    let part = |name: &str| {
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes.as_slice())).unwrap();
        let mut xml = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut xml).unwrap();
        xml
    };
    let document = part("word/document.xml");
    assert!(document.contains(r#"<w:pgSz w:w="11906" w:h="16838" />"#));
    assert!(document.contains(r#"w:top="1134" w:right="850" w:bottom="1134" w:left="1701""#));
    let styles = part("word/styles.xml");
    assert!(styles.contains(r#"<w:sz w:val="28" />"#));
    assert!(styles.contains(r#"w:ascii="Times New Roman""#));

    let (text, pages) = printed(dir.path(), "district.docx", &bytes);
    for part in [
        "HUYỆN ỦY QUỲNH PHỤ",
        "BAN TUYÊN GIÁO",
        "-BC/BTGHU",
        "ĐẢNG CỘNG SẢN VIỆT NAM",
        "Quỳnh Phụ, ngày",
        "BÁO CÁO",
        "kết quả công tác khoa giáo 6 tháng đầu năm 2025",
        "I. TÌNH HÌNH TƯ TƯỞNG VÀ TÂM TRẠNG XÃ HỘI",
        "II. KẾT QUẢ ĐẠT ĐƯỢC",
        "Nơi nhận:",
        "- Ban Tuyên giáo Tỉnh ủy Thái Bình (b/c),",
        "- Lưu VP.",
        "T/M BAN TUYÊN GIÁO",
        "TRƯỞNG BAN",
        "PHỤ LỤC 1",
        "PHỤ LỤC 2",
        "PHỤ LỤC 3",
    ] {
        assert!(text.contains(part), "the document lacks «{part}»");
    }
    assert!(pages >= 5, "{pages} pages");

    // The figures by group are the consolidation's, as the API gives it.
    let (_, rollup) = district.get(&format!("/api/v1/rounds/{round}/rollup/{DISTRICT}"));
    let rows = table_rows(&bytes);
    let mut checked = 0;
    for (key, label, decimals) in [
        ("so_thanh_vien", "Số thành viên của Tổ khoa giáo", false),
        ("so_cuoc_hop", "Số cuộc họp của Tổ", false),
        ("luot_nguoi_nghe", "Số lượt người nghe tuyên truyền", false),
        (
            "tt_y_te",
            "Số buổi tuyên truyền về y tế và chăm sóc sức khỏe nhân dân",
            false,
        ),
        ("kinh_phi", "Kinh phí chi cho hoạt động khoa giáo", true),
    ] {
        let expected = display(&rollup["total"]["values"][key], decimals);
        let row = rows
            .iter()
            .find(|r| r.len() == 3 && r[0] == label)
            .unwrap_or_else(|| panic!("no row for {label}"));
        assert_eq!(row[2], expected, "{label}");
        checked += 1;
    }
    assert_eq!(checked, 5);
    // Annex 1: each commune's own row, and the total, the same figures.
    let communes = rollup["rows"].as_array().unwrap();
    for c in communes {
        let name = c["unit"]["name"].as_str().unwrap();
        let row = rows
            .iter()
            .find(|r| r.first().is_some_and(|n| n == name) && r.len() == 6)
            .unwrap_or_else(|| panic!("annex 1 lacks {name}"));
        let members = &c["values"]["so_thanh_vien"];
        let expected = if members.is_null() {
            "–".to_owned()
        } else {
            display(members, false)
        };
        assert_eq!(row[1], expected, "{name}");
    }
    // Annex 2 names every commune, filed or not; annex 3 holds the narratives of those counted.
    let annex2 = &text[text.find("PHỤ LỤC 2").unwrap()..];
    for c in communes {
        let name = c["unit"]["name"].as_str().unwrap();
        assert!(annex2.contains(name), "annex 2 lacks {name}");
    }
    let annex3 = &text[text.find("PHỤ LỤC 3").unwrap()..];
    let accepted = communes.iter().find(|c| c["status"] == "accepted").unwrap();
    assert!(annex3.contains(accepted["unit"]["name"].as_str().unwrap()));

    // The province's own: its header, its recipients, every commune of the province.
    let province = app.login(PROVINCE);
    let (status, _, bytes) =
        province.get_bytes(&format!("/api/v1/rounds/{round}/document/{PROVINCE}.docx"));
    assert_eq!(status, 200);
    let (text, _) = printed(dir.path(), "province.docx", &bytes);
    for part in [
        "TỈNH ỦY THÁI BÌNH",
        "-BC/BTGTU",
        "Thái Bình, ngày",
        "Ban Tuyên giáo Trung ương",
    ] {
        assert!(
            text.contains(part),
            "the province's document lacks «{part}»"
        );
    }
    let (_, top) = province.get(&format!("/api/v1/rounds/{round}/rollup/{PROVINCE}"));
    let annex2 = &text[text.find("PHỤ LỤC 2").unwrap()..];
    let mut all = 0;
    for d in top["rows"].as_array().unwrap() {
        let code = d["unit"]["code"].as_str().unwrap();
        let (_, view) = province.get(&format!("/api/v1/rounds/{round}/rollup/{code}"));
        for c in view["rows"].as_array().unwrap() {
            let name = c["unit"]["name"].as_str().unwrap();
            assert!(annex2.contains(name), "the province's annex 2 lacks {name}");
            all += 1;
        }
    }
    assert_eq!(all, 242);

    // A district drafts its own, not the province's nor a neighbour's; a commune has none.
    for code in [PROVINCE, OTHER_DISTRICT] {
        let (status, _, _) =
            district.get_bytes(&format!("/api/v1/rounds/{round}/document/{code}.docx"));
        assert_eq!(status, 403, "{code}");
    }
    let (status, _, _) = app
        .login(COMMUNE)
        .get_bytes(&format!("/api/v1/rounds/{round}/document/{COMMUNE}.docx"));
    assert_eq!(status, 404);
}
