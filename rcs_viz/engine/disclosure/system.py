"""Secondary suppression on an additive system of counts: the one engine behind every protected table.

A system is *items*, each a whole number of people (0 or more), and *lines*:
a total item that equals the sum of its part items. Nothing here knows what
an item means, so every table that can be written this way gets the same
line rule, the same exact audit, the same partner choice, the same work
budget and the same fail-closed:

- a cross-tab's grid (``gate._Cube``): the cells and margins are the items,
  the lines are the axis sums (along any axis the margin is the sum of the
  cells before it);
- the services map (``rcs_viz.features.need.services``): the services are the
  finest items, each cpp x tier x sector cell is the sum of its services and
  every 'all' total the sum of the cells it covers.

Pure (numpy and scipy only). The policy (the threshold, whether secondary
suppression is on, the work budget) is the gate's: ``gate.hide`` calls
``suppress`` here. docs/disclosure.md states the rules.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import sparse

_EPS = 1e-6  # LP solutions are floats; counts are whole numbers


def linprog(*args, **kwargs):
    """scipy's linprog, imported when an audit first needs one: scipy.optimize takes most of a second to import,
    and a table with nothing to audit never needs it."""
    from scipy.optimize import linprog as solve

    return solve(*args, **kwargs)


def highs():
    """HiGHS itself as scipy ships it (scipy is pinned), imported when an audit first needs it; None on a scipy
    without it, where every LP is solved afresh by linprog, as slowly as before."""
    try:
        from scipy.optimize._highspy import _core
    except ImportError:  # pragma: no cover
        return None
    return _core


class System:
    """Items and the lines that tie them: `values[i]` is item i's true count.

    Lines are kept in blocks of equal length, each block an array with one
    line a row and its total last, so the line rule and the equations are a
    few array operations per block. The order of blocks, and of lines within
    a block, is the order ties are broken in.
    """

    def __init__(self, values, blocks: Iterable[np.ndarray] = ()):
        try:
            v = np.asarray(values, dtype=np.int64)
        except (TypeError, ValueError):
            raise ValueError("counts must be whole numbers with no gaps") from None
        if v.ndim != 1 or (v < 0).any() or not np.array_equal(v, np.asarray(values, dtype=float)):
            raise ValueError("counts must be non-negative whole numbers")
        self.values = v
        self.blocks = tuple(np.asarray(b, dtype=np.int64).reshape(len(b), -1) for b in blocks)
        for b in self.blocks:
            if b.shape[1] < 2:
                raise ValueError("every line needs a total and at least one part")
            if b.size and (b.min() < 0 or b.max() >= len(v)):
                raise ValueError("a line names an item that does not exist")
            ordered = np.sort(b, axis=1)
            if (ordered[:, 1:] == ordered[:, :-1]).any():
                raise ValueError("an item appears twice in one line")
            if not np.array_equal(v[b[:, :-1]].sum(1), v[b[:, -1]]):
                raise ValueError("counts are not additive: every total must equal the sum of its parts")

    @classmethod
    def from_lines(cls, values, lines: Iterable[tuple[int, Iterable[int]]]) -> System:
        """A system from (total, parts) pairs, lines of one length in one block, blocks in order of first use."""
        blocks: dict[int, list[list[int]]] = {}
        for total, parts in lines:
            row = [int(p) for p in parts] + [int(total)]
            blocks.setdefault(len(row), []).append(row)
        return cls(values, [np.array(rows, dtype=np.int64) for rows in blocks.values()])

    @property
    def size(self) -> int:
        return len(self.values)

    @cached_property
    def _through(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(first line of each item in `ids`, line ids by item then line, first line id of each block)."""
        starts = np.cumsum([0] + [len(b) for b in self.blocks])
        if not self.blocks:
            return np.zeros(self.size + 1, np.int64), np.zeros(0, np.int64), starts
        items = np.concatenate([b.ravel() for b in self.blocks])
        ids = np.concatenate([np.repeat(np.arange(s, s + len(b)), b.shape[1]) for s, b in zip(starts, self.blocks)])
        order = np.lexsort((ids, items))
        indptr = np.r_[0, np.cumsum(np.bincount(items, minlength=self.size))]
        return indptr, ids[order], starts

    def lines_through(self, item: int) -> list[np.ndarray]:
        """The lines through `item` (as a part or as the total), each its items with the total last, in order."""
        indptr, ids, starts = self._through
        out = []
        for line in ids[indptr[item]:indptr[item + 1]]:
            block = int(np.searchsorted(starts, line, side="right")) - 1
            out.append(self.blocks[block][line - starts[block]])
        return out

    def near(self, item: int) -> np.ndarray:
        """Every item on a line through `item` (itself included)."""
        lines = self.lines_through(item)
        return np.concatenate(lines) if lines else np.array([item], dtype=np.int64)

    def near_any(self, items: np.ndarray) -> np.ndarray:
        """Every item on a line through any of `items` (they included), sorted: `near` for many at once."""
        mask = np.zeros(self.size, bool)
        mask[items] = True
        return np.unique(np.concatenate([b[mask[b].any(1)].ravel() for b in self.blocks] + [np.asarray(items, np.int64)]))

    @cached_property
    def level(self) -> np.ndarray:
        """How many lines each item is the total of (on a grid: on how many axes it is a margin)."""
        totals = [b[:, -1] for b in self.blocks]
        return np.bincount(np.concatenate(totals) if totals else np.zeros(0, np.int64), minlength=self.size)

    @cached_property
    def roots(self) -> np.ndarray:
        """Items that are no line's part: the grand total(s)."""
        parts = np.zeros(self.size, bool)
        for b in self.blocks:
            parts[b[:, :-1].ravel()] = True
        return np.flatnonzero(~parts)

    def closed(self, threshold: int) -> np.ndarray:
        """The fail-closed pattern: everything hidden but the grand total(s) of at least `threshold`.

        Always safe when every item is a sum of finest items and one grand
        total covers them all (both the grid and the services map): a small
        item can then be anything from 0 to that total.
        """
        hidden = np.ones(self.size, bool)
        hidden[self.roots] = self.values[self.roots] < threshold
        return hidden


