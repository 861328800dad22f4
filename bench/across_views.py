"""Protection across views: what attackers recover, what honest users pay.

    python bench/across_views.py                   # both, 100 views per target, 8 targets a family
    python bench/across_views.py --views 1000 --targets 4 --families "unions of places"
    python bench/across_views.py --honest-only --steps 200

Attacks: each family of tests/unit/attacks.py against the synthetic sample,
with the ledger (a fresh store per family, as one server) and without it
(view by view): the share of small groups (1–9) recovered exactly and
within ±1, and the hidden small cells two linked views pin down.

Honest use: a scripted exploration of Explore views (changing rows, columns
and filters, toggling "No answer", adding panels), run with and without the
ledger: the share of cells hidden beyond view-by-view protection, and the
time per view (medians, and their ratio).
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "unit")]

import attacks  # noqa: E402
from rcs_viz import config  # noqa: E402
from rcs_viz.engine import service  # noqa: E402
from rcs_viz.engine.disclosure.gate import Rules  # noqa: E402
from rcs_viz.engine.disclosure.ledger import Ledger  # noqa: E402
from rcs_viz.engine.load import load_dataset  # noqa: E402
from rcs_viz.engine.sql.views import CrossTab  # noqa: E402
from rcs_viz.engine.store import Store  # noqa: E402

RULES = Rules(across_views=True)  # as every presented view gets them; a dataset without a ledger ignores it
ROWS = ["simd", "sex", "stage", "cluster", "urban_rural", "bullied", "safe_home", "young_carer", "fsm", "asn",
        "sdq_total_band", "trusted_adult", "clubs"]
FILTERS = {"cpp": ["1", "2", "3"], "stage": ["1", "2", "3", "4", "5", "6", "7", "8"], "sex": ["1", "2"],
           "simd": ["1", "2", "3", "4", "5"], "fsm": ["0", "1"], "sector": ["1", "2"]}


def served(ds):
    """The dataset as a server holds it, with an empty ledger in a store of its own."""
    return dataclasses.replace(ds, ledger=Ledger(Store.open(None, Path(tempfile.mkdtemp()) / "store.sqlite"),
                                                 "bench"))


def attack_figures(ds, views: int, targets: int, families: list[str]) -> None:
    for family in families:
        for name, data in (("view by view", ds), ("across views", None)):
            data = data or served(ds)
            start = time.perf_counter()
            r = attacks.recovery(lambda q, m: service.crosstab(data, q, m, RULES), ds, family, targets, views, seed=7)
            print(f"{family:24} {name:13} {views:5} views/target  targets {r['targets']:2}  "
                  f"exact {r['exact']:6.1%}  within ±1 {r['within_1']:6.1%}  ({time.perf_counter() - start:.0f} s)",
                  flush=True)
    for rows, part in (("cluster", ("cpp", ("1",))), ("school", ("cluster", ("101",))), ("school", ("cpp", ("2",)))):
        for name, data in (("view by view", ds), ("across views", served(ds))):
            whole = (("wave", ("2019",)),)
            r = attacks.linked(lambda q, m: service.crosstab(data, q, m, RULES), ds, rows, whole, whole + (part,))
            print(f"linked {rows} all vs {part[0]} {part[1][0]:5} {name:13} hidden small cells {r['small_hidden']:4}  "
                  f"identified {r['identified']}", flush=True)


def exploration(steps: int, seed: int) -> list[CrossTab]:
    """A scripted exploration: each view changes one thing of the last."""
    rng = random.Random(seed)
    view = {"rows": "simd", "cols": None, "panel": None, "filters": {"wave": ("2019",)}, "missing": True}
    out = []
    for _ in range(steps):
        move = rng.choice(["rows", "cols", "cols", "filter", "filter", "unfilter", "missing", "panel"])
        if move == "rows":
            view["rows"] = rng.choice([r for r in ROWS if r not in (view["cols"], view["panel"])])
        elif move == "cols":
            view["cols"] = rng.choice([None] + [r for r in ROWS if r not in (view["rows"], view["panel"], "school")])
        elif move == "filter" and len(view["filters"]) < 3:
            name = rng.choice(list(FILTERS))
            view["filters"][name] = tuple(sorted(rng.sample(FILTERS[name], rng.randint(1, len(FILTERS[name]) - 1))))
        elif move == "unfilter" and len(view["filters"]) > 1:
            view["filters"].pop(rng.choice([k for k in view["filters"] if k != "wave"]))
        elif move == "missing":
            view["missing"] = not view["missing"]
        elif move == "panel":
            view["panel"] = rng.choice([None, "sex", "cpp"]) if view["panel"] is None else None
        dims = [view["rows"], view["cols"], view["panel"]]
        filters = tuple((k, v) for k, v in view["filters"].items() if k not in dims)
        if len({d for d in dims if d}) < len([d for d in dims if d]):
            view["panel"] = None
            continue
        out.append(CrossTab(rows=view["rows"], cols=view["cols"], panel=view["panel"], filters=filters,
                            include_missing=view["missing"]))
    return out


def honest_figures(ds, steps: int, seed: int) -> None:
    views = exploration(steps, seed)
    results = {}
    for name, data in (("view by view", ds), ("across views", served(ds))):
        hidden = total = 0
        times = []
        for q in views:
            start = time.perf_counter()
            cells = service.crosstab(data, q, "count", RULES).cells
            service.bases(data, q.filters, RULES)
            times.append(time.perf_counter() - start)
            hidden += int((cells["status"] != "shown").sum())
            total += len(cells)
        results[name] = (hidden, total, statistics.median(times))
    (h0, t0, m0), (h1, _, m1) = results["view by view"], results["across views"]
    print(f"honest exploration: {len(views)} views, {t0} cells; hidden view by view {h0 / t0:.1%}, "
          f"across views {h1 / t0:.1%}: {100 * (h1 - h0) / t0:.1f} % of all cells hidden beyond today's, "
          f"{100 * (h1 - h0) / (t0 - h0):.1f} % of the cells shown today")
    print(f"time per view (crosstab and bases, median): view by view {1000 * m0:.1f} ms, "
          f"across views {1000 * m1:.1f} ms, ratio {m1 / m0:.2f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--views", type=int, default=100, help="views per target")
    p.add_argument("--targets", type=int, default=8, help="small groups attacked per family")
    p.add_argument("--families", default=",".join(attacks.FAMILIES), help="comma-separated")
    p.add_argument("--steps", type=int, default=200, help="views in the honest exploration")
    p.add_argument("--honest-only", action="store_true")
    p.add_argument("--attacks-only", action="store_true")
    args = p.parse_args()
    cfg = config.Config()
    ds = load_dataset(cfg.data, cfg.dictionary, cache_dir=cfg.cache_dir, salt=cfg.salt())
    if not args.honest_only:
        attack_figures(ds, args.views, args.targets, args.families.split(","))
    if not args.attacks_only:
        honest_figures(ds, args.steps, seed=11)


if __name__ == "__main__":
    main()
