//! What a commune typed becomes checked values, or every problem with a Vietnamese message
//! naming the indicator or section.

use std::collections::BTreeMap;

use report_schemas::{FieldError, FilledReport, Mode, Template, Value};
use serde_json::{Value as Json, json};

const TEMPLATE: &str = r#"key = "thu"
version = 1
title = "Mẫu thử"
kind = "periodic"
period_types = ["month"]

[[groups]]
key = "chung"
title = "Chung"

[[indicators]]
key = "so_thanh_vien"
label = "Số thành viên"
group = "chung"
type = "integer"
required = true
max = 50

[[indicators]]
key = "so_dai_hoc"
label = "Số thành viên có trình độ đại học"
group = "chung"
type = "integer"
required = true

[[indicators]]
key = "so_nu"
label = "Số thành viên nữ"
group = "chung"
type = "integer"
min = 1
max = 2000

[[indicators]]
key = "kinh_phi"
label = "Kinh phí"
group = "chung"
type = "decimal"
min = 0
max = 1500.5

[[indicators]]
key = "co_to_truong"
label = "Có tổ trưởng"
group = "chung"
type = "yes_no"
required = true

[[indicators]]
key = "muc_do"
label = "Mức độ hoàn thành"
group = "chung"
type = "choice"
options = [
  { key = "tot", label = "Hoàn thành tốt nhiệm vụ" },
  { key = "khong", label = "Không hoàn thành nhiệm vụ" },
]

[[indicators]]
key = "ty_le"
label = "Tỷ lệ đại học"
group = "chung"
type = "ratio"
numerator = "so_dai_hoc"
denominator = "so_thanh_vien"

[[rules]]
left = ["so_dai_hoc"]
op = "<="
right = ["so_thanh_vien"]
message = "Số thành viên có trình độ đại học không được vượt quá số thành viên."

[[rules]]
left = ["so_nu", "so_dai_hoc"]
op = "<"
right = ["kinh_phi"]
message = "Quy tắc thử trên tổng hai chỉ tiêu."

[[sections]]
key = "ket_qua"
title = "Kết quả đạt được"
required = true
max_chars = 4000

[[sections]]
key = "de_xuat"
title = "Đề xuất, kiến nghị"
max_chars = 10
"#;

fn template() -> Template {
    Template::parse(TEMPLATE, "thu.toml").expect("test template")
}

