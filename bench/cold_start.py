"""Cold start: from `streamlit run app.py` to the first chart drawn in a browser, on the sample.

`streamlit run app.py` serves app.py's `st.App`, whose lifespan warms the process up (imports, data, store:
rcs_viz/ui/warm.py) while the browser loads Streamlit's script; the first page run waits for it to end.

Each run starts a fresh server process (headless, a free port, a server store of the run's own), polls
/_stcore/health, then opens `explore?rows=simd&wave=2019` in headless chromium (launched once, beforehand, as a
user's browser already is) in a new browser context (no cached assets). Times are from the moment the process is
started to:

- ready: /_stcore/health answers;
- script: the page's script is first seen running in the browser;
- chart: the first chart's canvas or SVG is in the page with a size (vega has drawn it);
- done: the script has finished its first run;
- cpu: CPU seconds the server process had used by then (a figure other load on the machine hardly changes);
- warm-up: how long the server's warm-up took to import what the pages import and open the data, from its log
  (it starts about when the server is ready: the first page run waits for it when ready + warm-up is later than
  script);
- warm: the same page opened again on the now warm server, from navigation to chart (the browser's own share).

A warm-up run comes first and is not counted (printed as "w"): the compiled .pyc files and the dataset's cache
then exist, as on any server after its first start.

`--returning` opens every run's page in one browser context kept across the runs, each server on the same port: a
browser that has opened the app before, whose cache holds Streamlit's script files (their names carry a hash and
are served as immutable), as a presenter's or a colleague's usually has. The server starts cold all the same.

`--bare` times, in turn with each run, a bare Streamlit page drawing one small Altair chart, its imports done as its
server starts (before /_stcore/health answers): how long Streamlit itself takes to a first chart on this machine,
a floor no page of the app can go below, measured under the same load.

Prints each run and the median, and the import time of the modules the Explore page needs, taken from
`python -X importtime` (cumulative microseconds of each top-level import) with the largest imports named; and the
CPU seconds of a fresh process's first Explore run under AppTest without and with the warm-up before it (figures
other load hardly changes).
Goal: chart under 3 s.

    python bench/cold_start.py [--runs 5] [--pairs 3] [--view 'explore?rows=simd&wave=2019'] [--bare]
                               [--returning] [--python VENV/bin/python]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.explore_browser import _free_port  # noqa: E402  (as bench/load.py takes it)
from rcs_viz.cli import answers  # noqa: E402  (serve's health check: answered, or not up yet)

CHROMIUM = "/usr/bin/chromium"
# The Explore page's imports, as the router and the page make them (app.py, app_pages/explore.py).
IMPORTS = ("streamlit", "rcs_viz.engine.store_error", "rcs_viz.output.markdown", "rcs_viz.ui.access", "rcs_viz.ui.pages",
           "rcs_viz.engine.service", "rcs_viz.features.explore.charts", "rcs_viz.ui.binding", "rcs_viz.ui.presenter",
           "rcs_viz.ui.render", "rcs_viz.ui.session", "rcs_viz.ui.story", "rcs_viz.ui.controls.explore")
HEAVY = ("fpdf", "pptx", "vl_convert", "pydeck", "scipy", "statsmodels", "openpyxl", "xlsxwriter", "pypdf",
         "matplotlib", "PIL", "sklearn", "pyreadstat", "psycopg", "geopandas", "shapely")
# Recorded in the page from its first moment: epoch milliseconds of each first event.
WATCH = """
window.__cold = {};
const mark = (k) => { if (!(k in window.__cold)) window.__cold[k] = Date.now(); };
const look = () => {
  const app = document.querySelector("[data-testid='stApp']");
  const state = app && app.getAttribute('data-test-script-state');
  if (state === 'running') mark('script');
  if (state === 'notRunning' && 'script' in window.__cold) mark('done');
  for (const el of document.querySelectorAll("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg.marks")) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.height > 0) { mark('chart'); break; }
  }
};
new MutationObserver(look).observe(document, {subtree: true, childList: true, attributes: true});
"""
BARE_APP = """
import altair as alt
import pandas as pd
import streamlit as st

if __name__ == "__main__":
    st.title("A bare page")
    bars = pd.DataFrame({"group": list("ABCDEFGHIJ"), "count": range(10, 20)})
    st.altair_chart(alt.Chart(bars).mark_bar().encode(x="group", y="count"))
else:
    app = st.App(__file__)
