//! The dashboard on a unit page: every figure it draws is the consolidation's, read back from
//! the SVG's data and the page, and checked against the API and the reports themselves.

use std::collections::HashMap;

use serde_json::Value;

use crate::browser::Browser;
use crate::helpers::*;

/// The `<g>` elements of the chart `id` in `html`, each as its attributes.
fn chart_marks(html: &str, id: &str) -> Vec<HashMap<String, String>> {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no chart {id}"));
    let svg = &html[start..start + html[start..].find("</svg>").unwrap()];
    svg.split("<g class=\"")
        .skip(1)
        .map(|g| {
            let tag = &g[..g.find('>').unwrap()];
            let mut attrs = HashMap::new();
            for part in tag.split("\" ") {
                if let Some((k, v)) = part.split_once("=\"") {
                    attrs.insert(k.trim().to_owned(), v.trim_end_matches('"').to_owned());
                }
            }
            attrs
        })
        .collect()
}

/// The text of the element with `id` (its inner HTML up to the element's end, tags dropped).
fn tile(html: &str, id: &str) -> (String, String) {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no tile {id}"));
    let part = &html[start..];
    let inner = |class: &str| {
        let from = part.find(&format!("class=\"{class}\">")).unwrap() + class.len() + 9;
        part[from..from + part[from..].find("</div>").unwrap()].to_owned()
    };
    (inner("tile-value"), inner("tile-detail"))
}

/// A figure as the pages write it ("116.664", "47,7%") as a number.
fn figure(text: &str) -> f64 {
    text.trim()
        .trim_end_matches('%')
        .replace('.', "")
        .replace(',', ".")
        .parse()
        .unwrap_or_else(|_| panic!("not a figure: {text:?}"))
}

fn value(v: &Value) -> Option<f64> {
    v.as_f64()
}