def close_lines(system: System, hidden: np.ndarray, threshold: int, known: np.ndarray | None = None) -> None:
    """Hide partners until no line (a total and its parts) gives a hidden item away.

    A line gives one away when it has exactly one hidden item (it equals the
    total minus the others, or the sum of the parts), or when its total is
    shown and its hidden parts add up to less than the threshold (each lies
    between 0 and that sum). The partner is the line's smallest shown item, a
    part before the total, the lowest position on ties: small partners lose
    least information. A `known` item (public already, from another view) is
    never a partner: hiding it would protect nothing; a line with no other
    partner raises FailClosed.
    """
    values = system.values
    changed = True
    while changed:
        changed = False
        for block in system.blocks:
            h = hidden[block]
            hidden_sum = (values[block[:, :-1]] * h[:, :-1]).sum(1)
            exposed = (h.sum(1) == 1) | (~h[:, -1] & h.any(1) & (hidden_sum < threshold))
            if not exposed.any():
                continue
            lines, h = block[exposed], h[exposed]
            cost = 2 * values[lines]
            cost[:, -1] += 1
            cost[h] = np.iinfo(np.int64).max
            if known is not None:
                cost[known[lines]] = np.iinfo(np.int64).max
            pick = cost.argmin(1)
            if (cost[np.arange(len(lines)), pick] == np.iinfo(np.int64).max).any():
                raise FailClosed
            hidden[lines[np.arange(len(lines)), pick]] = True
            changed = True


def touching(system: System, hidden: np.ndarray) -> sparse.csr_matrix:
    """Every line that touches a hidden item, over every item: one row a line, its parts 1 and its total -1."""
    rows, cols, data, count = [], [], [], 0
    for block in system.blocks:
        lines = block[hidden[block].any(1)]
        rows.append(np.repeat(np.arange(count, count + len(lines)), block.shape[1]))
        cols.append(lines.ravel())
        data.append(np.tile(np.r_[np.ones(block.shape[1] - 1), -1.0], len(lines)))
        count += len(lines)
    if not count:
        return sparse.csr_matrix((0, system.size))
    return sparse.csr_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(count, system.size))


