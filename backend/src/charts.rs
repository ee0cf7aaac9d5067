//! Charts drawn on the server as SVG: no JavaScript, nothing fetched from outside, readable on
//! a phone (a narrow drawing that scales with the page), printable, and downloadable as files.
//! Each bar carries its figure in `data-value` (and its unit in `data-unit`), so what a chart
//! draws can be read back and checked. Plain drawing only: it knows no rounds or reports.

use std::fmt::Write as _;

/// The drawing's width in SVG units; the page scales it to the column it sits in.
const WIDTH: f64 = 340.0;
const FONT: &str = "'Segoe UI', Roboto, 'Noto Sans', Arial, sans-serif";
const TEXT: &str = "#1f2933";
const MUTED: &str = "#52606d";
const BAR: &str = "#2e75b6";
const ACCEPTED: &str = "#2e7d32";
const WAITING: &str = "#e6a100";
const MISSING: &str = "#c9ced6";

/// One bar of a ranked chart.
pub struct Bar {
    pub label: String,
    /// The unit's code, carried in `data-unit`.
    pub code: String,
    pub value: Option<f64>,
    /// The figure as the page writes it ("1.234", "75,0%").
    pub text: String,
    pub href: Option<String>,
}

/// One unit's completeness: how many reports are accepted, waiting, missing.
pub struct Progress {
    pub label: String,
    pub code: String,
    pub expected: u32,
    pub accepted: u32,
    /// Submitted and not yet accepted.
    pub waiting: u32,
    pub text: String,
    pub href: Option<String>,
}

