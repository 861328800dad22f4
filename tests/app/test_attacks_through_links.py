"""The attacks across views through the page layer: each view asked as a link to Explore and read off the page.

What the room (or a signed-in viewer) sees is a presented view; every one of
them is judged against what the server presented before, whatever the owner
configured for the desk. The same links at a desk are protected one at a
time, and the attacks work there: that is the control that lets these tests
fail. Larger figures come from `bench/across_views.py` (through the engine).
"""

import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from grids import shown_text

from rcs_viz.data.dictionary import MISSING_LABEL
from rcs_viz.output import tables

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
import attacks  # noqa: E402  (tests/unit: the attack families, shared with the engine tests and the bench)

PAGE = "explore.py"
TIMEOUT = 90
SEED = 7


def link(query) -> dict:
    """The Explore link a viewer would type for a question."""
    params = {"rows": query.rows, "measure": "count", "missing": "1"}
    if query.cols:
        params["cols"] = query.cols
    for name, codes in query.filters:
        if name == "wave":
            params["wave"] = codes[0]
        else:
            params[f"f.{name}"] = list(codes)
    return params


def on_screen(at) -> pd.DataFrame | None:
    """The view's table as on screen, its row labels as the index: presented, the plain table; at a desk, its
    grid's body and then its All row, each cell as the grid draws it (a hidden one is blank or its marker)."""
    if at.table:
        return at.table[0].value
    if not at.dataframe:
        return None
    frame = pd.concat([shown_text(g) for g in at.dataframe[:2]], ignore_index=True)
    frame = frame.drop(columns=tables.NOT_SHOWN, errors="ignore")
    return frame.set_index(frame.columns[0])


def read(at, query, d, plain) -> SimpleNamespace:
    """The page's table back as cells (codes, shown count or hidden), as the attack helpers read a result."""
    table = on_screen(at)
    if table is None:  # too few left by the filters: nothing shown
        return SimpleNamespace(cells=pd.DataFrame(columns=["panel", "row", "col", "status", "count"]))

    def code(var, label):
        label = plain(label)
        return None if label == "All" else d[var].code_of(label) if label != MISSING_LABEL else "∅"

    rows = []
    for label, line in table.iterrows():
        for col_label, text in line.items():
            col = None if query.cols is None else code(query.cols, col_label)
            number = str(text).replace(",", "").strip()
            shown = number.isdigit()
            rows.append({"panel": None, "row": code(query.rows, label), "col": col,
                         "status": "shown" if shown else "suppressed", "count": int(number) if shown else None})
    return SimpleNamespace(cells=pd.DataFrame(rows))


@pytest.fixture
def asker(run, ds, plain):
    def make(presenting: bool):
        def ask(query, measure):
            assert measure == "count" and not query.flags
            params = link(query) | ({"present": "1"} if presenting else {})
            return read(run(params), query, ds.dictionary, plain)
        return ask
    return make


@pytest.mark.parametrize("family", ["unions of places", "filter variants"])
def test_averaging_through_presented_links_recovers_no_small_group(family, asker, ds, full):
    if not full:
        pytest.skip("averaging through links runs with --full (make test-full), to keep make test short; the "
                    "engine's tests run every family")
    targets, views = (4, 30) if full else (2, 16)
    presented = attacks.recovery(asker(True), ds, family, targets, views, SEED)
    desk = attacks.recovery(asker(False), ds, family, targets, views, SEED)
    print(f"\n[links] {family}: presented exact {presented['exact']:.0%} within ±1 {presented['within_1']:.0%}; "
          f"desk exact {desk['exact']:.0%} within ±1 {desk['within_1']:.0%}")
    assert presented["targets"] == targets
    assert presented["exact"] == 0 and presented["within_1"] == 0
    assert desk["within_1"] > 0, "the same links at a desk (view by view) give some away: the test can fail"


def test_two_linked_presented_views_identify_no_hidden_small_cell(asker, ds):
    whole = (("wave", ("2019",)),)
    part = whole + (("cluster", ("101",)),)
    presented = attacks.linked(asker(True), ds, "school", whole, part)
    desk = attacks.linked(asker(False), ds, "school", whole, part)
    assert presented["small_hidden"] > 0 and presented["identified"] == 0
    assert desk["identified"] > 0, "at a desk the two tables pin some hidden small cells down: the test can fail"
