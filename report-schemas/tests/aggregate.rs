//! The laws of consolidation: consolidating communes into districts and districts into the
//! province gives the province what consolidating all communes directly gives it, whatever the
//! grouping and order; and a percentage is recomputed from sums at every level.

use std::collections::BTreeMap;

use proptest::prelude::*;
use report_schemas::{AggValue, Rollup, Template, Value, Values};

const TEMPLATE: &str = r#"key = "tong-hop"
version = 1
title = "Mẫu thử tổng hợp"
kind = "periodic"
period_types = ["quarter"]

[[groups]]
key = "chung"
title = "Chung"

[[indicators]]
key = "so_dai_hoc"
label = "Số thành viên có trình độ đại học"
group = "chung"
type = "integer"

[[indicators]]
key = "so_thanh_vien"
label = "Số thành viên"
group = "chung"
type = "integer"

[[indicators]]
key = "it_nhat"
label = "Nhỏ nhất"
group = "chung"
type = "integer"
aggregate = "min"

[[indicators]]
key = "nhieu_nhat"
label = "Lớn nhất"
group = "chung"
type = "integer"
aggregate = "max"

[[indicators]]
key = "binh_quan"
label = "Bình quân"
group = "chung"
type = "integer"
aggregate = "average"

[[indicators]]
key = "kinh_phi"
label = "Kinh phí"
group = "chung"
type = "decimal"

[[indicators]]
key = "co_to_truong"
label = "Có tổ trưởng"
group = "chung"
type = "yes_no"

[[indicators]]
key = "muc_do"
label = "Mức độ"
group = "chung"
type = "choice"
options = [
  { key = "tot", label = "Tốt" },
  { key = "kha", label = "Khá" },
  { key = "yeu", label = "Yếu" },
]

[[indicators]]
key = "ty_le"
label = "Tỷ lệ đại học"
group = "chung"
type = "ratio"
numerator = "so_dai_hoc"
denominator = "so_thanh_vien"
"#;

/// Indicators whose state is exact (integers and counts): tree and direct must agree to the bit.
const EXACT: &[&str] = &[
    "so_dai_hoc",
    "so_thanh_vien",
    "it_nhat",
    "nhieu_nhat",
    "binh_quan",
    "co_to_truong",
    "muc_do",
    "ty_le",
];

fn template() -> Template {
    Template::parse(TEMPLATE, "tong-hop.toml").expect("test template")
}

fn values(pairs: &[(&str, Value)]) -> Values {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn number(rollup: &Rollup, template: &Template, key: &str) -> Option<f64> {
    match rollup.value(template, key) {
        Some(AggValue::Number(n)) => Some(n),
        _ => None,
    }
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
        (None, None) => true,
        _ => false,
    }
}

/// Every indicator agrees: exactly for integer state, within rounding for decimals.
fn assert_same(template: &Template, a: &Rollup, b: &Rollup) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.reports(), b.reports());
    for key in EXACT {
        prop_assert_eq!(a.value(template, key), b.value(template, key), "{}", key);
    }
    let (x, y) = (
        number(a, template, "kinh_phi"),
        number(b, template, "kinh_phi"),
    );
    prop_assert!(close(x, y), "kinh_phi: {:?} vs {:?}", x, y);
    Ok(())
}

fn commune_report() -> impl Strategy<Value = Values> {
    let int = || proptest::option::of(0i64..1000);
    (
        (int(), int(), int(), int(), int()),
        proptest::option::of(0.0f64..1.0e6),
        proptest::option::of(any::<bool>()),
        proptest::option::of(prop::sample::select(vec!["tot", "kha", "yeu"])),
    )
        .prop_map(|((num, den, lo, hi, avg), money, yes, pick)| {
            let mut values = Values::new();
            let ints = [
                ("so_dai_hoc", num),
                ("so_thanh_vien", den),
                ("it_nhat", lo),
                ("nhieu_nhat", hi),
                ("binh_quan", avg),
            ];
            for (key, value) in ints {
                if let Some(v) = value {
                    values.insert(key.to_owned(), Value::Int(v));
                }
            }
            if let Some(v) = money {
                values.insert("kinh_phi".to_owned(), Value::Dec(v));
            }
            if let Some(v) = yes {
                values.insert("co_to_truong".to_owned(), Value::Bool(v));
            }
            if let Some(v) = pick {
                values.insert("muc_do".to_owned(), Value::Choice(v.to_owned()));
            }
            values
        })
}

