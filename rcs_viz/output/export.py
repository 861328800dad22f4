"""Protected results as files: CSV, Excel and JSON, each saying what rules made it.

The same `Protected` object that is drawn on screen is written here, so a
download can never hold a figure the screen did not show.
"""

from __future__ import annotations

import csv
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


SYNTHETIC = "synthetic sample: fictional places and pupils, not real statistics"


def heading(result: Protected) -> str:
    """The table's title in words: "School cluster by Sex, for each Stage — Row %"."""
    text = result.row_title + (f" by {result.col_title}" if result.col_title else "")
    return text + (f", for each {result.panel_title}" if result.panel_title else "") + f" — {result.measure_label}"


def _named(result: Protected, name: str | None) -> str:
    """A variable as a reader knows it, its label, with the name a dictionary or link uses after it."""
    if not name:
        return ""
    label = result.titles.get(name, name)
    return label if label == name else f"{label} (variable {name})"


def notes(result: Protected, source: str = "", wave: str | None = None) -> list[tuple[str, str]]:
    """What a reader of the file needs to know: title, data, source, filters, wave, variables, rules, date."""
    q = result.query
    rows = [
        ("Title", heading(result)),
        ("Data", result.dataset_title + (f" ({SYNTHETIC})" if result.synthetic else "")),
        ("Source file", source),
        ("Filters", "; ".join(result.filters_text) or "none"),
        ("Wave", wave or ""),
        ("Rows", _named(result, q.rows)), ("Columns", _named(result, q.cols)), ("Panel", _named(result, q.panel)),
        ("Measure", result.measure_label + (" (weighted)" if q.weight else "")),
        ("Disclosure rules", result.rules.describe()),
        ("Cells protected", f"{result.summary['protected']} of {result.summary['cells']}"),
        ("Markers", "; ".join(f"{k} {v}" for k, v in tables.MARKERS.items())),
        ("Produced", dt.datetime.now().strftime("%Y-%m-%d %H:%M") + " by RCS Explorer"),
    ]
    if result.synthetic:
        rows.append(("Synthetic", SYNTHETIC))
    rows += [("Note", n) for n in result.notes]
    return [(k, v) for k, v in rows if v != ""]


def file_stem(result: Protected, wave: str | None = None) -> str:
    """A file name that says what the file holds: rcs_school-cluster_by_sex_row-pct_2019_2026-11-29."""
    def slug(text: str) -> str:
        return "-".join("".join(ch.lower() if ch.isalnum() else " " for ch in text).split())[:40]

    parts = [slug(result.row_title)]
    parts += ["by", slug(result.col_title)] if result.col_title else []
    parts += ["each", slug(result.panel_title)] if result.panel_title else []
    parts += [slug(result.measure_label), slug(wave) if wave else "", "synthetic" if result.synthetic else "",
              dt.date.today().isoformat()]
    return "_".join(["rcs", *[p for p in parts if p]])


def columns_note(result: Protected) -> str:
    """What the tidy file's columns hold, by label."""
    parts = [f"panel = {result.panel_title}" if result.panel_title else "", f"row = {result.row_title}",
             f"col = {result.col_title}" if result.col_title else "",
             "count = respondents (perturbed; empty where protected)",
             f"value = {result.measure_label}", "ci_low/ci_high = 95% interval",
             "status/reason = whether and why a cell is protected"]
    return "; ".join(p for p in parts if p)


def frame_csv(frame: pd.DataFrame) -> bytes:
    """Any public table as CSV, text neutralised against formula injection; number columns keep their type
    (a whole-number column is written 1273, not 1273.0)."""
    out = frame.copy()
    for c in out.columns:
        if not pd.api.types.is_numeric_dtype(out[c]):
            out[c] = out[c].map(safe_text)
    out.columns = [safe_text(c) for c in out.columns]
    return out.to_csv(index=False).encode("utf-8")


def workbook(sheets: dict[str, pd.DataFrame], notes_rows: list[tuple[str, str]],
             formats: dict[str, str] | None = None) -> bytes:
    """Public tables as Excel sheets, then a Notes sheet; no cell is ever written as a formula.

    `formats` gives a sheet's number format (e.g. "#,##0") for its number columns; numbers stay numbers.
    """
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
            if formats and name in formats:
                shape = xl.book.add_format({"num_format": formats[name]})
                first = frame.index.nlevels if index else 0
                xl.sheets[name].set_column(first, first + len(frame.columns) - 1, 14, shape)
        pd.DataFrame(notes_rows, columns=["", ""]).map(safe_text).to_excel(
            xl, sheet_name="Notes", index=False, header=False)
    return buffer.getvalue()


def to_csv(result: Protected) -> bytes:
    """The tidy cells alone (the command line's CSV); `csv_with_context` is the file a person downloads."""
    return frame_csv(tidy(result))


def csv_with_context(result: Protected, source: str = "", wave: str | None = None) -> bytes:
    """The tidy cells under a header block saying what they are (see `csv_with_header`)."""
    return csv_with_header([*notes(result, source, wave), ("Columns", columns_note(result))], tidy(result))


def csv_with_header(rows: list[tuple[str, str]], frame: pd.DataFrame) -> bytes:
    """A public table under a header block of (key, value) lines: "# Title","...", then the columns.

    Each header line is two CSV fields, key and value, so a spreadsheet shows them in two columns and
    `pandas.read_csv(..., comment="#")` skips them. Every page's CSV carries the notes its Excel file has.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for key, value in rows:  # a key is plain words: a comma would make the writer quote it, hiding its "#"
        writer.writerow([f"# {str(key).replace(',', ';')}", safe_text(" ".join(str(value).split()))])
    return buffer.getvalue().encode("utf-8") + frame_csv(frame)


def _numbers(result: Protected) -> pd.DataFrame:
    """The table as on screen for a spreadsheet: numbers as numbers, markers as their text, margins in place."""
    g = tables.grid(result)
    out = g.values.drop(columns=tables.NOT_SHOWN, errors="ignore").astype(object)  # a cell here holds its marker
    for c in out.columns:
        if pd.api.types.is_float_dtype(g.values[c]):
            out[c] = [text if pd.isna(v) else int(round(v)) if result.measure == "count" else round(float(v), 4)
                      for v, text in zip(g.values[c], g.text[c])]
    return out


def to_excel(result: Protected, source: str = "", wave: str | None = None) -> bytes:
    """A workbook: the table as on screen with numbers as numbers, every cell with its status, and the notes."""
    fmt = "#,##0" if result.measure == "count" else "0.0" if result.measure != "median" else "General"
    return workbook({"Table": _numbers(result), "Cells": tidy(result)},
                    [*notes(result, source, wave), ("Columns (Cells sheet)", columns_note(result))],
                    formats={"Table": fmt})


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
