"""The ledger of released figures, alone: identities, the subset test on sketches, and its memory across processes."""

import numpy as np
import pandas as pd
import pytest

from rcs_viz.engine.disclosure.ledger import Ledger
from rcs_viz.engine.sql.views import SKETCH
from rcs_viz.engine.store import Store

T = 10


def _h(records: np.ndarray, j: int) -> np.ndarray:
    """splitmix64 of (record, j): a stand-in for DuckDB's hash, vectorised."""
    with np.errstate(over="ignore"):
        z = records.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64((j * 0xBF58476D1CE4E5B9 + 1) % 2**64)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def cells(*sets) -> pd.DataFrame:
    """Cells as the query gives them: n, the XOR fingerprint and the least hash under each function."""
    rows = []
    for s in sets:
        r = np.fromiter(s, np.int64, len(s))
        rows.append({"n": len(s), "fp": int(np.bitwise_xor.reduce(_h(r, 1))),
                     **{f"mh{j}": int(_h(r, j + 2).min()) for j in range(SKETCH)}})
    return pd.DataFrame(rows, dtype=object).astype({"n": "int64"})


@pytest.fixture
def ledger(tmp_path):
    store = Store.open(None, tmp_path / "store.sqlite")
    yield Ledger(store, "ds")
    store.close()


def released(ledger, *sets):
    c = cells(*sets)
    ledger.record(c, np.ones(len(c), bool), T)


def test_a_cell_within_a_small_group_of_a_shown_one_differs_either_way(ledger):
    rng = np.random.default_rng(1)
    missed = 0
    for trial in range(300):
        size = int(rng.integers(T + 1, 2000))
        d = int(rng.integers(1, T))
        base = set(rng.choice(10**7, size=size, replace=False).tolist())
        small = set(list(base)[:size - d]) if size - d >= T else base
        bigger = base | set(range(10**8 + trial * 20, 10**8 + trial * 20 + d))
        released(ledger, base)
        j = ledger.judge(cells(small, bigger), T)
        missed += int((~j.differs).sum())
    assert missed <= 2, f"{missed} of 600 subsets within a small group missed"


def test_unrelated_cells_of_similar_size_are_not_flagged(ledger):
    rng = np.random.default_rng(2)
    shown = [set(rng.choice(10**7, size=int(s), replace=False).tolist()) for s in rng.integers(10, 3000, 2000)]
    released(ledger, *shown)
    fresh = [set(rng.choice(10**7, size=int(s), replace=False).tolist()) for s in rng.integers(10, 3000, 2000)]
    flagged = ledger.judge(cells(*fresh), T).differs.mean()
    assert flagged < 0.01, f"{flagged:.1%} of unrelated cells flagged"


def test_shown_cells_are_known_hidden_ones_stay_hidden_and_small_ones_are_not_remembered(ledger):
    a, b, c, tiny = set(range(50)), set(range(100, 180)), set(range(200, 300)), set(range(400, 405))
    decided = cells(a, b, tiny)
    ledger.record(decided, np.array([True, False, False]), T)
    j = ledger.judge(cells(a, b, c, tiny), T)
    assert j.known.tolist() == [True, False, False, False]
    assert j.hidden_before.tolist() == [False, True, False, False]
    assert j.must_hide.tolist() == [False, True, False, False]


def test_the_first_decision_wins_and_another_process_sees_it(ledger, tmp_path):
    a = set(range(50))
    ledger.record(cells(a), np.array([False]), T)
    other = Ledger(Store.open(None, tmp_path / "store.sqlite"), "ds")  # a second server process
    other.record(cells(a), np.array([True]), T)
    assert other.judge(cells(a), T).hidden_before.tolist() == [True]
    assert ledger.judge(cells(a), T).hidden_before.tolist() == [True]
    released(other, set(range(1000, 1100)))
    assert ledger.judge(cells(set(range(1000, 1105))), T).differs.tolist() == [True]
