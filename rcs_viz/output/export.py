"""Protected results as files: CSV, Excel and JSON, each saying what rules made it.

The same `Protected` object that is drawn on screen is written here, so a
download can never hold a figure the screen did not show.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json

import pandas as pd

from rcs_viz.output import tables
from rcs_viz.engine.service import Protected

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value):
    """Neutralise text a spreadsheet would run as a formula (CSV/Excel injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def tidy(result: Protected) -> pd.DataFrame:
    """One row per cell, labels not codes, margins labelled All, no true counts."""
    c = result.cells
    out = pd.DataFrame({
        "panel": c["panel_label"], "row": c["row_label"], "col": c["col_label"],
        "count": c["count"].astype("Int64"), "value": c["value"].round(4),
        "ci_low": c["ci_low"].round(4), "ci_high": c["ci_high"].round(4),
        "status": c["status"], "reason": c["reason"],
    })
    if result.measure == "count":  # a count's value is the count: a whole number, written without ".0"
        out["value"] = c["value"].round().astype("Int64")
    if result.query.panel is None:
        out = out.drop(columns="panel")
    if result.query.cols is None:
        out = out.drop(columns="col")
    return out


def notes(result: Protected, source: str = "") -> list[tuple[str, str]]:
    """What a reader of the file needs to know: source, question, filters, rules, date."""
    q = result.query
    rows = [
        ("Data", result.dataset_title + (" (synthetic sample: not real statistics)" if result.synthetic else "")),
        ("Source file", source),
        ("Rows", q.rows), ("Columns", q.cols or ""), ("Panel", q.panel or ""),
        ("Measure", result.measure_label),
        ("Filters", "; ".join(result.filters_text) or "none"),
        ("Disclosure rules", result.rules.describe()),
        ("Cells protected", f"{result.summary['protected']} of {result.summary['cells']}"),
        ("Markers", "; ".join(f"{k} {v}" for k, v in tables.MARKERS.items())),
        ("Produced", dt.datetime.now().strftime("%Y-%m-%d %H:%M") + " by RCS Explorer"),
    ]
    rows += [("Note", n) for n in result.notes]
    return [(k, v) for k, v in rows if v != ""]


def frame_csv(frame: pd.DataFrame) -> bytes:
    """Any public table as CSV, text neutralised against formula injection."""
    return frame.map(safe_text).to_csv(index=False).encode("utf-8")


def workbook(sheets: dict[str, pd.DataFrame], notes_rows: list[tuple[str, str]]) -> bytes:
    """Public tables as Excel sheets, then a Notes sheet; no cell is ever written as a formula."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="xlsxwriter",
                        engine_kwargs={"options": {"strings_to_formulas": False}}) as xl:
        for name, frame in sheets.items():
            frame = frame.map(safe_text)
            index = not isinstance(frame.index, pd.RangeIndex)
            if index:
                frame.index = frame.index.map(
                    lambda k: tuple(map(safe_text, k)) if isinstance(k, tuple) else safe_text(k))
            frame.columns = [safe_text(c) for c in frame.columns]
            frame.to_excel(xl, sheet_name=name, index=index)
        pd.DataFrame(notes_rows, columns=["", ""]).map(safe_text).to_excel(
            xl, sheet_name="Notes", index=False, header=False)
    return buffer.getvalue()


def to_csv(result: Protected) -> bytes:
    return frame_csv(tidy(result))


def to_excel(result: Protected, source: str = "") -> bytes:
    """A workbook: the table as on screen, every cell with its status, and the notes."""
    return workbook({"Table": tables.wide(result), "Cells": tidy(result)}, notes(result, source))


def to_json(result: Protected) -> str:
    """The CLI's JSON: every cell, suppressed ones with null count, value and CIs."""
    def num(x):
        return None if pd.isna(x) else float(x)

    cells = []
    for _, c in result.cells.iterrows():
        cell = {"row": c["row_label"], "col": c["col_label"]}
        if result.query.panel is not None:
            cell = {"panel": c["panel_label"], **cell}
        count = None if pd.isna(c["count"]) else int(c["count"])
        cell.update(count=count, value=num(c["value"]), ci_low=num(c["ci_low"]), ci_high=num(c["ci_high"]),
                    status=c["status"], reason=c["reason"] if isinstance(c["reason"], str) else None)
        cells.append(cell)
    return json.dumps({
        "rows": result.query.rows, "cols": result.query.cols, "panel": result.query.panel,
        "measure": result.measure if result.query.value is None else f"{result.measure}:{result.query.value}",
        "filters": list(result.filters_text),
        "rules": dataclasses.asdict(result.rules),
        "summary": result.summary,
        "synthetic": result.synthetic,
        "cells": cells,
    }, indent=2, default=str)