const DISTRICTS: usize = 6;
const REGIONS: usize = 3;

/// Communes, the district of each commune, and an intermediate level above the districts: the
/// tree has any depth (domain.md), so the laws are checked over three levels.
fn tree() -> impl Strategy<Value = (Vec<Values>, Vec<usize>, Vec<usize>)> {
    prop::collection::vec(commune_report(), 0..50).prop_flat_map(|communes| {
        let n = communes.len();
        (
            Just(communes),
            prop::collection::vec(0..DISTRICTS, n),
            prop::collection::vec(0..REGIONS, DISTRICTS),
        )
    })
}

fn consolidate_through_the_tree(
    template: &Template,
    communes: &[Values],
    district_of: &[usize],
    region_of: &[usize],
) -> Rollup {
    let districts: Vec<Rollup> = (0..DISTRICTS)
        .map(|d| {
            Rollup::of(
                template,
                communes
                    .iter()
                    .zip(district_of)
                    .filter(|(_, of)| **of == d)
                    .map(|(c, _)| c),
            )
        })
        .collect();
    let mut regions = vec![Rollup::default(); REGIONS];
    for (district, rollup) in districts.iter().enumerate() {
        regions[region_of[district]].merge(rollup);
    }
    let mut province = Rollup::default();
    for region in regions.iter().rev() {
        province.merge(region);
    }
    province
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn consolidating_through_districts_equals_consolidating_communes_directly(
        (communes, district_of, region_of) in tree()
    ) {
        let template = template();
        let direct = Rollup::of(&template, &communes);
        let through_tree = consolidate_through_the_tree(&template, &communes, &district_of, &region_of);
        assert_same(&template, &direct, &through_tree)?;
        prop_assert_eq!(direct.reports(), communes.len() as u64);
    }

    #[test]
    fn a_stored_state_reads_back_exactly(communes in prop::collection::vec(commune_report(), 0..30)) {
        let template = template();
        let rollup = Rollup::of(&template, &communes);
        let back = Rollup::from_stored(&rollup.to_stored()).expect("read back");
        // Exactly: the decimals bit for bit, so a stored consolidation merged further is the
        // one computed from scratch.
        prop_assert_eq!(&back, &rollup);
        prop_assert_eq!(back.to_stored(), rollup.to_stored());
    }

    #[test]
    fn merging_is_commutative(a in prop::collection::vec(commune_report(), 0..20),
                              b in prop::collection::vec(commune_report(), 0..20)) {
        let template = template();
        let (ra, rb) = (Rollup::of(&template, &a), Rollup::of(&template, &b));
        let mut ab = ra.clone();
        ab.merge(&rb);
        let mut ba = rb.clone();
        ba.merge(&ra);
        prop_assert_eq!(ab, ba);
    }

    #[test]
    fn merging_is_associative(a in prop::collection::vec(commune_report(), 0..15),
                              b in prop::collection::vec(commune_report(), 0..15),
                              c in prop::collection::vec(commune_report(), 0..15)) {
        let template = template();
        let [ra, rb, rc] = [&a, &b, &c].map(|r| Rollup::of(&template, r));
        let mut left = ra.clone();
        left.merge(&rb);
        left.merge(&rc);
        let mut bc = rb.clone();
        bc.merge(&rc);
        let mut right = ra.clone();
        right.merge(&bc);
        assert_same(&template, &left, &right)?;
    }

    #[test]
    fn the_order_of_reports_does_not_matter(communes in prop::collection::vec(commune_report(), 0..40)) {
        let template = template();
        let forward = Rollup::of(&template, &communes);
        let backward = Rollup::of(&template, communes.iter().rev());
        assert_same(&template, &forward, &backward)?;
    }

    #[test]
    fn the_province_shows_what_the_raw_commune_numbers_say(
        (communes, district_of, region_of) in tree()
    ) {
        let template = template();
        let province = consolidate_through_the_tree(&template, &communes, &district_of, &region_of);
        let ints = |key: &str| -> Vec<i64> {
            communes.iter().filter_map(|c| match c.get(key) {
                Some(Value::Int(i)) => Some(*i),
                _ => None,
            }).collect()
        };
        let sum = |key: &str| {
            let v = ints(key);
            (!v.is_empty()).then(|| v.iter().sum::<i64>() as f64)
        };

        prop_assert_eq!(number(&province, &template, "so_thanh_vien"), sum("so_thanh_vien"));
        prop_assert_eq!(
            number(&province, &template, "it_nhat"),
            ints("it_nhat").into_iter().min().map(|v| v as f64)
        );
        prop_assert_eq!(
            number(&province, &template, "nhieu_nhat"),
            ints("nhieu_nhat").into_iter().max().map(|v| v as f64)
        );
        let averaged = ints("binh_quan");
        prop_assert_eq!(
            number(&province, &template, "binh_quan"),
            (!averaged.is_empty())
                .then(|| averaged.iter().sum::<i64>() as f64 / averaged.len() as f64)
        );
        let money: Vec<f64> = communes.iter().filter_map(|c| match c.get("kinh_phi") {
            Some(Value::Dec(f)) => Some(*f),
            _ => None,
        }).collect();
        prop_assert!(close(
            number(&province, &template, "kinh_phi"),
            (!money.is_empty()).then(|| money.iter().sum())
        ));
        let answered_yes_no = communes.iter().filter(|c| c.contains_key("co_to_truong")).count();
        let yes = communes.iter().filter(|c| c.get("co_to_truong") == Some(&Value::Bool(true))).count();
        prop_assert_eq!(
            number(&province, &template, "co_to_truong"),
            (answered_yes_no > 0).then_some(yes as f64)
        );
        let mut counts: BTreeMap<String, u64> =
            ["tot", "kha", "yeu"].iter().map(|k| ((*k).to_owned(), 0)).collect();
        let mut picked = false;
        for commune in &communes {
            if let Some(Value::Choice(option)) = commune.get("muc_do") {
                *counts.entry(option.clone()).or_default() += 1;
                picked = true;
            }
        }
        prop_assert_eq!(province.value(&template, "muc_do"), picked.then_some(AggValue::Counts(counts)));

        // The ratio is the summed numerator over the summed denominator, times 100.
        let expected_ratio = match (sum("so_dai_hoc"), sum("so_thanh_vien")) {
            (Some(num), Some(den)) if den > 0.0 => Some(num / den * 100.0),
            _ => None,
        };
        prop_assert_eq!(number(&province, &template, "ty_le"), expected_ratio);
        prop_assert_eq!(
            province.answered(&template, "so_thanh_vien"),
            ints("so_thanh_vien").len() as u64
        );
    }
}

