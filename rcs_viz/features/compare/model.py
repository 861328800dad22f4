"""Units against their CPP, the nation and the last wave: the comparisons of a school or cluster report.

Every estimate here is read from `service.crosstab`, so it has passed the
disclosure gate before any comparison is made: a unit whose value the gate
hides has no value, no interval and no verdict ("not compared"), and it is
listed, never drawn. Verdicts follow the ScotPHO profiles: a unit is better
or worse only when its whole 95 % interval lies on one side of the
comparator; against the last wave, when the interval of the change excludes
zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rcs_viz.engine import service, stats
from rcs_viz.data.comparators import EMPTY, Comparators, stage_scope
from rcs_viz.data.dictionary import Dictionary, Variable
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.load import Dataset
from rcs_viz.features.compare.measures import Measures, inequality
from rcs_viz.engine.sql.views import YES, CrossTab, Flag, QueryError
from rcs_viz.output.tables import LOW_BASE, SUPPRESSED

FLAG = "__indicator"
LEVELS = ("cluster", "school")
COMPARATORS = {"cpp": "CPP average", "national": "National figure", "previous": "Previous wave",
               "neighbours": "Statistical neighbours' average"}  # neighbours: `neighbours.rank`
COLUMNS = ["code", "label", "base", "value", "ci_low", "ci_high", "hidden"]  # hidden: why no value ([c]/[b])


@dataclass(frozen=True)
class Indicator:
    """A figure a unit can be judged on: the % of pupils with given answers, or a mean score."""

    name: str
    label: str
    group: str
    statistic: str  # "pct" or "mean"
    polarity: str
    positive: tuple[str, ...] = ()

    def title(self, dictionary: Dictionary) -> str:
        if self.statistic == "mean":
            return f"{self.label}: mean"
        var = dictionary[self.name]
        return f"{self.label}: % {' or '.join(var.label_of(c) for c in self.positive)}"

    @property
    def unit(self) -> str:
        return "%" if self.statistic == "pct" else ""


def indicators(dictionary: Dictionary) -> list[Indicator]:
    """Variables with positive codes (a %) or a polarity (a mean), in dictionary order."""
    out = []
    for v in dictionary.variables:
        if v.role is not None:
            continue
        if v.is_categorical and v.positive:
            out.append(Indicator(v.name, v.label, v.group, "pct", v.polarity, v.positive))
        elif not v.is_categorical and v.polarity != "neutral":
            out.append(Indicator(v.name, v.label, v.group, "mean", v.polarity))
    return out


def group_indicators(chosen: list[Indicator]) -> dict[str, list[Indicator]]:
    """Indicators by dictionary group (SHANARRI domain), groups in first-seen order."""
    out: dict[str, list[Indicator]] = {}
    for ind in chosen:
        out.setdefault(ind.group, []).append(ind)
    return out


def deprivation(dictionary: Dictionary) -> Variable | None:
    """The SIMD (deprivation) variable, found by name or label: ordered from most to least deprived."""
    return next((v for v in dictionary.variables if v.is_categorical and v.role is None
                 and "simd" in (v.name + " " + v.label).lower()), None)


@dataclass(frozen=True)
class Context:
    """What every comparison says about itself in captions, exports and reports."""

    dataset_title: str
    synthetic: bool
    rules: Rules
    filters_text: tuple[str, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scope:
    """Where and when a comparison looks: a CPP, optionally one cluster, one wave, and the user's filters."""

    cpp: str | None
    cluster: str | None = None
    wave: str | None = None
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()


def role_var(dictionary: Dictionary, role: str) -> str:
    var = dictionary.by_role(role)
    if var is None:
        raise QueryError(f"this data has no {role} variable")
    return var.name


def place_filters(d: Dictionary, scope: Scope, *, cluster: bool = True, wave: str | None = "scope"):
    out = []
    if scope.cpp is not None:
        out.append((role_var(d, "cpp"), (scope.cpp,)))
    if cluster and scope.cluster is not None:
        out.append((role_var(d, "cluster"), (scope.cluster,)))
    wave = scope.wave if wave == "scope" else wave
    if wave is not None:
        out.append((role_var(d, "wave"), (wave,)))
    return tuple(out) + scope.filters


