//! The official report a board signs and sends up, as an editable Word document in the
//! Party's format (Hướng dẫn 36-HD/VPTW): A4, Times New Roman 14, the header table, "BÁO CÁO"
//! and its summary line, the body, "Nơi nhận" beside the signature block, then the annexes.
//! Plain data in, bytes out: this room knows nothing of rounds, reports or the database.

use std::io::Cursor;

use docx_rs::{
    AlignmentType, BreakType, Docx, LineSpacing, PageMargin, Paragraph, Run, RunFonts,
    SpecialIndentType, Table, TableCell, TableRow, WidthType,
};

/// Twips (1/20 pt) per millimetre.
const MM: f64 = 56.693;
/// A4 portrait, in twips.
const PAGE_WIDTH: u32 = 11906;
const PAGE_HEIGHT: u32 = 16838;
/// Margins as commonly applied to 36-HD/VPTW: top and bottom 20 mm, left 30 mm, right 15 mm.
const TOP: f64 = 20.0;
const BOTTOM: f64 = 20.0;
const LEFT: f64 = 30.0;
const RIGHT: f64 = 15.0;
/// Font sizes in half-points.
const BODY: usize = 28;
const SMALL: usize = 24;
const TABLE: usize = 22;
const FONT: &str = "Times New Roman";

/// The document, as the service lays it out.
pub struct OfficialReport {
    /// The Party committee above the issuing board, in capitals ("HUYỆN ỦY QUỲNH PHỤ").
    pub superior: String,
    /// The issuing board, in capitals ("BAN TUYÊN GIÁO").
    pub issuer: String,
    /// "Số      -BC/BTGHU": the number is given when the document is registered.
    pub number: String,
    /// "Quỳnh Phụ, ngày 02 tháng 12 năm 2026".
    pub place_date: String,
    /// Below "BÁO CÁO": "kết quả công tác khoa giáo 6 tháng đầu năm 2025".
    pub summary: String,
    pub body: Vec<Part>,
    pub recipients: Vec<String>,
    /// "T/M BAN TUYÊN GIÁO".
    pub on_behalf: String,
    /// "TRƯỞNG BAN".
    pub signer_title: String,
    pub signer_name: String,
    pub annexes: Vec<Annex>,
}

pub enum Part {
    /// A heading of the outline, bold ("I. KẾT QUẢ ĐẠT ĐƯỢC").
    Heading(String),
    /// A sub-heading, bold italic ("1. Tổ chức của Tổ khoa giáo").
    Subheading(String),
    /// A paragraph of the body, justified with its first line indented.
    Text(String),
    /// A line said in italics (a note on what was counted).
    Note(String),
    Table(Grid),
}

/// A table of figures: the first column is text, the others figures (right-aligned).
pub struct Grid {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// The last row is a total, in bold.
    pub total_row: bool,
    /// Relative widths of the columns.
    pub widths: Vec<u32>,
}

pub struct Annex {
    /// "PHỤ LỤC 1".
    pub title: String,
    /// What it holds, in capitals.
    pub heading: String,
    /// "(Kèm theo Báo cáo số … của …)".
    pub attached_to: String,
    pub parts: Vec<Part>,
}

fn fonts() -> RunFonts {
    RunFonts::new()
        .ascii(FONT)
        .hi_ansi(FONT)
        .east_asia(FONT)
        .cs(FONT)
}

fn run(text: &str, size: usize) -> Run {
    Run::new().add_text(text).size(size).fonts(fonts())
}

fn centered(r: Run) -> Paragraph {
    Paragraph::new().add_run(r).align(AlignmentType::Center)
}

fn spacing(before: u32, after: u32) -> LineSpacing {
    LineSpacing::new().before(before).after(after)
}

fn twips(mm: f64) -> i32 {
    (mm * MM).round() as i32
}

