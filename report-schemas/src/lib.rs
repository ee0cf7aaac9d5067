//! The template language of baocao.
//!
//! A report template is data, not code (domain.md, "Reports"): a TOML file under `schemas/` that a
//! province staff member writes. This crate is the whole life of such a file:
//!
//! - [`Template::parse`] reads one file and refuses a wrong one with a [`TemplateError`] that
//!   names the file, the place (`dòng 12, cột 5` or `indicators[3] (so_thanh_vien), dòng 40`;
//!   list positions count from 1, as the author counts them) and the fault, in Vietnamese.
//! - [`load_dir`] reads every template in a directory.
//! - [`Template::validate`] turns what a commune typed (JSON numbers, booleans or form strings
//!   such as `"12"`, `"12,5"`, `"có"`) into checked [`Value`]s, or returns every problem at once
//!   so the form can show them all next to their fields.
//! - [`Rollup`] consolidates reports up the unit tree. Merging is associative and commutative,
//!   so a province total is the same whether it is summed from communes or from districts.
//!
//! It knows nothing of the web or the database, so it stays fast to test.
//!
//! # Template format
//!
//! ```toml
//! key = "dinh-ky"                 # ASCII a-z 0-9 _ -, stable across versions
//! version = 1                     # from 1; (key, version) is unique in a directory
//! title = "Báo cáo định kỳ công tác khoa giáo"
//! kind = "periodic"               # periodic | thematic
//! period_types = ["month", "quarter", "half_year", "nine_months", "year"]  # or "window"
//! description = "..."             # optional
//!
//! [[groups]]                      # display groups, in order
//! key = "to_chuc"
//! title = "I. Tổ chức của Tổ khoa giáo"
//!
//! [[indicators]]
//! key = "so_thanh_vien"
//! label = "Số thành viên của Tổ khoa giáo"
//! group = "to_chuc"
//! type = "integer"                # integer | decimal | yes_no | choice | ratio
//! unit = "người"                  # optional
//! required = true                 # default false; required on submission only
//! min = 0                         # integer: default 0; decimal: no default
//! max = 50                        # optional
//! aggregate = "sum"               # default by type: integer/decimal sum, yes_no count_yes,
//!                                 # choice count_each, ratio ratio; numbers may also use
//!                                 # average, min or max
//! help = "..."                    # optional
//!
//! [[indicators]]                  # a ratio is computed, never entered
//! key = "ty_le_dai_hoc"
//! label = "Tỷ lệ thành viên có trình độ đại học trở lên"
//! group = "to_chuc"
//! type = "ratio"
//! numerator = "so_dai_hoc"        # both: integer or decimal indicators aggregated by sum
//! denominator = "so_thanh_vien"
//! scale = 100                     # default 100 (a percentage)
//! unit = "%"
//!
//! [[indicators]]
//! key = "muc_do_hoan_thanh"
//! label = "Tự đánh giá mức độ hoàn thành nhiệm vụ"
//! group = "danh_gia"
//! type = "choice"
//! options = [{ key = "tot", label = "Hoàn thành tốt nhiệm vụ" }]
//!
//! [[rules]]                       # sum(left) op sum(right), checked when all values are present
//! left = ["so_dai_hoc"]           # integer or decimal indicators only
//! op = "<="                       # <= < >= > =
//! right = ["so_thanh_vien"]
//! message = "Số thành viên có trình độ đại học trở lên không được vượt quá số thành viên của Tổ."
//!
//! [[sections]]                    # narrative sections (phần thuyết minh)
//! key = "ket_qua"
//! title = "Kết quả đạt được"
//! required = true                 # default false
//! max_chars = 8000                # default 4000
//! help = "..."
//! ```
//!
//! All text is stored NFC.

mod aggregate;
mod model;
mod parse;
mod text;
mod validate;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use aggregate::{AggValue, Rollup};
pub use model::*;

/// Checked values of a report, by indicator key. Derived ratios are never stored here.
pub type Values = BTreeMap<String, Value>;
/// Narrative sections of a report, by section key, trimmed; an empty section is absent.
pub type Sections = BTreeMap<String, String>;

