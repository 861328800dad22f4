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

Which cells to hide is decided by the one suppression engine
(`rcs_viz.engine.disclosure.system`) through `hide`: the grid here is one
additive system, the services map another, and both get the same rules, work
budget and fail-closed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
from rcs_viz.engine.disclosure import system as engine
from rcs_viz.engine.disclosure import worker
from rcs_viz.engine.disclosure.ptable import perturb
from rcs_viz.engine.disclosure.system import System

KEYS = ("panel", "row", "col")
SHOWN, SUPPRESSED = "shown", "suppressed"
SECONDARY_REASON = "hidden so that a small cell cannot be worked out from the totals"
# What a viewer is told about any suppressed cell. One text for all: saying
# which hidden cells are the small ones would let them be worked out.
PUBLIC_REASON = "protected: a small count, or hidden so that one cannot be worked out"
# Why a structurally empty cell is shown as 0 (docs/disclosure.md): no record anywhere in the data has its
# combination of places and stages, which is public structure, not a fact about any pupil.
NO_SUCH_PUPILS = "no such pupils: this combination of place and stage occurs nowhere in the data"
PUBLIC_SUMMARY = ("cells", "protected", "share_cells_hidden", "mostly_protected", "advice")
ADVICE = ("Most of this table is hidden to protect small groups. Try fewer categories "
          "(combine bands or use a broader variable) or wider filters (all stages, a "
          "whole cluster rather than one school).")
DERIVED = ("value", "ci_low", "ci_high")
# LP work allowed per table (any table: a cross-tab or the services map), in
# rough milliseconds of solver time (an LP over v hidden cells costs about
# 3 + v²/100000): a view must answer in seconds, and a table too big to check
# shows its grand total only.
WORK_BUDGET = 2500


