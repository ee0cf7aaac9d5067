//! The offline form (*mẫu nhập liệu*) out and back in: a commune downloads its form, fills it in
//! Excel and uploads it, or its board uploads many communes' forms at once. The workbook itself
//! is the excel room's work; here are the checks and the storing, through the same rules as the
//! web form.

use serde::Serialize;

use super::access::CurrentUser;
use super::filing::{DraftInput, Entry, ReportView, ensure_can_enter, save_draft_as, stored_view};
use super::rounds::period_beside_title;
use super::units::{children_on, has_children, unit_by_code};
use super::{RoundCtx, ensure_open, find_report};
use crate::config::Limits;
use crate::db::Conn;
use crate::db::models::Unit;
use crate::domain::{UnitRef, vn};
use crate::error::{AppError, AppResult};
use crate::excel::{self, ReadForm};

/// The offline form of `unit`'s report: its current values, or the roster's figures.
pub fn offline_form(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
) -> AppResult<Vec<u8>> {
    let view = stored_view(conn, user, ctx, unit)?;
    if view.consolidated {
        return Err(AppError::conflict(
            "consolidated",
            "Báo cáo tổng hợp lấy số liệu từ các đơn vị trực thuộc nên không có mẫu nhập liệu.",
        ));
    }
    let mut values = view.prefill.clone();
    values.extend(view.values.clone());
    let data = excel::FormData {
        identity: identity(ctx, unit),
        template: &ctx.template,
        round_title: &ctx.round.title,
        period: period_beside_title(&ctx.round),
        unit_name: &unit.name,
        deadline: vn::datetime(view.deadline),
        values: &values,
        sections: &view.sections,
        roster: &view.prefill,
        reasons: &view.overrides,
    };
    Ok(excel::form_workbook(&data)?)
}

/// The offline forms of every commune directly below `board`, in one .zip: a district hands
/// them out at once (each as the commune's report stands, blank for one not started). Named
/// `CODE-name.xlsx`, the name without marks so that any unzipper shows it.
pub fn forms_zip(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    board: &Unit,
) -> AppResult<Vec<u8>> {
    use std::io::Write;
    if !user.can_read(board) {
        return Err(AppError::forbidden());
    }
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    // The workbooks are compressed already.
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut written = 0;
    for unit in children_on(conn, board, ctx.round.period_end)? {
        if has_children(conn, &unit, ctx.round.period_end)? {
            continue;
        }
        let form = offline_form(conn, user, ctx, &unit)?;
        let name = format!("{}-{}.xlsx", unit.code, file_part(&unit.name));
        zip.start_file(name, options).map_err(anyhow::Error::new)?;
        zip.write_all(&form).map_err(anyhow::Error::new)?;
        written += 1;
    }
    if written == 0 {
        return Err(AppError::NotFound(
            "Đơn vị này không có xã nào trực thuộc để tải mẫu nhập liệu.".into(),
        ));
    }
    Ok(zip.finish().map_err(anyhow::Error::new)?.into_inner())
}

