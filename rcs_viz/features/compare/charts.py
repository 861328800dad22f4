"""Charts of the Compare views: rank, spine, trend, deprivation gradient and the school map.

Modelled on the ScotPHO profiles (Public Health Scotland). Every chart is drawn
from a `compare` result, whose figures have already passed the disclosure gate:
a unit without a value is never drawn, and nothing about it (no label, base or
comparator) is put into the chart's data. Verdict colours are fixed and safe
for the common colour-vision deficiencies (Okabe–Ito): blue better, vermillion
worse, grey no different; for a measure that is neither good nor bad, sky blue
higher and orange lower. Pure functions: no Streamlit here.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

import altair as alt
import numpy as np
import pandas as pd


from rcs_viz.output import figures
from rcs_viz.output.figures import OKABE_ITO
from rcs_viz.output.tables import no_pupils
from rcs_viz.features.compare.funnel import Funnel
from rcs_viz.features.compare.model import Gradient, Ranked, SchoolMap, Spine, Trend
from rcs_viz.features.compare.neighbours import Neighbours
from rcs_viz.features.compare.similar import Similar

if TYPE_CHECKING:  # pydeck is imported by the map alone: the other views need not wait for it
    import pydeck as pdk

VERDICT_COLOURS = {
    "better": "#0072B2",
    "worse": "#D55E00",
    "no different": "#BBBBBB",
    "higher": "#56B4E9",
    "lower": "#E69F00",
    "not compared": "#E4E4E4",
}
POLAR = ["better", "worse", "no different", "not compared"]
NEUTRAL = ["higher", "lower", "no different", "not compared"]
INK = "#222222"
WHISKER = "#4A4A4A"
GRADIENT_BAR = "#6A7F99"  # a neutral slate: blue and vermillion mean better and worse in these views
NA_TEXT = "not shown (protected)"
NONE_TEXT = "none: no such pupils"  # a [z] (a structural zero, public): nothing was held back
# The deck is framed for a map this many pixels wide and tall at a desk (`map_size` for a projector); the page
# draws it at that height (st.pydeck_chart), so every school is inside the element.
MAP_HEIGHT = 560
MAP_WIDTH = 700


# --------------------------------------------------------------------------- shared


def _decimals(statistic: str, values) -> int:
    """1 dp for percentages and larger means; 2 dp for small means (0–10 scales, exclusions)."""
    if statistic == "pct":
        return 1
    v = pd.to_numeric(pd.Series(values, dtype="float64"), errors="coerce").abs().max()
    return 1 if pd.notna(v) and v >= 10 else 2


def _num(x, dp: int, unit: str = "") -> str:
    return "" if x is None or pd.isna(x) else f"{float(x):,.{dp}f}{unit}"


def _ci(lo, hi, dp: int) -> str:
    if lo is None or hi is None or pd.isna(lo) or pd.isna(hi):
        return ""
    return f"{float(lo):,.{dp}f} to {float(hi):,.{dp}f}"


def _base(b) -> str:
    return "" if b is None or pd.isna(b) else f"{int(b):,}"


def _axis_title(statistic: str) -> str:
    return "% of pupils (95% CI)" if statistic == "pct" else "Mean (95% CI)"


def _verdicts(polarity: str | list[str] | None) -> list[str]:
    """The verdicts a legend names: those of the indicator's polarity, or those given."""
    if isinstance(polarity, list):
        return [v for v in VERDICT_COLOURS if v in polarity or v in ("no different", "not compared")]
    return NEUTRAL if polarity in (None, "neutral") else POLAR


def _verdict_scale(polarity: str | list[str] | None, title: str, scale: float, orient: str = "top",
                   offset: float = 12, whole: bool = False) -> alt.Color:
    """Verdict colours, fixed whatever is in the data; `polarity` picks the legend's entries.

    `whole`: a legend for a chart as wide as its container, every entry whole, wrapped into rows (`figures.legend`).
    """
    domain = _verdicts(polarity)
    style = dict(symbolStrokeColor="#777777", symbolStrokeWidth=0.5, symbolSize=160 * scale, offset=offset * scale)
    legend = (figures.legend(domain, scale, plot_width=True, titleLimit=0, **style) if whole
              else alt.Legend(orient=orient, columns=len(domain), titleLimit=900 * scale, **style))
    return alt.Color("verdict:N", title=title,
                     scale=alt.Scale(domain=domain, range=[VERDICT_COLOURS[v] for v in domain]), legend=legend)