@dataclass(frozen=True)
class Rules:
    """The data owner's settings: read from configuration, never from a viewer's widget."""

    threshold: int = 10        # counts (margins too) below this are suppressed, zeros included
    min_base: int = 30         # a %, mean or interval needs an unweighted base at least this big
    secondary: bool = True     # hide more cells so suppressed ones cannot be worked back
    perturbation: bool = True  # cell-key noise on shown counts, against differencing
    # every view judged against the server's ledger of released figures (docs/disclosure.md). Always on while
    # presenting (to a room, or to a viewer); off by default at an explorer's desk, who holds the data rights
    across_views: bool = False

    def __post_init__(self):
        for name in ("threshold", "min_base"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be a whole number, not {value!r}")
        for name in ("secondary", "perturbation", "across_views"):
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
        if self.across_views:
            parts.append("no figure is shown that differs by a few people from one this server has shown before")
        return "; ".join(parts) + "."


def primary_reason(threshold: int) -> str:
    return f"fewer than {threshold} respondents"


# --- the gate ---------------------------------------------------------------

def protect(cells: pd.DataFrame, rules: Rules = Rules(), sensitive=None, known=None, decided=None,
            empty=None) -> pd.DataFrame:
    """Decide, cell by cell, what may be shown; add `count`, `status` and `reason`.

    Suppression is decided on true counts; noise is added afterwards to shown
    counts only, so it never changes which cells are hidden. `sensitive` and
    `known` (boolean, in the cells' order) carry what other views decided:
    cells that must stay hidden, and cells already public (see `hide`).
    `decided`: the hidden mask this same view got before (the ledger's
    answer), kept as it was, small cells always hidden. `empty` (boolean, in
    the cells' order) marks the inner cells whose combination of place and
    stage codes occurs nowhere in the data: structural zeros, shown as 0 with
    the reason NO_SUCH_PUPILS and never hidden (`_Cube.structural` extends
    them to the margins that cover only such cells; margins are read from
    inner cells only).
    """
    cube = _Cube(cells)
    structural = cube.structural(cube.on_grid(empty))
    if decided is None:
        primary, hidden = _hide_grid(cube, rules, cube.on_grid(sensitive), cube.on_grid(known), structural)
    else:
        primary = (cube.n.ravel() < rules.threshold) & ~structural
        hidden = (primary | cube.on_grid(decided)) & ~structural
    return _published(cells, rules, cube.n.ravel()[cube.flat], primary[cube.flat], hidden[cube.flat],
                      structural[cube.flat])


def protect_each(cells: pd.DataFrame, rules: Rules = Rules()) -> pd.DataFrame:
    """`protect` for cells that are each a table of their own (one cell, no margins: a filter's base), all in
    one call: what `protect` gives each alone.

    The engine (`hide`) decides on them as items tied by no line, so a small one is hidden and no other is
    hidden with it, as in a table of one cell.
    """
    items = System(cells["n"].to_numpy(dtype=np.int64))
    primary, hidden = hide(items, rules)
    return _published(cells, rules, items.values, primary, hidden, np.zeros(items.size, bool))


def _published(cells, rules: Rules, n, is_primary, is_hidden, is_empty) -> pd.DataFrame:
    """The cells with what may be shown (`count`, `status`, `reason`) from the gate's decision, in their order."""
    if rules.perturbation and "ckey" not in cells:
        raise ValueError("cells need a 'ckey' column for perturbation")
    count = perturb(n, cells["ckey"].to_numpy(), rules.threshold) if rules.perturbation else n
    out = cells.copy()
    out["count"] = pd.arrays.IntegerArray(np.where(is_hidden | is_empty, 0, count).astype(np.int64), is_hidden)
    out["status"] = np.where(is_hidden, SUPPRESSED, SHOWN)
    out["reason"] = np.where(is_primary, primary_reason(rules.threshold),
                             np.where(is_hidden, SECONDARY_REASON,
                                      np.where(is_empty, NO_SUCH_PUPILS, None))).astype(object)
    return out


def hide(system: System, rules: Rules, sensitive=None, known=None, public=None) -> tuple[np.ndarray, np.ndarray]:
    """The gate for any additive system of counts: (primary, hidden) item masks under the data owner's rules.

    Primary: every item below the threshold, zeros included. Secondary, when
    the rules ask for it: the engine's line rule and exact audit
    (`system.suppress`) within WORK_BUDGET, failing closed to the grand total.
    Decided on true counts. A cross-tab's grid (`protect`) and the services
    map both come through here, so both keep the same rules. `sensitive`
    items are hidden and kept from being worked out like small ones; `known`
    items are public already and are never relied on as partners (the
    ledger's judgement of what other views released: `ledger.Judgement`).
    `public` items are structural zeros: never primary, never hidden.
    """
    public = np.zeros(system.size, bool) if public is None else public
    primary = (system.values < rules.threshold) & ~public
    if rules.secondary:
        hidden = worker.suppress(system, rules.threshold, WORK_BUDGET, sensitive, known, public)
    else:
        hidden = primary | (sensitive & ~public) if sensitive is not None else primary.copy()
    return primary, hidden


# Decisions kept, by their keys' and masks' bytes: about 13 bytes a cell, so some 1,200 grids of 1,000 cells
# (a school table) or 100 of 12,000; the smallest grids, cheap to decide again, are not kept.
DECIDED_BYTES = 16_000_000
DECIDED_MIN_CELLS = 100
_decided: OrderedDict[tuple, tuple[np.ndarray, np.ndarray, int]] = OrderedDict()
_decided_lock = threading.Lock()
_decided_bytes = 0


def _hide_grid(cube: _Cube, rules: Rules, sensitive, known, structural) -> tuple[np.ndarray, np.ndarray]:
    """`hide` on a grid, kept for the grids asked for last (`DECIDED_BYTES`, grids of `DECIDED_MIN_CELLS` or
    more): a table asked for again (the same cells under another measure, weighted, or in another session) is
    not audited again.

    Keyed by everything `hide` reads (the grid's shape and true counts, the threshold, whether secondary
    suppression is on, the work budget, the sensitive, known and structural masks): `hide` is deterministic
    (its LP work is counted, not timed), so the kept answer is the one it would give again. Never shared beyond
    this process.
    """
    global _decided_bytes
    if cube.n.size < DECIDED_MIN_CELLS:
        return hide(cube.system(), rules, sensitive, known, structural)
    masks = tuple(None if m is None else np.asarray(m, bool).tobytes() for m in (sensitive, known, structural))
    key = (cube.shape, cube.n.tobytes(), rules.threshold, rules.secondary, WORK_BUDGET, *masks)
    with _decided_lock:
        kept = _decided.get(key)
        if kept is not None:
            _decided.move_to_end(key)
    if kept is None:
        primary, hidden = hide(cube.system(), rules, sensitive, known, structural)
        size = sum(len(part) for part in key[1:] if isinstance(part, bytes)) + primary.nbytes + hidden.nbytes
        kept = primary, hidden, size
        with _decided_lock:
            if key not in _decided:
                _decided[key] = kept
                _decided_bytes += size
            while _decided_bytes > DECIDED_BYTES:
                _decided_bytes -= _decided.popitem(last=False)[1][2]
    return kept[0].copy(), kept[1].copy()


def forget_decisions() -> None:
    """Drop the kept decisions (`_hide_grid`): for tests that change the suppression engine under the gate."""
    global _decided_bytes
    with _decided_lock:
        _decided.clear()
        _decided_bytes = 0


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
    last cell is the sum of the others): `system()` gives those lines to the
    suppression engine (`rcs_viz.engine.disclosure.system`), one block per axis.
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

    def on_grid(self, mask) -> np.ndarray | None:
        """A boolean mask in the cells' order, laid on the grid (False where no cell is); None stays None."""
        if mask is None:
            return None
        grid = np.zeros(self.n.size, bool)
        grid[self.flat] = np.asarray(mask, bool)
        return grid

    def structural(self, empty) -> np.ndarray:
        """Structural zeros on the grid: the inner cells `empty` marks (each must count nobody), and every
        margin all of whose cells are such (a primary school's S1 row over both sexes); nothing when `empty` is
        None. Only inner cells are read, so a margin is structural exactly when everything it adds up is."""
        out = np.zeros(self.shape, bool)
        if empty is None or not self.shape:
            return out.ravel()
        inner = tuple(slice(0, length - 1) for length in self.shape)
        out[inner] = np.asarray(empty, bool).reshape(self.shape)[inner]
        for axis, length in enumerate(self.shape):
            if length > 1:
                along = np.moveaxis(out, axis, -1)
                along[..., -1] = along[..., :-1].all(-1)
        if (self.n[out] > 0).any():
            raise ValueError("a cell marked structurally empty holds respondents")
        return out.ravel()

    def system(self) -> System:
        """The grid as an additive system: items are flat grid positions, lines the axis sums, axis by axis."""
        at = np.arange(self.n.size).reshape(self.shape)
        return System(self.n.ravel(), [np.moveaxis(at, axis, -1).reshape(-1, length)
                                       for axis, length in enumerate(self.shape)])


@dataclass(frozen=True)
class Failure:
    """A small cell that shown cells and totals pin down to [low, high], narrower than the threshold."""

    index: object
    panel: str | None
    row: str | None
    col: str | None
    low: float
    high: float


def audit(cells: pd.DataFrame, hidden, threshold: int, empty=None) -> list[Failure]:
    """Check a suppression pattern: every cell below the threshold must be hidden, and its
    feasible range given everything shown (x >= 0, every margin the sum of its cells)
    at least `threshold` wide, or unbounded. Returns the cells that fail. `empty`: structural
    zeros, as for `protect` (public, fixed at 0, needing no protection).
    """
    cube = _Cube(cells)
    grid = cube.on_grid(hidden)
    position = np.empty(cube.n.size, np.int64)
    position[cube.flat] = np.arange(len(cells))
    out = []
    structural = cube.structural(cube.on_grid(empty)) if empty is not None else None
    for cell, low, high in engine.audit(cube.system(), grid, threshold, structural):
        row = cells.iloc[position[cell]]
        out.append(Failure(cells.index[position[cell]], row["panel"], row["row"], row["col"], low, high))
    return out
