"""Failures decided lazily: `suppress` spends an item's exact LPs only when it would act on the item.

Each round `suppress` passes over a failing item on a line through a partner it has just hidden (the line has
changed: it looks again next round). `Ranges.each_failure` decides each item only as its turn comes, so such
an item's LPs are never solved that round. Watched here on random mostly-small grids, where many failures
share lines: every failure acted on is one the whole eager audit finds, every one passed over was on a line
through a partner hidden before its turn and got no exact LP, and the pattern found passes the exact audit
and the attacker's own LPs (tests/unit/test_disclosure_split.py).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from rcs_viz.engine.disclosure import system
from tests.unit.test_disclosure_split import T, attacker, grid


def tables(count: int = 12):
    """Random 3-D grids, most cells small, so that failures share lines and are passed over."""
    rng = np.random.default_rng(0)
    for shape in [(8, 3, 3), (10, 4, 3)] * (count // 2):
        yield grid(rng.choice([0, 1, 2, 3, 5, 8, 12, 20, 40], shape, p=[.15, .15, .1, .1, .1, .1, .1, .1, .1]))


def watched(s: system.System) -> tuple[np.ndarray, list[dict]]:
    """`suppress` on `s`, and per round: the failures the eager audit finds (a fresh `Ranges`, every item
    decided), the failures acted on (whether each was marked to skip at its turn), the items the round's skip
    mask marked, and every exact LP (item, its sign, the item's least value seen before it)."""
    rounds: list[dict] = []
    each_failure, solve = system.Ranges.each_failure, system.Ranges._solve

    def each(self, hidden, skip=None):
        if skip is None:  # the eager audit itself
            yield from each_failure(self, hidden)
            return
        seen = dict(eager={i for i, *_ in system.Ranges(s, T).failures(hidden)}, acted={}, exact=[], ranges=self)
        rounds.append(seen)
        for failure in each_failure(self, hidden, skip):
            seen["acted"][failure[0]] = bool(skip[failure[0]])
            yield failure
        seen["skipped"] = set(np.flatnonzero(skip).tolist())

    def solve_(self, items, equations, c, *bounds, **kw):
        if rounds and self is rounds[-1]["ranges"] and not bounds and not kw:  # suppress's exact LPs (the pushes
            # give bounds of their own)
            k = int(np.flatnonzero(c)[0])
            rounds[-1]["exact"].append((int(items[k]), float(c[k]), float(self.low[items[k]])))
        return solve(self, items, equations, c, *bounds, **kw)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(system.Ranges, "each_failure", each)
        mp.setattr(system.Ranges, "_solve", solve_)
        hidden = system.suppress(s, T, math.inf)
    return hidden, rounds


@functools.cache
def runs(chunk: int) -> list[tuple[system.System, np.ndarray, list[dict]]]:
    """`watched` on every table, with hidden items grouped `chunk` at a time (`system.CHUNK`)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(system, "CHUNK", chunk)
        return [(s, *watched(s)) for s in tables()]


@pytest.mark.parametrize("chunk", [500, 4])  # 4: big enough for the local pushes and the schools' own tables
def test_the_lazy_suppression_passes_the_exact_audit_where_failures_share_lines(chunk, full):
    passed_over = 0
    for k, (s, hidden, rounds) in enumerate(runs(chunk)):
        assert hidden[s.values < T].all()
        assert system.audit(s, hidden, T) == []
        if full or k < 3:  # the attacker's fresh LPs per small item take about a second a table
            assert attacker(s, hidden) == set()
        for seen in rounds:
            assert set(seen["acted"]) <= seen["eager"]  # every failure acted on is one: verdicts stay exact
            assert not any(seen["acted"].values())  # none of them marked at its turn
            assert seen["eager"] - set(seen["acted"]) <= seen["skipped"]  # the rest were passed over, marked
            passed_over += len(seen["eager"] - set(seen["acted"]))
        assert rounds[-1]["eager"] == set()
    assert passed_over > 15  # the case this is about: many failures left for the next round


@pytest.mark.parametrize("chunk", [500, 4])
def test_an_item_on_a_line_through_a_partner_just_hidden_gets_no_exact_lp_that_round(chunk):
    """The LPs counted: a failing item passed over costs nothing that round (the eager audit solved one or two
    LPs over its whole linked group for each), and an item already seen at 0 gets no LP for its least value."""
    spared = 0
    for _, _, rounds in runs(chunk):
        for seen in rounds:
            passed = seen["eager"] - set(seen["acted"])
            assert not passed & {item for item, _, _ in seen["exact"]}
            spared += len(passed)
            assert all(low > 1e-6 for _, sign, low in seen["exact"] if sign > 0)
    assert spared > 15
