"""Explore's chart: Altair bars or dots drawn from a protected result.

A protected cell is left out of the chart and named in a note — never drawn
as zero. Margins are left out too: a chart compares categories. Colours are
the Okabe–Ito palette (safe for the common colour-vision deficiencies) and
type is large enough to read on a projector.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
from altair.utils.data import to_values

from rcs_viz.engine.service import Protected
from rcs_viz.output import figures
from rcs_viz.output.figures import OKABE_ITO



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
    """The whole figure: one view as wide as its container, or small multiples (each with its own axes) for panels.

    This is the chart exported as PNG/SVG too (`figures.to_png` gives a container-wide chart a fixed width).
    On screen, small multiples are drawn by `on_screen` instead, so that each panel fits the page's width.
    """
    p = _Plot(result, show_ci, stacked, scale)
    if result.query.panel is None:
        return figures.fit(p.layer(p.data).properties(width="container", height=p.height),
                           p.heading, p.subtitle, p.height + figures.head_height(p.subtitle, scale, p.legend), scale)
    columns = 1 if p.long_rows else 2
    faceted = p.layer(p.data).properties(width=300 * scale, height=p.height).facet(
        facet=alt.Facet("panel_label:N", title=None, sort=p.panels,
                        header=alt.Header(labelOrient="top", labelAnchor="start", labelFontWeight="bold",
                                          labelLimit=0)),
        columns=columns, spacing=24 * scale).resolve_axis(x="independent", y="independent")
    rows = -(-len(p.panels) // columns)
    total = rows * (p.height + 90 * scale) + figures.head_height(p.subtitle, scale, p.legend)
    return figures.finish(faceted, p.heading, p.subtitle, total, scale)


def on_screen(result: Protected, show_ci: bool = False, stacked: bool = False,
              scale: float = 1.0, figure: alt.Chart | None = None) -> tuple[list[alt.Chart], int]:
    """The charts the page draws, and how many columns its panels take.

    One view is the figure itself (`figure`, when the caller has built it already: building it is most of a
    rerun's chart work). Small multiples are a heading (title, subtitle and the legend of every series)
    and then one chart per panel, each as wide as its column with its own axes, on the same scale.
    """
    if result.query.panel is None:
        return [figure if figure is not None else chart(result, show_ci, stacked, scale)], 1
    p = _Plot(result, show_ci, stacked, scale)
    head_data = p.data.drop_duplicates("col_label") if p.legend else p.data.head(1)
    head = alt.Chart(head_data).mark_point(opacity=0, aria=False).encode(
        **({"color": p.color(legend=True)} if p.legend else {}))
    head = figures.fit(head.properties(width="container", height=1), p.heading, p.subtitle,
                       figures.head_height(p.subtitle, scale, p.legend), scale)
    out = [head]
    # Every panel's chart is the same chart of its own rows: built once and given each panel's rows as values
    # (an Altair chart built, and its data frame written out, for each of a school panel's 85 charts took 1.2 s)
    whole = p.layer(p.data, legend=False).properties(width="container", height=p.height)
    rows: dict[str, list] = {}
    for record in to_values(whole.data)["values"]:
        rows.setdefault(record["panel_label"], []).append(record)
    for panel in p.panels:
        if panel not in rows:
            continue
        view = whole.copy(deep=False)
        view.data = alt.InlineData(values=rows[panel])
        out.append(figures.fit(view, panel, [], p.height + 80 * scale, scale))
    return out, 1 if p.long_rows else 2


# The x scale ends on a tick, and the axis shows every tick it has: no bar runs past its axis. As many ticks
# as the plot's width leaves room for (a narrow panel keeps 0, the middle and the end).
TICKS = alt.expr("max(2, min(6, floor(width / 90)))")


class _Plot:
    """What every form of the chart shares: its data, orders, encodings, size and words."""

    def __init__(self, result: Protected, show_ci: bool, stacked: bool, scale: float):
        data, _ = drawable(result)
        data = data.astype({"value": float, "ci_low": float, "ci_high": float})
        self.with_ci = show_ci and result.measure != "count" and data["ci_low"].notna().any()
        keep = ["row_label", "col_label", "panel_label", "value"] + (["ci_low", "ci_high"] if self.with_ci else [])
        data = data[keep].copy()
        if self.with_ci:  # a cell that is its own base (100 %) has no interval: draw it as a point only
            data["ci_low"] = data["ci_low"].fillna(data["value"])
            data["ci_high"] = data["ci_high"].fillna(data["value"])
        cells = result.cells
        self.rows_order = list(dict.fromkeys(cells.loc[cells["row"].notna(), "row_label"]))
        self.cols_order = list(dict.fromkeys(cells.loc[cells["col"].notna(), "col_label"]))
        self.panels = (list(dict.fromkeys(cells.loc[cells["panel"].notna(), "panel_label"]))
                       if result.query.panel is not None else [])
        short = figures.shorten_all(self.rows_order)
        data["row_short"] = data["row_label"].map(short)
        self.row_sort = [short[r] for r in self.rows_order]
        self.long_rows = max((len(s) for s in self.row_sort), default=0) > 18
        self.data = data
        self.result, self.stacked, self.scale = result, stacked, scale
        self.legend = result.query.cols is not None
        self.single = result.query.panel is None  # one view, whose legend starts at its plot's left edge
        self.is_pct = result.measure.endswith("pct")
        self.title = result.measure_label + (" (%)" if self.is_pct else "")
        n_rows = max(len(self.rows_order), 1)
        per_row = 26 if stacked or not self.legend else max(26, 16 * len(self.cols_order) + 8)
        self.height = max(per_row * scale * n_rows, 80 * scale)
        subtitle = [f"Filters: {'; '.join(result.filters_text)}" if result.filters_text else "All respondents"]
        if result.synthetic:
            subtitle.append("Synthetic sample — not real statistics")
        self.subtitle = subtitle
        heading = result.row_title + (f" by {result.col_title}" if result.col_title else "")
        self.heading = (heading + (f", for each {result.panel_title}" if result.panel_title else "")
                        + f" — {result.measure_label}")

    def color(self, legend: bool = True):
        if not self.legend:
            return alt.value(OKABE_ITO[0])
        palette = (OKABE_ITO * (len(self.cols_order) // len(OKABE_ITO) + 1))[:len(self.cols_order)]
        return alt.Color("col_label:N", title=None, sort=self.cols_order,
                         scale=alt.Scale(domain=self.cols_order, range=palette),
                         legend=figures.legend(self.cols_order, self.scale, plot_width=self.single) if legend else None)

    def x_scale(self) -> alt.Scale:
        """One scale for every panel, ending on a tick (`nice`), so no bar runs past its axis."""
        d = self.data
        if self.stacked and self.result.measure in ("row_pct", "total_pct"):
            return alt.Scale(domain=[0, 100], nice=TICKS)
        if self.with_ci:
            zero = self.result.measure not in ("mean", "median")  # a mean's axis need not start at zero
            low, high = float(d["ci_low"].min()) if len(d) else 0.0, float(d["ci_high"].max()) if len(d) else 1.0
            return alt.Scale(domain=[min(low, 0.0) if zero else low, high], nice=TICKS, zero=zero)
        if self.stacked:
            high = float(d.groupby(["panel_label", "row_label"], dropna=False)["value"].sum().max()) if len(d) else 1.0
        else:
            high = float(d["value"].max()) if len(d) else 1.0
        return alt.Scale(domain=[min(0.0, float(d["value"].min()) if len(d) else 0.0), high], nice=TICKS)

    def layer(self, data: pd.DataFrame, legend: bool = True):
        r, scale, cols = self.result, self.scale, self.cols_order
        room = figures.label_room(cols, scale) if self.single and self.legend and legend else 0
        y = alt.Y("row_short:N", title=None, sort=self.row_sort, axis=alt.Axis(labelLimit=room))
        color = self.color(legend)
        figure = ",.0f" if r.measure == "count" else ",~g" if r.measure == "median" else ",.1f"
        tooltip = [alt.Tooltip("row_label:N", title="Row"), alt.Tooltip("value:Q", title=self.title, format=figure)]
        if r.query.cols is not None:
            tooltip.insert(1, alt.Tooltip("col_label:N", title="Column"))
        if r.query.panel is not None:
            tooltip.insert(0, alt.Tooltip("panel_label:N", title="Panel"))
        x_scale = self.x_scale()
        if self.with_ci:
            tooltip += [alt.Tooltip("ci_low:Q", title="95% CI low", format=",.1f"),
                        alt.Tooltip("ci_high:Q", title="95% CI high", format=",.1f")]
            offset = {"yOffset": alt.YOffset("col_label:N", sort=cols)} if r.query.cols else {}
            base = alt.Chart(data).encode(y=y, color=color, **offset)
            return (base.mark_rule(strokeWidth=2.5 * scale).encode(
                        x=alt.X("ci_low:Q", title=self.title, scale=x_scale, axis=alt.Axis(tickCount=TICKS)), x2="ci_high:Q", tooltip=tooltip)
                    + base.mark_point(filled=True, size=110 * scale, opacity=1).encode(x="value:Q", tooltip=tooltip))
        enc = {"x": alt.X("value:Q", title=self.title, stack="zero" if self.stacked else None, scale=x_scale,
                          axis=alt.Axis(tickCount=TICKS)),
               "y": y, "color": color, "tooltip": tooltip}
        if self.stacked and r.query.cols is not None:
            data = data.assign(order=data["col_label"].map({c: i for i, c in enumerate(cols)}))
            enc["order"] = alt.Order("order:Q")
        if r.query.cols is not None and not self.stacked:
            enc["yOffset"] = alt.YOffset("col_label:N", sort=cols)
        return alt.Chart(data).mark_bar().encode(**enc)
