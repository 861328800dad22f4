"""Disclosure control: aggregated cells and the data owner's rules in, protected cells out.

Pure on purpose (no Streamlit, no DuckDB) so that every output - screen,
export, chart, CLI - passes the same gate and the gate can be tested alone.

Input: one row per cell of a cross-tab including every margin (GROUPING SETS =
CUBE(panel, row, col)); `panel`, `row`, `col` hold category codes as text, or
None for the margin on that dimension; `n` is the true unweighted count and
`ckey` the cell key (sum of the records' random keys mod 256). Other columns
are carried through untouched.

`protect` adds `count` (what may be shown), `status` and `reason`. The frame
it returns still holds `n` and `ckey`; `public_columns` is the last step before
anything leaves the data layer. docs/disclosure.md states the rules.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

from rcs_viz.engine.disclosure.ptable import perturb

KEYS = ("panel", "row", "col")
SHOWN, SUPPRESSED = "shown", "suppressed"
SECONDARY_REASON = "hidden so that a small cell cannot be worked out from the totals"
# What a viewer is told about any suppressed cell. One text for all: saying
# which hidden cells are the small ones would let them be worked out.
PUBLIC_REASON = "protected: a small count, or hidden so that one cannot be worked out"
PUBLIC_SUMMARY = ("cells", "protected", "share_cells_hidden", "mostly_protected", "advice")
ADVICE = ("Most of this table is hidden to protect small groups. Try fewer categories "
          "(combine bands or use a broader variable) or wider filters (all stages, a "
          "whole cluster rather than one school).")
DERIVED = ("value", "ci_low", "ci_high")
_EPS = 1e-6  # LP solutions are floats; counts are whole numbers
# LP work allowed per table, in rough milliseconds of solver time (an LP over v
# hidden cells costs about 3 + v²/100000): a view must answer in seconds, and a
# table too big to check shows its grand total only.
WORK_BUDGET = 2500


@dataclass(frozen=True)
class Rules:
    """The data owner's settings: read from configuration, never from a viewer's widget."""

    threshold: int = 10        # counts (margins too) below this are suppressed, zeros included
    min_base: int = 30         # a %, mean or interval needs an unweighted base at least this big
    secondary: bool = True     # hide more cells so suppressed ones cannot be worked back
    perturbation: bool = True  # cell-key noise on shown counts, against differencing

    def __post_init__(self):
        for name in ("threshold", "min_base"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be a whole number, not {value!r}")
        for name in ("secondary", "perturbation"):
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false, not {value!r}")
        if self.threshold < 1:
            raise ValueError(f"threshold must be at least 1, not {self.threshold}")
        if self.min_base < self.threshold:
            raise ValueError(f"min_base ({self.min_base}) must be at least the threshold ({self.threshold})")

    @classmethod
    def from_mapping(cls, mapping: Mapping) -> Rules:
        """Rules from a configuration mapping; unset keys keep their defaults."""
        if not isinstance(mapping, Mapping):
            raise ValueError(f"expected a mapping of settings, not {type(mapping).__name__}")
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(mapping) - set(known), key=str)
        if unknown:
            raise ValueError(f"unknown setting(s) {', '.join(map(str, unknown))}; known: {', '.join(known)}")
        return cls(**mapping)

    def describe(self) -> str:
        """The rules in plain words, for captions and export notes."""
        parts = [f"Counts below {self.threshold} are suppressed"]
        if self.secondary:
            parts.append("further cells are hidden so that suppressed ones cannot be worked out from totals")
        parts.append(f"percentages, means and intervals are shown only where their base is at least {self.min_base}")
        if self.perturbation:
            parts.append("shown counts carry small random adjustments (at most 3), so totals may not add up exactly")
        return "; ".join(parts) + "."


def primary_reason(threshold: int) -> str:
    return f"fewer than {threshold} respondents"


# --- the gate ---------------------------------------------------------------

def protect(cells: pd.DataFrame, rules: Rules = Rules()) -> pd.DataFrame:
    """Decide, cell by cell, what may be shown; add `count`, `status` and `reason`.

    Suppression is decided on true counts; noise is added afterwards to shown
    counts only, so it never changes which cells are hidden.
    """
    if rules.perturbation and "ckey" not in cells:
        raise ValueError("cells need a 'ckey' column for perturbation")
    cube = _Cube(cells)
    primary = cube.n < rules.threshold
    hidden = _suppress(cube.n, rules.threshold) if rules.secondary else primary
    is_primary = primary.ravel()[cube.flat]
    is_hidden = hidden.ravel()[cube.flat]
    n = cube.n.ravel()[cube.flat]
    count = perturb(n, cells["ckey"].to_numpy(), rules.threshold) if rules.perturbation else n
    out = cells.copy()
    out["count"] = pd.arrays.IntegerArray(np.where(is_hidden, 0, count).astype(np.int64), is_hidden)
    out["status"] = np.where(is_hidden, SUPPRESSED, SHOWN)
    out["reason"] = np.where(is_primary, primary_reason(rules.threshold),
                             np.where(is_hidden, SECONDARY_REASON, None)).astype(object)
    return out


def public_columns(cells: pd.DataFrame, derived: tuple[str, ...] = DERIVED) -> pd.DataFrame:
    """Only what may leave the data layer: keys, labels, published count, status, reason, derived values.

    An allowlist, so that a true count under any other name (`n`, a weighted
    sum, a sum of values) is dropped without anyone having to remember it.
    Derived values are blanked wherever the count is suppressed, and every
    suppressed cell gets the same reason, so primary and secondary cells
    cannot be told apart.
    """
    keep = [c for c in cells.columns
            if c in (*KEYS, "count", "status", "reason") or c in derived or str(c).endswith("_label")]
    out = cells[keep].copy()
    hidden = out["status"].ne(SHOWN)
    for column in derived:
        if column in out:
            out[column] = out[column].where(~hidden)
    out["reason"] = out["reason"].where(~hidden, PUBLIC_REASON)
    return out


def public_summary(summary: dict) -> dict:
    """The summary a viewer may see: no split into primary and secondary, no hidden-record share."""
    return {k: summary[k] for k in PUBLIC_SUMMARY}


def value_allowed(status, base_n, base_shown, rules: Rules) -> tuple[pd.Series, pd.Series]:
    """Whether each cell's %, mean or interval may be shown, and if not, why.

    `base_n` is the unweighted count the value rests on (the row margin for a
    row %, the cell's valid answers for a mean); `base_shown` whether that base
    is itself shown. A value over a hidden base would let the base be worked
    out, and one over a small base is both unreliable and near-disclosive.
    """
    status = pd.Series(status)
    cell_shown = status.eq(SHOWN).to_numpy()
    base_ok = np.asarray(base_shown, dtype=bool)
    big_enough = pd.to_numeric(pd.Series(np.asarray(base_n))).fillna(0).to_numpy() >= rules.min_base
    why = np.full(len(status), None, dtype=object)
    why[~big_enough] = f"base under {rules.min_base}"
    why[~base_ok] = "its base is protected"
    why[~cell_shown] = "the count is protected"
    ok = cell_shown & base_ok & big_enough
    return pd.Series(ok, index=status.index), pd.Series(why, index=status.index, dtype=object)


def summary(protected: pd.DataFrame) -> dict:
    """How much the rules hid, for captions and the 'mostly protected' advice.

    Shares are over the table's inner cells (margins excluded) and rounded to a
    whole percent: they describe information loss, not hidden counts.
    """
    hidden = protected["status"].eq(SUPPRESSED)
    secondary = hidden & protected["reason"].eq(SECONDARY_REASON)
    used = [k for k in KEYS if protected[k].notna().any()]
    inner = protected[used].notna().all(axis=1)
    grand = protected.loc[protected[list(KEYS)].isna().all(axis=1), "n"].sum()
    share_cells = float(hidden[inner].mean()) if inner.any() else 0.0
    share_records = float(protected.loc[inner & hidden, "n"].sum() / grand) if grand else 0.0
    mostly = share_cells > 0.5
    return {
        "cells": len(protected),
        "protected": int(hidden.sum()),
        "primary": int((hidden & ~secondary).sum()),
        "secondary": int(secondary.sum()),
        "share_cells_hidden": round(share_cells, 2),
        "share_records_hidden": round(share_records, 2),
        "mostly_protected": mostly,
        "advice": ADVICE if mostly else None,
    }


# --- the cube ---------------------------------------------------------------

class _Cube:
    """The cells on a dense grid: one axis per dimension in use, the margin last on each.

    On this grid every additive equation is an axis sum (along any axis the
    last cell is the sum of the others), so the line rule and the LP audit are
    a few array operations.
    """

    def __init__(self, cells: pd.DataFrame):
        missing = [c for c in (*KEYS, "n") if c not in cells]
        if missing:
            raise ValueError(f"cells lack column(s) {', '.join(missing)}")
        codes, shape = [], []
        for key in KEYS:
            values = cells[key]
            if values.isna().all():
                continue
            categories = sorted(values.dropna().unique(), key=str)
            code = pd.Categorical(values, categories=categories).codes.astype(np.int64)
            codes.append(np.where(code < 0, len(categories), code))
            shape.append(len(categories) + 1)
        self.shape = tuple(shape)
        size = int(np.prod(shape))
        self.flat = np.ravel_multi_index(codes, shape) if shape else np.zeros(len(cells), np.int64)
        if len(cells) != size or np.bincount(self.flat, minlength=size).max() != 1:
            raise ValueError("cells must hold every combination of categories and margins exactly once")
        try:
            n = cells["n"].to_numpy(dtype=np.int64)
        except (TypeError, ValueError):
            raise ValueError("n must be whole numbers with no gaps") from None
        if (n < 0).any() or not np.array_equal(n, cells["n"].to_numpy(dtype=float)):
            raise ValueError("n must be non-negative whole numbers")
        grid = np.empty(size, np.int64)
        grid[self.flat] = n
        self.n = grid.reshape(self.shape)
        for axis in range(len(self.shape)):
            parts = np.moveaxis(self.n, axis, -1)
            if not np.array_equal(parts[..., :-1].sum(-1), parts[..., -1]):
                raise ValueError("cells are not additive: every margin must equal the sum of its cells")


def _lines(shape: tuple[int, ...], axis: int) -> np.ndarray:
    """Flat grid positions of every line along `axis`, one line a row, its total last."""
    return np.moveaxis(np.arange(int(np.prod(shape))).reshape(shape), axis, -1).reshape(-1, shape[axis])


def _line(shape: tuple[int, ...], cell: int, axis: int) -> np.ndarray:
    """Flat positions of the line along `axis` through `cell`, its total last."""
    at = list(np.unravel_index(cell, shape))
    at[axis] = np.arange(shape[axis])
    return np.ravel_multi_index(at, shape)


def _lines_through(shape: tuple[int, ...], cell: int) -> np.ndarray:
    return np.concatenate([_line(shape, cell, axis) for axis in range(len(shape))])


def _close_lines(n: np.ndarray, hidden: np.ndarray, threshold: int) -> None:
    """Hide partners until no line (a margin and its cells) gives a hidden cell away.

    A line gives one away when it has exactly one hidden cell (it equals the
    total minus the others), or when its total is shown and its hidden cells
    add up to less than the threshold (each lies between 0 and that sum). The
    partner is the line's smallest shown cell, a cell before the total, the
    lowest position on ties: small partners lose least information.
    """
    values = n.ravel()
    changed = True
    while changed:
        changed = False
        for axis in range(n.ndim):
            lines = _lines(n.shape, axis)
            h = hidden.flat[lines]
            hidden_sum = (values[lines[:, :-1]] * h[:, :-1]).sum(1)
            exposed = (h.sum(1) == 1) | (~h[:, -1] & h.any(1) & (hidden_sum < threshold))
            if not exposed.any():
                continue
            lines, h = lines[exposed], h[exposed]
            cost = 2 * values[lines]
            cost[:, -1] += 1
            cost[h] = np.iinfo(np.int64).max
            hidden.flat[lines[np.arange(len(lines)), cost.argmin(1)]] = True
            changed = True


def _equations(n: np.ndarray, hidden: np.ndarray) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Every additive equation that touches a hidden cell, over the hidden cells: A x = b.

    Shown cells are known exactly (an attacker is assumed to know true
    values) and move to the right-hand side.
    """
    var = np.full(n.size, -1)
    var[np.flatnonzero(hidden)] = np.arange(int(hidden.sum()))
    values = n.ravel()
    rows, cols, data, rhs = [], [], [], []
    for axis, length in enumerate(n.shape):
        lines = _lines(n.shape, axis)
        lines = lines[hidden.flat[lines].any(1)]
        v, m = var[lines], values[lines]
        coef = np.r_[np.ones(length - 1), -1.0]
        line, pos = np.nonzero(v >= 0)
        rows.append(line + sum(len(r) for r in rhs))
        cols.append(v[line, pos])
        data.append(coef[pos])
        rhs.append(-((m * coef) * (v < 0)).sum(1))
    if not rhs:
        return sparse.csr_matrix((0, int(hidden.sum()))), np.zeros(0)
    b = np.concatenate(rhs)
    a = sparse.csr_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(len(b), int(hidden.sum())))
    return a, b


