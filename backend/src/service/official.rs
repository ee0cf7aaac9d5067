//! The consolidated report a board signs and sends up (*báo cáo tổng hợp*), drafted from the
//! round: the Party's header for the board, the outline of the template's narrative sections
//! with the board's own text where written, the key figures in words and the figures by group
//! as tables, "Nơi nhận" and the signature block, then the annexes (figures by unit, who has
//! filed, the communes' narratives by section). The board finishes and signs it in Word.

use report_schemas::{AggValue, IndicatorKind, Template, TemplateKind};

use super::access::CurrentUser;
use super::dashboard;
use super::units::{has_children, unit_by_id};
use super::{RoundCtx, filing, rollup, rounds};
use crate::catalog::Catalog;
use crate::db::Conn;
use crate::db::models::Unit;
use crate::document::{Annex, Grid, OfficialReport, Part};
use crate::domain::{Board, ReportStatus, RollupRow, display_figure, vn};
use crate::error::{AppError, AppResult};

const ROMAN: &[&str] = &[
    "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII",
];

/// A group's title without its own numbering ("I. Tổ chức" → "Tổ chức").
fn bare_title(title: &str) -> &str {
    match title.split_once(". ") {
        Some((head, rest)) if ROMAN.contains(&head) || head.chars().all(|c| c.is_ascii_digit()) => {
            rest
        }
        _ => title,
    }
}

/// An indicator's rows in a table of figures: one for a figure, one per option for a choice.
fn figure_rows(t: &Template, key: &str, value: Option<&AggValue>) -> Vec<(String, String)> {
    let Some(ind) = t.indicator(key) else {
        return Vec::new();
    };
    match (&ind.kind, value) {
        (IndicatorKind::Choice { options }, Some(AggValue::Counts(counts))) => options
            .iter()
            .map(|o| {
                (
                    format!("{}: {}", ind.label, o.label),
                    vn::int(counts.get(&o.key).copied().unwrap_or(0) as i64),
                )
            })
            .collect(),
        (IndicatorKind::Choice { options }, _) => options
            .iter()
            .map(|o| (format!("{}: {}", ind.label, o.label), "–".to_owned()))
            .collect(),
        (IndicatorKind::YesNo, _) => vec![(
            format!("{} (số đơn vị trả lời có)", ind.label),
            display_figure(t, key, value),
        )],
        _ => vec![(ind.label.clone(), display_figure(t, key, value))],
    }
}

fn unit_of_measure(t: &Template, key: &str) -> String {
    match t.indicator(key) {
        Some(i) if matches!(i.kind, IndicatorKind::YesNo) => "đơn vị".into(),
        Some(i) if matches!(i.kind, IndicatorKind::Choice { .. }) => "đơn vị".into(),
        Some(i) => i.unit.clone().unwrap_or_default(),
        None => String::new(),
    }
}

/// The paragraphs of a narrative as typed: one per line, empty lines dropped.
fn paragraphs(text: &str) -> Vec<Part> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| Part::Text(l.to_owned()))
        .collect()
}

/// The drafted document and the name its file is saved under.
pub struct Drafted {
    pub report: OfficialReport,
    pub file_name: String,
}

