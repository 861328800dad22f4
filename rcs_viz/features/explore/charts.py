"""Altair charts drawn from a protected result, and their PNG/SVG exports.

A protected cell is left out of the chart and named in a note — never drawn
as zero. Margins are left out too: a chart compares categories. Colours are
the Okabe–Ito palette (safe for the common colour-vision deficiencies) and
type is large enough to read on a projector.
"""

from __future__ import annotations

import datetime as dt
import json

import altair as alt
import pandas as pd

from rcs_viz.engine.service import Protected

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"]
FONT_SIZE = 15


def drawable(result: Protected) -> tuple[pd.DataFrame, list[str]]:
    """The inner cells that have a value, and the names of those that are protected."""
    c = result.cells
    inner = c["row"].notna()
    if result.query.cols is not None:
        inner &= c["col"].notna()
    if result.query.panel is not None:
        inner &= c["panel"].notna()
    cells = c[inner]
    has_value = cells["value"].notna()
    missing = [" – ".join(str(x) for x in (r.panel_label, r.row_label, r.col_label) if x is not None)
               for r in cells[~has_value].itertuples()]
    return cells[has_value].copy(), missing


def chart(result: Protected, show_ci: bool = False, stacked: bool = False, scale: float = 1.0) -> alt.Chart:
    """Bars for counts and percentages; dots with whiskers where intervals are asked for."""
    data, _ = drawable(result)
    data = data.astype({"value": float, "ci_low": float, "ci_high": float})
    with_ci = show_ci and result.measure != "count" and data["ci_low"].notna().any()
    keep = ["row_label", "col_label", "panel_label", "value"] + (["ci_low", "ci_high"] if with_ci else [])
    data = data[keep].copy()
    if with_ci:  # a cell that is its own base (100 %) has no interval: draw it as a point only
        data["ci_low"] = data["ci_low"].fillna(data["value"])
        data["ci_high"] = data["ci_high"].fillna(data["value"])
    rows_order = list(dict.fromkeys(result.cells.loc[result.cells["row"].notna(), "row_label"]))
    cols_order = list(dict.fromkeys(result.cells.loc[result.cells["col"].notna(), "col_label"]))
    is_pct = result.measure.endswith("pct")
    title = result.measure_label + (" (%)" if is_pct else "")
    y = alt.Y("row_label:N", title=None, sort=rows_order)
    color = (alt.Color("col_label:N", title=None, sort=cols_order,
                       scale=alt.Scale(range=OKABE_ITO), legend=alt.Legend(orient="top"))
             if result.query.cols is not None else alt.value(OKABE_ITO[0]))
    tooltip = [alt.Tooltip("row_label:N", title="Row"), alt.Tooltip("value:Q", title=title, format=",.1f")]
    if result.query.cols is not None:
        tooltip.insert(1, alt.Tooltip("col_label:N", title="Column"))
    if with_ci:
        tooltip += [alt.Tooltip("ci_low:Q", title="95% CI low", format=",.1f"),
                    alt.Tooltip("ci_high:Q", title="95% CI high", format=",.1f")]
        offset = {"yOffset": alt.YOffset("col_label:N", sort=cols_order)} if result.query.cols else {}
        base = alt.Chart(data).encode(y=y, color=color, **offset)
        zero = result.measure not in ("mean", "median")  # a mean's axis need not start at zero
        layer = (base.mark_rule(strokeWidth=2.5 * scale).encode(
                     x=alt.X("ci_low:Q", title=title, scale=alt.Scale(zero=zero)), x2="ci_high:Q")
                 + base.mark_point(filled=True, size=110 * scale, opacity=1).encode(x="value:Q", tooltip=tooltip))
    else:
        x_scale = alt.Scale(domain=[0, 100]) if stacked and result.measure in ("row_pct", "total_pct") else alt.Undefined
        enc = {"x": alt.X("value:Q", title=title, stack="zero" if stacked else None, scale=x_scale), "y": y,
               "color": color, "tooltip": tooltip}
        if stacked and result.query.cols is not None:
            data["order"] = data["col_label"].map({c: i for i, c in enumerate(cols_order)})
            enc["order"] = alt.Order("order:Q")
        if result.query.cols is not None and not stacked:
            enc["yOffset"] = alt.YOffset("col_label:N", sort=cols_order)
        layer = alt.Chart(data).mark_bar().encode(**enc)
    n_rows = max(len(rows_order), 1) * (1 if stacked or result.query.cols is None else max(len(cols_order), 1))
    plot_height = min(max(28 * scale * n_rows, 120), 900)
    layer = layer.properties(width=520 * scale, height=plot_height)
    facet_rows = 1
    if result.query.panel is not None:
        panels = list(dict.fromkeys(result.cells.loc[result.cells["panel"].notna(), "panel_label"]))
        layer = layer.properties(width=300 * scale).facet(
            facet=alt.Facet("panel_label:N", title=None, sort=panels), columns=3)
        facet_rows = -(-len(panels) // 3)
    subtitle = [f"Filters: {'; '.join(result.filters_text)}" if result.filters_text else "All respondents"]
    if result.synthetic:
        subtitle.append("Synthetic sample — not real statistics")
    heading = result.row_title + (f" by {result.col_title}" if result.col_title else "")
    heading += (f", for each {result.panel_title}" if result.panel_title else "") + f" — {result.measure_label}"
    # Streamlit squeezes title, legend and axes into a chart's own height unless told the whole height.
    total = facet_rows * (plot_height + 40 * scale) + 170 * scale
    return (layer.properties(title=alt.TitleParams(heading, subtitle=subtitle, anchor="start"),
                             usermeta={"height": int(total)})
            .configure_axis(labelFontSize=FONT_SIZE * scale, titleFontSize=FONT_SIZE * scale, labelLimit=320)
            .configure_legend(labelFontSize=FONT_SIZE * scale, labelLimit=320)
            .configure_title(fontSize=(FONT_SIZE + 3) * scale, subtitleFontSize=(FONT_SIZE - 2) * scale)
            .configure_header(labelFontSize=FONT_SIZE * scale)
            .configure_view(stroke=None))


def finish(chart, title: str, subtitle: list[str], height: float, scale: float, legend_limit: int = 340):
    """Title, fonts scaled for presenting, and the whole height Streamlit must be told (it squeezes otherwise)."""
    return (chart.properties(title=alt.TitleParams(title, subtitle=subtitle, anchor="start"),
                             usermeta={"height": int(height)})
            .configure_axis(labelFontSize=FONT_SIZE * scale, titleFontSize=FONT_SIZE * scale, labelLimit=340 * scale)
            .configure_legend(labelFontSize=FONT_SIZE * scale, titleFontSize=FONT_SIZE * scale,
                              labelLimit=legend_limit)
            .configure_title(fontSize=(FONT_SIZE + 3) * scale, subtitleFontSize=(FONT_SIZE - 2) * scale,
                             subtitleColor="#444444")
            .configure_header(labelFontSize=FONT_SIZE * scale, titleFontSize=FONT_SIZE * scale)
            .configure_text(fontSize=(FONT_SIZE - 1) * scale)
            .configure_view(stroke=None))


def head_height(subtitle: list[str], scale: float, legend: bool = True) -> float:
    """Room for a title, its subtitle lines and a legend above the plot."""
    return (40 + 20 * len(subtitle) + (45 if legend else 0) + 60) * scale


def footer(source: str, rules) -> list[str]:
    """What an exported image says about itself, since it travels without the page around it."""
    protection = (f"counts under {rules.threshold} suppressed"
                  + (", secondary suppression" if rules.secondary else "")
                  + (", small random adjustments to counts" if rules.perturbation else "")
                  + f"; %, means and intervals need a base of {rules.min_base}")
    return [f"Source: {source} · Protection: {protection}",
            f"Produced {dt.date.today():%d %B %Y} by RCS Explorer"]


def _spec(c: alt.Chart, lines) -> str:
    """The chart's spec with `lines` added under its title."""
    spec = c.to_dict()
    title = spec.get("title") or {"text": ""}
    title = {"text": title} if isinstance(title, str) else dict(title)
    subtitle = title.get("subtitle") or []
    title["subtitle"] = ([subtitle] if isinstance(subtitle, str) else list(subtitle)) + list(lines)
    spec["title"] = title
    return json.dumps(spec)


def to_png(c: alt.Chart, lines=()) -> bytes:
    import vl_convert as vlc

    return vlc.vegalite_to_png(_spec(c, lines), scale=2)


def to_svg(c: alt.Chart, lines=()) -> str:
    import vl_convert as vlc

    return vlc.vegalite_to_svg(_spec(c, lines))
