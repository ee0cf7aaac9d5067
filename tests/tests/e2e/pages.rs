//! The HTML pages over HTTP, as a browser without JavaScript uses them: forms, redirects,
//! errors beside their fields, and the same authorization as the API.

use crate::helpers::*;

pub fn page_login(app: &TestApp, user: &str) -> Client {
    let client = app.client();
    let (status, location, _) =
        client.post_form("/dang-nhap", &[("username", user), ("password", "demo")]);
    assert_eq!(status, 303, "login {user}");
    assert_eq!(location, "/ky-bao-cao");
    client
}

pub fn form_fields(values: &serde_json::Value) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = values
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::Bool(true) => "co".to_owned(),
                serde_json::Value::Bool(false) => "khong".to_owned(),
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string().replace('.', ","),
            };
            (format!("v.{k}"), text)
        })
        .collect();
    for (k, v) in full_sections().as_object().unwrap() {
        fields.push((format!("s.{k}"), v.as_str().unwrap().to_owned()));
    }
    fields
}

#[test]
fn pages_send_strangers_to_the_login_page_and_a_wrong_password_back_to_it() {
    let app = TestApp::spawn();
    let anon = app.client();
    for path in [
        "/",
        "/ky-bao-cao",
        &format!("/ky-bao-cao/{}/bao-cao/{COMMUNE}", app.round_id),
    ] {
        let (status, location, _) = anon.page(path);
        assert_eq!(status, 303, "{path}");
        assert_eq!(location, "/dang-nhap", "{path}");
    }
    let (status, _, html) =
        anon.post_form("/dang-nhap", &[("username", COMMUNE), ("password", "sai")]);
    assert_eq!(status, 401);
    assert!(html.contains("Tên đăng nhập hoặc mật khẩu không đúng."));
    assert!(
        html.contains(&format!("value=\"{COMMUNE}\"")),
        "the name typed is kept"
    );
    let (status, _, html) = anon.page("/dang-nhap");
    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"vi\">"));
}

#[test]
fn the_form_shows_each_error_beside_its_field_keeps_what_was_typed_and_saves_nothing() {
    let app = TestApp::spawn();
    let commune = page_login(&app, COMMUNE);
    let path = format!("/ky-bao-cao/{}/bao-cao/{COMMUNE}", app.round_id);
    let mut fields = form_fields(&full_values(9));
    for (k, v) in &mut fields {
        if k == "v.so_nu" {
            *v = "<b>chín</b>".into();
        }
        if k == "v.so_dai_hoc" {
            *v = "12".into();
        }
    }
    fields.push(("version".into(), "0".into()));
    fields.push(("action".into(), "submit".into()));
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let (status, _, html) = commune.post_form(&path, &borrowed);
    assert_eq!(status, 422);
    assert!(html.contains("id=\"err-so_nu\""), "error beside so_nu");
    assert!(html.contains("«Số thành viên nữ» phải là một số."));
    // The summary counts the problems, links each to its field and takes the focus.
    assert!(html.contains("Có 1 lỗi cần sửa"), "{html}");
    assert!(html.contains("<a href=\"#v-so_nu\">«Số thành viên nữ» phải là một số.</a>"));
    assert!(html.contains("id=\"summary\" tabindex=\"-1\" role=\"alert\" autofocus"));
    // A figure that is no figure stops the save; the broken rule only stops a submission.
    assert!(!html.contains("id=\"err-so_dai_hoc\""));
    let input: String = html[html.find("id=\"v-so_nu\"").unwrap()..]
        .chars()
        .take(120)
        .collect();
    assert!(
        input.contains("&#60;b&#62;chín&#60;/b&#62;"),
        "typed text is kept, escaped: {input}"
    );
    assert!(!html.contains("<b>chín</b>"));
    let (_, report) = app.login(COMMUNE).get(&app.report_path(COMMUNE));
    assert_eq!(report["status"], "not_started", "nothing was saved");

    // Fixed, it saves and submits, and the page says so.
    let fields: Vec<(String, String)> = form_fields(&full_values(9))
        .into_iter()
        .chain([
            ("version".into(), "0".into()),
            ("action".into(), "submit".into()),
        ])
        .collect();
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    // Saved, then the submission is confirmed on its own page (no JavaScript needed).
    let (status, location, _) = commune.post_form(&path, &borrowed);
    assert_eq!(status, 303);
    assert_eq!(location, format!("{path}/nop"));
    let (_, report) = app.login(COMMUNE).get(&app.report_path(COMMUNE));
    assert_eq!(report["status"], "draft", "saved, not yet submitted");
    let (status, _, question) = commune.page(&location);
    assert_eq!(status, 200);
    assert!(
        question.contains("Nộp báo cáo của Xã An Khê lên cấp trên?"),
        "{question}"
    );
    assert!(question.contains("Thuyết minh: đã viết"));
    let version = report["version"].to_string();
    let (status, location, _) = commune.post_form(
        &format!("{path}/nop"),
        &[("version", version.as_str()), ("confirm", "1")],
    );
    assert_eq!(status, 303);
    assert_eq!(location, format!("{path}?ok=nop"));
    let (_, _, html) = commune.page(&location);
    assert!(html.contains("Đã nộp báo cáo."));
    assert!(html.contains("Đã nộp, chờ tiếp nhận"));
    assert!(!html.contains("id=\"submit\""));
}

