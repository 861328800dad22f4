"""The one suppression engine (rcs_viz.engine.disclosure.system) on additive systems that are not grids,
and the promise that every protected table goes through it: the cross-tab grid and the services map alike.

Safety is checked by an attacker written here, independent of the engine: a
dense LP over every line, hidden counts at least 0, for each small item its
least and greatest value.
"""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import OptimizeResult, linprog

from rcs_viz.engine.disclosure import gate, system
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.disclosure.system import System
from rcs_viz.features.need import services as sm

T = 10


def ranges(s: System, hidden: np.ndarray) -> dict[int, tuple[float, float]]:
    """Each small item's [least, greatest] given every shown item and every line (hidden items >= 0)."""
    hidden = np.asarray(hidden, bool)
    var = {int(i): j for j, i in enumerate(np.flatnonzero(hidden))}
    rows, rhs = [], []
    for block in s.blocks:
        for line in block:
            coef, known = np.zeros(len(var)), 0.0
            for pos, item in enumerate(line):
                sign = -1.0 if pos == len(line) - 1 else 1.0
                if int(item) in var:
                    coef[var[int(item)]] += sign
                else:
                    known += sign * s.values[item]
            if coef.any():
                rows.append(coef)
                rhs.append(-known)
    out = {}
    for item in np.flatnonzero(s.values < T):
        if not hidden[item]:
            out[int(item)] = (float(s.values[item]),) * 2
            continue
        c = np.zeros(len(var))
        c[var[int(item)]] = 1
        ends = []
        for sign in (1, -1):
            res = linprog(sign * c, A_eq=np.array(rows) if rows else None, b_eq=rhs or None, bounds=(0, None),
                          method="highs")
            assert res.status in (0, 3)
            ends.append(math.inf if res.status == 3 else sign * res.fun)
        out[int(item)] = (ends[0], ends[1])
    return out


def assert_safe(s: System, hidden: np.ndarray) -> None:
    assert hidden[s.values < T].all()
    for item, (low, high) in ranges(s, hidden).items():
        assert math.isinf(high) or math.floor(high + 1e-6) - math.ceil(low - 1e-6) >= T, (item, low, high)
    assert system.audit(s, hidden, T) == []


def classified(values, first, second) -> System:
    """Finest items classified two ways (like services by tier and sector), every total a line."""
    values = list(values)
    n = len(values)
    out, lines, at = list(values), [], {}
    for key in sorted({(a, b) for a, b in zip(first, second)}) + sorted({(a, None) for a in first}) \
            + sorted({(None, b) for b in second}) + [(None, None)]:
        at[key] = len(out)
        members = [i for i in range(n) if key[0] in (None, first[i]) and key[1] in (None, second[i])]
        out.append(sum(values[i] for i in members))
    for (a, b), item in at.items():
        if a is not None and b is not None:
            lines.append((item, [i for i in range(n) if first[i] == a and second[i] == b]))
        if a is None:
            lines.append((item, [at[k] for k in at if k[0] is not None and k[1] == b]))
        if b is None:
            lines.append((item, [at[k] for k in at if k[1] is not None and k[0] == a]))
    return System.from_lines(out, lines)


# --- the engine on systems that are not grids -------------------------------

def test_a_small_part_of_a_sum_gets_the_smallest_partner():
    # total 113 = a 3 + b 50 + c 60: hiding 3 alone gives it back, so 50 hides with it
    s = System.from_lines([3, 50, 60, 113], [(3, [0, 1, 2])])
    hidden = system.suppress(s, T, budget=math.inf)
    assert hidden.tolist() == [True, True, False, False]
    assert_safe(s, hidden)


def test_a_nested_sum_protects_through_both_levels():
    # root 200 = x 40 + y 160; x 40 = x1 3 + x2 37: x1 hides with x2, and the root's line stays closed too
    s = System.from_lines([3, 37, 40, 160, 200], [(2, [0, 1]), (4, [2, 3])])
    hidden = system.suppress(s, T, budget=math.inf)
    assert hidden[[0, 1]].all() and not hidden[4]
    assert_safe(s, hidden)


@pytest.mark.parametrize("seed", range(8))
def test_random_classified_systems_are_safe_and_deterministic(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 30))
    values = rng.choice([0, 1, 2, 5, 9, 10, 14, 40, 200], n)
    s = classified(values, rng.integers(0, 3, n).tolist(), rng.integers(0, 4, n).tolist())
    hidden = system.suppress(s, T, budget=math.inf)
    assert_safe(s, hidden)
    assert np.array_equal(hidden, system.suppress(s, T, budget=math.inf))


def test_over_the_budget_a_system_shows_its_grand_total_only():
    s = classified([3, 50, 60, 12, 40], [0, 0, 1, 1, 1], [0, 1, 0, 1, 1])
    hidden = system.suppress(s, T, budget=0)
    assert s.roots.tolist() == [s.size - 1]
    assert hidden.sum() == s.size - 1 and not hidden[-1]
    assert_safe(s, hidden)


