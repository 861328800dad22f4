"""Compare page via AppTest: each view from its link, showing exactly the engine's protected figures."""

import pandas as pd
import pytest
from grids import as_drawn, shown_text
from comparing import COMPS, CFG, ind

from rcs_viz.features.compare import model as compare, tables as compare_tables
from rcs_viz.features.compare.model import Scope

PAGE = "compare.py"
TIMEOUT = 90


def shown(at) -> pd.DataFrame:
    return shown_text(at.dataframe[0])  # as a reader sees it


def test_default_view_ranks_the_clusters_of_the_first_cpp(ds, run):
    at = run({})
    first = compare.indicators(ds.dictionary)
    name = next(i for i in first if i.statistic == "pct").name
    want = compare.rank(ds, ind(ds, name), "cluster", Scope("1", None, "2019"), "cpp", CFG.rules, COMPS)
    pd.testing.assert_frame_equal(shown(at), as_drawn(compare_tables.display(want)))
    assert "against the CPP average" in at.subheader[0].value
    assert not at.warning


def test_rank_of_schools_within_a_cluster_lists_protected_schools_without_values(ds, run):
    at = run({"level": "school", "cluster": "101", "ind": "bullied"})
    want = compare.rank(ds, ind(ds, "bullied"), "school", Scope("1", "101", "2019"), "cpp", CFG.rules, COMPS)
    table = shown(at)
    pd.testing.assert_frame_equal(table, as_drawn(compare_tables.display(want)))
    hidden = want.protected
    assert hidden, "the sample's small schools should be protected"
    for label in hidden:
        row = table[table["School"] == label].iloc[0]
        assert row["95% CI"] == "" and row["Verdict"] == "not compared" and row["Not shown"] in ("[c]", "[b]")
    assert any("Not drawn" in c.value and hidden[0] in c.value for c in at.caption)


def test_rank_against_the_previous_wave_and_the_nation(ds, run):
    at = run({"vs": "previous", "ind": "alcohol_last_week", "f.stage": ["6", "7", "8"]})
    want = compare.rank(ds, ind(ds, "alcohol_last_week"), "cluster",
                        Scope("1", None, "2019", (("stage", ("6", "7", "8")),)), "previous", CFG.rules, COMPS)
    pd.testing.assert_frame_equal(shown(at), as_drawn(compare_tables.display(want)))
    at = run({"vs": "national", "ind": "sdq_total_band"})
    want = compare.rank(ds, ind(ds, "sdq_total_band"), "cluster", Scope("1", None, "2019"), "national",
                        CFG.rules, COMPS)
    assert want.comparator_value == pytest.approx(10.8)
    pd.testing.assert_frame_equal(shown(at), as_drawn(compare_tables.display(want)))


def test_spine_of_a_cluster_shows_every_indicator_and_links_to_rank_charts(ds, run):
    at = run({"view": "spine", "unit": "102"})
    want = compare.spine(ds, "cluster", "102", Scope("1", None, "2019"), "cpp", CFG.rules, COMPS)
    pd.testing.assert_frame_equal(shown(at), as_drawn(compare_tables.display(want)))
    links = [b for b in at.button if b.key and b.key.startswith("open_")]
    assert len(links) == len(compare.indicators(ds.dictionary))
    next(b for b in links if b.key == "open_bullied").click().run()
    assert "view" not in at.query_params and at.query_params["ind"] == "bullied"  # rank is the default view
    assert at.query_params["unit"] == "102"  # the rest of the state travels with the click
    assert at.subheader[0].value.startswith("Bullied")


def test_trend_gradient_and_map_views(ds, run):
    at = run({"view": "trend", "unit": "103", "ind": "wemwbs", "f.stage": ["5", "6", "7", "8"]})
    scope = Scope("1", None, "2019", (("stage", ("5", "6", "7", "8")),))
    want = compare.trend(ds, ind(ds, "wemwbs"), "cluster", "103", scope, CFG.rules, COMPS)
    pd.testing.assert_frame_equal(shown(at), as_drawn(compare_tables.display(want)))
    assert set(want.series["series"]) == {"Cairnnessock cluster", "Glenvarrow (CPP)", "National"}  # S1–S4 = all secondary

    at = run({"view": "gradient", "ind": "sdq_total_band", "cpp": "2"})
    want = compare.gradient(ds, ind(ds, "sdq_total_band"), Scope("2", None, "2019"), CFG.rules)
    pd.testing.assert_frame_equal(shown(at), as_drawn(compare_tables.display(want)))
    assert any("Gap" in m.value for m in at.markdown)

    at = run({"view": "map", "cluster": "101"})
    assert at.get("deck_gl_json_chart"), "the map is drawn"
    want = compare.school_map(ds, ind(ds, "sdq_total_band"), Scope("1", "101", "2019"), CFG.rules)
    pd.testing.assert_frame_equal(shown(at), as_drawn(compare_tables.display(want)))


def test_a_filter_leaving_too_few_respondents_protects_every_unit(ds, run):
    at = run({"level": "school", "f.sex": ["3"], "f.stage": ["1"]})
    table = shown(at)
    assert (table["Verdict"] == "not compared").all()
    assert table["Not shown"].isin(["[c]", "[b]"]).all() and table.iloc[:, 3].eq("").all()


def test_a_report_pack_of_the_unit_in_view_or_its_cpp_is_offered(run):
    at = run({"view": "spine", "level": "school", "unit": "10101"})
    radio = at.radio(key="c_report_kind")
    assert len(radio.options) == 2 and "(the CPP)" in radio.options[1]
    assert "Monmordie High School" in radio.options[0]
    at = run({"view": "spine", "present": "1"})
    assert not at.radio


@pytest.mark.parametrize("present", [False, True])
def test_the_base_stated_is_the_base_of_what_is_drawn(ds, run, present, plain):
    from rcs_viz.engine import service

    mode = {"present": "1"} if present else {}
    rules = service.Rules() if present else CFG.rules  # presenting forces full protection
    everyone = service.bases(ds, (), rules)[0].count
    at = run({"cpp": "1", "wave": "2019", **mode})
    in_view = service.bases(ds, (("cpp", ("1",)), ("wave", ("2019",))), rules)[-1].count
    said = plain(" ".join([*(c.value for c in at.caption), *(m.value for m in at.markdown)]))
    assert f"{in_view:,} respondents" in said and in_view < everyone
    assert f"{everyone:,} respondents" not in said
    assert "Survey wave: 2019" in said

    at = run({"cpp": "1", "wave": "2019", "f.sex": "2", **mode})  # with a filter: within the CPP and wave too
    filtered = service.bases(ds, (("cpp", ("1",)), ("wave", ("2019",)), ("sex", ("2",))), rules)[-1].count
    said = plain(" ".join([*(c.value for c in at.caption), *(m.value for m in at.markdown),
                           *(b.label for b in at.button)]))
    assert f"{filtered:,} respondents" in said

    trend = run({"view": "trend", "cpp": "1", "wave": "2019", **mode})  # a trend draws every wave
    all_waves = service.bases(ds, (("cpp", ("1",)),), rules)[-1].count
    said = plain(" ".join([*(c.value for c in trend.caption), *(m.value for m in trend.markdown)]))
    assert f"{all_waves:,} respondents" in said
