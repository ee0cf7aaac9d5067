"""Baseline of the export benchmark: the consolidated workbook of a round, the way an office
scripts it today. Reads the reports from baocao's SQLite database, adds them up by district in
Python and writes, with XlsxWriter (default mode), what baocao writes: on every sheet the Party
document header, grouped column headings, a row per unit and a totals row of formulas, column
widths, frozen panes, autofilter and print set-up; a sheet per district; the completeness sheet
with submission dates; and the two charts.

Usage: bench_export.py DATABASE ROUND OUT.xlsx
Prints {"seconds": ..., "peak_kb": ...} on its last line.
"""

import json
import resource
import sqlite3
import sys
import time
import tomllib

import xlsxwriter

FIRST_COL = 3
GROUP_ROW, HEADER_ROW, FIRST_DATA_ROW = 8, 9, 10


def columns(template):
    """One numeric column per indicator, one per option of a choice, as in baocao's export."""
    groups = {g["key"]: g["title"] for g in template["groups"]}
    cols, at = [], {}
    for ind in template["indicators"]:
        kind = ind["type"]
        agg = ind.get("aggregate", "count_yes" if kind == "yes_no" else "sum")
        group = groups.get(ind["group"], "")
        unit = f' ({ind["unit"]})' if "unit" in ind else ""
        if kind == "choice":
            for opt in ind["options"]:
                cols.append((ind["key"], group, f'{ind["label"]}: {opt["label"]} (số đơn vị)', "option", opt["key"]))
        elif kind == "ratio":
            cols.append((ind["key"], group, ind["label"] + unit, "ratio", (ind["numerator"], ind["denominator"], ind.get("scale", 1))))
        else:
            at[ind["key"]] = FIRST_COL + len(cols)
            cols.append((ind["key"], group, ind["label"] + unit, agg, None))
    return cols, at


def add_up(cols, reports):
    """The aggregate of a list of reports' values, column by column."""
    out = []
    for key, _, _, agg, extra in cols:
        if agg == "option":
            out.append(sum(1 for v in reports if v.get(key) == extra))
        elif agg == "ratio":
            num = sum(v.get(extra[0], 0) or 0 for v in reports)
            den = sum(v.get(extra[1], 0) or 0 for v in reports)
            out.append(num / den * extra[2] if den else None)
        else:
            xs = [v[key] for v in reports if key in v]
            xs = [(1 if x else 0) if isinstance(x, bool) else x for x in xs]
            if not xs:
                out.append(None)
            elif agg == "average":
                out.append(sum(xs) / len(xs))
            elif agg == "max":
                out.append(max(xs))
            elif agg == "min":
                out.append(min(xs))
            else:
                out.append(sum(xs))
    return out


def col_name(c):
    name = ""
    c += 1
    while c:
        c, r = divmod(c - 1, 26)
        name = chr(65 + r) + name
    return name


