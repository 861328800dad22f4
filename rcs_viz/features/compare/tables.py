"""Compare results laid out for people and files: the same figures on screen, in CSV and in Excel.

Each result type becomes one tidy table of public figures (numbers, with
blanks where the gate protected a value) and a text version with the app's
markers for the screen. Notes say where the figures came from and which
rules made them.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from rcs_viz.features.compare.funnel import Funnel
from rcs_viz.features.compare.model import Context, Gradient, Ranked, SchoolMap, Spine, Trend
from rcs_viz.features.compare.neighbours import Neighbours
from rcs_viz.features.compare.similar import Similar
from rcs_viz.output.tables import LOW_BASE, MARKERS, SUPPRESSED, count_text


def _num(value) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value) \
        else f"{value:.1f}"


def _interval(row) -> str:
    return "" if pd.isna(row["ci_low"]) else f"{row['ci_low']:.1f}–{row['ci_high']:.1f}"


def _range(lo, hi) -> str:
    return "" if pd.isna(lo) or pd.isna(hi) else f"{lo:.1f}–{hi:.1f}"


def measures(result: Gradient) -> pd.DataFrame:
    """The inequality measures as text for the screen: measure, value, 95% CI, what it says."""
    m = result.inequality.rows
    return pd.DataFrame({"Measure": m["measure"], "Value": [_measure_text(n, v) for n, v in zip(m["measure"], m["value"])],
                         "95% CI": [_range(lo, hi) if not n.startswith("RII") else
                                    ("" if pd.isna(lo) else f"{lo:.2f}–{hi:.2f}")
                                    for n, lo, hi in zip(m["measure"], m["ci_low"], m["ci_high"])],
                         "What it says": m["reading"]})


def _measure_text(name: str, value) -> str:
    return f"{value:.2f}" if name.startswith(("RII", "Relative")) else f"{value:+.1f}" if name != "Overall (population-weighted)" \
        else f"{value:.1f}"


def _value_text(row) -> str:
    """The value, or the marker saying why there is none."""
    if not pd.isna(row["value"]):
        return f"{row['value']:.1f}"
    return row["hidden"] if row.get("hidden") in (SUPPRESSED, LOW_BASE) else SUPPRESSED


def tidy(result) -> pd.DataFrame:
    """Numbers for files: one row per unit / indicator / wave / quintile, rounded, blanks where protected."""
    if isinstance(result, (Ranked, SchoolMap)):
        frame = result.units if isinstance(result, Ranked) else result.schools
        out = pd.DataFrame({"unit": frame["label"], "respondents": frame["base"], "value": frame["value"],
                            "ci_low": frame["ci_low"], "ci_high": frame["ci_high"],
                            "comparator": frame["comparator"], "verdict": frame["verdict"]})
        if isinstance(result, SchoolMap):
            out.insert(1, "cluster", frame["cluster_label"])
    elif isinstance(result, Spine):
        r = result.rows
        out = pd.DataFrame({"domain": r["group"], "indicator": r["label"], "respondents": r["base"],
                            "value": r["value"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                            "cpp": r["cpp"], "national": r["national"], "lowest_unit": r["low"],
                            "highest_unit": r["high"], "units_shown": r["units"], "verdict": r["verdict"]})
    elif isinstance(result, Trend):
        s = result.series
        out = pd.DataFrame({"series": s["series"], "wave": s["wave_label"], "respondents": s.get("base"),
                            "value": s["value"], "ci_low": s.get("ci_low"), "ci_high": s.get("ci_high")})
    elif isinstance(result, Gradient):
        g = result.groups
        out = pd.DataFrame({"row": "quintile", result.by_label: g["label"], "respondents": g["base"],
                            "value": g["value"], "ci_low": g["ci_low"], "ci_high": g["ci_high"]})
        m = result.inequality.rows
        if len(m):  # the measures below the quintiles, in the same columns: one table for a CSV
            out = pd.concat([out, pd.DataFrame({"row": "inequality measure", result.by_label: m["measure"],
                                                "value": m["value"], "ci_low": m["ci_low"], "ci_high": m["ci_high"],
                                                "reading": m["reading"]})], ignore_index=True)
            out["respondents"] = out["respondents"].astype("Int64")
    elif isinstance(result, Funnel):
        u = result.units
        out = pd.DataFrame({"unit": u["label"], "respondents": u["base"], "value": u["value"],
                            "ci_low": u["ci_low"], "ci_high": u["ci_high"],
                            "comparator": result.comparator_value if result.comparator_value is not None else None,
                            "limit95_low": u["low95"], "limit95_high": u["high95"], "limit998_low": u["low998"],
                            "limit998_high": u["high998"], "position": u["position"], "flag": u["flag"]})
        out["comparator"] = out["comparator"].astype(float)
    elif isinstance(result, Similar):
        u = result.units
        out = pd.DataFrame({"unit": u["label"], "respondents": u["base"], "observed": u["observed"],
                            "expected": u["expected"].round(1), "ratio": u["ratio"], "ci_low": u["ci_low"],
                            "ci_high": u["ci_high"], "interval": u["method"], "verdict": u["verdict"]})
    elif isinstance(result, Neighbours):
        out = neighbour_profile(result, text=False)
        f = result.figures
        out = pd.concat([out, pd.DataFrame({"unit": f["label"], "role": f["kind"], "value": f["value"],
                                            "ci_low": f["ci_low"], "ci_high": f["ci_high"]})], ignore_index=True)
    else:
        raise TypeError(f"not a comparison: {type(result).__name__}")
    numeric = [c for c in out.columns if out[c].dtype.kind == "f"]
    out[numeric] = out[numeric].round(4)
    return out.reset_index(drop=True)


def display(result) -> pd.DataFrame:
    """Text for the screen: values with intervals, markers where protected."""
    if isinstance(result, (Ranked, SchoolMap)):
        frame = result.units if isinstance(result, Ranked) else result.schools
        out = pd.DataFrame({
            result.level_label if isinstance(result, Ranked) else "School": frame["label"],
            "Respondents": frame["base"].map(count_text),
            result.indicator.label + (" (%)" if result.indicator.statistic == "pct" else ""):
                frame.apply(_value_text, axis=1),
            "95% CI": frame.apply(_interval, axis=1),
            "Comparator": frame["comparator"].map(_num),
            "Verdict": frame["verdict"],
        })
    elif isinstance(result, Spine):
        r = result.rows
        out = pd.DataFrame({"Domain": r["group"], "Indicator": r["label"],
                            result.unit_label: r.apply(_value_text, axis=1),
                            "95% CI": r.apply(_interval, axis=1), "CPP": r["cpp"].map(_num),
                            "National": r["national"].map(_num),
                            "Range across units": [f"{_num(lo)}–{_num(hi)}" if not pd.isna(lo) else ""
                                                   for lo, hi in zip(r["low"], r["high"])],
                            "Verdict": r["verdict"]})
    elif isinstance(result, Trend):
        s = result.series
        out = pd.DataFrame({"Series": s["series"], "Wave": s["wave_label"],
                            "Value": [_num(v) if name == "National" else _value_text(row)
                                      for name, v, (_, row) in zip(s["series"], s["value"], s.iterrows())],
                            "95% CI": s.apply(lambda r: "" if "ci_low" not in r else _interval(r), axis=1)})
    elif isinstance(result, Gradient):
        g = result.groups
        out = pd.DataFrame({result.by_label: g["label"], "Respondents": g["base"].map(count_text),
                            "Value": g.apply(_value_text, axis=1), "95% CI": g.apply(_interval, axis=1)})
    elif isinstance(result, Funnel):
        u = result.units
        out = pd.DataFrame({
            result.level_label: u["label"],
            "Respondents": u["base"].map(count_text),
            result.indicator.label + (" (%)" if result.indicator.statistic == "pct" else ""):
                u.apply(_value_text, axis=1),
            "95% limits": [_range(lo, hi) for lo, hi in zip(u["low95"], u["high95"])],
            "99.8% limits": [_range(lo, hi) for lo, hi in zip(u["low998"], u["high998"])],
            "Against the " + result.comparator_label.replace("National", "national"): u["flag"],
        })
    elif isinstance(result, Similar):
        u = result.units
        out = pd.DataFrame({
            result.level_label: u["label"],
            "Respondents": u["base"].map(count_text),
            "Observed": [SUPPRESSED if pd.isna(o) else f"{int(o):,}" for o in u["observed"]],
            "Expected": [SUPPRESSED if pd.isna(e) else f"{e:,.1f}" for e in u["expected"]],
            "Observed ÷ expected": [SUPPRESSED if pd.isna(r) else f"{r:.2f}" for r in u["ratio"]],
            "95% CI": ["" if pd.isna(lo) else f"{lo:.2f}–{hi:.2f}" for lo, hi in zip(u["ci_low"], u["ci_high"])],
            "Against similar pupils": u["verdict"],
        })
    elif isinstance(result, Neighbours):
        f = result.figures
        out = pd.DataFrame({"Unit or comparator": f["label"], result.indicator.label + (" (%)" if result.indicator.statistic == "pct"
                                                                       else ""): f.apply(_value_text, axis=1),
                            "95% CI": f.apply(_interval, axis=1)})
    else:
        raise TypeError(f"not a comparison: {type(result).__name__}")
    return out.reset_index(drop=True)


def pinned(result) -> list[int]:
    """Rows of `display(result)` that are comparators, not units (the neighbours' average, the CPP, the nation):
    a sorted grid keeps them below the units, as Explore's keeps its All row."""
    if isinstance(result, Neighbours):
        kinds = result.figures["kind"].reset_index(drop=True)
        return [i for i, k in enumerate(kinds) if k not in ("unit", "neighbour")]
    return []


def notes(result, title: str, source: str = "") -> list[tuple[str, str]]:
    """What a reader of the file needs to know: data, view, filters, rules, markers, date."""
    ctx: Context = result.context
    rows = [
        ("Data", ctx.dataset_title + (" (synthetic sample: not real statistics)" if ctx.synthetic else "")),
        ("Source file", source),
        ("View", title),
        ("Filters", "; ".join(ctx.filters_text) or "none"),  # the place and wave too
        ("Disclosure rules", ctx.rules.describe()),
        ("Verdicts", "Better or worse only when the 95% interval lies wholly on one side of the comparator "
                     "(against an earlier wave: when the interval of the change excludes zero)."),
        ("Markers", "; ".join(f"{k} {v}" for k, v in MARKERS.items())),
        ("Produced", dt.datetime.now().strftime("%Y-%m-%d %H:%M") + " by RCS Explorer"),
    ]
    if isinstance(result, Funnel):
        rows.insert(6, ("Funnel", result.method + " A unit on a limit is within it; a protected unit is listed, "
                                                  "not drawn, and not compared."))
    if isinstance(result, (Similar, Neighbours)):
        rows.insert(6, ("Method", result.method))
    if isinstance(result, Gradient):
        rows.insert(6, ("Inequality measures", result.inequality.method if result.inequality.given
                        else result.inequality.reason))
    rows += [("Note", n) for n in ctx.notes]
    return [(k, v) for k, v in rows if v != ""]


def as_text(result, title: str) -> str:
    """The comparison for a terminal: the table as the screen shows it, the measures (a gradient), then notes."""
    out = [title, "", display(result).to_string(index=False)]
    hidden = getattr(result, "protected", None)
    if hidden:
        out += ["", f"Not drawn (protected or base too small): {', '.join(hidden)}."]
    if isinstance(result, Funnel):
        if result.comparator_value is not None:
            out += ["", f"{result.comparator_label}: {result.comparator_value:.1f}{result.indicator.unit}"]
        for verdict, group in result.outside.groupby("verdict", sort=False):
            out.append(f"Outside the limits, {verdict}: {', '.join(group['label'])}")
    if isinstance(result, Similar):
        out += ["", f"Reference: {result.reference_label}; strata: {' × '.join(result.strata_labels) or 'none'}."]
    if isinstance(result, Neighbours):
        out += ["", "Profile (figures as the gate shows them)", neighbour_profile(result).to_string(index=False),
                "", "Against each comparator", comparisons(result).to_string(index=False)]
    if isinstance(result, Gradient):
        m = result.inequality
        out += ["", "Inequality measures"]
        out += [measures(result).to_string(index=False)] if m.given else [m.reason]
    out += [""] + [f"{k}: {v}" for k, v in notes(result, title) if k not in ("Source file", "Produced")]
    return "\n".join(out) + "\n"


def neighbour_profile(result: Neighbours, text: bool = True) -> pd.DataFrame:
    """The unit and its neighbours with each profile figure and the distance: text for the screen, numbers for files."""
    p = result.profile
    if not text:
        out = pd.DataFrame({"unit": p["label"], "role": p["role"], "distance": p["distance"]})
        for item in result.items:
            out[item.label] = p[item.key]
        return out
    out = pd.DataFrame({result.level_label: p["label"], "Role": p["role"],
                        "Distance": [f"{v:.2f}" if i else "" for i, v in enumerate(p["distance"])]})
    for item in result.items:
        out[item.label] = [SUPPRESSED if pd.isna(v) else (f"{v:,.0f}" if item.key == "size" else f"{v:.1f}")
                           for v in p[item.key]]
    return out


def comparisons(result: Neighbours) -> pd.DataFrame:
    """The unit minus each comparator, with its interval and verdict, as text."""
    c = result.comparisons
    return pd.DataFrame({"Against": c["comparator"], "Comparator": c["value"].map(_num),
                         "Difference": ["" if pd.isna(v) else f"{v:+.1f}" for v in c["diff"]],
                         "95% CI": [_range(lo, hi) for lo, hi in zip(c["diff_low"], c["diff_high"])],
                         "Verdict": c["verdict"]})
