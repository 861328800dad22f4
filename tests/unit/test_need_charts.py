"""Need and services charts draw only what the library lets be seen, with their whole height for Streamlit."""

import json

import numpy as np
import pandas as pd
import pytest

from rcs_viz import config
from rcs_viz.output import figures
from rcs_viz.features.need import charts as ncharts, model as need, services as services_map, whatif
from rcs_viz.features.need.model import Definition
from rcs_viz.engine.sql.views import NO, YES

CFG = config.load()
RULES = CFG.rules
SDQ = Definition((("sdq_total_band", ("3",)),))
SW = Definition((("sw_contact", ("1",)),))


@pytest.fixture(scope="module")
def by_cluster(sample_dataset):
    return need.fit(sample_dataset, SDQ, SW, "cluster", (("wave", ("2019",)),), RULES)


@pytest.fixture(scope="module")
def services():
    return services_map.load_services(CFG.services).table


def rows(spec: dict) -> list[dict]:
    return [row for data in spec.get("datasets", {}).values() for row in data]


def small_table() -> pd.DataFrame:
    """Two CPPs; one has a specialist tier of 4 children, which must stay protected."""
    text = ("service_id,cpp,name,tier,children_served,annual_spend_gbp\n"
            "A1,Ayr,Sport,Universal,500,50000\nA2,Ayr,Family help,Early help,80,90000\n"
            "A3,Ayr,Youth work,Intensive,40,120000\nA4,Ayr,Crisis,Specialist,4,200000\n"
            "B1,Bute,Sport,Universal,300,30000\nB2,Bute,Family help,Early help,50,60000\n"
            "B3,Bute,Youth work,Intensive,30,90000\nB4,Bute,Care,Specialist,20,400000\n")
    return services_map.load_services(text.encode(), "small.csv").table


# --------------------------------------------------------------------------- need against contact


def test_fit_chart_draws_each_shown_category_at_the_librarys_percentages(by_cluster):
    data, missing = ncharts.fit_data(by_cluster, "need")
    b = by_cluster.breakdown
    hidden = list(b.loc[b["unmet_pct"].isna(), "label"])
    assert hidden, "the sample's small clusters make this test bite"
    assert missing == hidden
    assert list(dict.fromkeys(data["group"])) == [x for x in b["label"] if x not in hidden]
    c = by_cluster.cells
    for group, part in data.groupby("group", sort=False):
        mine = c[c["by"].isna()] if group == "All" else c[c["by_label"].eq(group) & c["by"].notna()]
        want = [mine.loc[mine["need"].eq(YES) & mine["contact"].eq(k), "row_pct"].iloc[0] for k in (YES, NO)]
        np.testing.assert_allclose(part.sort_values("order")["pct"], want)
    unmet = data[data["highlight"]].set_index("group")["pct"]
    np.testing.assert_allclose(unmet.loc[[x for x in b["label"] if x not in hidden]],
                               b.loc[~b["label"].isin(hidden), "unmet_pct"])


def test_fit_chart_never_puts_a_protected_category_in_the_spec(by_cluster):
    chart = ncharts.fit_chart(by_cluster, "need", synthetic=True)
    spec = chart.to_dict()
    groups = {row["group"] for row in rows(spec)}
    for label in ncharts.fit_data(by_cluster)[1]:
        assert label not in groups
    assert isinstance(chart.usermeta["height"], int) and chart.usermeta["height"] > 400
    subtitle = spec["title"]["subtitle"]
    assert "Need: SDQ total difficulties band is Abnormal" in subtitle
    assert ncharts.SYNTHETIC_LINE in subtitle
    assert any(s.startswith("Not drawn") and "Ardgarrow" in s for s in subtitle)


def test_fit_chart_of_contact_uses_the_share_of_those_with_contact(by_cluster):
    data, _ = ncharts.fit_data(by_cluster, "contact")
    overall = data[data["group"].eq("All")].sort_values("order")
    want = by_cluster.square(value="col_pct").loc[["With the need", "Without the need"], "Contact"]
    np.testing.assert_allclose(overall["pct"], want)
    assert overall["highlight"].tolist() == [False, True]
    with pytest.raises(ValueError):
        ncharts.fit_data(by_cluster, "sideways")


def test_fit_chart_without_a_breakdown_has_one_bar(sample_dataset):
    fit = need.fit(sample_dataset, SDQ, SW, None, (), RULES)
    data, missing = ncharts.fit_data(fit)
    assert set(data["group"]) == {"All"} and not missing
    assert "By " not in " ".join(ncharts.fit_chart(fit).to_dict()["title"]["subtitle"])


# --------------------------------------------------------------------------- services map


def test_spend_chart_holds_spend_by_tier_and_sector_and_no_children(services):
    ts = services_map.by_tier_sector(services, "Glenvarrow", RULES.threshold)
    spec = ncharts.spend_chart(ts, "Glenvarrow", synthetic=True).to_dict()
    data = pd.DataFrame(rows(spec))
    inner = ts[ts["tier"].ne(services_map.ALL_TIERS) & ts["sector"].ne(services_map.ALL_SECTORS)]
    assert data["spend_m"].sum() == pytest.approx(inner["annual_spend_gbp"].sum() / 1e6)
    assert not {"children_served", "spend_per_child"} & set(data.columns)
    assert ncharts.SYNTHETIC_LINE in spec["title"]["subtitle"]


