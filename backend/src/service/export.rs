//! The consolidated workbook of a round for a unit: the service walks the tree and hands each
//! consolidation to the excel room's writer as it goes; the writer never sees the database.

use std::io::Write;
use std::path::Path;

use diesel::prelude::*;

use super::RoundCtx;
use super::access::{CurrentUser, round_for};
use super::filing::stored_view;
use super::rollup::rollup_each;
use super::units::unit_by_code;
use crate::catalog::Catalog;
use crate::db::Conn;
use crate::db::models::Unit;
use crate::db::schema::rounds;
use crate::domain::{RollupView, vn};
use crate::error::{AppError, AppResult};
use crate::excel::{self, Consolidated, ExportData, ExportError};

/// What the workbook of `ctx`'s round for `unit` says of itself.
pub fn export_data(ctx: &RoundCtx, unit: &Unit, provisional: bool) -> ExportData {
    ExportData {
        round_id: ctx.round.id,
        round_title: ctx.round.title.clone(),
        period_start: ctx.round.period_start,
        period_end: ctx.round.period_end,
        template: ctx.template.clone(),
        unit: unit.into(),
        board: unit.into(),
        today: vn::today(),
        provisional,
        chart_indicator: None,
    }
}

/// Writes the workbook of `ctx`'s round for `unit` to `out`, as `data` describes it, reading the
/// reports as the sheets are written (see [`excel::write_workbook`]).
pub fn write_workbook<W: Write + Send>(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
    data: &ExportData,
    out: W,
) -> AppResult<()> {
    if !user.can_read(unit) {
        return Err(AppError::forbidden());
    }
    let read = |each: &mut dyn FnMut(RollupView) -> Result<(), excel::WriterStopped>| {
        let summary = rollup_each(conn, user, ctx, unit, data.provisional, |view| {
            each(view).map_err(|stopped| AppError::from(anyhow::Error::new(stopped)))
        })?;
        let own = stored_view(conn, user, ctx, unit)?;
        Ok::<_, AppError>(Consolidated {
            summary,
            own_sections: own.sections,
        })
    };
    excel::write_workbook(data, read, out).map_err(|e| match e {
        ExportError::Read(e) => e,
        other => AppError::Unexpected(anyhow::Error::new(other)),
    })
}

/// Writes the workbook of `round` for the unit with `code`, as the operator at the console
/// sees it, to `path` (through a neighbouring file renamed at the end, so that a failed export
/// never leaves half a workbook under the name asked for). Returns the size written.
pub fn to_file(
    conn: &mut Conn,
    catalog: &Catalog,
    round: i32,
    code: &str,
    provisional: bool,
    path: &Path,
) -> AppResult<u64> {
    let period_end: chrono::NaiveDate = rounds::table
        .find(round)
        .select(rounds::period_end)
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::NotFound(format!("Không có kỳ báo cáo số {round}.")))?;
    let root = unit_by_code(conn, code, Some(period_end))?
        .ok_or_else(|| AppError::NotFound(format!("Không có đơn vị mã {code}.")))?;
    let operator = CurrentUser::console(root.clone());
    let ctx = round_for(conn, catalog, &operator, round, vn::now_utc())?;
    let data = export_data(&ctx, &root, provisional);
    let mut part = path.as_os_str().to_owned();
    part.push(".part");
    let part = std::path::PathBuf::from(part);
    let written = (|| -> AppResult<u64> {
        let file = std::fs::File::create(&part).map_err(anyhow::Error::from)?;
        let mut out = std::io::BufWriter::new(file);
        write_workbook(conn, &operator, &ctx, &root, &data, &mut out)?;
        let file = out
            .into_inner()
            .map_err(|e| anyhow::Error::from(e.into_error()))?;
        file.sync_all().map_err(anyhow::Error::from)?;
        Ok(file.metadata().map_err(anyhow::Error::from)?.len())
    })();
    match written {
        Ok(len) => {
            std::fs::rename(&part, path).map_err(anyhow::Error::from)?;
            Ok(len)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            Err(e)
        }
    }
}