#[test]
fn a_province_ratio_is_never_the_average_of_district_ratios() {
    let template = template();
    let report = |num, den| {
        values(&[
            ("so_dai_hoc", Value::Int(num)),
            ("so_thanh_vien", Value::Int(den)),
        ])
    };
    // District A: 1 of 10 (10%). District B: 5 of 100 (5%). Average of ratios: 7,5%.
    let a = Rollup::of(&template, [&report(1, 10)]);
    let b = Rollup::of(&template, [&report(2, 40), &report(3, 60)]);
    assert_eq!(number(&b, &template, "ty_le"), Some(5.0));
    let mut province = a.clone();
    province.merge(&b);
    let ratio = number(&province, &template, "ty_le").expect("ratio");
    assert!((ratio - 6.0 / 110.0 * 100.0).abs() < 1e-12, "{ratio}");
    assert!((ratio - 7.5).abs() > 1.0);
}

#[test]
fn a_ratio_over_a_zero_or_missing_denominator_has_no_value() {
    let template = template();
    let zero = values(&[
        ("so_dai_hoc", Value::Int(0)),
        ("so_thanh_vien", Value::Int(0)),
    ]);
    assert_eq!(
        Rollup::of(&template, [&zero]).value(&template, "ty_le"),
        None
    );
    let only_numerator = values(&[("so_dai_hoc", Value::Int(3))]);
    assert_eq!(
        Rollup::of(&template, [&only_numerator]).value(&template, "ty_le"),
        None
    );
}