def _lower(label: str) -> str:
    """'Previous wave (2016)' → 'previous wave (2016)', but 'CPP average' stays."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def _subtitle(context, *lines: str) -> list[str]:
    out = [line for line in lines if line]
    if context is not None:
        if context.filters_text:
            out.append("; ".join(context.filters_text))
        out.extend(context.notes)
    return out




# --------------------------------------------------------------------------- rank


def _estimates(frame: pd.DataFrame, name: str, dp: int, unit: str) -> pd.DataFrame:
    """Shown estimates as chart data: the label as `name`, whiskers (a point where there is no interval), texts."""
    value = frame["value"].astype(float)
    return pd.DataFrame({
        name: frame["label"].astype(str),
        "value": value,
        "ci_low": frame["ci_low"].astype(float).fillna(value),
        "ci_high": frame["ci_high"].astype(float).fillna(value),
        "value_text": [_num(v, dp, unit) for v in frame["value"]],
        "ci_text": [_ci(lo, hi, dp) for lo, hi in zip(frame["ci_low"], frame["ci_high"])],
        "base_text": [_base(b) for b in frame["base"]],
    })


def rank_chart(r: Ranked, scale: float = 1.0) -> alt.Chart:
    """Units highest first: bars (a %) or dots (a mean) with 95% CIs, against a line or last wave's ticks."""
    ind = r.indicator
    drawn = r.drawn
    dp = _decimals(ind.statistic, pd.concat([drawn["value"], drawn["comparator"]]))
    per_unit = r.comparator in ("previous", "neighbours")  # one comparator per unit: ticks
    data = _estimates(drawn, "unit", dp, ind.unit).assign(verdict=drawn["verdict"].astype(str).to_numpy())
    tooltip = [alt.Tooltip("unit:N", title=r.level_label), alt.Tooltip("value_text:N", title="Value"),
               alt.Tooltip("ci_text:N", title="95% CI"), alt.Tooltip("base_text:N", title="Pupils (base)"),
               alt.Tooltip("verdict:N", title=f"Against {r.comparator_label}")]
    if per_unit:
        data["comparator"] = drawn["comparator"].astype(float).to_numpy()
        data["comparator_text"] = [_num(v, dp, ind.unit) or "not available" for v in drawn["comparator"]]
        tooltip.insert(4, alt.Tooltip("comparator_text:N", title=r.comparator_label))
    short = figures.shorten_all(list(data["unit"]))  # the axis shows a long name shortened; the tooltip whole
    data["unit_short"] = data["unit"].map(short)
    order = list(data["unit_short"])
    is_pct = ind.statistic == "pct"
    x_title = _axis_title(ind.statistic)
    x_scale = alt.Scale(zero=is_pct, nice=figures.TICKS)
    against = f"Compared with {r.comparator_label}"
    y = alt.Y("unit_short:N", sort=order, title=None,
              axis=alt.Axis(labelLimit=figures.label_room(_verdicts(ind.polarity), scale, against)))
    color = _verdict_scale(ind.polarity, against, scale, offset=30, whole=True)
    base = alt.Chart(data).encode(y=y)
    step = 30 * scale
    if is_pct:
        marks = base.mark_bar(size=step * 0.7, stroke="#777777", strokeWidth=0.5).encode(
            x=alt.X("value:Q", title=x_title, scale=x_scale, axis=alt.Axis(format=",~r", tickCount=figures.TICKS)),
            color=color, tooltip=tooltip)
    else:
        marks = base.mark_point(filled=True, size=170 * scale, opacity=1, stroke="#555555", strokeWidth=0.7).encode(
            x=alt.X("value:Q", title=x_title, scale=x_scale, axis=alt.Axis(format=",~r", tickCount=figures.TICKS)),
            color=color, tooltip=tooltip)
    whiskers = base.mark_rule(color=WHISKER, strokeWidth=1.4 * scale).encode(x="ci_low:Q", x2="ci_high:Q",
                                                                            tooltip=tooltip)
    caps = (base.mark_tick(color=WHISKER, thickness=1.4 * scale, size=step * 0.3).encode(x="ci_low:Q")
            + base.mark_tick(color=WHISKER, thickness=1.4 * scale, size=step * 0.3).encode(x="ci_high:Q"))
    layers = [marks, whiskers, caps]
    key = ""
    if per_unit:
        layers.append(base.transform_filter("isValid(datum.comparator)").mark_tick(
            color="#000000", thickness=4 * scale, size=step * 0.95).encode(x="comparator:Q", tooltip=tooltip))
        key = f"Black tick: {r.comparator_label}."
    elif r.comparator_value is not None:
        label = f"{r.comparator_label} {_num(r.comparator_value, dp, ind.unit)}"
        line = pd.DataFrame({"comparator": [float(r.comparator_value)], "label": [label]})
        rule = alt.Chart(line).mark_rule(color="#000000", strokeDash=[6, 4], strokeWidth=2 * scale).encode(
            x="comparator:Q", tooltip=[alt.Tooltip("label:N", title="Comparator")])
        right = float(r.comparator_value) > 0.6 * float(max(data["ci_high"].max(), r.comparator_value))
        text = alt.Chart(line).mark_text(align="right" if right else "left", dx=(-5 if right else 5) * scale, dy=-4 * scale, baseline="bottom",
                                         fontWeight="bold").encode(x="comparator:Q", y=alt.value(0), text="label:N")
        layers += [rule, text]
    n_hidden = len(r.units) - len(drawn)
    noun = r.level_label.lower()
    hidden = (f"{n_hidden} {noun}{'s' if n_hidden != 1 else ''} not shown: too few pupils to report."
              if n_hidden else "")
    subtitle = _subtitle(r.context, f"Each {noun} compared with the {_lower(r.comparator_label)}; "
                                    f"lines are 95% confidence intervals. {key}".strip(), hidden)
    plot_height = max(step * max(len(data), 1), 80 * scale)
    chart = alt.layer(*layers).properties(width="container", height=plot_height)
    return figures.fit(chart, r.title, subtitle, plot_height + figures.head_height(subtitle, scale), scale)


# --------------------------------------------------------------------------- spine


def _positions(values: pd.Series, low: pd.Series, high: pd.Series, polarity: pd.Series) -> pd.Series:
    """0 = the worst (or lowest) unit of the CPP, 1 = the best (or highest); NaN stays NaN."""
    values, low, high = (pd.to_numeric(s, errors="coerce").astype(float) for s in (values, low, high))
    span = high - low
    flat = ~(span > 0)
    up = (values - low) / span.where(~flat)
    pos = up.where(~polarity.eq("lower_is_better"), 1 - up)
    return pos.where(~flat | values.isna(), 0.5)


