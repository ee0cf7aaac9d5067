//! Reading a filled offline form back: what its hidden sheet says, its input and text sheets,
//! each value as typed (converted from TCVN3 or VNI where it was typed in those fonts), and each
//! problem named by its sheet and cell. Also a bulk upload's archive opened into its workbooks.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{Data, Reader, open_workbook_auto_from_rs};
use report_schemas::{FieldError, IndicatorKind, Template};
use serde_json::Value as Json;

use super::form::{
    COL_KEY, COL_LABEL, COL_REASON, COL_ROSTER, COL_VALUE, INPUT_SHEET, Identity, META_SHEET,
    TEXT_SHEET, encode_key,
};
use super::guard;
use super::legacy::{self, Legacy};
use crate::domain::vn;
use crate::excel::col_name;

/// What an uploaded form says, as the web form would have sent it.
#[derive(Debug, Default)]
pub struct Upload {
    pub values: BTreeMap<String, Json>,
    pub sections: BTreeMap<String, String>,
    pub overrides: BTreeMap<String, String>,
    /// Where each field was read from, to name the cell in an error: key → "Nhập liệu!D12".
    pub cells: BTreeMap<String, String>,
    /// What was converted from legacy encodings, told to the user.
    pub converted: Vec<String>,
    /// Cells typed into that are no input (protected, computed, outside the form): ignored,
    /// and the user is told which.
    pub ignored: Vec<String>,
}

/// Most ignored cells named one by one; the rest are counted.
const IGNORED_NAMED: usize = 10;

/// The legacy Vietnamese fonts named in an .xlsx file's styles, if any.
fn legacy_fonts(bytes: &[u8]) -> Vec<String> {
    use std::io::Read;
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Vec::new();
    };
    let mut styles = String::new();
    match zip.by_name("xl/styles.xml") {
        Ok(mut file) => {
            if file.read_to_string(&mut styles).is_err() {
                return Vec::new();
            }
        }
        Err(_) => return Vec::new(),
    }
    let mut found: Vec<String> = styles
        .split("<name val=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|name| Legacy::of_font(name).is_some())
        .map(str::to_owned)
        .collect();
    found.sort();
    found.dedup();
    found
}

/// Converts a text cell from TCVN3 or VNI if it is in one, noting where. `hint` is the legacy
/// encoding the file's fonts name, if just one.
fn legacy_text(
    text: String,
    hint: Option<Legacy>,
    at: &str,
    what: &str,
    converted: &mut Vec<String>,
) -> String {
    match legacy::from_legacy(&text, hint) {
        Some((unicode, encoding)) => {
            let font = match encoding {
                Legacy::Tcvn3 => "TCVN3 (.VnTime)",
                Legacy::Vni => "VNI (VNI-Times)",
            };
            converted.push(format!(
                "Ô {at} ({what}): chữ gõ bằng phông {font} đã được chuyển sang Unicode."
            ));
            unicode
        }
        None => text,
    }
}

fn problem(field: &str, message: String) -> FieldError {
    FieldError {
        field: field.into(),
        message,
    }
}

