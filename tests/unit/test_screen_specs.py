"""Explore's charts are drawn from the spec `figures.finish` made of them (`figures.screen_spec`), not made again by
Streamlit from the Altair chart on every run: that spec must be the one Streamlit would make, data and all."""

import json
import math

import pyarrow as pa
import pytest
from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

from rcs_viz.engine import service
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.sql.views import CrossTab
from rcs_viz.features.explore import charts
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


@pytest.mark.parametrize("query, measure, ci, stacked, scale", VIEWS)
def test_the_spec_drawn_is_the_one_streamlit_would_make(sample_dataset, query, measure, ci, stacked, scale):
    result = service.crosstab(sample_dataset, query, measure, Rules())
    drawn, _ = charts.on_screen(result, show_ci=ci, stacked=stacked, scale=scale)
    assert len(drawn) > (1 if query.panel else 0)
    for c in drawn:
        kept = figures.screen_spec(c)
        assert kept is not None and kept["description"] == c.description
        assert _named(dict(kept)) == _named(_convert_altair_to_vega_lite_spec(render._unchecked(c)))


def test_a_chart_changed_after_it_was_finished_has_no_spec_kept(sample_dataset):
    result = service.crosstab(sample_dataset, CrossTab(rows="simd"), "count", Rules())
    figure = charts.chart(result)
    assert figures.screen_spec(figure) is not None
    assert figures.screen_spec(figure.properties(height=99)) is None  # drawn as Streamlit makes it, not as kept
