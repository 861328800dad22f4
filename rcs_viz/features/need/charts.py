"""Charts of the Need and services page: need against contact, spend by tier, and the shift-upstream what-if.

Pure functions: each takes a library result (``need.Fit``, a
``services_map`` summary, a ``whatif.Scenario``) and returns an Altair chart
whose ``usermeta["height"]`` is the whole height Streamlit must be told.
Nothing protected is drawn: a category whose figures the disclosure gate hid,
or a tier whose children-served count is protected, is left out of the chart's
data and named in its subtitle. Colours are Okabe–Ito, type large enough for
a projector.
"""

from __future__ import annotations

import math

import altair as alt
import pandas as pd


from rcs_viz.output import figures
from rcs_viz.output.figures import FONT_SIZE, OKABE_ITO
from rcs_viz.features.need.model import Fit
from rcs_viz.engine.sql.views import NO, YES
from rcs_viz.features.need.services import ALL_SECTORS, ALL_TIERS, TIERS
from rcs_viz.features.need.whatif import Scenario

SYNTHETIC_LINE = "Synthetic sample — not real statistics"
# the highlighted part of each bar: vermillion for possible unmet need, orange for contact without need
CONTACT_COLOURS = {"With contact": "#0072B2", "No contact recorded (possible unmet need)": "#D55E00"}
NEED_COLOURS = {"With the need": "#0072B2", "No reported need": "#E69F00"}
BEFORE, AFTER = "Now", "After the move"
WHEN_COLOURS = {BEFORE: "#999999", AFTER: "#0072B2"}
MAX_NAMED = 8




def _named(what: str, names: list[str]) -> str:
    if not names:
        return ""
    shown = ", ".join(names[:MAX_NAMED]) + (f" and {len(names) - MAX_NAMED} more" if len(names) > MAX_NAMED else "")
    return f"Not drawn ({what}): {shown}."


def _money(x: float) -> str:
    return f"£{x:,.0f}"


def _key(value) -> str | None:
    return value if isinstance(value, str) else None


# --------------------------------------------------------------------------- need against contact


def fit_data(fit: Fit, side: str = "need") -> tuple[pd.DataFrame, list[str]]:
    """The bars of `fit_chart`: one row per category and part, and the categories left out.

    side "need": pupils with the need, split by contact (% of those with the
    need); side "contact": pupils with contact, split by need (% of those
    with contact). A category is drawn only when both its parts have a %.
    """
    if side not in ("need", "contact"):
        raise ValueError(f"side must be 'need' or 'contact', not {side!r}")
    c = fit.cells
    rows, missing = [], []
    order = list(dict.fromkeys(c["by"].map(_key)))
    order = [k for k in order if k is not None] + [None]
    for code in order:
        mine = c[c["by"].isna()] if code is None else c[c["by"].eq(code)]
        label = "All" if code is None else str(mine["by_label"].iloc[0])
        if side == "need":
            parts = [(YES, "With contact"), (NO, "No contact recorded (possible unmet need)")]
            pick = [mine[mine["need"].eq(YES) & mine["contact"].eq(k)] for k, _ in parts]
            pct = "row_pct"
        else:
            parts = [(YES, "With the need"), (NO, "No reported need")]
            pick = [mine[mine["contact"].eq(YES) & mine["need"].eq(k)] for k, _ in parts]
            pct = "col_pct"
        values = [(p[pct].iloc[0] if len(p) else math.nan, p["count"].iloc[0] if len(p) else pd.NA) for p in pick]
        if any(pd.isna(v) for v, _ in values):
            missing.append(label)
            continue
        end = float(sum(v for v, _ in values))
        for i, ((_, part), (value, count)) in enumerate(zip(parts, values)):
            rows.append({"group": label, "part": part, "order": i, "pct": float(value), "end": end,
                         "pct_text": f"{float(value):.0f}%", "count_text": f"{int(count):,}",
                         "highlight": i == 1})
    data = pd.DataFrame(rows, columns=["group", "part", "order", "pct", "end", "pct_text", "count_text",
                                      "highlight"])
    return data, missing