def equations(system: System, hidden: np.ndarray, lines: sparse.csr_matrix | None = None
              ) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Every line that touches a hidden item, over the hidden items: A x = b (`lines`: `touching`, if made already).

    Shown items are known exactly (an attacker is assumed to know true
    values) and move to the right-hand side.
    """
    lines = touching(system, hidden) if lines is None else lines
    return lines[:, np.flatnonzero(hidden)], -(lines @ np.where(hidden, 0, system.values)).astype(float)


class FailClosed(Exception):
    """Checking this table would take more LP work than one view is allowed."""


# Hidden items per local LP (`chunks`). A small cell of a big table often needs room from a dozen schools:
# on school x SIMD x sex groups of 500 (about 30 schools) leave 141 safe small cells to the whole-table
# pushes where groups of 200 left 483, for 40 % less LP work in all (bench/engine.py --audit)
CHUNK = 500


class Model:
    """A HiGHS model kept between solves: A x = b, each column between its bounds, costs changed per solve.

    Changing only bounds and costs, each solve restarts from the basis the
    last one ended on (primal simplex, no presolve) and takes a few dozen
    iterations where a fresh solve takes hundreds. Same LP, same optimum:
    only the path differs. `Ranges` keeps one for the whole table per
    pattern it audits (its hidden items, each fixed at its true value until
    a solve frees it), one per local group, and `of_lines` one per school's
    small table.
    """

    def __init__(self, a, b, lower, upper):
        core = highs()
        a = a if isinstance(a, sparse.csc_matrix) else sparse.csc_matrix(a)
        lp = core.HighsLp()
        lp.num_col_, lp.num_row_ = a.shape[1], a.shape[0]
        lp.col_cost_ = np.zeros(a.shape[1])
        self.lower, self.upper = (np.broadcast_to(np.asarray(x, float), a.shape[1]).copy() for x in (lower, upper))
        lp.col_lower_, lp.col_upper_ = self.lower, self.upper
        lp.row_lower_ = lp.row_upper_ = np.asarray(b, float)
        lp.a_matrix_.format_ = core.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
        self.core, self.h = core, core._Highs()
        for option, value in (("output_flag", False), ("presolve", "off"), ("random_seed", 0)):
            self.h.setOptionValue(option, value)
        self.h.passModel(lp)
        # what HiGHS holds now, so that a solve sends only the bounds and costs that change (sending all of a
        # big table's columns each time took a tenth of its audit)
        self.at_lower, self.at_upper = self.lower.copy(), self.upper.copy()
        self.cost = np.zeros(a.shape[1])
        self.strategy = None  # the simplex strategy set last
        self.warm = False
        self.work = 0.0

    @classmethod
    def of_lines(cls, values: np.ndarray, blocks) -> Model:
        """Every item a column, every line a row (parts minus total = 0), every column fixed at its true value,
        for blocks of lines known to be additive over `values` (no checks: `_pinned` makes one per school's small
        table, where the checks and scipy's sparse set-up took most of the time)."""
        starts = np.cumsum([0] + [len(b) for b in blocks])
        coef = np.concatenate([np.tile(np.r_[np.ones(b.shape[1] - 1), -1.0], len(b)) for b in blocks] + [[]])
        row = np.concatenate([np.repeat(np.arange(len(b)) + s, b.shape[1]) for b, s in zip(blocks, starts)] + [[]])
        col = np.concatenate([b.ravel() for b in blocks] + [[]]).astype(np.int64)
        order = np.argsort(col, kind="stable")
        indptr = np.r_[0, np.cumsum(np.bincount(col, minlength=len(values)))]
        a = sparse.csc_matrix((coef[order], row[order].astype(np.int32), indptr.astype(np.int32)),
                              shape=(int(starts[-1]), len(values)))
        return cls(a, np.zeros(a.shape[0]), values, values)

    def solve(self, cols: np.ndarray, c, lower, upper) -> Solution | None:
        """Minimise c x with `cols` between `lower` and `upper` (every other column at its own bounds): status
        and x over `cols` as linprog gives them (0 optimal, 3 unbounded), or None when there is no clear answer."""
        lower_now, upper_now, cost = self.lower.copy(), self.upper.copy(), np.zeros(len(self.cost))
        lower_now[cols], upper_now[cols], cost[cols] = lower, upper, c
        moved = np.flatnonzero((lower_now != self.at_lower) | (upper_now != self.at_upper))
        if moved.size:
            self.h.changeColsBounds(len(moved), moved, lower_now[moved], upper_now[moved])
        self.at_lower, self.at_upper = lower_now, upper_now
        priced = np.flatnonzero(cost != self.cost)
        if priced.size:
            self.h.changeColsCost(len(priced), priced, cost[priced])
        self.cost = cost
        strategy = 4 if self.warm else 1  # primal from a basis, dual from none
        if strategy != self.strategy:
            self.h.setOptionValue("simplex_strategy", strategy)
            self.strategy = strategy
        self.h.run()
        # its cost in the work budget's milliseconds, from its size and simplex iterations (fitted on this
        # project's 2-core machine, bench/engine.py --audit): the same on any machine, like linprog's
        size = self.h.getNumCol() + self.h.getNumRow()
        self.work = 0.3 + size * (0.35 + 0.014 * self.h.getInfoValue("simplex_iteration_count")[1]) / 1000
        status = self.h.getModelStatus()
        if status == self.core.HighsModelStatus.kOptimal:
            self.warm = True
            solution, n = self.h.getSolution(), len(self.cost)  # fromiter: a third of asarray's time on a list
            return Solution(0, np.fromiter(solution.col_value, float, n)[cols], np.fromiter(solution.col_dual, float, n),
                            np.fromiter(solution.row_dual, float, self.h.getNumRow()))
        if status == self.core.HighsModelStatus.kUnbounded:
            self.warm = True
            return Solution(3, None)
        self.h.clearSolver()  # anything else: forget the basis, and let linprog answer this one
        self.warm = False
        return None


@dataclass(frozen=True)
class Solution:
    status: int  # as linprog's: 0 optimal, 3 unbounded
    x: np.ndarray | None
    dual: np.ndarray | None = None  # every column's reduced cost (what each fixed column's value is worth)
    row_dual: np.ndarray | None = None  # every row's dual value (what each line's right-hand side is worth)


class SolverError(RuntimeError):
    """The LP solver gave no answer: the table is refused, never shown on a guess."""


class Ranges:
    """What is known so far of each item's feasible range: the span of the feasible points seen.

    Hiding more items only adds freedom, so points seen under a smaller
    suppression pattern stay feasible: `suppress` keeps one of these across
    its rounds and re-examines only items still unsettled.

    `budget` is LP work in rough milliseconds of solver time (an LP over v
    hidden items costs about 3 + v²/100000 solved afresh by linprog; on a
    kept `Model`, by its size and simplex iterations); spending past it
    raises FailClosed. Counted in LP size, not wall time, so the outcome is the
    same on any machine.
    """

    def __init__(self, system: System, threshold: int, budget: float = math.inf, sensitive: np.ndarray | None = None,
                 public: np.ndarray | None = None):
        self.system, self.threshold, self.budget = system, threshold, budget
        # items to keep from being pinned down: the small ones, and any the caller names (see suppress), but
        # never a `public` one (a structural zero: everyone knows it, so there is nothing to keep)
        self.sensitive = system.values < threshold if sensitive is None else (system.values < threshold) | sensitive
        if public is not None:
            self.sensitive &= ~public
        self.low = system.values.astype(float)
        self.high = self.low.copy()
        self.unbounded = np.zeros(system.size, bool)
        # the whole table's model, made at its first LP: its columns (items) and rows (lines), and the lines over
        # every item, from which a shown item's reduced cost is worked out when it is not a column (`each_failure`)
        self.model = None
        self.columns: np.ndarray | None = None
        self.lines: sparse.csr_matrix | None = None
        self.room: dict[int, np.ndarray] = {}  # failing item -> shown items whose release would widen it

    def settled(self, items: np.ndarray) -> np.ndarray:
        wide = np.floor(self.high[items] + _EPS) - np.ceil(self.low[items] - _EPS) >= self.threshold
        return self.unbounded[items] | wide

    def _solve(self, items, afresh, c, lower=0.0, upper=np.inf, model=None):
        """One LP over the hidden `items` (A x = b, lower <= x <= upper, minimise c x); widens what is known.

        Solved on a kept model (`Model`: `model`, or by default the whole
        table's), restarting from its last basis; solved afresh by linprog
        when there is no model or the model gives no clear answer (`afresh()`
        gives its A and b), so a solver hiccup costs time, never a verdict.
        """
        if model is None and highs() is not None:
            if self.model is None:
                if self.columns is None:  # every item a column, every line a row: one model for every round
                    self.columns = np.arange(self.system.size)
                    self.lines = touching(self.system, np.ones(self.system.size, bool))
                free = np.zeros(self.system.size, bool)
                free[self.columns] = True
                values = self.system.values[self.columns]
                self.model = Model(*equations(self.system, free, self.lines), values, values)
            model = self.model
        res = None
        if model is not None:
            if self.budget <= 0:
                raise FailClosed
            res = model.solve(np.searchsorted(self.columns, items) if model is self.model else np.arange(len(items)),
                              c, lower, upper)
            self.budget -= model.work
        if res is None:
            self.budget -= 3 + len(items) ** 2 / 1e5
            if self.budget < 0:
                raise FailClosed
            bounds = np.column_stack(np.broadcast_arrays(lower, upper, c)[:2])
            a, b = afresh()
            res = linprog(c, A_eq=a, b_eq=b, bounds=bounds, method="highs")
            if res.status not in (0, 3):
                raise SolverError(f"disclosure audit: the linear programme failed ({res.message})")
        if res.status == 0:
            self.low[items] = np.minimum(self.low[items], res.x)
            self.high[items] = np.maximum(self.high[items], res.x)
        return res

    def _push(self, items: np.ndarray, targets: np.ndarray, solve) -> None:
        """LPs that push many unsettled `targets` (positions in `items`) at once, a quarter up and the rest down,
        each just far enough, until they stop paying; one already seen at 0 always up (nothing lies below 0: pushed
        down three times in four, such items cost school x sex x stage half as much LP work again). `solve(c,
        lower, upper)` solves one over `items`."""
        t = self.threshold
        left = [int((~self.settled(items[targets])).sum())]
        # The truth stays inside every bound, so these LPs are feasible and bounded.
        cap = self.system.values.max() + t
        while left[-1] and (len(left) < 5 or left[-5] - left[-1] >= 2 + 0.05 * left[-5]):
            todo = targets[~self.settled(items[targets])]
            up = ((np.arange(len(todo)) + len(left) - 1) % 4 == 0) | (self.low[items[todo]] < _EPS)
            c, lower, upper = np.zeros(len(items)), np.zeros(len(items)), np.full(len(items), float(cap))
            c[todo] = np.where(up, -1.0, 1.0)
            upper[todo[up]] = np.ceil(self.low[items[todo[up]]] - _EPS) + t
            lower[todo[~up]] = np.maximum(0, np.floor(self.high[items[todo[~up]]] + _EPS) - t)
            solve(c, lower, upper)
            left.append(int((~self.settled(items[targets])).sum()))

    def _push_chunks(self, hidden: np.ndarray, size: int, goal: np.ndarray) -> None:
        """`_push` the unsettled `goal` items of each group of `chunks(size)`, over that group alone (every other
        item held at its true value), each group on a model of its own."""
        for chunk in chunks(self.system, hidden, size):
            aim = np.flatnonzero(goal[chunk])
            if (~self.settled(chunk[aim])).any():
                mask = np.zeros(self.system.size, bool)
                mask[chunk] = True
                local = Model(*equations(self.system, mask), 0.0, np.inf)
                self._push(chunk, aim, lambda c, lower, upper, k=chunk, m=local, e=mask:
                           self._solve(k, lambda: equations(self.system, e), c, lower, upper, m))

    def failures(self, hidden: np.ndarray) -> list[tuple[int, float, float, np.ndarray]]:
        """Every failure of `each_failure`, all decided: the audit's answer."""
        return list(self.each_failure(hidden))

    def each_failure(self, hidden: np.ndarray, skip: np.ndarray | None = None):
        """Small items that shown items pin down to an interval narrower than the threshold, one at a time.

        Every hidden item is at least 0 (a hidden count may be 0: zeros are
        hidden like any small count) and every line holds. Yields (item, low,
        high, linked hidden items) per failure, shown items first, then hidden
        ones by index. An item's exact interval takes two LPs. To need few of
        them, LPs first push many unsettled small items at once, a quarter up
        and the rest down (so each round frees room for the ones going up),
        each just far enough; every point found widens every item's known
        interval. The first pushes are over small groups of hidden items
        (`chunks`, the rest held at their true values), which are cheap and
        settle most items of a big table. In a big table, items pinned down
        within their own small tables (`_pinned`) then fail at once, and the
        rest are pushed over all hidden items. When those rounds stop paying,
        each item left gets its exact LPs over everything it is linked to:
        only these and `_pinned` can fail an item.

        The exact LPs are solved only as an item's turn comes, so that a
        caller can pass over items it would not act on: an item `skip` marks
        when its turn comes (the caller may mark items as it goes, as
        `suppress` marks those on a line through a partner it has just hidden)
        is left undecided, and its LPs unspent. On a big, mostly small table
        most failures are passed over each round, and deciding them all ran
        such tables out of their work budget. Every verdict is on `hidden` as
        it was asked about: the caller may hide partners meanwhile.
        """
        hidden = hidden.copy()
        values = self.system.values
        small = self.sensitive
        for i in np.flatnonzero(small & ~hidden):
            if skip is None or not skip[i]:
                yield int(i), float(values[i]), float(values[i]), np.array([i])
        items = np.flatnonzero(hidden)
        lines = touching(self.system, hidden)
        a, b = equations(self.system, hidden, lines)
        if not a.shape[0]:
            return
        targets = np.flatnonzero(small[items])
        big = len(items) > 2 * CHUNK and highs() is not None  # small tables: their exact LPs cost less
        if big:
            # a big table's whole-table LPs on a model of this pattern's hidden items only and the lines through
            # them, every other item and line left out: a sixth smaller (school tables of 3,810 cells and 1,427
            # lines, 2,978 hidden on 1,367 lines) and as much faster a solve
            self.model, self.columns, self.lines = None, items, lines
            self._push_chunks(hidden, CHUNK, small)
        elif self.columns is not None and len(self.columns) < self.system.size:
            self.model, self.columns, self.lines = None, None, None  # a smaller pattern: every item's model again
        pinned = self._pinned(hidden, items[targets[~self.settled(items[targets])]]) if big else {}
        targets = targets[~np.isin(items[targets], list(pinned))]
        if big and len(items) > 4 * CHUNK:
            # what groups of CHUNK left unsettled, in groups twice as big before the whole table: a cell of a big
            # school table often needs room from more schools than one group holds, and one LP over 1,000
            # hidden cells costs far less than one over 3,000
            goal = np.zeros(self.system.size, bool)
            goal[items[targets]] = True
            self._push_chunks(hidden, 2 * CHUNK, goal)
        self._push(items, targets, lambda c, lower, upper: self._solve(items, lambda: (a, b), c, lower, upper))

        todo = targets[~self.settled(items[targets])]
        if todo.size:
            from scipy.sparse.csgraph import connected_components

            _, label = connected_components(abs(a).T @ abs(a), directed=False)
        blocks = {}  # per linked group: its items, and its equations only if linprog must solve one afresh
        for j in np.union1d(todo, np.searchsorted(items, list(pinned))).astype(np.int64):
            item = int(items[j])
            if skip is not None and skip[item]:
                continue
            if item in pinned:
                low, high, linked, room = pinned[item]
                if room.size:
                    self.room[item] = room
                yield item, low, high, linked
                continue
            if self.settled(items[[j]])[0]:  # an LP of an item before it showed it wide
                continue
            if label[j] not in blocks:
                group = np.flatnonzero(label == label[j])
                rows = np.unique(a[:, group].nonzero()[0])
                blocks[label[j]] = group, rows, (lambda g=group, r=rows: (a[r][:, g], b[r]))
            group, rows, sub = blocks[label[j]]
            if not rows.size:  # on no line with anything hidden: nothing bounds it
                self.unbounded[item] = True
                continue
            c, room = np.zeros(len(group)), []
            for sign in (-1.0, 1.0):
                if sign > 0 and self.low[item] < _EPS:
                    continue  # seen at 0: that is its least value, and hiding more cannot lower it
                c[np.searchsorted(group, j)] = sign
                res = self._solve(items[group], sub, c)
                if res.status == 3:
                    self.unbounded[item] = True
                if self.settled(items[[j]])[0]:
                    break
                if getattr(res, "row_dual", None) is not None:
                    # a shown item with a reduced cost moves this bound if it may move that way (up; down from > 0):
                    # worked out from the lines' duals as a column fixed at its value would have it (its cost 0,
                    # less its lines' duals), where the model has no column for it
                    dual = -(self.lines.T @ res.row_dual)
                    room.append(np.flatnonzero(~hidden & ((dual < -_EPS) | ((dual > _EPS) & (values > 0)))))
            else:
                if room:
                    self.room[item] = np.unique(np.concatenate(room))
                yield item, float(self.low[item]), float(self.high[item]), items[group]

    def _pinned(self, hidden: np.ndarray, todo: np.ndarray) -> dict[int, tuple[float, float, np.ndarray, np.ndarray]]:
        """Small hidden items (of `todo`) pinned down even with the longest lines dropped: they fail for sure.

        Dropping lines only adds freedom, so an item's range without them
        holds its range with them: narrower than the threshold there, it is
        narrower here, and its two LPs over the whole table can be spared (and
        the pushes no longer chase it). On a grid the longest lines are the
        ones across schools; without them the hidden items fall apart into
        each school's own small table, whose LPs take a fraction of a
        millisecond. An item
        this does not pin down goes on to the pushes and exact LPs, as before.
        Returns, per item pinned, (least, greatest value without the dropped
        lines, the hidden items of its small table, the shown items with a
        reduced cost in its LPs: `room`).
        """
        longest = max((b.shape[1] for b in self.system.blocks), default=0)
        kept = [b[hidden[b].any(1)] for b in self.system.blocks if b.shape[1] < longest]
        if not todo.size or not kept or len(kept) == len(self.system.blocks) or highs() is None:
            return {}  # nothing to drop, or no kept model to solve the small tables on: the exact LPs decide
        from scipy.sparse.csgraph import connected_components

        rows = [row for b in kept for row in b]
        size = self.system.size
        # items and kept lines as one graph: a hidden item is joined to every kept line through it
        src = np.concatenate([row[hidden[row]] for row in rows])
        dst = size + np.repeat(np.arange(len(rows)), [int(hidden[row].sum()) for row in rows])
        graph = sparse.coo_matrix((np.ones(len(src)), (src, dst)), shape=(size + len(rows),) * 2)
        _, label = connected_components(graph, directed=False)
        by_group: dict[int, list[np.ndarray]] = {}
        for k, row in enumerate(rows):
            by_group.setdefault(int(label[size + k]), []).append(row)
        out = {}
        for group in np.unique(label[todo]):
            if int(group) in by_group:  # on no kept line, nothing bounds it here
                out.update(self._pinned_in(hidden, by_group[int(group)], todo[label[todo] == group]))
        return out

    def _pinned_in(self, hidden, rows: list[np.ndarray], todo: np.ndarray) -> dict:
        """`_pinned` over one small table: the kept `rows` that tie its hidden items, `todo` among them."""
        values, t = self.system.values, self.threshold
        sub = np.unique(np.concatenate(rows))
        blocks: dict[int, list[np.ndarray]] = {}
        for row in rows:
            blocks.setdefault(len(row), []).append(np.searchsorted(sub, row))
        model = Model.of_lines(values[sub], [np.array(r) for r in blocks.values()])
        cols = np.flatnonzero(hidden[sub])
        at = np.searchsorted(sub[cols], todo)
        # every point of these LPs, and every point of the whole table seen so far, is a point without the
        # dropped lines: an item they already show wide is not pinned down here, and needs no LP of its own
        low, high = self.low[sub[cols]].copy(), self.high[sub[cols]].copy()
        out = {}

        def narrow(k):
            return np.floor(high[k] + _EPS) - np.ceil(low[k] - _EPS) < t

        def solve(c, upper):
            nonlocal low, high
            if self.budget <= 0:
                raise FailClosed
            res = model.solve(cols, c, 0.0, upper)
            self.budget -= model.work
            if res is not None and res.status == 0:
                low, high = np.minimum(low, res.x), np.maximum(high, res.x)
            return res

        # first one LP for them all: every narrow item up, each just far enough to be wide (its truth lies
        # below that, so the LP stays feasible)
        if narrow(at).sum() > 1:
            up = at[narrow(at)]
            c, upper = np.zeros(len(cols)), np.full(len(cols), np.inf)
            c[up] = -1.0
            upper[up] = np.ceil(low[up] - _EPS) + t
            solve(c, upper)
        for item, k in zip(todo, at):
            c, seen = np.zeros(len(cols)), []
            for sign in (1.0, -1.0):
                if not narrow(k):
                    break
                if sign > 0 and low[k] < _EPS:
                    continue  # seen at 0 already: that is its least value
                c[k] = sign
                res = solve(c, np.inf)
                if res is None or res.status != 0:
                    break  # no answer, or unbounded: not pinned down here
                free = ~hidden[sub] & ((res.dual < -_EPS) | ((res.dual > _EPS) & (values[sub] > 0)))
                seen.append(sub[free])
            else:
                if narrow(k):  # both ends found, and still narrower than the threshold
                    out[int(item)] = (float(low[k]), float(high[k]), sub[cols], np.unique(np.concatenate(seen)))
        return out


def chunks(system: System, hidden: np.ndarray, size: int) -> list[np.ndarray]:
    """The hidden items in groups of about `size` that lines tie closely: for LPs over one group at a time.

    Each group grows from its first item through the lines with the fewest
    hidden items first (on a grid: a school's own cells before the long line
    across schools), so a small item finds its room within its group.
    Everything outside a group held at its true value, a point of the
    group's LP is a point of the whole system's: a group can show an item
    safe, never pin one down.
    """
    import heapq

    indptr, ids, starts = system._through
    width = np.concatenate([hidden[b].sum(1) for b in system.blocks]) if system.blocks else np.zeros(0, np.int64)
    taken = np.zeros(system.size, bool)
    out = []
    for first in np.flatnonzero(hidden):
        if taken[first]:
            continue
        group, heap, seen = [first], [], set()
        taken[first] = True
        frontier = [first]
        while frontier or heap:
            for item in frontier:
                for line in ids[indptr[item]:indptr[item + 1]]:
                    if line not in seen:
                        seen.add(line)
                        heapq.heappush(heap, (int(width[line]), int(line)))
            frontier = []
            if len(group) >= size or not heap:
                break
            key = heapq.heappop(heap)
            block = int(np.searchsorted(starts, key[1], side="right")) - 1
            members = system.blocks[block][key[1] - starts[block]]
            members = members[hidden[members] & ~taken[members]]
            if members.size:  # one item per visit, so a long line brings in one new group of short lines at a time
                taken[members[0]] = True
                group.append(int(members[0]))
                frontier.append(int(members[0]))
                if members.size > 1:
                    heapq.heappush(heap, key)
        out.append(np.sort(np.array(group, np.int64)))
    return out


def partner(system: System, hidden: np.ndarray, item: int, linked: np.ndarray,
            known: np.ndarray | None = None, room: np.ndarray | None = None) -> int | None:
    """The shown item to hide next so that `item` gains room.

    When the audit's LPs said which shown items hold the item's bounds
    (`room`: the reduced costs of its least and greatest value), the one of
    those that is the total of fewest lines, then the smallest: hiding it
    moves a bound, where an item picked by its lines alone may be held by
    other lines and change nothing (on a school x SIMD x sex grid the rule
    below picked thirteen such in a row). Otherwise the lines through the
    item itself, tightest first (a shown total and the least hidden weight
    beside it), taking its smallest shown item (a part before the total);
    failing that, the smallest shown item on any line through a linked item,
    items that are totals of fewer lines first. A `known` item is never
    picked.
    """
    values = system.values
    closed = hidden if known is None else hidden | known
    if room is not None and (room := room[~closed[room]]).size:
        return int(room[np.lexsort((room, values[room], system.level[room]))[0]])
    best = None
    for members in system.lines_through(item):
        shown = members[~closed[members]]
        if not shown.size:
            continue
        tightness = (bool(hidden[members[-1]]), int(values[members[:-1]][hidden[members[:-1]]].sum()))
        pick = min(shown, key=lambda i: (i == members[-1], values[i], i))
        if best is None or tightness < best[0]:
            best = (tightness, pick)
    if best is not None:
        return int(best[1])
    near = system.near_any(linked)
    near = near[~closed[near]]
    if not near.size:
        return None
    return int(near[np.lexsort((near, values[near], system.level[near]))[0]])


def suppress(system: System, threshold: int, budget: float, sensitive: np.ndarray | None = None,
             known: np.ndarray | None = None, public: np.ndarray | None = None) -> np.ndarray:
    """Primary and secondary suppression on true counts: the hidden-item mask.

    Primary: every item below the threshold, zeros included, and every
    `sensitive` item (one that must stay hidden for reasons outside this
    table: the ledger's). Then alternate the cheap line rule with the exact
    audit, hiding one more item per failing small or sensitive item, until
    the audit passes. `known` items are public already (another view showed
    them): they are never hidden as partners, and the audit counts them as
    shown. Every round hides at least one item, so it ends; with everything
    linked hidden, every small item's interval is unbounded. A system too big
    to check within the work budget, or one whose only partners are known,
    fails closed (`System.closed`: its grand total only; when some items are
    known, only the known ones, which are public already, since a grand total
    could pin a small one against them). A solver that gives no answer raises
    SolverError.

    `public` items are structural zeros (no such pupils anywhere in the data,
    which anyone can tell from the data's public structure): never hidden,
    never partners, fixed at 0 in every LP like any shown item, and shown
    even when the table fails closed (docs/disclosure.md).
    """
    public = np.zeros(system.size, bool) if public is None else np.asarray(public, bool)
    small = (system.values < threshold) & ~public
    if sensitive is not None:
        sensitive = sensitive & ~public
    hidden = small | sensitive if sensitive is not None else small.copy()
    barred = public if known is None else known | public  # never a partner
    ranges = Ranges(system, threshold, budget=budget, sensitive=sensitive, public=public)
    try:
        while True:
            close_lines(system, hidden, threshold, barred)
            # items on a line through a partner hidden this round: a line through each has just changed, so it
            # is looked at again next round, and its LPs are not spent on this one
            changed = np.zeros(system.size, bool)
            for item, _, _, linked in ranges.each_failure(hidden, skip=changed):
                pick = partner(system, hidden, item, linked, barred, ranges.room.get(item))
                if pick is None:  # everything linked is hidden or public: fail closed
                    raise FailClosed
                hidden[pick] = True
                changed[system.near(pick)] = True
            if not changed.any():
                return hidden
    except FailClosed:
        if known is not None and known.any():
            # Only what is public already: showing a known item again tells nothing new, whatever this
            # table's totals, and the same view asked again gets the same answer.
            return (small | ~known | (sensitive if sensitive is not None else False)) & ~public
        return system.closed(threshold) & ~public


def audit(system: System, hidden, threshold: int, public=None) -> list[tuple[int, float, float]]:
    """Check a suppression pattern: every item below the threshold must be hidden, and its feasible range
    given everything shown (hidden items >= 0, every line holding) at least `threshold` wide, or unbounded.
    Returns (item, low, high) for each item that fails. No work budget: a check, not a view. `public` items
    (structural zeros) are shown and need no protection.
    """
    mask = np.asarray(hidden, dtype=bool)
    if mask.shape != system.values.shape:
        raise ValueError(f"expected {system.size} hidden flags, not {mask.size}")
    public = None if public is None else np.asarray(public, bool)
    return [(i, low, high) for i, low, high, _ in Ranges(system, threshold, public=public).failures(mask.copy())]