def test_per_child_chart_leaves_out_a_tier_whose_count_is_protected():
    t = small_table()
    tiers = services_map.by_tier(t, "Ayr", 10)
    assert tiers.set_index("tier").at["Specialist / crisis", "marker"] == services_map.SUPPRESSED
    chart = ncharts.per_child_chart(tiers, "Ayr")
    text = chart.to_json()
    data = pd.DataFrame(rows(json.loads(text)))
    assert "Specialist / crisis" not in set(data["tier"])
    assert "£50,000" not in text  # 200,000 / 4: the protected count could be worked back from it
    hidden = list(tiers.loc[tiers["marker"].eq(services_map.SUPPRESSED), "tier"])  # and its partner
    # the subtitle is wrapped into lines that fit the narrowest column
    assert f"Not drawn (children served is protected or zero): {', '.join(hidden)}." in " ".join(
        json.loads(text)["title"]["subtitle"])
    shown = tiers[tiers["spend_per_child"].notna() & tiers["tier"].ne(services_map.ALL_TIERS)]
    np.testing.assert_allclose(data.set_index("tier").loc[shown["tier"], "per_child"], shown["spend_per_child"])


# --------------------------------------------------------------------------- the what-if


def test_whatif_chart_draws_reach_before_and_after_from_the_scenario(services):
    sc = whatif.shift_upstream(services_map.by_tier(services, None, RULES.threshold), "Specialist / crisis",
                               "Early help / targeted", 10)
    chart = ncharts.whatif_chart(sc, "All partnerships", synthetic=True)
    data = pd.DataFrame(rows(chart.to_dict()))
    table = sc.table.set_index("tier")
    for r in data.itertuples():
        column = "reach_before" if r.when == ncharts.BEFORE else "reach_after"
        assert r.reach == pytest.approx(table.at[r.tier, column])
    after = data[data["when"].eq(ncharts.AFTER)].set_index("tier")
    assert after.at["Early help / targeted", "label"].endswith(f"(+{sc.reach_gained:,.0f})")
    assert after.at["Universal", "change_text"] == ""
    subtitle = chart.to_dict()["title"]["subtitle"]
    assert any("A scenario, not a forecast" in s for s in subtitle)
    assert chart.usermeta["height"] > 4 * 52


def test_whatif_on_screen_is_a_heading_then_one_chart_per_tier_each_as_wide_as_its_column(services):
    sc = whatif.shift_upstream(services_map.by_tier(services, None, RULES.threshold), "Specialist / crisis",
                               "Early help / targeted", 10)
    head, *panels = [c.to_dict() for c in ncharts.whatif_on_screen(sc, "All partnerships", synthetic=True)]
    figure = pd.DataFrame(rows(ncharts.whatif_chart(sc).to_dict()))
    assert "A scenario, not a forecast" in " ".join(head["title"]["subtitle"])  # wrapped into lines
    assert head["encoding"]["color"]["legend"] is not None  # the legend once, above every panel
    assert [figures.title_of(p) for p in panels] == list(dict.fromkeys(figure["tier"]))
    for p in [head, *panels]:
        assert p["width"] == "container" and p["autosize"]["type"] == "fit-x"
    for p in panels:  # each panel draws its own tier's figures, the same as the exported figure
        mine = pd.DataFrame(rows(p))
        assert set(mine["tier"]) == {figures.title_of(p)}
        theirs = figure[figure["tier"].isin(set(mine["tier"]))]
        assert sorted(mine["reach"]) == pytest.approx(sorted(theirs["reach"]))
        assert all(layer["encoding"].get("color", {}).get("legend", "none") is None
                   for layer in p["layer"] if "color" in layer.get("encoding", {}))


def test_whatif_chart_leaves_out_a_tier_without_a_cost_per_child():
    t = small_table()
    tiers = services_map.by_tier(t, "Ayr", 10)
    sc = whatif.shift_upstream(tiers, "Early help / targeted", "Universal", 50)
    data, missing = ncharts.whatif_data(sc)
    assert missing == list(tiers.loc[tiers["marker"].eq(services_map.SUPPRESSED), "tier"])
    assert "Specialist / crisis" in missing
    assert "Specialist / crisis" not in set(data["tier"])
    assert any("Specialist / crisis" in s for s in ncharts.whatif_chart(sc).to_dict()["title"]["subtitle"])


def test_charts_export_as_png_and_svg(by_cluster, services):
    sc = whatif.shift_upstream(services_map.by_tier(services, None, RULES.threshold), "Intensive", "Universal", 20)
    for chart in (ncharts.fit_chart(by_cluster), ncharts.whatif_chart(sc)):
        assert figures.to_png(chart)[:8] == b"\x89PNG\r\n\x1a\n"
        assert figures.to_svg(chart).lstrip().startswith("<svg")