#[test]
fn a_district_returns_and_accepts_through_the_page_and_a_stranger_cannot() {
    let app = TestApp::spawn();
    file_report(&app, &app.login(COMMUNE), COMMUNE, 8);
    let path = format!("/ky-bao-cao/{}/bao-cao/{COMMUNE}", app.round_id);

    // Another district sees nothing of it, and cannot act on it.
    let stranger = page_login(&app, OTHER_DISTRICT);
    let (status, _, html) = stranger.page(&path);
    assert_eq!(status, 403);
    assert!(html.contains("Không có quyền truy cập"));
    let (status, _, _) = stranger.post_form(&format!("{path}/tiep-nhan"), &[]);
    assert_eq!(status, 403);
    let (status, _, _) = stranger.page(&format!("/ky-bao-cao/{}/don-vi/{DISTRICT}", app.round_id));
    assert_eq!(status, 403);

    let district = page_login(&app, DISTRICT);
    let (status, _, html) = district.page(&path);
    assert_eq!(status, 200);
    assert!(html.contains("Xem xét báo cáo"));
    // A return without a reason is refused on the page, and nothing changes.
    let (status, _, html) = district.post_form(&format!("{path}/tra-lai"), &[("reason", " ")]);
    assert_eq!(status, 422);
    assert!(html.contains("Xin ghi rõ lý do trả lại"));
    // The return is confirmed first, its reason shown back; until then nothing changes.
    let (status, _, question) = district.post_form(
        &format!("{path}/tra-lai"),
        &[("reason", "Thiếu phần tồn tại, hạn chế.")],
    );
    assert_eq!(status, 200);
    assert!(question.contains("Trả lại báo cáo của Xã An Khê để đơn vị sửa?"));
    assert!(question.contains("Lý do: Thiếu phần tồn tại, hạn chế."));
    assert_eq!(
        app.login(COMMUNE).get(&app.report_path(COMMUNE)).1["status"],
        "submitted"
    );
    let (status, location, _) = district.post_form(
        &format!("{path}/tra-lai"),
        &[("reason", "Thiếu phần tồn tại, hạn chế."), ("confirm", "1")],
    );
    assert_eq!(status, 303);
    let (_, _, html) = district.page(&location);
    assert!(html.contains("Đã trả lại báo cáo kèm lý do."));
    let commune = page_login(&app, COMMUNE);
    let (_, _, html) = commune.page(&path);
    assert!(
        html.contains("Thiếu phần tồn tại, hạn chế."),
        "the commune reads the reason"
    );
    assert!(html.contains("Lịch sử xử lý"));

    // Resubmitted through the API, accepted through the page.
    let api = app.login(COMMUNE);
    let (_, current) = api.get(&app.report_path(COMMUNE));
    let (status, _) = api.post(
        &format!("{}/submit", app.report_path(COMMUNE)),
        &serde_json::json!({ "version": current["version"] }),
    );
    assert_eq!(status, 200);
    let (status, _, _) = district.post_form(&format!("{path}/tiep-nhan"), &[]);
    assert_eq!(status, 303);
    let (_, _, html) = district.page(&format!("/ky-bao-cao/{}/don-vi/{DISTRICT}", app.round_id));
    assert!(html.contains("Đã tiếp nhận"));
    assert!(html.contains("Xã An Khê"));
}