fn cell_text(d: Option<&Data>) -> String {
    match d {
        Some(Data::String(s)) => vn::clean(s.trim()),
        Some(Data::Float(f)) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Some(Data::Float(f)) => f.to_string(),
        Some(Data::Int(i)) => i.to_string(),
        Some(Data::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

fn cell_ref(sheet: &str, row: u32, col: u16) -> String {
    format!("{sheet}!{}{}", col_name(col), row + 1)
}

/// A value cell as the validator's raw input: numbers as numbers, text as typed.
fn raw_value(kind: &IndicatorKind, d: &Data) -> Result<Option<Json>, String> {
    Ok(match d {
        Data::Empty => None,
        Data::Int(i) => Some(Json::from(*i)),
        Data::Float(f) => {
            if matches!(kind, IndicatorKind::Integer { .. }) && f.fract() == 0.0 && f.abs() < 9e15 {
                Some(Json::from(*f as i64))
            } else {
                serde_json::Number::from_f64(*f).map(Json::Number)
            }
        }
        Data::String(s) if s.trim().is_empty() => None,
        Data::String(s) => Some(Json::String(vn::clean(s.trim()))),
        Data::Bool(b) => Some(Json::Bool(*b)),
        Data::DateTime(_) | Data::DateTimeIso(_) | Data::DurationIso(_) => {
            return Err("là ngày tháng, không phải số liệu".into());
        }
        Data::Error(e) => return Err(format!("có lỗi công thức ({e:?})")),
    })
}

/// A form's workbook read, not yet checked against anything: what its hidden sheet says, and
/// its input and text sheets (or why they could not be read). Reading is the costly part and
/// needs no database, so a bulk upload reads its files in parallel.
pub struct ReadForm {
    info: BTreeMap<String, String>,
    input: Result<calamine::Range<Data>, Vec<FieldError>>,
    /// The input sheet's formulas, where the file has them: a formula without a computed value
    /// is refused, and a computed cell whose formula was replaced is told of.
    formulas: Option<calamine::Range<String>>,
    text: Result<calamine::Range<Data>, Vec<FieldError>>,
    hint: Option<Legacy>,
}

impl ReadForm {
    /// The unit code the form was made for.
    pub fn unit(&self) -> Option<&str> {
        self.info
            .get("unit")
            .map(String::as_str)
            .filter(|code| !code.is_empty())
    }
}

/// Reads an uploaded workbook; only a file that is no form at all is refused here.
pub fn read_form(bytes: &[u8]) -> Result<ReadForm, Vec<FieldError>> {
    // Nothing reads the file before its extent and sizes are known to fit a form.
    guard::check_workbook(bytes).map_err(|e| vec![e])?;
    let mut wb = open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|_| {
        vec![problem(
            "file",
            "Không đọc được tệp: cần tệp Excel (.xlsx, .xls) hoặc LibreOffice (.ods) tải từ hệ thống.".into(),
        )]
    })?;
    let names = wb.sheet_names();
    let Some(meta) = names.iter().find(|n| n.as_str() == META_SHEET).cloned() else {
        return Err(vec![problem(
            "file",
            "Tệp không phải mẫu nhập liệu của hệ thống (thiếu trang ẩn «_baocao»). Xin tải mẫu mới từ trang báo cáo.".into(),
        )]);
    };
    let meta = wb.worksheet_range(&meta).map_err(|e| {
        vec![problem(
            "file",
            format!("Không đọc được trang «_baocao» ({e})."),
        )]
    })?;
    let mut info: BTreeMap<String, String> = BTreeMap::new();
    for row in meta.rows() {
        let k = cell_text(row.first());
        if !k.is_empty() {
            info.insert(k, cell_text(row.get(1)));
        }
    }
    let mut sheet = |name: &str| -> Result<calamine::Range<Data>, Vec<FieldError>> {
        if !names.iter().any(|n| n == name) {
            return Err(vec![problem(
                "file",
                format!("Không thấy trang «{name}»: xin đừng đổi tên hay xóa trang trong mẫu."),
            )]);
        }
        wb.worksheet_range(name).map_err(|e| {
            vec![problem(
                "file",
                format!("Không đọc được trang «{name}» ({e})."),
            )]
        })
    };
    let input = sheet(INPUT_SHEET);
    let text = sheet(TEXT_SHEET);
    let formulas = if input.is_ok() {
        wb.worksheet_formula(INPUT_SHEET).ok()
    } else {
        None
    };
    Ok(ReadForm {
        info,
        input,
        formulas,
        text,
        hint: legacy::font_hint(legacy_fonts(bytes).iter().map(String::as_str)),
    })
}

/// Checks a form read by [`read_form`] against the report it is uploaded for. Structural faults
/// (another unit's or round's file, another template version, a renamed sheet, moved rows) and
/// unreadable cells come back as errors naming the sheet and cell; nothing is judged here that
/// the template's own validation judges.
pub fn check_form(
    form: ReadForm,
    expected: &Identity,
    template: &Template,
) -> Result<Upload, Vec<FieldError>> {
    let ReadForm {
        info,
        input,
        formulas,
        text,
        hint,
    } = form;
    let formula_at = |row: u32, col: u16| -> Option<String> {
        formulas
            .as_ref()?
            .get_value((row, u32::from(col)))
            .filter(|f| !f.trim().is_empty())
            .cloned()
    };
    let mut errors = Vec::new();
    let get = |k: &str| info.get(k).cloned().unwrap_or_default();
    if get("unit") != expected.unit_code {
        errors.push(problem(
            "file",
            format!(
                "Tệp này là mẫu của đơn vị mã {}, không phải của đơn vị mã {}.",
                get("unit"),
                expected.unit_code
            ),
        ));
    }
    if get("round") != expected.round_id.to_string() {
        errors.push(problem(
            "file",
            format!(
                "Tệp này là mẫu của kỳ báo cáo số {}, không phải kỳ số {}.",
                get("round"),
                expected.round_id
            ),
        ));
    }
    if get("template") != expected.template_key
        || get("version") != expected.template_version.to_string()
    {
        errors.push(problem(
            "file",
            format!(
                "Tệp được lập theo mẫu «{}» phiên bản {}, nay kỳ báo cáo dùng phiên bản {}. Xin tải mẫu mới.",
                get("template"),
                get("version"),
                expected.template_version
            ),
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let input = input?;
    let text = text?;
    let mut up = Upload::default();
    for ind in &template.indicators {
        let Some(row) = info
            .get(&format!("row:{}", encode_key(&ind.key)))
            .and_then(|r| r.parse::<u32>().ok())
            .and_then(|r| r.checked_sub(1))
        else {
            errors.push(problem(
                &ind.key,
                format!(
                    "Mẫu thiếu dòng của chỉ tiêu «{}». Xin tải mẫu mới.",
                    ind.label
                ),
            ));
            continue;
        };
        let key_here = cell_text(input.get_value((row, u32::from(COL_KEY))));
        let label_here = cell_text(input.get_value((row, u32::from(COL_LABEL))));
        if key_here != encode_key(&ind.key) || label_here != ind.label {
            errors.push(problem(
                &ind.key,
                format!(
                    "Dòng {} của trang «{INPUT_SHEET}» không còn là chỉ tiêu «{}»: các dòng đã bị chèn, xóa hoặc di chuyển. Xin nhập lại vào mẫu mới.",
                    row + 1,
                    ind.label
                ),
            ));
            continue;
        }
        let at = cell_ref(INPUT_SHEET, row, COL_VALUE);
        up.cells.insert(ind.key.clone(), at.clone());
        let typed = input
            .get_value((row, u32::from(COL_VALUE)))
            .filter(|d| !matches!(d, Data::Empty));
        if matches!(ind.kind, IndicatorKind::Ratio { .. }) {
            // Computed in the sheet: a value typed over its formula is not the figure.
            if formulas.is_some() && typed.is_some() && formula_at(row, COL_VALUE).is_none() {
                up.ignored.push(format!(
                    "Ô {at} («{}») được tính tự động từ các ô khác; giá trị gõ vào bị bỏ qua.",
                    ind.label
                ));
            }
            continue;
        }
        if typed.is_none() && formula_at(row, COL_VALUE).is_some() {
            errors.push(problem(
                &ind.key,
                format!(
                    "Ô {at}, chỉ tiêu «{}»: công thức chưa được tính: mở tệp bằng Excel hoặc LibreOffice, lưu lại rồi tải lên.",
                    ind.label
                ),
            ));
            continue;
        }
        if let Some(expected) = info.get(&format!("roster:{}", encode_key(&ind.key))) {
            let here = cell_text(input.get_value((row, u32::from(COL_ROSTER))));
            if &here != expected {
                up.ignored.push(format!(
                    "Ô {} («{}», theo danh sách Tổ) do hệ thống điền, không sửa ở đây; giá trị gõ vào bị bỏ qua. Nếu số liệu khác danh sách Tổ, xin nhập ở cột «Số liệu» và ghi lý do.",
                    cell_ref(INPUT_SHEET, row, COL_ROSTER),
                    ind.label
                ));
            }
        } else if info.keys().any(|k| k.starts_with("roster:")) {
            // A row without a roster figure has no reason to give.
            let reason = cell_text(input.get_value((row, u32::from(COL_REASON))));
            if !reason.is_empty() {
                up.ignored.push(format!(
                    "Ô {} («{}»): chỉ ghi lý do cho số liệu lấy từ danh sách Tổ; nội dung bị bỏ qua.",
                    cell_ref(INPUT_SHEET, row, COL_REASON),
                    ind.label
                ));
            }
        }
        match typed.map(|d| raw_value(&ind.kind, d)).transpose() {
            Ok(Some(Some(Json::String(t)))) => {
                let t = legacy_text(t, hint, &at, &ind.label, &mut up.converted);
                up.values.insert(ind.key.clone(), Json::String(t));
            }
            Ok(Some(Some(v))) => {
                up.values.insert(ind.key.clone(), v);
            }
            Ok(_) => {}
            Err(e) => errors.push(problem(
                &ind.key,
                format!("Ô {at}, chỉ tiêu «{}»: {e}.", ind.label),
            )),
        }
        let reason = cell_text(input.get_value((row, u32::from(COL_REASON))));
        if !reason.is_empty() {
            up.overrides.insert(ind.key.clone(), reason);
        }
    }
    outside(&input, INPUT_SHEET, COL_KEY, &mut up.ignored);
    outside(&text, TEXT_SHEET, 2, &mut up.ignored);
    if up.ignored.len() > IGNORED_NAMED {
        let more = up.ignored.len() - IGNORED_NAMED;
        up.ignored.truncate(IGNORED_NAMED);
        up.ignored.push(format!(
            "Và {more} ô khác ngoài các ô nhập liệu cũng bị bỏ qua."
        ));
    }
    for s in &template.sections {
        let Some(row) = info
            .get(&format!("text:{}", encode_key(&s.key)))
            .and_then(|r| r.parse::<u32>().ok())
            .and_then(|r| r.checked_sub(1))
        else {
            continue;
        };
        if cell_text(text.get_value((row, 2))) != encode_key(&s.key) {
            errors.push(problem(
                &s.key,
                format!(
                    "Dòng {} của trang «{TEXT_SHEET}» không còn là mục «{}»: các dòng đã bị di chuyển.",
                    row + 1,
                    s.title
                ),
            ));
            continue;
        }
        let at = cell_ref(TEXT_SHEET, row, 1);
        up.cells.insert(s.key.clone(), at.clone());
        let value = match text.get_value((row, 1)) {
            Some(Data::String(t)) => {
                legacy_text(vn::clean(t), hint, &at, &s.title, &mut up.converted)
            }
            Some(other) => cell_text(Some(other)),
            None => String::new(),
        };
        if !value.trim().is_empty() {
            up.sections.insert(s.key.clone(), value);
        }
    }
    if errors.is_empty() {
        Ok(up)
    } else {
        Err(errors)
    }
}

/// Notes every non-empty cell right of `last_col`, the form's last column: typed outside the form.
fn outside(sheet: &calamine::Range<Data>, name: &str, last_col: u16, ignored: &mut Vec<String>) {
    for (row, col, d) in sheet.used_cells() {
        let col = u16::try_from(col).unwrap_or(u16::MAX);
        if col > last_col && !matches!(d, Data::Empty) && !cell_text(Some(d)).is_empty() {
            ignored.push(format!(
                "Ô {} nằm ngoài các ô nhập liệu của mẫu; nội dung bị bỏ qua.",
                cell_ref(name, u32::try_from(row).unwrap_or(u32::MAX), col)
            ));
        }
    }
}

/// Prefixes each error with the cell it came from.
pub fn locate(errors: Vec<FieldError>, cells: &BTreeMap<String, String>) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|e| match cells.get(&e.field) {
            Some(at) if !e.message.starts_with("Ô ") => FieldError {
                message: format!("Ô {at}: {}", e.message),
                field: e.field,
            },
            _ => e,
        })
        .collect()
}

/// Reads the workbooks of a bulk upload, on as many threads as there are cores: reading is
/// most of an upload's work and needs no database.
pub fn read_forms(files: &[&[u8]]) -> Vec<Result<ReadForm, Vec<FieldError>>> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let chunk = files.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                let worker = scope.spawn(move || {
                    part.iter()
                        .map(|bytes| read_form(bytes))
                        .collect::<Vec<_>>()
                });
                (part.len(), worker)
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|(n, worker)| {
                // A reader that panicked loses its files, each reported as unreadable.
                worker.join().unwrap_or_else(|_| {
                    (0..n)
                        .map(|_| {
                            Err(vec![FieldError {
                                field: "file".into(),
                                message: "Không đọc được tệp.".into(),
                            }])
                        })
                        .collect()
                })
            })
            .collect()
    })
}

