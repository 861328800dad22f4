"""Compare's similar-pupil and neighbours views via AppTest: the engine's figures on the page, link round-trips,
and the planted small school listed with its true rate nowhere on the page."""

import pandas as pd
import pytest
from comparing import COMPS, CFG, ind, said
from grids import as_drawn, shown_text

from rcs_viz.features.compare import neighbours as nb, similar, state, tables as compare_tables
from rcs_viz.features.compare.model import Scope
from rcs_viz.engine import service
from tests import fairdata

PAGE = "compare.py"
TIMEOUT = 90


def test_the_similar_view_shows_the_engines_ratios(ds, run):
    at = run({"view": "similar", "level": "school", "cluster": "101", "ind": "bullied"})
    want = similar.similar(ds, ind(ds, "bullied"), "school", Scope("1", "101", "2019"), "cpp", CFG.rules)
    pd.testing.assert_frame_equal(shown_text(at.dataframe[0]), as_drawn(compare_tables.display(want)))
    text = said(at)
    assert "calculate_ISRatio" in text and "never shown" in text


def test_the_neighbours_view_shows_the_profile_and_the_average(ds, run):
    at = run({"view": "neighbours", "unit": "103", "ind": "bullied"})
    want = nb.neighbours(ds, ind(ds, "bullied"), "cluster", "103", Scope("1", None, "2019"), CFG.rules, COMPS)
    frames = [shown_text(d) for d in at.dataframe]
    assert any(f.equals(as_drawn(compare_tables.neighbour_profile(want))) for f in frames)
    assert any(f.equals(as_drawn(compare_tables.comparisons(want))) for f in frames)
    assert "not a league table" in said(at)


@pytest.mark.parametrize("params", [
    {"view": "similar", "level": "school", "cluster": "101", "ref": "all"},
    {"view": "neighbours", "level": "cpp", "cpp": "2"},
    {"view": "neighbours", "unit": "104"},
    {"view": "rank", "vs": "neighbours"},
])
def test_links_round_trip(ds, params):
    codes = lambda name, within=(): service.categories(ds, name, within)  # noqa: E731
    view, notes = state.parse({k: [v] for k, v in params.items()}, ds.dictionary, codes)
    assert not notes
    again = state.to_params(view, state.default_view(ds.dictionary, codes))
    assert state.parse({k: [v] if isinstance(v, str) else v for k, v in again.items()}, ds.dictionary, codes)[0] == view
    assert all(again.get(k) == v for k, v in params.items() if (k, v) not in (("cpp", "1"), ("view", "rank")))


def test_a_school_level_link_to_neighbours_is_reset_with_a_note(ds):
    codes = lambda name, within=(): service.categories(ds, name, within)  # noqa: E731
    view, notes = state.parse({"view": ["neighbours"], "level": ["school"]}, ds.dictionary, codes)
    assert view.level == "cluster" and notes


@pytest.mark.parametrize("link", [
    {"view": "similar", "level": "school"},
    {"view": "similar", "level": "school", "present": "1"},
])
def test_a_planted_small_school_is_listed_and_its_true_rate_is_nowhere_on_the_page(planted, run, link):
    at = run({"ind": "bully", **link})
    text = said(at)
    table = (shown_text(at.dataframe[0]) if at.dataframe else at.table[0].value.reset_index()).astype(str)
    table = table.apply(lambda c: c.str.replace("\\", "", regex=False))  # a presented table is escaped Markdown
    planted = table[table.iloc[:, 0].eq(fairdata.PLANTED_LABEL)]
    assert len(planted) == 1  # listed, with no figure: blank in a grid beside its marker, or the marker as text
    if at.dataframe:
        assert planted.iloc[0]["Not shown"] == "[c]" and set(planted.iloc[0, 3:6]) == {""}
    else:
        assert set(planted.iloc[0, 2:5]) == {"[c]"}
    # other schools' ratios are written to 2 places and may read like 0.86: those shown figures are theirs
    theirs = set(fairdata.NUMBER.findall(" ".join(table[~table.iloc[:, 0].eq(fairdata.PLANTED_LABEL)]
                                                  .to_numpy().ravel())))
    assert not [t for t in fairdata.leaks(text) if t not in theirs], fairdata.leaks(text)
    assert fairdata.PLANTED_LABEL in text