def spine_chart(s: Spine, scale: float = 1.0):
    """One row per indicator: the CPP's range worst→best, the CPP tick, the national diamond, the unit's dot."""
    rows = s.rows.reset_index(drop=True)
    if not len(rows):
        empty = alt.Chart(pd.DataFrame({"text": ["No indicators to show."]})).mark_text().encode(text="text:N")
        return figures.finish(empty, f"{s.unit_label}: indicators", [], 200 * scale, scale)
    shown = rows["value"].notna()
    nobody = no_pupils(rows)
    polarity = rows["polarity"].fillna("neutral")
    pos = {k: _positions(rows[k], rows["low"], rows["high"], polarity) for k in ("value", "cpp", "national")}
    has_range = rows["low"].notna() & rows["high"].notna()
    unit = lambda st: "%" if st == "pct" else ""  # noqa: E731
    dps = [_decimals(st, [lo, hi]) for st, lo, hi in zip(rows["statistic"], rows["low"], rows["high"])]
    low_is_best = polarity.eq("lower_is_better")
    data = pd.DataFrame({
        "indicator": rows["indicator"].astype(str),
        "label": rows["label"].astype(str),
        "group": rows["group"].fillna("Other").astype(str),
        "order": range(len(rows)),
        "verdict": rows["verdict"].where(shown, "not compared").astype(str),
        "x_value": pos["value"].where(shown),
        "x_cpp": pos["cpp"],
        "x_national": pos["national"],
        "x0": np.where(has_range, 0.0, np.nan),
        "x1": np.where(has_range, 1.0, np.nan),
        "value_text": [_num(v, dp, unit(st)) if ok else NONE_TEXT if z else NA_TEXT
                       for v, dp, st, ok, z in zip(rows["value"], dps, rows["statistic"], shown, nobody)],
        "ci_text": [_ci(lo, hi, dp) if ok else "" for lo, hi, dp, ok in zip(rows["ci_low"], rows["ci_high"], dps, shown)],
        "base_text": [_base(b) if ok else "" for b, ok in zip(rows["base"], shown)],
        "cpp_text": [_num(v, dp, unit(st)) or "not shown" for v, dp, st in zip(rows["cpp"], dps, rows["statistic"])],
        "national_text": [_num(v, dp, unit(st)) or "none" for v, dp, st in zip(rows["national"], dps, rows["statistic"])],
        "range_text": [f"{_num(hi if lb else lo, dp, unit(st))} (worst) to {_num(lo if lb else hi, dp, unit(st))} (best)"
                       if pol != "neutral" else f"{_num(lo, dp, unit(st))} (lowest) to {_num(hi, dp, unit(st))} (highest)"
                       for lo, hi, dp, st, lb, pol in zip(rows["low"], rows["high"], dps, rows["statistic"],
                                                          low_is_best, polarity)],
        "units_text": [f"{int(n)}" for n in rows["units"].fillna(0)],
    })
    data.loc[~has_range, "range_text"] = "no units shown"
    pick = alt.selection_point(fields=["indicator"], name="pick")
    level = s.level_label.lower()
    against = "CPP" if s.comparator == "cpp" else "national figure"
    tooltip = [alt.Tooltip("label:N", title="Indicator"), alt.Tooltip("value_text:N", title=s.unit_label),
               alt.Tooltip("ci_text:N", title="95% CI"), alt.Tooltip("base_text:N", title="Pupils (base)"),
               alt.Tooltip("verdict:N", title=f"Against the {against}"), alt.Tooltip("cpp_text:N", title="CPP"),
               alt.Tooltip("national_text:N", title="National"),
               alt.Tooltip("range_text:N", title=f"Range of the CPP's {level}s"),
               alt.Tooltip("units_text:N", title=f"{s.level_label}s shown")]
    step = 26 * scale
    # One view, so it can be as wide as its container (a facet cannot): each group is a heading row of its own,
    # in bold, above its indicators; a long indicator is shortened on the axis and whole in the tooltip.
    groups = list(dict.fromkeys(data["group"]))
    short = figures.shorten_all(list(data["label"]))
    data["row"] = data["label"].map(short)
    heads = {g: g if g not in set(data["row"]) else f"{g} (group)" for g in groups}
    data = pd.concat([data, pd.DataFrame({"row": list(heads.values()), "group": groups,
                                          "order": [data.loc[data["group"].eq(g), "order"].min() - 0.5
                                                    for g in groups]})], ignore_index=True)
    data = data.sort_values(["order"], kind="stable").reset_index(drop=True)
    data["order"] = range(len(data))
    bold = " || ".join(f"datum.value === {json.dumps(h)}" for h in heads.values())
    y = alt.Y("row:N", sort=list(data["row"]), title=None,
              axis=alt.Axis(labelLimit=0, ticks=False, domain=False, labelPadding=8 * scale,
                            labelFontWeight=alt.expr(f"({bold}) ? 'bold' : 'normal'")))
    # a CPP or national mark outside the units' range sits at the edge; its tooltip gives the real value
    x_scale = alt.Scale(domain=[-0.15, 1.15], clamp=True)
    x_axis = alt.Axis(values=[0, 0.5, 1], grid=False,
                      labelExpr="datum.value == 0 ? 'Worst / lowest' : datum.value == 1 ? 'Best / highest' : ''")
    base = alt.Chart().encode(y=y, tooltip=tooltip)
    band = base.mark_bar(size=step * 0.42, color="#D9D9D9", cornerRadius=2).encode(
        x=alt.X("x0:Q", scale=x_scale, axis=x_axis, title=f"Position among the CPP's {level}s"),
        x2="x1:Q", opacity=alt.condition(pick, alt.value(1), alt.value(0.35))).add_params(pick)
    cpp = base.transform_filter("isValid(datum.x_cpp)").mark_tick(
        color="#000000", thickness=3 * scale, size=step * 0.8).encode(x=alt.X("x_cpp:Q", scale=x_scale))
    nat = base.transform_filter("isValid(datum.x_national)").mark_point(
        shape="diamond", filled=False, color="#000000", strokeWidth=1.8 * scale, size=110 * scale).encode(
        x=alt.X("x_national:Q", scale=x_scale))
    dot = base.transform_filter("isValid(datum.x_value)").mark_circle(
        size=190 * scale, opacity=1, stroke="#333333", strokeWidth=0.8).encode(
        x=alt.X("x_value:Q", scale=x_scale),
        color=_verdict_scale((["better", "worse"] if polarity.ne("neutral").any() else [])
                             + (["higher", "lower"] if polarity.eq("neutral").any() else []),
                             f"{s.unit_label} against the {against}", scale, whole=True))
    chart = alt.layer(band, cpp, nat, dot, data=data).properties(width="container", height=alt.Step(step))
    has_neutral = polarity.eq("neutral").any()
    subtitle = _subtitle(
        s.context,
        f"Grey bar: the range of the CPP's {level}s, worst to best. Black tick: CPP. Open diamond: national. "
        f"Dot: {s.unit_label}.",
        "Click a row to open its ranking." + (" Neutral measures (neither good nor bad) run lowest to highest;"
                                              " they are 'higher' or 'lower', not better or worse."
                                              if has_neutral else ""))
    return figures.fit(chart, f"{s.unit_label} across indicators, against the {against}", subtitle,
                       step * len(data) + figures.head_height(subtitle, scale) + 40 * scale, scale)