def estimates(ds: Dataset, ind: Indicator, by: str, filters, rules: Rules) -> pd.DataFrame:
    """The indicator for each category of `by`, and for all of them (code None), as the gate lets it be seen."""
    if ind.statistic == "pct":
        flag = Flag(FLAG, ind.label, ((ind.name, ind.positive),))
        query = CrossTab(rows=by, cols=FLAG, filters=tuple(filters), include_missing=False, flags=(flag,))
        cells = service.crosstab(ds, query, "row_pct", rules).cells
        yes = cells[cells["col"].eq(YES)].set_index("row", drop=False)
        base = cells[cells["col"].isna()].set_index("row")["count"]
        out = yes.assign(base=base.reindex(yes.index).to_numpy())
    else:
        query = CrossTab(rows=by, value=ind.name, filters=tuple(filters), include_missing=False)
        out = service.crosstab(ds, query, "mean", rules).cells.assign(base=lambda c: c["count"])
    # a value is missing because a count it rests on is protected, or because its base is too small
    out["hidden"] = np.where(out["value"].notna(), None,
                             np.where(out["status"].ne("shown") | out["base"].isna(), SUPPRESSED, LOW_BASE))
    out = out.rename(columns={"row": "code", "row_label": "label"})[COLUMNS].reset_index(drop=True)
    out["base"] = out["base"].astype("Int64")
    return out


def _one(table: pd.DataFrame, code) -> pd.Series:
    hit = table[table["code"].isna()] if code is None else table[table["code"].eq(code)]
    return hit.iloc[0]


def difference(now: pd.DataFrame, then: pd.DataFrame) -> pd.DataFrame:
    """now − then with an interval recovered from both intervals (Newcombe/MOVER)."""
    d = stats.difference_ci(now["value"], now["ci_low"], now["ci_high"],
                            then["value"], then["ci_low"], then["ci_high"])
    return pd.DataFrame({"diff": d.diff, "diff_low": d.low, "diff_high": d.high}, index=now.index)


def previous_wave(ds: Dataset, wave: str | None) -> str | None:
    var = ds.dictionary.by_role("wave")
    if var is None or wave is None:
        return None
    waves = service.categories(ds, var.name)
    i = waves.index(wave) if wave in waves else 0
    return waves[i - 1] if i > 0 else None


def national(ds: Dataset, ind: Indicator, scope: Scope, comps: Comparators, wave: str | None = "scope"):
    """The national figure that matches this view, or None with the reason in words."""
    if comps is EMPTY or not len(comps.table):
        return None, "No national comparator table is configured."
    d = ds.dictionary
    stage = d.by_role("stage")
    others = [n for n, _ in scope.filters if stage is None or n != stage.name]
    if others:
        return None, "National figures are for all pupils: they are not compared with a filtered view."
    kept = dict(scope.filters).get(stage.name) if stage is not None else None
    stages = stage_scope({c: stage.label_of(c) for c in service.categories(ds, stage.name)}, kept) if stage else None
    wave = scope.wave if wave == "scope" else wave
    wave_label = d.by_role("wave").label_of(wave) if wave is not None and d.by_role("wave") else None
    value = comps.national(ind.name, ind.statistic, ind.positive, wave_label, stages)
    if value is None:
        return None, f"No national figure for {ind.label} at {stages or 'these stages'} in {wave_label or 'all waves'}."
    return value, None


# --------------------------------------------------------------------------- rank


@dataclass(frozen=True)
class Ranked:
    """Every unit's value and interval, sorted, with a verdict against one comparator."""

    indicator: Indicator
    title: str
    level_label: str
    comparator: str  # a key of COMPARATORS
    comparator_label: str
    comparator_value: float | None  # one line; None when per unit (previous wave) or unavailable
    units: pd.DataFrame  # COLUMNS + comparator, verdict; drawn rows first, sorted by value
    context: Context

    @property
    def drawn(self) -> pd.DataFrame:
        return self.units[self.units["value"].notna()]

    @property
    def protected(self) -> list[str]:
        return list(self.units.loc[self.units["value"].isna(), "label"])