/// How many files an archive of a bulk upload may hold.
pub const MAX_ARCHIVE_FILES: usize = 1_000;

/// One file of a bulk upload, unpacked: its bytes, or why it was not taken.
pub struct Unpacked {
    pub name: String,
    pub bytes: Result<Vec<u8>, String>,
}

fn is_archive(name: &str) -> bool {
    [".zip", ".rar", ".7z", ".tar", ".gz", ".tgz"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

fn too_big(limit: usize) -> String {
    format!(
        "Tệp lớn quá {} MB.",
        vn::int(i64::try_from(limit >> 20).unwrap_or(i64::MAX))
    )
}

/// The files of a bulk upload, a .zip opened into the workbooks it holds. Each file may be at
/// most `file_limit` bytes, and an archive's files together at most `total_limit` once
/// inflated: every entry is inflated through a cap, so an archive that claims little and
/// inflates to gigabytes is stopped at the cap. An archive inside the archive is not opened.
pub fn expand_files(
    files: Vec<(String, Vec<u8>)>,
    file_limit: usize,
    total_limit: usize,
) -> Result<Vec<Unpacked>, FieldError> {
    use std::io::Read;
    let mut out = Vec::new();
    let mut total = 0usize;
    for (name, bytes) in files {
        // An .xlsx or .ods is itself a zip: only an archive that is not a workbook is opened.
        let archive = zip::ZipArchive::new(Cursor::new(&bytes))
            .ok()
            .filter(|zip| {
                zip.index_for_name("[Content_Types].xml").is_none()
                    && zip.index_for_name("mimetype").is_none()
            });
        let Some(mut zip) = archive else {
            let bytes = if bytes.len() > file_limit {
                Err(too_big(file_limit))
            } else {
                Ok(bytes)
            };
            out.push(Unpacked { name, bytes });
            continue;
        };
        if zip.len() > MAX_ARCHIVE_FILES {
            return Err(problem(
                "file",
                format!(
                    "Tệp nén «{name}» chứa quá nhiều tệp (trên {}); xin chia thành nhiều lần tải lên.",
                    vn::int(MAX_ARCHIVE_FILES as i64)
                ),
            ));
        }
        for i in 0..zip.len() {
            let Ok(entry) = zip.by_index(i) else {
                continue;
            };
            let Ok(entry_name) = entry.name().map(|n| n.into_owned()) else {
                continue;
            };
            let lower = entry_name.to_lowercase();
            if entry.is_dir() || entry_name.contains("__MACOSX") {
                continue;
            }
            let shown = format!("{name}/{entry_name}");
            if is_archive(&lower) {
                out.push(Unpacked {
                    name: shown,
                    bytes: Err(
                        "Tệp nén nằm trong tệp nén không được mở; xin nén tất cả các mẫu vào một tệp .zip duy nhất."
                            .into(),
                    ),
                });
                continue;
            }
            if !(lower.ends_with(".xlsx") || lower.ends_with(".xls") || lower.ends_with(".ods")) {
                continue;
            }
            // Read one byte past the cap, to know whether the file is larger than it.
            let cap = file_limit.min(total_limit.saturating_sub(total)) as u64;
            let mut data = Vec::new();
            let read = entry.take(cap + 1).read_to_end(&mut data);
            total += data.len();
            if total > total_limit {
                return Err(problem(
                    "file",
                    format!(
                        "Các tệp trong «{name}» giải nén ra quá {} MB; xin chia thành nhiều lần tải lên.",
                        vn::int(i64::try_from(total_limit >> 20).unwrap_or(i64::MAX))
                    ),
                ));
            }
            let bytes = match read {
                Err(_) => Err("Không đọc được tệp này trong tệp nén.".into()),
                Ok(_) if data.len() > file_limit => Err(too_big(file_limit)),
                Ok(_) => Ok(data),
            };
            out.push(Unpacked { name: shown, bytes });
        }
    }
    Ok(out)
}