# --------------------------------------------------------------------------- trend


def trend_chart(t: Trend, scale: float = 1.0) -> alt.Chart:
    """Lines and points with 95% CIs across waves; the national figure dashed, without an interval."""
    ind = t.indicator
    s = t.series.reset_index(drop=True)
    waves = list(dict.fromkeys(s["wave_label"].astype(str)))
    names = list(dict.fromkeys(s["series"].astype(str)))
    dp = _decimals(ind.statistic, s["value"])
    data = pd.DataFrame({
        "series": s["series"].astype(str),
        "wave_label": s["wave_label"].astype(str),
        "value": s["value"].astype(float),
        "ci_low": s["ci_low"].astype(float),
        "ci_high": s["ci_high"].astype(float),
        "value_text": [_num(v, dp, ind.unit) for v in s["value"]],
        "ci_text": [_ci(lo, hi, dp) for lo, hi in zip(s["ci_low"], s["ci_high"])],
        "base_text": [_base(b) for b in s["base"]] if "base" in s else "",
        "national": s["series"].eq("National"),
    })
    data["rank"] = data["wave_label"].map({w: i for i, w in enumerate(waves)})
    data = data.sort_values(["series", "rank"], kind="stable")
    # a protected wave breaks the line rather than being bridged by it
    data["segment"] = data["series"] + "#" + data.groupby("series")["value"].transform(
        lambda v: v.isna().cumsum()).astype(str)
    nobody = int((s["value"].isna() & no_pupils(s)).sum())
    n_hidden = int(data["value"].isna().sum()) - nobody
    data = data[data["value"].notna()].drop(columns="rank")
    others = [n for n in names if n != "National"]
    palette = dict(zip(others, [OKABE_ITO[0], OKABE_ITO[1], OKABE_ITO[2], OKABE_ITO[5]]))
    palette["National"] = "#000000"
    color = alt.Color("series:N", title=None, sort=names,
                      scale=alt.Scale(domain=names, range=[palette[n] for n in names]),
                      legend=figures.legend(names, scale, plot_width=True, symbolStrokeWidth=3 * scale))
    dash = alt.StrokeDash("national:N", scale=alt.Scale(domain=[False, True], range=[[1, 0], [7, 4]]), legend=None)
    tooltip = [alt.Tooltip("series:N", title="Series"), alt.Tooltip("wave_label:N", title="Wave"),
               alt.Tooltip("value_text:N", title="Value"), alt.Tooltip("ci_text:N", title="95% CI"),
               alt.Tooltip("base_text:N", title="Pupils (base)")]
    x = alt.X("wave_label:O", sort=waves, title="Survey wave", axis=alt.Axis(labelAngle=0),
              scale=alt.Scale(type="point", padding=0.5))
    y_title = _axis_title(ind.statistic)
    y_scale = alt.Scale(zero=ind.statistic == "pct", nice=True)
    # the unit and the CPP sit a little apart so their intervals do not overlap; the nation between them
    spread = {n: (i - (len(others) - 1) / 2) * 14 * scale for i, n in enumerate(others)} | {"National": 0.0}
    data["offset"] = data["series"].map(spread)
    base = alt.Chart(data).encode(x=x, xOffset=alt.XOffset("offset:Q", scale=None), color=color, tooltip=tooltip)
    lines = base.mark_line(strokeWidth=2.5 * scale).encode(y=alt.Y("value:Q", title=y_title, scale=y_scale),
                                                           detail="segment:N", strokeDash=dash)
    bars = base.transform_filter("isValid(datum.ci_low) && !datum.national").mark_rule(
        strokeWidth=2 * scale).encode(y="ci_low:Q", y2="ci_high:Q")
    points = base.mark_point(filled=True, size=110 * scale, opacity=1).encode(
        y="value:Q", shape=alt.Shape("national:N", scale=alt.Scale(domain=[False, True],
                                                                  range=["circle", "diamond"]), legend=None))
    changes = []
    for c in t.change.to_dict("records") if len(t.change) else ():
        if pd.isna(c["diff"]):
            continue
        changes.append(f"{c['series']}, {c['from']} to {c['to']}: {float(c['diff']):+,.{dp}f}"
                       f"{' points' if ind.statistic == 'pct' else ''} (95% CI {_ci(c['diff_low'], c['diff_high'], dp)}),"
                       f" {c['verdict']}.")
    subtitle = _subtitle(t.context, "Vertical lines: 95% confidence intervals. National figure dashed.",
                         *changes, f"{n_hidden} point{'s' if n_hidden != 1 else ''} not shown: too few pupils."
                         if n_hidden else "", f"{nobody} point{'s' if nobody != 1 else ''} not drawn: no such pupils."
                         if nobody else "")
    plot_height = 320 * scale
    chart = alt.layer(lines, bars, points).properties(width="container", height=plot_height)
    return figures.fit(chart, f"{t.title} — trend", subtitle,
                         plot_height + figures.head_height(subtitle, scale) + 30 * scale,
                         scale)


# --------------------------------------------------------------------------- deprivation gradient