class _FailClosed(Exception):
    """Checking this table would take more LP work than one view is allowed."""


class _Ranges:
    """What is known so far of each cell's feasible range: the span of the feasible points seen.

    Hiding more cells only adds freedom, so points seen under a smaller
    suppression pattern stay feasible: `protect` keeps one of these across
    its rounds and re-examines only cells still unsettled.
    """

    def __init__(self, n: np.ndarray, threshold: int, budget: float = math.inf):
        self.n, self.threshold, self.budget = n, threshold, budget
        self.low = n.ravel().astype(float)
        self.high = self.low.copy()
        self.unbounded = np.zeros(n.size, bool)

    def settled(self, cells: np.ndarray) -> np.ndarray:
        wide = np.floor(self.high[cells] + _EPS) - np.ceil(self.low[cells] - _EPS) >= self.threshold
        return self.unbounded[cells] | wide

    def _solve(self, cells, a, b, c, lower=0.0, upper=np.inf):
        self.budget -= 3 + len(cells) ** 2 / 1e5
        if self.budget < 0:
            raise _FailClosed
        bounds = np.column_stack(np.broadcast_arrays(lower, upper, c)[:2])
        res = linprog(c, A_eq=a, b_eq=b, bounds=bounds, method="highs")
        if res.status not in (0, 3):
            raise RuntimeError(f"disclosure audit: the linear programme failed ({res.message})")
        if res.status == 0:
            self.low[cells] = np.minimum(self.low[cells], res.x)
            self.high[cells] = np.maximum(self.high[cells], res.x)
        return res

    def failures(self, hidden: np.ndarray) -> list[tuple[int, float, float, np.ndarray]]:
        """Small cells that shown cells pin down to an interval narrower than the threshold.

        Returns (cell, low, high, linked hidden cells) per failure, as flat
        grid positions. A cell's exact interval takes two LPs. To need few of
        them, LPs first push many unsettled small cells at once, a quarter up
        and the rest down (so each round frees room for the ones going up),
        each just far enough; every point found widens every cell's known
        interval. When those rounds stop paying, each cell left gets its
        exact LPs, which alone can fail a cell.
        """
        values, flat_hidden, t = self.n.ravel(), hidden.ravel(), self.threshold
        small = values < t
        failures = [(int(i), float(values[i]), float(values[i]), np.array([i]))
                    for i in np.flatnonzero(small & ~flat_hidden)]
        cells = np.flatnonzero(flat_hidden)
        a, b = _equations(self.n, hidden)
        if not a.shape[0]:
            return failures
        targets = np.flatnonzero(small[cells])
        left = [int((~self.settled(cells[targets])).sum())]
        # The truth stays inside every bound, so these LPs are feasible and bounded.
        cap = values.max() + t
        while left[-1] and (len(left) < 5 or left[-5] - left[-1] >= 2 + 0.05 * left[-5]):
            todo = targets[~self.settled(cells[targets])]
            up = (np.arange(len(todo)) + len(left) - 1) % 4 == 0
            c, lower, upper = np.zeros(len(cells)), np.zeros(len(cells)), np.full(len(cells), float(cap))
            c[todo] = np.where(up, -1.0, 1.0)
            upper[todo[up]] = np.ceil(self.low[cells[todo[up]]] - _EPS) + t
            lower[todo[~up]] = np.maximum(0, np.floor(self.high[cells[todo[~up]]] + _EPS) - t)
            self._solve(cells, a, b, c, lower, upper)
            left.append(int((~self.settled(cells[targets])).sum()))

        todo = targets[~self.settled(cells[targets])]
        if todo.size:
            _, label = connected_components(abs(a).T @ abs(a), directed=False)
        for j in todo:
            group = np.flatnonzero(label == label[j])
            rows = np.unique(a[:, group].nonzero()[0])
            c = np.zeros(len(group))
            for sign in (-1.0, 1.0):
                c[np.searchsorted(group, j)] = sign
                if self._solve(cells[group], a[rows][:, group], b[rows], c).status == 3:
                    self.unbounded[cells[j]] = True
                if self.settled(cells[[j]])[0]:
                    break
            else:
                failures.append((int(cells[j]), float(self.low[cells[j]]), float(self.high[cells[j]]), cells[group]))
        return failures


