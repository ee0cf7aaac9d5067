//! A unit's series across the rounds of the template: each point is that round's own
//! consolidation, beside the same period a year before; the page, the JSON and the workbook
//! (its formulas cache what LibreOffice computes, its chart is a native line chart) agree.

use std::io::{Cursor, Read};

use calamine::{Data, DataType, Reader, Xlsx, open_workbook_from_rs};

use crate::helpers::*;
use crate::workbook::recompute;

#[test]
fn a_series_is_each_rounds_own_figure_beside_the_same_period_a_year_before() {
    let app = TestApp::spawn_demo();
    let round = app.round_id;
    let province = app.login(PROVINCE);
    let key = "luot_nguoi_nghe";
    let (status, s) = province.get(&format!(
        "/api/v1/rounds/{round}/series/{PROVINCE}?chi-tieu={key}"
    ));
    assert_eq!(status, 200, "{s}");
    let points = s["points"].as_array().unwrap();
    assert_eq!(points.len(), 6);
    let mut by_label = std::collections::HashMap::new();
    for p in points {
        let id = p["round_id"].as_i64().unwrap();
        let (_, rollup) = province.get(&format!("/api/v1/rounds/{id}/rollup/{PROVINCE}"));
        assert_eq!(p["value"], rollup["total"]["values"][key], "round {id}");
        by_label.insert(p["period_label"].as_str().unwrap().to_owned(), p.clone());
    }
    // Year over year: six months with six months, a year with a year.
    let pair = |now: &str, before: &str| {
        let p = &by_label[now];
        let b = &by_label[before];
        assert_eq!(p["year_before"][0], b["round_id"], "{now}");
        assert_eq!(p["year_before"][1], b["value"], "{now}");
    };
    pair("6 tháng đầu năm 2025", "6 tháng đầu năm 2024");
    pair("6 tháng đầu năm 2024", "6 tháng đầu năm 2023");
    pair("Năm 2024", "Năm 2023");
    assert!(by_label["Năm 2023"]["year_before"].is_null());
    assert!(s["note"].as_str().unwrap().contains("quy đổi"));

    // The page tables the same; the workbook too, with live formulas and a line chart.
    let (status, _, html) = province.page(&format!(
        "/ky-bao-cao/{round}/xu-huong/{PROVINCE}?chi-tieu={key}"
    ));
    assert_eq!(status, 200);
    assert_eq!(html.matches("class=\"column\"").count(), 6);
    let (status, ctype, bytes) = province.get_bytes(&format!(
        "/ky-bao-cao/{round}/xu-huong/{PROVINCE}.xlsx?chi-tieu={key}"
    ));
    assert_eq!(status, 200);
    assert!(ctype.contains("spreadsheetml"));
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.as_slice())).unwrap();
    let sheet = wb.worksheet_range("Chuỗi số liệu").unwrap();
    for (i, p) in points.iter().enumerate() {
        let row = 4 + i as u32;
        assert_eq!(
            sheet.get_value((row, 0)),
            Some(&Data::String(
                p["period_label"].as_str().unwrap().to_owned()
            ))
        );
        assert_eq!(
            sheet.get_value((row, 2)).and_then(|d| d.as_f64()),
            p["value"].as_f64()
        );
        let change = match (p["value"].as_f64(), p["year_before"][1].as_f64()) {
            (Some(v), Some(b)) => Some(v - b),
            _ => None,
        };
        let cached = match sheet.get_value((row, 5)) {
            Some(Data::Float(f)) => Some(*f),
            _ => None,
        };
        assert_eq!(cached, change, "row {row}");
    }
    let dir = tempfile::tempdir().unwrap();
    let checked = recompute(dir.path(), "series.xlsx", &bytes);
    assert!(checked.wrong.is_empty(), "{:?}", checked.wrong);
    assert_eq!(checked.formulas, 12);
    assert!(checked.empty > 0, "the first rounds have no year before");
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes.as_slice())).unwrap();
    let mut chart = String::new();
    zip.by_name("xl/charts/chart1.xml")
        .unwrap()
        .read_to_string(&mut chart)
        .unwrap();
    assert!(chart.contains("<c:lineChart>"), "a native line chart");

    // A commune sees its own series (its accepted reports, one by one), not its district's.
    let commune = app.login(COMMUNE);
    let (status, own) = commune.get(&format!(
        "/api/v1/rounds/{round}/series/{COMMUNE}?chi-tieu={key}"
    ));
    assert_eq!(status, 200, "{own}");
    for p in own["points"].as_array().unwrap() {
        let id = p["round_id"].as_i64().unwrap();
        let (_, report) = province.get(&format!("/api/v1/rounds/{id}/reports/{COMMUNE}"));
        if report["status"] == "accepted" {
            assert_eq!(
                p["value"].as_f64(),
                report["values"][key].as_f64(),
                "round {id}"
            );
        } else {
            assert!(
                p["value"].is_null(),
                "round {id}: only accepted reports count"
            );
        }
    }
    let (status, _, html) = commune.page(&format!("/ky-bao-cao/{round}/xu-huong/{COMMUNE}"));
    assert_eq!(status, 200);
    assert!(html.contains("id=\"key-figures\""));
    let (status, _) = commune.get(&format!("/api/v1/rounds/{round}/series/{DISTRICT}"));
    assert_eq!(status, 403);
}
