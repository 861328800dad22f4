"""Concurrency: 20 Streamlit sessions at once on loopback, each changing filters.

Starts the app exactly as `make run` does (`streamlit run app.py`, headless,
on a free port), with RCS_EXPLORER_CONFIG pointing at a sample: the bundled
44 k-row sample by default, or a generated one with --rows (kept in
.cache/bench/rows_N, as bench/explore_browser.py does). Then opens N
websocket clients that speak the browser's protocol and, for a bounded time,
each asks for one random Explore view after another (random rows, columns,
measure, wave and filters on any categorical variable, written into the URL
by rcs_viz.features.explore.state.to_params, as the widgets would), with now and then a
visit to the Overview page. Each client waits a random "think time" between
views (mean --think seconds; --think 0 is a saturation test). The 1-session
baseline pauses at most 0.2 s, to collect more samples.

Each session keeps one websocket open, as a browser tab does: a view is a rerun of that session, with no page
load, no static files and no new session (each phase's sessions open once). But each view is a new random one
(any variable on rows, columns or panels, so often school or area tables), not one filter changed: server CPU
per run is about twice bench/explore_rerun.py's filter changes; bench/server_cpu.py measures both in a server.
With --views filters, sessions ask for explore_rerun's 48 filter-change links instead.

Each rerun is timed from sending it to the server's `script_finished`.
Errors, by kind: `exception` (an exception element in the page), `closed`
(connection dropped), `connect` (could not open one), `timeout` (no
`script_finished` within --timeout), `page_not_found`, `compile_error`,
`interrupted`. The server's resident memory (itself and any children, from
/proc) is sampled every second. Tracebacks in the server's log
(.cache/bench/load_server.log) are counted too: an exception in the page
is redacted there, by showErrorDetails = "none". While source files change
under a running server (someone editing), Streamlit's file watcher drops
the changed modules from sys.modules and concurrent runs fail to import
them; --file-watcher none serves without it. Prints, for 1 client (the baseline) and for
N: reruns, errors by kind, p50 / p95 / max response, and the server's RSS at
start / peak / end with its slope in MB/min over the run and over its second
half (for runs of 2 minutes or more, each process's RSS at every minute too, to see
whether it levels off), then p95(N) ÷ p95(1). Goals (issue 17): 0 errors, p95 under 1.5 s, no view over 3 s, memory flat.

    python bench/load.py [--clients 20] [--seconds 60] [--rows N] [--think 1.0]
                         [--baseline-seconds 20] [--timeout 30] [--file-watcher none] [--servers 2]
                         [--views random|filters]
    python bench/load.py --selftest   # proves exceptions and dropped connections are counted

The protocol (Streamlit 1.67, server on Starlette): a websocket to
/_stcore/stream with subprotocol "streamlit" (no XSRF token or cookie is
needed: XSRF only guards the auth cookie; an Origin equal to the Host is
sent, as a browser would). A view is a BackMsg `rerun_script` whose
ClientState carries the URL's query string and the page's url path
("explore", "" for the default page) plus its page_script_hash once the
`navigation` message has told it; the server answers with ForwardMsgs, the
last of a run being `script_finished`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.explore_browser import DATA, _free_port, _sample  # noqa: E402  (the same generated samples and ports)
from rcs_viz.cli import answers  # noqa: E402  (serve's health check: answered, or not up yet)
SAMPLE = ROOT / "data_samples"
OVERVIEW_SHARE = 0.1  # of requests that go to the Overview page

SELFTEST_APP = """import streamlit as st
st.write("hello")
if st.query_params.get("boom"):
    raise RuntimeError("boom on purpose")
