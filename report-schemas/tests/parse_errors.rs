//! A wrong template must be refused with a message a province staff member can act on:
//! the file, the place, and the fault, in Vietnamese.

use report_schemas::{Aggregate, IndicatorKind, PeriodType, Template, TemplateKind};

const FILE: &str = "mau.toml";

/// A small valid template; each case below breaks one thing in it.
const VALID: &str = r#"key = "thu"
version = 1
title = "Mẫu thử"
kind = "periodic"
period_types = ["month", "year"]

[[groups]]
key = "chung"
title = "Chung"

[[indicators]]
key = "so_thanh_vien"
label = "Số thành viên"
group = "chung"
type = "integer"
max = 50

[[indicators]]
key = "so_dai_hoc"
label = "Số thành viên có trình độ đại học trở lên"
group = "chung"
type = "integer"

[[indicators]]
key = "co_to_truong"
label = "Có tổ trưởng"
group = "chung"
type = "yes_no"

[[rules]]
left = ["so_dai_hoc"]
op = "<="
right = ["so_thanh_vien"]
message = "Không được vượt quá số thành viên."

[[sections]]
key = "ket_qua"
title = "Kết quả đạt được"
"#;

/// `VALID` with one piece of text replaced.
fn replaced(from: &str, to: &str) -> String {
    assert!(VALID.contains(from), "test fixture lacks {from:?}");
    VALID.replacen(from, to, 1)
}

/// `VALID` with more TOML appended.
fn appended(extra: &str) -> String {
    format!("{VALID}\n{extra}")
}

struct Case {
    name: &'static str,
    source: String,
    location: &'static str,
    message: &'static [&'static str],
}

fn case(
    name: &'static str,
    source: String,
    location: &'static str,
    message: &'static [&'static str],
) -> Case {
    Case {
        name,
        source,
        location,
        message,
    }
}

