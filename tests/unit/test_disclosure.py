"""Tests for rcs_viz.engine.disclosure.gate and rcs_viz.engine.disclosure.ptable: edge cases by hand, property
tests over random 1-D/2-D/3-D tables against the LP audit, the p-table's
promises, and a measurement of noise and of a differencing attack.
"""

from __future__ import annotations

import hashlib
import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rcs_viz.engine.disclosure import gate as disclosure
from rcs_viz.engine.disclosure.gate import (
    SECONDARY_REASON,
    Rules,
    audit,
    perturb,
    protect,
    public_columns,
    summary,
    value_allowed,
)
from rcs_viz.engine.disclosure.ptable import KEY_COUNTS, NOISE

T = 10
DIMS = {1: ("row",), 2: ("row", "col"), 3: ("panel", "row", "col")}


def cube(interior, keys=None, dims=None) -> pd.DataFrame:
    """The full cube (every margin) of a table of inner counts, as the query layer delivers it.

    `keys` are the inner cells' sums of record keys; a margin's key is the sum
    of its cells' keys mod 256, as if it had been computed from the records.
    """
    x = np.asarray(interior, dtype=np.int64)
    k = np.zeros_like(x) if keys is None else np.asarray(keys, dtype=np.int64)
    dims = dims or DIMS[x.ndim]
    for axis in range(x.ndim):
        x = np.concatenate([x, x.sum(axis, keepdims=True)], axis)
        k = np.concatenate([k, k.sum(axis, keepdims=True)], axis)
    rows = []
    for at in itertools.product(*(range(s) for s in x.shape)):
        row = dict.fromkeys(("panel", "row", "col"))
        for dim, i, size in zip(dims, at, x.shape):
            row[dim] = None if i == size - 1 else f"c{i}"
        rows.append({**row, "n": int(x[at]), "ckey": int(k[at] % 256)})
    return pd.DataFrame(rows)


def hidden_of(p: pd.DataFrame) -> pd.Series:
    return p["status"].eq("suppressed")


def cell(p, row=None, col=None, panel=None):
    """The one row of `p` with these keys (None = margin)."""
    mask = np.ones(len(p), bool)
    for key, value in (("panel", panel), ("row", row), ("col", col)):
        mask &= p[key].isna() if value is None else p[key].eq(value)
    assert mask.sum() == 1
    return p[mask].iloc[0]


def assert_safe(cells: pd.DataFrame, p: pd.DataFrame, rules: Rules = Rules()):
    """The promises every protected table keeps."""
    shown = ~hidden_of(p)
    assert (p.loc[shown, "n"] >= rules.threshold).all()
    assert (p.loc[shown, "count"] >= rules.threshold).all()
    assert p.loc[~shown, "count"].isna().all()
    assert p.loc[shown, "count"].notna().all()
    assert (p.loc[p["n"] < rules.threshold, "status"] == "suppressed").all()
    assert audit(cells, hidden_of(p), rules.threshold) == []


# --- rules ----------------------------------------------------------------

def test_rules_defaults_and_description():
    r = Rules()
    assert (r.threshold, r.min_base, r.secondary, r.perturbation) == (10, 30, True, True)
    text = r.describe()
    assert "below 10" in text and "at least 30" in text and "add up" in text
    assert "adjust" not in Rules(perturbation=False).describe()


def test_rules_from_mapping():
    assert Rules.from_mapping({}) == Rules()
    assert Rules.from_mapping({"threshold": 5, "min_base": 5, "secondary": False}) == Rules(5, 5, False, True)


