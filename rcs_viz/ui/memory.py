"""A server process hands the memory its page runs free back to the system, without slowing the runs.

Every page run is a thread of its own, and glibc's malloc gives threads heaps of their own (up to eight per
core), each keeping what its runs freed in pieces between blocks still in use: under 20 sessions asking for new
views, a process's freed but kept memory grew by 35-70 MB in four minutes, more than its caches held, and kept
growing. Two heaps (`M_ARENA_MAX`) keep that to two, and a thread of its own hands their free pages back every
`EVERY` seconds (`malloc_trim`), outside any page run. Mapping every block of 128 KB or more on its own did hand
memory back as it was freed, but cost each page run a fifth more CPU (a first Explore run 0.24 -> 0.30 s, the
cold start 0.2-0.3 s more), every big array a fresh mapping. Python's small objects and DuckDB have allocators
of their own. Nothing is done where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import functools
import threading
import time

M_ARENA_MAX = -8  # glibc's mallopt option (malloc.h)
EVERY = 10.0  # seconds between hand-backs: each takes a few ms, under the heaps' locks, not the interpreter's
THREAD = "memory"

_started = threading.Event()


@functools.cache
def _libc():
    """glibc, loaded once (the hand-backs ask for it every `EVERY` seconds), or None for another C library."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def hand_back() -> bool:
    """Hand the free pages of every heap back to the system now; False where the C library is not glibc."""
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)  # a foreign call: ctypes lets the interpreter's other threads run meanwhile
    return True


def _hand_back_every(seconds: float) -> None:
    while True:
        time.sleep(seconds)
        hand_back()


def start() -> None:
    """Two heaps, and the hand-backs started, once per process (the server's lifespan)."""
    libc = _libc()
    if libc is None or _started.is_set():
        return
    _started.set()
    libc.mallopt(M_ARENA_MAX, 2)
    threading.Thread(target=_hand_back_every, args=(EVERY,), name=THREAD, daemon=True).start()