"""


# --------------------------------------------------------------------------- server

def _config(rows: int | None) -> tuple[Path, Path]:
    """A configuration file for the sample, and the dictionary the clients draw views from."""
    if rows is None:
        folder = DATA / "sample"
        folder.mkdir(parents=True, exist_ok=True)
        cfg = folder / "rcs_explorer.yaml"
        cfg.write_text(f"data: {SAMPLE / 'respondents.parquet'}\ndictionary: {SAMPLE / 'dictionary.yaml'}\n"
                       f"services: {SAMPLE / 'services.csv'}\ncomparators: {SAMPLE / 'comparators.csv'}\n"
                       f"cache_dir: {DATA / 'db'}\n")
        return cfg, SAMPLE / "dictionary.yaml"
    cfg = _sample(rows)
    return cfg, cfg.parent / "dictionary.yaml"


def _serve(script: Path, env: dict, log: Path, extra: tuple[str, ...] = ()) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    out = log.open("w")
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
                               "--server.headless", "true", *extra], cwd=script.parent, env=env,
                              stdout=out, stderr=subprocess.STDOUT)
    for _ in range(300):
        if answers(f"http://127.0.0.1:{port}/_stcore/health"):
            return server, port
        if server.poll() is not None:
            break
        time.sleep(0.2)
    server.kill()
    raise SystemExit(f"the server did not start; see {log}")


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _tree(pid: int) -> list[int]:
    pids, i = [pid], 0
    while i < len(pids):
        try:
            for task in os.listdir(f"/proc/{pids[i]}/task"):
                with open(f"/proc/{pids[i]}/task/{task}/children") as f:
                    pids += [int(c) for c in f.read().split()]
        except OSError:
            pass
        i += 1
    return pids


def _rss_mb(pid: int) -> float:
    """Resident memory of the process and its descendants, in MB."""
    total = 0
    for p in _tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return total / 1024


def _cpu_s(pid: int) -> float:
    total = 0.0
    for p in _tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            pass
    return total


# --------------------------------------------------------------------------- views

class Views:
    """Random Explore views from the dictionary, as the query strings the widgets would write."""

    def __init__(self, dictionary_path: Path, seed: int, kind: str = "random"):
        from rcs_viz.data import dictionary as dd
        from rcs_viz.features.explore import state as view_state

        self.vs = view_state
        self.d = dd.read(dictionary_path)
        self.rng = random.Random(seed)
        codes = lambda name: [c for c, _ in self.d[name].values]  # noqa: E731
        self.codes = codes
        self.default = view_state.default_view(self.d, codes)
        wave = self.d.by_role("wave")
        self.wave_codes = codes(wave.name) if wave else []
        analysis = [v for v in self.d.variables if v.role not in ("id", "weight", "x", "y")]
        self.cats = [v.name for v in analysis if v.is_categorical]
        self.nums = [v.name for v in analysis if not v.is_categorical]
        self.filterable = [n for n in self.cats if wave is None or n != wave.name]
        self.has_weight = self.d.by_role("weight") is not None
        self.kind = kind
        from bench.explore_rerun import views as filter_changes
        self.filter_changes = [urllib.parse.urlencode([(k, x) for k, v in view.items() for x in v.split(",")])
                               for view in filter_changes(48)]

    def next(self) -> str:
        """The next Explore link: a random view, or (--views filters) one of explore_rerun's filter changes."""
        return self.explore() if self.kind == "random" else self.rng.choice(self.filter_changes)

    def explore(self) -> str:
        r = self.rng
        rows = r.choice(self.cats)
        cols = r.choice([None] + [c for c in self.cats if c != rows])
        panel = r.choice([None] + [c for c in self.cats if c not in (rows, cols)]) if r.random() < 0.15 else None
        measure = r.choice(list(self.vs.MEASURES))
        value = None
        if measure in self.vs.NUMERIC_MEASURES:
            if self.nums:
                value = r.choice(self.nums)
            else:
                measure = "count"
        filters = []
        for name in r.sample(self.filterable, k=r.choice([0, 1, 1, 2, 2, 3])):
            codes = self.codes(name)
            if codes:
                kept = set(r.sample(codes, k=r.randint(1, len(codes))))
                filters.append((name, tuple(c for c in codes if c in kept)))
        view = self.vs.ExploreView(
            rows=rows, cols=cols, panel=panel, measure=measure, value=value,
            wave=r.choice([None] + self.wave_codes) if self.wave_codes else None,
            filters=tuple(filters), missing=r.random() < 0.8, ci=r.random() < 0.2,
            weighted=self.has_weight and r.random() < 0.2, stacked=r.random() < 0.2)
        return urllib.parse.urlencode(self.vs.to_params(view, self.default), doseq=True)


