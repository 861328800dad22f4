"""Compare charts draw only what the compare engine lets be seen, in fixed verdict colours, offline."""

import json
import re

import numpy as np
import pandas as pd
import pytest
import vl_convert as vlc

from rcs_viz import config
from rcs_viz.output import figures
from rcs_viz.features.compare import model as compare
from rcs_viz.features.compare import charts as cc


@pytest.fixture(scope="module")
def env(sample_dataset, sample_comparators):
    ds = sample_dataset
    rules = config.load().rules
    comps = sample_comparators
    inds = {i.name: i for i in compare.indicators(ds.dictionary)}
    return ds, rules, comps, inds, compare.Scope(cpp="1", wave="2019")


@pytest.fixture(scope="module")
def ranks(env):
    ds, rules, comps, inds, scope = env
    band = inds["sdq_total_band"]
    return {
        "cluster_cpp": compare.rank(ds, band, "cluster", scope, "cpp", rules, comps),
        "school_cpp": compare.rank(ds, band, "school", scope, "cpp", rules, comps),
        "school_previous": compare.rank(ds, band, "school", scope, "previous", rules, comps),
        "school_national_mean": compare.rank(ds, inds["sdq_prosocial"], "school", scope, "national", rules, comps),
        "cluster_neutral": compare.rank(ds, inds["fsm"], "cluster", scope, "cpp", rules, comps),
    }


@pytest.fixture(scope="module")
def spine(env):
    ds, rules, comps, inds, scope = env
    return compare.spine(ds, "cluster", "101", scope, "national", rules, comps)


@pytest.fixture(scope="module")
def school_map(env):
    ds, rules, comps, inds, scope = env
    return compare.school_map(ds, inds["sdq_total_band"], scope, rules)


def rows(spec: dict) -> list[dict]:
    return [row for data in spec.get("datasets", {}).values() for row in data]