def rank(ds: Dataset, ind: Indicator, level: str, scope: Scope, comparator: str = "cpp",
         rules: Rules = Rules(), comps: Comparators = EMPTY) -> Ranked:
    """Clusters of a CPP, or schools of a CPP or cluster, against the CPP, the nation or the last wave."""
    d = ds.dictionary
    if level not in LEVELS:
        raise QueryError(f"compare clusters or schools, not '{level}'")
    if comparator not in COMPARATORS or comparator == "neighbours":  # neighbours: features.compare.neighbours.rank
        raise QueryError(f"compare with {', '.join(COMPARATORS)}, not '{comparator}'")
    by = role_var(d, level)
    units = estimates(ds, ind, by, place_filters(d, scope, cluster=level == "school"), rules)
    units = units[units["code"].notna()].reset_index(drop=True)
    notes = []
    value = None
    label = COMPARATORS[comparator]
    if comparator == "previous":
        before = previous_wave(ds, scope.wave)
        if before is None:
            notes.append("There is no earlier wave to compare with.")
            units["comparator"] = np.nan
            units["verdict"] = "not compared"
        else:
            then = estimates(ds, ind, by, place_filters(d, scope, cluster=level == "school", wave=before), rules)
            then = then.set_index("code").reindex(units["code"]).reset_index()
            change = difference(units, then)
            units["comparator"] = then["value"].to_numpy()
            units["verdict"] = stats.compare(change["diff"], change["diff_low"], change["diff_high"], 0.0,
                                             ind.polarity)
            label = f"{label} ({d.by_role('wave').label_of(before)})"
    else:
        if comparator == "cpp":
            value = _one(cpp_estimate(ds, ind, scope, rules), scope.cpp)["value"]
            value = None if pd.isna(value) else float(value)
            if value is None:
                notes.append("The CPP figure itself is protected, so no unit is compared with it.")
        else:
            value, why = national(ds, ind, scope, comps)
            if why:
                notes.append(why)
        units["comparator"] = np.nan if value is None else value
        units["verdict"] = stats.compare(units["value"], units["ci_low"], units["ci_high"],
                                         np.nan if value is None else value, ind.polarity)
    units = _sorted(units)
    return Ranked(ind, ind.title(d), d[by].label, comparator, label, value, units,
                  context(ds, scope, rules, notes))


def cpp_estimate(ds: Dataset, ind: Indicator, scope: Scope, rules: Rules) -> pd.DataFrame:
    d = ds.dictionary
    return estimates(ds, ind, role_var(d, "cpp"), place_filters(d, scope, cluster=False), rules)


def _sorted(units: pd.DataFrame) -> pd.DataFrame:
    """Highest first, protected units last in name order: so a protected unit's place in the list says nothing."""
    shown = units[units["value"].notna()].sort_values("value", ascending=False, kind="stable")
    hidden = units[units["value"].isna()].sort_values("label", kind="stable")
    return pd.concat([shown, hidden]).reset_index(drop=True)


def context(ds: Dataset, scope: Scope, rules: Rules, notes) -> Context:
    d = ds.dictionary
    place = []
    for role, code in (("cpp", scope.cpp), ("cluster", scope.cluster), ("wave", scope.wave)):
        var = d.by_role(role)
        if code is not None and var is not None:
            place.append(f"{var.label}: {var.label_of(code)}")
    synthetic = ("Synthetic sample: fictional places and pupils, not real statistics.",) if d.synthetic else ()
    return Context(d.title, d.synthetic, rules, tuple(place) + service.describe_filters(d, scope.filters),
                   tuple(notes) + synthetic)


# --------------------------------------------------------------------------- spine


@dataclass(frozen=True)
class Spine:
    """One unit across many indicators, each placed between the lowest and highest unit of its CPP."""

    unit_label: str
    level_label: str
    comparator: str
    rows: pd.DataFrame  # indicator, label, group, statistic, polarity, value, ci_low, ci_high, base,
    #                      cpp, national, low, high, units, verdict
    context: Context