# --------------------------------------------------------------------------- clients

@dataclass
class Stats:
    times: list[float] = field(default_factory=list)  # ms, runs that finished
    by_page: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter = field(default_factory=Counter)
    info: Counter = field(default_factory=Counter)  # not errors: what the pages said about the views
    slowest: list[tuple[float, str]] = field(default_factory=list)
    examples: dict[str, str] = field(default_factory=dict)

    def error(self, kind: str, detail: str = "") -> None:
        self.errors[kind] += 1
        self.examples.setdefault(kind, detail[:200])


class Client:
    """One browser tab: a websocket session that reruns the app with new URLs."""

    def __init__(self, port: int, stats: Stats, timeout: float):
        self.url = f"ws://127.0.0.1:{port}/_stcore/stream"
        self.origin = f"http://127.0.0.1:{port}"
        self.stats, self.timeout = stats, timeout
        self.ws = None
        self.hashes: dict[str, str] = {}  # url path → page_script_hash, from the navigation message

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    async def run(self, page: str, query: str) -> float | None:
        """Rerun the app on page with this query string; the time to script_finished in ms, None on error."""
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidHandshake

        from streamlit.proto.BackMsg_pb2 import BackMsg

        if self.ws is None:
            try:
                self.ws = await asyncio.wait_for(connect(self.url, subprotocols=["streamlit"], origin=self.origin,
                                                         max_size=None, ping_interval=None), self.timeout)
            except (OSError, InvalidHandshake, asyncio.TimeoutError) as exc:
                self.stats.error("connect", repr(exc))
                return None
        msg = BackMsg()
        msg.rerun_script.query_string = query
        msg.rerun_script.page_name = page
        msg.rerun_script.page_script_hash = self.hashes.get(page, "")
        start = time.perf_counter()
        try:
            await self.ws.send(msg.SerializeToString())
            problems = await asyncio.wait_for(self._until_finished(), self.timeout)
        except asyncio.TimeoutError:
            self.stats.error("timeout", f"{page}?{query}")
            await self._drop()
            return None
        except ConnectionClosed as exc:
            self.stats.error("closed", repr(exc))
            self.ws = None
            return None
        ms = (time.perf_counter() - start) * 1000
        for kind, detail in problems:
            self.stats.error(kind, f"{page}?{query}: {detail}")
        if problems:
            return None
        self.stats.times.append(ms)
        self.stats.by_page.setdefault(page or "overview", []).append(ms)
        self.stats.slowest = sorted(self.stats.slowest + [(ms, f"/{page}?{query}")], reverse=True)[:3]
        return ms

    async def _drop(self) -> None:
        ws, self.ws = self.ws, None
        try:
            await asyncio.wait_for(ws.close(), 2)
        except Exception:  # noqa: BLE001 - it is being thrown away
            pass

    async def _until_finished(self) -> list[tuple[str, str]]:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        problems = []
        while True:
            fm = ForwardMsg()
            fm.ParseFromString(await self.ws.recv())
            kind = fm.WhichOneof("type")
            if kind == "delta" and fm.delta.WhichOneof("type") == "new_element" \
                    and fm.delta.new_element.WhichOneof("type") == "exception":
                e = fm.delta.new_element.exception
                problems.append(("exception", f"{e.type}: {e.message}"))
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element" \
                    and fm.delta.new_element.WhichOneof("type") == "alert":
                body = fm.delta.new_element.alert.body
                if body.startswith("Parts of this link could not be used"):
                    self.stats.info["link notes (view not as sent)"] += 1
                elif body.startswith("These filters leave too few"):
                    self.stats.info["base too small (page stops)"] += 1
            elif kind == "navigation":
                self.hashes.update({p.url_pathname: p.page_script_hash for p in fm.navigation.app_pages})
                self.hashes.update({"": p.page_script_hash for p in fm.navigation.app_pages if p.is_default})
            elif kind == "page_not_found":
                problems.append(("page_not_found", fm.page_not_found.page_name))
            elif kind == "session_event" and fm.session_event.WhichOneof("type") == "script_compilation_exception":
                problems.append(("compile_error", fm.session_event.script_compilation_exception.message))
            elif kind == "script_finished":
                status = fm.script_finished
                if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    problems.append(("compile_error", "script_finished"))
                elif status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    problems.append(("interrupted", "finished early for a rerun"))
                return problems