/// Drafts the consolidated report of `unit` (a district or the province) for `ctx`'s round.
pub fn draft(
    conn: &mut Conn,
    catalog: &Catalog,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
    provisional: bool,
) -> AppResult<Drafted> {
    if !user.can_read(unit) {
        return Err(AppError::forbidden());
    }
    if !has_children(conn, unit, ctx.round.period_end)? {
        return Err(AppError::NotFound(
            "Báo cáo tổng hợp chỉ lập cho đơn vị có đơn vị trực thuộc.".into(),
        ));
    }
    let t = &ctx.template;
    // Every commune below, each with the unit it reports through.
    let mut communes: Vec<(String, RollupRow)> = Vec::new();
    let view = rollup::rollup_each(conn, user, ctx, unit, provisional, |child| {
        let parent = child.unit.name.clone();
        communes.extend(child.rows.into_iter().map(|r| (parent.clone(), r)));
        Ok(())
    })?;
    communes.extend(
        view.rows
            .iter()
            .filter(|r| r.leaf)
            .map(|r| (view.unit.name.clone(), r.clone())),
    );
    let own = filing::stored_view(conn, user, ctx, unit)?;
    let board = dashboard::key_figures(conn, catalog, user, ctx, unit, &view)?;
    let b = Board::from(unit);
    let today = vn::local(ctx.now).date();
    let number = format!("Số        -BC/{}", b.abbreviation);
    let dated = vn::date_long(today);
    let period = rounds::period_label(&ctx.round);
    let summary = if t.kind == TemplateKind::Periodic {
        format!("kết quả công tác khoa giáo {}", vn::lower_first(&period))
    } else {
        vn::lower_first(&ctx.round.title)
    };
    let c = &view.total.completeness;

    let counted = format!(
        "căn cứ báo cáo của {}/{} Tổ khoa giáo cơ sở đã được tiếp nhận (đã nộp {}/{}){}",
        c.accepted,
        c.expected,
        c.submitted,
        c.expected,
        if provisional {
            "; số liệu tạm tính gồm cả các báo cáo đã nộp nhưng chưa được tiếp nhận"
        } else {
            ""
        }
    );
    let opening = if ctx.owner.id == unit.id {
        vn::upper_first(&counted)
    } else {
        let ob = Board::from(&ctx.owner);
        format!(
            "Thực hiện hướng dẫn của Ban Tuyên giáo {} {} về {}, {counted}",
            ob.committee,
            ob.place,
            vn::lower_first(&ctx.round.title)
        )
    };
    let mut body = vec![Part::Text(format!(
        "{opening}, Ban Tuyên giáo {} {} báo cáo {summary} như sau:",
        b.committee, b.place
    ))];
    let figures_after = t
        .sections
        .iter()
        .position(|s| s.key == "ket_qua")
        .unwrap_or(0);
    for (i, s) in t.sections.iter().enumerate() {
        body.push(Part::Heading(format!(
            "{}. {}",
            ROMAN.get(i).copied().unwrap_or("*"),
            s.title.to_uppercase()
        )));
        match own.sections.get(&s.key).filter(|x| !x.trim().is_empty()) {
            Some(text) => body.extend(paragraphs(text)),
            None => body.push(Part::Note(
                "(Ban Tuyên giáo bổ sung nội dung phần này.)".into(),
            )),
        }
        if i == figures_after {
            body.extend(figures_in_words(t, &board, &view.total));
            body.extend(figures_by_group(t, &view.total));
        }
    }

    let (recipients, head) = recipients(conn, unit, &b)?;
    let attached_to = format!(
        "(Kèm theo Báo cáo số        -BC/{} {dated} của Ban Tuyên giáo {})",
        b.abbreviation, head
    );
    let annexes = vec![
        Annex {
            title: "PHỤ LỤC 1".into(),
            heading: "SỐ LIỆU TỔNG HỢP THEO ĐƠN VỊ".into(),
            attached_to: attached_to.clone(),
            parts: figures_by_unit(t, &view.rows, &view.total),
        },
        Annex {
            title: "PHỤ LỤC 2".into(),
            heading: "TÌNH HÌNH NỘP BÁO CÁO CỦA CÁC TỔ KHOA GIÁO CƠ SỞ".into(),
            attached_to: attached_to.clone(),
            parts: vec![Part::Table(Grid {
                header: vec![
                    "Đơn vị".into(),
                    "Trực thuộc".into(),
                    "Tình trạng".into(),
                    "Nộp lúc".into(),
                ],
                rows: communes
                    .iter()
                    .map(|(parent, r)| {
                        vec![
                            r.unit.name.clone(),
                            parent.clone(),
                            r.status.label().to_owned(),
                            r.submitted_at
                                .map(vn::datetime)
                                .unwrap_or_else(|| "–".into()),
                        ]
                    })
                    .collect(),
                total_row: false,
                widths: vec![30, 28, 22, 20],
            })],
        },
        Annex {
            title: "PHỤ LỤC 3".into(),
            heading: "THUYẾT MINH CỦA CÁC TỔ KHOA GIÁO CƠ SỞ".into(),
            attached_to,
            parts: narratives(t, &communes),
        },
    ];
    let suffix = if provisional { "-tam-tinh" } else { "" };
    Ok(Drafted {
        file_name: format!(
            "bao-cao-tong-hop-{}-ky-{}{suffix}.docx",
            unit.code, ctx.round.id
        ),
        report: OfficialReport {
            superior: b.superior(),
            issuer: "BAN TUYÊN GIÁO".into(),
            number,
            place_date: format!("{}, {dated}", b.seat),
            summary,
            body,
            recipients,
            on_behalf: "T/M BAN TUYÊN GIÁO".into(),
            signer_title: "TRƯỞNG BAN".into(),
            signer_name: String::new(),
            annexes,
        },
    })
}