def spine(ds: Dataset, level: str, unit: str, scope: Scope, comparator: str = "cpp", rules: Rules = Rules(),
          comps: Comparators = EMPTY, chosen: list[Indicator] | None = None) -> Spine:
    """ScotPHO's spine: the unit, the range across the CPP's units of its level, the CPP and national marks."""
    d = ds.dictionary
    by = role_var(d, level)
    scope_cpp = Scope(scope.cpp, None, scope.wave, scope.filters)
    notes = []
    if comparator not in ("cpp", "national"):
        notes.append("The spine compares with the CPP or the nation; the CPP is used.")
        comparator = "cpp"
    rows = []
    for ind in chosen if chosen is not None else indicators(d):
        table = estimates(ds, ind, by, place_filters(d, scope_cpp, cluster=False), rules)
        units = table[table["code"].notna()]
        shown = units["value"].dropna()
        me = units[units["code"].eq(unit)]
        me = me.iloc[0] if len(me) else pd.Series({c: np.nan for c in COLUMNS} | {"hidden": SUPPRESSED})
        cpp = _one(table, None)["value"]
        nat, _ = national(ds, ind, scope_cpp, comps)
        against = cpp if comparator == "cpp" else (np.nan if nat is None else nat)
        rows.append({
            "indicator": ind.name, "label": ind.title(d), "group": ind.group, "statistic": ind.statistic,
            "polarity": ind.polarity, "value": me["value"], "ci_low": me["ci_low"], "ci_high": me["ci_high"],
            "hidden": me["hidden"],
            "base": me["base"], "cpp": cpp, "national": np.nan if nat is None else nat,
            "low": shown.min() if len(shown) else np.nan, "high": shown.max() if len(shown) else np.nan,
            "units": len(shown),
            "verdict": stats.compare(me["value"], me["ci_low"], me["ci_high"], against, ind.polarity).item(),
        })
    frame = pd.DataFrame(rows)
    if len(frame):
        frame["base"] = frame["base"].astype("Int64")
    return Spine(d[by].label_of(unit), d[by].label, comparator, frame, context(ds, scope_cpp, rules, notes))


# --------------------------------------------------------------------------- trend


@dataclass(frozen=True)
class Trend:
    """The indicator across waves for the unit, its CPP and the nation."""

    indicator: Indicator
    title: str
    series: pd.DataFrame  # series, wave, wave_label, value, ci_low, ci_high, base
    change: pd.DataFrame  # per series: from, to, diff, diff_low, diff_high, verdict (latest two waves)
    context: Context


def trend(ds: Dataset, ind: Indicator, level: str | None, unit: str | None, scope: Scope,
          rules: Rules = Rules(), comps: Comparators = EMPTY) -> Trend:
    d = ds.dictionary
    wave = role_var(d, "wave")
    base_scope = Scope(scope.cpp, None, None, scope.filters)
    parts = []
    if level is not None and unit is not None:
        unit_filters = place_filters(d, base_scope, cluster=False) + ((role_var(d, level), (unit,)),)
        parts.append((d[role_var(d, level)].label_of(unit), estimates(ds, ind, wave, unit_filters, rules)))
    cpp_name = d.by_role("cpp").label_of(scope.cpp) if scope.cpp is not None else "All"
    parts.append((f"{cpp_name} (CPP)", estimates(ds, ind, wave, place_filters(d, base_scope), rules)))
    frames = []
    for name, table in parts:
        table = table[table["code"].notna()]
        frames.append(table.assign(series=name))
    waves = service.categories(ds, wave)
    nat = [(w, national(ds, ind, base_scope, comps, wave=w)[0]) for w in waves]
    if any(v is not None for _, v in nat):
        frames.append(pd.DataFrame({"code": [w for w, v in nat if v is not None],
                                    "label": [d[wave].label_of(w) for w, v in nat if v is not None],
                                    "value": [v for _, v in nat if v is not None],
                                    "series": "National"}))
    series = pd.concat(frames, ignore_index=True).rename(columns={"code": "wave", "label": "wave_label"})
    changes = []
    if len(waves) >= 2:
        for name, table in parts:
            now, then = (table[table["code"].eq(w)].reset_index(drop=True) for w in waves[-2:][::-1])
            if len(now) and len(then):
                ch = difference(now, then).iloc[0]
                changes.append({"series": name, "from": d[wave].label_of(waves[-2]), "to": d[wave].label_of(waves[-1]),
                                **ch.to_dict(), "verdict": stats.compare(ch["diff"], ch["diff_low"], ch["diff_high"],
                                                                         0.0, ind.polarity).item()})
    notes = [] if level is None or unit is not None else ["Choose a unit to see its own trend."]
    return Trend(ind, ind.title(d), series, pd.DataFrame(changes), context(ds, base_scope, rules, notes))


