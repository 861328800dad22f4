"""A big table's suppression in a process of its own, where other page runs cannot hold it back.

A Streamlit server runs every session's page run as a thread of one Python process. HiGHS lets go of the
interpreter lock while it solves, but a big table's audit solves some 1,200 LPs, and after each it must take the
lock back from whichever page run holds it, which hands it over only every few milliseconds
(`sys.getswitchinterval`). With four other views being worked out in its process, school × SDQ emotional band ×
bullied (filtered on social work contact) took 10-11 s where it takes 2.4 s alone, and 4.6 s in a process of its
own, the machine's two cores being shared all the same.

So `suppress` hands a system of `ITEMS` items or more to a worker process (`python -m
rcs_viz.engine.disclosure.worker`), which runs the same `system.suppress` on the same arrays: the same answer,
as the audit counts its work rather than timing it. Smaller systems, decided in milliseconds, are not worth the
hand-over. Up to `WORKERS` workers a server process, each started when first needed and kept (some 80 MB
resident: NumPy and SciPy's solvers); a page run that finds them all busy waits for one, which takes less time than
deciding its table among the page runs. A worker that cannot be started or that dies leaves the suppression to the
page run's own process: slower, never another answer, never an unaudited table.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path

from rcs_viz.engine.disclosure import system as engine

ITEMS = 1000  # school tables have 2,000-4,000 items; a table by area or stage, a few hundred
WORKERS = 1  # a server process per core (docs/serving.md): one more busy process a core is enough, at 80 MB each
ROOT = Path(__file__).resolve().parents[3]  # the folder holding rcs_viz, the worker's import path


class _Gone(Exception):
    """The worker died or could not be reached."""


class _Worker:
    def __init__(self):
        self.process = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, cwd=ROOT)

    def ask(self, args: tuple):
        try:
            pickle.dump(args, self.process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self.process.stdin.flush()
            ok, answer = pickle.load(self.process.stdout)
        except Exception as err:  # a broken pipe, an answer cut short: the worker is of no more use
            self.process.kill()
            self.close()
            raise _Gone from err
        if not ok:
            raise answer  # what suppress raised there (a SolverError, a ValueError), raised here
        return answer

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        """Let it go: it ends as its stdin closes."""
        try:
            self.process.stdin.close()
        except OSError:  # already broken
            pass
        self.process.wait()
        self.process.stdout.close()


_idle: list[_Worker] = []
_started = 0
_turn = threading.Condition()


def _take() -> _Worker | None:
    global _started
    with _turn:
        while not _idle and _started >= WORKERS:
            _turn.wait()
        if _idle:
            return _idle.pop()
        _started += 1
    try:
        return _Worker()
    except Exception:  # noqa: BLE001 - no worker (no process left, no memory): the page run decides it
        _give(None)
        return None


def _give(worker: _Worker | None) -> None:
    global _started
    with _turn:
        if worker is not None and worker.alive():
            _idle.append(worker)
        else:
            if worker is not None:
                worker.close()
            _started -= 1
        _turn.notify()


@atexit.register
def stop() -> None:
    """Let the idle workers go (each ends when its stdin closes), as the server stops."""
    global _started
    with _turn:
        for worker in _idle:
            worker.close()
        _started -= len(_idle)
        _idle.clear()


def suppress(system: engine.System, threshold: int, budget: float, sensitive=None, known=None, public=None):
    """`system.suppress`, in a worker process when the system has `ITEMS` items or more."""
    args = (system, threshold, budget, sensitive, known, public)
    if system.size < ITEMS:
        return engine.suppress(*args)
    worker = _take()
    if worker is None:
        return engine.suppress(*args)
    try:
        return worker.ask(args)
    except _Gone:
        return engine.suppress(*args)
    finally:
        _give(worker)


def _serve() -> None:
    """The worker: answer each pickled question on stdin with a pickled (ok, answer) on stdout, until stdin closes
    (the server stopped or let it go). Ctrl+C reaches the worker with its server (one process group): it then
    just ends, as the server does."""
    questions = sys.stdin.buffer
    # the answers on a descriptor of their own; anything printed, by Python or by a C library, goes to stderr (the
    # server's log), not into the answers
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    while True:
        try:
            args = pickle.load(questions)
        except EOFError:
            return
        try:
            reply = (True, engine.suppress(*args))
        except Exception as err:  # noqa: BLE001 - raised again in the page run's process
            reply = (False, err)
        pickle.dump(reply, answers, protocol=pickle.HIGHEST_PROTOCOL)
        answers.flush()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        _serve()