/// "Nơi nhận": the board above (or the central board), the board's own Party committee, the
/// office's file; and the board's name as an annex names it.
fn recipients(conn: &mut Conn, unit: &Unit, b: &Board) -> AppResult<(Vec<String>, String)> {
    let above = match unit.parent_id {
        Some(pid) => {
            let parent = unit_by_id(conn, pid)?;
            let pb = Board::from(&parent);
            format!("- Ban Tuyên giáo {} {} (b/c),", pb.committee, pb.place)
        }
        None => "- Ban Tuyên giáo Trung ương (b/c),".to_owned(),
    };
    Ok((
        vec![
            above,
            format!("- Thường trực {} (b/c),", b.committee),
            "- Lưu VP.".to_owned(),
        ],
        format!("{} {}", b.committee, b.place),
    ))
}

/// The key figures in a sentence, each with its change from the previous period of the same
/// kind over the same units.
fn figures_in_words(t: &Template, board: &dashboard::KeyFigures, total: &RollupRow) -> Vec<Part> {
    let previous = board.previous.as_ref().map(rounds::period_label);
    let items: Vec<String> = board
        .figures
        .iter()
        .filter_map(|k| {
            let ind = t.indicator(&k.key)?;
            let now = display_figure(t, &k.key, total.values.get(&k.key).and_then(Option::as_ref));
            let unit = match &ind.kind {
                IndicatorKind::Ratio { .. } => String::new(),
                _ => ind
                    .unit
                    .as_deref()
                    .map(|u| format!(" {u}"))
                    .unwrap_or_default(),
            };
            let change = match (k.now, k.before, &previous) {
                (Some(n), Some(b), Some(p)) if (n - b).abs() > 1e-9 => {
                    let ratio = matches!(ind.kind, IndicatorKind::Ratio { .. });
                    let d = (n - b).abs();
                    let amount = if ratio {
                        format!("{} điểm phần trăm", vn::number(d, 1))
                    } else if b.abs() > 1e-9 {
                        format!(
                            "{} ({})",
                            vn::number(d, usize::from(d.fract() > 1e-9)),
                            vn::percent(d / b * 100.0)
                        )
                    } else {
                        vn::number(d, usize::from(d.fract() > 1e-9))
                    };
                    format!(
                        " ({} {amount} so với {}, tính trên cùng các đơn vị)",
                        if n > b { "tăng" } else { "giảm" },
                        vn::lower_first(p)
                    )
                }
                (Some(_), Some(_), Some(p)) => format!(" (bằng {})", vn::lower_first(p)),
                _ => String::new(),
            };
            Some(format!(
                "{}: {now}{unit}{change}",
                vn::lower_first(&ind.label)
            ))
        })
        .collect();
    if items.is_empty() {
        return Vec::new();
    }
    vec![Part::Text(format!(
        "Một số kết quả chủ yếu: {}.",
        items.join("; ")
    ))]
}