async def _user(port: int, views: Views, stats: Stats, deadline: float, think: float, timeout: float,
                rng: random.Random) -> None:
    client = Client(port, stats, timeout)
    await asyncio.sleep(rng.uniform(0, min(1.0, think or 0.2)))  # tabs do not all open in the same millisecond
    try:
        while time.monotonic() < deadline:
            if rng.random() < OVERVIEW_SHARE:
                ok = await client.run("", "")
            else:
                ok = await client.run("explore", views.next())
            if ok is None and client.ws is None:
                await asyncio.sleep(0.5)  # before reconnecting
            if think:
                await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))
    finally:
        await client.close()


async def _sample_rss(pids: list[int], each: list[tuple[float, ...]], stop: asyncio.Event) -> None:
    """Every second: each server's RSS into `each` (time, MB of the first server, of the second, ...)."""
    while not stop.is_set():
        each.append((time.monotonic(), *map(_rss_mb, pids)))
        try:
            await asyncio.wait_for(stop.wait(), 1.0)
        except asyncio.TimeoutError:
            pass
    each.append((time.monotonic(), *map(_rss_mb, pids)))


async def phase(port: int | list[int], pid: int | list[int], views: Views, clients: int, seconds: float,
                think: float, timeout: float, seed: int) -> dict:
    """`clients` sessions for `seconds`; with several servers (ports), sessions are shared out as a sticky proxy would."""
    ports, pids = ([port] if isinstance(port, int) else list(port)), ([pid] if isinstance(pid, int) else list(pid))
    stats, each, stop = Stats(), [], asyncio.Event()
    sampler = asyncio.create_task(_sample_rss(pids, each, stop))
    cpu0, t0, own0 = sum(map(_cpu_s, pids)), time.monotonic(), time.process_time()
    deadline = t0 + seconds
    await asyncio.gather(*(_user(ports[i % len(ports)], views, stats, deadline, think, timeout,
                                 random.Random(seed * 1000 + i)) for i in range(clients)))
    wall = time.monotonic() - t0
    cpu, own = sum(map(_cpu_s, pids)) - cpu0, time.process_time() - own0
    stop.set()
    await sampler
    return {"clients": clients, "wall": wall, "cpu": cpu, "own": own, "stats": stats,
            "rss": [(t, sum(mb)) for t, *mb in each], "each": each}


# --------------------------------------------------------------------------- figures

def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs) + 0.5) - 1))] if xs else float("nan")