"""


def one_run(browser, view: str, env: dict, log: Path, python: str, folder: Path = ROOT, port: int | None = None,
            returning=None) -> dict[str, float]:
    """Start `streamlit run app.py` in `folder` and time the view's first chart (see the module's docstring), in a
    new browser context, or in `returning` (a context kept across runs, all on one `port`)."""
    port = port or _free_port()
    url = f"http://localhost:{port}"
    with open(log, "w") as out:
        start = time.time()
        proc = subprocess.Popen([python, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                                 "--server.headless", "true"], cwd=folder, stdout=out, stderr=subprocess.STDOUT,
                                env=env)
    try:
        while True:
            if answers(url + "/_stcore/health"):
                break
            if proc.poll() is not None or time.time() - start > 90:
                raise SystemExit("the server did not start:\n" + log.read_text()[-3000:])
            time.sleep(0.02)
        times = {"ready": time.time() - start}
        context = returning or browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.add_init_script(WATCH)
        page.goto(f"{url}/{view}")
        page.wait_for_function("() => window.__cold && 'chart' in window.__cold && 'done' in window.__cold",
                               timeout=60_000, polling=50)
        marks = page.evaluate("() => window.__cold")
        times["cpu"] = cpu_seconds(proc.pid)
        if returning:
            page.close()
        else:
            context.close()
        times.update({k: v / 1000 - start for k, v in marks.items()})
        # The same page again on the now warm server, in a new context: what the browser's part costs alone.
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.add_init_script(WATCH)
        opened = time.time()
        page.goto(f"{url}/{view}")
        page.wait_for_function("() => window.__cold && 'chart' in window.__cold", timeout=60_000, polling=50)
        times["warm"] = page.evaluate("() => window.__cold.chart") / 1000 - opened
        context.close()
        warmed = re.search(r"Warmed up: .* the data open in ([\d.]+) s", log.read_text())
        if warmed:
            times["warm-up"] = float(warmed.group(1))
        return times
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


# A fresh process's first Explore run under AppTest, with or without the server's warm-up before it (argv[1]):
# the CPU seconds of the warm-up and of the run, each process time of all threads.
FIRST_RUN = """
import sys, time
from streamlit.testing.v1 import AppTest
from rcs_viz.ui import warm
started = time.process_time()
if sys.argv[1] == "warm":
    warm.warm()