fn cases() -> Vec<Case> {
    vec![
        case(
            "unclosed string",
            replaced("title = \"Mẫu thử\"", "title = \"Mẫu thử"),
            "dòng 3, cột 17",
            &["Sai cú pháp TOML", "ngoặc kép"],
        ),
        case(
            "unquoted text value",
            replaced("kind = \"periodic\"", "kind = periodic"),
            "dòng 4, cột 8",
            &["Sai cú pháp TOML", "dấu ngoặc kép"],
        ),
        case(
            "a key written twice",
            replaced("version = 1\n", "version = 1\nversion = 2\n"),
            "dòng 3, cột 1",
            &["«version»", "hai lần"],
        ),
        case(
            "a key figure that is not in the template",
            replaced(
                "period_types = [\"month\", \"year\"]",
                "period_types = [\"month\", \"year\"]\nkey_figures = [\"so_thanh_vien\", \"so_nu\"]",
            ),
            "key_figures, dòng 6",
            &["«so_nu»", "không có trong mẫu"],
        ),
        case(
            "a key figure that is not a figure",
            replaced(
                "period_types = [\"month\", \"year\"]",
                "period_types = [\"month\", \"year\"]\nkey_figures = [\"co_to_truong\"]",
            ),
            "key_figures, dòng 6",
            &["«co_to_truong»", "chỉ tiêu số"],
        ),
        case(
            "a key figure named twice",
            replaced(
                "period_types = [\"month\", \"year\"]",
                "period_types = [\"month\", \"year\"]\nkey_figures = [\"so_dai_hoc\", \"so_dai_hoc\"]",
            ),
            "key_figures, dòng 6",
            &["«so_dai_hoc»", "hai lần"],
        ),
        case(
            "a rule with nothing on its right",
            replaced("right = [\"so_thanh_vien\"]\n", ""),
            "rules[1], dòng 30",
            &["«right»", "value"],
        ),
        case(
            "a condition on an indicator that does not exist",
            replaced(
                "right = [\"so_thanh_vien\"]\n",
                "right = [\"so_thanh_vien\"]\nwhen = { key = \"xep_loai\", is = \"tot\" }\n",
            ),
            "rules[1], dòng 30",
            &["«when»", "«xep_loai»"],
        ),
        case(
            "a condition on a count",
            replaced(
                "right = [\"so_thanh_vien\"]\n",
                "right = [\"so_thanh_vien\"]\nwhen = { key = \"so_thanh_vien\", is = true }\n",
            ),
            "rules[1], dòng 30",
            &["«when»", "có/không hoặc chọn một", "«integer»"],
        ),
        case(
            "a yes/no condition written as text",
            replaced(
                "right = [\"so_thanh_vien\"]\n",
                "right = [\"so_thanh_vien\"]\nwhen = { key = \"co_to_truong\", is = \"co\" }\n",
            ),
            "rules[1], dòng 30",
            &["is = true hoặc is = false"],
        ),
        case(
            "an unknown severity",
            replaced(
                "right = [\"so_thanh_vien\"]\n",
                "right = [\"so_thanh_vien\"]\nseverity = \"soft\"\n",
            ),
            "rules[1], dòng 34, cột 12",
            &["«soft»", "error, warning"],
        ),
        case(
            "unknown top-level key",
            replaced("kind = \"periodic\"", "kind = \"periodic\"\ntieu_de = \"x\""),
            "dòng 5, cột 1",
            &["Khóa «tieu_de» không được dùng ở đây", "title"],
        ),
        case(
            "unknown key inside an indicator",
            replaced("max = 50", "max = 50\nlable = \"x\""),
            "indicators[1] (so_thanh_vien), dòng 17, cột 1",
            &["Khóa «lable» không được dùng ở đây", "label"],
        ),
        case(
            "unknown key inside a rule",
            replaced("op = \"<=\"", "op = \"<=\"\nmesage = \"x\""),
            "rules[1], dòng 33, cột 1",
            &["«mesage»"],
        ),
        case(
            "missing indicator label",
            replaced(
                "label = \"Số thành viên có trình độ đại học trở lên\"\n",
                "",
            ),
            "indicators[2] (so_dai_hoc), dòng 18, cột 1",
            &["Thiếu khóa bắt buộc «label»"],
        ),
        case(
            "missing template title",
            replaced("title = \"Mẫu thử\"\n", ""),
            "phần đầu tệp",
            &["Thiếu khóa bắt buộc «title»"],
        ),
        case(
            "unknown indicator type",
            replaced("type = \"yes_no\"", "type = \"percent\""),
            "indicators[3] (co_to_truong), dòng 28, cột 8",
            &["«percent» không hợp lệ", "integer", "ratio"],
        ),
        case(
            "number given as text",
            replaced("max = 50", "max = \"50\""),
            "indicators[1] (so_thanh_vien), dòng 16, cột 7",
            &["sai kiểu", "một số"],
        ),
        case(
            "negative version",
            replaced("version = 1", "version = -1"),
            "dòng 2, cột 11",
            &["Giá trị không hợp lệ", "số nguyên không âm"],
        ),
        case(
            "version zero",
            replaced("version = 1", "version = 0"),
            "version, dòng 2",
            &["Phiên bản", "từ 1 trở lên"],
        ),
        case(
            "template key with capitals",
            replaced("key = \"thu\"", "key = \"Thu\""),
            "key, dòng 1",
            &["Khóa «Thu» không hợp lệ", "a–z"],
        ),
        case(
            "indicator key with diacritics",
            replaced("key = \"so_dai_hoc\"", "key = \"số_đại_học\""),
            "indicators[2] (số_đại_học), dòng 18",
            &["Khóa «số_đại_học» không hợp lệ"],
        ),
        case(
            "empty section key",
            replaced("key = \"ket_qua\"", "key = \"\""),
            "sections[1], dòng 36",
            &["không được để trống"],
        ),
        case(
            "empty title",
            replaced("title = \"Mẫu thử\"", "title = \"  \""),
            "title, dòng 3",
            &["Tên mẫu báo cáo (title) không được để trống"],
        ),
        case(
            "empty label",
            replaced("label = \"Có tổ trưởng\"", "label = \"\""),
            "indicators[3] (co_to_truong), dòng 24",
            &["(label) không được để trống"],
        ),
        case(
            "empty period types",
            replaced("period_types = [\"month\", \"year\"]", "period_types = []"),
            "period_types, dòng 5",
            &["ít nhất một loại kỳ báo cáo"],
        ),
        case(
            "unknown period type",
            replaced("[\"month\", \"year\"]", "[\"week\"]"),
            "dòng 5, cột 17",
            &["«week» không hợp lệ", "window"],
        ),
        case(
            "period type listed twice",
            replaced("[\"month\", \"year\"]", "[\"month\", \"month\"]"),
            "period_types, dòng 5",
            &["«month»", "hai lần"],
        ),
        case(
            "duplicate indicator key",
            replaced("key = \"so_dai_hoc\"", "key = \"so_thanh_vien\""),
            "indicators[2] (so_thanh_vien), dòng 18",
            &["Chỉ tiêu «so_thanh_vien» đã được khai báo ở indicators[1]"],
        ),
        case(
            "duplicate group key",
            appended("[[groups]]\nkey = \"chung\"\ntitle = \"Lặp\"\n"),
            "groups[2] (chung), dòng 40",
            &["Nhóm «chung» đã được khai báo ở groups[1]"],
        ),
        case(
            "duplicate section key",
            appended("[[sections]]\nkey = \"ket_qua\"\ntitle = \"Lặp\"\n"),
            "sections[2] (ket_qua), dòng 40",
            &["Phần thuyết minh «ket_qua» đã được khai báo ở sections[1]"],
        ),
        case(
            "section key taken by an indicator",
            appended("[[sections]]\nkey = \"so_thanh_vien\"\ntitle = \"Lặp\"\n"),
            "sections[2] (so_thanh_vien), dòng 40",
            &["«so_thanh_vien» đã được dùng cho một chỉ tiêu"],
        ),
        case(
            "indicator in an unknown group",
            replaced("group = \"chung\"\ntype = \"yes_no\"", "group = \"khac\"\ntype = \"yes_no\""),
            "indicators[3] (co_to_truong), dòng 24",
            &["Nhóm «khac» chưa được khai báo"],
        ),
        case(
            "rule naming a missing indicator",
            replaced("right = [\"so_thanh_vien\"]", "right = [\"so_tv\"]"),
            "rules[1], dòng 30",
            &["«so_tv»", "không có chỉ tiêu này"],
        ),
        case(
            "rule over a yes/no indicator",
            replaced("right = [\"so_thanh_vien\"]", "right = [\"co_to_truong\"]"),
            "rules[1], dòng 30",
            &["«co_to_truong» là kiểu «yes_no»", "«integer» hoặc «decimal»"],
        ),
        case(
            "rule over a choice indicator",
            appended(
                "[[indicators]]\nkey = \"muc_do\"\nlabel = \"Mức độ\"\ngroup = \"chung\"\ntype = \"choice\"\noptions = [{ key = \"tot\", label = \"Tốt\" }]\n\n[[rules]]\nleft = [\"muc_do\"]\nop = \"=\"\nright = [\"so_thanh_vien\"]\nmessage = \"x\"\n",
            ),
            "rules[2], dòng 47",
            &["«muc_do» là kiểu «choice»"],
        ),
        case(
            "rule over a ratio indicator",
            appended(
                "[[indicators]]\nkey = \"ty_le\"\nlabel = \"Tỷ lệ\"\ngroup = \"chung\"\ntype = \"ratio\"\nnumerator = \"so_dai_hoc\"\ndenominator = \"so_thanh_vien\"\n\n[[rules]]\nleft = [\"ty_le\"]\nop = \"<=\"\nright = [\"so_thanh_vien\"]\nmessage = \"x\"\n",
            ),
            "rules[2], dòng 48",
            &["«ty_le» là kiểu «ratio»"],
        ),
        case(
            "rule with an empty side",
            replaced("left = [\"so_dai_hoc\"]", "left = []"),
            "rules[1], dòng 30",
            &["Vế «left»", "ít nhất một chỉ tiêu"],
        ),
        case(
            "rule without a message text",
            replaced("message = \"Không được vượt quá số thành viên.\"", "message = \"\""),
            "rules[1], dòng 30",
            &["thông báo (message)"],
        ),
        case(
            "ratio without a numerator",
            appended(&ratio("", "denominator = \"so_thanh_vien\"")),
            "indicators[4] (ty_le), dòng 40",
            &["tử số (numerator)"],
        ),
        case(
            "ratio over an unknown indicator",
            appended(&ratio("numerator = \"so_nu\"", "denominator = \"so_thanh_vien\"")),
            "indicators[4] (ty_le), dòng 40",
            &["Tử số «so_nu» không có trong danh sách chỉ tiêu"],
        ),
        case(
            "ratio over a yes/no indicator",
            appended(&ratio("numerator = \"so_dai_hoc\"", "denominator = \"co_to_truong\"")),
            "indicators[4] (ty_le), dòng 40",
            &["Mẫu số «co_to_truong» phải là chỉ tiêu kiểu «integer» hoặc «decimal»"],
        ),
        case(
            "ratio over an averaged indicator",
            appended(&format!(
                "{}\n[[indicators]]\nkey = \"diem\"\nlabel = \"Điểm\"\ngroup = \"chung\"\ntype = \"decimal\"\naggregate = \"average\"\n",
                ratio("numerator = \"diem\"", "denominator = \"so_thanh_vien\"")
            )),
            "indicators[4] (ty_le), dòng 40",
            &["Tử số «diem» phải được tổng hợp bằng «sum» (đang là «average»)"],
        ),
        case(
            "ratio over itself",
            appended(&ratio("numerator = \"ty_le\"", "denominator = \"so_thanh_vien\"")),
            "indicators[4] (ty_le), dòng 40",
            &["không thể là chính nó"],
        ),
        case(
            "required ratio",
            appended(&ratio(
                "numerator = \"so_dai_hoc\"\nrequired = true",
                "denominator = \"so_thanh_vien\"",
            )),
            "indicators[4] (ty_le), dòng 40",
            &["tính tự động", "required"],
        ),
        case(
            "ratio with a zero scale",
            appended(&ratio(
                "numerator = \"so_dai_hoc\"\nscale = 0",
                "denominator = \"so_thanh_vien\"",
            )),
            "indicators[4] (ty_le), dòng 40",
            &["Hệ số (scale)"],
        ),
        case(
            "count of yes on an integer",
            replaced("max = 50", "max = 50\naggregate = \"count_yes\""),
            "indicators[1] (so_thanh_vien), dòng 11",
            &["«count_yes» không dùng được cho chỉ tiêu kiểu «integer»", "sum, average, min, max"],
        ),
        case(
            "sum on a yes/no indicator",
            replaced("type = \"yes_no\"", "type = \"yes_no\"\naggregate = \"sum\""),
            "indicators[3] (co_to_truong), dòng 24",
            &["«sum» không dùng được cho chỉ tiêu kiểu «yes_no»", "count_yes"],
        ),
        case(
            "average on a choice indicator",
            appended(
                "[[indicators]]\nkey = \"muc_do\"\nlabel = \"Mức độ\"\ngroup = \"chung\"\ntype = \"choice\"\naggregate = \"average\"\noptions = [{ key = \"tot\", label = \"Tốt\" }]\n",
            ),
            "indicators[4] (muc_do), dòng 40",
            &["«average» không dùng được cho chỉ tiêu kiểu «choice»", "count_each"],
        ),
        case(
            "key that does not fit the type",
            replaced("type = \"yes_no\"", "type = \"yes_no\"\nmax = 1"),
            "indicators[3] (co_to_truong), dòng 24",
            &["Khóa «max» không dùng cho chỉ tiêu kiểu «yes_no»"],
        ),
        case(
            "integer min above max",
            replaced("max = 50", "min = 60\nmax = 50"),
            "indicators[1] (so_thanh_vien), dòng 11",
            &["min = 60", "max = 50"],
        ),
        case(
            "decimal min above max",
            appended(
                "[[indicators]]\nkey = \"kinh_phi\"\nlabel = \"Kinh phí\"\ngroup = \"chung\"\ntype = \"decimal\"\nmin = 10.5\nmax = 2\n",
            ),
            "indicators[4] (kinh_phi), dòng 40",
            &["min = 10,5", "max = 2"],
        ),
        case(
            "integer bound with decimals",
            replaced("max = 50", "max = 50.5"),
            "indicators[1] (so_thanh_vien), dòng 11",
            &["(max)", "phải là số nguyên"],
        ),
        case(
            "choice without options",
            appended(
                "[[indicators]]\nkey = \"muc_do\"\nlabel = \"Mức độ\"\ngroup = \"chung\"\ntype = \"choice\"\n",
            ),
            "indicators[4] (muc_do), dòng 40",
            &["ít nhất một lựa chọn (options)"],
        ),
        case(
            "choice with an empty option list",
            appended(
                "[[indicators]]\nkey = \"muc_do\"\nlabel = \"Mức độ\"\ngroup = \"chung\"\ntype = \"choice\"\noptions = []\n",
            ),
            "indicators[4] (muc_do), dòng 40",
            &["ít nhất một lựa chọn (options)"],
        ),
        case(
            "choice with a duplicate option key",
            appended(
                "[[indicators]]\nkey = \"muc_do\"\nlabel = \"Mức độ\"\ngroup = \"chung\"\ntype = \"choice\"\noptions = [{ key = \"tot\", label = \"Tốt\" }, { key = \"tot\", label = \"Khá\" }]\n",
            ),
            "indicators[4] (muc_do), dòng 40",
            &["Lựa chọn «tot» được khai báo hai lần"],
        ),
        case(
            "choice with an unknown key in an option",
            appended(
                "[[indicators]]\nkey = \"muc_do\"\nlabel = \"Mức độ\"\ngroup = \"chung\"\ntype = \"choice\"\noptions = [{ key = \"tot\", lable = \"Tốt\" }]\n",
            ),
            "indicators[4] (muc_do), dòng 45, cột 27",
            &["«lable»"],
        ),
        case(
            "section limit of zero characters",
            replaced("title = \"Kết quả đạt được\"", "title = \"Kết quả đạt được\"\nmax_chars = 0"),
            "sections[1] (ket_qua), dòng 36",
            &["max_chars", "lớn hơn 0"],
        ),
        case(
            "template with neither indicators nor sections",
            "key = \"rong\"\nversion = 1\ntitle = \"Rỗng\"\nkind = \"thematic\"\nperiod_types = [\"window\"]\n".to_owned(),
            "toàn tệp",
            &["ít nhất một chỉ tiêu", "phần thuyết minh"],
        ),
    ]
}

