"""Report packs: a school, cluster or CPP report made on demand, as HTML and PDF.

A report is a handful of Compare results put together: a summary table of
every indicator against the CPP and the nation, the spine chart, rank charts
for a few key indicators, the headline indicator's trend and the CPP's
deprivation gradient. Every figure is read from a `compare` result, which has
passed the disclosure gate, so a report shows exactly what the screen shows:
a hidden value is a marker ([c] or [b]; [z] where there are no such pupils),
a hidden unit is named but never drawn. Nothing here queries the data.

`build` gathers the results, `to_html` renders them through a Jinja2 template
(autoescaped: labels are text, never markup) with the charts as inline SVG,
and `pdf.render` lays out the same tables with the charts as PNG.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd

from rcs_viz.features.compare import charts as compare_charts, funnel as compare_funnel, model as compare
from rcs_viz.features.compare import neighbours as compare_neighbours, similar as compare_similar
from rcs_viz.engine import service, stats
from rcs_viz.data.comparators import EMPTY, Comparators
from rcs_viz.features.compare.model import Indicator, Scope
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.load import Dataset
from rcs_viz.engine.sql.views import QueryError
from rcs_viz.output import figures
from rcs_viz.output.tables import MARKERS, SUPPRESSED, no_pupils

KINDS = ("school", "cluster", "cpp")
KEY_MAX = 6
NONE = "–"  # no figure exists (not a protected one: those carry a marker)
TEMPLATES = Path(__file__).resolve().parent / "templates"
SYNTHETIC_BANNER = "Synthetic sample — not real statistics"
VERDICTS = ("better", "worse", "no different", "higher", "lower", "not compared")


class ReportError(ValueError):
    """A report that cannot be made as asked; the message says why in one line."""


@dataclass(frozen=True)
class Section:
    """One chart of the report, with the words around it."""

    key: str  # "spine", "rank-<indicator>", "trend", "gradient": unique, used as an anchor
    heading: str  # "" for a chart that continues the section before it
    intro: str
    chart: alt.Chart | None
    result: object  # the protected compare result the chart is drawn from
    notes: tuple[str, ...] = ()
    emphasis: str | None = None  # a unit label to set in bold on the chart's axis
    label: str = ""  # what the chart shows, for contents and alt text; the heading when empty

    @property
    def name(self) -> str:
        return self.label or self.heading

    def spec(self) -> dict | None:
        """The chart's Vega-Lite spec for print: the report's own unit in bold, no on-screen instructions."""
        if self.chart is None:
            return None
        spec = figures.spec_of(self.chart)
        title = spec.get("title")
        if isinstance(title, dict) and isinstance(title.get("subtitle"), list):
            title["subtitle"] = [line for line in title["subtitle"] if not line.startswith("Click a row")]
        _print_axes(spec, self.emphasis)
        return spec


@dataclass(frozen=True)
class Report:
    kind: str
    title: str
    unit: str | None
    unit_label: str
    level_label: str
    cpp_label: str
    wave_label: str
    filters: tuple[str, ...]  # the user's filters in words (place and wave are fields of their own)
    dataset_title: str
    source: str
    synthetic: bool
    rules: Rules
    comparators: str  # where the national figures come from, in words
    summary_columns: tuple[str, ...]
    summary: pd.DataFrame  # text as shown: `indicator`, `group` and the summary columns
    summary_result: object  # the Spine (school, cluster) or the CPP's Trends by indicator (cpp)
    sections: tuple[Section, ...]
    key_indicators: tuple[Indicator, ...]
    notes: tuple[str, ...]
    created: dt.datetime = field(default_factory=dt.datetime.now)
    fair: tuple[tuple[str, str], ...] = ()  # (indicator, funnel position; similar-pupil ratio), inequality measures

    @property
    def date_text(self) -> str:
        return self.created.strftime("%d %B %Y, %H:%M").lstrip("0")

    def header(self) -> list[tuple[str, str]]:
        """What every export carries: unit, place, wave, filters, source, rules, date."""
        rows = [
            (self.level_label, self.unit_label),
            ("CPP", self.cpp_label),
            ("Survey wave", self.wave_label),
            ("Filters", "; ".join(self.filters) if self.filters else "none (all pupils)"),
            ("Data source", f"{self.dataset_title} ({self.source})"
             + (" — synthetic sample, not real statistics" if self.synthetic else "")),
            ("National figures", self.comparators),
            ("Rules applied", self.rules.describe()),
            ("Produced", f"{self.date_text} by RCS Explorer"),
        ]
        return rows[1:] if self.kind == "cpp" else rows

    def method(self) -> list[tuple[str, str]]:
        """The method and disclosure note, in plain words."""
        out = [
            ("The figures",
             "Percentages are of pupils who answered the question; means are of those with a score. Pupils "
             "with no answer are left out of the base. Each figure has a 95% confidence interval: the range of "
             "values the survey is consistent with; intervals made this way hold the true figure 19 times in 20."),
            ("Verdicts",
             "A unit is better or worse than its comparator (the CPP average or the national figure) only when "
             "its whole 95% interval lies on one side of it; otherwise it is no different. Measures that are "
             "neither good nor bad are called higher or lower instead. A hidden figure is never compared. "
             "National figures are used only for an unfiltered view, and only where one exists for the same "
             "indicator, definition, wave and stages."),
            ("Disclosure control",
             f"{self.rules.describe()} Every figure, chart and table in this report is read from the same "
             "protected results as the screen, so it shows nothing the screen would hide. A unit whose "
             "figure is hidden is named but not drawn, and its place in a ranking says nothing about it."),
            ("Markers", "; ".join(f"{k} {v}" for k, v in MARKERS.items()) + f"; {NONE} no figure exists."),
        ]
        if self.synthetic:
            out.append(("Synthetic sample", "The data are a synthetic sample: fictional places and pupils, "
                                            "made by a seeded generator. They are not real statistics."))
        out += [("Note", n) for n in self.notes]
        return out


# --------------------------------------------------------------------------- build


def build(ds: Dataset, kind: str, unit: str | None, scope: Scope, rules: Rules = Rules(),
          comps: Comparators = EMPTY, indicators: list[Indicator] | None = None,
          created: dt.datetime | None = None) -> Report:
    """A school, cluster or CPP report for `scope` (its CPP, wave and filters), from protected results only."""
    d = ds.dictionary
    if kind not in KINDS:
        raise ReportError(f"a report is for a school, cluster or cpp, not '{kind}'")
    for role in ("cpp", "cluster", "school", "wave"):
        if d.by_role(role) is None:
            raise ReportError(f"reports need a {role} variable in the data dictionary")
    cpp_var, cluster_var, school_var, wave_var = (d.by_role(r) for r in ("cpp", "cluster", "school", "wave"))
    if scope.cpp is None or scope.cpp not in service.categories(ds, cpp_var.name):
        raise ReportError(f"choose one of the data's CPPs, not '{scope.cpp}'")
    waves = service.categories(ds, wave_var.name)
    wave = scope.wave if scope.wave is not None else waves[-1]
    if wave not in waves:
        raise ReportError(f"'{wave}' is not a survey wave of this data")
    scope = Scope(scope.cpp, None, wave, scope.filters)
    unit = None if unit is None else str(unit)
    in_cpp = ((cpp_var.name, (scope.cpp,)),)
    cluster = None
    if kind == "cpp":
        unit = scope.cpp
    elif kind == "cluster":
        if unit not in service.categories(ds, cluster_var.name, in_cpp):
            raise ReportError(f"'{unit}' is not a cluster of {cpp_var.label_of(scope.cpp)}")
        cluster = unit
    else:
        if unit not in service.categories(ds, school_var.name, in_cpp):
            raise ReportError(f"'{unit}' is not a school of {cpp_var.label_of(scope.cpp)}")
        cluster = next((c for c in service.categories(ds, cluster_var.name, in_cpp)
                        if unit in service.categories(ds, school_var.name, in_cpp + ((cluster_var.name, (c,)),))),
                       None)

    every = compare.indicators(d)
    if not every:
        raise ReportError("this data has no indicators (variables with positive codes or a polarity)")
    key = list(indicators) if indicators else key_indicators(ds, every, scope, comps)
    headline = key[0]

    if kind == "cpp":
        trends = {ind.name: compare.trend(ds, ind, None, None, scope, rules, comps) for ind in every}
        summary = _cpp_summary(ds, every, trends, scope)
        summary_result = trends
        columns = ("Indicator", "CPP", "95% CI", "Pupils", "National", "Against national")
        unit_label = cpp_var.label_of(scope.cpp)
    else:
        spine = compare.spine(ds, kind, unit, scope, "cpp", rules, comps, every)
        column = "School" if kind == "school" else "Cluster"
        summary = _unit_summary(spine, column)
        summary_result = spine
        columns = ("Indicator", column, "95% CI", "Pupils", "CPP", "National", "Against CPP", "Against national")
        unit_label = spine.unit_label

    sections = []
    if kind != "cpp":
        sections.append(Section(
            "spine", f"Spine: {unit_label} across every indicator",
            f"Each row places {unit_label} (the dot) within the range of the CPP's {kind}s, worst on the left and "
            "best on the right, with the CPP average (black tick) and the national figure (open diamond).",
            compare_charts.spine_chart(spine), spine, _protected_rows(spine)))
    rank_level = "school" if kind == "school" else "cluster"
    rank_scope = Scope(scope.cpp, cluster if kind == "school" else None, wave, scope.filters)
    among = (f"the clusters of {cpp_var.label_of(scope.cpp)}" if kind != "school"
             else f"the schools of the {cluster_var.label_of(cluster)}" if cluster is not None
             else f"the schools of {cpp_var.label_of(scope.cpp)}")
    for n, ind in enumerate(key):
        ranked = compare.rank(ds, ind, rank_level, rank_scope, "cpp", rules, comps)
        hidden = ranked.protected
        notes = ((f"Not drawn (protected or base too small): {', '.join(hidden)}.",) if hidden else ())
        if kind != "cpp" and unit_label in hidden:
            notes += (f"{unit_label} is not drawn: its figure is protected.",)
        heading, intro = "", ""
        if n == 0:
            heading = f"Key indicators: {among} against the CPP average"
            intro = (f"Each key indicator for {among}, highest first, with 95% confidence intervals; the dashed "
                     "line is the CPP average." + (f" {unit_label} is in bold." if kind != "cpp" else ""))
        sections.append(Section(f"rank-{ind.name}", heading, intro, compare_charts.rank_chart(ranked), ranked,
                                notes, unit_label if kind != "cpp" else None, ranked.title))
    trend = compare.trend(ds, headline, None if kind == "cpp" else kind, None if kind == "cpp" else unit,
                          scope, rules, comps)
    sections.append(Section(
        "trend", "Trend of the headline indicator",
        f"{trend.title} in each survey wave for {'the CPP' if kind == 'cpp' else unit_label + ' and the CPP'}"
        ", with the national figure where there is one.",
        compare_charts.trend_chart(trend), trend))
    try:
        gradient = compare.gradient(ds, headline, scope, rules)
    except QueryError:  # no deprivation variable in this data
        gradient = None
    if gradient is not None:
        sections.append(Section(
            "gradient", "Deprivation gradient in the CPP",
            f"{gradient.title} across {cpp_var.label_of(scope.cpp)} by {gradient.by_label}, most deprived first.",
            compare_charts.gradient_chart(gradient), gradient))

    fair = _fair(ds, kind, unit, key, rank_scope, rules, comps, gradient) if kind != "cpp" else ()

    results = [summary_result] if kind != "cpp" else []
    results += [s.result for s in sections]
    notes = [n for r in results for n in r.context.notes if not n.startswith("Synthetic sample")]
    if summary["National"].eq(NONE).all():  # say why there is no national column to speak of
        notes.insert(0, compare.national(ds, headline, scope, comps)[1] or "No national figure matches this view.")
    notes = tuple(dict.fromkeys(notes))
    comps_text = (f"{comps.source}" + (f" ({comps.note})" if comps.note else "")
                  if comps is not EMPTY and len(comps.table) else "none configured")
    title = {"school": "School report", "cluster": "Cluster report", "cpp": "CPP report"}[kind]
    return Report(
        kind=kind, title=f"{title}: {unit_label}", unit=unit, unit_label=unit_label,
        level_label={"school": school_var.label, "cluster": cluster_var.label, "cpp": cpp_var.label}[kind],
        cpp_label=cpp_var.label_of(scope.cpp), wave_label=wave_var.label_of(wave),
        filters=service.describe_filters(d, scope.filters), dataset_title=d.title, source=ds.source.name,
        synthetic=bool(d.synthetic), rules=rules, comparators=comps_text, summary_columns=columns,
        summary=summary, summary_result=summary_result, sections=tuple(sections), key_indicators=tuple(key),
        notes=notes, created=created or dt.datetime.now(), fair=fair)


PROTECTED = "protected: not compared"


def _fair(ds: Dataset, kind: str, unit: str, key: list[Indicator], scope: Scope, rules: Rules, comps: Comparators,
          gradient) -> tuple[tuple[str, str], ...]:
    """The unit's funnel position and similar-pupil ratio on each key indicator, and the CPP's inequality measures.

    Read from the same protected results as Compare: a unit the gate hides is "protected", with no figure.
    """
    d = ds.dictionary
    rows = []
    prof = None  # the neighbours' profile, read once for the pack
    for ind in key:
        f = compare_funnel.funnel(ds, ind, kind, scope, "cpp", rules, comps)
        me = f.units[f.units["code"].eq(unit)]
        if not len(me):
            continue
        me = me.iloc[0]
        hidden = pd.isna(me["value"]) or pd.isna(me["base"])
        parts = [f"funnel against the CPP: {PROTECTED if hidden else me['flag']}"]
        if ind.statistic == "pct":
            s = compare_similar.similar(ds, ind, kind, scope, "cpp", rules)
            sm = s.units[s.units["code"].eq(unit)]
            if len(sm):
                sm = sm.iloc[0]
                parts.append("against similar pupils: " + (PROTECTED if pd.isna(sm["ratio"]) else
                             f"observed ÷ expected {sm['ratio']:.2f} (95% CI {sm['ci_low']:.2f}–{sm['ci_high']:.2f}), "
                             f"{sm['verdict']}"))
        if kind == "cluster":
            prof = compare_neighbours.profile(ds, kind, scope.wave, rules) if prof is None else prof
            parts.append(_against_neighbours(ds, ind, unit, scope, rules, comps, prof))
        rows.append((ind.title(d), "; ".join(parts) + "."))
    if gradient is not None:
        m = gradient.inequality
        rows.append((f"Inequality in the CPP: {gradient.title}", m.sii_reading if m.given else m.reason))
    return tuple(rows)


def _against_neighbours(ds: Dataset, ind: Indicator, unit: str, scope: Scope, rules: Rules,
                        comps: Comparators, prof: pd.DataFrame) -> str:
    """A cluster against its statistical neighbours' average: the verdict and difference, and who they are."""
    found = compare_neighbours.neighbours(ds, ind, "cluster", unit, scope, rules, comps, prof=prof)
    names = ", ".join(found.profile.loc[found.profile["role"].eq("neighbour"), "label"].astype(str))
    mine = found.figures[found.figures["kind"].eq("unit")].iloc[0]
    against = found.comparisons[found.comparisons["comparator"].eq("Neighbours' average")]
    if pd.isna(mine["value"]) or not names or not len(against) or pd.isna(against.iloc[0]["diff"]):
        return f"against statistical neighbours: {PROTECTED if pd.isna(mine['value']) else 'no neighbours to compare'}"
    a = against.iloc[0]
    unit_words = " points" if ind.statistic == "pct" else ""
    return (f"against statistical neighbours ({names}): {a['verdict']}, {_signed(a['diff'])}{unit_words} "
            f"(95% CI {_signed(a['diff_low'])} to {_signed(a['diff_high'])})")


