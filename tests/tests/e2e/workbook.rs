//! The workbooks as another program reads them: every formula's cached value is what
//! LibreOffice computes from the formula itself (empty results included, so that pandas,
//! openpyxl and file previews show what Excel shows), the charts read left to right, and the
//! sheets print to the page width with their header rows repeated.

use std::io::Cursor;
use std::path::Path;

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
struct Recomputed {
    formulas: usize,
    empty: usize,
    wrong: Vec<String>,
}

/// Compares the cached value of every formula cell of `bytes` with the value LibreOffice
/// computes when it opens the file (set to recalculate everything on load) and saves it again.
fn recompute(dir: &Path, name: &str, bytes: &[u8]) -> Recomputed {
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