def fit_chart(fit: Fit, side: str = "need", synthetic: bool = False, scale: float = 1.0) -> alt.Chart:
    """A 100% bar per category: of pupils with the need, with and without a service contact (or the reverse)."""
    data, missing = fit_data(fit, side)
    colours = CONTACT_COLOURS if side == "need" else NEED_COLOURS
    if side == "need":
        title = "Pupils with the need: how many have a service contact recorded"
        x_title = "% of pupils with the need"
    else:
        title = "Pupils with a service contact: how many have the need"
        x_title = "% of pupils with a service contact"
    groups = list(dict.fromkeys(data["group"]))
    by = f"By {fit.by_label.lower()}" if fit.by_label else ""
    subtitle = [*fit.definitions, *fit.context.filters_text]
    subtitle = [s for s in subtitle if s] + ([by] if by else [])
    if fit.context.rules.perturbation:
        subtitle.append("Counts carry small random adjustments, so a bar may not total exactly 100%.")
    if synthetic:
        subtitle.append(SYNTHETIC_LINE)
    if missing:
        subtitle.append(_named("protected or too few pupils", missing))
    tooltip = [alt.Tooltip("group:N", title=fit.by_label or "Group"), alt.Tooltip("part:N", title="Part"),
               alt.Tooltip("count_text:N", title="Pupils"), alt.Tooltip("pct_text:N", title=x_title)]
    step = 32 * scale
    # small random adjustments can take a bar a little past 100%: the axis runs on to a tick past its end
    top = max(100.0, float(data.groupby("group")["pct"].sum().max()) if len(data) else 100.0)
    short = figures.shorten_all(groups)  # a long category shortened on the axis; the tooltip has it whole
    data = data.assign(group_short=data["group"].map(short))
    y = alt.Y("group_short:N", sort=[short[g] for g in groups], title=None,
              axis=alt.Axis(labelLimit=figures.label_room(list(colours), scale)))
    bars = alt.Chart(data).mark_bar(size=step * 0.72, stroke="white", strokeWidth=0.5).encode(
        y=y, x=alt.X("pct:Q", title=x_title, stack="zero", axis=alt.Axis(tickCount=figures.TICKS),
                     scale=alt.Scale(domain=[0, top], nice=figures.TICKS)),
        color=alt.Color("part:N", title=None, sort=list(colours),
                        scale=alt.Scale(domain=list(colours), range=list(colours.values())),
                        legend=figures.legend(list(colours), scale, plot_width=True, symbolSize=160 * scale)),
        order=alt.Order("order:Q"), tooltip=tooltip)
    labels = alt.Chart(data).transform_filter("datum.highlight").mark_text(
        align="right", dx=-6 * scale, color=figures.TEXT, fontWeight="bold").encode(  # 5.6:1 on vermillion, 9:1 on orange
        y=y, x="end:Q", text="pct_text:N", tooltip=tooltip)
    plot_height = max(step * max(len(groups), 1), 80 * scale)
    chart = alt.layer(bars, labels).properties(width="container", height=plot_height)
    return figures.fit(chart, title, subtitle, plot_height + figures.head_height(subtitle, scale) + 25 * scale, scale)


# --------------------------------------------------------------------------- services map