def _signed(x: float) -> str:
    text = f"{x:+.1f}"
    return "0.0" if text in ("+0.0", "-0.0") else text


def key_indicators(ds: Dataset, every: list[Indicator], scope: Scope, comps: Comparators,
                   limit: int = KEY_MAX) -> list[Indicator]:
    """A few indicators to rank: those with a national figure for this view (else the %s), one per domain.

    Within a domain a percentage comes before a mean; the first chosen is the report's headline.
    """
    candidates = [i for i in every if compare.national(ds, i, scope, comps)[0] is not None]
    if not candidates:
        candidates = [i for i in every if i.statistic == "pct"] or every
    candidates.sort(key=lambda i: i.statistic != "pct")  # stable: dictionary order otherwise
    chosen: list[Indicator] = []
    groups = compare.group_indicators(candidates)
    while len(chosen) < min(limit, len(candidates)):
        for members in groups.values():
            left = [i for i in members if i not in chosen]
            if left and len(chosen) < limit:
                chosen.append(left[0])
    order = {i.name: n for n, i in enumerate(every)}
    return sorted(chosen, key=lambda i: (i.statistic != "pct", order[i.name]))


# --------------------------------------------------------------------------- summary tables


def decimals(statistic: str, *values) -> int:
    """1 dp for percentages and larger means; 2 dp for small means (0–10 scales, exclusions)."""
    if statistic == "pct":
        return 1
    known = [abs(float(v)) for v in values if v is not None and not pd.isna(v)]
    return 1 if known and max(known) >= 10 else 2