/// A report that passed [`Template::validate`]: only known keys, only well-typed values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilledReport {
    pub values: Values,
    pub sections: Sections,
    /// In a draft: the cross-indicator rules it breaks, which only submitting must have solved.
    /// Always empty after a [`Mode::Submit`] check (they are errors there).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<FieldError>,
    /// The template's warning rules these figures break: shown to the filer and the
    /// reviewer, never blocking, in a draft as on submission.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<FieldError>,
}

/// How strict [`Template::validate`] is about missing fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A commune saves as it goes: required fields may still be empty and rules broken (they
    /// come back as [`FilledReport::pending`]); every value typed is still checked on its own.
    Draft,
    /// Sent up for review: required indicators and sections must be there too.
    Submit,
}

/// A template file that cannot be used, with the place and the fault in Vietnamese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {location}: {message}")]
pub struct TemplateError {
    /// The file name as given to [`Template::parse`] (for [`load_dir`], the name inside the directory).
    pub file: String,
    /// Where: `dòng L, cột C`, a path such as `indicators[3] (so_thanh_vien), dòng 40`, or a top-level key.
    pub location: String,
    /// What is wrong, in Vietnamese.
    pub message: String,
}

impl Template {
    /// Reads one template file. `file` only labels errors.
    pub fn parse(source: &str, file: &str) -> Result<Template, TemplateError> {
        parse::parse(source, file)
    }

    /// The figures a dashboard shows first: those the template names in `key_figures`, or
    /// else its first four numeric indicators.
    pub fn key_indicators(&self) -> Vec<&Indicator> {
        if self.key_figures.is_empty() {
            return self
                .indicators
                .iter()
                .filter(|i| i.kind.is_numeric())
                .take(4)
                .collect();
        }
        self.key_figures
            .iter()
            .filter_map(|k| self.indicator(k))
            .collect()
    }

    pub fn indicator(&self, key: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.key == key)
    }

    pub fn section(&self, key: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.key == key)
    }

    pub fn group(&self, key: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.key == key)
    }

    /// The indicators of one group, in display order.
    pub fn indicators_in<'a>(&'a self, group: &'a str) -> impl Iterator<Item = &'a Indicator> + 'a {
        self.indicators.iter().filter(move |i| i.group == group)
    }

    /// Raw input (JSON values: numbers, bools, strings; form strings like "12", "12,5", "co")
    /// becomes checked values, or every problem found.
    pub fn validate(
        &self,
        values: &BTreeMap<String, serde_json::Value>,
        sections: &BTreeMap<String, String>,
        mode: Mode,
    ) -> Result<FilledReport, Vec<FieldError>> {
        validate::validate(self, values, sections, mode)
    }
}