def gradient_chart(g: Gradient, scale: float = 1.0) -> alt.Chart:
    """Bars by SIMD quintile, most deprived first, with 95% CIs and the gap in words."""
    ind = g.indicator
    groups = g.groups.reset_index(drop=True)
    order = list(groups["label"].astype(str))
    shown = groups[groups["value"].notna()]
    dp = _decimals(ind.statistic, shown["value"])
    data = _estimates(shown, "group", dp, ind.unit)
    tooltip = [alt.Tooltip("group:N", title=g.by_label), alt.Tooltip("value_text:N", title="Value"),
               alt.Tooltip("ci_text:N", title="95% CI"), alt.Tooltip("base_text:N", title="Pupils (base)")]
    x = alt.X("group:N", sort=[o for o in order if o in set(data["group"])], title=f"{g.by_label} (most deprived first)",
              axis=alt.Axis(labelAngle=0, labelLimit=200 * scale))
    y_scale = alt.Scale(zero=True, nice=True)
    base = alt.Chart(data).encode(x=x, tooltip=tooltip)
    bars = base.mark_bar(color=GRADIENT_BAR, width=alt.RelativeBandSize(0.6)).encode(
        y=alt.Y("value:Q", title=_axis_title(ind.statistic), scale=y_scale))
    whiskers = base.mark_rule(color=INK, strokeWidth=1.8 * scale).encode(y="ci_low:Q", y2="ci_high:Q")
    caps = (base.mark_tick(color=INK, thickness=1.8 * scale, size=16 * scale).encode(y="ci_low:Q")
            + base.mark_tick(color=INK, thickness=1.8 * scale, size=16 * scale).encode(y="ci_high:Q"))
    gap = g.gap or {}
    lines = ["Lines: 95% confidence intervals."]
    if gap:
        unit = " points" if ind.statistic == "pct" else ""
        ratio = f"; ratio {gap['ratio']:.2f}" if pd.notna(gap.get("ratio")) else ""
        words = {"better": "the most deprived fare better", "worse": "the most deprived fare worse",
                 "higher": "higher among the most deprived", "lower": "lower among the most deprived",
                 "no different": "no clear difference"}.get(gap.get("verdict"), gap.get("verdict", ""))
        lines.append(f"Gap, {gap['most']} minus {gap['least']}: {gap['diff']:+,.{dp}f}{unit} "
                     f"(95% CI {_ci(gap['diff_low'], gap['diff_high'], dp)}){ratio}: {words}.")
    hidden = [o for o in order if o not in set(data["group"])]
    if hidden:
        lines.append(f"Not shown, too few pupils: {', '.join(hidden)}.")
    lines.append(g.inequality.sii_reading or g.inequality.reason)
    subtitle = _subtitle(g.context, *lines)
    plot_height = 300 * scale
    chart = alt.layer(bars, whiskers, caps).properties(width="container", height=plot_height)
    return figures.fit(chart, f"{g.title} — by deprivation", subtitle,
                         plot_height + figures.head_height(subtitle, scale, legend=False) + 30 * scale, scale)


# --------------------------------------------------------------------------- funnel


def funnel_chart(f: Funnel, scale: float = 1.0) -> alt.Chart:
    """Each drawn unit at (pupils, figure), coloured by its flag, inside the comparator's 95% and 99.8% curves.

    Only drawn units enter the chart's data; the y scale is framed on them and on the limits at the smallest
    drawn size, so the widest part of the funnel does not flatten the points.
    """
    ind = f.indicator
    drawn = f.drawn.reset_index(drop=True)
    curves = f.curves()
    dp = _decimals(ind.statistic, drawn["value"])
    data = _estimates(drawn, "unit", dp, ind.unit).assign(
        base=drawn["base"].astype(float).to_numpy(), verdict=drawn["verdict"].astype(str).to_numpy(),
        flag=drawn["flag"].astype(str).to_numpy())
    against = _lower(f.comparator_label)
    tooltip = [alt.Tooltip("unit:N", title=f.level_label), alt.Tooltip("value_text:N", title="Value"),
               alt.Tooltip("ci_text:N", title="95% CI"), alt.Tooltip("base_text:N", title="Pupils (base)"),
               alt.Tooltip("flag:N", title=f"Against the {against}")]
    ys = list(data["value"]) + ([float(curves["low998"].iloc[0]), float(curves["high998"].iloc[0])]
                                if len(curves) else []) + ([f.comparator_value] if f.comparator_value is not None else [])
    lo, hi = (min(ys), max(ys)) if ys else (0.0, 1.0)
    pad = max((hi - lo) * 0.08, 0.5)
    lo, hi = lo - pad, hi + pad
    if ind.statistic == "pct":
        lo, hi = max(lo, 0.0), min(hi, 100.0)
    y_scale = alt.Scale(domain=[lo, hi], nice=False, zero=False)
    x_scale = alt.Scale(zero=False, nice=figures.TICKS)
    y = alt.Y("value:Q", title=_axis_title(ind.statistic).replace(" (95% CI)", ""), scale=y_scale)
    x = alt.X("base:Q", title=f"Pupils in the {f.level_label.lower()} (base)", scale=x_scale,
              axis=alt.Axis(format=",~r", tickCount=figures.TICKS))
    layers = []
    if len(curves):
        long = curves.melt(id_vars="n", value_vars=["low95", "high95", "low998", "high998"], var_name="line",
                           value_name="limit")
        long["level"] = np.where(long["line"].str.endswith("998"), "99.8% limits", "95% limits")
        long["limit_text"] = [_num(v, dp, ind.unit) for v in long["limit"]]
        long["n_text"] = [f"{v:,.0f}" for v in long["n"]]
        limit_tip = [alt.Tooltip("level:N", title="Limit"), alt.Tooltip("n_text:N", title="Pupils"),
                     alt.Tooltip("limit_text:N", title="Value")]
        dash = alt.StrokeDash("level:N", scale=alt.Scale(domain=["95% limits", "99.8% limits"], range=[[1, 0], [6, 4]]),
                              legend=None)
        layers.append(alt.Chart(long).mark_line(clip=True, color="#555555", strokeWidth=1.6 * scale).encode(
            x=alt.X("n:Q", scale=x_scale), y=alt.Y("limit:Q", scale=y_scale), detail="line:N", strokeDash=dash,
            tooltip=limit_tip))
        line = pd.DataFrame({"n": [float(curves["n"].min()), float(curves["n"].max())],
                             "target": [float(f.comparator_value)] * 2,
                             "label": [f"{f.comparator_label} {_num(f.comparator_value, dp, ind.unit)}"] * 2})
        layers.append(alt.Chart(line).mark_line(color="#000000", strokeWidth=2 * scale).encode(
            x=alt.X("n:Q", scale=x_scale), y=alt.Y("target:Q", scale=y_scale),
            tooltip=[alt.Tooltip("label:N", title="Comparator")]))
    points = alt.Chart(data).mark_point(filled=True, size=150 * scale, opacity=1, stroke="#333333",
                                        strokeWidth=0.7).encode(
        x=x, y=y, color=_verdict_scale(ind.polarity, f"Against the {against}", scale, offset=20, whole=True),
        tooltip=tooltip)
    layers.append(points)
    noun = f.level_label.lower()
    lines = []
    if f.comparator_value is not None:
        lines.append(f"Black line: {against} ({_num(f.comparator_value, dp, ind.unit)}); solid grey curves: 95% "
                     f"limits; dashed: 99.8% limits. A {noun} outside them differs by more than chance would "
                     f"usually give.")
    outside = f.outside
    for verdict, group in outside.groupby("verdict", sort=False):
        names = list(group["label"].astype(str))
        lines.append(f"Outside the limits, {verdict}: " + ", ".join(names[:6])
                     + (f" and {len(names) - 6} more" if len(names) > 6 else "") + ".")
    if not len(outside) and f.comparator_value is not None and len(drawn):
        lines.append(f"Every {noun} drawn lies within the 95% limits.")
    hidden = f.protected
    if hidden:
        lines.append(f"{len(hidden)} {noun}{'s' if len(hidden) != 1 else ''} not drawn (protected): "
                     + ", ".join(hidden[:6]) + (f" and {len(hidden) - 6} more (see the table)." if len(hidden) > 6
                                               else "."))
    subtitle = _subtitle(f.context, *lines)
    plot_height = 360 * scale
    chart = alt.layer(*layers).properties(width="container", height=plot_height)
    return figures.fit(chart, f"{f.title} — funnel", subtitle, plot_height + figures.head_height(subtitle, scale), scale)