#[test]
fn boards_open_rounds_through_the_form_and_a_district_is_offered_thematic_templates_only() {
    let app = TestApp::spawn();
    let province = page_login(&app, PROVINCE);
    let (status, _, html) = province.page("/ky-bao-cao/moi");
    assert_eq!(status, 200);
    assert!(html.contains("value=\"dinh-ky\""));
    let fields = [
        ("template", "dinh-ky"),
        ("period_type", "quarter"),
        ("year", "2026"),
        ("index", "7"),
        ("orientation", "Tập trung tuyên truyền phòng chống dịch."),
        ("tasks", "Nhiệm vụ một\nNhiệm vụ hai"),
    ];
    let (status, _, html) = province.post_form("/ky-bao-cao/moi", &fields);
    assert_eq!(status, 422);
    assert!(html.contains("Tháng hoặc quý không hợp lệ."));
    assert!(
        html.contains("Tập trung tuyên truyền phòng chống dịch."),
        "what was typed is kept"
    );
    let mut fields = fields.to_vec();
    fields[3] = ("index", "2");
    // First the round as it would be: its data window, its deadlines, and (the second quarter
    // of 2026 being over) the warning that they have passed. Nothing is opened yet.
    let (status, _, html) = province.post_form("/ky-bao-cao/moi", &fields);
    assert_eq!(status, 200);
    assert!(
        html.contains("Số liệu từ ngày 15/03/2026 đến ngày 14/06/2026 (quý II/2026)."),
        "{html}"
    );
    assert!(
        html.contains("Hạn nộp: cấp xã 23:59 ngày 17/06/2026; cấp huyện 23:59 ngày 22/06/2026.")
    );
    assert!(html.contains("id=\"preview-warning\""));
    assert!(html.contains("Vẫn mở kỳ báo cáo"));
    assert_eq!(
        app.login(PROVINCE).get("/api/v1/rounds").1["rounds"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let marker = "name=\"preview_of\" value=\"";
    let at = html.find(marker).unwrap() + marker.len();
    let preview_of = html[at..at + html[at..].find('"').unwrap()].replace("&#124;", "|");
    fields.push(("preview_of", preview_of.as_str()));
    let (status, location, _) = province.post_form("/ky-bao-cao/moi", &fields);
    assert_eq!(status, 303);
    let (status, unit_page, _) = province.page(&location);
    assert_eq!(status, 303, "the opener's round home is its consolidation");
    let (status, _, html) = province.page(&unit_page);
    assert_eq!(status, 200);
    assert!(html.contains("Nhiệm vụ hai"), "the orientation is shown");
    assert!(html.contains("id=\"edit-round\""), "the opener may edit it");

    let district = page_login(&app, DISTRICT);
    let (_, _, html) = district.page("/ky-bao-cao/moi");
    assert!(html.contains("value=\"tong-ket-nq06\""));
    assert!(
        !html.contains("value=\"dinh-ky\""),
        "a district opens thematic rounds only"
    );
    let commune = page_login(&app, COMMUNE);
    assert_eq!(commune.page("/ky-bao-cao/moi").0, 403);
    let (_, _, list) = commune.page("/ky-bao-cao");
    assert!(
        list.contains("Quý II/2026") || list.contains("quý II/2026"),
        "the commune sees the new round"
    );
}

#[test]
fn a_commune_keeps_its_roster_through_the_page_and_others_cannot() {
    let app = TestApp::spawn();
    let commune = page_login(&app, COMMUNE);
    let (status, location, _) = commune.page("/to-khoa-giao");
    assert_eq!(status, 303);
    assert_eq!(location, format!("/to-khoa-giao/{COMMUNE}"));
    let add = format!("/to-khoa-giao/{COMMUNE}/them");
    let member = |year: &'static str| {
        vec![
            ("full_name", "Nguyễn Thị Hoa"),
            ("position", "to_truong"),
            ("other_post", "Hiệu trưởng trường tiểu học"),
            ("sex", "nu"),
            ("birth_year", year),
            ("education", "dai_hoc"),
            ("theory", "trung_cap"),
            ("joined_on", "2021-03-01"),
            ("left_on", ""),
        ]
    };
    let (status, _, html) = commune.post_form(&add, &member("hai nghìn"));
    assert_eq!(status, 422);
    assert!(html.contains("id=\"err-birth_year\""));
    assert!(html.contains("Nguyễn Thị Hoa"), "what was typed is kept");
    let (status, location, _) = commune.post_form(&add, &member("1980"));
    assert_eq!(status, 303);
    let (_, _, html) = commune.page(&location);
    assert!(html.contains("Nguyễn Thị Hoa"));
    assert!(html.contains("1 thành viên; 1 kiêm nhiệm; 1 nữ"));

    let other = page_login(&app, COMMUNE_2);
    assert_eq!(other.page(&format!("/to-khoa-giao/{COMMUNE}")).0, 403);
    assert_eq!(other.post_form(&add, &member("1980")).0, 403);
    let district = page_login(&app, DISTRICT);
    let (status, _, html) = district.page(&format!("/to-khoa-giao/{COMMUNE}"));
    assert_eq!(status, 200);
    assert!(
        !html.contains("Thêm thành viên"),
        "the district reads, it does not keep the list"
    );
    let (status, _, html) = district.page(&format!("/to-khoa-giao/thong-ke/{DISTRICT}"));
    assert_eq!(status, 200);
    assert!(
        html.contains("Tổ cần kiện toàn (35)"),
        "one member is still too few"
    );
}

#[test]
fn the_consolidation_reads_at_a_glance_yes_no_as_counts_and_a_choice_by_option() {
    let app = TestApp::spawn();
    file_report(&app, &app.login(COMMUNE), COMMUNE, 8);
    let other = app.login(COMMUNE_2);
    let path = app.report_path(COMMUNE_2);
    let mut values = full_values(9);
    values["sk_nq06_giao_duc"] = serde_json::json!(true);
    values["muc_do_hoan_thanh"] = serde_json::json!("xuat_sac");
    let (_, saved) = other.put(
        &path,
        &serde_json::json!({ "values": values, "sections": full_sections(), "version": 0 }),
    );
    let (status, _) = other.post(
        &format!("{path}/submit"),
        &serde_json::json!({ "version": saved["version"] }),
    );
    assert_eq!(status, 200);
    let district = page_login(&app, DISTRICT);
    let (_, _, html) = district.page(&format!(
        "/ky-bao-cao/{}/don-vi/{DISTRICT}?tam-tinh=1",
        app.round_id
    ));
    let label = "Đã sơ kết, tổng kết Nghị quyết 06-NQ/TU về giáo dục - đào tạo giai đoạn 2001–2010";
    let row = &html[html
        .find(&format!("{label} (có/số trả lời)"))
        .expect("the yes/no row")..];
    let row = &row[..row.find("</tr>").unwrap()];
    // "1/2" over the district; each commune's own answer in its column.
    assert!(row.contains("<td class=\"num total\">1/2</td>"), "{row}");
    assert!(
        row.contains("<td class=\"num\">Có</td>") && row.contains("<td class=\"num\">Không</td>")
    );
    // A choice: a small row per option, with its count.
    let option = &html[html
        .find("<tr class=\"option\"><th class=\"sticky\">Hoàn thành xuất sắc nhiệm vụ</th>")
        .expect("an option row")..];
    let option = &option[..option.find("</tr>").unwrap()];
    assert!(
        option.contains("<td class=\"num total\">1</td>"),
        "{option}"
    );
    // The completeness of communes shows status and dates, not counts of 1 and 0.
    let table = &html[html.find("id=\"completeness\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    assert!(
        table.contains("<th>Trạng thái</th><th>Nộp lúc</th><th>Thời hạn</th>"),
        "{table}"
    );
    assert!(!table.contains("Phải nộp") && !table.contains("100%"));
    assert!(table.contains("Đúng hạn"));
    // The province's districts: how many of each district's communes filed, and the rate.
    let province = page_login(&app, PROVINCE);
    let (_, _, html) = province.page(&format!(
        "/ky-bao-cao/{}/don-vi/{PROVINCE}?tam-tinh=1",
        app.round_id
    ));
    assert!(
        html.contains("<td class=\"num\" data-label=\"Đã nộp\">2/35</td>"),
        "{html}"
    );
}
