"""A big table's suppression in a worker process gives the answer the page run's own process gives, always.

The worker (rcs_viz.engine.disclosure.worker) is there for speed under load only: these tests check that what
it decides is what `system.suppress` decides here, that a dead worker costs time and never the audit, and that
no more workers run than it allows.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from rcs_viz.engine.disclosure import system as engine
from rcs_viz.engine.disclosure import worker
from tests.unit.test_disclosure_split import grid

T = 10


@pytest.fixture(autouse=True)
def no_workers():
    """Each test starts with no worker, and leaves none running."""
    worker.stop()
    assert worker._started == 0
    yield
    worker.stop()
    assert worker._started == 0


def big_table(seed: int) -> engine.System:
    """A school-like grid of 1,000 items or more, a third of its inner cells small."""
    inner = np.random.default_rng(seed).poisson(14, size=(60, 4, 3))
    s = grid(inner)
    assert s.size >= worker.ITEMS
    return s


def test_a_big_tables_suppression_is_decided_in_a_worker_as_it_is_here():
    s = big_table(1)
    here = engine.suppress(s, T, 2500)
    there = worker.suppress(s, T, 2500)
    assert np.array_equal(there, here)
    assert (s.values[~here] >= T).all() and here.sum() > (s.values < T).sum()  # secondary cells were needed
    [w] = worker._idle
    assert w.alive()  # it answered, and is kept for the next table


def test_a_small_table_is_decided_here_without_a_worker():
    s = grid(np.random.default_rng(2).poisson(6, size=(5, 4)))
    assert np.array_equal(worker.suppress(s, T, 2500), engine.suppress(s, T, 2500))
    assert worker._started == 0 and not worker._idle


def test_the_masks_and_budget_reach_the_worker():
    s = big_table(3)
    rng = np.random.default_rng(3)
    sensitive, known, public = (rng.random(s.size) < p for p in (0.02, 0.05, 0.01))
    for budget in (2500, 30):  # the second fails closed
        args = (s, T, budget, sensitive, known, public)
        assert np.array_equal(worker.suppress(*args), engine.suppress(*args))


def test_a_dead_worker_costs_time_not_the_audit():
    s = big_table(4)
    worker.suppress(s, T, 2500)
    [w] = worker._idle
    w.process.kill()
    w.process.wait()
    assert np.array_equal(worker.suppress(s, T, 2500), engine.suppress(s, T, 2500))  # decided here instead
    assert worker._started == 0 and not worker._idle  # the dead one is let go
    worker.suppress(s, T, 2500)
    [fresh] = worker._idle
    assert fresh is not w and fresh.alive()


def test_what_the_suppression_raises_in_the_worker_is_raised_in_the_page_run():
    s = big_table(5)
    with pytest.raises(TypeError):
        worker.suppress(s, "ten", 2500)  # a threshold that is no number fails there as it would here
    [w] = worker._idle
    assert w.alive()  # and the worker is fine for the next table


def test_page_runs_asking_at_once_share_at_most_the_workers_allowed():
    tables = [big_table(10 + i) for i in range(6)]
    answers: dict[int, np.ndarray] = {}
    running: list[int] = []

    def ask(i):
        answers[i] = worker.suppress(tables[i], T, 2500)
        running.append(worker._started)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(tables))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert max(running) <= worker.WORKERS
    for i, s in enumerate(tables):
        assert np.array_equal(answers[i], engine.suppress(s, T, 2500))


def test_a_worker_ends_quietly_with_its_server():
    """Ctrl+C reaches the whole process group: the worker ends without a traceback in the server's log; and it ends
    as soon as its stdin closes, so a server that dies leaves no worker behind."""
    for end in ("interrupt", "close"):
        process = subprocess.Popen([sys.executable, "-m", worker.__name__], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=worker.ROOT)
        time.sleep(0.5)  # imported and waiting for a question
        if end == "interrupt":
            process.send_signal(signal.SIGINT)
        else:
            process.stdin.close()
        process.wait(timeout=30)
        err = process.stderr.read()
        for pipe in (process.stdin, process.stdout, process.stderr):
            pipe.close()
        assert process.returncode == 0 and err == b"", (end, err)