/// "Xã An Khê" → "xa-an-khe".
fn file_part(name: &str) -> String {
    name.split_whitespace()
        .map(vn::fold)
        .map(|w| {
            w.chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

fn identity(ctx: &RoundCtx, unit: &Unit) -> excel::Identity {
    excel::Identity {
        template_key: ctx.template.key.clone(),
        template_version: ctx.template.version,
        round_id: ctx.round.id,
        unit_code: unit.code.clone(),
    }
}

/// What the user is told beside a stored upload: cells converted from legacy encodings, and
/// cells typed into that are no input and were ignored.
#[derive(Debug, Clone, Default, Serialize)]
pub struct UploadNotes {
    pub converted: Vec<String>,
    pub ignored: Vec<String>,
}

impl UploadNotes {
    pub fn is_empty(&self) -> bool {
        self.converted.is_empty() && self.ignored.is_empty()
    }

    /// Every note, converted cells first.
    pub fn all(self) -> impl Iterator<Item = String> {
        self.converted.into_iter().chain(self.ignored)
    }
}

/// A filled offline form becomes the unit's draft through the same checks as the web form;
/// a file with any error changes nothing, and each error names its sheet and cell.
pub fn upload_form(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
    bytes: &[u8],
    entry: Entry,
) -> AppResult<(ReportView, UploadNotes)> {
    ensure_can_enter(ctx, user, unit, entry)?;
    let form = excel::read_form(bytes).map_err(AppError::invalid)?;
    upload_read(conn, user, ctx, unit, form, entry)
}

/// [`upload_form`] of a workbook already read.
fn upload_read(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
    form: excel::ReadForm,
    entry: Entry,
) -> AppResult<(ReportView, UploadNotes)> {
    ensure_can_enter(ctx, user, unit, entry)?;
    let upload =
        excel::check_form(form, &identity(ctx, unit), &ctx.template).map_err(AppError::invalid)?;
    let current = find_report(conn, ctx.round.id, unit.id)?.map_or(0, |r| r.version);
    let input = DraftInput {
        values: upload.values,
        sections: upload.sections,
        overrides: upload.overrides,
        version: current,
    };
    let notes = UploadNotes {
        converted: upload.converted,
        ignored: upload.ignored,
    };
    save_draft_as(conn, user, ctx, unit, &input, entry)
        .map(|view| (view, notes))
        .map_err(|e| match e {
            AppError::Invalid { message, fields } => AppError::Invalid {
                message,
                fields: excel::locate(fields, &upload.cells),
            },
            other => other,
        })
}

/// One file of a bulk upload and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct BulkResult {
    pub file: String,
    pub unit: Option<UnitRef>,
    pub stored: bool,
    pub messages: Vec<String>,
}

/// A board uploads its communes' filled forms at once: each file is matched to its commune by
/// the form's hidden sheet, checked, and stored as that commune's draft, or rejected, on its own.
/// The files are unpacked and read before the database's write lock is taken (reading needs
/// none), so that other people's saves go on meanwhile.
pub fn bulk_upload(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    board: &Unit,
    files: Vec<(String, Vec<u8>)>,
    limits: &Limits,
) -> AppResult<Vec<BulkResult>> {
    if !(user.role.reviews() && user.reach.iter().any(|r| r.id == board.id)) {
        return Err(AppError::Forbidden(
            "Chỉ Ban Tuyên giáo của đơn vị này mới được tải lên báo cáo của các đơn vị trực thuộc."
                .into(),
        ));
    }
    ensure_open(ctx)?;
    let files = excel::expand_files(files, limits.form_bytes, limits.upload_bytes)
        .map_err(|e| AppError::invalid(vec![e]))?;
    let readable: Vec<&[u8]> = files
        .iter()
        .filter_map(|f| f.bytes.as_deref().ok())
        .collect();
    let mut read = excel::read_forms(&readable).into_iter();
    let mut forms = Vec::with_capacity(files.len());
    for file in files {
        let form = match file.bytes {
            Ok(_) => read
                .next()
                .ok_or_else(|| anyhow::anyhow!("a read form went missing"))?,
            Err(message) => Err(vec![report_schemas::FieldError {
                field: "file".into(),
                message,
            }]),
        };
        forms.push((file.name, form));
    }
    // One transaction for the batch, a savepoint per file: a file is still stored or rejected
    // on its own, and the batch costs one flush to disk instead of one per file.
    super::write_transaction(conn, |conn| bulk_store(conn, user, ctx, board, forms))
}

/// What a file's form says of its unit, as the result may show it: never whether a code
/// outside the board's units exists, nor a foreign unit's name.
fn not_ours(code: &str, board: &Unit) -> String {
    format!(
        "Tệp là mẫu của đơn vị mã {code}, không trực thuộc {}; tệp không được nhận.",
        board.name
    )
}

fn bulk_store(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    board: &Unit,
    forms: Vec<(String, Result<ReadForm, Vec<report_schemas::FieldError>>)>,
) -> AppResult<Vec<BulkResult>> {
    let mut results = Vec::new();
    for (file, form) in forms {
        let mut result = BulkResult {
            file,
            unit: None,
            stored: false,
            messages: Vec::new(),
        };
        // A form names its unit; anything else is no form of ours.
        let form = match form {
            Ok(form) if form.unit().is_some() => form,
            read => {
                result.messages.push(
                    "Không phải mẫu nhập liệu của hệ thống (không đọc được đơn vị trong tệp)."
                        .into(),
                );
                if let Err(errors) = read {
                    result
                        .messages
                        .extend(errors.into_iter().map(|e| e.message));
                }
                results.push(result);
                continue;
            }
        };
        let code = form.unit().unwrap_or_default().to_owned();
        let unit = unit_by_code(conn, &code, Some(ctx.round.period_end))?
            .filter(|unit| unit.parent_id == Some(board.id));
        let Some(unit) = unit else {
            result.messages.push(not_ours(&code, board));
            results.push(result);
            continue;
        };
        result.unit = Some((&unit).into());
        match upload_read(conn, user, ctx, &unit, form, Entry::OnBehalf) {
            Ok((_, notes)) => {
                result.stored = true;
                result
                    .messages
                    .push("Đã lưu thành bản nháp của đơn vị.".into());
                result.messages.extend(notes.all());
            }
            Err(AppError::Invalid { fields, .. }) => {
                result
                    .messages
                    .extend(fields.into_iter().map(|f| f.message));
            }
            Err(e @ (AppError::Conflict { .. } | AppError::Forbidden(_))) => {
                result.messages.push(e.user_message());
            }
            Err(e) => return Err(e),
        }
        results.push(result);
    }
    Ok(results)
}
