"""Fills a baocao offline form the way an office script would, with openpyxl.

Usage: fill_form.py IN.xlsx OUT.xlsx INSTRUCTIONS.json
Instructions: {"values": {key: value}, "sections": {key: text}, "reasons": {key: text},
               "roster": {key: value}, "cells": [[sheet, "J5", value]],
               "rename_sheet": [old, new], "insert_row_at": n, "meta": {name: value}}
A value that is a string starting with "=" is written as a formula without a computed value, as
openpyxl and other scripts write them.
Rows are found by the indicator key in the hidden column H, as the form records them.
"""
import json
import sys

import openpyxl
import openpyxl.styles

src, dst, spec_path = sys.argv[1:4]
with open(spec_path, encoding="utf-8") as f:
    spec = json.load(f)
wb = openpyxl.load_workbook(src)
ws = wb["Nhập liệu"]
# Keys are written with dots for underscores (see backend/src/offline.rs).
rows = {str(ws.cell(row=r, column=8).value).replace(".", "_"): r for r in range(1, ws.max_row + 1)}
for key, value in spec.get("values", {}).items():
    ws.cell(row=rows[key], column=4).value = value
for key, value in spec.get("reasons", {}).items():
    ws.cell(row=rows[key], column=6).value = value
for key, value in spec.get("roster", {}).items():
    ws.cell(row=rows[key], column=5).value = value
for sheet, ref, value in spec.get("cells", []):
    wb[sheet][ref].value = value
text = wb["Thuyết minh"]
text_rows = {str(text.cell(row=r, column=3).value).replace(".", "_"): r for r in range(1, text.max_row + 1)}
for key, value in spec.get("sections", {}).items():
    cell = text.cell(row=text_rows[key], column=2)
    cell.value = value
    if spec.get("legacy_font"):
        # As a file from the 2000s: the text typed in a legacy font (TCVN3 or VNI).
        cell.font = openpyxl.styles.Font(name=spec["legacy_font"])
meta = wb["_baocao"]
for r in range(1, meta.max_row + 1):
    name = meta.cell(row=r, column=1).value
    if name in spec.get("meta", {}):
        meta.cell(row=r, column=2).value = spec["meta"][name]
if spec.get("insert_row_at"):
    ws.insert_rows(spec["insert_row_at"])
if spec.get("rename_sheet"):
    old, new = spec["rename_sheet"]
    wb[old].title = new
wb.save(dst)
