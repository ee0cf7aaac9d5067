//! The workbooks as another program reads them: every formula's cached value is what
//! LibreOffice computes from the formula itself (empty results included, so that pandas,
//! openpyxl and file previews show what Excel shows), the charts read left to right, and the
//! sheets print to the page width with their header rows repeated.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};

use crate::helpers::*;
use crate::offline::soffice;

/// A cell's value as compared: empty, a number, or a text.
#[derive(Debug, PartialEq)]
enum Seen {
    Empty,
    Number(f64),
    Text(String),
}

fn seen(d: Option<&Data>) -> Seen {
    match d {
        None | Some(Data::Empty) => Seen::Empty,
        Some(Data::String(s)) if s.is_empty() => Seen::Empty,
        Some(Data::Float(f)) => Seen::Number(*f),
        Some(Data::Int(i)) => Seen::Number(*i as f64),
        Some(other) => Seen::Text(other.to_string()),
    }
}

fn same(a: &Seen, b: &Seen) -> bool {
    match (a, b) {
        (Seen::Number(x), Seen::Number(y)) => (x - y).abs() <= 1e-9 * x.abs().max(1.0),
        _ => a == b,
    }
}

/// Formula cells checked, and how many of them are empty.
pub(crate) struct Recomputed {
    pub(crate) formulas: usize,
    pub(crate) empty: usize,
    pub(crate) wrong: Vec<String>,
}

/// Compares the cached value of every formula cell of `bytes` with the value LibreOffice
/// computes when it opens the file (set to recalculate everything on load) and saves it again.
pub(crate) fn recompute(dir: &Path, name: &str, bytes: &[u8]) -> Recomputed {
    let ours_path = dir.join(name);
    std::fs::write(&ours_path, bytes).unwrap();
    let theirs = std::fs::read(soffice(dir, &ours_path, "xlsx")).unwrap();
    let mut ours: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    let mut lo: Xlsx<_> = open_workbook_from_rs(Cursor::new(theirs.as_slice())).unwrap();
    let mut out = Recomputed {
        formulas: 0,
        empty: 0,
        wrong: Vec::new(),
    };
    for sheet in ours.sheet_names() {
        let formulas = ours.worksheet_formula(&sheet).unwrap();
        let cached = ours.worksheet_range(&sheet).unwrap();
        let computed = lo.worksheet_range(&sheet).unwrap();
        let (r0, c0) = formulas.start().unwrap_or((0, 0));
        for (r, c, formula) in formulas.cells() {
            if formula.is_empty() {
                continue;
            }
            let at = (r0 + r as u32, c0 + c as u32);
            let (a, b) = (seen(cached.get_value(at)), seen(computed.get_value(at)));
            out.formulas += 1;
            if a == Seen::Empty {
                out.empty += 1;
            }
            if !same(&a, &b) {
                out.wrong.push(format!(
                    "{sheet}!R{}C{} ={formula}: cached {a:?}, computed {b:?}",
                    at.0 + 1,
                    at.1 + 1
                ));
            }
        }
    }
    out
}

#[test]
fn every_formula_caches_the_value_it_computes_empty_ones_included() {
    let app = TestApp::spawn_demo();
    let dir = tempfile::tempdir().unwrap();
    let province = app.login(PROVINCE);
    let final_name = format!("tong-hop-{PROVINCE}-ky-{}.xlsx", app.round_id);
    let provisional_name = format!("tong-hop-{PROVINCE}-ky-{}-tam-tinh.xlsx", app.round_id);
    for (query, file_name) in [("", final_name), ("?tam-tinh=1", provisional_name)] {
        let path = format!(
            "/api/v1/rounds/{}/export/{PROVINCE}.xlsx{query}",
            app.round_id
        );
        // The final and the provisional workbook are never mistaken for each other in a folder.
        let (_, headers) = province.headers(&path);
        let disposition = headers["content-disposition"].to_str().unwrap();
        assert!(
            disposition.contains(&format!("filename=\"{file_name}\"")),
            "{disposition}"
        );
        let (status, _, bytes) = province.get_bytes(&path);
        assert_eq!(status, 200);
        let checked = recompute(dir.path(), "export.xlsx", &bytes);
        assert!(
            checked.wrong.is_empty(),
            "{query}: {} of {} formula cells cached wrong:\n{}",
            checked.wrong.len(),
            checked.formulas,
            checked.wrong[..checked.wrong.len().min(20)].join("\n")
        );
        // The demo has units with nothing filed yet: their ratios and averages are empty.
        assert!(checked.formulas > 1000, "{}", checked.formulas);
        assert!(checked.empty > 0, "{query}: no empty result checked");
    }
}

#[test]
fn the_blank_offline_form_caches_its_empty_ratios_as_empty() {
    let app = TestApp::spawn();
    let dir = tempfile::tempdir().unwrap();
    // Nothing filed yet: the ratios have no denominator.
    let commune = app.login(COMMUNE);
    let (status, _, form) = commune.get_bytes(&format!(
        "/api/v1/rounds/{}/form/{COMMUNE}.xlsx",
        app.round_id
    ));
    assert_eq!(status, 200);
    let checked = recompute(dir.path(), "form.xlsx", &form);
    assert!(checked.wrong.is_empty(), "{}", checked.wrong.join("\n"));
    assert!(
        checked.formulas >= 3 && checked.empty > 0,
        "{} formulas, {} empty",
        checked.formulas,
        checked.empty
    );
}

