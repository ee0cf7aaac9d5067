"""Baseline of the upload benchmark: the filled commune forms read the way an office scripts
it today, with pandas: every sheet of every file, the unit from the hidden sheet, each
indicator's value checked (a number must not be negative) and gathered into one table.

Usage: bench_upload.py FORMS_DIRECTORY
Prints {"seconds": ..., "peak_kb": ..., "stored": N} on its last line.
"""

import json
import pathlib
import resource
import sys
import time

import pandas as pd


def main():
    start = time.perf_counter()
    records, problems = [], 0
    for path in sorted(pathlib.Path(sys.argv[1]).glob("*.xlsx")):
        sheets = pd.read_excel(path, sheet_name=None, header=None)
        meta = dict(zip(sheets["_baocao"][0], sheets["_baocao"][1]))
        rows = sheets["Nhập liệu"]
        rows = rows[rows[7].notna() & (rows.index > 4)]
        record = {"unit": meta.get("unit")}
        for key, value in zip(rows[7], rows[3]):
            if isinstance(value, (int, float)) and not pd.isna(value) and value < 0:
                problems += 1
            record[key] = value
        text = sheets["Thuyết minh"]
        record["sections"] = int(text[1].notna().sum()) if 1 in text else 0
        records.append(record)
    table = pd.DataFrame(records)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_kb": peak, "stored": len(table) - problems}))


if __name__ == "__main__":
    main()