#[test]
fn missing_values_are_skipped_not_counted_as_zero() {
    let template = template();
    let full = values(&[
        ("it_nhat", Value::Int(5)),
        ("nhieu_nhat", Value::Int(5)),
        ("binh_quan", Value::Int(8)),
        ("so_thanh_vien", Value::Int(4)),
    ]);
    let empty = Values::new();
    let rollup = Rollup::of(&template, [&full, &empty, &empty]);
    assert_eq!(rollup.reports(), 3);
    assert_eq!(number(&rollup, &template, "it_nhat"), Some(5.0));
    assert_eq!(number(&rollup, &template, "nhieu_nhat"), Some(5.0));
    assert_eq!(number(&rollup, &template, "binh_quan"), Some(8.0));
    assert_eq!(number(&rollup, &template, "so_thanh_vien"), Some(4.0));
    assert_eq!(rollup.answered(&template, "binh_quan"), 1);
    assert_eq!(number(&rollup, &template, "kinh_phi"), None);
}

#[test]
fn choice_counts_list_every_option_including_zeros() {
    let template = template();
    let pick = |option: &str| values(&[("muc_do", Value::Choice(option.to_owned()))]);
    let rollup = Rollup::of(&template, [&pick("tot"), &pick("tot"), &pick("yeu")]);
    assert_eq!(
        rollup.value(&template, "muc_do"),
        Some(AggValue::Counts(BTreeMap::from([
            ("kha".to_owned(), 0),
            ("tot".to_owned(), 2),
            ("yeu".to_owned(), 1),
        ])))
    );
}

#[test]
fn yes_answers_are_counted_and_no_answers_are_not() {
    let template = template();
    let answer = |b| values(&[("co_to_truong", Value::Bool(b))]);
    let rollup = Rollup::of(&template, [&answer(true), &answer(false), &answer(true)]);
    assert_eq!(number(&rollup, &template, "co_to_truong"), Some(2.0));
    assert_eq!(rollup.answered(&template, "co_to_truong"), 3);
}

#[test]
fn an_empty_rollup_has_no_values() {
    let template = template();
    let rollup = Rollup::default();
    assert_eq!(rollup.reports(), 0);
    for indicator in &template.indicators {
        assert_eq!(
            rollup.value(&template, &indicator.key),
            None,
            "{}",
            indicator.key
        );
    }
    assert_eq!(rollup.value(&template, "khong_co"), None);
}

#[test]
fn integer_sums_stay_exact_beyond_float_precision() {
    let template = template();
    let big = values(&[("so_thanh_vien", Value::Int(i64::MAX))]);
    let one = values(&[("so_thanh_vien", Value::Int(1))]);
    let mut up = Rollup::of(&template, [&big, &one]);
    let down = Rollup::of(&template, [&one, &big]);
    assert_eq!(up, down);
    up.merge(&Rollup::default());
    assert_eq!(up, down);
    // Stored and read back, the sum is still exact (not through a float).
    let stored = Rollup::from_stored(&up.to_stored()).expect("read back");
    assert_eq!(stored, up);
    assert_eq!(
        stored.value(&template, "so_thanh_vien"),
        up.value(&template, "so_thanh_vien")
    );
    let tenths = values(&[("kinh_phi", Value::Dec(0.1))]);
    let more = values(&[("kinh_phi", Value::Dec(0.2))]);
    let odd = Rollup::of(&template, [&tenths, &more]);
    assert_eq!(
        Rollup::from_stored(&odd.to_stored()).expect("read back"),
        odd
    );
}

#[test]
fn a_rollup_serializes_for_caching() {
    let template = template();
    let rollup = Rollup::of(
        &template,
        [&values(&[
            ("so_thanh_vien", Value::Int(7)),
            ("muc_do", Value::Choice("tot".to_owned())),
        ])],
    );
    let json = serde_json::to_value(&rollup).expect("serialize");
    assert_eq!(json["reports"], 1);
    // States are listed by the indicator's position in the template; unanswered ones are null.
    let at = template
        .indicators
        .iter()
        .position(|i| i.key == "so_thanh_vien")
        .expect("indicator");
    assert_eq!(json["states"][at]["answered"], 1);
    assert_eq!(
        json["states"].as_array().map(Vec::len),
        Some(template.indicators.len())
    );
}