def number(value, dp: int) -> str:
    return f"{float(value):,.{dp}f}"


def _value(value, hidden, dp: int) -> str:
    """The figure, or the marker its result gives for it: [z] (no such pupils, public) stays [z] rather than read
    as protected; anything else without a figure, or an unknown marker, is [c]."""
    if value is None or pd.isna(value):
        return hidden if isinstance(hidden, str) and hidden in MARKERS else SUPPRESSED
    return number(value, dp)


def _interval(low, high, dp: int) -> str:
    return "" if low is None or pd.isna(low) or pd.isna(high) else f"{number(low, dp)}–{number(high, dp)}"


def _base(base) -> str:
    return SUPPRESSED if base is None or pd.isna(base) else f"{int(base):,}"


def _comparator(value, dp: int, protected: bool) -> str:
    if value is None or pd.isna(value):
        return SUPPRESSED if protected else NONE
    return number(value, dp)


def _unit_summary(spine: compare.Spine, column: str) -> pd.DataFrame:
    rows = []
    for r in spine.rows.to_dict("records"):
        dp = decimals(r["statistic"], r["cpp"], r["value"], r["national"])
        national = r["national"]
        vs_nat = (NONE if pd.isna(national) else
                  stats.compare(r["value"], r["ci_low"], r["ci_high"], national, r["polarity"]).item())
        rows.append({"indicator": r["indicator"], "group": r["group"], "Indicator": r["label"],
                     "value": _value(r["value"], r["hidden"], dp), "95% CI": _interval(r["ci_low"], r["ci_high"], dp),
                     "Pupils": _base(r["base"]), "CPP": _comparator(r["cpp"], dp, True),
                     "National": _comparator(national, dp, False), "Against CPP": r["verdict"],
                     "Against national": vs_nat})
    return pd.DataFrame(rows).rename(columns={"value": column})


