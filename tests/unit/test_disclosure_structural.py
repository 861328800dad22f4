"""Structural zeros: cells whose combination of place and stage codes occurs nowhere in the data (a primary
school's S1-S4). They are public zeros: shown as 0, never hidden, never partners, fixed at 0 in every audit
LP. Read from the whole table, so no filter and no link can make a cell with pupils in it one of them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rcs_viz.data.dictionary import MISSING
from rcs_viz.engine import db, service
from rcs_viz.engine.disclosure import gate, system
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.sql import views
from rcs_viz.engine.sql.views import CrossTab
from rcs_viz.features.explore import state

from tests.unit.test_disclosure_split import T, attacker, grid

KEYS = ["panel", "row", "col"]


def view_cells(dataset, query):
    """The view's grid with true counts, as the gate gets it, and its structural flags."""
    sql, params = views.crosstab(query, service.schema(dataset))
    cells = service._fill_grid(dataset, query, db.run(dataset.db_path, sql, params))
    return cells, service.structurally_empty(dataset, query, cells)


def statuses(out, cells):
    return cells[KEYS].merge(out.cells[[*KEYS, "status", "count", "reason"]], on=KEYS, how="left")


def test_a_schools_missing_stages_are_shown_as_zero_and_a_zero_left_by_a_pupil_filter_stays_hidden(sample_dataset):
    plain = CrossTab(rows="school", cols="stage")
    cells, empty = view_cells(sample_dataset, plain)
    assert empty.sum() > 100  # primary schools' S1-S4, secondaries' P4-P7
    out = statuses(service.crosstab(sample_dataset, plain, "count", Rules()), cells)
    assert (out.loc[empty, "status"] == gate.SHOWN).all()
    assert (out.loc[empty, "count"] == 0).all() and (out.loc[empty, "reason"] == gate.NO_SUCH_PUPILS).all()
    assert (cells.loc[~empty & cells[KEYS].notna().any(axis=1), "n"] > 0).all()  # every other row and column

    bullied = CrossTab(rows="school", cols="stage", filters=(("bullied", ("4",)),))
    filtered, filtered_empty = view_cells(sample_dataset, bullied)
    assert np.array_equal(filtered_empty, empty)  # the same grid, the same structure: the filter changes nothing
    left = (filtered["n"] == 0).to_numpy() & ~filtered_empty & filtered[KEYS].notna().any(axis=1).to_numpy()
    assert left.sum() > 10  # stages a school has, with nobody bullied weekly in them
    shown = statuses(service.crosstab(sample_dataset, bullied, "count", Rules()), filtered)
    assert (shown.loc[left, "status"] != gate.SHOWN).all()
    assert (shown.loc[filtered_empty, "status"] == gate.SHOWN).all()


@pytest.mark.parametrize("params", [
    {"rows": ["school"], "cols": ["stage"], "f.bullied": ["4"], "wave": ["2019"]},
    {"rows": ["school"], "cols": ["stage"], "f.stage": ["5", "6", "S9"], "f.school": ["10101", "10102", "x"]},
    {"rows": ["school"], "cols": ["sex"], "panel": ["stage"], "f.bullied": ["3", "4"], "missing": ["1"]},
])
def test_a_tampered_link_cannot_make_a_cell_with_pupils_structural(sample_dataset, params):
    d = sample_dataset.dictionary
    view, _ = state.parse(params, d, lambda name: service.categories(sample_dataset, name))
    query = view.query(d)
    cells, empty = view_cells(sample_dataset, query)
    assert empty is not None
    whole, _ = view_cells(sample_dataset, CrossTab(rows=query.rows, cols=query.cols, panel=query.panel,
                                                   include_missing=query.include_missing))
    flagged = cells.loc[empty, KEYS].merge(whole, on=KEYS, how="left")
    assert flagged["n"].fillna(0).eq(0).all()  # nobody anywhere in the data, whatever the link asked
    both = cells[KEYS].merge(whole[KEYS].assign(at=np.arange(len(whole))), on=KEYS, how="inner")
    unfiltered = service.structurally_empty(sample_dataset, CrossTab(rows=query.rows, cols=query.cols,
                                                                     panel=query.panel), whole)
    kept = cells[KEYS].reset_index(drop=True).merge(both, on=KEYS, how="left")["at"]
    known = kept.notna().to_numpy()
    assert np.array_equal(empty[known], unfiltered[kept[known].astype(int).to_numpy()])


def test_a_cell_marked_structural_that_holds_pupils_is_refused():
    frame = pd.DataFrame({"panel": [None] * 3, "row": ["a", "b", None], "col": [None] * 3, "n": [4, 20, 24],
                          "ckey": [1, 2, 3]})
    with pytest.raises(ValueError, match="structurally empty"):
        gate.protect(frame, Rules(), empty=np.array([True, False, False]))


