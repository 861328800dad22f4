"""The ledger of released figures: protection that holds across views, sessions and server processes.

One view at a time is safe by the gate alone. Many views together are not:
a viewer who can ask for two cells whose records differ by a small group G
learns |G| from their difference, give or take the noise, and with many such
pairs over different records averages the noise away; two linked tables that
hide different cells can be put into each other's totals. The ledger
remembers, per dataset, every cell any view has decided — its record set's
identity (n and an XOR fingerprint) and a MinHash sketch — in the server
store, so every session and process sees the same history. Before a view is
protected it is judged against that history:

- a cell whose records were **shown** before is public: the gate must not
  rely on hiding it (`known`);
- a cell whose records were **hidden** before stays hidden (`hidden_before`),
  so a cell hidden in one view to protect a small one cannot be read from
  another view and put into the first one's totals;
- a cell whose records hold, or lie within, a shown cell's records, give or
  take fewer than `threshold` records (`differs`), is hidden, so no two
  released cells differ by a small group and there is nothing to subtract, let
  alone average.

Hidden cells of the last two kinds are protected like small ones: the gate's
audit keeps each of them from being worked out of its table's totals.

The sketch test: for sets R ⊂ C, the least hash of C under every hash function
is at most R's, and equals it unless C's least element lies in C − R; for
unrelated sets of similar size both hold for all SKETCH functions by chance
with probability about 2^-SKETCH. A near-subset (C = R plus a few, minus a
few) may also be flagged: hiding it costs a figure, never safety.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rcs_viz.engine.sql.views import SKETCH

SKETCH_COLUMNS = tuple(f"mh{j}" for j in range(SKETCH))
COLUMNS = ("fp", *SKETCH_COLUMNS)
VIEWS = "ledger view"  # the store's kind for each judged view's answer, under the view's cells  # what the query adds to each cell for the ledger, dropped before anything leaves


@dataclass(frozen=True)
class Judgement:
    """Per cell of a view, what its history says (boolean arrays, in the cells' order)."""

    known: np.ndarray
    hidden_before: np.ndarray
    differs: np.ndarray

    @property
    def must_hide(self) -> np.ndarray:
        return self.hidden_before | self.differs


def _u64(values) -> np.ndarray:
    """Hashes as unsigned 64-bit integers; an empty cell's missing hash as the largest value."""
    out = np.full(len(values), np.iinfo(np.uint64).max, dtype=np.uint64)
    for i, v in enumerate(values):
        if not pd.isna(v):
            out[i] = np.uint64(int(v))
    return out


def identities(cells: pd.DataFrame) -> list[str]:
    """Each cell's record set as text: its size and fingerprint (the same records in any view give the same)."""
    fp = _u64(cells["fp"].tolist())
    return [f"{int(n)}:{int(f):016x}" for n, f in zip(cells["n"], fp)]


def sketches(cells: pd.DataFrame) -> np.ndarray:
    return np.column_stack([_u64(cells[c].tolist()) for c in SKETCH_COLUMNS])


class Ledger:
    """One dataset's history of decided cells, read from the store and kept in step with it."""

    def __init__(self, store, dataset: str):
        """`store`: the server store, or a function that opens it when a view is first judged (so a server
        whose store cannot be opened still serves views that are not judged, and fails only those that are)."""
        self._store = store if callable(store) else (lambda: store)
        self.dataset = dataset
        self._lock = threading.Lock()
        self._seq = 0
        self._decided: dict[str, bool] = {}  # identity -> shown
        self._n = np.zeros(0, np.int64)  # the shown cells, sorted by n
        self._sketch = np.zeros((0, SKETCH), np.uint64)

    def _refresh(self) -> None:
        rows = self._store().released_since(self.dataset, self._seq)
        if not rows:
            return
        self._seq = rows[-1][0]
        new_n, new_sketch = [], []
        for _, cell, n, sketch, shown in rows:
            self._decided.setdefault(cell, bool(shown))
            if shown:
                new_n.append(n)
                new_sketch.append([int(x, 16) for x in sketch.split()])
        if new_n:
            n = np.concatenate([self._n, np.array(new_n, np.int64)])
            sk = np.concatenate([self._sketch, np.array(new_sketch, np.uint64).reshape(-1, SKETCH)])
            order = np.argsort(n, kind="stable")
            self._n, self._sketch = n[order], sk[order]

    def judge(self, cells: pd.DataFrame, threshold: int) -> Judgement:
        """What the history says of each cell of a view about to be protected."""
        with self._lock:
            self._refresh()
            ids = identities(cells)
            n = cells["n"].to_numpy(np.int64)
            decided = [self._decided.get(i) for i in ids]
            known = np.array([d is True for d in decided])
            hidden_before = np.array([d is False for d in decided]) & (n >= threshold)
            differs = self._differs(n, sketches(cells), threshold) & ~known & (n >= threshold)
        return Judgement(known, hidden_before, differs)

    def _differs(self, n: np.ndarray, sketch: np.ndarray, threshold: int) -> np.ndarray:
        """Cells within fewer than `threshold` records of a shown cell, holding it or held by it."""
        out = np.zeros(len(n), bool)
        if not len(self._n):
            return out
        lo = np.searchsorted(self._n, n - threshold + 1, side="left")
        hi = np.searchsorted(self._n, n + threshold - 1, side="right")
        cell = np.repeat(np.arange(len(n)), hi - lo)
        if not len(cell):
            return out
        other = np.concatenate([np.arange(a, b) for a, b in zip(lo, hi)])
        mine, theirs = sketch[cell], self._sketch[other]
        bigger = (n[cell] > self._n[other])[:, None]
        smaller = (n[cell] < self._n[other])[:, None]
        holds = np.all(mine <= theirs, axis=1) & bigger[:, 0]  # C holds R: C's least hashes are at most R's
        held = np.all(theirs <= mine, axis=1) & smaller[:, 0]
        shared = np.any(mine == theirs, axis=1)
        hit = (holds | held) & shared
        out[cell[hit]] = True
        return out

    def record(self, cells: pd.DataFrame, shown: np.ndarray, threshold: int) -> None:
        """Remember a view's decisions: every shown cell, and every hidden one that is not small."""
        n = cells["n"].to_numpy(np.int64)
        keep = shown | (n >= threshold)
        if not keep.any():
            return
        ids = identities(cells)
        sk = sketches(cells)
        rows = [{"cell": ids[i], "n": int(n[i]), "sketch": " ".join(f"{int(x):x}" for x in sk[i]),
                 "shown": bool(shown[i])} for i in np.flatnonzero(keep) if ids[i] not in self._decided]
        if rows:
            self._store().release(self.dataset, rows)
        self._store().add_if_absent(VIEWS, self._view_key(cells, threshold),
                                    {"shown": "".join("1" if s else "0" for s in shown)})

    def answer(self, cells: pd.DataFrame, threshold: int) -> np.ndarray | None:
        """The shown-cell mask this server gave the same cells before, if it did: the same view asked again, in
        any session or process, gets the same answer (judging it afresh against a history that now holds its
        own first answer could hide more, and two readings of one table must agree)."""
        kept = self._store().get(VIEWS, self._view_key(cells, threshold))
        if kept is None or len(kept.get("shown", "")) != len(cells):
            return None
        return np.array([c == "1" for c in kept["shown"]])

    def _view_key(self, cells: pd.DataFrame, threshold: int) -> str:
        text = "|".join([str(threshold), *identities(cells)])
        return f"{self.dataset}:{hashlib.sha256(text.encode()).hexdigest()}"