def main():
    db, round_id, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    start = time.perf_counter()
    con = sqlite3.connect(db)
    source, root_id, title, period_start, period_end = con.execute(
        "SELECT t.source, r.owner_unit_id, r.title, r.period_start, r.period_end FROM rounds r "
        "JOIN templates t ON t.id = r.template_id WHERE r.id = ?",
        (round_id,),
    ).fetchone()
    template = tomllib.loads(source)
    cols, at = columns(template)
    last_col = FIRST_COL + len(cols) - 1
    units = {}
    children = {}
    for uid, name, parent in con.execute("SELECT id, name, parent_id FROM units"):
        units[uid] = name
        children.setdefault(parent, []).append((name, uid))
    reports = {}
    for unit_id, status, values, submitted in con.execute(
        "SELECT unit_id, status, values_json, submitted_at FROM reports WHERE round_id = ?",
        (round_id,),
    ):
        reports[unit_id] = (status, json.loads(values), submitted)

    wb = xlsxwriter.Workbook(out)
    base = {"font_name": "Times New Roman", "font_size": 12}
    cell = dict(base, border=1)
    total = dict(cell, bold=True, bg_color="#F2F2F2")
    f_header = wb.add_format(dict(cell, bold=True, text_wrap=True, align="center",
                                  valign="vcenter", bg_color="#DDEBF7"))
    f_text = wb.add_format(dict(cell, text_wrap=True))
    f_int = wb.add_format(dict(cell, num_format="#,##0"))
    f_dec = wb.add_format(dict(cell, num_format="#,##0.0"))
    f_pct = wb.add_format(dict(cell, num_format="0.0%"))
    f_total_text = wb.add_format(total)
    f_total = wb.add_format(dict(total, num_format="#,##0"))
    f_total_dec = wb.add_format(dict(total, num_format="#,##0.0"))
    f_title = wb.add_format(dict(base, bold=True, font_size=14, align="center"))
    f_bold = wb.add_format(dict(base, bold=True, align="center"))
    f_center = wb.add_format(dict(base, align="center"))
    f_party = wb.add_format(dict(base, bold=True, underline=1, align="center"))
    f_italic = wb.add_format(dict(base, italic=True, align="center"))
    f_subtitle = wb.add_format(dict(base, bold=True, align="center", text_wrap=True))

    def header(ws, width, subtitle):
        width = max(7, min(width, 13))
        right = width // 2 + 1
        ws.merge_range(0, 0, 0, 2, "TỈNH ỦY THỬ NGHIỆM", f_center)
        ws.merge_range(0, right, 0, width, "ĐẢNG CỘNG SẢN VIỆT NAM", f_party)
        ws.merge_range(1, 0, 1, 2, "BAN TUYÊN GIÁO", f_bold)
        ws.merge_range(2, 0, 2, 2, "*", f_center)
        ws.merge_range(3, 0, 3, 2, "Số       -BC/BTGTU", f_center)
        ws.merge_range(3, right, 3, width, "Thử Nghiệm, ngày 28 tháng 11 năm 2026", f_italic)
        ws.merge_range(5, 0, 5, width, "BÁO CÁO", f_title)
        ws.merge_range(6, 0, 6, width, subtitle, f_subtitle)
        ws.set_row(6, 33)
        ws.merge_range(7, 0, 7, width, f"(Số liệu từ ngày {period_start} đến ngày {period_end}; "
                       "chỉ gồm báo cáo đã được tiếp nhận)", f_italic)

    def print_setup(ws, ncols):
        ws.set_paper(9)
        ws.set_landscape()
        ws.fit_to_pages(max(1, -(-ncols // 14)), 0)
        if ncols > 14:
            ws.repeat_columns(0, 1)
        ws.center_horizontally()
        ws.set_margins(0.5, 0.5, 0.6, 0.6)
        ws.repeat_rows(GROUP_ROW, HEADER_ROW)
        ws.set_footer("&CTrang &P/&N")

    def sheet(ws, subtitle, rows):
        header(ws, last_col, subtitle)
        ws.set_column(0, 0, 5)
        ws.set_column(1, 1, 28)
        ws.set_column(2, 2, 10)
        ws.set_column(FIRST_COL, last_col, 13)
        ws.merge_range(GROUP_ROW, 0, HEADER_ROW, 0, "STT", f_header)
        ws.merge_range(GROUP_ROW, 1, HEADER_ROW, 1, "Đơn vị", f_header)
        ws.merge_range(GROUP_ROW, 2, HEADER_ROW, 2, "Số báo cáo được tổng hợp", f_header)
        start = 0
        while start < len(cols):
            end = start
            while end + 1 < len(cols) and cols[end + 1][1] == cols[start][1]:
                end += 1
            if start == end:
                ws.write(GROUP_ROW, FIRST_COL + start, cols[start][1], f_header)
            else:
                ws.merge_range(GROUP_ROW, FIRST_COL + start, GROUP_ROW, FIRST_COL + end, cols[start][1], f_header)
            start = end + 1
        ws.set_row(GROUP_ROW, 30)
        for c, col in enumerate(cols):
            ws.write(HEADER_ROW, FIRST_COL + c, col[2], f_header)
        ws.set_row(HEADER_ROW, 90)
        r = FIRST_DATA_ROW
        for n, (name, count, values) in enumerate(rows):
            ws.write_number(r, 0, n + 1, f_int)
            ws.write_string(r, 1, name, f_text)
            ws.write_number(r, 2, count, f_int)
            for c, (col, x) in enumerate(zip(cols, values)):
                fmt = f_dec if isinstance(x, float) else f_int
                if col[3] == "ratio":
                    nc, dc = col_name(at[col[4][0]]), col_name(at[col[4][1]])
                    ws.write_formula(r, FIRST_COL + c, f'=IF(N({dc}{r + 1})=0,"",{nc}{r + 1}/{dc}{r + 1}*{col[4][2]})', f_dec, x if x is not None else "")
                elif x is None:
                    ws.write_blank(r, FIRST_COL + c, None, fmt)
                else:
                    ws.write_number(r, FIRST_COL + c, x, fmt)
            r += 1
        ws.write_blank(r, 0, None, f_total_text)
        ws.write_string(r, 1, "Tổng cộng", f_total_text)
        for c in range(len(cols) + 1):
            name = col_name(2 + c)
            agg = cols[c - 1][3] if c else "sum"
            rng = f"{name}{FIRST_DATA_ROW + 1}:{name}{r}"
            if agg == "average":
                formula = f'=IFERROR(AVERAGE({rng}),"")'
            elif agg in ("min", "max"):
                formula = f'=IF(COUNT({rng})=0,"",{agg.upper()}({rng}))'
            elif agg == "ratio":
                extra = cols[c - 1][4]
                nc, dc = col_name(at[extra[0]]), col_name(at[extra[1]])
                formula = f'=IF(N({dc}{r + 1})=0,"",{nc}{r + 1}/{dc}{r + 1}*{extra[2]})'
            else:
                formula = f"=SUM({rng})"
            ws.write_formula(r, 2 + c, formula, f_total_dec if agg in ("average", "ratio") else f_total)
        ws.freeze_panes(FIRST_DATA_ROW, FIRST_COL)
        ws.autofilter(HEADER_ROW, 0, r - 1, last_col)
        print_setup(ws, last_col + 1)

    districts = sorted(children.get(root_id, []))
    summary_rows, completeness, district_sheets = [], [], []
    for d_name, d_id in districts:
        rows, counted, filed, dates = [], [], 0, []
        for c_name, c_id in sorted(children.get(d_id, [])):
            status, values, submitted = reports.get(c_id, (None, {}, None))
            ok = status == "accepted"
            rows.append((c_name, 1 if ok else 0, add_up(cols, [values]) if ok else [None] * len(cols)))
            if ok:
                counted.append(values)
            if status in ("submitted", "accepted"):
                filed += 1
        district_sheets.append((d_name, rows))
        summary_rows.append((d_name, len(counted), add_up(cols, counted)))
        expected = len(children.get(d_id, []))
        completeness.append((d_name, expected, filed, len(counted), expected - filed))

    sheet(wb.add_worksheet("Tổng hợp"), f"Tổng hợp {title}", summary_rows)
    taken = set()
    for d_name, rows in district_sheets:
        name = d_name[:28]
        while name in taken:
            name = name[:25] + str(len(taken))
        taken.add(name)
        sheet(wb.add_worksheet(name), f"Tổng hợp {title} của {d_name}", rows)

    ws = wb.add_worksheet("Tình hình nộp")
    header(ws, 10, f"Tình hình nộp báo cáo: {title}")
    heads = ["STT", "Đơn vị", "Số đơn vị phải nộp", "Đã nộp", "Đã tiếp nhận", "Chưa nộp", "Tỷ lệ đã nộp"]
    for c, w in enumerate([5, 28, 11, 9, 11, 9, 10]):
        ws.set_column(c, c, w)
    ws.write_row(HEADER_ROW, 0, heads, f_header)
    r = FIRST_DATA_ROW
    for n, (name, expected, filed, accepted, missing) in enumerate(completeness):
        ws.write_number(r, 0, n + 1, f_int)
        ws.write_string(r, 1, name, f_text)
        ws.write_row(r, 2, [expected, filed, accepted, missing], f_int)
        ws.write_formula(r, 6, f'=IF(C{r + 1}=0,"",D{r + 1}/C{r + 1})', f_pct, filed / expected if expected else "")
        r += 1
    ws.write_string(r, 1, "Tổng cộng", f_total_text)
    for c in range(2, 6):
        ws.write_formula(r, c, f"=SUM({col_name(c)}{FIRST_DATA_ROW + 1}:{col_name(c)}{r})", f_total)
    ws.freeze_panes(FIRST_DATA_ROW, 2)
    print_setup(ws, 7)

    charts = wb.add_worksheet("Biểu đồ")
    n = len(completeness)
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"name": "Tỷ lệ đã nộp",
                      "categories": ["Tình hình nộp", FIRST_DATA_ROW, 1, FIRST_DATA_ROW + n - 1, 1],
                      "values": ["Tình hình nộp", FIRST_DATA_ROW, 6, FIRST_DATA_ROW + n - 1, 6]})
    chart.set_title({"name": "Tỷ lệ đơn vị đã nộp báo cáo"})
    chart.set_legend({"none": True})
    chart.set_size({"width": 960, "height": 420})
    charts.insert_chart(2, 0, chart)
    bar = wb.add_chart({"type": "bar"})
    bar.add_series({"name": cols[0][2],
                    "categories": ["Tổng hợp", FIRST_DATA_ROW, 1, FIRST_DATA_ROW + n - 1, 1],
                    "values": ["Tổng hợp", FIRST_DATA_ROW, FIRST_COL, FIRST_DATA_ROW + n - 1, FIRST_COL]})
    bar.set_legend({"none": True})
    bar.set_size({"width": 960, "height": max(420, 22 * n + 120)})
    charts.insert_chart(25, 0, bar)
    wb.close()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_kb": peak}))


if __name__ == "__main__":
    main()