#[test]
fn every_chart_and_tile_is_the_consolidation_and_the_trend_is_each_rounds_own() {
    let app = TestApp::spawn_demo();
    let province = app.login(PROVINCE);
    let round = app.round_id;
    let key = "luot_nguoi_nghe";
    let (status, _, html) = province.page(&format!("/ky-bao-cao/{round}/don-vi/{PROVINCE}"));
    assert_eq!(status, 200);
    let (_, rollup) = province.get(&format!("/api/v1/rounds/{round}/rollup/{PROVINCE}"));
    let rows = rollup["rows"].as_array().unwrap();

    // Completeness by district: each bar's counts are the rollup's.
    let bars = chart_marks(&html, "chart-completeness");
    assert_eq!(bars.len(), rows.len());
    for (bar, row) in bars.iter().zip(rows) {
        let c = &row["completeness"];
        assert_eq!(bar["data-unit"], row["unit"]["code"].as_str().unwrap());
        assert_eq!(bar["data-expected"], c["expected"].to_string());
        assert_eq!(bar["data-accepted"], c["accepted"].to_string());
        let waiting = c["submitted"].as_u64().unwrap() - c["accepted"].as_u64().unwrap();
        assert_eq!(bar["data-waiting"], waiting.to_string());
    }

    // The key figure ranked by district: the rollup's values, highest first.
    let ranked = chart_marks(&html, "chart-ranked");
    let by_code: HashMap<&str, Option<f64>> = rows
        .iter()
        .map(|r| {
            (
                r["unit"]["code"].as_str().unwrap(),
                value(&r["values"][key]),
            )
        })
        .collect();
    let drawn: Vec<f64> = ranked
        .iter()
        .map(|b| {
            let v: f64 = b["data-value"].parse().unwrap();
            assert_eq!(Some(v), by_code[b["data-unit"].as_str()], "{b:?}");
            v
        })
        .collect();
    assert_eq!(drawn.len(), rows.len());
    assert!(drawn.windows(2).all(|w| w[0] >= w[1]), "{drawn:?}");

    // The trend: one column per round of the template, oldest first, each the round's own
    // consolidation as the API gives it.
    let columns = chart_marks(&html, "chart-trend");
    assert_eq!(
        columns.len(),
        6,
        "the demo has five closed rounds before this one"
    );
    let mut ends = Vec::new();
    let mut previous = String::new();
    for c in &columns {
        let id = &c["data-round"];
        let (_, other) = province.get(&format!("/api/v1/rounds/{id}/rollup/{PROVINCE}"));
        let expected = value(&other["total"]["values"][key]).unwrap();
        assert_eq!(
            c["data-value"].parse::<f64>().unwrap(),
            expected,
            "round {id}"
        );
        let (_, r) = province.get(&format!("/api/v1/rounds/{id}"));
        ends.push(r["period_end"].as_str().unwrap().to_owned());
        if r["period_label"] == "6 tháng đầu năm 2024" {
            previous = id.clone();
        }
    }
    assert!(ends.windows(2).all(|w| w[0] < w[1]), "{ends:?}");
    assert_eq!(columns.last().unwrap()["data-round"], round.to_string());

    // The tile: this round's total, and the previous six months over the same communes,
    // summed here from the communes' own reports.
    let (now, detail) = tile(&html, &format!("tile-{key}"));
    assert_eq!(
        figure(&now),
        value(&rollup["total"]["values"][key]).unwrap()
    );
    let mut same = 0;
    let mut before = 0.0;
    for district in rows {
        let code = district["unit"]["code"].as_str().unwrap();
        let (_, view) = province.get(&format!("/api/v1/rounds/{round}/rollup/{code}"));
        for commune in view["rows"].as_array().unwrap() {
            if commune["status"] != "accepted" {
                continue;
            }
            let code = commune["unit"]["code"].as_str().unwrap();
            let (status, report) =
                province.get(&format!("/api/v1/rounds/{previous}/reports/{code}"));
            assert_eq!(status, 200);
            same += 1;
            before += report["values"][key].as_f64().unwrap();
        }
    }
    assert!(
        detail.contains(&format!("6 tháng đầu năm 2024, cùng {same} đơn vị")),
        "{detail}"
    );
    assert_eq!(
        figure(detail.rsplit(": ").next().unwrap()),
        before,
        "{detail}"
    );

    // The fields × districts table: the propaganda sessions per field, the rollup's.
    let fields = [
        "tt_giao_duc",
        "tt_khcn",
        "tt_moi_truong",
        "tt_y_te",
        "tt_dan_so",
        "tt_vsattp",
        "tt_khuyen_hoc",
        "tt_xa_hoi",
    ];
    let table = &html[html.find("id=\"fields\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    let body_rows: Vec<&str> = table.split("<tr>").skip(2).collect();
    assert_eq!(body_rows.len(), rows.len());
    for (tr, row) in body_rows.iter().zip(rows) {
        assert!(tr.contains(row["unit"]["name"].as_str().unwrap()));
        let cells: Vec<f64> = tr
            .split("<td class=\"num\"")
            .skip(1)
            .map(|td| {
                let inner = &td[td.find('>').unwrap() + 1..td.find("</td>").unwrap()];
                // Each cell leads to the unit, as its row's name does.
                let link = &inner[..inner.find('>').unwrap() + 1];
                assert!(link.starts_with("<a href=\"/ky-bao-cao/"), "{inner}");
                figure(&inner[link.len()..inner.find("</a>").unwrap()])
            })
            .collect();
        let expected: Vec<f64> = fields
            .iter()
            .map(|k| value(&row["values"][k]).unwrap())
            .collect();
        assert_eq!(cells, expected, "{}", row["unit"]["name"]);
    }

    // Another indicator chosen, and its chart as a file for a meeting.
    let (status, ctype, bytes) = province.get_bytes(&format!(
        "/ky-bao-cao/{round}/don-vi/{PROVINCE}/bieu-do/xep-hang.svg?chi-tieu=so_de_xuat"
    ));
    assert_eq!(status, 200);
    assert!(ctype.starts_with("image/svg+xml"), "{ctype}");
    let svg = String::from_utf8(bytes).unwrap();
    assert!(svg.starts_with("<?xml"));
    for b in chart_marks(&svg, "chart-ranked") {
        let row = rows
            .iter()
            .find(|r| r["unit"]["code"] == b["data-unit"].as_str())
            .unwrap();
        assert_eq!(
            Some(b["data-value"].parse::<f64>().unwrap()),
            value(&row["values"]["so_de_xuat"])
        );
    }
    let (_, headers) = province.headers(&format!(
        "/ky-bao-cao/{round}/don-vi/{PROVINCE}/bieu-do/xu-huong.svg"
    ));
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("xu-huong-{PROVINCE}-ky-{round}.svg"))
    );

    // A district sees its own dashboard, not the province's nor a neighbour's.
    let district = app.login(DISTRICT);
    for code in [PROVINCE, OTHER_DISTRICT] {
        let (status, _, _) = district.get_bytes(&format!(
            "/ky-bao-cao/{round}/don-vi/{code}/bieu-do/tinh-hinh-nop.svg"
        ));
        assert_eq!(status, 403, "{code}");
    }
    let (status, _, own) = district.page(&format!("/ky-bao-cao/{round}/don-vi/{DISTRICT}"));
    assert_eq!(status, 200);
    assert_eq!(chart_marks(&own, "chart-completeness").len(), 35);
}