/// One column of a trend.
pub struct Column {
    /// Two short lines under the column ("6 tháng đầu", "năm 2024").
    pub label: (String, String),
    pub round_id: i32,
    pub value: Option<f64>,
    pub text: String,
    /// How many reports the figure counts, written under the period.
    pub reports: u64,
    pub href: Option<String>,
    /// This round's own column, drawn darker.
    pub current: bool,
    /// Of another period type than this round's, drawn lighter.
    pub other_kind: bool,
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// A number as SVG data: plain, with a point.
fn num(x: f64) -> String {
    let s = format!("{x:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn open(id: &str, title: &str, height: f64) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-labelledby="{id}-title" id="{id}" class="chart" font-family="{FONT}" font-size="13"><title id="{id}-title">{}</title><rect width="100%" height="100%" fill="#fff"/>"##,
        esc(title)
    );
    s
}

fn link_open(s: &mut String, href: Option<&str>) {
    if let Some(h) = href {
        let _ = write!(s, r#"<a href="{}">"#, esc(h));
    }
}

fn link_close(s: &mut String, href: Option<&str>) {
    if href.is_some() {
        s.push_str("</a>");
    }
}

/// Bars from the left edge, longest first as given, each unit's name above its bar.
pub fn ranked(id: &str, title: &str, bars: &[Bar]) -> String {
    const ROW: f64 = 38.0;
    let height = 8.0 + ROW * bars.len().max(1) as f64;
    let max = bars.iter().filter_map(|b| b.value).fold(0.0_f64, f64::max);
    let room = WIDTH - 90.0;
    let mut s = open(id, title, height);
    if bars.is_empty() {
        let _ = write!(
            s,
            r#"<text x="0" y="24" fill="{MUTED}">Chưa có số liệu.</text>"#
        );
    }
    for (i, b) in bars.iter().enumerate() {
        let y = 4.0 + ROW * i as f64;
        let w = match b.value {
            Some(v) if max > 0.0 => (v / max * room).max(if v > 0.0 { 1.5 } else { 0.0 }),
            _ => 0.0,
        };
        link_open(&mut s, b.href.as_deref());
        let _ = write!(
            s,
            r##"<g class="bar" data-unit="{}" data-value="{}"><rect class="hit" x="0" y="{y}" width="{WIDTH}" height="{ROW}" fill="#fff" fill-opacity="0"/><text x="0" y="{}" fill="{TEXT}">{}</text><rect x="0" y="{}" width="{}" height="14" rx="2" fill="{BAR}"/><text x="{}" y="{}" fill="{TEXT}" font-weight="600">{}</text></g>"##,
            esc(&b.code),
            b.value.map(num).unwrap_or_default(),
            y + 13.0,
            esc(&b.label),
            y + 18.0,
            num(w),
            num(w + 6.0),
            y + 30.0,
            esc(&b.text),
        );
        link_close(&mut s, b.href.as_deref());
    }
    s.push_str("</svg>");
    s
}

/// Each unit's reports as one bar: accepted, waiting for review, missing.
pub fn progress(id: &str, title: &str, rows: &[Progress]) -> String {
    const ROW: f64 = 38.0;
    const TOP: f64 = 26.0;
    let height = TOP + 8.0 + ROW * rows.len().max(1) as f64;
    let room = WIDTH - 100.0;
    let mut s = open(id, title, height);
    let mut x = 0.0;
    for (colour, name) in [
        (ACCEPTED, "Đã tiếp nhận"),
        (WAITING, "Chờ xem xét"),
        (MISSING, "Chưa nộp"),
    ] {
        let _ = write!(
            s,
            r#"<rect x="{x}" y="6" width="12" height="12" fill="{colour}"/><text x="{}" y="16" fill="{MUTED}" font-size="12">{name}</text>"#,
            x + 16.0
        );
        x += 16.0 + 8.0 * name.chars().count() as f64 + 14.0;
    }
    for (i, r) in rows.iter().enumerate() {
        let y = TOP + 4.0 + ROW * i as f64;
        let scale = if r.expected > 0 {
            room / f64::from(r.expected)
        } else {
            0.0
        };
        let accepted = f64::from(r.accepted) * scale;
        let waiting = f64::from(r.waiting) * scale;
        let missing = f64::from(r.expected.saturating_sub(r.accepted + r.waiting)) * scale;
        link_open(&mut s, r.href.as_deref());
        let _ = write!(
            s,
            r##"<g class="bar" data-unit="{}" data-expected="{}" data-accepted="{}" data-waiting="{}"><rect class="hit" x="0" y="{y}" width="{WIDTH}" height="{ROW}" fill="#fff" fill-opacity="0"/><text x="0" y="{}" fill="{TEXT}">{}</text><rect x="0" y="{}" width="{}" height="14" fill="{ACCEPTED}"/><rect x="{}" y="{}" width="{}" height="14" fill="{WAITING}"/><rect x="{}" y="{}" width="{}" height="14" fill="{MISSING}"/><text x="{}" y="{}" fill="{TEXT}" font-weight="600">{}</text></g>"##,
            esc(&r.code),
            r.expected,
            r.accepted,
            r.waiting,
            y + 13.0,
            esc(&r.label),
            y + 18.0,
            num(accepted),
            num(accepted),
            y + 18.0,
            num(waiting),
            num(accepted + waiting),
            y + 18.0,
            num(missing),
            num(room + 6.0),
            y + 30.0,
            esc(&r.text),
        );
        link_close(&mut s, r.href.as_deref());
    }
    s.push_str("</svg>");
    s
}

/// A column per round, oldest on the left, its figure on top and its period below.
pub fn trend(id: &str, title: &str, columns: &[Column]) -> String {
    const TOP: f64 = 24.0;
    const PLOT: f64 = 170.0;
    let height = TOP + PLOT + 58.0;
    let n = columns.len().max(1) as f64;
    let slot = WIDTH / n;
    let w = (slot * 0.6).min(48.0);
    // Labels shrink when many rounds share the width.
    let small = (slot / 6.0).clamp(8.0, 11.0);
    let max = columns
        .iter()
        .filter_map(|c| c.value)
        .fold(0.0_f64, f64::max);
    let mut s = open(id, title, height);
    let base = TOP + PLOT;
    let _ = write!(
        s,
        r##"<line x1="0" y1="{base}" x2="{WIDTH}" y2="{base}" stroke="#9aa5b1"/>"##
    );
    for (i, c) in columns.iter().enumerate() {
        let cx = slot * (i as f64 + 0.5);
        let h = match c.value {
            Some(v) if max > 0.0 => (v / max * (PLOT - 8.0)).max(if v > 0.0 { 1.5 } else { 0.0 }),
            _ => 0.0,
        };
        let fill = if c.current {
            "#1b4f8a"
        } else if c.other_kind {
            "#a9c6e8"
        } else {
            BAR
        };
        link_open(&mut s, c.href.as_deref());
        let _ = write!(
            s,
            r##"<g class="column" data-round="{}" data-value="{}"><rect class="hit" x="{}" y="{TOP}" width="{}" height="{}" fill="#fff" fill-opacity="0"/><rect x="{}" y="{}" width="{}" height="{}" fill="{fill}"/><text x="{}" y="{}" text-anchor="middle" fill="{TEXT}" font-weight="600" font-size="12">{}</text><text x="{}" y="{}" text-anchor="middle" fill="{MUTED}" font-size="{small}">{}</text><text x="{}" y="{}" text-anchor="middle" fill="{MUTED}" font-size="{small}">{}</text><text x="{}" y="{}" text-anchor="middle" fill="{MUTED}" font-size="{small}">({})</text></g>"##,
            c.round_id,
            c.value.map(num).unwrap_or_default(),
            num(slot * i as f64),
            num(slot),
            PLOT + 40.0,
            num(cx - w / 2.0),
            num(base - h),
            num(w),
            num(h),
            num(cx),
            num(base - h - 5.0),
            esc(&c.text),
            num(cx),
            base + 16.0,
            esc(&c.label.0),
            num(cx),
            base + 30.0,
            esc(&c.label.1),
            num(cx),
            base + 44.0,
            c.reports,
        );
        link_close(&mut s, c.href.as_deref());
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_proportional_and_carry_their_figures() {
        let bars = [
            Bar {
                label: "Huyện <A>".into(),
                code: "1".into(),
                value: Some(200.0),
                text: "200".into(),
                href: Some("/x?a=1&b=2".into()),
            },
            Bar {
                label: "B".into(),
                code: "2".into(),
                value: Some(50.0),
                text: "50".into(),
                href: None,
            },
        ];
        let svg = ranked("c", "Thử", &bars);
        assert!(svg.contains(r#"data-unit="1" data-value="200""#));
        assert!(svg.contains(r#"width="250""#), "{svg}");
        assert!(svg.contains(r#"width="62.5""#), "{svg}");
        assert!(svg.contains("Huyện &lt;A&gt;"));
        assert!(svg.contains(r#"href="/x?a=1&amp;b=2""#));
    }
}
