"""Several processes racing, as server processes do, in a test that can fail but never hang the suite.

Each worker is a daemon (killed if the test process exits), waits at a
barrier with a timeout (a worker that dies breaks the barrier instead of
leaving the others waiting for ever), and reports its result or its
traceback, so a failure shows the worker's own error rather than a timeout.
"""

from __future__ import annotations

import multiprocessing
import traceback
from typing import Any, Callable

WAIT_S = 120  # generous on a loaded 2-core machine; only reached when something is wrong


def race(target: Callable[..., Any], *args: Any, workers: int = 4) -> list[Any]:
    """Run target(barrier, *args) in `workers` spawned processes at once; their results, or a worker's traceback."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(workers, timeout=WAIT_S), ctx.Queue()
    procs = [ctx.Process(target=_report, args=(target, barrier, results, args), daemon=True) for _ in range(workers)]
    for proc in procs:
        proc.start()
    try:
        outcomes = [results.get(timeout=WAIT_S) for _ in procs]
    finally:
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
    failures = [text for ok, text in outcomes if not ok]
    assert not failures, f"{len(failures)} of {workers} workers failed; the first:\n{failures[0]}"
    return [value for _, value in outcomes]


def _report(target: Callable[..., Any], barrier: Any, results: Any, args: tuple) -> None:
    try:
        results.put((True, target(barrier, *args)))
    except BaseException:  # noqa: BLE001 - whatever went wrong is the test's report
        results.put((False, traceback.format_exc()))
        barrier.abort()  # the others stop waiting for this worker