#[test]
fn the_dashboard_reads_at_desktop_and_phone_width_and_its_bars_lead_down() {
    let app = TestApp::spawn_demo();
    let browser = Browser::start();
    browser.login(&app.base, PROVINCE);
    let page = format!("{}/ky-bao-cao/{}/don-vi/{PROVINCE}", app.base, app.round_id);
    // The home's work queue leads to the dashboard.
    browser.click(&format!("#dashboard-link-{}", app.round_id));
    browser.wait_for("#dashboard");
    assert!(browser.url().starts_with(&page), "{}", browser.url());
    // At desktop width the four status tiles share a row, and the charts sit side by side,
    // all above the tables.
    let layout = browser.eval(
        "const top = (s) => document.querySelector(s).getBoundingClientRect().top;
         const tiles = [...document.querySelectorAll('.tile')].slice(0, 4).map(t => t.getBoundingClientRect().top);
         const cards = [...document.querySelectorAll('.chart-card')].map(c => c.getBoundingClientRect().top);
         return { tiles, cards, ranked: top('#chart-ranked'), table: top('#completeness') };",
    );
    let tiles: Vec<f64> = layout["tiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_f64().unwrap())
        .collect();
    assert!(tiles.iter().all(|t| (t - tiles[0]).abs() < 1.0), "{layout}");
    let cards = layout["cards"].as_array().unwrap();
    assert_eq!(cards.len(), 3, "{layout}");
    assert!(cards.iter().all(|c| c == &cards[0]), "{layout}");
    assert!(layout["table"].as_f64().unwrap() > layout["ranked"].as_f64().unwrap());
    browser.screenshot("desktop-dashboard");

    // Printed for a meeting: the charts and tiles are on paper, the buttons and links not.
    let pdf = browser.call(
        "POST",
        "/print",
        Some(serde_json::json!({ "background": true, "shrinkToFit": true })),
    );
    use base64::Engine as _;
    let pdf = base64::engine::general_purpose::STANDARD
        .decode(pdf.as_str().unwrap())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dashboard.pdf");
    std::fs::write(&file, &pdf).unwrap();
    if let Some(keep) = std::env::var_os("BAOCAO_SCREENSHOTS") {
        std::fs::copy(&file, std::path::Path::new(&keep).join("dashboard.pdf")).unwrap();
    }
    let text = std::process::Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is not installed: run ./scripts/test");
    let text = String::from_utf8(text.stdout).unwrap();
    for part in [
        "Tổng quan",
        "Tỷ lệ nộp",
        "Tình hình nộp báo cáo theo đơn vị",
        "Huyện Quỳnh Phụ",
    ] {
        assert!(text.contains(part), "the print lacks «{part}»");
    }
    for part in ["Tải biểu đồ (SVG)", "Đăng xuất", "Xem"] {
        assert!(!text.contains(part), "the print shows «{part}»");
    }

    // On a phone the same page fits the screen, and a district's bar leads to its page.
    browser.resize(390, 844);
    browser.go(&page);
    browser.wait_for("#dashboard");
    let width = browser.eval(
        "return [document.documentElement.scrollWidth, innerWidth,
                 document.querySelector('#chart-ranked').getBoundingClientRect().right];",
    );
    let w = width.as_array().unwrap();
    assert!(
        w[0].as_f64() <= w[1].as_f64() && w[2].as_f64() <= w[1].as_f64(),
        "{width}"
    );
    browser.screenshot("phone-dashboard");
    browser.click(&format!("#chart-ranked a[href$='/don-vi/{DISTRICT}']"));
    browser.wait_for(&format!(
        "#chart-completeness a[href$='/bao-cao/{COMMUNE}']"
    ));
    assert!(
        browser.url().ends_with(&format!("/don-vi/{DISTRICT}")),
        "{}",
        browser.url()
    );
}