/// The width of the text between the margins, in twips.
fn text_width() -> usize {
    PAGE_WIDTH as usize - twips(LEFT + RIGHT) as usize
}

fn cell(paragraphs: Vec<Paragraph>, width: usize) -> TableCell {
    paragraphs
        .into_iter()
        .fold(TableCell::new(), TableCell::add_paragraph)
        .width(width, WidthType::Dxa)
}

/// Left: the superior body, the issuing board in bold, `*`, the number. Right: the Party's
/// name in bold, underlined, then the place and date in italics.
fn header_table(r: &OfficialReport) -> Table {
    let left_w = text_width() * 42 / 100;
    let right_w = text_width() - left_w;
    let left = vec![
        centered(run(&r.superior, SMALL + 2)),
        centered(run(&r.issuer, SMALL + 2).bold()),
        centered(run("*", SMALL + 2)),
        centered(run(&r.number, SMALL + 2)).line_spacing(spacing(60, 0)),
    ];
    let right = vec![
        centered(
            run("ĐẢNG CỘNG SẢN VIỆT NAM", SMALL + 6)
                .bold()
                .underline("single"),
        ),
        centered(run(" ", SMALL)),
        centered(run(&r.place_date, BODY).italic()).line_spacing(spacing(60, 0)),
    ];
    Table::without_borders(vec![TableRow::new(vec![
        cell(left, left_w),
        cell(right, right_w),
    ])])
    .set_grid(vec![left_w, right_w])
    .width(text_width(), WidthType::Dxa)
}

fn text(t: &str) -> Paragraph {
    Paragraph::new()
        .add_run(run(t, BODY))
        .align(AlignmentType::Both)
        .indent(
            None,
            Some(SpecialIndentType::FirstLine(twips(12.7))),
            None,
            None,
        )
        .line_spacing(
            spacing(0, 120)
                .line(288)
                .line_rule(docx_rs::LineSpacingType::Auto),
        )
}

fn grid(g: &Grid) -> Table {
    let total: u32 = g.widths.iter().sum::<u32>().max(1);
    let widths: Vec<usize> = g
        .widths
        .iter()
        .map(|w| text_width() * *w as usize / total as usize)
        .collect();
    let line = |cells: &[String], bold: bool| {
        TableRow::new(
            cells
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let mut r = run(c, TABLE);
                    if bold {
                        r = r.bold();
                    }
                    let p = Paragraph::new().add_run(r).align(if i == 0 {
                        AlignmentType::Left
                    } else {
                        AlignmentType::Right
                    });
                    cell(vec![p], widths.get(i).copied().unwrap_or(1000))
                })
                .collect(),
        )
        .cant_split()
    };
    let mut rows = vec![
        TableRow::new(
            g.header
                .iter()
                .enumerate()
                .map(|(i, h)| {
                    cell(
                        vec![centered(run(h, TABLE).bold())],
                        widths.get(i).copied().unwrap_or(1000),
                    )
                })
                .collect(),
        )
        .cant_split(),
    ];
    let last = g.rows.len().saturating_sub(1);
    for (i, r) in g.rows.iter().enumerate() {
        rows.push(line(r, g.total_row && i == last));
    }
    Table::new(rows)
        .set_grid(widths)
        .width(text_width(), WidthType::Dxa)
}

fn add_parts(mut doc: Docx, parts: &[Part]) -> Docx {
    for part in parts {
        doc = match part {
            Part::Heading(h) => doc.add_paragraph(
                Paragraph::new()
                    .add_run(run(h, BODY).bold())
                    .keep_next(true)
                    .line_spacing(spacing(120, 120)),
            ),
            Part::Subheading(h) => doc.add_paragraph(
                Paragraph::new()
                    .add_run(run(h, BODY).bold().italic())
                    .keep_next(true)
                    .line_spacing(spacing(60, 60)),
            ),
            Part::Text(t) => doc.add_paragraph(text(t)),
            Part::Note(t) => doc.add_paragraph(
                Paragraph::new()
                    .add_run(run(t, SMALL).italic())
                    .line_spacing(spacing(0, 120)),
            ),
            Part::Table(g) => doc
                .add_table(grid(g))
                .add_paragraph(Paragraph::new().add_run(run("", SMALL))),
        };
    }
    doc
}