@pytest.mark.parametrize("mapping, message", [
    ({"threshold": 0}, "threshold must be at least 1"),
    ({"threshold": "10"}, "threshold must be a whole number"),
    ({"threshold": 10.0}, "threshold must be a whole number"),
    ({"threshold": True}, "threshold must be a whole number"),
    ({"min_base": 5}, "min_base (5) must be at least the threshold (10)"),
    ({"secondary": "yes"}, "secondary must be true or false"),
    ({"perturbation": 1}, "perturbation must be true or false"),
    ({"treshold": 5}, "unknown setting(s) treshold"),
    (["threshold"], "expected a mapping"),
])
def test_rules_from_mapping_rejects(mapping, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Rules.from_mapping(mapping)


# --- edge cases -----------------------------------------------------------

def test_threshold_minus_one_suppressed_threshold_shown():
    p = protect(cube([9, 25, 30]))
    assert cell(p, "c0")["status"] == "suppressed"
    assert cell(p, "c0")["reason"] == "fewer than 10 respondents"
    p = protect(cube([10, 25, 30]))
    assert (p["status"] == "shown").all()
    assert cell(p, "c0")["count"] == 10  # at the threshold noise may only be zero


def test_zeros_are_suppressed():
    p = protect(cube([0, 30, 40]))
    assert cell(p, "c0")["status"] == "suppressed"
    assert cell(p, "c0")["reason"] == "fewer than 10 respondents"
    assert pd.isna(cell(p, "c0")["count"])


def test_one_small_cell_in_1d_gets_the_smallest_partner():
    c = cube([3, 50, 60])
    p = protect(c)
    assert hidden_of(p).tolist() == [True, True, False, False]
    assert cell(p, "c1")["reason"] == SECONDARY_REASON
    assert_safe(c, p)


def test_two_small_cells_whose_sum_is_small_need_a_third():
    c = cube([3, 4, 100])  # hiding 3 and 4 alone: their sum 7 is known
    p = protect(c)
    assert hidden_of(p).tolist() == [True, True, True, False]
    assert_safe(c, p)


def test_2d_classic_four_cell_pattern():
    c = cube([[3, 40, 50], [20, 30, 40], [60, 70, 80]])
    p = protect(c)
    hidden = {(r["row"], r["col"]) for _, r in p[hidden_of(p)].iterrows()}
    assert hidden == {("c0", "c0"), ("c0", "c1"), ("c1", "c0"), ("c1", "c1")}
    assert_safe(c, p)


def test_single_row_table():
    c = cube([[3, 40, 50]])
    p = protect(c)
    assert cell(p, "c0", "c0")["status"] == "suppressed"
    assert cell(p, None, "c0")["status"] == "suppressed"  # the same 3 respondents
    assert_safe(c, p)


def test_grand_total_below_threshold_hides_everything():
    c = cube([[1, 2], [3, 2]])
    p = protect(c)
    assert hidden_of(p).all()
    assert_safe(c, p)


def test_margin_below_threshold_is_suppressed_and_protected():
    c = cube([[2, 3, 1], [40, 50, 60], [30, 20, 45]])  # row c0 totals 6
    p = protect(c)
    assert cell(p, "c0")["status"] == "suppressed"
    assert cell(p, "c0")["reason"] == "fewer than 10 respondents"
    assert_safe(c, p)


def test_panels_keep_the_panel_direction_additive():
    # Within panel c0 the 3 sits in a classic 2-D pattern, but panel c1 and
    # the all-panels slice would give it away unless the panel lines hide too.
    inner = [[[3, 40, 50], [20, 30, 40], [60, 70, 80]],
             [[15, 25, 35], [45, 55, 65], [75, 85, 95]]]
    c = cube(inner)
    p = protect(c)
    assert_safe(c, p)
    for (r, co), line in p.groupby([p["row"].fillna("*"), p["col"].fillna("*")]):
        assert hidden_of(line).sum() != 1, (r, co)


def test_suppression_ignores_noise_and_noise_off_shows_true_counts():
    c = cube([[3, 40, 50], [20, 30, 40], [60, 70, 80]], keys=np.arange(9).reshape(3, 3) * 29)
    on = protect(c)
    off = protect(c, Rules(perturbation=False))
    assert on["status"].tolist() == off["status"].tolist()
    shown = ~hidden_of(off)
    assert (off.loc[shown, "count"] == off.loc[shown, "n"]).all()
    assert (on.loc[shown, "count"] != on.loc[shown, "n"]).any()


def test_secondary_off_hides_primary_cells_only():
    p = protect(cube([3, 50, 60]), Rules(secondary=False))
    assert hidden_of(p).tolist() == [True, False, False, False]


def test_other_columns_ride_along_and_count_is_nullable_int():
    c = cube([3, 50, 60]).assign(w_sum=[3.5, 52.0, 61.0, 116.5])
    p = protect(c)
    assert p["w_sum"].tolist() == c["w_sum"].tolist()
    assert p["count"].dtype == "Int64"
    assert p.index.equals(c.index)


def test_cells_in_any_order_give_the_same_result():
    c = cube(np.random.default_rng(3).poisson(9, (3, 4)), keys=np.random.default_rng(4).integers(0, 256, (3, 4)))
    p = protect(c)
    shuffled = c.sample(frac=1, random_state=1)
    q = protect(shuffled).loc[c.index]
    pd.testing.assert_frame_equal(p, q)


@pytest.mark.parametrize("change, message", [
    (lambda c: c.iloc[:-1], "every combination"),
    (lambda c: pd.concat([c, c.iloc[[0]]]), "every combination"),
    (lambda c: c.assign(n=c["n"].where(c.index != 0, 4)), "not additive"),
    (lambda c: c.assign(n=-c["n"]), "non-negative"),
    (lambda c: c.drop(columns="n"), "lack column"),
])
def test_bad_input_is_refused(change, message):
    with pytest.raises(ValueError, match=message):
        protect(change(cube([[3, 40], [20, 30]])))


def test_over_the_work_budget_shows_the_grand_total_only(monkeypatch):
    monkeypatch.setattr(disclosure, "WORK_BUDGET", 0)
    c = cube([[3, 40, 50], [20, 30, 40], [60, 70, 80]])
    p = protect(c)
    assert hidden_of(p).sum() == len(p) - 1
    assert cell(p)["status"] == "shown"
    assert_safe(c, p)


# --- the audit itself -----------------------------------------------------

def test_audit_finds_a_cell_worked_out_from_totals():
    c = cube([3, 50, 60])
    [failure] = audit(c, [True, False, False, False], T)
    assert (failure.row, failure.low, failure.high) == ("c0", 3, 3)


def test_audit_finds_a_cell_boxed_in_by_a_small_sum():
    [a, b] = audit(cube([3, 4, 100]), [True, True, False, False], T)
    assert (a.low, a.high, b.low, b.high) == (0, 7, 0, 7)


def test_audit_flags_a_shown_small_cell_and_passes_unbounded_ones():
    assert [f.row for f in audit(cube([3, 50, 60]), [False] * 4, T)] == ["c0"]
    assert audit(cube([3, 50, 60]), [True] * 4, T) == []


# --- properties over random tables ---------------------------------------

@st.composite
def tables(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(1, 4)) for _ in range(ndim))
    size = int(np.prod(shape))
    counts = draw(st.lists(st.one_of(st.integers(0, 12), st.integers(10, 200)), min_size=size, max_size=size))
    keys = draw(st.lists(st.integers(0, 255), min_size=size, max_size=size))
    return cube(np.reshape(counts, shape), np.reshape(keys, shape))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_random_tables_are_safe_and_deterministic(c):
    p = protect(c)
    assert_safe(c, p)
    pd.testing.assert_frame_equal(p, protect(c))