#[test]
fn the_comparison_gives_the_change_and_warns_when_the_periods_differ_in_kind() {
    let app = TestApp::spawn_demo();
    let province = app.login(PROVINCE);
    let round = app.round_id;
    let (_, rounds) = province.get("/api/v1/rounds");
    let find = |kind: &str, year: i64| {
        rounds["rounds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| {
                r["period_type"] == kind
                    && r["period_label"]
                        .as_str()
                        .unwrap()
                        .ends_with(&year.to_string())
            })
            .unwrap_or_else(|| panic!("{kind} {year}: {rounds}"))["id"]
            .as_i64()
            .unwrap()
    };
    let half_2024 = find("half_year", 2024);
    let year_2024 = find("year", 2024);
    let key = "luot_nguoi_nghe";
    let (_, same) = province.get(&format!(
        "/api/v1/rounds/{round}/compare/{half_2024}/{PROVINCE}"
    ));
    assert!(same["kind_warning"].is_null(), "{same}");
    let now = same["total"]["values"][key].as_f64().unwrap();
    let before = same["total"]["other_values"][key].as_f64().unwrap();
    let (status, _, html) = province.page(&format!(
        "/ky-bao-cao/{round}/so-sanh/{PROVINCE}?voi={half_2024}&chi-tieu={key}"
    ));
    assert_eq!(status, 200);
    assert!(!html.contains("kind-warning"));
    // The change and its percentage, as the page writes them, are the API's figures'.
    let row = html
        .split("<tr>")
        .find(|tr| tr.contains(&format!("chi-tieu={key}\"")))
        .unwrap();
    let cells: Vec<&str> = row
        .split("<td class=\"num")
        .skip(1)
        .map(|td| &td[td.find('>').unwrap() + 1..td.find("</td>").unwrap()])
        .collect();
    let delta = now - before;
    assert_eq!(figure(cells[2].trim_start_matches('+')), delta, "{row}");
    let pct = format!("{:.1}", delta / before * 100.0).replace('.', ",");
    assert!(cells[3].ends_with(&format!("{pct}%")), "{row} {pct}");

    let (_, other) = province.get(&format!(
        "/api/v1/rounds/{round}/compare/{year_2024}/{PROVINCE}"
    ));
    assert!(
        other["kind_warning"]
            .as_str()
            .is_some_and(|w| w.contains("6 tháng đầu năm 2025") && w.contains("Năm 2024")),
        "{other}"
    );
    let (_, _, html) = province.page(&format!(
        "/ky-bao-cao/{round}/so-sanh/{PROVINCE}?voi={year_2024}"
    ));
    assert!(html.contains("id=\"kind-warning\""));
}

#[test]
fn a_change_in_a_closed_round_reaches_the_trend_that_was_drawn_before_it() {
    let app = TestApp::spawn_demo();
    let province = app.login(PROVINCE);
    let key = "luot_nguoi_nghe";
    let page = format!("/ky-bao-cao/{}/don-vi/{PROVINCE}", app.round_id);
    let column = |html: &str, round: &str| -> f64 {
        chart_marks(html, "chart-trend")
            .into_iter()
            .find(|c| c["data-round"] == round)
            .unwrap_or_else(|| panic!("no column for round {round}"))["data-value"]
            .parse()
            .unwrap()
    };
    // Drawn once (and kept), then an earlier round is reopened and one report in it mended.
    let (_, _, before) = province.page(&page);
    let old = chart_marks(&before, "chart-trend")[3]["data-round"].clone();
    let was = column(&before, &old);
    assert_eq!(
        province
            .post_empty(&format!("/api/v1/rounds/{old}/reopen"))
            .0,
        204
    );
    let district = app.login(DISTRICT);
    let path = format!("/api/v1/rounds/{old}/reports/{COMMUNE}");
    let (status, _) = district.post(
        &format!("{path}/reopen"),
        &serde_json::json!({ "reason": "Số lượt người nghe bị thiếu một buổi." }),
    );
    assert_eq!(status, 200);
    let commune = app.login(COMMUNE);
    let (_, report) = commune.get(&path);
    let mut values = report["values"].clone();
    let before_value = values[key].as_i64().unwrap();
    values[key] = serde_json::json!(before_value + 1000);
    let (status, saved) = commune.put(
        &path,
        &serde_json::json!({ "values": values, "sections": report["sections"], "version": report["version"] }),
    );
    assert_eq!(status, 200, "{saved}");
    let (status, sent) = commune.post(
        &format!("{path}/submit"),
        &serde_json::json!({ "version": saved["version"] }),
    );
    assert_eq!(status, 200, "{sent}");
    assert_eq!(district.post_empty(&format!("{path}/accept")).0, 200);

    let (_, _, after) = province.page(&page);
    let now = column(&after, &old);
    assert_eq!(now, was + 1000.0);
    let (_, rollup) = province.get(&format!("/api/v1/rounds/{old}/rollup/{PROVINCE}"));
    assert_eq!(value(&rollup["total"]["values"][key]), Some(now));
}