/// Left: "Nơi nhận:" and the recipients. Right: the signature block.
fn signature_table(r: &OfficialReport) -> Table {
    let left_w = text_width() * 48 / 100;
    let right_w = text_width() - left_w;
    let mut left = vec![Paragraph::new().add_run(run("Nơi nhận:", SMALL).bold().italic())];
    left.extend(
        r.recipients
            .iter()
            .map(|x| Paragraph::new().add_run(run(x, TABLE))),
    );
    let mut right = vec![
        centered(run(&r.on_behalf, BODY).bold()),
        centered(run(&r.signer_title, BODY).bold()),
    ];
    for _ in 0..4 {
        right.push(centered(run(" ", BODY)));
    }
    right.push(centered(run(&r.signer_name, BODY).bold()));
    Table::without_borders(vec![TableRow::new(vec![
        cell(left, left_w),
        cell(right, right_w),
    ])])
    .set_grid(vec![left_w, right_w])
    .width(text_width(), WidthType::Dxa)
}

/// The document as .docx bytes.
pub fn write(r: &OfficialReport) -> anyhow::Result<Vec<u8>> {
    let mut doc = Docx::new()
        .page_size(PAGE_WIDTH, PAGE_HEIGHT)
        .page_margin(
            PageMargin::new()
                .top(twips(TOP))
                .bottom(twips(BOTTOM))
                .left(twips(LEFT))
                .right(twips(RIGHT))
                .header(twips(10.0))
                .footer(twips(10.0)),
        )
        .default_fonts(fonts())
        .default_size(BODY)
        .add_table(header_table(r))
        .add_paragraph(centered(run("BÁO CÁO", BODY + 4).bold()).line_spacing(spacing(360, 0)))
        .add_paragraph(centered(run(&r.summary, BODY).bold()))
        .add_paragraph(centered(run("-----", BODY)).line_spacing(spacing(0, 240)));
    doc = add_parts(doc, &r.body);
    doc = doc
        .add_paragraph(Paragraph::new().add_run(run("", BODY)))
        .add_table(signature_table(r));
    for annex in &r.annexes {
        doc = doc
            .add_paragraph(
                Paragraph::new()
                    .add_run(run("", BODY).add_break(BreakType::Page))
                    .add_run(run(&annex.title, BODY).bold())
                    .align(AlignmentType::Center),
            )
            .add_paragraph(centered(run(&annex.heading, BODY).bold()))
            .add_paragraph(
                centered(run(&annex.attached_to, SMALL).italic()).line_spacing(spacing(0, 240)),
            );
        doc = add_parts(doc, &annex.parts);
    }
    let mut stored = Cursor::new(Vec::new());
    doc.build().pack(&mut stored)?;
    deflated(stored.into_inner())
}

/// The package with its parts compressed: docx-rs stores them as they are, and a district's
/// annexes are most of a megabyte of XML that compresses tenfold.
fn deflated(stored: Vec<u8>) -> anyhow::Result<Vec<u8>> {
    use std::io::{Read, Write};
    let mut archive = zip::ZipArchive::new(Cursor::new(stored))?;
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..archive.len() {
        let mut part = archive.by_index(i)?;
        if part.is_dir() {
            continue;
        }
        let name = part.name()?.into_owned();
        let mut bytes = Vec::with_capacity(usize::try_from(part.size()).unwrap_or(0));
        part.read_to_end(&mut bytes)?;
        out.start_file(name, options)?;
        out.write_all(&bytes)?;
    }
    Ok(out.finish()?.into_inner())
}