# --------------------------------------------------------------------------- similar pupils and neighbours


def _in_sentence(label: str) -> str:
    """A label inside a sentence: 'Stage' becomes 'stage', but 'SIMD quintile' keeps its capitals."""
    return label if label[1:2].isupper() else label[:1].lower() + label[1:]


def ratio_domain(data: pd.DataFrame) -> list[float]:
    """The ratio axis: every ratio, interval and 1 (the line of 'as expected') with a little room either side.

    Not from zero: ratios sit around 1, and an axis from 0 left them a corner of the width. The chart rounds it
    out to the ticks it writes (`figures.TICKS`), so no interval ends past the last value on the axis. Linear, not log: the
    ratios here stay within a factor of about 2 of 1, where the two differ little and a linear axis reads plainly.
    """
    ends = [float(v) for v in [*data["ci_low"], *data["ci_high"], *data["ratio"], 1.0] if pd.notna(v)]
    low, high = min(ends), max(ends)
    room = 0.05 * ((high - low) or 1.0)
    return [max(0.0, low - room), high + room]


def similar_chart(r: Similar, scale: float = 1.0) -> alt.Chart:
    """Units by observed ÷ expected, highest first, with 95% intervals, against 1 (as similar pupils elsewhere)."""
    drawn = r.drawn.reset_index(drop=True)
    data = pd.DataFrame({
        "unit": drawn["label"].astype(str), "ratio": drawn["ratio"].astype(float),
        "ci_low": drawn["ci_low"].astype(float), "ci_high": drawn["ci_high"].astype(float),
        "verdict": drawn["verdict"].astype(str),
        "ratio_text": [f"{v:.2f}" for v in drawn["ratio"]],
        "ci_text": [f"{lo:.2f}–{hi:.2f}" for lo, hi in zip(drawn["ci_low"], drawn["ci_high"])],
        "counts_text": [f"{int(o):,} observed, {e:,.1f} expected" for o, e in zip(drawn["observed"], drawn["expected"])],
    })
    short = figures.shorten_all(list(data["unit"]))
    data["unit_short"] = data["unit"].map(short)
    tooltip = [alt.Tooltip("unit:N", title=r.level_label), alt.Tooltip("ratio_text:N", title="Observed ÷ expected"),
               alt.Tooltip("ci_text:N", title="95% CI"), alt.Tooltip("counts_text:N", title="Pupils"),
               alt.Tooltip("verdict:N", title="Against similar pupils")]
    step = 30 * scale
    x = alt.X("ratio:Q", title="Observed ÷ expected (95% CI)",
              scale=alt.Scale(domain=ratio_domain(data), nice=figures.TICKS, zero=False),
              axis=alt.Axis(format=".2~f", tickCount=figures.TICKS))
    room = figures.label_room(_verdicts(r.indicator.polarity), scale, "Against similar pupils")
    base = alt.Chart(data).encode(y=alt.Y("unit_short:N", sort=list(data["unit_short"]), title=None,
                                          axis=alt.Axis(labelLimit=room)))
    layers = [
        base.mark_rule(color=WHISKER, strokeWidth=1.4 * scale).encode(x="ci_low:Q", x2="ci_high:Q", tooltip=tooltip),
        base.mark_point(filled=True, size=170 * scale, opacity=1, stroke="#555555", strokeWidth=0.7).encode(
            x=x, color=_verdict_scale(r.indicator.polarity, "Against similar pupils", scale, offset=30, whole=True),
            tooltip=tooltip),
        alt.Chart(pd.DataFrame({"one": [1.0]})).mark_rule(color="#000000", strokeDash=[6, 4],
                                                          strokeWidth=2 * scale).encode(x="one:Q"),
    ]
    noun = r.level_label.lower()
    hidden = r.protected
    lines = [f"Each {noun}'s pupils against pupils like them (same {', '.join(_in_sentence(s) for s in r.strata_labels)}) "
             f"in {r.reference_label}; 1 (dashed) is as expected, above 1 more pupils with it than expected.",
             (f"{len(hidden)} {noun}{'s' if len(hidden) != 1 else ''} not drawn (protected): " + ", ".join(hidden[:6])
              + (f" and {len(hidden) - 6} more." if len(hidden) > 6 else ".")) if hidden else ""]
    subtitle = _subtitle(r.context, *lines)
    plot_height = max(step * max(len(data), 1), 80 * scale)
    chart = alt.layer(*layers).properties(width="container", height=plot_height)
    return figures.fit(chart, f"{r.title} — against similar pupils", subtitle,
                       plot_height + figures.head_height(subtitle, scale), scale)


