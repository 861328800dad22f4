"""Explore in a real browser: from a filter change to the updated table, on 1 M rows.

Starts the app on a 1 M-row synthetic sample, opens the Explore page in
headless chromium, makes 20 filter changes through the widgets (each one a
view not seen before, so no cache hit flatters the figure) and times each
from the keypress to the moment the new table is in the page. Prints p50 and
p95, and, for scale, the engine's own time for the same kind of question and
a bare Streamlit page's (one multiselect, one dataframe) under the same
server settings. The two pages are served side by side and their changes
taken in turn, one of each, so both meet the same load on a shared machine
(timed one page after the other, a burst of load during either skewed the
ratio by several times). Prints too the browser's own main-thread time in each change (DevTools' TaskDuration:
script, style, layout), which a page's server-side cost does not show, and with --profile where that time goes
in Explore's changes: a sampling profile of the page's JavaScript, each sample's own time summed by the part of
Streamlit's frontend whose file it ran in (React, styling, the select widgets, the grid, Vega) or by what the
browser did outside JavaScript ("(program)": style, layout, paint, and the profiler's own work; a trace of the same
changes put style and layout under 20 ms a change); garbage collection. Profiling slows the page, so with
--profile the times are not comparable with a run without it. Goal: p95 under 300 ms.

    python bench/explore_browser.py [--rows 1000000] [--profile]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from rcs_viz.cli import answers  # noqa: E402  (serve's health check: answered, or not up yet)

DATA = ROOT / ".cache" / "bench"
CHROMIUM = "/usr/bin/chromium"
SETTLED = """(before) => {
  const app = document.querySelector("[data-testid='stApp']");
  const table = document.querySelector("[data-testid='stDataFrame'] table");
  return app && app.getAttribute('data-test-script-state') === 'notRunning'
      && table && table.innerText !== before;
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sample(rows: int) -> Path:
    from rcs_viz.data.sample import write_sample

    folder = DATA / f"rows_{rows}"
    if not (folder / "respondents.parquet").exists():
        print(f"generating {rows:,} rows…", flush=True)
        write_sample(folder, rows=rows)
    cfg = folder / "rcs_explorer.yaml"
    cfg.write_text(f"data: respondents.parquet\ndictionary: dictionary.yaml\ncache_dir: {DATA / 'db'}\n")
    return cfg


def _table_text(page) -> str:
    return page.evaluate("() => document.querySelector(\"[data-testid='stDataFrame'] table\")?.innerText || ''")


def _busy(cdp) -> float:
    """Seconds the page's main thread has spent on tasks so far (script, style, layout, paint)."""
    return next(m["value"] for m in cdp.send("Performance.getMetrics")["metrics"] if m["name"] == "TaskDuration")


def _timed(page, prepare) -> tuple[float, float]:
    """A change's time from the click to the updated table, and the browser's main-thread time in it (ms)."""
    action = prepare()
    before = _table_text(page)
    busy = _busy(page.cdp)
    start = time.perf_counter()
    action()
    page.wait_for_function(SETTLED, arg=before, timeout=30_000, polling="raf")
    took, spent = (time.perf_counter() - start) * 1000, (_busy(page.cdp) - busy) * 1000
    if getattr(page, "after", None):
        page.after()
        page.after = None
    return took, spent


def _measured(page):
    """The page with a DevTools session that reads its main thread's time (`_busy`)."""
    page.cdp = page.context.new_cdp_session(page)
    page.cdp.send("Performance.enable")
    page.cdp.send("Profiler.enable")
    page.parts = {}
    return page


# Streamlit's frontend files by the part of it they hold (the first prefix a file name starts with), for --profile.
PARTS = (("React", ("react-dom.",)), ("styling (Emotion)", ("emotion-", "styled-components.")),
         ("select widgets", ("useSyncComboBox", "useCollection.", "useMenuTrigger.", "useFloatingOverlay.",
                             "Multiselect.", "Selectbox.", "Input.", "useTextField.", "useField.", "useLabel.")),
         ("grid", ("DataFrame.", "recordbatch.", "Quiver.", "arrowFormatUtils.")),
         ("Vega", ("embed.", "vega-interpreter.", "ArrowVegaLiteChart.")),
         ("Markdown", ("StreamlitMarkdown.",)), ("Streamlit core", ("index.", "protobuf.")),
         ("not JavaScript", ("(program)",)), ("garbage collection", ("(garbage collector)",)))


def _part(frame: dict) -> str:
    name = frame["url"].rsplit("/", 1)[-1] or frame["functionName"]
    return next((part for part, prefixes in PARTS if name.startswith(prefixes)), "other")


def _profiled(page, prepare):
    """`prepare` (as `_timed` takes it) with the page's JavaScript profiled through the timed part; adds each
    sample's own time to `page.parts` by `_part`."""
    def profiled():
        action = prepare()

        def run():
            page.cdp.send("Profiler.start")
            action()
        page.after = lambda: _add_profile(page, page.cdp.send("Profiler.stop")["profile"])
        return run
    return profiled


def _add_profile(page, profile: dict) -> None:
    nodes = {n["id"]: n["callFrame"] for n in profile["nodes"]}
    for sample, delta in zip(profile["samples"], profile["timeDeltas"]):
        if nodes[sample]["functionName"] != "(idle)":
            page.parts[_part(nodes[sample])] = page.parts.get(_part(nodes[sample]), 0.0) + delta / 1000


def _multiselect(page, label: str):
    return page.locator("[data-testid='stMultiSelect']").filter(has=page.get_by_text(label, exact=True)).first


def _add(page, label: str, option: str):
    """Open the multiselect and type the option (untimed); the timed part is choosing it."""
    def prepare():
        _multiselect(page, label).locator("input").click()
        page.keyboard.type(option)
        choice = page.get_by_role("option", name=option, exact=True)
        choice.wait_for()
        return choice.click
    return prepare


def _remove(page, label: str, option: str):
    def prepare():
        page.keyboard.press("Escape")  # close any open dropdown first
        page.mouse.click(5, 5)
        button = page.get_by_role("button", name=f"Remove {option}", exact=True).last
        button.wait_for()
        return button.click
    return prepare


BARE_APP = """import pandas as pd
import streamlit as st
v = st.multiselect("Stage", ["P4", "P5", "P6", "P7", "S1", "S2", "S3", "S4"], default=["P4"])
st.dataframe(pd.DataFrame({"a": [len(v)] * 5, "b": (v[:1] or ["-"]) * 5}))
"""


def _serve(script: Path, env: dict) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
                               "--server.headless", "true"], cwd=script.parent, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://localhost:{port}"
    for _ in range(300):
        if answers(url + "/_stcore/health"):
            break
        time.sleep(0.2)
    return server, url


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--profile", action="store_true", help="where the browser's time in Explore's changes goes")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    cfg = _sample(args.rows)
    bare_dir = DATA / "bare_app"
    bare_dir.mkdir(parents=True, exist_ok=True)
    (bare_dir / "app.py").write_text(BARE_APP)
    # The floor runs under the app's own server settings (.streamlit/config.toml: no file watcher, no full garbage
    # collection after each run), so the ratio is the page's own work, not a difference of settings.
    (bare_dir / ".streamlit").mkdir(exist_ok=True)
    (bare_dir / ".streamlit" / "config.toml").write_text((ROOT / ".streamlit" / "config.toml").read_text())
    stages = ["P5", "P6", "P7", "S1", "S2", "S3", "S4"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        # The floor: a bare Streamlit page with one multiselect and one dataframe, on this machine.
        bare_server, bare_url = _serve(bare_dir / "app.py", dict(os.environ))
        server, url = _serve(ROOT / "app.py", {**os.environ, "RCS_EXPLORER_CONFIG": str(cfg)})
        try:
            floor = browser.new_page(viewport={"width": 1400, "height": 1000})
            floor.goto(bare_url)
            floor.wait_for_function(SETTLED, arg="", timeout=60_000)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url + "/explore?rows=simd&cols=sex&f.stage=1", timeout=120_000)
            page.wait_for_function(SETTLED, arg="", timeout=300_000)  # first load builds the database
            _add(page, "Filter on", "SIMD quintile  ·  About the pupil")()()
            page.wait_for_timeout(1000)
            page.keyboard.press("Escape")
            # every stage added, then removed: as many changes as Explore's, so both p95 rest on 20
            floor_changes = ([_add(floor, "Stage", s) for s in stages]
                             + [_remove(floor, "Stage", s) for s in stages + ["P4"]]
                             + [_add(floor, "Stage", s) for s in stages[:5]])
            changes = ([_add(page, "Stage", s) for s in stages]
                       + [_add(page, "SIMD quintile", q) for q in ["1 (most deprived)", "2", "3", "4", "5 (least deprived)"]]
                       + [_remove(page, "Stage", s) for s in stages]
                       + [_remove(page, "SIMD quintile", "1 (most deprived)")])
            bare, times = [], []
            _measured(floor), _measured(page)
            busy, bare_busy = [], []
            for on_floor, act in zip(floor_changes, changes):  # one of each in turn
                took, spent = _timed(floor, on_floor)
                bare.append(took)
                bare_busy.append(spent)
                took, spent = _timed(page, _profiled(page, act) if args.profile else act)
                times.append(took)
                busy.append(spent)
        finally:
            _stop(bare_server)
            _stop(server)
        browser.close()

    from rcs_viz.engine import service
    from rcs_viz.config import load
    from rcs_viz.engine.load import load_dataset
    from rcs_viz.engine.sql.views import CrossTab

    c = load(cfg)
    ds = load_dataset(c.data, c.dictionary, cache_dir=c.cache_dir)
    engine = []
    for i in range(1, 9):
        q = CrossTab(rows="simd", cols="sex", filters=(("wave", ("2019",)), ("stage", tuple(str(s) for s in range(1, i + 1)))))
        t = time.perf_counter()
        service.crosstab(ds, q, "count", c.rules)
        engine.append((time.perf_counter() - t) * 1000)
    q = statistics.quantiles(times, n=20)
    print(f"Explore, {args.rows:,} rows, {len(times)} filter changes in headless chromium:")
    print(f"  filter change → updated table: p50 {statistics.median(times):.0f} ms, p95 {q[18]:.0f} ms, "
          f"max {max(times):.0f} ms (goal: p95 < 300 ms)")
    print(f"  engine alone for the same question: median {statistics.median(engine):.0f} ms "
          f"(the browser round trip is {statistics.median(times) / statistics.median(engine):.1f}× the engine time)")
    bq = statistics.quantiles(bare, n=20)
    print(f"  a bare Streamlit page (one multiselect, one dataframe) on this machine: p50 "
          f"{statistics.median(bare):.0f} ms, p95 {bq[18]:.0f} ms; Explore is "
          f"{statistics.median(times) / statistics.median(bare):.2f}× that at p50, {q[18] / bq[18]:.2f}× at p95 "
          f"(goal: ≤ 1.2× at p95)")
    print(f"  the browser's main thread in a change (click to updated table): Explore p50 "
          f"{statistics.median(busy):.0f} ms, bare page p50 {statistics.median(bare_busy):.0f} ms")
    if args.profile:
        spent = sum(page.parts.values())
        print("  where Explore's main-thread time goes (a sampling profile, which slows the page: its share of each "
              "part, not the times above):")
        for part, ms in sorted(page.parts.items(), key=lambda kv: -kv[1]):
            print(f"    {part:<22} {100 * ms / spent:5.1f} %")
    print("  each change: " + " ".join(f"{t:.0f}" for t in times))
    print("  bare page's: " + " ".join(f"{t:.0f}" for t in bare))


if __name__ == "__main__":
    main()