def _slope(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of RSS against time, MB per minute."""
    if len(samples) < 3:
        return float("nan")
    ts = [t for t, _ in samples]
    ms = [m for _, m in samples]
    return statistics.linear_regression(ts, ms).slope * 60


def _report(name: str, r: dict) -> None:
    s, rss = r["stats"], r["rss"]
    n = len(s.times)
    errs = sum(s.errors.values())
    kinds = ", ".join(f"{k} {v}" for k, v in s.errors.most_common()) or "none"
    print(f"{name}: {r['clients']} session(s), {r['wall']:.0f} s, {n + errs} reruns "
          f"({(n + errs) / r['wall']:.1f}/s); CPU: server {r['cpu'] / r['wall'] * 100:.0f}% "
          f"({r['cpu'] / max(1, n + errs) * 1000:.0f} ms per run), "
          f"these clients {r['own'] / r['wall'] * 100:.0f}% of one core")
    print(f"  errors: {errs} ({kinds})")
    for kind, example in s.examples.items():
        print(f"    e.g. {kind}: {example}")
    if s.info:
        print("  views: " + ", ".join(f"{k} {v}" for k, v in s.info.most_common()))
    print(f"  response: p50 {_pct(s.times, 50):.0f} ms, p95 {_pct(s.times, 95):.0f} ms, "
          f"max {max(s.times, default=float('nan')):.0f} ms")
    for page, times in sorted(s.by_page.items()):
        print(f"    {page:<9} {len(times):>5} runs  p50 {_pct(times, 50):>6.0f} ms  p95 {_pct(times, 95):>6.0f} ms")
    for ms, url in s.slowest:
        print(f"    slowest: {ms:>6.0f} ms  {url}")
    mb = [m for _, m in rss]
    half = rss[len(rss) // 2:]
    print(f"  server RSS: start {mb[0]:.0f} MB, peak {max(mb):.0f} MB, end {mb[-1]:.0f} MB; "
          f"slope {_slope(rss):+.1f} MB/min (second half {_slope(half):+.1f} MB/min)")
    if r["wall"] >= 120:
        print("  RSS per minute, MB (each process): " + _per_minute(r["each"]))


def _per_minute(each: list[tuple[float, ...]]) -> str:
    """Each process's RSS at the start and at every whole minute after, and at the end: whether it levels off."""
    t0, picked, minute = each[0][0], [], 0
    for sample in each:
        if sample[0] - t0 >= minute * 60:
            picked.append((minute, sample[1:]))
            minute += 1
    return ", ".join(f"{m} min " + " / ".join(f"{mb:.0f}" for mb in mbs) for m, mbs in picked) \
        + f", end ({(each[-1][0] - t0) / 60:.1f} min) " + " / ".join(f"{mb:.0f}" for mb in each[-1][1:])


def _server_log_errors(log: Path) -> int:
    text = log.read_text(errors="replace")
    return text.count("Traceback (most recent call last)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--rows", type=int, default=None, help="a generated sample of this size (default: data_samples)")
    ap.add_argument("--think", type=float, default=1.0, help="mean pause between a session's views, s (0: none)")
    ap.add_argument("--baseline-seconds", type=float, default=20)
    ap.add_argument("--timeout", type=float, default=30, help="a rerun with no script_finished by then is an error")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--views", choices=("random", "filters"), default="random",
                    help="random: a new random view each time; filters: bench/explore_rerun.py's 48 filter changes "
                         "(small tables; after their first asking, the shared caches answer)")
    ap.add_argument("--file-watcher", choices=("auto", "poll", "watchdog", "none"),
                    help="server.fileWatcherType for the server (default: as `make run`, the project's config)")
    ap.add_argument("--servers", type=int, default=1,
                    help="server processes, sessions shared out among them as a sticky proxy would (default 1)")
    ap.add_argument("--selftest", action="store_true", help="check that errors are counted, then exit")
    args = ap.parse_args()
    if args.selftest:
        asyncio.run(selftest())
        return

    cfg, dictionary = _config(args.rows)
    views = Views(dictionary, args.seed, args.views)
    log = DATA / "load_server.log"
    extra = ("--server.fileWatcherType", args.file_watcher) if args.file_watcher else ()
    logs = [log] + [DATA / f"load_server_{i + 1}.log" for i in range(1, args.servers)]
    servers = [_serve(ROOT / "app.py", {**os.environ, "RCS_EXPLORER_CONFIG": str(cfg)}, path, extra)
               for path in logs]
    try:
        asyncio.run(_main(args, [s for s, _ in servers], [p for _, p in servers], views, cfg))
    finally:
        for server, _ in servers:
            _stop(server)
    for path in logs:
        print(f"server log: {_server_log_errors(path)} traceback(s) in {path.relative_to(ROOT)}")