def _cpp_summary(ds: Dataset, every: list[Indicator], trends: dict, scope: Scope) -> pd.DataFrame:
    d = ds.dictionary
    cpp_name = f"{d.by_role('cpp').label_of(scope.cpp)} (CPP)"
    rows = []
    for ind in every:
        s = trends[ind.name].series
        me = s[s["series"].eq(cpp_name) & s["wave"].eq(scope.wave)]
        nat = s[s["series"].eq("National") & s["wave"].eq(scope.wave)]
        me = me.iloc[0] if len(me) else pd.Series({"value": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                                                   "base": pd.NA, "hidden": SUPPRESSED})
        national = float(nat["value"].iloc[0]) if len(nat) else np.nan
        dp = decimals(ind.statistic, me["value"], national)
        rows.append({"indicator": ind.name, "group": ind.group, "Indicator": ind.title(d),
                     "CPP": _value(me["value"], me.get("hidden"), dp), "95% CI": _interval(me["ci_low"], me["ci_high"], dp),
                     "Pupils": _base(me["base"]), "National": _comparator(national, dp, False),
                     "Against national": NONE if pd.isna(national) else
                     stats.compare(me["value"], me["ci_low"], me["ci_high"], national, ind.polarity).item()})
    return pd.DataFrame(rows)


