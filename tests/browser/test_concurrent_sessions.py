"""Many sessions at once against one real server: no errors, no tracebacks, memory bounded.

Correctness under concurrency only; how fast it stays is measured by
bench/load.py (20 sessions, a minute), never asserted here.
"""

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

from bench import load


def test_ten_sessions_changing_views_at_once_all_finish_without_error(tmp_path):
    cfg, dictionary = load._config(None)
    log = tmp_path / "server.log"
    server, port = load._serve(load.ROOT / "app.py", {**os.environ, "RCS_EXPLORER_CONFIG": str(cfg)}, log)
    try:
        views = load.Views(dictionary, seed=7)
        with ThreadPoolExecutor(1) as pool:  # a loop of its own: Playwright's sync API keeps one in this thread
            warm = load.phase(port, server.pid, views, clients=1, seconds=5, think=0.2, timeout=120, seed=6)
            pool.submit(asyncio.run, warm).result()  # the first runs open the data: not growth
            sessions = load.phase(port, server.pid, views, clients=10, seconds=15, think=0.3, timeout=90, seed=7)
            result = pool.submit(asyncio.run, sessions).result()
    finally:
        load._stop(server)
    stats = result["stats"]
    assert not stats.errors, (dict(stats.errors), stats.examples)
    assert len(stats.times) >= 20, "the sessions should have run many views"
    assert load._server_log_errors(log) == 0, log.read_text()[-2000:]
    rss = [mb for _, mb in result["rss"]]
    assert max(rss) - rss[0] < 300, f"a warm server's memory grew from {rss[0]:.0f} to {max(rss):.0f} MB"