/// A complete, valid submission to start each case from.
fn complete() -> BTreeMap<String, Json> {
    [
        ("so_thanh_vien", json!(10)),
        ("so_dai_hoc", json!(3)),
        ("co_to_truong", json!(true)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn sections(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn with(key: &str, value: Json) -> BTreeMap<String, Json> {
    let mut values = complete();
    values.insert(key.to_owned(), value);
    values
}

fn error(field: &str, message: &str) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: message.to_owned(),
    }
}

fn submit(values: &BTreeMap<String, Json>) -> Result<FilledReport, Vec<FieldError>> {
    template().validate(
        values,
        &sections(&[("ket_qua", "Đã làm tốt.")]),
        Mode::Submit,
    )
}

/// (what the case shows, input value for one indicator, the value kept)
#[test]
fn accepted_inputs_become_typed_values() {
    let cases: Vec<(&str, &str, Json, Option<Value>)> = vec![
        (
            "integer as JSON",
            "so_thanh_vien",
            json!(12),
            Some(Value::Int(12)),
        ),
        (
            "integer as text",
            "so_thanh_vien",
            json!(" 12 "),
            Some(Value::Int(12)),
        ),
        (
            "whole JSON float",
            "so_thanh_vien",
            json!(12.0),
            Some(Value::Int(12)),
        ),
        (
            "thousands with dots",
            "so_nu",
            json!("1.234"),
            Some(Value::Int(1234)),
        ),
        (
            "zero is a value",
            "so_dai_hoc",
            json!("0"),
            Some(Value::Int(0)),
        ),
        (
            "decimal as JSON",
            "kinh_phi",
            json!(12.5),
            Some(Value::Dec(12.5)),
        ),
        (
            "decimal with a comma",
            "kinh_phi",
            json!("12,5"),
            Some(Value::Dec(12.5)),
        ),
        (
            "decimal with a dot",
            "kinh_phi",
            json!("12.5"),
            Some(Value::Dec(12.5)),
        ),
        (
            "decimal Vietnamese style",
            "kinh_phi",
            json!("1.234,5"),
            Some(Value::Dec(1234.5)),
        ),
        ("decimal whole", "kinh_phi", json!(7), Some(Value::Dec(7.0))),
        (
            "decimal at its max",
            "kinh_phi",
            json!("1500,5"),
            Some(Value::Dec(1500.5)),
        ),
        (
            "yes as bool",
            "co_to_truong",
            json!(true),
            Some(Value::Bool(true)),
        ),
        (
            "yes as có",
            "co_to_truong",
            json!("Có"),
            Some(Value::Bool(true)),
        ),
        (
            "yes as co",
            "co_to_truong",
            json!("co"),
            Some(Value::Bool(true)),
        ),
        (
            "yes as 1",
            "co_to_truong",
            json!("1"),
            Some(Value::Bool(true)),
        ),
        (
            "yes as true",
            "co_to_truong",
            json!("true"),
            Some(Value::Bool(true)),
        ),
        (
            "no as không",
            "co_to_truong",
            json!("không"),
            Some(Value::Bool(false)),
        ),
        (
            "no as decomposed không",
            "co_to_truong",
            json!("kho\u{302}ng"),
            Some(Value::Bool(false)),
        ),
        (
            "no as khong",
            "co_to_truong",
            json!("khong"),
            Some(Value::Bool(false)),
        ),
        (
            "no as 0",
            "co_to_truong",
            json!(0),
            Some(Value::Bool(false)),
        ),
        (
            "no as false",
            "co_to_truong",
            json!("false"),
            Some(Value::Bool(false)),
        ),
        (
            "choice by key",
            "muc_do",
            json!("tot"),
            Some(Value::Choice("tot".into())),
        ),
        (
            "choice by label",
            "muc_do",
            json!(" Không hoàn thành nhiệm vụ "),
            Some(Value::Choice("khong".into())),
        ),
        ("empty text is absent", "so_nu", json!("  "), None),
        ("null is absent", "kinh_phi", Json::Null, None),
        ("empty ratio box is ignored", "ty_le", json!(""), None),
    ];
    for (name, key, input, expected) in cases {
        let report = submit(&with(key, input)).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(report.values.get(key), expected.as_ref(), "{name}");
    }
}

#[test]
fn rejected_inputs_name_the_indicator_by_its_label() {
    let cases: Vec<(&str, &str, Json, &str)> = vec![
        (
            "fraction for an integer",
            "so_thanh_vien",
            json!(12.5),
            "«Số thành viên» phải là số nguyên.",
        ),
        (
            "fraction text for an integer",
            "so_thanh_vien",
            json!("12,5"),
            "«Số thành viên» phải là số nguyên.",
        ),
        (
            "words for an integer",
            "so_thanh_vien",
            json!("mười"),
            "«Số thành viên» phải là một số.",
        ),
        (
            "bool for an integer",
            "so_thanh_vien",
            json!(true),
            "«Số thành viên» phải là một số.",
        ),
        (
            "negative integer",
            "so_dai_hoc",
            json!(-1),
            "«Số thành viên có trình độ đại học» không được nhỏ hơn 0.",
        ),
        (
            "negative integer text",
            "so_dai_hoc",
            json!("-3"),
            "«Số thành viên có trình độ đại học» không được nhỏ hơn 0.",
        ),
        (
            "below a custom min",
            "so_nu",
            json!(0),
            "«Số thành viên nữ» không được nhỏ hơn 1.",
        ),
        (
            "above max",
            "so_thanh_vien",
            json!(51),
            "«Số thành viên» không được lớn hơn 50.",
        ),
        (
            "above a large max",
            "so_nu",
            json!(2001),
            "«Số thành viên nữ» không được lớn hơn 2.000.",
        ),
        (
            "huge integer",
            "so_thanh_vien",
            json!(u64::MAX),
            "«Số thành viên» quá lớn.",
        ),
        (
            "words for a decimal",
            "kinh_phi",
            json!("nhiều"),
            "«Kinh phí» phải là một số.",
        ),
        (
            "negative decimal",
            "kinh_phi",
            json!(-0.5),
            "«Kinh phí» không được nhỏ hơn 0.",
        ),
        (
            "decimal above max",
            "kinh_phi",
            json!("1500,6"),
            "«Kinh phí» không được lớn hơn 1.500,5.",
        ),
        (
            "maybe for yes/no",
            "co_to_truong",
            json!("có lẽ"),
            "«Có tổ trưởng» chỉ nhận «Có» hoặc «Không».",
        ),
        (
            "number 2 for yes/no",
            "co_to_truong",
            json!(2),
            "«Có tổ trưởng» chỉ nhận «Có» hoặc «Không».",
        ),
        (
            "unknown option",
            "muc_do",
            json!("xuat_sac"),
            "«Mức độ hoàn thành»: lựa chọn không hợp lệ; hãy chọn một trong: «Hoàn thành tốt nhiệm vụ», «Không hoàn thành nhiệm vụ».",
        ),
        (
            "number for a choice",
            "muc_do",
            json!(1),
            "«Mức độ hoàn thành»: lựa chọn không hợp lệ; hãy chọn một trong: «Hoàn thành tốt nhiệm vụ», «Không hoàn thành nhiệm vụ».",
        ),
        (
            "a ratio typed in",
            "ty_le",
            json!(30),
            "«Tỷ lệ đại học» được tính tự động từ «Số thành viên có trình độ đại học» và «Số thành viên», không nhập trực tiếp.",
        ),
    ];
    for (name, key, input, message) in cases {
        let errors = submit(&with(key, input)).expect_err(name);
        assert_eq!(errors, [error(key, message)], "{name}");
    }
}

#[test]
fn unknown_keys_are_reported_by_their_key() {
    let mut values = complete();
    values.insert("so_hoi_vien".to_owned(), json!(3));
    let errors = template()
        .validate(
            &values,
            &sections(&[("ket_qua", "x"), ("kien_nghi", "y")]),
            Mode::Draft,
        )
        .expect_err("unknown keys");
    assert_eq!(
        errors,
        [
            error(
                "so_hoi_vien",
                "Chỉ tiêu «so_hoi_vien» không có trong mẫu báo cáo."
            ),
            error(
                "kien_nghi",
                "Phần thuyết minh «kien_nghi» không có trong mẫu báo cáo."
            ),
        ]
    );
}

#[test]
fn submitting_requires_required_indicators_and_sections() {
    let errors = template()
        .validate(&BTreeMap::new(), &BTreeMap::new(), Mode::Submit)
        .expect_err("nothing entered");
    assert_eq!(
        errors,
        [
            error("so_thanh_vien", "Chưa nhập «Số thành viên»."),
            error(
                "so_dai_hoc",
                "Chưa nhập «Số thành viên có trình độ đại học»."
            ),
            error("co_to_truong", "Chưa nhập «Có tổ trưởng»."),
            error("ket_qua", "Chưa nhập «Kết quả đạt được»."),
        ]
    );
}

#[test]
fn a_draft_may_leave_required_fields_empty() {
    let report = template()
        .validate(
            &BTreeMap::from([("so_thanh_vien".to_owned(), json!(""))]),
            &sections(&[("ket_qua", "   ")]),
            Mode::Draft,
        )
        .expect("an empty draft is fine");
    assert!(report.values.is_empty());
    assert!(report.sections.is_empty());
}

#[test]
fn a_draft_still_checks_what_was_typed() {
    let errors = template()
        .validate(
            &BTreeMap::from([("so_thanh_vien".to_owned(), json!("abc"))]),
            &BTreeMap::new(),
            Mode::Draft,
        )
        .expect_err("bad value");
    assert_eq!(
        errors,
        [error("so_thanh_vien", "«Số thành viên» phải là một số.")]
    );
}

#[test]
fn a_broken_rule_is_refused_on_submit_and_kept_pending_in_a_draft() {
    let mut values = complete();
    values.insert("so_dai_hoc".to_owned(), json!(11));
    let broken = error(
        "so_dai_hoc",
        "Số thành viên có trình độ đại học không được vượt quá số thành viên.",
    );
    let errors = template()
        .validate(&values, &sections(&[("ket_qua", "x")]), Mode::Submit)
        .expect_err("rule");
    assert_eq!(errors, std::slice::from_ref(&broken));
    // A draft is parked as it is, the rule reported on the first indicator of its left side.
    let draft = template()
        .validate(&values, &sections(&[("ket_qua", "x")]), Mode::Draft)
        .expect("a draft breaking a rule is kept");
    assert_eq!(draft.values["so_dai_hoc"], report_schemas::Value::Int(11));
    assert_eq!(draft.pending, [broken]);
}

#[test]
fn a_rule_sums_each_side_and_mixes_integers_with_decimals() {
    // so_nu + so_dai_hoc < kinh_phi
    let mut values = complete();
    values.insert("so_nu".to_owned(), json!(2));
    values.insert("kinh_phi".to_owned(), json!("5,5"));
    assert!(submit(&values).is_ok());
    values.insert("kinh_phi".to_owned(), json!("5"));
    assert_eq!(
        submit(&values).expect_err("2 + 3 < 5 is false"),
        [error("so_nu", "Quy tắc thử trên tổng hai chỉ tiêu.")]
    );
}

#[test]
fn a_rule_is_skipped_while_any_of_its_indicators_is_missing_or_wrong() {
    let draft = |values: &BTreeMap<String, Json>| {
        template().validate(values, &BTreeMap::new(), Mode::Draft)
    };
    let only_left = BTreeMap::from([("so_dai_hoc".to_owned(), json!(40))]);
    assert!(draft(&only_left).is_ok());
    let wrong_right = BTreeMap::from([
        ("so_dai_hoc".to_owned(), json!(40)),
        ("so_thanh_vien".to_owned(), json!(99)),
    ]);
    assert_eq!(
        draft(&wrong_right).expect_err("max"),
        [error(
            "so_thanh_vien",
            "«Số thành viên» không được lớn hơn 50."
        )]
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let values: BTreeMap<String, Json> = [
        ("so_thanh_vien", json!("x")),
        ("kinh_phi", json!(-1)),
        ("muc_do", json!("?")),
        ("la", json!(1)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let errors = template()
        .validate(
            &values,
            &sections(&[("de_xuat", "quá mười một ký tự")]),
            Mode::Submit,
        )
        .expect_err("many problems");
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "la",
            "so_thanh_vien",
            "so_dai_hoc",
            "kinh_phi",
            "co_to_truong",
            "muc_do",
            "ket_qua",
            "de_xuat"
        ]
    );
}

#[test]
fn a_section_longer_than_its_limit_is_refused_with_both_lengths() {
    let long = "ă".repeat(4001);
    let errors = template()
        .validate(&complete(), &sections(&[("ket_qua", &long)]), Mode::Submit)
        .expect_err("too long");
    assert_eq!(
        errors,
        [error(
            "ket_qua",
            "«Kết quả đạt được» dài 4.001 ký tự, vượt quá giới hạn 4.000 ký tự."
        )]
    );
}

#[test]
fn a_section_is_measured_in_characters_after_trimming() {
    // Ten letters with diacritics are twenty bytes but ten characters.
    let exactly_ten = format!("  {}\n", "ư".repeat(10));
    let report = template()
        .validate(
            &complete(),
            &sections(&[("ket_qua", " Kết quả \n"), ("de_xuat", &exactly_ten)]),
            Mode::Submit,
        )
        .expect("within the limit");
    assert_eq!(
        report.sections.get("ket_qua").map(String::as_str),
        Some("Kết quả")
    );
    assert_eq!(report.sections.get("de_xuat"), Some(&"ư".repeat(10)));
}

#[test]
fn a_valid_report_keeps_only_entered_values() {
    let report = submit(&complete()).expect("valid");
    assert_eq!(
        report.values,
        BTreeMap::from([
            ("co_to_truong".to_owned(), Value::Bool(true)),
            ("so_dai_hoc".to_owned(), Value::Int(3)),
            ("so_thanh_vien".to_owned(), Value::Int(10)),
        ])
    );
    assert!(!report.values.contains_key("ty_le"));
}

#[test]
fn a_filled_report_serializes_as_plain_json() {
    let report = submit(&with("muc_do", json!("tot"))).expect("valid");
    let value = serde_json::to_value(&report).expect("serialize");
    assert_eq!(
        value,
        json!({
            "values": { "co_to_truong": true, "muc_do": "tot", "so_dai_hoc": 3, "so_thanh_vien": 10 },
            "sections": { "ket_qua": "Đã làm tốt." }
        })
    );
}

#[test]
fn the_shipped_periodic_template_accepts_a_realistic_commune_report() {
    let source = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/dinh-ky.toml"),
    )
    .expect("read");
    let template = Template::parse(&source, "dinh-ky.toml").expect("parse");
    let values: BTreeMap<String, Json> = [
        ("so_thanh_vien", json!("7")),
        ("so_kiem_nhiem", json!("7")),
        ("so_nu", json!("2")),
        ("so_dai_hoc", json!("3")),
        ("so_tren_60", json!("1")),
        ("co_to_truong", json!("có")),
        ("so_cuoc_hop", json!("3")),
        ("tt_moi_truong", json!("2")),
        ("luot_nguoi_nghe", json!("1.250")),
        ("tin_bai_truyen_thanh", json!("12")),
        ("so_de_xuat", json!("1")),
        ("van_de_phat_sinh", json!("4")),
        ("van_de_giai_quyet", json!("3")),
        ("ct03_co_ke_hoach", json!("có")),
        ("kinh_phi", json!("12,5")),
        ("diem_tu_cham", json!("92,5")),
        ("muc_do_hoan_thanh", json!("Hoàn thành tốt nhiệm vụ")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let report = template
        .validate(
            &values,
            &sections(&[
                ("ket_qua", "Tổ đã tổ chức 2 buổi tuyên truyền."),
                ("phuong_huong", "Tiếp tục."),
            ]),
            Mode::Submit,
        )
        .expect("valid report");
    assert_eq!(
        report.values.get("luot_nguoi_nghe"),
        Some(&Value::Int(1250))
    );
    assert_eq!(
        report.values.get("muc_do_hoan_thanh"),
        Some(&Value::Choice("tot".to_owned()))
    );

    let mut too_many = values.clone();
    too_many.insert("van_de_giai_quyet".to_owned(), json!(5));
    let draft = template
        .validate(&too_many, &BTreeMap::new(), Mode::Draft)
        .expect("kept as a draft");
    assert_eq!(draft.pending.len(), 1);
    assert_eq!(draft.pending[0].field, "van_de_giai_quyet");
    let errors = template
        .validate(&too_many, &BTreeMap::new(), Mode::Submit)
        .expect_err("rule");
    assert!(errors.iter().any(|e| e.field == "van_de_giai_quyet"));
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);

    // Warning rules: shown, never blocking, and only when their condition's answer is given.
    let narrative = sections(&[("ket_qua", "Có."), ("phuong_huong", "Tiếp tục.")]);
    let with = |score: &str, level: &str| {
        let mut v = values.clone();
        v.insert("diem_tu_cham".to_owned(), json!(score));
        v.insert("muc_do_hoan_thanh".to_owned(), json!(level));
        v
    };
    for (score, level, warned) in [
        ("92,5", "Không hoàn thành nhiệm vụ", true),
        ("90", "Không hoàn thành nhiệm vụ", false),
        ("92,5", "Hoàn thành tốt nhiệm vụ", false),
        ("45", "Hoàn thành xuất sắc nhiệm vụ", true),
        ("50", "Hoàn thành xuất sắc nhiệm vụ", false),
        ("45", "Hoàn thành nhiệm vụ", false),
    ] {
        for mode in [Mode::Draft, Mode::Submit] {
            let checked = template
                .validate(&with(score, level), &narrative, mode)
                .unwrap_or_else(|e| panic!("{score} {level}: a warning never blocks: {e:?}"));
            assert_eq!(
                !checked.warnings.is_empty(),
                warned,
                "{score} {level} {mode:?}: {:?}",
                checked.warnings
            );
            if warned {
                assert_eq!(checked.warnings[0].field, "diem_tu_cham");
                assert!(checked.warnings[0].message.contains("đề nghị xem lại"));
                assert!(checked.pending.is_empty());
            }
        }
    }
}

#[test]
fn stored_values_read_back_by_their_json_type() {
    let read: BTreeMap<String, Value> = serde_json::from_str(
        r#"{"a": 7, "b": 12.5, "c": 3.0, "d": true, "e": "tot", "f": -2, "g": 18446744073709551615}"#,
    )
    .expect("plain JSON values");
    assert_eq!(read["a"], Value::Int(7));
    assert_eq!(read["b"], Value::Dec(12.5));
    assert_eq!(read["c"], Value::Dec(3.0));
    assert_eq!(read["d"], Value::Bool(true));
    assert_eq!(read["e"], Value::Choice("tot".into()));
    assert_eq!(read["f"], Value::Int(-2));
    assert_eq!(read["g"], Value::Dec(18_446_744_073_709_551_615.0));
    assert!(serde_json::from_str::<Value>("null").is_err());
    assert!(serde_json::from_str::<Value>("[1]").is_err());
}