# --- the audit with structural zeros fixed at 0 ----------------------------------------------------

@st.composite
def structured(draw):
    """A random 2-D or 3-D grid with some inner cells structural (0 and public), the margins over only such
    cells public too, worked out here independently of the gate."""
    shape = tuple(draw(st.lists(st.integers(2, 5), min_size=2, max_size=3)))
    size = int(np.prod(shape))
    inner = np.array(draw(st.lists(st.sampled_from([0, 1, 2, 4, 7, 9, 11, 15, 30, 80]), min_size=size,
                                   max_size=size))).reshape(shape)
    empty = np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size))).reshape(shape)
    empty &= np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size))).reshape(shape)  # about 1 in 4
    inner = np.where(empty, 0, inner)
    public = empty
    for axis in range(inner.ndim):
        public = np.concatenate([public, public.all(axis, keepdims=True)], axis=axis)
    return grid(inner), public.ravel()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(structured(), st.sampled_from([2, 5, 200]))
def test_the_audit_with_structural_zeros_gives_a_fresh_whole_table_lps_verdicts(case, chunk):
    s, public = case
    hidden = (s.values < T) & ~public
    small = np.flatnonzero(hidden)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(system, "CHUNK", chunk)
        fast = {item for item, _, _ in system.audit(s, hidden, T, public)}
        found = system.suppress(s, T, np.inf, public=public)
    assert fast == attacker(s, hidden, small)  # public items shown: the attacker holds them at their 0
    assert not found[public].any() and found[small].all()
    assert attacker(s, found, small) == set()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(structured())
def test_the_gate_marks_exactly_the_margins_over_structural_cells(case):
    s, public = case
    lengths = [b.shape[1] for b in s.blocks]
    at = np.array(np.unravel_index(np.arange(s.size), lengths)).T
    frame = pd.DataFrame({key: [None if i == n - 1 else str(i) for i in at[:, k]]
                          for k, (key, n) in enumerate(zip(KEYS, lengths))}).reindex(columns=KEYS)
    frame["n"], frame["ckey"] = s.values, 0
    inner = frame[KEYS[:len(lengths)]].notna().all(axis=1).to_numpy()
    out = gate.protect(frame, Rules(perturbation=False), empty=public & inner)
    assert np.array_equal(out["reason"].eq(gate.NO_SUCH_PUPILS).to_numpy(), public)
    assert (out.loc[public, "status"] == gate.SHOWN).all()


def test_school_by_sex_by_stage_answers_and_passes_an_independent_audit(sample_dataset):
    """The table that failed closed while its structural zeros were hidden as small counts."""
    q = CrossTab(rows="school", cols="sex", panel="stage")
    cells, empty = view_cells(sample_dataset, q)
    out = statuses(service.crosstab(sample_dataset, q, "count", Rules()), cells)
    inner = cells[KEYS].notna().all(axis=1).to_numpy()
    shown = out["status"].eq(gate.SHOWN).to_numpy()
    assert shown[inner & ~empty].mean() > 0.1  # not the fail-closed grand total
    hidden = ~shown
    assert gate.audit(cells, hidden, T, empty) == []
    cube = gate._Cube(cells)
    s = cube.system()
    grid_hidden = np.zeros(s.size, bool)
    grid_hidden[cube.flat] = hidden
    small = np.flatnonzero((s.values < T) & grid_hidden)
    picked = np.random.default_rng(5).choice(small, 25, replace=False)
    assert attacker(s, grid_hidden, picked) == set()  # every shown cell, structural zeros too, held at its value


def test_a_place_or_stage_filter_keeping_no_answer_is_not_structure(sample_dataset):
    """Who left their stage blank, and where, is about pupils: a stage filter that keeps 'no answer' neither
    narrows a table's places nor makes any cell structural (the sample has no pupil without a stage, so
    narrowing by it would have shown every cell as a public 0)."""
    d = sample_dataset.dictionary
    assert service.structural(d, (("stage", ("2", MISSING)), ("cpp", ("1",)))) == (("cpp", ("1",)),)
    query = CrossTab(rows="cluster", cols="bullied", filters=(("cpp", ("1",)), ("stage", (MISSING,))))
    cells, empty = view_cells(sample_dataset, query)
    assert not empty.any()
    own = set(service.categories(sample_dataset, "cluster", (("cpp", ("1",)),)))
    assert set(cells["row"].dropna()) == own  # that CPP's clusters only, as without the stage filter