async def _main(args, servers: list[subprocess.Popen], ports: list[int], views: Views, cfg: Path) -> None:
    data = "data_samples (44,000 rows)" if args.rows is None else f"{args.rows:,} generated rows"
    where = ", ".join(f"127.0.0.1:{p}" for p in ports)
    print(f"app: streamlit run app.py ×{len(servers)} on {where}, {data}; views {args.views}, think time {args.think:g} s "
          f"(±50%), {OVERVIEW_SHARE:.0%} of requests to Overview; file watcher {args.file_watcher or 'as configured'}; "
          f"{os.cpu_count()} CPU(s)", flush=True)
    # Warm-up, untimed in the figures: the first run opens (and may build) the database.
    for server, port in zip(servers, ports):
        warm = Stats()
        client = Client(port, warm, timeout=600)
        t = time.perf_counter()
        await client.run("", "")
        first = (time.perf_counter() - t) * 1000
        for _ in range(5):
            await client.run("explore", views.explore())
        await client.close()
        if warm.errors:
            raise SystemExit(f"warm-up failed: {dict(warm.errors)} {warm.examples}")
        print(f"warm-up: first page {first:.0f} ms, server RSS {_rss_mb(server.pid):.0f} MB", flush=True)

    pids = [s.pid for s in servers]
    # One session alone: its pauses do not change its response times, so keep them short for more samples.
    base = await phase(ports[0], pids[0], views, 1, args.baseline_seconds, min(args.think, 0.2), args.timeout,
                       args.seed)
    _report("baseline", base)
    load = await phase(ports, pids, views, args.clients, args.seconds, args.think, args.timeout, args.seed + 1)
    _report("load", load)
    p1, pn = _pct(base["stats"].times, 95), _pct(load["stats"].times, 95)
    errs = sum(load["stats"].errors.values())
    rss = load["rss"]
    over = sum(t > 3000 for t in load["stats"].times)
    print(f"p95 at {args.clients} ÷ p95 at 1: {pn / p1:.1f}×  |  goals: 0 errors {'✓' if not errs else '✗'}, "
          f"p95 < 1.5 s {'✓' if pn < 1500 else '✗'}, no view over 3 s {'✓' if not over else '✗'} "
          f"({over} of {len(load['stats'].times)}), "
          f"RSS growth {rss[-1][1] - rss[0][1]:+.0f} MB over the run")


async def selftest() -> None:
    """An app that raises on ?boom=1: a clean run, an exception, a dropped server and a dead port must all count."""
    folder = DATA / "load_selftest"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(SELFTEST_APP)
    (folder / ".streamlit").mkdir(exist_ok=True)  # the project's server settings: XSRF on, no error details
    (folder / ".streamlit" / "config.toml").write_text((ROOT / ".streamlit" / "config.toml").read_text())
    server, port = _serve(folder / "app.py", dict(os.environ), DATA / "load_selftest.log")
    stats = Stats()
    client = Client(port, stats, timeout=30)
    try:
        ok = await client.run("", "")
        assert ok is not None and not stats.errors, (ok, stats.errors, stats.examples)
        assert await client.run("", "boom=1") is None and stats.errors == Counter(exception=1), stats.errors
        assert await client.run("", "") is not None, stats.errors  # the session survives an exception
        # Closed connection: the server goes away while the session is open.
        _stop(server)
        assert await client.run("", "") is None and stats.errors["closed"] == 1, stats.errors
        # Nothing listening: the reconnect fails.
        assert await client.run("", "") is None and stats.errors["connect"] == 1, stats.errors
        # A run that never finishes within the timeout.
        server, port = _serve(folder / "app.py", dict(os.environ), DATA / "load_selftest.log")
        slow = Client(port, stats, timeout=30)
        assert await slow.run("", "") is not None, stats.errors
        slow.timeout = 0.001
        assert await slow.run("", "") is None and stats.errors["timeout"] == 1, stats.errors
        await slow.close()
    finally:
        await client.close()
        _stop(server)
    print(f"selftest ok: counted {dict(stats.errors)}")
    for kind, example in stats.examples.items():
        print(f"  {kind}: {example}")


if __name__ == "__main__":
    main()
