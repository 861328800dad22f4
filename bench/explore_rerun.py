"""One Explore rerun's own work, in-process: Streamlit's AppTest runs the page script with no browser and no network.

Times each filter change from the rerun's start to its end (wall and this process's CPU), first over views not
seen before (the engine, the gate and the charts all run), then over the same views again (what a second
session, or going back, costs: the shared caches answer), and a bare page (one multiselect, one dataframe)
the same way. Prints p50 / p95 and Explore ÷ bare. The browser's own share is bench/explore_browser.py's.

    python bench/explore_rerun.py [--changes 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BARE = """import pandas as pd
import streamlit as st
v = st.multiselect("Stage", ["P4", "P5", "P6", "P7", "S1", "S2", "S3", "S4"], default=["P4"])
st.dataframe(pd.DataFrame({"a": [len(v)] * 5, "b": (v[:1] or ["-"]) * 5}))
"""


def views(n: int) -> list[dict]:
    """n Explore links (up to 48), each a view of its own: rows and columns, a stage filter and a sex filter.

    Each link is a different combination (the index read as digits of 6 stage filters x 2 sexes x 4 pairs of rows
    and columns), and the filters change from one link to the next, as in a filter change (so the bases are new
    too): the 20 links of old repeated their first 8 from the 13th on, so 'views not seen before' held 8 seen ones.
    """
    pairs = [("simd", "sex"), ("sex", "simd"), ("stage", "sex"), ("simd", "stage")]
    if n > len(pairs) * 6 * 2:
        raise SystemExit(f"at most {len(pairs) * 6 * 2} views of their own")
    out = []
    for i in range(n):
        rows, cols = pairs[i // 12 % len(pairs)]
        stages = ",".join(str(s) for s in range(1, 2 + i % 6))
        out.append({"rows": rows, "cols": cols, "f.stage": stages, "f.sex": "1" if i // 6 % 2 else "2"})
    return out


def compile_once() -> None:
    """Page scripts compiled once per process, as a server does (its Runtime keeps one ScriptCache); AppTest makes
    a new cache, so compiles app.py and the page again, on every run: a few ms per run that no server spends."""
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test, local_script_runner

    shared = ScriptCache()
    app_test.ScriptCache = local_script_runner.ScriptCache = lambda: shared


def timed(run) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def summary(name: str, samples: list[tuple[float, float]]) -> tuple[float, float]:
    walls, cpus = [w for w, _ in samples], [c for _, c in samples]
    p95 = statistics.quantiles(walls, n=20)[18]
    print(f"  {name:<34} wall p50 {statistics.median(walls):6.0f} ms  p95 {p95:6.0f} ms   "
          f"cpu p50 {statistics.median(cpus):6.0f} ms")
    return statistics.median(walls), p95


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--changes", type=int, default=20)
    args = ap.parse_args()
    from streamlit.testing.v1 import AppTest

    compile_once()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.switch_page("app_pages/explore.py")
    at.run()  # opens the data, imports the page's modules
    at.run()
    assert not at.exception, at.exception
    links = views(args.changes)

    def visit(params):
        def run():
            at.query_params.clear()
            at.query_params.update(params)
            at.run()
        return run

    fresh = [timed(visit(p)) for p in links]
    again = [timed(visit(p)) for p in links]
    assert not at.exception, at.exception

    bare = AppTest.from_string(BARE, default_timeout=60)
    bare.run()
    stages = ["P5", "P6", "P7", "S1", "S2", "S3", "S4"]

    def pick(i):
        def run():
            bare.multiselect[0].set_value(["P4"] + stages[: i % len(stages)]).run()
        return run

    floor = [timed(pick(i)) for i in range(args.changes)]
    print(f"Explore reruns in-process (AppTest), {args.changes} filter changes each:")
    _, p95_fresh = summary("views not seen before", fresh)
    _, p95_again = summary("the same views again (cached)", again)
    _, p95_bare = summary("a bare page (multiselect, dataframe)", floor)
    print(f"  Explore ÷ bare at p95: {p95_fresh / p95_bare:.1f}× (new views), {p95_again / p95_bare:.1f}× (seen)")


if __name__ == "__main__":
    main()