# --- the p-table -----------------------------------------------------------

@pytest.mark.parametrize("threshold", [1, 5, 10, 20])
def test_ptable_promises(threshold):
    keys = np.arange(256)
    for c in range(threshold, threshold + 40):
        d = perturb(np.full(256, c), keys, threshold) - c
        assert d.sum() == 0                      # zero mean over keys
        assert np.abs(d).max() <= 3
        assert (c + d >= threshold).all()        # never pushed under the threshold
        assert np.abs(d).mean() <= 1.5
        assert (d == 0).mean() <= 0.25 or c == threshold


def test_ptable_rows_and_helper():
    assert (KEY_COUNTS.sum(1) == 256).all()
    assert (KEY_COUNTS == KEY_COUNTS[:, ::-1]).all()           # symmetric, so mean exactly 0
    assert (KEY_COUNTS @ np.abs(NOISE) / 256 <= 1.5).all()
    assert isinstance(perturb(50, 7), int)
    assert perturb(9, 7) == 9                                   # never shown, never perturbed
    assert perturb(np.array([50, 60]), np.array([1, 2])).shape == (2,)
    with pytest.raises(ValueError):
        perturb(50, 256)


def test_ptable_never_changes():
    """A changed table would give every published cell a second, independent draw."""
    table = np.stack([perturb(np.full(256, T + b), np.arange(256)) - (T + b) for b in range(4)])
    assert hashlib.sha256(table.astype(np.int8).tobytes()).hexdigest() == (
        "016b60e70b02a9eb7c1a3261e33b23be0bb49e7a1932f70f54bc96f4316cd2b0")


