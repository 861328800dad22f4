"""Explore's chart: Altair bars or dots drawn from a protected result.

A protected cell is left out of the chart and named in a note — never drawn
as zero. Margins are left out too: a chart compares categories. Colours are
the Okabe–Ito palette (safe for the common colour-vision deficiencies) and
type is large enough to read on a projector.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from rcs_viz.engine.service import Protected
from rcs_viz.output.figures import FONT_SIZE, OKABE_ITO



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


PARTS = ("count", "row_pct", "total_pct")  # measures whose cells along a row add up to the row's whole


def stacking(result: Protected, asked: bool, show_ci: bool = False) -> tuple[bool, str | None]:
    """Whether the bars may be stacked, and if stacking was asked for but refused, why, in a sentence.

    A stacked bar says its parts make a whole: counts of a row's columns add up to the row's count, row % to
    100 and % of total to the row's share. Column % add up to 100 down a column, not along a bar, and means
    or medians never add up, so those are drawn side by side instead.
    """
    if not asked:
        return False, None
    if result.query.cols is None:
        return False, "Bars are not stacked: with no column variable, each bar is one figure, not parts of one."
    if show_ci and result.measure != "count":
        return False, "Bars are side by side, not stacked: intervals are drawn as dots and whiskers, which do not stack."
    if result.measure == "col_pct":
        return False, ("Bars are side by side, not stacked: column percentages add up to 100 down each column, "
                       "not along a bar, so stacked bars would run past 100% and mean nothing. Row % stacks.")
    if result.measure not in PARTS:
        return False, (f"Bars are side by side, not stacked: a {result.measure_label.split(' of ')[0].lower()} "
                       "of each group is not a part of a whole.")
    return True, None


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
    figure = ",.0f" if result.measure == "count" else ",~g" if result.measure == "median" else ",.1f"
    tooltip = [alt.Tooltip("row_label:N", title="Row"), alt.Tooltip("value:Q", title=title, format=figure)]
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
