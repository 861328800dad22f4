"""Protected results laid out for people: the wide table shown on screen and exported.

Pure functions of a `Protected` result, so the screen, CSV/Excel and the CLI
print the same figures with the same markers.
"""

from __future__ import annotations

import math
import re
import weakref
from dataclasses import dataclass

import pandas as pd

from rcs_viz.engine.disclosure.gate import NO_SUCH_PUPILS
from rcs_viz.engine.service import Protected

SUPPRESSED = "[c]"  # the count is protected
LOW_BASE = "[b]"    # the count shows, but a %/mean from it would rest on too few
NO_PUPILS = "[z]"   # no figure because there is nobody: a combination (a primary school's S4) that occurs nowhere
MARKERS = {
    SUPPRESSED: "protected: too few respondents, or hidden so a small cell cannot be worked out",
    LOW_BASE: "not shown: the base is too small for a reliable percentage or mean",
    NO_PUPILS: "none: no such pupils, the combination occurs nowhere in the data",
}


def count_text(value) -> str:
    """A protected count as shown: the marker where it is hidden."""
    return SUPPRESSED if value is None or pd.isna(value) else f"{int(value):,}"


def cell_text(row, measure: str, show_ci: bool = False) -> str:
    """One cell as text: the value, or the marker that says why there is none.

    A mean or % over a structural zero (`NO_SUCH_PUPILS`, public: the combination holds nobody anywhere) is
    `NO_PUPILS`, not `LOW_BASE`: nothing was held back, there is nothing to average."""
    if row["status"] != "shown":
        return SUPPRESSED
    value = row["value"]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NO_PUPILS if row.get("reason") == NO_SUCH_PUPILS else LOW_BASE
    if measure == "count":
        return f"{int(value):,}"
    text = f"{value:.1f}" if measure != "median" else f"{value:g}"
    if show_ci and not math.isnan(row["ci_low"]):
        text += f" ({row['ci_low']:.1f}–{row['ci_high']:.1f})"
    return text


# wide() per live result object: a page run asks for one result's wide table three times (the table, its grid, the
# chart read in words), each a few ms of per-cell Python. Keyed by identity, dropped when the result is (so a new
# object at a reused id never finds an old table).
_WIDE: dict[tuple[int, bool], pd.DataFrame] = {}


def _forget(ident: int) -> None:
    for ci in (False, True):
        _WIDE.pop((ident, ci), None)


def wide(result: Protected, show_ci: bool = False) -> pd.DataFrame:
    """Rows × columns of text, labels in dictionary order, margins last, one block per panel."""
    key = (id(result), bool(show_ci))
    kept = _WIDE.get(key)
    if kept is None:
        kept = _wide(result, show_ci)
        if (key[0], not key[1]) not in _WIDE:
            weakref.finalize(result, _forget, key[0])
        _WIDE[key] = kept
    return kept.copy()


def _wide(result: Protected, show_ci: bool) -> pd.DataFrame:
    """One pivot for every panel (one per panel took a third of a second on a school panel view)."""
    cells = result.cells
    read = cells[[c for c in ("status", "value", "ci_low", "ci_high", "reason") if c in cells.columns]]  # cell_text's
    text = [cell_text(r, result.measure, show_ci) for r in read.to_dict("records")]
    rows = {k: i for i, k in enumerate(dict.fromkeys(cells["row_label"]))}
    panels = {k: i for i, k in enumerate(dict.fromkeys(cells["panel_label"]))}
    keyed = pd.DataFrame({"panel": [panels[p] for p in cells["panel_label"]], "row": cells["row_label"].map(rows),
                          "col": cells["col_label"], "text": text})
    if result.query.cols is None:
        table = keyed.set_index(["panel", "row"])[["text"]].rename(columns={"text": result.measure_label})
    else:
        table = keyed.pivot(index=["panel", "row"], columns="col", values="text")
        table = table[[c for c in dict.fromkeys(cells["col_label"]) if c in table.columns]]
        table.columns.name = None
    table = table.sort_index()
    row_labels, panel_labels = list(rows), list(panels)
    labels = [row_labels[r] for r in table.index.get_level_values("row")]
    if result.query.panel is None:
        table.index = pd.Index(labels, name=result.row_title)
    else:
        table.index = pd.MultiIndex.from_arrays([[panel_labels[p] for p in table.index.get_level_values("panel")],
                                                 labels], names=[result.panel_title, result.row_title])
    return table


