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
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype, libc.malloc.restype, libc.free.argtypes = Info, ctypes.c_void_p, [ctypes.c_void_p]
if sys.argv[1] == "session":
    import rcs_viz.ui.session
libc.free(libc.malloc(8 << 20))  # glibc's own rule: blocks up to 8 MB now come from its heaps, where they stay when freed
mapped = libc.mallinfo2().hblkhd
block = libc.malloc(1 << 20)
print(libc.mallinfo2().hblkhd - mapped)
libc.free(block)
"""


def test_a_freed_big_block_goes_back_to_the_system_once_the_session_module_is_imported(root):
    """A megabyte block (a big table's pickle) is mapped on its own, so freeing it hands it back, even after a bigger
    block was freed, which by glibc's default makes later blocks come from a heap that keeps them."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").mallinfo2  # noqa: B018 - glibc 2.33 or later, or skip
    except (OSError, AttributeError):
        pytest.skip("not glibc")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}

    def mapped(how: str) -> int:
        out = subprocess.run([sys.executable, "-c", FREED, how], cwd=root, env=env, capture_output=True, text=True,
                             check=True)
        return int(out.stdout.split()[-1])

    assert mapped("plain") == 0  # the default the session module changes
    assert mapped("session") >= 1 << 20
