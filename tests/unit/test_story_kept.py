"""Stories kept in the server store: read back exactly, by their id, by a second server process, owner by owner."""

import subprocess
import sys

import pytest

from rcs_viz.engine.store import Store
from rcs_viz.features.story import kept, model as sv
from rcs_viz.features.story.model import SavedView

PAGES = ("", "explore", "compare", "need")
EXPLORE = SavedView("Deprivation by sex", "explore", (("rows", ("simd",)), ("cols", ("sex",))))
SPINE = SavedView("Cluster spine", "compare", (("view", ("spine",)), ("unit", ("102",))),
                  title="Dunyarrow at a glance", note="Green is better.\n<b>not bold</b>")
ME, YOU = "m" * 22, "y" * 22


@pytest.fixture
def store(tmp_path):
    opened = Store.open(None, tmp_path / "store.sqlite")
    yield opened
    opened.close()


def test_a_story_reads_back_exactly_in_its_order(store):
    sid = kept.new_id()
    kept.keep(store, sid, ME, (EXPLORE, SPINE))
    assert kept.load(store, sid, PAGES) == (EXPLORE, SPINE)  # "rows" before "cols", as the link had them
    assert kept.latest(store, ME, PAGES) == (sid, (EXPLORE, SPINE))


def test_ids_are_unguessable_and_only_their_shape_reaches_the_store(store):
    ids = {kept.new_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(kept.valid_id(i) and len(i) >= 22 for i in ids)
    for bad in ("", "short", "x" * 65, "../../etc/passwd0000000", "<b>xxxxxxxxxxxxxxxxxx</b>", None, 7):
        assert not kept.valid_id(bad)
        assert kept.load(store, bad, PAGES) is None
        assert kept.owned(store, bad) == []


def test_each_owner_finds_their_own_latest_story(store):
    first, second, yours = kept.new_id(), kept.new_id(), kept.new_id()
    kept.keep(store, first, ME, (EXPLORE,))
    kept.keep(store, yours, YOU, (SPINE,))
    kept.keep(store, second, ME, (SPINE, EXPLORE))
    assert kept.latest(store, ME, PAGES) == (second, (SPINE, EXPLORE))
    assert kept.latest(store, YOU, PAGES) == (yours, (SPINE,))
    assert kept.owns(store, ME, first) and not kept.owns(store, YOU, first)
    assert kept.latest(store, "n" * 22, PAGES) == (None, ())


def test_a_story_whose_page_has_gone_is_refused_in_words(store):
    sid = kept.new_id()
    kept.keep(store, sid, ME, (EXPLORE,))
    with pytest.raises(sv.SavedViewsError, match="page this app does not have"):
        kept.load(store, sid, ("", "compare"))


def test_a_second_server_process_sees_a_story_and_its_changes(tmp_path, store):
    sid = kept.new_id()
    kept.keep(store, sid, ME, (EXPLORE, SPINE))
    script = f"""
import sys
from pathlib import Path
from rcs_viz.engine.store import Store
from rcs_viz.features.story import kept
from rcs_viz.features.story.model import SavedView
store = Store.open(None, Path({str(tmp_path / "store.sqlite")!r}))
views = kept.load(store, {sid!r}, {PAGES!r})
print(len(views), views[1].title)
kept.keep(store, {sid!r}, {ME!r}, views[:1])
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[0] == "2 Dunyarrow at a glance"
    assert kept.load(store, sid, PAGES) == (EXPLORE,)  # what the other process wrote
