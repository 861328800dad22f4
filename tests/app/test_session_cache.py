"""The session's caches (rcs_viz.ui.session): a view seen again finds what was drawn for it, each result is its own
view's, and a process keeps at most `session.CACHED_MB` of them, dropping the least recently used."""

import dataclasses
import os
import pickle
import subprocess
import sys

import pytest
from streamlit.runtime.caching.cache_type import CacheType
from streamlit.runtime.caching.cache_utils import CachedFunc

from rcs_viz import config
from rcs_viz.engine import service
from rcs_viz.engine.sql.views import CrossTab
from rcs_viz.ui import session

CFG = config.load()
MB = 2**20


def test_a_views_table_has_one_digest_on_its_first_run_and_every_later_one(ds):
    """The table and charts are cached under the protected table's digest (`session._content`): the table the first
    run computes and the copy the cache hands every later run must digest alike, or the second visit draws again."""
    query = CrossTab(rows="simd", cols="sex", filters=(("wave", ("2019",)), ("stage", ("1", "2"))))
    key = repr(("test_session_cache", query))
    session._crosstab.clear()
    first = session._crosstab(key, ds, query, "count", CFG.rules)
    again = session._crosstab(key, ds, query, "count", CFG.rules)
    assert again is not first  # the cache hands back a copy
    assert session._content(again) == session._content(first)


def test_every_result_cache_is_bounded_by_bytes_and_together_by_the_documented_total(root):
    """Each st.cache_data holds at most its budget of pickled bytes, not a number of entries (a school table
    pickles to 500 times a small one's bytes), and the budgets add up to what docs/serving.md promises."""
    cached = {name: f for name, f in vars(session).items()
              if isinstance(f, CachedFunc) and f._info.cache_type is CacheType.DATA}
    assert set(cached) == set(session.BUDGET_MB)
    for name, f in cached.items():
        assert f._info.max_size_bytes == session.BUDGET_MB[name] * MB, name
        assert f._info.max_entries is None, name
    assert session.CACHED_MB == sum(session.BUDGET_MB.values())
    assert f"at most {session.CACHED_MB} MB" in (root / "docs" / "serving.md").read_text(encoding="utf-8")


@pytest.fixture
def counted(ds, monkeypatch):
    """session.crosstab on the test's dataset under the configured rules, counting the tables the engine works
    out (a cache miss), on an emptied cache. `counted.rules` changes the rules the next calls run under."""
    calls = []
    real = service.crosstab

    def crosstab(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "crosstab", crosstab)
    monkeypatch.setattr(session, "dataset", lambda: ds)
    rules = {"now": CFG.rules}
    monkeypatch.setattr(session, "rules", lambda: rules["now"])
    session._crosstab.clear()
    yield calls, rules
    session._crosstab.clear()


VIEWS = [CrossTab(rows="simd", cols="sex", filters=(("stage", (s,)),)) for s in ("1", "2", "3")]


def test_past_its_budget_the_cache_drops_the_least_recently_used_view(counted, monkeypatch):
    """With room for two of three like-sized views: going back to the first makes it the most recently used, so
    the third pushes out the second, and the first is still found."""
    calls, _ = counted
    sizes = [len(pickle.dumps(service.crosstab(session.dataset(), q, "count", CFG.rules), protocol=5)) for q in VIEWS]
    calls.clear()
    # a fresh storage for _crosstab with room for two entries (an entry is its pickle and a little more)
    monkeypatch.setattr(session._crosstab._info, "max_size_bytes", int(2.6 * max(sizes)))
    first, second, third = VIEWS
    for q in (first, second, first, third, first):
        session.crosstab(q, "count")
    assert calls == [first, second, third]  # the first found twice
    session.crosstab(second, "count")
    assert calls == [first, second, third, second]  # the second was dropped


def test_two_views_never_share_an_entry(counted):
    """What the protected table depends on (the question, the measure, the rules) is in its key: a view that differs
    in any of them is worked out for itself, not handed another view's protected result."""
    calls, rules = counted
    query = VIEWS[0]
    a = session.crosstab(query, "count")
    b = session.crosstab(query, "row_pct")
    stricter = CFG.rules.threshold + 5
    rules["now"] = dataclasses.replace(CFG.rules, threshold=stricter, min_base=max(stricter, CFG.rules.min_base))
    c = session.crosstab(query, "count")
    d = session.crosstab(VIEWS[1], "count")
    assert len(calls) == 4
    assert (a.measure, b.measure) == ("count", "row_pct")
    assert (a.rules, c.rules) == (CFG.rules, rules["now"])
    assert d.query == VIEWS[1]
    rules["now"] = CFG.rules
    assert session._content(session.crosstab(query, "count")) == session._content(a)
    assert len(calls) == 4  # and each is found again under its own key


def test_a_hit_is_a_copy_of_its_own(counted):
    """Each run gets its own copy from the cache: what one session's page does to its table cannot reach another's."""
    calls, _ = counted
    first = session.crosstab(VIEWS[0], "count")
    expected = first.cells.copy()
    first.cells["count"] = -1
    first.summary["spoiled"] = True
    again = session.crosstab(VIEWS[0], "count")
    assert len(calls) == 1
    assert again.cells.equals(expected) and "spoiled" not in again.summary


FREED = """
import ctypes, sys
from rcs_viz.ui import memory
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype, libc.free.argtypes = ctypes.c_void_p, [ctypes.c_void_p]
def resident():
    return int(open("/proc/self/statm").read().split()[1]) * 4096
blocks = [libc.malloc(64 << 10) for _ in range(3200)]  # 200 MB in blocks a heap hands out, each written to
for b in blocks:
    ctypes.memset(b, 1, 64 << 10)
for i, b in enumerate(blocks):
    if i % 16:  # freed, between blocks still in use: the heap keeps them
        libc.free(b)
before = resident()
if sys.argv[1] == "hand back":
    assert memory.hand_back()
print(before - resident())
"""


def test_memory_freed_between_blocks_in_use_goes_back_to_the_system_when_handed_back(root):
    """What page runs free between blocks still in use stays with glibc's heap until `memory.hand_back`, which the
    server does every few seconds (`memory.start`, from its lifespan)."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim  # noqa: B018 - glibc, or skip
    except (OSError, AttributeError):
        pytest.skip("not glibc")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}

    def freed(how: str) -> int:
        out = subprocess.run([sys.executable, "-c", FREED, how], cwd=root, env=env, capture_output=True, text=True,
                             check=True)
        return int(out.stdout.split()[-1])

    assert freed("keep") < 10 << 20  # by glibc's default, nothing goes back
    assert freed("hand back") > 150 << 20


def test_the_server_hands_memory_back_from_a_thread_of_its_own():
    script = "from rcs_viz.ui import memory; import threading; memory.start(); memory.start(); " \
             "print(sum(t.name == memory.THREAD for t in threading.enumerate()))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.split()[-1] == "1"
