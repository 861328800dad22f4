"""Server CPU per page run: where a Streamlit server's time goes for one session, by kind of view.

bench/load.py reports a server's CPU share at some reruns per second; bench/explore_rerun.py times the page script
alone (AppTest, no server). The two measure different views: explore_rerun changes one filter among small tables
(SIMD, sex, stage), while load.py asks for a random view each time (any variable on rows, columns or panels, so
school or area tables of hundreds of cells, numeric measures, weights), never seen before. This script serves the
app as load.py does (`streamlit run app.py`, the bundled sample), opens one websocket session, warms it, and then,
with no pause between runs, asks for each kind of view in turn for --seconds each:

- small:    explore_rerun's filter changes (rows × columns of SIMD, sex, stage; stage and sex filters), as links;
- random:   load.py's random Explore views, from the same seed;
- same:     one small view again and again (the shared caches answer: Streamlit's own per-run floor);
- overview: the Overview page.

For each it prints reruns per second, server CPU per run, and that CPU split by thread: the page-script threads
(one per run, ended by the time it is read: the process total less the live threads, with the big tables' audits
in the server's worker process, rcs_viz/engine/disclosure/worker.py), the event loop (the main
thread: websocket, protobuf) and other live threads (DuckDB's, Streamlit's pools), plus the messages and bytes sent
per run. With --profile, it also samples the server with py-spy (requirements-dev.txt) during the random views and
prints the share of samples under each group (engine, gate, grid, charts, Streamlit's Arrow and Vega-Lite
conversion, sending messages to the event loop) and the top functions by own time. py-spy sees Python threads only
and, sampling without pausing the server, may count a thread just out of a sleep as running: read its shares beside
the CPU split, which comes from /proc.

    python bench/server_cpu.py [--seconds 20] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import load  # noqa: E402  (the same server start, sample, views and websocket client)

# Profile groups: a sample counts in the first group whose frame appears in its stack (innermost groups first).
GROUPS = [
    ("Streamlit: send each message to the event loop", ("call_soon_threadsafe (asyncio",)),
    ("Streamlit: Arrow for grids and Stylers", ("convert_pandas_df_to_arrow_bytes", "marshall_styler")),
    ("Streamlit: Vega-Lite spec of charts", ("_altair_chart (streamlit",)),
    ("engine: DuckDB queries", ("run (rcs_viz/engine/db.py",)),
    ("engine: disclosure gate", ("rcs_viz/engine/disclosure/",)),
    ("engine: rest (tables, bases)", ("rcs_viz/engine/",)),
    ("charts: building Altair specs", ("rcs_viz/features/explore/charts.py", "rcs_viz/output/figures.py")),
    ("output: tables, labels", ("rcs_viz/output/",)),
    ("page script: rest (ui, Streamlit elements)", ("code_to_exec (streamlit",)),
    ("event loop: websocket, protobuf", ("run_forever (asyncio",)),
    ("Streamlit: config.toml polled every 0.2 s", ("polling_path_watcher",)),
]


def _threads(pid: int) -> dict[str, float]:
    """CPU seconds of each live thread of the server, by thread id."""
    out = {}
    tick = os.sysconf("SC_CLK_TCK")
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[tid] = (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return out


class Counting(load.Client):
    """load.py's client, counting the messages and bytes the server sends."""

    messages = 0
    received = 0

    async def run(self, page: str, query: str) -> float | None:
        if self.ws is not None and not hasattr(self.ws, "counted"):
            recv = self.ws.recv

            async def counted():
                data = await recv()
                self.messages += 1
                self.received += len(data)
                return data

            self.ws.recv, self.ws.counted = counted, True
        return await super().run(page, query)


