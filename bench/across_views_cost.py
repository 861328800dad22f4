"""Where the honest cost across views comes from: each cell the ledger hides beyond view-by-view, by reason.

    python bench/across_views_cost.py                 # the 200-step exploration of bench/across_views.py
    python bench/across_views_cost.py --steps 25

Runs the scripted exploration of `bench/across_views.py` on a fresh ledger and,
for every view, protects it twice: view by view, and as the server does
(`service._protect`, judged against the ledger). Each cell shown view by view
but hidden across views is put under one reason:

- *differs*: within a small group of a cell shown before, by how the two
  views relate (only "No answer" toggled; margins of views that leave out
  different non-answers; different filters; other) and whether the two cells
  are margins;
- *hidden before*: its records were hidden in an earlier view, by why they
  were hidden there (that view's own secondary suppression, differing,
  hidden before, a partner of those);
- *partner*: shown view by view, hidden now as a partner of the cells above
  (or because a known cell could not be one: the table failed closed).

Measured, not guessed: the reasons come from the ledger's own judgement and
from the cells' record-set sketches, matched the way the ledger matches them.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests" / "unit")]

from across_views import RULES, exploration, served  # noqa: E402
from rcs_viz import config  # noqa: E402
from rcs_viz.engine import service  # noqa: E402
from rcs_viz.engine.disclosure import gate as disclosure  # noqa: E402
from rcs_viz.engine.disclosure.ledger import identities, sketches  # noqa: E402
from rcs_viz.engine.load import load_dataset  # noqa: E402


@dataclasses.dataclass
class Released:
    """What the bench remembers of each cell the ledger recorded (the ledger itself keeps no view)."""

    view: object
    keys: tuple
    n: int
    sketch: np.ndarray
    why: str  # shown, or why it was hidden in that view


class Tracer:
    """Wraps `service._protect`: protects each view both ways and sorts the extra hidden cells by reason."""

    def __init__(self):
        self.current = None  # the query being asked (None for the bases of a filter chain)
        self.first: dict[str, Released] = {}
        self.shown: list[Released] = []
        self.reasons = collections.Counter()
        self.answers: dict[str, list[str]] = {}  # a view's extra hidden cells' reasons, for when it is asked again
        self.cells = self.hidden_vbv = self.shown_vbv_hidden = 0
        self.original = service._protect

    def __call__(self, cells, rules, ledger):
        if ledger is None or not rules.across_views:
            return self.original(cells, rules, ledger)
        alone = disclosure.protect(cells, rules)["status"].eq(disclosure.SHOWN).to_numpy()
        again = ledger.answer(cells, rules.threshold) is not None
        judged = ledger.judge(cells, rules.threshold)
        out = self.original(cells, rules, ledger)
        shown = out["status"].eq(disclosure.SHOWN).to_numpy()
        n = cells["n"].to_numpy(np.int64)
        keys = list(zip(cells["panel"], cells["row"], cells["col"]))
        sk = sketches(cells)
        ids = identities(cells)
        extra = alone & ~shown
        closed = extra.any() and not (shown & ~judged.known).any()
        if self.current is not None:
            self.cells += len(cells)
            self.hidden_vbv += int((~alone).sum())
            self.shown_vbv_hidden += int((shown & ~alone).sum())
            key = ledger._view_key(cells, rules.threshold)
            if not again:
                self.answers[key] = [self._reason(i, n, sk, ids, keys, judged, closed) for i in np.flatnonzero(extra)]
            self.reasons.update(self.answers[key])
        for i in range(len(cells)):
            if ids[i] in self.first or (n[i] < rules.threshold and not shown[i]):
                continue
            why = ("shown" if shown[i] else "its own view's secondary" if not alone[i]
                   else "differs" if judged.differs[i] else "hidden before" if judged.hidden_before[i]
                   else "a partner")
            rec = Released(self.current, keys[i], int(n[i]), sk[i], why)
            self.first[ids[i]] = rec
            if shown[i]:
                self.shown.append(rec)
        return out

    def _reason(self, i, n, sk, ids, keys, judged, closed) -> str:
        margin = "margin" if self._margin(keys[i]) else "inner cell"
        if judged.hidden_before[i]:
            return f"hidden before ({self.first[ids[i]].why} there), {margin}"
        if judged.differs[i]:
            return f"differs: {self._pair(i, n, sk, keys)}"
        return f"partner{' (failed closed to known cells)' if closed else ''}, {margin}"

    def _pair(self, i, n, sk, keys) -> str:
        """How the view relates to the first shown cell within a small group of this one (as the ledger tests)."""
        for rec in self.shown:
            d = n[i] - rec.n
            if d == 0 or abs(d) >= RULES.threshold or not np.any(sk[i] == rec.sketch):
                continue
            if (d > 0 and np.all(sk[i] <= rec.sketch)) or (d < 0 and np.all(rec.sketch <= sk[i])):
                return self._relation(rec, keys[i]) + f", |difference| {'1-3' if abs(d) <= 3 else '4-9'}"
        return "no pair found"

    def _margin(self, keys, view=None) -> bool:
        """A margin of its own table (a 1-D table's rows are its inner cells); a base is a margin."""
        view = view or self.current
        if view is None:
            return True
        return any(k is None for k, d in zip(keys, (view.panel, view.rows, view.cols)) if d is not None)

    def _relation(self, rec: Released, keys) -> str:
        q, p = self.current, rec.view
        both = "both margins" if self._margin(keys) and self._margin(rec.keys, p) else "inner cell involved"
        if p is None:
            return f"a filter chain's base, {both}"
        if dataclasses.replace(q, include_missing=p.include_missing) == p:
            return f"only 'No answer' toggled, {both}"
        if q.filters != p.filters:
            return f"different filters, {both}"
        if not (q.include_missing and p.include_missing):
            return f"same filters, non-answers of other questions left out, {both}"
        return f"same filters, other dimensions, {both}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=200)
    args = p.parse_args()
    cfg = config.Config()
    ds = served(load_dataset(cfg.data, cfg.dictionary, cache_dir=cfg.cache_dir, salt=cfg.salt()))
    tracer = Tracer()
    service._protect = tracer
    views = exploration(args.steps, seed=11)
    for q in views:
        tracer.current = q
        service.crosstab(ds, q, "count", RULES)
        tracer.current = None
        service.bases(ds, q.filters, RULES)
    extra = sum(tracer.reasons.values())
    shown = tracer.cells - tracer.hidden_vbv
    print(f"{len(views)} views, {tracer.cells} cells, {shown} shown view by view; hidden beyond view by view "
          f"{extra} = {extra / tracer.cells:.1%} of all cells, {extra / shown:.1%} of shown; hidden view by view "
          f"but shown across views {tracer.shown_vbv_hidden}; net {(extra - tracer.shown_vbv_hidden) / tracer.cells:.1%}"
          " (a view asked again counted under its first answer's reasons)")
    for reason, count in tracer.reasons.most_common():
        print(f"{count:6}  {count / tracer.cells:6.1%}  {reason}")


if __name__ == "__main__":
    main()