warmed = time.process_time() - started
at = AppTest.from_file(sys.argv[2], default_timeout=120)
at.switch_page("app_pages/explore.py")
at.query_params.update({"rows": "simd", "wave": "2019"})
started = time.process_time()
at.run()
assert not at.exception and at.get("vega_lite_chart"), at.exception
print(warmed, time.process_time() - started)
"""


def first_run_cpu(python: str, pairs: int) -> dict[str, list[tuple[float, float]]]:
    """CPU seconds (warm-up, first Explore run) in fresh processes without and with the warm-up, alternately."""
    found: dict[str, list[tuple[float, float]]] = {"cold": [], "warm": []}
    for _ in range(pairs):
        for mode in found:
            done = subprocess.run([python, "-c", FIRST_RUN, mode, str(ROOT / "app.py")], cwd=ROOT,
                                  capture_output=True, text=True, check=True)
            warmed, run = map(float, done.stdout.split()[-2:])
            found[mode].append((warmed, run))
    return found


def import_times(python: str) -> tuple[float, dict[str, float]]:
    """Seconds to import the Explore page's modules in a fresh interpreter, and each heavy package's share (the sum
    of its modules' own import times)."""
    code = "; ".join(f"import {m}" for m in IMPORTS)
    start = time.perf_counter()
    done = subprocess.run([python, "-X", "importtime", "-c", code], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    wall = time.perf_counter() - start
    heavy: dict[str, float] = {}
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+\d+ \| *(\S+)", line)
        top = m and m.group(2).split(".")[0]
        if top in HEAVY or top in ("altair", "pandas", "streamlit", "sqlalchemy", "duckdb", "pyarrow", "rcs_viz"):
            heavy[top] = heavy.get(top, 0.0) + int(m.group(1)) / 1e6
    return wall, heavy


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds a process has used: unlike wall time, hardly changed by other load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--view", default="explore?rows=simd&wave=2019")
    parser.add_argument("--pairs", type=int, default=3,
                        help="fresh processes timing the first Explore run's CPU without and with the warm-up")
    parser.add_argument("--warmup", type=int, default=1,
                        help="runs first, not counted: compiled .pyc files and the dataset's cache exist, as on any "
                             "server after its first start")
    parser.add_argument("--returning", action="store_true",
                        help="open every run's page in one browser context kept across the runs (on one port), whose "
                             "cache holds Streamlit's script files")
    parser.add_argument("--bare", action="store_true",
                        help="time a bare Streamlit page with one chart in turn with each run: Streamlit's own floor")
    parser.add_argument("--python", default=sys.executable,
                        help="the interpreter that runs the server: e.g. a venv of requirements.txt alone, as `make "
                             "run` installs it (the dev venv adds test packages, matplotlib among them, which pandas' "
                             "table styling then imports)")
    args = parser.parse_args()

    print(f"server: {args.python}")
    wall, heavy = import_times(args.python)
    print(f"imports of the Explore page's modules (python -X importtime, fresh interpreter): {wall:.2f} s wall")
    for name, secs in sorted(heavy.items(), key=lambda h: -h[1]):
        print(f"  {name:<12} {secs:.3f} s")
    print("  (heavy packages not imported: " + ", ".join(h for h in HEAVY if h not in heavy) + ")")
    print("\nCPU of a fresh process's first Explore run (AppTest), without and with the warm-up before it:")
    for mode, runs in first_run_cpu(args.python, args.pairs).items():
        print(f"  {mode}: run " + ", ".join(f"{r:.2f}" for _, r in runs) + " s"
              + (f" (warm-up {', '.join(f'{w:.2f}' for w, _ in runs)} s)" if mode == "warm" else ""))

    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="cold_start_"))
    # A server writes its modules' compiled .pyc files on its first start and reads them on every later one; an
    # environment that forbids writing them (PYTHONDONTWRITEBYTECODE, set on some sandboxes and CI machines) would
    # compile the project's modules from source on every start, which no deployed server does.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"PYTHONUNBUFFERED": "1"}
    if "RCS_EXPLORER_CONFIG" not in env:
        (folder / "rcs_explorer.yaml").write_text(f"store: sqlite:///{folder / 'store.sqlite'}\n", encoding="utf-8")
        env["RCS_EXPLORER_CONFIG"] = str(folder / "rcs_explorer.yaml")
    keys = ("ready", "script", "chart", "done", "cpu", "warm-up", "warm")
    runs, bare = [], []
    if args.bare:
        (folder / "bare").mkdir()
        (folder / "bare" / "app.py").write_text(BARE_APP, encoding="utf-8")
        (folder / "bare" / ".streamlit").mkdir()  # the app's server settings, so only the page differs
        (folder / "bare" / ".streamlit" / "config.toml").write_text(
            (ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"), encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])
        # each page's own port and context when --returning (a browser's cache is kept per origin)
        kept = {page: (_free_port(), browser.new_context(viewport={"width": 1400, "height": 1000}))
                for page in ("app", "bare")} if args.returning else {}
        print(f"\ncold start of `streamlit run app.py` to /{args.view} (seconds from process start), "
              + ("in a browser that has opened it before" if args.returning else "in a new browser context"))
        print("run  " + "  ".join(f"{k:>7}" for k in keys))
        for i in range(-args.warmup, args.runs):
            t = one_run(browser, args.view, env, folder / f"streamlit_{i}.log", args.python, ROOT, *kept.get("app", ()))
            if i >= 0:
                runs.append(t)
            print(f"{i + 1 if i >= 0 else 'w':>3}  " + "  ".join(f"{t.get(k, float('nan')):7.2f}" for k in keys), flush=True)
            if args.bare:
                t = one_run(browser, "", env, folder / f"bare_{i}.log", args.python, folder / "bare",
                            *kept.get("bare", ()))
                if i >= 0:
                    bare.append(t)
                print(f"{'bare':>5}" + "  ".join(f"{t.get(k, float('nan')):7.2f}" for k in keys), flush=True)
        browser.close()
    for name, timed in (("med", runs), ("bare", bare)):
        if timed:
            print(f"{name:<5}" + "  ".join(
                f"{statistics.median([r[k] for r in timed if k in r] or [float('nan')]):7.2f}" for k in keys))
    chart = statistics.median(r["chart"] for r in runs)
    print(f"\nfirst chart {chart:.2f} s median of {len(runs)} (goal under 3 s); logs in {folder}")
    if bare:
        floor = statistics.median(r["chart"] for r in bare)
        print(f"a bare Streamlit page's first chart, in turn with those runs: {floor:.2f} s median; the app's page "
              f"takes {chart - floor:+.2f} s more ({chart / floor:.2f}x)")


if __name__ == "__main__":
    main()
