"""Compare's funnel view and the gradient's inequality measures via AppTest: the engine's figures, at a desk and
presenting, and a planted small school whose true rate is nowhere on the page."""

import pandas as pd
import pytest
from comparing import COMPS, CFG, charts, ind, said
from grids import as_drawn, shown_text

from rcs_viz.engine import service
from rcs_viz.features.compare import funnel as funnel_mod, model as compare, tables as compare_tables
from rcs_viz.features.compare.model import Scope
from tests import fairdata

PAGE = "compare.py"
TIMEOUT = 90


def test_the_funnel_shows_the_engines_figures_and_names_the_units_outside(ds, run):
    at = run({"view": "funnel", "level": "school", "cluster": "101", "ind": "bullied"})
    want = funnel_mod.funnel(ds, ind(ds, "bullied"), "school", Scope("1", "101", "2019"), "cpp", CFG.rules, COMPS)
    pd.testing.assert_frame_equal(shown_text(at.dataframe[0]), as_drawn(compare_tables.display(want)))
    assert len(want.outside) and len(want.protected)
    text = said(at)
    for verdict, group in want.outside.groupby("verdict"):
        assert f"Outside the limits, {verdict}: {', '.join(group['label'])}" in text
    assert any("Not drawn" in c.value and want.protected[0] in c.value for c in at.caption)
    assert "PHEindicatormethods" in text  # the method, in words, under the chart
    (spec, frames), = charts(at)
    points = next(f for f in frames if "unit" in f.columns)
    assert sorted(points["unit"]) == sorted(want.drawn["label"])  # drawn: exactly the shown units


def test_the_gradient_shows_the_inequality_measures(ds, run):
    at = run({"view": "gradient", "ind": "sdq_total_band", "cpp": "2"})
    g = compare.gradient(ds, ind(ds, "sdq_total_band"), Scope("2", None, "2019"), CFG.rules)
    assert g.inequality.given
    pd.testing.assert_frame_equal(shown_text(at.dataframe[1]), as_drawn(compare_tables.measures(g)))
    assert "SII" in said(at) and "phe_sii" in said(at)


def test_measures_withheld_with_the_reason_when_a_quintile_is_protected(ds, run):
    at = run({"view": "gradient", "ind": "sdq_total_band", "cluster": "101"})
    g = compare.gradient(ds, ind(ds, "sdq_total_band"), Scope("1", "101", "2019"), CFG.rules)
    assert not g.inequality.given
    assert any("not given" in i.value for i in at.info)
    assert len(at.dataframe) == 1  # the quintiles only


def test_presenting_the_funnel_and_the_measures_is_plain_large_tables(ds, run):
    at = run({"view": "funnel", "present": "1"})
    assert at.table and not at.dataframe
    want = funnel_mod.funnel(ds, ind(ds, "sdq_total_band"), "cluster", Scope("1", None, "2019"), "cpp",
                             service.Rules(), COMPS)  # presenting: full protection
    shown = at.table[0].value
    assert list(shown.index) == list(want.units["label"])
    at = run({"view": "gradient", "ind": "sdq_total_band", "cpp": "2", "present": "1"})
    assert len(at.table) == 2 and "SII (slope index of inequality)" in said(at)


def test_a_tampered_view_is_reset_with_a_note(run):
    at = run({"view": "funnels"})
    assert any("not a Compare view" in w.value for w in at.warning)


@pytest.mark.parametrize("link", [
    {"view": "funnel", "level": "school"},
    {"view": "funnel", "level": "school", "present": "1"},
    {"view": "rank", "level": "school"},
    {"view": "gradient", "cluster": "2"},
])
def test_a_planted_small_school_is_listed_and_its_true_rate_is_nowhere_on_the_page(planted, run, link):
    at = run({"ind": "bully", **link})
    text = said(at)
    assert not fairdata.leaks(text), fairdata.leaks(text)
    if link["view"] != "gradient":
        assert fairdata.PLANTED_LABEL in text  # listed, as protected
        for _, frames in charts(at):
            assert all(fairdata.PLANTED_LABEL not in set(f.get("unit", ())) for f in frames), "drawn"