def _partner(n: np.ndarray, hidden: np.ndarray, cell: int, linked: np.ndarray) -> int | None:
    """The shown cell to hide next so that `cell` gains room.

    First the lines through the cell itself, tightest first (a shown total
    and the least hidden weight beside it), taking its smallest shown cell;
    failing that, the smallest shown cell on any line through a linked cell.
    """
    shape = n.shape
    values, flat_hidden = n.ravel(), hidden.ravel()
    best = None
    for axis in range(len(shape)):
        members = _line(shape, cell, axis)
        shown = members[~flat_hidden[members]]
        if not shown.size:
            continue
        tightness = (bool(flat_hidden[members[-1]]), int(values[members[:-1]][flat_hidden[members[:-1]]].sum()))
        pick = min(shown, key=lambda i: (i == members[-1], values[i], i))
        if best is None or tightness < best[0]:
            best = (tightness, pick)
    if best is not None:
        return int(best[1])
    near = np.unique(np.concatenate([_lines_through(shape, i) for i in linked]))
    near = near[~flat_hidden[near]]
    if not near.size:
        return None
    margins = np.sum([np.array(np.unravel_index(near, shape))[axis] == shape[axis] - 1
                      for axis in range(len(shape))], axis=0)
    return int(near[np.lexsort((near, values[near], margins))[0]])