/// The printed workbook, as LibreOffice prints it to PDF, and its pages' text (poppler).
fn print(dir: &Path, bytes: &[u8]) -> (PathBuf, Vec<String>) {
    let xlsx = dir.join("print.xlsx");
    std::fs::write(&xlsx, bytes).unwrap();
    let pdf = soffice(dir, &xlsx, "pdf");
    let out = Command::new("pdftotext")
        .args(["-layout"])
        .arg(&pdf)
        .arg("-")
        .output()
        .expect(
            "pdftotext (poppler-utils) is not installed: run ./scripts/test, which installs it",
        );
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut pages: Vec<String> = text.split('\u{c}').map(str::to_owned).collect();
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    (pdf, pages)
}

/// One page rendered (poppler), as width, height and RGB bytes.
fn render(dir: &Path, pdf: &Path, page: usize) -> (usize, usize, Vec<u8>) {
    let stem = dir.join(format!("page-{page}"));
    let status = Command::new("pdftoppm")
        .args([
            "-r",
            "60",
            "-singlefile",
            "-f",
            &page.to_string(),
            "-l",
            &page.to_string(),
        ])
        .arg(pdf)
        .arg(&stem)
        .status()
        .unwrap();
    assert!(status.success());
    let ppm = std::fs::read(stem.with_extension("ppm")).unwrap();
    // P6, width, height, maximum value, one whitespace, then the pixels.
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while ppm[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !ppm[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&ppm[start..at]).into_owned());
    }
    assert_eq!(fields[0], "P6");
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    (w, h, ppm[at + 1..].to_vec())
}

/// The bars of the chart's colour (#2E75B6) on a rendered page, top to bottom: (left, right).
fn bars(w: usize, h: usize, rgb: &[u8]) -> Vec<(usize, usize)> {
    let bar = |x: usize, y: usize| {
        let p = &rgb[(y * w + x) * 3..][..3];
        (i32::from(p[0]) - 46).abs() < 30
            && (i32::from(p[1]) - 117).abs() < 30
            && (i32::from(p[2]) - 182).abs() < 30
    };
    let mut found: Vec<(usize, usize)> = Vec::new();
    let mut in_bar = false;
    for y in 0..h {
        let xs: Vec<usize> = (0..w).filter(|&x| bar(x, y)).collect();
        match (xs.first(), xs.last()) {
            (Some(&l), Some(&r)) if r - l > 3 => {
                if !in_bar {
                    found.push((l, r));
                }
                in_bar = true;
            }
            _ => in_bar = false,
        }
    }
    found
}

#[test]
fn the_workbook_prints_to_the_page_width_and_its_bars_read_left_to_right() {
    let app = TestApp::spawn_demo();
    let dir = tempfile::tempdir().unwrap();
    let province = app.login(PROVINCE);
    let (status, _, bytes) = province.get_bytes(&format!(
        "/api/v1/rounds/{}/export/{PROVINCE}.xlsx?chi-tieu=so_thanh_vien",
        app.round_id
    ));
    assert_eq!(status, 200);
    let summary = crate::export::read_summary(&bytes);
    let units = summary.unit_names();
    let (pdf, pages) = print(dir.path(), &bytes);

    // Every sheet fits the page width: the summary, 8 districts, the completeness and the
    // narratives on a page each, the two charts on one each; where it was 31 pages.
    assert_eq!(pages.len(), 13, "{}", pages.len());
    // The summary's totals row is printed whole on its first page: every figure of it.
    let totals = pages[0]
        .lines()
        .find(|l| l.contains("Tổng cộng"))
        .expect("the totals row on the first page");
    let printed = totals.split_whitespace().count() - 2;
    assert_eq!(printed, summary.total_figures(), "{totals}");
    // The table's header rows repeat on every printed page of a sheet.
    let book = zip_text(&bytes, "xl/workbook.xml");
    for sheet in ["Tổng hợp", "Đông Hưng", "Tình hình nộp"] {
        assert!(
            book.contains(&format!("'{sheet}'!$9:$10</definedName>")),
            "{sheet}: no repeated header rows in {book}"
        );
    }

    // The chart by unit: bars grow from a common left edge, top-down in the table's order,
    // each as long as its value.
    let page = pages
        .iter()
        .rposition(|p| p.contains("Số thành viên của Tổ khoa giáo theo đơn vị"))
        .expect("the chart by unit is printed")
        + 1;
    let (w, h, rgb) = render(dir.path(), &pdf, page);
    let found = bars(w, h, &rgb);
    assert_eq!(found.len(), units.len(), "{found:?}");
    let lefts: Vec<usize> = found.iter().map(|b| b.0).collect();
    assert!(
        lefts.iter().max().unwrap() - lefts.iter().min().unwrap() <= 2,
        "bars start at one left edge: {found:?}"
    );
    let per_unit: Vec<f64> = found
        .iter()
        .zip(&units)
        .map(|(b, unit)| (b.1 - b.0) as f64 / summary.row(unit, "so_thanh_vien"))
        .collect();
    let (lo, hi) = per_unit
        .iter()
        .fold((f64::MAX, 0f64), |(lo, hi), x| (lo.min(*x), hi.max(*x)));
    assert!(
        hi / lo < 1.1,
        "bar lengths follow the values in order: {per_unit:?}"
    );
}

fn zip_text(bytes: &[u8], name: &str) -> String {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut text = String::new();
    zip.by_name(name)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}