WORDS = {SUPPRESSED: "protected", LOW_BASE: "base too small", NO_PUPILS: "no such pupils"}


def no_pupils(rows: pd.DataFrame) -> pd.Series:
    """Per row of a comparison (a spine's indicators, a trend's waves), whether its figure is missing because
    there are no such pupils (its `hidden` marker is NO_PUPILS): public, so told apart from a protected one."""
    return rows["hidden"].eq(NO_PUPILS) if "hidden" in rows else pd.Series(False, index=rows.index)


def in_words(result: Protected, show_ci: bool = False) -> pd.DataFrame:
    """The wide table with each marker written as a word, for a screen reader, which would spell "[c]" out."""
    return wide(result, show_ci).replace(WORDS)


def name(result: Protected) -> str:
    """What a table is, in a few words: the accessible name of its grid."""
    return (result.row_title + (f" by {result.col_title}" if result.col_title else "")
            + (f", for each {result.panel_title}" if result.panel_title else "") + f" — {result.measure_label}")


def number_format(measure: str) -> str:
    """How a measure's figures are written: counts as whole numbers with thousands separators, else one decimal."""
    return "{:,.0f}" if measure == "count" else "{:g}" if measure == "median" else "{:.1f}"


@dataclass(frozen=True)
class Grid:
    """A wide table for a sortable grid: numbers as numbers, each cell's text as shown, margins apart.

    `values` holds floats, NaN where a cell has no figure, `text` the same cells as `cell_text` writes them, so a
    grid sorts by the numbers and shows the text. A grid's accessible table reads a cell's number, not its text:
    a cell without a figure is read as empty, and a text column, `NOT_SHOWN`, after the row's labels, holds the
    markers of the row's empty cells, which a screen reader reads out (as Compare's tables, `sortable`). A marker
    drawn as a number would be read as one: [b] as -inf was read "-Infinity". `body` and `margins` are row
    positions: the rows of categories, and the All rows (one per panel), which a grid keeps below whatever order
    the body is in.
    """

    values: pd.DataFrame
    text: pd.DataFrame
    body: list[int]
    margins: list[int]


def _number(row) -> float:
    """A cell's number in a grid: its value, NaN where it has none ([c], [b], [z])."""
    return float(row["value"]) if row["status"] == "shown" and not pd.isna(row["value"]) else math.nan


def _not_shown(values: pd.DataFrame, text: pd.DataFrame, at: int, markers: list[str]) -> None:
    """`NOT_SHOWN`, each row's `markers`, inserted at column `at` of both frames, if any row has one."""
    if any(markers):
        for frame in (values, text):
            frame.insert(at, NOT_SHOWN, markers)


def grid(result: Protected, show_ci: bool = False) -> Grid:
    """The wide table as numbers and texts, first columns the panel (if any) and the row label."""
    cells = result.cells.copy()
    cells["number"] = [_number(r) for r in cells[["status", "value"]].to_dict("records")]  # quicker than iterrows
    text = wide(result, show_ci)
    keys = ["panel_label", "row_label"] if result.query.panel is not None else ["row_label"]
    if result.query.cols is None:
        numbers = cells.set_index(keys)[["number"]].rename(columns={"number": result.measure_label})
    else:
        numbers = cells.pivot(index=keys, columns="col_label", values="number")  # one cell per row and column
    numbers = numbers.reindex(index=text.index, columns=text.columns)
    numbers.index.names, numbers.columns.name = text.index.names, None
    text, numbers = text.reset_index(), numbers.reset_index()
    cells_text = text.iloc[:, len(keys):].itertuples(index=False, name=None)
    _not_shown(numbers, text, len(keys), [" ".join(m for m in MARKERS if m in row) for row in cells_text])
    margin = cells.drop_duplicates(keys).set_index(keys)["row"].isna()
    labels = zip(*(text[c] for c in text.columns[:len(keys)]))  # each row's (panel,) row label
    is_margin = [bool(margin.get(k if len(keys) > 1 else k[0], False)) for k in labels]
    return Grid(numbers, text, [i for i, m in enumerate(is_margin) if not m], [i for i, m in enumerate(is_margin) if m])


