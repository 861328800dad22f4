"""Every page's charts are drawn from the spec `figures.finish` made of them (`figures.screen_spec`, through
`render.draw`), not made again by Streamlit from the Altair chart on every run: that spec must be the one Streamlit
would make, data and all, for Explore's charts and panels, Compare's and Need and services'."""

import json
import math

import pyarrow as pa
import pytest
from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

from rcs_viz import config
from rcs_viz.engine import service
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.sql.views import CrossTab
from rcs_viz.features.compare import charts as cc, funnel, model as compare, neighbours, similar
from rcs_viz.features.explore import charts
from rcs_viz.features.need import charts as nc, model as need, services as services_map, whatif
from rcs_viz.output import figures
from rcs_viz.ui import render

VIEWS = [
    (CrossTab(rows="simd", cols="sex"), "count", False, False, 1.0),
    (CrossTab(rows="simd", cols="sex"), "row_pct", True, False, 1.0),
    (CrossTab(rows="stage", cols="sex"), "count", False, True, 1.0),
    (CrossTab(rows="sex", value="wemwbs"), "mean", True, False, 1.6),  # presenting: type scaled
    (CrossTab(rows="sex", cols="simd", panel="cluster"), "col_pct", False, False, 1.0),  # a heading and panels
]


def _rows(data) -> list[dict]:
    rows = pa.ipc.open_stream(data).read_all().to_pylist() if isinstance(data, bytes) else data
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()
             if not k.startswith("__index_level")} for r in rows]


def _named(spec: dict) -> str:
    """The spec as JSON, each dataset named by its place among the datasets sorted by their rows (Streamlit names
    them by their Arrow bytes, Altair by their JSON)."""
    datasets = {name: _rows(data) for name, data in spec.pop("datasets", {}).items()}
    order = sorted(datasets, key=lambda n: json.dumps(datasets[n], sort_keys=True, default=str))
    text = json.dumps({**spec, "datasets": [datasets[n] for n in order]}, sort_keys=True, default=str)
    for i, name in enumerate(order):
        text = text.replace(json.dumps(name), json.dumps(f"data {i}"))
    return text


def _drawn_as_streamlit_would(c) -> None:
    kept = figures.screen_spec(c)
    assert kept is not None and kept["description"] == c.description
    assert _named(dict(kept)) == _named(_convert_altair_to_vega_lite_spec(render._unchecked(c)))


@pytest.mark.parametrize("query, measure, ci, stacked, scale", VIEWS)
def test_the_spec_drawn_is_the_one_streamlit_would_make(sample_dataset, query, measure, ci, stacked, scale):
    result = service.crosstab(sample_dataset, query, measure, Rules())
    drawn, _ = charts.on_screen(result, show_ci=ci, stacked=stacked, scale=scale)
    assert len(drawn) > (1 if query.panel else 0)
    for c in drawn:
        _drawn_as_streamlit_would(c)


COMPARE = {  # each kind of Compare chart, from (dataset, indicators, scope, rules, comparators, scale)
    "rank": lambda ds, i, s, r, k, x: cc.rank_chart(compare.rank(ds, i["sdq_total_band"], "school", s, "cpp", r, k), x),
    "spine": lambda ds, i, s, r, k, x: cc.spine_chart(compare.spine(ds, "cluster", "101", s, "national", r, k), x),
    "trend": lambda ds, i, s, r, k, x: cc.trend_chart(
        compare.trend(ds, i["sdq_total_band"], "cluster", "101", s, r, k), x),
    "gradient": lambda ds, i, s, r, k, x: cc.gradient_chart(compare.gradient(ds, i["fsm"], s, r), x),
    "funnel": lambda ds, i, s, r, k, x: cc.funnel_chart(
        funnel.funnel(ds, i["sdq_total_band"], "school", s, "cpp", r, k), x),
    "similar": lambda ds, i, s, r, k, x: cc.similar_chart(similar.similar(ds, i["bullied"], "school", s, "cpp", r), x),
    "neighbours": lambda ds, i, s, r, k, x: cc.neighbours_chart(
        neighbours.neighbours(ds, i["sdq_total_band"], "cluster", "101", s, r), x),
}


@pytest.mark.parametrize("scale", [1.0, 1.6])  # at a desk, and as a presenter sees it
@pytest.mark.parametrize("kind", COMPARE)
def test_compare_draws_the_spec_streamlit_would_make(sample_dataset, sample_comparators, kind, scale):
    inds = {i.name: i for i in compare.indicators(sample_dataset.dictionary)}
    _drawn_as_streamlit_would(COMPARE[kind](sample_dataset, inds, compare.Scope(cpp="1", wave="2019"),
                                            config.load().rules, sample_comparators, scale))


def test_need_and_services_draw_the_spec_streamlit_would_make(sample_dataset):
    cfg = config.load()
    fit = need.fit(sample_dataset, need.Definition((("sdq_total_band", ("3",)),)),
                   need.Definition((("sw_contact", ("1",)),)), "cluster", (("wave", ("2019",)),), cfg.rules)
    table = services_map.load_services(cfg.services).table
    tiers = services_map.by_tier(table, None, cfg.rules.threshold)
    scenario = whatif.shift_upstream(tiers, "Specialist / crisis", "Early help / targeted", 10)
    drawn = [nc.fit_chart(fit, "need", True), nc.fit_chart(fit, "contact", True, 1.6),
             nc.spend_chart(services_map.by_tier_sector(table, "Glenvarrow", cfg.rules.threshold), "Glenvarrow", True),
             nc.per_child_chart(tiers, "All partnerships", True),
             *nc.whatif_on_screen(scenario, "All partnerships", True)]
    for c in drawn:
        _drawn_as_streamlit_would(c)


def test_a_chart_changed_after_it_was_finished_has_no_spec_kept(sample_dataset):
    result = service.crosstab(sample_dataset, CrossTab(rows="simd"), "count", Rules())
    figure = charts.chart(result)
    assert figures.screen_spec(figure) is not None
    assert figures.screen_spec(figure.properties(height=99)) is None  # drawn as Streamlit makes it, not as kept
