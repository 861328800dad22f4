"""Legends chosen by their chart's room: in a file (PNG, SVG, a deck) a chart has no container, and its legend's
columns must not wait on the plot's width, or Vega places the title for one legend and draws another: the title
was cut off the top of the exported image."""

import re

from rcs_viz.engine import service
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.sql.views import CrossTab
from rcs_viz.features.explore import charts
from rcs_viz.output import figures


def _title_top(svg: str) -> float:
    """Where the title group starts, from the top of the image: the drawing's origin plus the title's offset."""
    origin = re.search(r'<g fill="none" stroke-miterlimit="10" transform="translate\([-\d.]+,([-\d.]+)\)"', svg)
    title = re.search(r'class="mark-group role-title"><g transform="translate\([-\d.]+,([-\d.]+)\)"', svg)
    return float(origin.group(1)) + float(title.group(1))


def test_an_exported_chart_with_a_legend_keeps_its_title_inside(sample_dataset):
    q = CrossTab(rows="school", cols="safe_school", filters=(("cluster", ("101",)),))
    chart = charts.chart(service.crosstab(sample_dataset, q, "row_pct", Rules()))
    svg = figures.to_svg(chart, ["Source: test"])
    assert _title_top(svg) >= 0
    assert 'role-legend' in svg and "No answer" in svg


def test_a_long_legend_label_is_written_in_lines_only_where_its_legend_has_no_room():
    long = "No contact recorded (possible unmet need)"
    spec = figures.legend(["With contact", long], plot_width=True).to_dict()
    assert '["No contact recorded", "(possible unmet need)"]' in spec["labelExpr"]
    assert "datum.label" in spec["labelExpr"] and "width" in spec["columns"]["expr"]
    assert "labelExpr" not in figures.legend(["With contact", "Without"]).to_dict()
