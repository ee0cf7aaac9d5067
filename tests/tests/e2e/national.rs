//! A whole-country installation: the 63 provinces under a national root, the central board
//! opening a round, a commune's report travelling up four levels, and the national rollup.

use std::io::{Cursor, Read};

use calamine::{Reader, Xlsx, open_workbook_from_rs};
use serde_json::json;

use crate::helpers::{COMMUNE, DISTRICT, PROVINCE, TestApp, file_report, full_sections};

const NATION: &str = "VN";

#[test]
fn the_central_board_consolidates_the_whole_country_four_levels_up() {
    let mut app = TestApp::set_up_from(
        &baocao::setup::Source::Country,
        "đồng lúa chín vàng ươm 2026",
    );
    {
        let pool = baocao::db::connect(&app.database).unwrap();
        let mut conn = pool.get().unwrap();
        baocao::seed::demo_accounts(&mut conn).unwrap();
    }
    let nation = app.login(NATION);
    let (_, me) = nation.get("/api/v1/me");
    assert_eq!(me["role"], "national", "{me}");
    assert_eq!(me["unit"]["name"], "Toàn quốc");
    let (status, round) = nation.post(
        "/api/v1/rounds",
        &json!({ "template": "dinh-ky", "period_type": "year", "year": 2025,
                 "commune_deadline": "2099-01-01", "district_deadline": "2099-01-05" }),
    );
    assert_eq!(status, 201, "{round}");
    app.round_id = round["id"].as_i64().unwrap();

    // A commune files; its district accepts; the district reports up to its province, the
    // province to the centre.
    file_report(&app, &app.login(COMMUNE), COMMUNE, 8);
    let district = app.login(DISTRICT);
    assert_eq!(
        district
            .post_empty(&format!("{}/accept", app.report_path(COMMUNE)))
            .0,
        200
    );
    let province = app.login(PROVINCE);
    for (board, unit, above) in [
        (&district, DISTRICT, &province),
        (&province, PROVINCE, &nation),
    ] {
        let own = app.report_path(unit);
        let (_, saved) = board.put(&own, &json!({ "sections": full_sections(), "version": 0 }));
        let (status, sent) = board.post(
            &format!("{own}/submit"),
            &json!({ "version": saved["version"] }),
        );
        assert_eq!(status, 200, "{sent}");
        assert_eq!(sent["values"]["so_thanh_vien"], 8.0, "{unit}: {sent}");
        assert_eq!(above.post_empty(&format!("{own}/accept")).0, 200, "{unit}");
    }
    // The centre sees its 63 provinces, and a foreign province's board does not see the centre.
    let (status, view) = nation.get(&format!("/api/v1/rounds/{}/rollup/{NATION}", app.round_id));
    assert_eq!(status, 200, "{view}");
    let rows = view["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 63);
    assert_eq!(view["total"]["values"]["so_thanh_vien"], 8.0);
    let thai_binh = rows.iter().find(|r| r["unit"]["code"] == PROVINCE).unwrap();
    assert_eq!(thai_binh["status"], "accepted");
    assert_eq!(thai_binh["reports"], 1);
    let leaves = view["total"]["completeness"]["expected"].as_u64().unwrap();
    assert!(leaves >= 10_051, "{leaves}");
    assert_eq!(view["total"]["completeness"]["accepted"], 1);
    assert_eq!(
        province
            .get(&format!("/api/v1/rounds/{}/rollup/{NATION}", app.round_id))
            .0,
        403
    );
    assert_eq!(
        app.login("01")
            .get(&format!(
                "/api/v1/rounds/{}/rollup/{PROVINCE}",
                app.round_id
            ))
            .0,
        403
    );
    // The centre's workbook and draft report carry the central board's header, dated in Hà
    // Nội, as its other documents do.
    let (status, _, bytes) = nation.get_bytes(&format!(
        "/api/v1/rounds/{}/export/{NATION}.xlsx",
        app.round_id
    ));
    assert_eq!(status, 200);
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.as_slice())).unwrap();
    let cells = wb.worksheet_range("Tổng hợp").unwrap();
    let all: Vec<String> = cells.cells().map(|(_, _, d)| d.to_string()).collect();
    assert!(
        all.iter().any(|c| c == "BAN CHẤP HÀNH TRUNG ƯƠNG"),
        "{all:?}"
    );
    assert!(
        all.iter()
            .any(|c| c.starts_with("Số ") && c.ends_with("-BC/BTGTW"))
    );
    assert!(all.iter().any(|c| c.starts_with("Hà Nội, ngày ")));
    let (status, _, bytes) = nation.get_bytes(&format!(
        "/ky-bao-cao/{}/bao-cao-tong-hop/{NATION}.docx",
        app.round_id
    ));
    assert_eq!(status, 200);
    let mut xml = String::new();
    zip::ZipArchive::new(Cursor::new(bytes.as_slice()))
        .unwrap()
        .by_name("word/document.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    for expected in ["BAN CHẤP HÀNH TRUNG ƯƠNG", "-BC/BTGTW", "Hà Nội, ngày "] {
        assert!(xml.contains(expected), "{expected} missing");
    }

    // Past the deadline every commune but one is overdue, and none has a roster: the centre's
    // pages count them all and list the first 200, so that they stay readable and light.
    app.set_vietnam_time(2099, 1, 2, 8, 0, 0);
    let (status, _, page) = nation.page(&format!("/ky-bao-cao/{}/don-vi/{NATION}", app.round_id));
    assert_eq!(status, 200);
    let missing = leaves - 1;
    assert!(page.contains(&format!(
        "Quá hạn chưa nộp ({})",
        baocao::domain::vn::int(missing as i64)
    )));
    assert_eq!(rows_of(&page, "id=\"overdue\""), 200);
    assert!(page.contains(&format!(
        "Còn {} đơn vị quá hạn khác",
        baocao::domain::vn::int(missing as i64 - 200)
    )));
    assert!(page.len() < 600_000, "{} bytes", page.len());
    // The second deadline is the provinces' too in the centre's round, and says so.
    assert!(
        page.contains("· cấp huyện, cấp tỉnh: 23:59 ngày 05/01/2099"),
        "{page}"
    );
    let (_, _, form) = nation.page("/ky-bao-cao/moi");
    assert!(form.contains("Hạn nộp của cấp huyện, cấp tỉnh"));
    let (status, _, page) = nation.page(&format!("/to-khoa-giao/thong-ke/{NATION}"));
    assert_eq!(status, 200);
    assert!(page.contains(&format!(
        "Tổ cần kiện toàn ({})",
        baocao::domain::vn::int(leaves as i64)
    )));
    assert_eq!(rows_of(&page, "id=\"weak-teams\""), 200);
    assert!(page.contains("id=\"weak-more\""));

    // The administrator manages the accounts of the whole country: a search narrows the list,
    // and a new account's unit is typed as its code, not chosen among 10,810.
    let admin = app.client();
    let (status, _) = admin.post(
        "/api/v1/login",
        &json!({ "username": "admin", "password": "đồng lúa chín vàng ươm 2026" }),
    );
    assert_eq!(status, 200);
    let (status, _, page) = admin.page("/tai-khoan");
    assert_eq!(status, 200);
    assert!(page.contains("<input id=\"unit\" name=\"unit\""));
    assert!(!page.contains("<select id=\"unit\""));
    assert!(
        page.contains("còn "),
        "the list says how many are not shown"
    );
    assert!(page.len() < 600_000, "{} bytes", page.len());
    let (_, _, page) = admin.page("/tai-khoan?tim=quynh+phu");
    assert!(page.contains("tài khoản khớp với «quynh phu»"), "{page}");
    assert!(page.contains("Huyện Quỳnh Phụ") && !page.contains("Huyện Hưng Hà"));
    let (status, _, page) = admin.post_form(
        "/tai-khoan/moi",
        &[
            ("unit", "99999"),
            ("full_name", "Lê Văn Bình"),
            ("username", "le.binh"),
        ],
    );
    assert_eq!(status, 422);
    assert!(page.contains("Không có đơn vị mã «99999»"), "{page}");
    assert!(page.contains("value=\"99999\""), "what was typed is kept");
    let (status, _, page) = admin.post_form(
        "/tai-khoan/moi",
        &[
            ("unit", "01"),
            ("full_name", "Lê Văn Bình"),
            ("username", "le.binh"),
        ],
    );
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Thành phố Hà Nội") && page.contains("le.binh"));
    crate::live::every_round_is_exact(&app);
}

/// The rows in the body of the table that `marker` (its id) starts.
fn rows_of(page: &str, marker: &str) -> usize {
    let table = &page[page.find(marker).expect("the table")..];
    let body = &table[table.find("<tbody>").unwrap()..table.find("</tbody>").unwrap()];
    body.matches("<tr").count()
}