def _suppress(n: np.ndarray, threshold: int) -> np.ndarray:
    """Primary and secondary suppression on true counts: the hidden-cell mask.

    Alternate the cheap line rule with the exact audit, hiding one more cell
    per failing small cell, until the audit passes. Every round hides at
    least one cell, so it ends; with everything linked hidden, every small
    cell's interval is unbounded. A table too big to check within the work
    budget shows its grand total only, which is always safe.
    """
    hidden = n < threshold
    ranges = _Ranges(n, threshold, budget=WORK_BUDGET)
    try:
        while True:
            _close_lines(n, hidden, threshold)
            failures = ranges.failures(hidden)
            if not failures:
                return hidden
            added = []
            for cell, _, _, linked in failures:
                if np.isin(_lines_through(n.shape, cell), added).any():
                    continue  # a line through it has just changed: look again first
                partner = _partner(n, hidden, cell, linked)
                if partner is None:  # cannot happen (see above); fail closed all the same
                    raise _FailClosed
                hidden.flat[partner] = True
                added.append(partner)
    except _FailClosed:
        hidden[...] = True
        hidden.flat[-1] = bool(n.flat[-1] < threshold)
        return hidden


@dataclass(frozen=True)
class Failure:
    """A small cell that shown cells and totals pin down to [low, high], narrower than the threshold."""

    index: object
    panel: str | None
    row: str | None
    col: str | None
    low: float
    high: float


def audit(cells: pd.DataFrame, hidden, threshold: int) -> list[Failure]:
    """Check a suppression pattern: every cell below the threshold must be hidden, and its
    feasible range given everything shown (x >= 0, every margin the sum of its cells)
    at least `threshold` wide, or unbounded. Returns the cells that fail.
    """
    cube = _Cube(cells)
    grid = np.zeros(cube.n.size, bool)
    grid[cube.flat] = np.asarray(hidden, dtype=bool)
    position = np.empty(cube.n.size, np.int64)
    position[cube.flat] = np.arange(len(cells))
    out = []
    for cell, low, high, _ in _Ranges(cube.n, threshold).failures(grid.reshape(cube.shape)):
        row = cells.iloc[position[cell]]
        out.append(Failure(cells.index[position[cell]], row["panel"], row["row"], row["col"], low, high))
    return out