@pytest.mark.parametrize("values, lines, message", [
    ([3, 50, 60, 114], [(3, [0, 1, 2])], "not additive"),
    ([-3, 3, 0], [(2, [0, 1])], "non-negative"),
    ([1.5, 2, 3.5], [(2, [0, 1])], "whole numbers"),
    ([3, 6], [(1, [0, 0])], "twice"),
    ([3, 3], [(1, [0, 2])], "does not exist"),
])
def test_bad_systems_are_refused(values, lines, message):
    with pytest.raises(ValueError, match=message):
        System.from_lines(values, lines)


# --- one engine behind every table -----------------------------------------

GRID = pd.DataFrame({"panel": None, "row": ["c0", "c1", "c2", None], "col": None,
                     "n": [3, 50, 60, 113], "ckey": [0, 0, 0, 0]})


def services_table() -> pd.DataFrame:
    rows = [("U1", "Universal", "Education", 100), ("E1", "Early help / targeted", "Education", 40),
            ("E2", "Early help / targeted", "Social work", 60), ("E3", "Early help / targeted", "Education", 6),
            ("S1", "Specialist / crisis", "Health", 30)]
    return pd.DataFrame([{"service_id": sid, "cpp": "Ardmore", "name": sid, "sector": sector,
                          "provider_type": "Council", "tier": tier, "age_min": 5, "age_max": 16,
                          "children_served": n, "annual_spend_gbp": 10_000.0, "funding_source": "Council core"}
                         for sid, tier, sector, n in rows], columns=list(sm.NAMES))


@pytest.fixture
def fresh():
    """Services protection is cached per table and rules, the grid's decisions per grid; these tests change the
    engine under them."""
    sm._protect.cache_clear()
    gate.forget_decisions()
    yield
    sm._protect.cache_clear()
    gate.forget_decisions()


def test_the_grid_and_the_services_map_go_through_the_same_engine(monkeypatch, fresh):
    calls = []
    real = system.suppress

    def spy(s, threshold, budget, *history):
        calls.append((type(s), threshold, budget))
        return real(s, threshold, budget, *history)

    monkeypatch.setattr(system, "suppress", spy)
    gate.protect(GRID)
    sm.cells(services_table(), Rules(threshold=7, min_base=30))
    assert calls == [(System, 10, gate.WORK_BUDGET), (System, 7, gate.WORK_BUDGET)]