def spend_chart(tier_sector: pd.DataFrame, where: str = "", synthetic: bool = False, scale: float = 1.0) -> alt.Chart:
    """Annual spend by tier, stacked by sector (`services_map.by_tier_sector`). Spend is never protected."""
    t = tier_sector[tier_sector["tier"].ne(ALL_TIERS) & tier_sector["sector"].ne(ALL_SECTORS)]
    sectors = list(dict.fromkeys(t["sector"]))
    data = pd.DataFrame({
        "tier": t["tier"].astype(str), "sector": t["sector"].astype(str),
        "spend_m": t["annual_spend_gbp"].astype(float) / 1e6,
        "spend_text": t["annual_spend_gbp"].map(_money),
        "share_text": t["tier_spend_pct"].map(lambda v: "" if pd.isna(v) else f"{v:.0f}% of the tier"),
        "order": t["sector"].map({s: i for i, s in enumerate(sectors)}),
    })
    tiers = [x for x in TIERS if x in set(data["tier"])]
    subtitle = [s for s in (where, "Bars are split by the sector running the services.") if s]
    if synthetic:
        subtitle.append(SYNTHETIC_LINE)
    tooltip = [alt.Tooltip("tier:N", title="Tier"), alt.Tooltip("sector:N", title="Sector"),
               alt.Tooltip("spend_text:N", title="Annual spend"), alt.Tooltip("share_text:N", title="Share")]
    palette = (OKABE_ITO * (len(sectors) // len(OKABE_ITO) + 1))[:len(sectors)]
    step = 44 * scale
    chart = alt.Chart(data).mark_bar(size=step * 0.7, stroke="white", strokeWidth=0.5).encode(
        y=alt.Y("tier:N", sort=tiers, title=None, axis=alt.Axis(labelLimit=figures.label_room(sectors, scale))),
        x=alt.X("spend_m:Q", title="Annual spend (£ million)", stack="zero",
                axis=alt.Axis(format=",.1~f", tickCount=figures.TICKS), scale=alt.Scale(nice=figures.TICKS)),
        color=alt.Color("sector:N", title="Sector", sort=sectors, scale=alt.Scale(domain=sectors, range=palette),
                        legend=figures.legend(sectors, scale, plot_width=True)),
        order=alt.Order("order:Q"), tooltip=tooltip)
    plot_height = step * max(len(tiers), 1)
    legend_rows = -(-len(sectors) // 3)
    chart = chart.properties(width="container", height=plot_height)
    return figures.fit(chart, "Annual spend by tier of intervention", subtitle,
                         plot_height + figures.head_height(subtitle, scale) + 20 * scale * legend_rows, scale)


def per_child_chart(tiers: pd.DataFrame, where: str = "", synthetic: bool = False, scale: float = 1.0) -> alt.Chart:
    """Spend per child served, by tier (`services_map.by_tier`); tiers whose count is protected are left out."""
    t = tiers[tiers["tier"].ne(ALL_TIERS)]
    shown = t[t["spend_per_child"].notna()]
    missing = [str(x) for x in t.loc[t["spend_per_child"].isna() & t["services"].gt(0), "tier"]]
    data = pd.DataFrame({"tier": shown["tier"].astype(str), "per_child": shown["spend_per_child"].astype(float),
                         "per_child_text": shown["spend_per_child"].map(_money),
                         "children_text": shown["children_served"].map(lambda v: f"{int(v):,}")})
    order = [x for x in TIERS if x in set(data["tier"])]
    subtitle = [s for s in (where, "Spend ÷ children served: a cost per place, as a child using two services "
                                   "counts in both.") if s]
    if synthetic:
        subtitle.append(SYNTHETIC_LINE)
    if missing:
        subtitle.append(_named("children served is protected or zero", missing))
    tooltip = [alt.Tooltip("tier:N", title="Tier"), alt.Tooltip("per_child_text:N", title="Spend per child"),
               alt.Tooltip("children_text:N", title="Children served")]
    step = 44 * scale
    base = alt.Chart(data).encode(y=alt.Y("tier:N", sort=order, title=None), tooltip=tooltip)
    bars = base.mark_bar(size=step * 0.7, color=OKABE_ITO[0]).encode(
        x=alt.X("per_child:Q", title="Annual spend per child served (£)", axis=alt.Axis(format=",.0f", tickCount=figures.TICKS),
                scale=alt.Scale(domain=[0, 1.2 * float(data["per_child"].max()) if len(data) else 1],
                                nice=figures.TICKS)))
    text = base.mark_text(align="left", dx=5 * scale, fontWeight="bold").encode(x="per_child:Q",
                                                                                text="per_child_text:N")
    plot_height = step * max(len(order), 1)
    chart = alt.layer(bars, text).properties(width="container", height=plot_height)
    return figures.fit(chart, "Spend per child served, by tier", subtitle,
                         plot_height + figures.head_height(subtitle, scale, legend=False), scale)


# --------------------------------------------------------------------------- the what-if


def whatif_data(scenario: Scenario) -> tuple[pd.DataFrame, list[str]]:
    """Reach before and after per tier (the tiers with a cost per child), and the tiers left out."""
    t = scenario.table
    known = t["reach_before"].notna() & t["reach_after"].notna()
    rows = []
    for r in t[known].itertuples():
        for when, reach in ((BEFORE, r.reach_before), (AFTER, r.reach_after)):
            change = r.reach_change
            room = 1.3 * max(r.reach_before, r.reach_after, 1.0)  # space on the right for the label
            rows.append({"tier": r.tier, "when": when, "reach": float(reach), "room": room,
                         "reach_text": f"{reach:,.0f}",
                         "change_text": "" if when == BEFORE or abs(change) < 0.5 else f"{change:+,.0f}",
                         "label": f"{reach:,.0f}" + ("" if when == BEFORE or abs(change) < 0.5
                                                     else f" ({change:+,.0f})")})
    data = pd.DataFrame(rows, columns=["tier", "when", "reach", "room", "reach_text", "change_text", "label"])
    return data, [str(x) for x in t.loc[~known, "tier"]]


class _WhatIf:
    """What the what-if's figure and its on-screen panels share: data, tiers, words and the layers of one panel."""

    def __init__(self, scenario: Scenario, where: str, synthetic: bool, scale: float):
        self.data, missing = whatif_data(scenario)
        self.tiers = [x for x in TIERS if x in set(self.data["tier"])]
        subtitle = [f"Moving {scenario.percent:g}% of {scenario.from_tier} spend ({_money(scenario.moved_gbp)} a year)",
                    f"to {scenario.to_tier}, at each tier's cost per child.",
                    "Children reachable a year; each tier has its own scale. A scenario, not a forecast."]
        if where:
            subtitle.insert(0, where)
        if synthetic:
            subtitle.append(SYNTHETIC_LINE)
        if missing:
            subtitle.append(_named("no cost per child: its children served is protected or zero", missing))
        self.subtitle, self.scale = subtitle, scale
        self.bar = 26 * scale
        self.panel_height = 2 * self.bar

    def color(self, legend: bool) -> alt.Color:
        return alt.Color("when:N", title=None, sort=list(WHEN_COLOURS),
                         scale=alt.Scale(domain=list(WHEN_COLOURS), range=list(WHEN_COLOURS.values())),
                         legend=figures.legend(list(WHEN_COLOURS), self.scale) if legend else None)

    def layer(self, data: pd.DataFrame, legend: bool, ticks=None) -> alt.LayerChart:
        tooltip = [alt.Tooltip("tier:N", title="Tier"), alt.Tooltip("when:N", title="When"),
                   alt.Tooltip("reach_text:N", title="Children reachable a year"),
                   alt.Tooltip("change_text:N", title="Change")]
        base = alt.Chart().encode(y=alt.Y("when:N", sort=[BEFORE, AFTER], title=None), tooltip=tooltip)
        axis = alt.Axis(format=",.0f", **({"tickCount": ticks} if ticks is not None else {}))
        bars = base.mark_bar(size=self.bar * 0.8).encode(
            x=alt.X("reach:Q", title=None, axis=axis,
                    scale=alt.Scale(zero=True, nice=ticks if ticks is not None else True)),
            color=self.color(legend))
        text = base.mark_text(align="left", dx=5 * self.scale).encode(x="reach:Q", text="label:N")
        room = base.mark_point(opacity=0).encode(x="room:Q")  # space on the right for the label
        return alt.layer(bars, text, room, data=data)


TITLE_WHATIF = "Children reachable at each tier, now and after the move"


def whatif_chart(scenario: Scenario, where: str = "", synthetic: bool = False, scale: float = 1.0,
                 width: float = 400) -> alt.Chart:
    """Children reachable a year in each tier, now and after the move: one panel per tier, each on its own scale.

    The figure a file gets (PNG, SVG, a deck), `width` wide; the page draws `whatif_on_screen`."""
    w = _WhatIf(scenario, where, synthetic, scale)
    chart = w.layer(w.data, legend=True).properties(width=width * scale, height=w.panel_height).facet(
        facet=alt.Facet("tier:N", sort=w.tiers, title=None,
                        header=alt.Header(labelOrient="top", labelAnchor="start", labelFontWeight="bold",
                                          labelFontSize=FONT_SIZE * scale)),
        columns=1, spacing=14 * scale).resolve_scale(x="independent")
    panels = max(len(w.tiers), 1)
    height = panels * (w.panel_height + 62 * scale) + figures.head_height(w.subtitle, scale)
    return figures.finish(chart, TITLE_WHATIF, w.subtitle, height, scale, legend_limit=420)


def whatif_on_screen(scenario: Scenario, where: str = "", synthetic: bool = False,
                     scale: float = 1.0) -> list[alt.Chart]:
    """The what-if as the page draws it, as wide as its column: a heading (title, subtitle, legend), then one chart
    per tier on its own scale, each with its axis (a facet cannot be as wide as its container)."""
    w = _WhatIf(scenario, where, synthetic, scale)
    head = alt.Chart(w.data.drop_duplicates("when")).mark_point(opacity=0, aria=False).encode(color=w.color(True))
    out = [figures.fit(head.properties(width="container", height=1), TITLE_WHATIF, w.subtitle,
                       figures.head_height(w.subtitle, scale), scale)]
    for tier in w.tiers:
        panel = w.layer(w.data[w.data["tier"] == tier], legend=False, ticks=figures.TICKS).properties(
            width="container", height=w.panel_height)
        out.append(figures.fit(panel, tier, [], w.panel_height + 70 * scale, scale))
    return out


__all__ = ["fit_chart", "fit_data", "per_child_chart", "spend_chart", "whatif_chart", "whatif_data",
           "whatif_on_screen"]