def _protected_rows(spine: compare.Spine) -> tuple[str, ...]:
    """The spine's rows without a figure, in words: those with no such pupils apart, as nothing was held back."""
    rows = spine.rows[spine.rows["value"].isna()]
    none = no_pupils(rows)
    hidden, empty = rows.loc[~none, "label"].tolist(), rows.loc[none, "label"].tolist()
    return ((f"Not shown for {spine.unit_label} (protected or base too small): {'; '.join(hidden)}.",) if hidden
            else ()) + ((f"No such pupils for {spine.unit_label}: {'; '.join(empty)}.",) if empty else ())


def grouped(report: Report) -> list[tuple[str, list[dict]]]:
    """Summary rows by domain, in order, for the template and the PDF."""
    out: dict[str, list[dict]] = {}
    for row in report.summary.to_dict("records"):
        out.setdefault(row["group"] or "Other", []).append(row)
    return list(out.items())


# --------------------------------------------------------------------------- charts


def _print_axes(spec: dict, emphasis: str | None) -> None:
    """Set `emphasis` (the report's own unit) in bold on rank axes."""
    test = f"datum.value === {json.dumps(emphasis)}"

    def walk(node):
        if isinstance(node, dict):
            encoding = node.get("encoding")
            y = encoding.get("y") if isinstance(encoding, dict) else None
            if emphasis and isinstance(y, dict) and y.get("field") == "unit":
                axis = y.get("axis") or {}
                y["axis"] = axis
                axis["labelFontWeight"] = {"condition": {"test": test, "value": "bold"}, "value": "normal"}
                axis["labelColor"] = {"condition": {"test": test, "value": "#000000"}, "value": "#444444"}
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(spec)


