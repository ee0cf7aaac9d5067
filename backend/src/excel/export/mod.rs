//! The consolidated workbook of a round for a unit (domain.md, "Excel"): the Party document
//! header, a summary sheet with a row per child unit and live totals, a sheet per child that
//! has units of its own, the completeness sheet and the narratives. Formulas carry their true
//! cached values so that readers which do not recalculate still see the right totals.

mod layout;
mod sheets;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::NaiveDate;
use report_schemas::Template;
use rust_xlsxwriter::{Workbook, XlsxError};

use self::layout::{FIRST_DATA_ROW, Formats};
use self::sheets::{
    charts_sheet, columns, completeness_sheet, consolidation_sheet, narrative_sheet,
};
use crate::domain::vn;
use crate::domain::{Board, RollupView, UnitRef};
use crate::excel::short_name;

/// What a workbook says of itself before any report is read: the round, the unit, the day.
pub struct ExportData {
    pub round_id: i32,
    pub round_title: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub template: Arc<Template>,
    pub unit: UnitRef,
    /// The unit's board, as the document header names it.
    pub board: Board,
    /// The day the document is dated.
    pub today: NaiveDate,
    pub provisional: bool,
    /// The indicator charted by unit (default: the first summed one).
    pub chart_indicator: Option<String>,
}

impl ExportData {
    /// ASCII, so that every browser and mail program keeps it: `tong-hop-34-ky-1.xlsx`.
    /// The provisional workbook (accepted and submitted reports) is named apart from the final
    /// one (accepted only), so that the two are never mistaken for each other in a folder.
    pub fn file_name(&self) -> String {
        let kind = if self.provisional { "-tam-tinh" } else { "" };
        format!(
            "tong-hop-{}-ky-{}{kind}.xlsx",
            self.unit.code, self.round_id
        )
    }
}

/// What the reader hands back once the whole subtree is consolidated.
pub struct Consolidated {
    /// The unit's own consolidation: a row per child, and the total.
    pub summary: RollupView,
    /// The unit's own narrative, when it wrote one.
    pub own_sections: BTreeMap<String, String>,
}

/// The writer has stopped (it failed): the reader should stop too.
#[derive(Debug, thiserror::Error)]
#[error("the workbook writer stopped")]
pub struct WriterStopped;

/// Why a workbook was not written: the reader's own error, or the writer's.
#[derive(Debug, thiserror::Error)]
pub enum ExportError<E> {
    #[error("reading the consolidation failed")]
    Read(E),
    #[error("writing the workbook failed: {0}")]
    Write(#[from] XlsxError),
    #[error("the report reader panicked")]
    ReaderPanicked,
}

fn sheet_name(name: &str, taken: &mut HashSet<String>) -> String {
    let clean: String = short_name(name)
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
        .take(28)
        .collect();
    let mut candidate = clean.clone();
    let mut n = 2;
    while !taken.insert(candidate.to_lowercase()) {
        candidate = format!("{clean} ({n})");
        n += 1;
    }
    candidate
}

/// Writes the workbook described by `data` to `out`. `read` consolidates the unit's subtree,
/// handing each direct child that has units of its own to the callback, in order, as soon as it
/// is known; it runs on a thread of its own while the sheets are written on this one, so the
/// sheet of each child unit is written and let go as soon as it is read. Every sheet streams its
/// rows to a temporary file (low-memory mode: rows on disk, strings shared once in memory), so
/// that a national round needs a few tens of MB, not a copy of every cell.
pub fn write_workbook<W, E, R>(data: &ExportData, read: R, out: W) -> Result<(), ExportError<E>>
where
    W: std::io::Write + Send,
    E: Send,
    R: FnOnce(&mut dyn FnMut(RollupView) -> Result<(), WriterStopped>) -> Result<Consolidated, E>
        + Send,
{
    let f = Formats::new();
    let cols = columns(&data.template);
    let mut workbook = Workbook::new();
    workbook
        .add_worksheet_with_low_memory()?
        .set_name("Tổng hợp")?;
    let mut taken: HashSet<String> = ["tổng hợp", "tình hình nộp", "thuyết minh", "biểu đồ"]
        .into_iter()
        .map(String::from)
        .collect();
    let title = vn::lower_first(&data.round_title);
    // Child sheets' commune rows, for averages over communes in the summary totals.
    let mut leaf_ranges: Vec<(String, u32, u32)> = Vec::new();
    // The reports are read and consolidated on one thread while the sheets are written on
    // this one, a district at a time through a short queue.
    let (sender, receiver) = std::sync::mpsc::sync_channel::<RollupView>(8);
    let consolidated = std::thread::scope(|scope| -> Result<_, ExportError<E>> {
        let reader = scope.spawn(move || {
            let mut each = |view| sender.send(view).map_err(|_| WriterStopped);
            read(&mut each)
        });
        let mut written = Ok(());
        for view in receiver.iter() {
            let name = sheet_name(&view.unit.name, &mut taken);
            let mut sheet = || -> Result<(), XlsxError> {
                let ws = workbook.add_worksheet_with_low_memory()?;
                ws.set_name(&name)?;
                let subtitle = format!("Tổng hợp {title} của {}", view.unit.name);
                consolidation_sheet(ws, &f, data, &view, &cols, None, &subtitle)
            };
            if let Err(e) = sheet() {
                written = Err(ExportError::Write(e));
                break;
            }
            if !view.rows.is_empty() && view.rows.iter().all(|r| r.leaf) {
                let last = FIRST_DATA_ROW + view.rows.len() as u32 - 1;
                leaf_ranges.push((name, FIRST_DATA_ROW, last));
            }
        }
        // Stops the reader, if the writer failed.
        drop(receiver);
        let read = reader.join().map_err(|_| ExportError::ReaderPanicked)?;
        written?;
        read.map_err(ExportError::Read)
    })?;
    let Consolidated {
        summary,
        own_sections,
    } = consolidated;
    let subtitle = format!("Tổng hợp {title} của {}", data.unit.name);
    let ws = workbook.worksheet_from_index(0)?;
    consolidation_sheet(
        ws,
        &f,
        data,
        &summary,
        &cols,
        summary
            .rows
            .iter()
            .any(|r| !r.leaf)
            .then_some(leaf_ranges.as_slice()),
        &subtitle,
    )?;
    let ws = workbook.add_worksheet_with_low_memory()?;
    ws.set_name("Tình hình nộp")?;
    completeness_sheet(ws, &f, data, &summary)?;
    let ws = workbook.add_worksheet_with_low_memory()?;
    ws.set_name("Thuyết minh")?;
    narrative_sheet(ws, &f, data, &summary, &own_sections)?;
    charts_sheet(&mut workbook, &f, data, &summary, &cols)?;
    workbook.save_to_writer(out)?;
    Ok(())
}