# --------------------------------------------------------------------------- deprivation gradient


@dataclass(frozen=True)
class Gradient:
    """The indicator by deprivation quintile, with the gap between the most and least deprived."""

    indicator: Indicator
    title: str
    by_label: str
    groups: pd.DataFrame  # COLUMNS, SIMD order (most deprived first)
    gap: dict = field(default_factory=dict)  # most, least, diff, diff_low, diff_high, ratio, verdict
    context: Context | None = None
    inequality: Measures = field(default_factory=Measures)  # SII, RII, PAR, ranges; or why they are not given


def gradient(ds: Dataset, ind: Indicator, scope: Scope, rules: Rules = Rules()) -> Gradient:
    d = ds.dictionary
    simd = deprivation(d)
    if simd is None:
        raise QueryError("this data has no deprivation (SIMD) variable")
    table = estimates(ds, ind, simd.name, place_filters(d, scope), rules)
    groups = table[table["code"].notna()].reset_index(drop=True)
    gap = {}
    notes = []
    if len(groups) >= 2:
        most, least = groups.iloc[[0]].reset_index(drop=True), groups.iloc[[-1]].reset_index(drop=True)
        diff = difference(most, least).iloc[0]
        if pd.isna(diff["diff"]):
            notes.append("The gap is not shown: one of the two quintiles is protected.")
        else:
            ratio = most["value"].iloc[0] / least["value"].iloc[0] if least["value"].iloc[0] else np.nan
            # "better" here means the most deprived fare better than the least deprived
            gap = {"most": most["label"].iloc[0], "least": least["label"].iloc[0], **diff.to_dict(),
                   "ratio": ratio, "verdict": stats.compare(diff["diff"], diff["diff_low"], diff["diff_high"], 0.0,
                                                            ind.polarity).item()}
    some = simd.name in dict(scope.filters)
    measures = inequality(groups, ind.statistic, ind.polarity, complete=not some,
                          why_incomplete=f"The inequality measures need every quintile; this view keeps only some "
                                         f"{simd.label} values.")
    return Gradient(ind, ind.title(d), simd.label, groups, gap, context(ds, scope, rules, notes), measures)


# --------------------------------------------------------------------------- map


@dataclass(frozen=True)
class SchoolMap:
    """Schools where they are, sized by respondents and coloured by the indicator; protected schools valueless."""

    indicator: Indicator
    title: str
    schools: pd.DataFrame  # COLUMNS + cluster, cluster_label, lon, lat, comparator, verdict
    comparator_value: float | None
    context: Context


def school_map(ds: Dataset, ind: Indicator, scope: Scope, rules: Rules = Rules()) -> SchoolMap:
    d = ds.dictionary
    school, cluster = role_var(d, "school"), role_var(d, "cluster")
    places = service.school_places(ds)
    table = estimates(ds, ind, school, place_filters(d, scope), rules)
    table = table[table["code"].notna()]
    schools = table.merge(places, on="code", how="inner")
    if scope.cluster is not None:
        schools = schools[schools["cluster"].eq(scope.cluster)]
    schools["cluster_label"] = schools["cluster"].map(d[cluster].label_of)
    value = _one(cpp_estimate(ds, ind, scope, rules), scope.cpp)["value"] if scope.cpp is not None else np.nan
    value = None if pd.isna(value) else float(value)
    schools["comparator"] = np.nan if value is None else value
    schools["verdict"] = stats.compare(schools["value"], schools["ci_low"], schools["ci_high"],
                                       np.nan if value is None else value, ind.polarity)
    notes = [] if len(places) else ["This data has no school locations, so there is no map."]
    return SchoolMap(ind, ind.title(d), schools.reset_index(drop=True), value, context(ds, scope, rules, notes))