NEIGHBOUR_KINDS = {"unit": "#000000", "neighbour": "#777777", "average": "#0072B2", "cpp": "#E69F00",
                   "national": "#009E73", "previous": "#CC79A7"}


def neighbours_chart(n: Neighbours, scale: float = 1.0) -> alt.Chart:
    """The unit, each neighbour, the neighbours' average and the other comparators, as dots with 95% intervals."""
    f = n.figures[n.figures["value"].notna()].reset_index(drop=True)
    dp = _decimals(n.indicator.statistic, f["value"])
    data = pd.DataFrame({"row": f["label"].astype(str), "kind": f["kind"].astype(str),
                         "value": f["value"].astype(float),
                         "ci_low": f["ci_low"].astype(float).fillna(f["value"].astype(float)),
                         "ci_high": f["ci_high"].astype(float).fillna(f["value"].astype(float)),
                         "value_text": [_num(v, dp, n.indicator.unit) for v in f["value"]],
                         "ci_text": [_ci(lo, hi, dp) for lo, hi in zip(f["ci_low"], f["ci_high"])]})
    tooltip = [alt.Tooltip("row:N", title=""), alt.Tooltip("value_text:N", title="Value"),
               alt.Tooltip("ci_text:N", title="95% CI")]
    kinds = [k for k in NEIGHBOUR_KINDS if k in set(data["kind"])]
    color = alt.Color("kind:N", title=None, scale=alt.Scale(domain=kinds, range=[NEIGHBOUR_KINDS[k] for k in kinds]),
                      legend=None)
    base = alt.Chart(data).encode(y=alt.Y("row:N", sort=list(data["row"]), title=None, axis=alt.Axis(labelLimit=0)))
    x = alt.X("value:Q", title=_axis_title(n.indicator.statistic),
              scale=alt.Scale(zero=False, nice=figures.TICKS), axis=alt.Axis(format=",~r", tickCount=figures.TICKS))
    layers = [base.mark_rule(color=WHISKER, strokeWidth=1.4 * scale).encode(x="ci_low:Q", x2="ci_high:Q",
                                                                            tooltip=tooltip),
              base.mark_point(filled=True, size=170 * scale, opacity=1).encode(x=x, color=color, tooltip=tooltip)]
    hidden = n.protected
    lines = [f"{n.unit_label} (black), its {len(n.profile) - 1} statistical neighbours (grey) and their average "
             "(blue), beside the other comparators; lines are 95% confidence intervals.",
             ("Not drawn (protected): " + ", ".join(hidden) + ".") if hidden else ""]
    subtitle = _subtitle(n.context, *lines)
    step = 30 * scale
    plot_height = max(step * max(len(data), 1), 80 * scale)
    chart = alt.layer(*layers).properties(width="container", height=plot_height)
    return figures.fit(chart, f"{n.title} — {n.unit_label} and its neighbours", subtitle,
                       plot_height + figures.head_height(subtitle, scale), scale)


# --------------------------------------------------------------------------- school map


def _rgb(hex_colour: str, alpha: int = 255) -> list[int]:
    h = hex_colour.lstrip("#")
    return [int(h[i:i + 2], 16) for i in (0, 2, 4)] + [alpha]


def _hull(lon: np.ndarray, lat: np.ndarray, pad: float) -> list[list[float]]:
    """The convex hull of the schools, each first grown into a small octagon so 1 or 2 schools still outline."""
    from scipy.spatial import ConvexHull, QhullError

    k = max(math.cos(math.radians(float(np.mean(lat)))), 0.2)
    angles = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    pts = np.array([(x + pad * np.cos(a) / k, y + pad * np.sin(a)) for x, y in zip(lon, lat) for a in angles])
    try:
        hull = ConvexHull(pts)
    except (QhullError, ValueError):
        return []
    return [[round(float(pts[i, 0]), 6), round(float(pts[i, 1]), 6)] for i in hull.vertices]


def map_size(scale: float = 1.0) -> tuple[int, int]:
    """The map's frame (width, height) in pixels: larger for a projector, but no wider than a 1024-px screen's
    page and no taller than a 768-px screen shows, so the room sees every school without scrolling the map."""
    return int(MAP_WIDTH * min(scale, 1.3)), int(MAP_HEIGHT * min(scale, 1.15))


def _view(lon: pd.Series, lat: pd.Series, scale: float) -> pdk.ViewState:
    """Centre and zoom that frame every school in a `map_size` view, with a margin (the page may be wider)."""
    import pydeck as pdk

    if not len(lon):
        return pdk.ViewState(latitude=56.5, longitude=-4.2, zoom=5.5)  # Scotland
    lo_min, lo_max, la_min, la_max = float(lon.min()), float(lon.max()), float(lat.min()), float(lat.max())
    merc = lambda d: math.degrees(math.log(math.tan(math.pi / 4 + math.radians(d) / 2)))  # noqa: E731
    lon_span = max(lo_max - lo_min, 0.01) * 1.2
    lat_span = max(merc(la_max) - merc(la_min), 0.01) * 1.25
    # deck.gl's world is 512 px wide at zoom 0
    width, height = map_size(scale)
    zoom = min(math.log2(width * 360 / (512 * lon_span)), math.log2(height * 360 / (512 * lat_span)))
    return pdk.ViewState(latitude=(la_min + la_max) / 2, longitude=(lo_min + lo_max) / 2,
                         zoom=round(max(min(zoom, 15.0), 4.0), 2), pitch=0, bearing=0)