/// A ratio indicator appended after `VALID`; its header is on line 40.
fn ratio(numerator: &str, denominator: &str) -> String {
    format!(
        "[[indicators]]\nkey = \"ty_le\"\nlabel = \"Tỷ lệ\"\ngroup = \"chung\"\ntype = \"ratio\"\n{numerator}\n{denominator}\n"
    )
}

#[test]
fn the_valid_fixture_parses() {
    let template = Template::parse(VALID, FILE).expect("valid fixture");
    assert_eq!(template.key, "thu");
    assert_eq!(template.kind, TemplateKind::Periodic);
    assert_eq!(template.indicators.len(), 3);
}

#[test]
fn every_broken_template_is_refused_with_its_file_place_and_fault() {
    let mut failures = Vec::new();
    for case in cases() {
        match Template::parse(&case.source, FILE) {
            Ok(_) => failures.push(format!("{}: was accepted", case.name)),
            Err(error) => {
                let shown = error.to_string();
                let fits = error.file == FILE
                    && error.location == case.location
                    && case.message.iter().all(|part| error.message.contains(part))
                    && shown == format!("{FILE}: {}: {}", error.location, error.message);
                if !fits {
                    failures.push(format!(
                        "{}:\n  got      {shown}\n  expected {FILE}: {}: …{:?}…",
                        case.name, case.location, case.message
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn every_error_message_is_vietnamese_and_ends_with_a_full_stop() {
    for case in cases() {
        let Err(error) = Template::parse(&case.source, FILE) else {
            continue;
        };
        assert!(
            error.message.ends_with('.'),
            "{}: {}",
            case.name,
            error.message
        );
        assert!(
            !error.message.contains("unknown field") && !error.message.contains("missing field"),
            "{}: serde's English leaked: {}",
            case.name,
            error.message
        );
    }
}

#[test]
fn a_window_period_is_allowed_for_thematic_templates() {
    let source = replaced("kind = \"periodic\"", "kind = \"thematic\"")
        .replace("[\"month\", \"year\"]", "[\"window\"]");
    let template = Template::parse(&source, FILE).expect("window is a period type");
    assert_eq!(template.kind, TemplateKind::Thematic);
    assert_eq!(template.period_types, [PeriodType::Window]);
}

#[test]
fn defaults_fill_in_what_the_author_left_out() {
    let source = appended(
        "[[indicators]]\nkey = \"kinh_phi\"\nlabel = \"Kinh phí\"\ngroup = \"chung\"\ntype = \"decimal\"\n\n[[indicators]]\nkey = \"muc_do\"\nlabel = \"Mức độ\"\ngroup = \"chung\"\ntype = \"choice\"\noptions = [{ key = \"tot\", label = \"Tốt\" }]\n\n[[indicators]]\nkey = \"ty_le\"\nlabel = \"Tỷ lệ\"\ngroup = \"chung\"\ntype = \"ratio\"\nnumerator = \"so_dai_hoc\"\ndenominator = \"so_thanh_vien\"\n",
    );
    let template = Template::parse(&source, FILE).expect("valid");
    let aggregate = |key: &str| template.indicator(key).map(|i| i.aggregate);
    assert_eq!(aggregate("so_thanh_vien"), Some(Aggregate::Sum));
    assert_eq!(aggregate("kinh_phi"), Some(Aggregate::Sum));
    assert_eq!(aggregate("co_to_truong"), Some(Aggregate::CountYes));
    assert_eq!(aggregate("muc_do"), Some(Aggregate::CountEach));
    assert_eq!(aggregate("ty_le"), Some(Aggregate::Ratio));
    assert_eq!(
        template.indicator("so_dai_hoc").map(|i| &i.kind),
        Some(&IndicatorKind::Integer { min: 0, max: None })
    );
    assert_eq!(
        template.indicator("ty_le").map(|i| &i.kind),
        Some(&IndicatorKind::Ratio {
            numerator: "so_dai_hoc".to_owned(),
            denominator: "so_thanh_vien".to_owned(),
            scale: 100.0
        })
    );
    let section = template.section("ket_qua").expect("section");
    assert_eq!((section.required, section.max_chars), (false, 4000));
    assert!(
        !template
            .indicator("so_thanh_vien")
            .expect("indicator")
            .required
    );
}

#[test]
fn a_ratio_may_name_indicators_declared_after_it() {
    let source = replaced(
        "[[indicators]]\nkey = \"so_thanh_vien\"",
        "[[indicators]]\nkey = \"ty_le\"\nlabel = \"Tỷ lệ\"\ngroup = \"chung\"\ntype = \"ratio\"\nnumerator = \"so_dai_hoc\"\ndenominator = \"so_thanh_vien\"\n\n[[indicators]]\nkey = \"so_thanh_vien\"",
    );
    assert!(Template::parse(&source, FILE).is_ok());
}

#[test]
fn inline_indicator_tables_are_located_too() {
    let source = "key = \"thu\"\nversion = 1\ntitle = \"Mẫu thử\"\nkind = \"periodic\"\nperiod_types = [\"month\"]\ngroups = [{ key = \"chung\", title = \"Chung\" }]\nindicators = [\n  { key = \"a\", label = \"A\", group = \"chung\", type = \"integer\" },\n  { key = \"b\", label = \"B\", group = \"chung\", type = \"integer\", mx = 3 },\n]\n";
    let error = Template::parse(source, FILE).expect_err("mx is unknown");
    assert_eq!(error.location, "indicators[2] (b), dòng 9, cột 64");
    assert!(error.message.contains("«mx»"), "{error}");
}

#[test]
fn text_in_a_template_is_stored_nfc() {
    // "Mẫu" written with combining marks: M + a + combining circumflex + combining tilde + u.
    let decomposed = "M\u{61}\u{302}\u{303}u thử";
    let source = replaced("title = \"Mẫu thử\"", &format!("title = \"{decomposed}\""));
    let template = Template::parse(&source, FILE).expect("valid");
    assert_eq!(template.title, "Mẫu thử");
}

#[test]
fn a_roster_link_must_fit_its_indicator_and_be_used_once() {
    let base = r#"
key = "t"
version = 1
title = "Mẫu thử"
kind = "periodic"
period_types = ["year"]

[[groups]]
key = "g"
title = "Nhóm"
"#;
    let wrong_type = format!(
        "{base}\n[[indicators]]\nkey = \"a\"\nlabel = \"A\"\ngroup = \"g\"\ntype = \"yes_no\"\nroster = \"members\"\n"
    );
    let err = report_schemas::Template::parse(&wrong_type, "t.toml").unwrap_err();
    assert!(err.location.starts_with("indicators[1] (a)"), "{err}");
    assert!(
        err.message.contains("roster = \"members\"") && err.message.contains("integer"),
        "{err}"
    );

    let twice = format!(
        "{base}\n[[indicators]]\nkey = \"a\"\nlabel = \"A\"\ngroup = \"g\"\ntype = \"integer\"\nroster = \"women\"\n\n[[indicators]]\nkey = \"b\"\nlabel = \"B\"\ngroup = \"g\"\ntype = \"integer\"\nroster = \"women\"\n"
    );
    let err = report_schemas::Template::parse(&twice, "t.toml").unwrap_err();
    assert!(err.location.starts_with("indicators[2] (b)"), "{err}");
    assert!(err.message.contains("indicators[1]"), "{err}");

    let fine = format!(
        "{base}\n[[indicators]]\nkey = \"a\"\nlabel = \"A\"\ngroup = \"g\"\ntype = \"yes_no\"\nroster = \"has_leader\"\n"
    );
    let t = report_schemas::Template::parse(&fine, "t.toml").unwrap();
    assert_eq!(
        t.indicators[0].roster,
        Some(report_schemas::RosterMeasure::HasLeader)
    );
}
