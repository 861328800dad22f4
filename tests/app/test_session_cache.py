"""The session's caches (rcs_viz.ui.session): a view seen again finds what was drawn for it."""

from rcs_viz import config
from rcs_viz.engine.sql.views import CrossTab
from rcs_viz.ui import session

CFG = config.load()


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