@dataclass(frozen=True)
class Layout:
    """One protected table laid out for a page: its text (`wide`), its sortable grid (`grid`) and the markers it
    holds (`used`, in MARKERS order: the caption's legend, the grid's placeholder, the chart's note).

    Made at once, so that a cache of it (`ui.session.table`) spares every later page run showing the table the
    per-cell work: the page asked for the table's text three times a run, and rebuilt it each time.
    """

    wide: pd.DataFrame
    grid: Grid
    used: tuple[str, ...]


def layout(result: Protected, show_ci: bool = False) -> Layout:
    text = wide(result, show_ci)
    cells = set(text.to_numpy().ravel())
    return Layout(text, grid(result, show_ci), tuple(m for m in MARKERS if m in cells))


_NUMBER = re.compile(r"^([+\-\u2212]?)(\d[\d,]*(?:\.\d+)?)$")
NOT_SHOWN = "Not shown"  # the column of a text table's grid that names, in a row, the markers its blank cells stand for


def sortable(text: pd.DataFrame, pinned=()) -> Grid:
    """A table of text (Compare's) as a grid that sorts its numbers as numbers and says where a figure is hidden.

    A column of figures, each a whole number written as text ("1,273", "11.6", "+0.4", "−1.3"), a marker or
    empty, becomes floats (NaN where not a number), so a click sorts 994 before 22,198; intervals ("10.2–13.1")
    and words stay text. A grid's accessible table reads a number cell's number, never a drawn marker, so where
    such a column held a marker the cell is blank and a text column, `NOT_SHOWN`, after the row's labels (the
    leading text columns) holds the row's markers: "[c]" or "[b]" is read out, and seen, in the row it is about.
    `pinned` rows (comparators, All) are the margins a grid keeps below whatever order the body is in.
    """
    values, markers = text.copy(), [[] for _ in range(len(text))]
    numeric = []
    for c in text.columns:
        cells = [v.strip() if isinstance(v, str) else None for v in text[c]]
        found = [_NUMBER.match(v) if v is not None else None for v in cells]
        if not any(f is not None or v in MARKERS for f, v in zip(found, cells)) \
                or not all(f is not None or (v == "" or v in MARKERS) for f, v in zip(found, cells)):
            continue
        numeric.append(c)
        values[c] = [float(("-" if f.group(1) in ("-", "\u2212") else "") + f.group(2).replace(",", ""))
                     if f is not None else math.nan for f in found]
        text = text.assign(**{c: ["" if f is None else v for f, v in zip(found, text[c])]})
        for row, v in enumerate(cells):
            if v in MARKERS and v not in markers[row]:
                markers[row].append(v)
    _not_shown(values, text, next((i for i, c in enumerate(text.columns) if c in numeric), len(text.columns)),
               [" ".join(m) for m in markers])
    pinned = set(pinned)
    rows = range(len(text))
    return Grid(values.reset_index(drop=True), text.reset_index(drop=True), [i for i in rows if i not in pinned],
                [i for i in rows if i in pinned])


def caption(result: Protected) -> str:
    """Which rules applied and how many cells they protected, in one sentence or two."""
    s = result.summary
    text = f"{result.rules.describe()} {s['protected']} of {s['cells']} cells protected."
    if s.get("mostly_protected"):
        text += " " + s["advice"]
    return text


def total_text(result: Protected) -> str:
    """The grand total of a protected count table, or its marker when the gate hid it."""
    cells = result.cells
    total = cells[cells["row"].isna() & cells["col"].isna()]["count"].iloc[0]
    return count_text(total)


def variables(variables) -> pd.DataFrame:
    """A dictionary group's variables as a table: name, label, type, question and values."""
    return pd.DataFrame({
        "Variable": [v.name for v in variables],
        "Label": [v.label for v in variables],
        "Type": [v.type for v in variables],
        "Question": [v.question for v in variables],
        "Values": [", ".join(lab for _, lab in v.values) for v in variables],
    })