def test_the_services_module_has_no_suppression_code_of_its_own():
    tree = ast.parse(Path(sm.__file__).read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names} \
        | {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} \
        | {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)} \
        | {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assert not {m for m in imported if m.split(".")[0] == "scipy"}
    assert not names & {"linprog", "connected_components", "_close_lines", "_failures", "_partner", "_hidden",
                        "_CACHE", "suppress", "Ranges"}
    assigned = {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    assert "SUPPRESSED" not in assigned and "hide" in names  # the gate's marker and the gate's decision
    from rcs_viz.output import tables

    assert sm.SUPPRESSED is tables.SUPPRESSED


def test_a_solver_failure_refuses_the_table_and_is_never_read_as_pinned_down(monkeypatch, fresh):
    def broken(*args, **kwargs):
        return OptimizeResult(status=4, message="numerical difficulties", x=None, fun=None)

    monkeypatch.setattr(system, "linprog", broken)
    monkeypatch.setattr(system.Model, "solve", lambda *args, **kwargs: None)  # the kept model has no answer either
    with pytest.raises(system.SolverError, match="the linear programme failed"):
        gate.protect(GRID)
    with pytest.raises(system.SolverError, match="the linear programme failed"):
        sm.cells(services_table())
    with pytest.raises(RuntimeError):  # what the gate has always raised
        sm.service_list(services_table())


def test_the_work_budget_is_the_gates_for_the_services_map_too(monkeypatch, fresh):
    monkeypatch.setattr(gate, "WORK_BUDGET", 0)
    table = services_table()
    c = sm.cells(table)
    grand = c["cpp"].eq(sm.ALL_CPPS) & c["tier"].eq(sm.ALL_TIERS) & c["sector"].eq(sm.ALL_SECTORS)
    has = c["services"].gt(0)
    assert c.loc[has & ~grand, "marker"].eq("[c]").all()
    assert c.loc[grand, "children_served"].tolist() == [236] and c.loc[grand, "marker"].tolist() == [""]
    assert c.loc[~has, "children_served"].eq(0).all()  # no service there: no one's count
    listing = sm.service_list(table)
    assert listing["marker"].eq("[c]").all() and listing["spend_per_child"].isna().all()
    assert listing["annual_spend_gbp"].notna().all()  # spend is about services: always shown


# --- what other views decided: sensitive and known items (the ledger's judgement) -------------------

def test_a_sensitive_item_is_hidden_and_kept_from_being_worked_out_like_a_small_one():
    # total 113 = a 30 + b 50 + c 33: a must stay hidden (another view hid it), so a partner hides with it
    s = System.from_lines([30, 50, 33, 113], [(3, [0, 1, 2])])
    sensitive = np.array([True, False, False, False])
    hidden = system.suppress(s, T, math.inf, sensitive=sensitive)
    assert hidden.tolist() == [True, False, True, False]
    assert system.Ranges(s, T, sensitive=sensitive).failures(hidden) == []


def test_a_known_item_is_never_the_partner_and_is_counted_as_shown():
    # 3 + 50 + 60 = 113, and b (50) is public from another view: c must hide with a instead
    s = System.from_lines([3, 50, 60, 113], [(3, [0, 1, 2])])
    known = np.array([False, True, False, False])
    hidden = system.suppress(s, T, math.inf, known=known)
    assert hidden.tolist() == [True, False, True, False]
    assert_safe(s, hidden)


def test_with_nothing_but_known_partners_the_table_shows_only_what_is_public_already():
    # a 3 hidden, b and c public elsewhere, the total too, and d (20) only in this table: no partner can keep
    # a from the lines, so the table fails closed to what is public already (showing it again tells nothing
    # new) and d, which no other view showed, stays hidden
    s = System.from_lines([3, 50, 60, 113, 20, 70], [(3, [0, 1, 2]), (5, [1, 4])])
    known = np.array([False, True, True, True, False, True])
    assert system.suppress(s, T, math.inf, known=known).tolist() == [True, False, False, False, True, False]


def test_the_gate_takes_the_judgement_in_the_cells_order():
    cells = GRID.iloc[::-1].reset_index(drop=True)
    sensitive = (cells["row"] == "c1").to_numpy()  # 50, not small: hidden because another view hid it
    out = gate.protect(cells, Rules(perturbation=False), sensitive=sensitive)
    assert out.loc[sensitive, "status"].eq(gate.SUPPRESSED).all()
    assert (out["status"] == gate.SUPPRESSED).sum() >= 2  # and a partner, so it cannot be worked out


def test_a_grid_asked_for_again_is_decided_once_and_alike(monkeypatch, fresh):
    """The gate keeps its decision per grid: the same cells again (another measure of them, another session) get
    the same answer without another audit; anything the decision reads, changed, is decided afresh."""
    calls = []
    real = system.suppress

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(system, "suppress", spy)
    monkeypatch.setattr(gate, "DECIDED_MIN_CELLS", 0)  # kept however small (GRID has 4 cells)
    first = gate.protect(GRID)
    again = gate.protect(GRID.copy())
    assert len(calls) == 1
    pd.testing.assert_frame_equal(first, again)
    again.loc[0, "status"] = "changed by a caller"  # a caller's copy is its own: the kept decision is untouched
    pd.testing.assert_frame_equal(gate.protect(GRID), first)
    assert len(calls) == 1
    asked = [gate.protect(GRID, Rules(threshold=5, min_base=30)),
             gate.protect(GRID, sensitive=(GRID["row"] == "c2").to_numpy()),
             gate.protect(GRID, known=(GRID["row"] == "c1").to_numpy()),
             gate.protect(GRID.assign(n=[4, 50, 60, 114]))]
    assert len(calls) == 5
    assert asked[1].loc[2, "status"] == gate.SUPPRESSED and first.loc[2, "status"] == gate.SHOWN
    monkeypatch.setattr(gate, "WORK_BUDGET", 0)  # a smaller budget is another decision (here: fail closed)
    closed = gate.protect(GRID)
    assert len(calls) == 6 and closed["status"].eq(gate.SUPPRESSED).sum() == 3
    monkeypatch.setattr(gate, "DECIDED_BYTES", 1)  # room for none: the oldest decisions go first
    other = GRID.assign(n=[5, 50, 60, 115])
    gate.protect(other)
    gate.protect(other)
    assert len(calls) == 8 and not gate._decided


def test_cells_each_a_table_of_their_own_get_in_one_call_what_each_gets_alone():
    cells = pd.DataFrame({"panel": None, "row": None, "col": None, "n": [0, 3, 9, 10, 11, 12, 250],
                          "ckey": [5, 17, 200, 3, 99, 41, 255]})
    for rules in (Rules(), Rules(perturbation=False), Rules(secondary=False), Rules(threshold=5, min_base=30)):
        together = gate.protect_each(cells, rules)
        alone = pd.concat([gate.protect(cells.iloc[[i]].reset_index(drop=True), rules) for i in range(len(cells))],
                          ignore_index=True)
        pd.testing.assert_frame_equal(together, alone)
        assert together["status"].eq(gate.SUPPRESSED).tolist() == (cells["n"] < rules.threshold).tolist()