def _collision(c_a: int, c_b: int) -> float:
    """Chance that two independent keys give counts c_a and c_b the same noise."""
    keys = np.arange(256)
    d_a = perturb(np.full(256, c_a), keys) - c_a
    d_b = perturb(np.full(256, c_b), keys) - c_b
    return sum((d_a == v).mean() * (d_b == v).mean() for v in NOISE)


def test_noise_and_differencing_attack_measured(capsys):
    rng = np.random.default_rng(20250601)
    # Noise on a realistic set of tables: 300 tables of 4x5 cells, skewed counts.
    shown_abs = []
    for _ in range(300):
        inner = np.round(rng.lognormal(3.5, 1.1, (4, 5))).astype(int)
        p = protect(cube(inner, rng.integers(0, 256, (4, 5))))
        shown = ~hidden_of(p)
        shown_abs.append((p.loc[shown, "count"] - p.loc[shown, "n"]).abs().to_numpy(dtype=float))
    mean_abs = float(np.concatenate(shown_abs).mean())

    # Differencing: view A holds a cell's records; view B is the same view with
    # one small group (a school, say, of 1..9 pupils in this cell) filtered out.
    # The attacker subtracts the published counts and hopes for the group's size.
    attacks = exact = 0
    for _ in range(20000):
        size_a = int(rng.integers(T + 1, 400))
        group = int(rng.integers(1, 10))
        if size_a - group < T:
            continue  # B's cell is suppressed: nothing to subtract
        record_keys = rng.integers(0, 256, size_a)
        key_a = int(record_keys.sum() % 256)
        key_b = int(record_keys[group:].sum() % 256)
        diff = perturb(size_a, key_a) - perturb(size_a - group, key_b)
        attacks += 1
        exact += diff == group
    rate = exact / attacks
    worst = max(_collision(a, b) for b in range(T, T + 12) for a in range(b + 1, b + 10))
    with capsys.disabled():
        print(f"\n[disclosure] mean |perturbation| on shown counts: {mean_abs:.3f}"
              f"\n[disclosure] differencing attack recovers the exact group size in "
              f"{rate:.1%} of {attacks} attacks (worst pair of counts: {worst:.1%})")
    assert mean_abs <= 1.5
    assert rate <= 0.25
    assert worst <= 0.25


# --- derived values, summary, public columns -------------------------------

def test_value_allowed_min_base_rule():
    status = pd.Series(["shown", "shown", "shown", "suppressed"])
    base_n = pd.Series([30, 29, 100, 100])
    base_shown = pd.Series([True, True, False, True])
    ok, why = value_allowed(status, base_n, base_shown, Rules())
    assert ok.tolist() == [True, False, False, False]
    assert why.tolist() == [None, "base under 30", "its base is protected", "the count is protected"]
    ok, _ = value_allowed(status, base_n, base_shown, Rules(min_base=20))
    assert ok.tolist() == [True, True, False, False]


def test_summary_counts_and_information_loss():
    p = protect(cube([[3, 40, 50], [20, 30, 40], [60, 70, 80]]))
    s = summary(p)
    assert (s["cells"], s["protected"], s["primary"], s["secondary"]) == (16, 4, 1, 3)
    assert s["share_cells_hidden"] == round(4 / 9, 2)
    assert s["share_records_hidden"] == round(93 / 393, 2)
    assert s["mostly_protected"] is False and s["advice"] is None


def test_summary_mostly_protected_gives_advice():
    s = summary(protect(cube([[1, 2, 30], [3, 1, 40], [2, 2, 50]])))
    assert s["mostly_protected"] is True
    assert "fewer categories" in s["advice"] and "wider filters" in s["advice"]


def test_public_columns_keep_only_what_may_leave():
    p = protect(cube([3, 50, 60]).assign(w_sum=1.0, v_sum=2.0, row_label="x", value=5.0))
    out = public_columns(p)
    assert list(out.columns) == ["panel", "row", "col", "row_label", "value", "count", "status", "reason"]
    assert out.loc[hidden_of(p), "value"].isna().all()
    assert out.loc[~hidden_of(p), "value"].eq(5.0).all()
