"""The engine's cost per Explore view: which views are slowest, and what each costs alone.

Draws the same random Explore views as bench/load.py (its `Views`, same
seed), plus any links given with --url (paste the "slowest:" lines the load
bench prints), and asks the engine for each as the Explore page does: the
bases left by each filter (`service.bases`), then the protected table
(`service.crosstab`). Each view is asked once, in one process whose caches
(categories, structure) are warm, as a server's are after its first views.
Prints the --top slowest views with their CPU and wall time and the LP work
their disclosure audits spent (the gate's units, counted, not timed: a view at
the budget failed closed), and the total CPU over all views.

With --dump FILE it writes every view's protected output (cells, summary,
notes, bases) to FILE; with --compare FILE it checks the outputs against
such a file, exactly (values, dtypes, columns, order), and says how many it
compared: a speed-up must not change what a view shows.

    python bench/slow_views.py [--views 300] [--seed 2] [--top 12] [--url '/explore?rows=...'] [--urls FILE]
                               [--dump FILE | --compare FILE] [--profile N] [--page] [--again]

--urls FILE adds the links in FILE, one a line: bench/school_band_views.txt
holds 40 school tables of two banded answers (school x an SDQ band x another
band or a bullying or safety answer, some filtered on a linked record), the
kind that ran out of LP work; `--views 0 --urls bench/school_band_views.txt`
says how many of them spend the whole budget and fail closed.

--profile N prints a cProfile of the N slowest views asked again, each alone.
--page also times what the page draws from each table (its text and grid,
its charts: rcs_viz.output.tables, rcs_viz.features.explore.charts), beside
the engine's time. --again asks the slowest views again as another measure
(row % or column %): the same cells, so the same protection decision.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import pickle
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.load import Views, _config  # noqa: E402  (the load bench's views and its sample)


def _view(url: str, ds):
    from rcs_viz.engine import service
    from rcs_viz.features.explore import state

    query = urllib.parse.urlsplit(url).query if "?" in url or url.startswith("/") else url
    params = urllib.parse.parse_qs(query, keep_blank_values=True)
    view, _ = state.parse(params, ds.dictionary, lambda name: service.categories(ds, name))
    return view


def ask(ds, rules, view):
    """What the Explore page asks the engine for one view: its bases, then (if the base is big enough) its table."""
    from rcs_viz.engine import service

    query = view.query(ds.dictionary)
    bases = service.bases(ds, query.filters, rules)
    if bases[-1].too_small:
        return bases, None
    return bases, service.crosstab(ds, query, view.measure, rules)


def draw(result, view) -> tuple[float, float]:
    """CPU seconds of what the Explore page draws from a table (not the engine's): its text and grid, its charts."""
    from rcs_viz.features.explore import charts
    from rcs_viz.output import tables

    c = time.process_time()
    tables.wide(result, show_ci=view.ci), tables.grid(result, view.ci)
    table = time.process_time() - c
    c = time.process_time()
    stacked, _ = charts.stacking(result, view.stacked, view.ci)
    figure = charts.chart(result, show_ci=view.ci, stacked=stacked)
    charts.on_screen(result, show_ci=view.ci, stacked=stacked, figure=figure)
    return table, time.process_time() - c


class Work:
    """LP work the disclosure audits spent (`system.Ranges`' budget used), per view: a figure other load does
    not change."""

    def __init__(self):
        from rcs_viz.engine.disclosure import system

        self.audits, real = [], system.Ranges.__init__

        def spy(ranges, *args, **kwargs):
            real(ranges, *args, **kwargs)
            self.audits.append((ranges, ranges.budget))

        system.Ranges.__init__ = spy

    def take(self) -> float:
        """The work spent since the last call."""
        spent = sum(start - ranges.budget for ranges, start in self.audits if math.isfinite(start))
        self.audits.clear()
        return spent


def _output(bases, result) -> dict:
    if result is None:
        return {"bases": bases}
    return {"bases": bases, "cells": result.cells, "summary": result.summary, "notes": result.notes,
            "filters_text": result.filters_text, "titles": result.titles}


def _same(a: dict, b: dict) -> str | None:
    """Why two outputs differ, or None when they are identical; "last digits" when they are identical but for
    differences in the last digits of a derived float (DuckDB adds doubles up in an order that may change from
    run to run: the same code gives such differences on some mean views)."""
    import pandas as pd

    if a.keys() != b.keys():
        return f"keys {sorted(a)} vs {sorted(b)}"
    for key in a:
        if key == "cells":
            if list(a[key].index) != list(b[key].index):
                return "cells: index"
            try:
                pd.testing.assert_frame_equal(a[key], b[key], check_exact=True)
            except AssertionError:
                try:
                    pd.testing.assert_frame_equal(a[key], b[key], check_exact=False, rtol=1e-12, atol=0)
                except AssertionError as exc:
                    return f"cells: {str(exc)[:300]}"
                return "last digits"
        elif a[key] != b[key]:
            return f"{key}: {a[key]!r} vs {b[key]!r}"
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--views", type=int, default=300)
    ap.add_argument("--seed", type=int, default=2, help="as bench/load.py's --seed (its load phase uses seed + 1)")
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument("--url", action="append", default=[], help="a view's link, as the load bench prints it")
    ap.add_argument("--urls", type=Path, help="a file of views' links, one a line")
    ap.add_argument("--dump", type=Path)
    ap.add_argument("--compare", type=Path)
    ap.add_argument("--profile", type=int, default=0)
    ap.add_argument("--again", action="store_true", help="ask the slowest views again as another measure")
    ap.add_argument("--page", action="store_true", help="also time the table text and charts the page draws")
    args = ap.parse_args()

    from rcs_viz import config
    from rcs_viz.engine.disclosure import worker
    from rcs_viz.engine.load import load_dataset

    worker.ITEMS = math.inf  # every table decided in this process, where its CPU and LP work are counted (a server
    # hands big ones to a worker process: rcs_viz/engine/disclosure/worker.py)

    cfg_path, dictionary = _config(None)
    cfg = config.load(cfg_path)
    ds = load_dataset(cfg.data, cfg.dictionary, cache_dir=cfg.cache_dir, salt=cfg.salt())
    rules = cfg.rules
    views = Views(dictionary, args.seed)
    if args.urls:
        args.url += [line.strip() for line in args.urls.read_text().splitlines() if line.strip()]
    urls = list(args.url) + ["/explore?" + views.explore() for _ in range(args.views)]
    warm = Views(dictionary, args.seed + 1000)  # other views: the engine keeps decisions per grid
    for _ in range(20):  # warm the process's caches (categories, structure) as a server's first views do
        ask(ds, rules, _view(warm.explore(), ds))

    timed, outputs, drawn, work = [], [], {}, Work()
    for url in urls:
        view = _view(url, ds)
        work.take()
        t, c = time.perf_counter(), time.process_time()
        bases, result = ask(ds, rules, view)
        timed.append((time.process_time() - c, time.perf_counter() - t, url, work.take()))
        outputs.append(_output(bases, result))
        if args.page and result is not None:
            drawn[url] = draw(result, view)
    cpu = sum(c for c, *_ in timed)
    print(f"{len(urls)} views ({len(args.url)} given, {args.views} random, seed {args.seed}): engine CPU {cpu:.2f} s in all, "
          f"mean {cpu / len(urls) * 1000:.0f} ms a view")
    from rcs_viz.engine.disclosure.gate import WORK_BUDGET

    closed = sum(lp >= WORK_BUDGET for *_, lp in timed)
    print(f"  LP work {sum(lp for *_, lp in timed):.0f} units in all; {closed} views spent the whole budget "
          f"({WORK_BUDGET}) and failed closed")
    if drawn:
        print(f"  and the page's table text and charts: CPU {sum(t + c for t, c in drawn.values()):.2f} s in all")
    slowest = sorted(timed, reverse=True)[:args.top]
    for c, w, url, lp in slowest:
        page = (f"  table {drawn[url][0] * 1000:>5.0f} ms  charts {drawn[url][1] * 1000:>5.0f} ms"
                if url in drawn else "")
        print(f"  cpu {c * 1000:>7.0f} ms  wall {w * 1000:>7.0f} ms  LP work {lp:>5.0f}{page}  {url}")
    if args.again:  # the slowest views asked again under another measure: the same cells, another table
        for _, _, url, _ in slowest:
            view = _view(url, ds)
            other = dataclasses.replace(view, measure="row_pct" if view.measure != "row_pct" else "col_pct",
                                        value=None)
            c = time.process_time()
            ask(ds, rules, other)
            print(f"  again as {other.measure}: cpu {(time.process_time() - c) * 1000:>7.0f} ms  {url}")
    given = [t for t in timed if t[2] in args.url]
    if given:
        print(f"  the given views: CPU {sum(c for c, *_ in given) * 1000:.0f} ms in all, "
              f"LP work {sum(lp for *_, lp in given):.0f}")

    if args.dump:
        args.dump.write_bytes(pickle.dumps(list(zip(urls, outputs))))
        print(f"outputs of {len(urls)} views written to {args.dump}")
    if args.compare:
        before = dict(pickle.loads(args.compare.read_bytes()))
        compared = [(url, _same(before[url], out)) for url, out in zip(urls, outputs) if url in before]
        differ = [(url, why) for url, why in compared if why and why != "last digits"]
        digits = sum(why == "last digits" for _, why in compared)
        tables = sum(1 for url, out in zip(urls, outputs) if url in before and "cells" in out)
        print(f"compared {len(compared)} views ({tables} with a table) with {args.compare}: "
              f"{len(compared) - len(differ) - digits} identical, {digits} identical but for a float's last digits "
              f"(relative 1e-12), {len(differ)} differ")
        for url, why in differ[:10]:
            print(f"  DIFFERS {url}: {why}")
    if args.profile:
        import cProfile
        import pstats

        for c, _, url, _ in slowest[:args.profile]:
            print(f"\n=== profile ({c * 1000:.0f} ms CPU): {url}")
            view = _view(url, ds)
            prof = cProfile.Profile()
            prof.enable()
            ask(ds, rules, view)
            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