def colour_scales(spec) -> list[dict]:
    """Every colour scale on a `verdict` field anywhere in the spec."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            enc = node.get("encoding", {})
            col = enc.get("color") if isinstance(enc, dict) else None
            if isinstance(col, dict) and col.get("field") == "verdict":
                found.append(col["scale"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(spec)
    return found


# --------------------------------------------------------------------------- rank


def test_rank_draws_every_shown_unit_and_no_protected_one(ranks):
    for name, r in ranks.items():
        text = cc.rank_chart(r).to_json()
        spec = json.loads(text)
        units = [row["unit"] for row in rows(spec) if "unit" in row]
        assert units == list(r.drawn["label"]), name
        assert r.drawn["value"].notna().all()
        if name.startswith("school"):
            assert r.protected, f"{name}: the sample should protect some schools"
        for label in r.protected:
            assert label not in text, f"{name}: protected {label!r} is in the chart spec"


def test_previous_wave_ticks_come_only_from_drawn_units(ranks):
    r = ranks["school_previous"]
    assert r.comparator_value is None
    hidden_before = r.units.loc[r.units["value"].isna(), "comparator"].dropna()
    assert len(hidden_before), "a protected school with a visible previous value makes this test bite"
    data = pd.DataFrame([row for row in rows(cc.rank_chart(r).to_dict()) if "unit" in row])
    drawn_before = r.drawn["comparator"].astype(float).to_numpy()
    np.testing.assert_array_equal(data["comparator"].astype(float).to_numpy(), drawn_before)
    for v in set(hidden_before) - set(r.drawn["comparator"].dropna()):
        assert not np.isclose(data["comparator"].astype(float), v).any()


def test_rank_rule_sits_at_the_comparator_value_and_says_so(ranks):
    for name in ("cluster_cpp", "school_national_mean"):
        r = ranks[name]
        assert r.comparator_value is not None
        spec = cc.rank_chart(r).to_dict()
        rule = [row for row in rows(spec) if set(row) == {"comparator", "label"}]
        assert len(rule) == 1
        assert rule[0]["comparator"] == pytest.approx(r.comparator_value)
        assert rule[0]["label"].startswith(r.comparator_label)
    r = ranks["cluster_cpp"]
    rule = [row for row in rows(cc.rank_chart(r).to_dict()) if set(row) == {"comparator", "label"}][0]
    assert rule["label"] == f"CPP average {r.comparator_value:.1f}%"


def test_no_rule_when_the_comparator_is_unavailable(env):
    ds, rules, comps, inds, scope = env
    filtered = compare.Scope("1", None, "2019", (("sex", ("1",)),))
    r = compare.rank(ds, inds["sdq_total_band"], "cluster", filtered, "national", rules, comps)
    assert r.comparator_value is None
    spec = cc.rank_chart(r).to_dict()
    assert not [row for row in rows(spec) if set(row) == {"comparator", "label"}]
    assert "not compared with a filtered view" in " ".join(spec["title"]["subtitle"])  # wrapped into lines


def test_verdict_colours_are_fixed(ranks, spine):
    polar = dict(zip(*[colour_scales(cc.rank_chart(ranks["cluster_cpp"]).to_dict())[0][k]
                       for k in ("domain", "range")]))
    assert polar == {"better": "#0072B2", "worse": "#D55E00", "no different": "#BBBBBB",
                     "not compared": cc.VERDICT_COLOURS["not compared"]}
    neutral = dict(zip(*[colour_scales(cc.rank_chart(ranks["cluster_neutral"]).to_dict())[0][k]
                         for k in ("domain", "range")]))
    assert neutral["higher"] == "#56B4E9" and neutral["lower"] == "#E69F00" and "better" not in neutral
    for scale in colour_scales(cc.spine_chart(spine).to_dict()):
        for verdict, colour in zip(scale["domain"], scale["range"]):
            assert cc.VERDICT_COLOURS[verdict] == colour
    # colours are the same whatever the data: a chart of only grey units still keys blue to "better"
    assert cc.VERDICT_COLOURS["no different"] == "#BBBBBB"


def test_rank_tooltips_and_layout(ranks):
    r = ranks["cluster_cpp"]
    c = cc.rank_chart(r)
    spec = c.to_dict()
    titles = {t["title"] for layer in spec["layer"] for t in layer.get("encoding", {}).get("tooltip", [])}
    assert {"School cluster", "Value", "95% CI", "Pupils (base)"} <= titles
    row = next(row for row in rows(spec) if "unit" in row)
    assert re.fullmatch(r"\d+\.\d%", row["value_text"]) and re.fullmatch(r"[\d.]+ to [\d.]+", row["ci_text"])
    assert figures.title_of(spec) == r.title
    assert isinstance(c.usermeta["height"], int) and c.usermeta["height"] > 200
    big = cc.rank_chart(r, scale=1.6)
    assert big.to_dict()["config"]["axis"]["labelFontSize"] == pytest.approx(1.6 * spec["config"]["axis"]["labelFontSize"])
    assert big.usermeta["height"] > c.usermeta["height"]


# --------------------------------------------------------------------------- spine


def test_spine_protected_rows_have_no_dot_and_no_value(spine):
    hidden = spine.rows[spine.rows["value"].isna()]
    assert len(hidden), "the sample should protect at least one indicator for this cluster"
    data = {row["indicator"]: row for row in rows(cc.spine_chart(spine).to_dict()) if row.get("indicator")}
    assert set(data) == set(spine.rows["indicator"])
    for ind in hidden["indicator"]:
        row = data[ind]
        assert row["x_value"] is None
        assert row["value_text"] == cc.NA_TEXT and row["ci_text"] == "" and row["base_text"] == ""
        assert row["verdict"] == "not compared"
    for ind in spine.rows.loc[spine.rows["value"].notna(), "indicator"]:
        assert -1e-9 <= data[ind]["x_value"] <= 1 + 1e-9


def test_spine_orients_better_to_the_right_and_guards_flat_ranges(spine):
    base = spine.rows.iloc[[0, 0, 0, 0]].reset_index(drop=True).copy()
    base["indicator"] = ["low_good", "high_good", "flat", "empty"]
    base["polarity"] = ["lower_is_better", "higher_is_better", "higher_is_better", "neutral"]
    base["low"] = [1.0, 1.0, 2.0, np.nan]
    base["high"] = [3.0, 3.0, 2.0, np.nan]
    base["value"] = [1.0, 1.0, 2.0, np.nan]
    base["cpp"] = [2.5, 2.5, 2.0, np.nan]
    made = compare.Spine(spine.unit_label, spine.level_label, spine.comparator, base, spine.context)
    text = cc.spine_chart(made).to_json()
    assert "NaN" not in text and "Infinity" not in text
    data = {row["indicator"]: row for row in rows(json.loads(text)) if row.get("indicator")}
    assert data["low_good"]["x_value"] == 1.0 and data["low_good"]["x_cpp"] == pytest.approx(0.25)
    assert data["high_good"]["x_value"] == 0.0 and data["high_good"]["x_cpp"] == pytest.approx(0.75)
    assert data["flat"]["x_value"] == 0.5 and data["flat"]["x_cpp"] == 0.5
    assert data["empty"]["x_value"] is None and data["empty"]["x0"] is None


def test_spine_can_be_clicked_to_pick_an_indicator(spine):
    c = cc.spine_chart(spine)
    spec = c.to_dict()
    params = [p for p in json.loads(c.to_json()).get("params", [])] + \
        [p for layer in spec["layer"] for p in layer.get("params", [])]
    pick = [p for p in params if p.get("name") == "pick"]
    assert pick and pick[0]["select"]["fields"] == ["indicator"]
    assert spec["usermeta"]["height"] > 600 and figures.title_of(spec).startswith("Monmordie cluster")


def test_spine_fits_its_container_with_each_group_a_heading_row_above_its_indicators(spine):
    spec = cc.spine_chart(spine).to_dict()
    assert spec["width"] == "container" and spec["autosize"]["type"] == "fit-x"  # one view: a facet cannot fit
    order = spec["layer"][0]["encoding"]["y"]["sort"]
    data = rows(spec)
    heads = [r["row"] for r in data if not r.get("indicator")]
    assert heads == list(dict.fromkeys(spine.rows["group"].fillna("Other")))
    for head in heads:  # each heading sits right above the indicators of its group, and only those
        below = order[order.index(head) + 1:]
        mine = [r["row"] for r in data if r.get("indicator") and r["group"] == head]
        assert below[:len(mine)] == mine
    assert all(len(r["row"]) <= figures.SHORT for r in data if r.get("indicator"))  # whole in the tooltip
    assert "bold" in spec["layer"][0]["encoding"]["y"]["axis"]["labelFontWeight"]["expr"]


# --------------------------------------------------------------------------- trend and gradient


def test_trend_has_intervals_except_for_the_nation(env):
    ds, rules, comps, inds, scope = env
    t = compare.trend(ds, inds["sdq_total_band"], "cluster", "101", scope, rules, comps)
    spec = cc.trend_chart(t).to_dict()
    data = pd.DataFrame(rows(spec))
    assert set(data["series"]) == set(t.series["series"])
    nat = data[data["series"].eq("National")]
    assert len(nat) and nat["ci_low"].isna().all()
    assert data.loc[~data["national"], "ci_low"].notna().all()
    assert spec["layer"][0]["encoding"]["x"]["field"] == "wave_label"
    assert any("2016 to 2019" in s for s in spec["title"]["subtitle"])


def test_gradient_is_most_deprived_first_with_intervals(env):
    ds, rules, comps, inds, scope = env
    g = compare.gradient(ds, inds["sdq_total_band"], scope, rules)
    spec = cc.gradient_chart(g).to_dict()
    data = pd.DataFrame(rows(spec))
    assert list(data["group"]) == list(g.groups.loc[g.groups["value"].notna(), "label"])
    assert spec["layer"][0]["encoding"]["x"]["sort"][0].startswith("1 (most deprived)")
    assert (data["ci_low"] <= data["value"]).all() and (data["value"] <= data["ci_high"]).all()
    assert any("Gap" in s for s in spec["title"]["subtitle"])


def test_png_export(ranks, spine, env):
    ds, rules, comps, inds, scope = env
    for figure in (cc.rank_chart(ranks["school_previous"]), cc.spine_chart(spine),
                   cc.gradient_chart(compare.gradient(ds, inds["fsm"], scope, rules))):
        png = figures.to_png(figure)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


# --------------------------------------------------------------------------- school map


def test_deck_requests_no_map_tiles(school_map):
    deck = cc.school_deck(school_map)
    text = deck.to_json()
    spec = json.loads(text)
    # Streamlit swaps a missing or empty mapStyle for a Carto basemap; this sentinel it drops instead.
    assert spec["mapStyle"] == "__MAP_STYLE__"
    assert "mapProvider" not in spec
    assert not re.search(r"https?:|carto|mapbox|tile", text, re.I)
    view = spec["initialViewState"]
    s = school_map.schools
    assert s["lat"].min() <= view["latitude"] <= s["lat"].max()
    assert s["lon"].min() <= view["longitude"] <= s["lon"].max()
    assert 8 <= view["zoom"] <= 15


def test_deck_protected_schools_carry_no_value(school_map):
    spec = json.loads(cc.school_deck(school_map).to_json())
    layers = {layer["id"]: layer for layer in spec["layers"]}
    schools = layers["schools"]["data"]
    assert len(schools) == len(school_map.schools)
    hidden = school_map.schools[school_map.schools["value"].isna()]
    assert len(hidden)
    by_name = {d["name"]: d for d in schools}
    for row in hidden.itertuples():
        d = by_name[row.label]
        assert d["line2"].startswith("protected") and d["line3"] == ""
        assert not re.search(r"\d", d["line2"] + d["line3"])
        assert set(d) == {"name", "line1", "line2", "line3", "lon", "lat", "radius", "fill", "line", "verdict"}
        assert d["radius"] == 5.0 and d["fill"][3] == 0  # one small hollow ring: the base does not size it
    for row in school_map.schools[school_map.schools["value"].notna()].itertuples():
        d = by_name[row.label]
        assert d["fill"][:3] == [int(cc.VERDICT_COLOURS[row.verdict][i:i + 2], 16) for i in (1, 3, 5)]
        assert f"{row.value:.1f}%" in d["line2"]
    assert set(re.findall(r"{(\w+)}", cc.TOOLTIP_HTML)) == {"name", "line1", "line2", "line3"}


def test_deck_outlines_every_cluster(school_map):
    spec = json.loads(cc.school_deck(school_map).to_json())
    hulls = {d["name"]: d for d in next(la for la in spec["layers"] if la["id"] == "clusters")["data"]}
    assert set(hulls) == set(school_map.schools["cluster_label"])
    assert all(len(d["polygon"]) >= 3 and d["line1"] == "School cluster" for d in hulls.values())
    # one school, or two, or a straight line of them, still get an outline
    for lon, lat in (([-4.0], [55.9]), ([-4.0, -4.01], [55.9, 55.91]), ([-4.0, -4.01, -4.02], [55.9, 55.9, 55.9])):
        assert len(cc._hull(np.array(lon), np.array(lat), pad=0.004)) >= 3


def test_deck_labels_are_plain_text(school_map):
    """Streamlit escapes values put into the tooltip template: the data holds the label as written."""
    s = school_map.schools.copy()
    s.loc[0, "label"] = "St Mary's & <b>St Bride's</b>"
    made = compare.SchoolMap(school_map.indicator, school_map.title, s, school_map.comparator_value,
                             school_map.context)
    deck = cc.school_deck(made)
    names = [d["name"] for d in json.loads(deck.to_json())["layers"][1]["data"]]
    assert "St Mary's & <b>St Bride's</b>" in names
    from streamlit.elements.deck_gl_json_chart import _get_pydeck_tooltip

    assert _get_pydeck_tooltip(deck)["html"] == cc.TOOLTIP_HTML  # what st.pydeck_chart sends to the page



def _title_for(expr: str, width: int) -> list[str]:
    """The lines a `figures.by_width` title expression chooses for a container `width` pixels wide."""
    for least, lines in re.findall(r'>= (\d+) \? (\[.*?\]) : ', expr):  # widest first
        if width >= int(least):
            return json.loads(lines)
    return json.loads(expr.rsplit(" : ", 1)[1])


def test_a_long_title_is_wrapped_for_the_width_the_chart_is_drawn_at(ranks):
    """A chart as wide as its container writes its title's lines for the container's width: on a wide chart (a
    projector) long lines, in a narrow column more lines; a file, which has no container, EXPORT_WIDTH's."""
    spec = cc.rank_chart(ranks["school_cpp"], scale=1.5).to_dict()
    title, text = figures.title_of(spec), spec["title"]["text"]
    assert isinstance(text, dict) and "containerSize()" in text["expr"], text
    size = (figures.FONT_SIZE + 3) * 1.5
    for width in (480, 800, 1300):
        lines = _title_for(text["expr"], width)
        assert " ".join(lines) == title
        assert max(len(line) for line in lines) * 0.58 * size <= width, (width, lines)
    wide, narrow = _title_for(text["expr"], 1300), _title_for(text["expr"], 480)
    assert len(wide) < len(narrow) and max(map(len, wide)) * 0.58 * size > 480, "the wide chart's lines are longer"
    svg = vlc.vegalite_to_svg(json.dumps(spec))
    assert all(line in svg for line in _title_for(text["expr"], figures.EXPORT_WIDTH)), "a file gets EXPORT_WIDTH's"