/// The consolidated figures, a table per group of the template.
fn figures_by_group(t: &Template, total: &RollupRow) -> Vec<Part> {
    let mut out = Vec::new();
    for (n, g) in t.groups.iter().enumerate() {
        let rows: Vec<Vec<String>> = t
            .indicators
            .iter()
            .filter(|i| i.group == g.key)
            .flat_map(|i| {
                let unit = unit_of_measure(t, &i.key);
                figure_rows(t, &i.key, total.values.get(&i.key).and_then(Option::as_ref))
                    .into_iter()
                    .map(move |(label, value)| vec![label, unit.clone(), value])
            })
            .collect();
        if rows.is_empty() {
            continue;
        }
        out.push(Part::Subheading(format!(
            "{}. {}",
            n + 1,
            bare_title(&g.title)
        )));
        out.push(Part::Table(Grid {
            header: vec!["Chỉ tiêu".into(), "Đơn vị tính".into(), "Kết quả".into()],
            rows,
            total_row: false,
            widths: vec![64, 18, 18],
        }));
    }
    out
}

/// Annex 1: each group's figures by unit, five indicators to a table, the total last.
fn figures_by_unit(t: &Template, rows: &[RollupRow], total: &RollupRow) -> Vec<Part> {
    let mut out = Vec::new();
    for g in &t.groups {
        let keys: Vec<&str> = t
            .indicators
            .iter()
            .filter(|i| i.group == g.key && !matches!(i.kind, IndicatorKind::Choice { .. }))
            .map(|i| i.key.as_str())
            .collect();
        if keys.is_empty() {
            continue;
        }
        out.push(Part::Subheading(bare_title(&g.title).to_owned()));
        for chunk in keys.chunks(5) {
            let mut header = vec!["Đơn vị".to_owned()];
            header.extend(chunk.iter().map(|k| {
                let ind = t.indicator(k).map_or("", |i| i.label.as_str());
                match unit_of_measure(t, k) {
                    u if u.is_empty() || u == "%" => ind.to_owned(),
                    u => format!("{ind} ({u})"),
                }
            }));
            let line = |name: &str, r: &RollupRow| {
                let mut cells = vec![name.to_owned()];
                cells.extend(
                    chunk
                        .iter()
                        .map(|k| display_figure(t, k, r.values.get(*k).and_then(Option::as_ref))),
                );
                cells
            };
            let mut table: Vec<Vec<String>> = rows.iter().map(|r| line(&r.unit.name, r)).collect();
            table.push(line("Tổng cộng", total));
            let mut widths = vec![28];
            widths.extend(chunk.iter().map(|_| 72 / chunk.len() as u32));
            out.push(Part::Table(Grid {
                header,
                rows: table,
                total_row: true,
                widths,
            }));
        }
    }
    out
}

/// Annex 3: each narrative section, what every counted commune wrote in it.
fn narratives(t: &Template, communes: &[(String, RollupRow)]) -> Vec<Part> {
    let mut out = Vec::new();
    for (i, s) in t.sections.iter().enumerate() {
        out.push(Part::Heading(format!(
            "{}. {}",
            ROMAN.get(i).copied().unwrap_or("*"),
            s.title.to_uppercase()
        )));
        let mut any = false;
        for (_, r) in communes {
            if let Some(text) = r.sections.get(&s.key).filter(|x| !x.trim().is_empty()) {
                any = true;
                out.push(Part::Subheading(r.unit.name.clone()));
                out.extend(paragraphs(text));
            }
        }
        if !any {
            out.push(Part::Note("(Không có đơn vị nào viết phần này.)".into()));
        }
    }
    if communes
        .iter()
        .all(|(_, r)| r.status != ReportStatus::Accepted)
    {
        out.push(Part::Note(
            "Chưa có báo cáo nào được tiếp nhận: phần thuyết minh chỉ gồm các báo cáo được tính."
                .into(),
        ));
    }
    out
}