/// Every `*.toml` directly under `dir` (not recursive), parsed; sorted by (key, version).
/// Returns each template with its source text, so the caller can store exactly what was loaded.
///
/// Two files declaring the same (key, version) are an error: a round refers to a template by
/// key and version, and must never silently get the other file.
pub fn load_dir(dir: &Path) -> Result<Vec<(Template, String)>, TemplateError> {
    let dir_error = |message: String| TemplateError {
        file: dir.display().to_string(),
        location: "thư mục".to_owned(),
        message,
    };
    let entries = std::fs::read_dir(dir)
        .map_err(|e| dir_error(format!("Không đọc được thư mục mẫu báo cáo: {e}.")))?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry =
            entry.map_err(|e| dir_error(format!("Không đọc được thư mục mẫu báo cáo: {e}.")))?;
        let path = entry.path();
        if path.is_file() && path.extension().is_some_and(|ext| ext == "toml") {
            paths.push(path);
        }
    }
    paths.sort();

    let mut loaded: Vec<(Template, String, String)> = Vec::with_capacity(paths.len());
    for path in paths {
        let file = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let source = std::fs::read_to_string(&path).map_err(|e| TemplateError {
            file: file.clone(),
            location: "tệp".to_owned(),
            message: format!("Không đọc được tệp mẫu báo cáo: {e}."),
        })?;
        let template = Template::parse(&source, &file)?;
        if let Some((_, _, first)) = loaded
            .iter()
            .find(|(t, _, _)| t.key == template.key && t.version == template.version)
        {
            return Err(TemplateError {
                file,
                location: "key, version".to_owned(),
                message: format!(
                    "Mẫu báo cáo «{}» phiên bản {} đã được khai báo trong tệp {first}; mỗi cặp khóa và phiên bản chỉ được dùng một lần.",
                    template.key, template.version
                ),
            });
        }
        loaded.push((template, source, file));
    }
    loaded.sort_by(|(a, _, _), (b, _, _)| (&a.key, a.version).cmp(&(&b.key, b.version)));
    Ok(loaded.into_iter().map(|(t, s, _)| (t, s)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schemas_dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")
    }

    #[test]
    fn every_shipped_template_parses() {
        let mut count = 0;
        for entry in std::fs::read_dir(schemas_dir()).expect("schemas dir") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "toml") {
                let source = std::fs::read_to_string(&path).expect("read");
                let name = path
                    .file_name()
                    .expect("name")
                    .to_string_lossy()
                    .into_owned();
                if let Err(e) = Template::parse(&source, &name) {
                    panic!("{e}");
                }
                count += 1;
            }
        }
        assert!(count >= 2, "expected the shipped templates, found {count}");
    }

    #[test]
    fn the_shipped_directory_loads_sorted_by_key_and_version() {
        let loaded = load_dir(&schemas_dir()).expect("load");
        let keys: Vec<_> = loaded
            .iter()
            .map(|(t, _)| (t.key.clone(), t.version))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert!(keys.contains(&("dinh-ky".to_owned(), 2)));
        assert!(keys.contains(&("tong-ket-nq06".to_owned(), 1)));
        for (template, source) in &loaded {
            assert_eq!(Template::parse(source, "again").as_ref(), Ok(template));
        }
    }

    #[test]
    fn shipped_templates_are_stored_nfc() {
        use unicode_normalization::is_nfc;
        for (_, source) in load_dir(&schemas_dir()).expect("load") {
            assert!(is_nfc(&source));
        }
    }

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("report-schemas-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        dir
    }

    const MINIMAL: &str = r#"
key = "KEY"
version = VERSION
title = "Mẫu thử"
kind = "thematic"
period_types = ["window"]

[[sections]]
key = "ket_qua"
title = "Kết quả"
"#;

    fn minimal(key: &str, version: u32) -> String {
        MINIMAL
            .replace("KEY", key)
            .replace("VERSION", &version.to_string())
    }

    #[test]
    fn a_directory_is_loaded_flat_sorted_and_only_toml_files() {
        let dir = temp_dir("sorted");
        std::fs::write(dir.join("z.toml"), minimal("a", 2)).expect("write");
        std::fs::write(dir.join("y.toml"), minimal("b", 1)).expect("write");
        std::fs::write(dir.join("x.toml"), minimal("a", 1)).expect("write");
        std::fs::write(dir.join("notes.txt"), "not a template").expect("write");
        std::fs::create_dir_all(dir.join("old")).expect("mkdir");
        std::fs::write(dir.join("old").join("w.toml"), "broken = ").expect("write");
        let loaded = load_dir(&dir).expect("load");
        let keys: Vec<_> = loaded
            .iter()
            .map(|(t, _)| (t.key.as_str(), t.version))
            .collect();
        assert_eq!(keys, [("a", 1), ("a", 2), ("b", 1)]);
        assert_eq!(loaded[0].1, minimal("a", 1));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn two_files_with_the_same_key_and_version_are_refused() {
        let dir = temp_dir("duplicate");
        std::fs::write(dir.join("a.toml"), minimal("a", 1)).expect("write");
        std::fs::write(dir.join("b.toml"), minimal("a", 1)).expect("write");
        let error = load_dir(&dir).expect_err("duplicate must fail");
        assert_eq!(error.file, "b.toml");
        assert!(error.message.contains("a.toml"), "{error}");
        assert!(error.message.contains("«a» phiên bản 1"), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_broken_file_in_a_directory_is_named_by_its_file_name() {
        let dir = temp_dir("broken");
        std::fs::write(dir.join("hong.toml"), "key = ").expect("write");
        let error = load_dir(&dir).expect_err("broken must fail");
        assert_eq!(error.file, "hong.toml");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_missing_directory_is_an_error_not_an_empty_list() {
        let error = load_dir(Path::new("/nonexistent/report-schemas")).expect_err("must fail");
        assert!(error.message.contains("Không đọc được thư mục"), "{error}");
    }
}