async def measure(port: int, pid: int, views: load.Views, kind: str, seconds: float) -> dict:
    small = views.filter_changes
    stats = load.Stats()
    client = Counting(port, stats, timeout=120)
    await client.run("", "")  # connected, and the page hashes known
    client.messages = client.received = 0
    threads0, cpu0, t0, runs = _threads(pid), load._cpu_s(pid), time.monotonic(), 0
    while time.monotonic() - t0 < seconds:
        if kind == "small":
            await client.run("explore", small[runs % len(small)])
        elif kind == "random":
            await client.run("explore", views.explore())
        elif kind == "same":
            await client.run("explore", small[0])
        else:
            await client.run("", "")
        runs += 1
    wall, cpu, threads1 = time.monotonic() - t0, load._cpu_s(pid) - cpu0, _threads(pid)
    await client.close()
    main = threads1.get(str(pid), 0) - threads0.get(str(pid), 0)
    live = sum(threads1.values()) - sum(threads0.get(t, 0) for t in threads1)
    return {"kind": kind, "runs": runs, "wall": wall, "cpu": cpu, "main": main, "other": live - main,
            "script": cpu - live, "messages": client.messages, "bytes": client.received,
            "p50": load._pct(stats.times, 50), "errors": sum(stats.errors.values())}


def report(r: dict) -> None:
    n = r["runs"]
    print(f"{r['kind']:<9} {n:>4} runs {n / r['wall']:>5.1f}/s  p50 {r['p50']:>5.0f} ms  server CPU "
          f"{r['cpu'] / n * 1000:>5.1f} ms/run (page-script threads {r['script'] / n * 1000:>5.1f}, event loop "
          f"{r['main'] / n * 1000:>4.1f}, other threads {r['other'] / n * 1000:>4.1f})  "
          f"{r['messages'] / n:>4.0f} msgs {r['bytes'] / n / 1024:>5.0f} KiB/run  errors {r['errors']}", flush=True)


def _frame(f: str) -> str:
    m = re.match(r"(.*) \((.*?):\d+\)$", f)
    return f"{m.group(1)} ({m.group(2)})" if m else f


def summarise(raw: Path) -> None:
    """Shares of py-spy's samples by group, and the top functions by own time."""
    groups, own, total = collections.Counter(), collections.Counter(), 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n, frames = int(count), stack.split(";")[1:]
        total += n
        own[_frame(frames[-1]) if frames else "?"] += n
        groups[next((name for name, keys in GROUPS if any(k in stack for k in keys)), "other")] += n
    print(f"py-spy: {total} samples of running Python threads (page script, event loop, pools)")
    for name, n in groups.most_common():
        print(f"  {n / total:>6.1%}  {name}")
    print("  top functions by own time:")
    for name, n in own.most_common(12):
        print(f"    {n / total:>6.1%}  {name}")


async def main_async(args, port: int, pid: int, views: load.Views) -> None:
    warm = load.Client(port, load.Stats(), timeout=600)
    await warm.run("", "")
    for _ in range(10):
        await warm.run("explore", views.explore())
    await warm.close()
    for kind in ("small", "random", "same", "overview"):
        spy = None
        if args.profile and kind == "random":
            raw = Path(tempfile.mkdtemp()) / "random.txt"
            spy = subprocess.Popen([shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"), "record",
                                    "-r", "100", "-p", str(pid), "-f", "raw", "-o", str(raw), "--nonblocking",
                                    "-d", str(int(args.seconds))], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            await asyncio.sleep(1)
        report(await measure(port, pid, views, kind, args.seconds))
        if spy is not None:
            spy.wait()
            summarise(raw)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=20, help="per kind of view")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", action="store_true", help="sample the random views with py-spy")
    args = ap.parse_args()
    cfg, dictionary = load._config(None)
    views = load.Views(dictionary, args.seed)
    server, port = load._serve(ROOT / "app.py", {**os.environ, "RCS_EXPLORER_CONFIG": str(cfg)},
                               load.DATA / "server_cpu.log", ("--server.fileWatcherType", "none"))
    print(f"app: streamlit run app.py on 127.0.0.1:{port}, data_samples; one session, no pause; "
          f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f} (other work shares them)", flush=True)
    try:
        asyncio.run(main_async(args, port, server.pid, views))
    finally:
        load._stop(server)


if __name__ == "__main__":
    main()