TOOLTIP_HTML = "<b>{name}</b><br/>{line1}<br/>{line2}<br/>{line3}"


def school_deck(m: SchoolMap, scale: float = 1.0) -> pdk.Deck:
    """Schools as dots on a blank canvas (no map tiles), sized by pupils and coloured by verdict; clusters outlined.

    Colour shows the verdict against the CPP, as in the rank chart, rather than the value on a
    sequential scale: a map invites comparing neighbours, and a verdict only differs where the
    95% interval says it does, so chance differences between small schools are not painted as
    findings. Protected schools are hollow grey rings of one small size (their base would size
    them), and their tooltip says only that they are protected.

    Streamlit fills in a Carto basemap (tiles fetched from the internet) whenever a deck's
    map style is None or empty; pydeck's own default style with `map_provider=None` is the
    "__MAP_STYLE__" sentinel, which Streamlit removes without substituting anything. Labels are
    put into the data as plain text: Streamlit 1.67 HTML-escapes every value it interpolates into
    the tooltip template (escaping here too would show "&amp;" on screen).
    """
    import pydeck as pdk

    ind = m.indicator
    s = m.schools.reset_index(drop=True)
    s = s[s["lon"].notna() & s["lat"].notna()]
    dp = _decimals(ind.statistic, s["value"])
    against = f"the CPP ({_num(m.comparator_value, dp, ind.unit)})" if m.comparator_value is not None else "the CPP"
    schools = []
    for row in s.itertuples():
        protected = pd.isna(row.value)
        if protected:
            schools.append({"name": str(row.label), "line1": str(row.cluster_label),
                            "line2": "protected: too few pupils to show", "line3": "",
                            "lon": float(row.lon), "lat": float(row.lat), "radius": 5.0 * scale,
                            "fill": _rgb("#FFFFFF", 0), "line": _rgb("#8C8C8C"), "verdict": "protected"})
            continue
        ci = _ci(row.ci_low, row.ci_high, dp)
        schools.append({
            "name": str(row.label), "line1": str(row.cluster_label),
            "line2": f"{_num(row.value, dp, ind.unit)}" + (f" (95% CI {ci})" if ci else ""),
            "line3": f"{_base(row.base)} pupils · {row.verdict} than {against}"
            if row.verdict in ("better", "worse", "higher", "lower")
            else f"{_base(row.base)} pupils · {row.verdict} from {against}" if row.verdict == "no different"
            else f"{_base(row.base)} pupils · not compared",
            "lon": float(row.lon), "lat": float(row.lat),
            "radius": float((3 + 0.6 * math.sqrt(max(int(row.base), 0))) * scale) if pd.notna(row.base) else 5.0,
            "fill": _rgb(VERDICT_COLOURS.get(row.verdict, VERDICT_COLOURS["not compared"]), 235),
            "line": _rgb("#333333"), "verdict": str(row.verdict)})
    # biggest first, so small schools are drawn on top and stay visible (and pickable)
    schools.sort(key=lambda d: -d["radius"])
    hulls, labels = [], []
    for (code, name), grp in s.groupby(["cluster", "cluster_label"], sort=False):
        polygon = _hull(grp["lon"].to_numpy(float), grp["lat"].to_numpy(float), pad=0.004)
        if not polygon:
            continue
        n = len(grp)
        hulls.append({"polygon": polygon, "name": str(name), "line1": "School cluster",
                      "line2": f"{n} school{'s' if n != 1 else ''}", "line3": ""})
        top = max(polygon, key=lambda p: p[1])  # the name sits above the hull's highest corner
        labels.append({"name": str(name), "lon": top[0], "lat": top[1]})
    layers = [
        pdk.Layer("PolygonLayer", hulls, id="clusters", get_polygon="polygon", filled=True, stroked=True,
                  get_fill_color=[0, 0, 0, 12], get_line_color=[90, 90, 90, 200], line_width_units="'pixels'",
                  get_line_width=1.5 * scale, pickable=True, auto_highlight=True),
        pdk.Layer("ScatterplotLayer", schools, id="schools", get_position=["lon", "lat"], get_radius="radius",
                  radius_units="'pixels'", get_fill_color="fill", get_line_color="line", stroked=True, filled=True,
                  line_width_units="'pixels'", get_line_width=1.2 * scale, pickable=True, auto_highlight=True),
        pdk.Layer("TextLayer", labels, id="cluster-names", get_position=["lon", "lat"], get_text="name",
                  get_size=13 * scale, size_units="'pixels'", get_color=[60, 60, 60, 255],
                  get_text_anchor="'middle'", get_alignment_baseline="'bottom'", pickable=False,
                  font_family="'Helvetica, Arial, sans-serif'", font_weight="'bold'", background=True,
                  get_background_color=[255, 255, 255, 190], background_padding=[3, 1]),
    ]
    return pdk.Deck(layers=layers, initial_view_state=_view(s["lon"], s["lat"], scale), map_provider=None,
                    tooltip={"html": TOOLTIP_HTML,
                             "style": {"backgroundColor": "#FFFFFF", "color": "#222222",
                                       "fontSize": f"{int(14 * scale)}px", "border": "1px solid #999999"}})


def map_legend() -> list[tuple[str, str]]:
    """The deck's colour key, for the page to show beside it: (label, hex colour)."""
    return [(v, VERDICT_COLOURS[v]) for v in ("better", "worse", "higher", "lower", "no different", "not compared")] \
        + [("protected (hollow ring)", "#8C8C8C")]
