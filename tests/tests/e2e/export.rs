//! The consolidated workbook, read back with calamine: every total is the sum of what was
//! filed, formulas carry their true cached values, the document header is the Party's.

use std::collections::HashMap;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use report_schemas::{IndicatorKind, Template};

use crate::helpers::*;

pub fn template() -> Template {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../report-schemas/schemas/dinh-ky.toml"
    );
    Template::parse(&std::fs::read_to_string(path).unwrap(), "dinh-ky.toml").unwrap()
}

const HEADER_ROW: u32 = 9;
const FIRST_DATA_ROW: u32 = 10;

/// One consolidation sheet: unit name → row, indicator key → column.
pub struct Sheet {
    cells: calamine::Range<Data>,
    formulas: calamine::Range<String>,
    columns: HashMap<String, u32>,
    rows: HashMap<String, u32>,
    total_row: u32,
}

fn number(d: Option<&Data>) -> f64 {
    match d {
        Some(Data::Float(f)) => *f,
        Some(Data::Int(i)) => *i as f64,
        Some(Data::Empty) | None => 0.0,
        other => panic!("not a number: {other:?}"),
    }
}

fn text(d: Option<&Data>) -> String {
    match d {
        Some(Data::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

impl Sheet {
    fn read(wb: &mut Xlsx<Cursor<&[u8]>>, name: &str) -> Sheet {
        let cells = wb.worksheet_range(name).unwrap();
        let formulas = wb.worksheet_formula(name).unwrap();
        let t = template();
        let mut columns = HashMap::new();
        for ind in &t.indicators {
            if matches!(ind.kind, IndicatorKind::Choice { .. }) {
                continue;
            }
            let col = (0..200u32)
                .find(|&c| {
                    text(cells.get_value((HEADER_ROW, c))).starts_with(&ind.label)
                        && !text(cells.get_value((HEADER_ROW, c)))[ind.label.len()..]
                            .starts_with(|ch: char| ch.is_alphabetic())
                })
                .unwrap_or_else(|| panic!("no column for {}", ind.key));
            columns.insert(ind.key.clone(), col);
        }
        let mut rows = HashMap::new();
        let mut r = FIRST_DATA_ROW;
        loop {
            let name = text(cells.get_value((r, 1)));
            if name == "Tổng cộng" {
                break;
            }
            assert!(!name.is_empty(), "no totals row in {r}");
            rows.insert(name, r);
            r += 1;
        }
        Sheet {
            cells,
            formulas,
            columns,
            rows,
            total_row: r,
        }
    }

    pub fn total(&self, key: &str) -> f64 {
        number(self.cells.get_value((self.total_row, self.columns[key])))
    }

    pub fn row(&self, unit: &str, key: &str) -> f64 {
        number(self.cells.get_value((self.rows[unit], self.columns[key])))
    }

    pub fn formula(&self, row: u32, key: &str) -> String {
        self.formulas
            .get_value((row, self.columns[key]))
            .cloned()
            .unwrap_or_default()
    }

    /// How many cells of the totals row hold a figure.
    pub fn total_figures(&self) -> usize {
        (2..self.cells.width() as u32)
            .filter(|&c| {
                !matches!(
                    self.cells.get_value((self.total_row, c)),
                    None | Some(Data::Empty)
                ) && !text(self.cells.get_value((self.total_row, c))).is_empty()
            })
            .count()
    }

    pub fn unit_names(&self) -> Vec<String> {
        let mut rows: Vec<(&String, &u32)> = self.rows.iter().collect();
        rows.sort_by_key(|(_, r)| **r);
        rows.into_iter().map(|(n, _)| n.clone()).collect()
    }
}

pub fn read_summary(bytes: &[u8]) -> Sheet {
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    Sheet::read(&mut wb, "Tổng hợp")
}

fn sum_keys() -> Vec<String> {
    template()
        .indicators
        .iter()
        .filter(|i| {
            matches!(
                i.aggregate,
                report_schemas::Aggregate::Sum | report_schemas::Aggregate::CountYes
            )
        })
        .map(|i| i.key.clone())
        .collect()
}

#[test]
fn every_total_in_the_province_workbook_is_the_sum_of_what_communes_filed() {
    let app = TestApp::spawn_demo();
    let province = app.login(PROVINCE);
    let (status, ctype, bytes) = province.get_bytes(&format!(
        "/api/v1/rounds/{}/export/{PROVINCE}.xlsx",
        app.round_id
    ));
    assert_eq!(status, 200);
    assert!(ctype.contains("spreadsheetml"));

    // What was filed: every accepted commune report, read one by one over the API.
    let (_, top) = province.get(&format!(
        "/api/v1/rounds/{}/rollup/{PROVINCE}",
        app.round_id
    ));
    let mut filed: HashMap<String, f64> = HashMap::new();
    let mut per_district: HashMap<String, HashMap<String, f64>> = HashMap::new();
    let mut accepted = 0;
    for district in top["rows"].as_array().unwrap() {
        let code = district["unit"]["code"].as_str().unwrap();
        let (_, view) = province.get(&format!("/api/v1/rounds/{}/rollup/{code}", app.round_id));
        for commune in view["rows"].as_array().unwrap() {
            if commune["status"] != "accepted" {
                continue;
            }
            accepted += 1;
            let (status, report) =
                province.get(&app.report_path(commune["unit"]["code"].as_str().unwrap()));
            assert_eq!(status, 200);
            for key in sum_keys() {
                let v = match &report["values"][&key] {
                    serde_json::Value::Bool(b) => f64::from(u8::from(*b)),
                    other => other.as_f64().unwrap_or(0.0),
                };
                *filed.entry(key.clone()).or_default() += v;
                *per_district
                    .entry(district["unit"]["name"].as_str().unwrap().to_owned())
                    .or_default()
                    .entry(key)
                    .or_default() += v;
            }
        }
    }
    assert!(
        accepted > 50,
        "the demo should have many accepted reports, has {accepted}"
    );

    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.as_slice())).unwrap();
    let names = wb.sheet_names();
    for expected in [
        "Tổng hợp",
        "Tình hình nộp",
        "Thuyết minh",
        "Quỳnh Phụ",
        "Thái Bình",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    let summary = Sheet::read(&mut wb, "Tổng hợp");
    for key in sum_keys() {
        let total = summary.total(&key);
        assert!(
            (total - filed[&key]).abs() < 1e-6,
            "{key}: {total} vs {}",
            filed[&key]
        );
        let rows: f64 = summary
            .unit_names()
            .iter()
            .map(|u| summary.row(u, &key))
            .sum();
        assert!(
            (rows - total).abs() < 1e-6,
            "{key}: rows {rows} vs total {total}"
        );
        let formula = summary.formula(summary.total_row, &key);
        assert!(formula.contains("SUM("), "{key}: {formula}");
        for (district, sums) in &per_district {
            assert!(
                (summary.row(district, &key) - sums[&key]).abs() < 1e-6,
                "{district} {key}"
            );
        }
    }
    // Ratios are recomputed from the summed parts, never summed or averaged.
    let ratio = summary.total("ty_le_kiem_nhiem");
    let expected = filed["so_kiem_nhiem"] / filed["so_thanh_vien"] * 100.0;
    assert!((ratio - expected).abs() < 1e-9, "{ratio} vs {expected}");
    assert!(
        summary
            .formula(summary.total_row, "ty_le_kiem_nhiem")
            .contains('/')
    );
    // Averages are taken over communes, through the district sheets.
    assert!(
        summary
            .formula(summary.total_row, "diem_tu_cham")
            .contains("'Quỳnh Phụ'!")
    );

    // Units in Vietnamese order: "Huyện Đông Hưng" after "Huyện Tiền Hải"? No: Đ follows D.
    let names = summary.unit_names();
    let pos = |n: &str| names.iter().position(|x| x == n).unwrap();
    assert!(pos("Huyện Đông Hưng") < pos("Huyện Hưng Hà"));
    assert!(pos("Huyện Vũ Thư") < pos("Thành phố Thái Bình"));

    // A district sheet: its communes and its own totals.
    let district = Sheet::read(&mut wb, "Quỳnh Phụ");
    assert_eq!(district.unit_names().len(), 35);
    assert_eq!(
        district.total("so_thanh_vien"),
        per_district["Huyện Quỳnh Phụ"]["so_thanh_vien"]
    );

    // The Party document header.
    let cells = wb.worksheet_range("Tổng hợp").unwrap();
    let all: Vec<String> = cells.cells().map(|(_, _, d)| text(Some(d))).collect();
    for expected in [
        "TỈNH ỦY THÁI BÌNH",
        "BAN TUYÊN GIÁO",
        "ĐẢNG CỘNG SẢN VIỆT NAM",
        "*",
        "BÁO CÁO",
    ] {
        assert!(all.iter().any(|c| c == expected), "{expected} missing");
    }
    assert!(
        all.iter()
            .any(|c| c.starts_with("Số ") && c.ends_with("-BC/BTGTU"))
    );
    assert!(all.iter().any(|c| c.starts_with("Thái Bình, ngày ")));

    // Completeness: 242 communes expected, never more than 100%.
    let comp = wb.worksheet_range("Tình hình nộp").unwrap();
    let total_row = (FIRST_DATA_ROW..FIRST_DATA_ROW + 20)
        .find(|&r| text(comp.get_value((r, 1))) == "Tổng cộng")
        .unwrap();
    assert_eq!(number(comp.get_value((total_row, 2))), 242.0);
    let rate = number(comp.get_value((total_row, 8)));
    assert!(rate > 0.0 && rate <= 1.0, "{rate}");
}

#[test]
fn the_export_has_native_charts_of_completeness_and_a_chosen_indicator() {
    use std::io::Read;
    let app = TestApp::spawn_demo();
    let province = app.login(PROVINCE);
    let (status, _, bytes) = province.get_bytes(&format!(
        "/api/v1/rounds/{}/export/{PROVINCE}.xlsx?chi-tieu=luot_nguoi_nghe",
        app.round_id
    ));
    assert_eq!(status, 200);
    let wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.as_slice())).unwrap();
    assert!(wb.sheet_names().iter().any(|n| n == "Biểu đồ"));
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut charts = Vec::new();
    for i in 0..zip.len() {
        let mut file = zip.by_index(i).unwrap();
        if file.name().unwrap().starts_with("xl/charts/chart") {
            let mut xml = String::new();
            file.read_to_string(&mut xml).unwrap();
            charts.push(xml);
        }
    }
    assert_eq!(charts.len(), 2, "two charts");
    let all = charts.join("\n");
    assert!(
        all.contains("'Tình hình nộp'!$I$11:$I$18"),
        "completeness rate of the 8 districts"
    );
    assert!(
        all.contains("Số lượt người nghe tuyên truyền"),
        "the chosen indicator"
    );
}