def svg(section: Section, prefix: str) -> str:
    """The chart as SVG text for inlining, its ids made unique to this chart."""
    import vl_convert as vlc

    text = vlc.vegalite_to_svg(section.spec())
    text = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', text)
    text = re.sub(r'url\(#([^)]+)\)', rf'url(#{prefix}-\1)', text)
    text = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', text)
    return text


def png(section: Section, scale: float = 2) -> bytes:
    import vl_convert as vlc

    return vlc.vegalite_to_png(section.spec(), scale=scale)


_UNSAFE_SVG = re.compile(r"<\s*(script|foreignObject|iframe)|\son\w+\s*=|javascript:", re.IGNORECASE)


def _inline(section: Section, n: int):
    """Markup for the chart: inline SVG when it holds only drawing, else the same SVG as an image."""
    from markupsafe import Markup

    text = svg(section, f"c{n}")
    markup = re.sub(r'"[^"]*"', '""', re.sub(r">[^<]*<", "><", text))  # text and attribute values are escaped
    if _UNSAFE_SVG.search(markup):
        data = base64.b64encode(text.encode()).decode()
        return Markup('<img alt="" src="data:image/svg+xml;base64,{}">').format(data)
    return Markup(text[text.index("<svg"):])


# --------------------------------------------------------------------------- outputs


def to_html(report: Report) -> str:
    """The report as one self-contained, print-friendly HTML page."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    charts = {s.key: _inline(s, n) for n, s in enumerate(report.sections) if s.chart is not None}
    return env.get_template("report.html.j2").render(
        r=report, groups=grouped(report), charts=charts, banner=SYNTHETIC_BANNER, verdicts=VERDICTS,
        markers=MARKERS, value_columns=report.summary_columns[1:], colours=compare_charts.VERDICT_COLOURS,
        key_names={i.name for i in report.key_indicators})
