"""Statistical neighbours: the clusters (or CPPs) most like a unit on a documented profile, as a comparator.

The profile is what shapes a unit's figures without being its doing: the
share of pupils living in SIMD quintiles 1–2, the share registered for free
school meals, the share living in urban areas (each where the data has it),
and its size (pupils responding). Every profile figure is read through the
gate (`model.estimates`, a count crosstab), for every unit of the level in
the data, in the view's wave and with no other filter: a unit whose profile
figure the gate hides has no place in the profile and is never a neighbour.

Each profile figure is standardised across the units with a full profile
(z = (x − mean) / sd, sd over units, ddof 0; a figure that does not vary is
left out) and the distance between two units is the Euclidean distance of
their z-scores. The neighbours are the K nearest other units (fewer if fewer
exist). Their average on an indicator is the plain mean of their gated
figures (each neighbour counts once), with a normal 95% interval from their
own intervals (se = half-width ÷ 1.96, var = Σ se² ÷ k²); a neighbour whose
figure is hidden is left out of the average, so the average is made of shown
figures only and cannot be worked back towards a hidden one.

Neighbours are units with similar circumstances, not similar results, and
not a league: being like another cluster on these few figures says nothing
about its schools, staff or services.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rcs_viz.data.comparators import EMPTY, Comparators
from rcs_viz.data.dictionary import Dictionary
from rcs_viz.engine import service, stats
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.load import Dataset
from rcs_viz.engine.sql.views import CrossTab, QueryError
from rcs_viz.features.compare import model
from rcs_viz.features.compare.model import Context, Indicator, Scope, context, deprivation, estimates, role_var

K = 5
LEVELS = ("cluster", "cpp")
Z95 = 1.959963984540054
METHOD = ("Statistical neighbours: each unit's profile (share of pupils in SIMD quintiles 1–2, share registered for "
          "free school meals, share in urban areas, where the data has them, and pupils responding), read through "
          "the disclosure gate, standardised across the units with a full profile (z-scores, sd over units); the "
          f"neighbours are the {K} other units nearest by Euclidean distance. Their average is the plain mean of "
          "their shown figures, with a normal 95% interval from their own intervals; a hidden figure is left out.")
SIZE = "size"


@dataclass(frozen=True)
class Item:
    """One profile figure: a % of pupils with given codes of a variable, or the unit's size."""

    key: str
    label: str
    variable: str | None = None
    positive: tuple[str, ...] = ()


def items(d: Dictionary) -> list[Item]:
    """The profile this data allows, in a fixed order."""
    out = []
    simd = deprivation(d)
    if simd is not None and len(simd.values) >= 2:
        out.append(Item("simd12", f"% {simd.label} 1–2", simd.name, tuple(c for c, _ in simd.values[:2])))
    fsm = next((v for v in d.variables if v.is_categorical and v.role is None and
                ("fsm" in v.name.lower() or "free school meal" in v.label.lower())), None)
    if fsm is not None:
        out.append(Item("fsm", "% free school meals", fsm.name, tuple(fsm.positive) or ("1",)))
    urban = next((v for v in d.variables if v.is_categorical and v.role is None and
                  "urban" in (v.name + " " + v.label).lower()), None)
    if urban is not None and urban.values:
        first = urban.values[0]
        out.append(Item("urban", f"% {first[1].lower()} ({urban.label})", urban.name, (first[0],)))
    out.append(Item(SIZE, "Pupils"))
    return out


def profile(ds: Dataset, level: str, wave: str | None, rules: Rules) -> pd.DataFrame:
    """Every unit of the level in the data: code, label and each item's figure as the gate shows it (NaN: hidden)."""
    d = ds.dictionary
    by = role_var(d, level)
    place = ((role_var(d, "wave"), (wave,)),) if wave is not None and d.by_role("wave") is not None else ()
    counts = service.crosstab(ds, CrossTab(rows=by, filters=place, include_missing=False), "count", rules).cells
    counts = counts[counts["row"].notna()]
    out = pd.DataFrame({"code": counts["row"].to_numpy(), "label": counts["row_label"].to_numpy()})
    for item in items(d):
        if item.key == SIZE:
            out[item.key] = counts["value"].astype(float).to_numpy()
            continue
        ind = Indicator(item.variable, item.label, "", "pct", "neutral", item.positive)
        table = estimates(ds, ind, by, place, rules)
        table = table[table["code"].notna()].set_index("code")
        out[item.key] = table["value"].reindex(out["code"]).astype(float).to_numpy()
    return out


def distances(frame: pd.DataFrame, keys: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """The z-scores of complete units (sd over units, ddof 0; a constant column dropped) and the keys used."""
    full = frame.dropna(subset=keys).set_index("code")
    used = [k for k in keys if len(full) > 1 and full[k].std(ddof=0) > 0]
    z = (full[used] - full[used].mean()) / full[used].std(ddof=0)
    return z, used


def nearest(frame: pd.DataFrame, unit: str, k: int = K) -> pd.DataFrame:
    """The k units nearest `unit` (code, distance), nearest first; empty when the unit's profile is incomplete."""
    keys = [c for c in frame.columns if c not in ("code", "label")]
    z, _ = distances(frame, keys)
    if unit not in z.index:
        return pd.DataFrame(columns=["code", "distance"])
    dist = np.sqrt(((z - z.loc[unit]) ** 2).sum(axis=1)).drop(index=unit)
    dist = dist.sort_values(kind="stable").head(k)
    return pd.DataFrame({"code": dist.index, "distance": dist.to_numpy()})


def average(value, low, high) -> tuple[float, float, float]:
    """The plain mean of shown figures with a normal 95% interval from their own intervals; NaNs left out."""
    v, lo, hi = (np.asarray(a, dtype=float) for a in (value, low, high))
    keep = ~(np.isnan(v) | np.isnan(lo) | np.isnan(hi))
    if not keep.any():
        return np.nan, np.nan, np.nan
    v, lo, hi = v[keep], lo[keep], hi[keep]
    mean = float(v.mean())
    se = (hi - lo) / (2 * Z95)
    half = Z95 * float(np.sqrt((se ** 2).sum())) / len(v)
    return mean, mean - half, mean + half


@dataclass(frozen=True)
class Neighbours:
    """A unit, its neighbours with their profile and distance, and the indicator against them and the others."""

    indicator: Indicator
    title: str
    level_label: str
    unit: str | None
    unit_label: str
    items: tuple[Item, ...]
    profile: pd.DataFrame  # code, label, role ("this unit"/"neighbour"), distance, one column per item key
    figures: pd.DataFrame  # label, value, ci_low, ci_high, hidden, kind (unit/neighbour/average/cpp/national/previous)
    average: tuple[float, float, float]  # the neighbours' average and its interval
    comparisons: pd.DataFrame  # comparator, value, diff, diff_low, diff_high, verdict: the unit against each
    method: str
    context: Context

    @property
    def protected(self) -> list[str]:
        f = self.figures
        return list(f.loc[f["kind"].isin(["unit", "neighbour"]) & f["value"].isna(), "label"])


def neighbours(ds: Dataset, ind: Indicator, level: str, unit: str | None, scope: Scope, rules: Rules = Rules(),
               comps: Comparators = EMPTY, k: int = K, prof: pd.DataFrame | None = None) -> Neighbours:
    """The unit's k nearest neighbours on the profile, and the indicator for it against their average.

    `prof` is the level's `profile` in the scope's wave when the caller already holds it: a report pack asks
    for several indicators against the same neighbours, and the profile costs several protected cross-tabs.
    """
    d = ds.dictionary
    if level not in LEVELS:
        raise QueryError("statistical neighbours are found for clusters and CPPs")
    by = role_var(d, level)
    unit = unit if unit is not None else (scope.cpp if level == "cpp" else None)
    if unit is None:
        raise QueryError(f"choose a {d[by].label.lower()} to find its neighbours")
    prof = profile(ds, level, scope.wave, rules) if prof is None else prof
    near = nearest(prof, unit, k)
    notes = []
    if not len(near):
        notes.append(f"{d[by].label_of(unit)}'s profile is not complete (a figure is protected), so it has no "
                     "neighbours here.")
    elif len(near) < k:
        notes.append(f"Only {len(near)} other {d[by].label.lower()}{'s' if len(near) != 1 else ''} with a full "
                     "profile: the neighbours are all of them.")
    rows = prof.set_index("code")
    picked = [unit] + list(near["code"])
    table = rows.reindex(picked).reset_index()
    table.insert(2, "role", ["this unit"] + ["neighbour"] * len(near))
    table.insert(3, "distance", [0.0] + list(near["distance"]))

    wave_filter = ((role_var(d, "wave"), (scope.wave,)),) if scope.wave is not None else ()
    values = estimates(ds, ind, by, wave_filter + scope.filters, rules)
    values = values[values["code"].notna()].set_index("code")
    mine = values.reindex([unit]).iloc[0]
    theirs = values.reindex(list(near["code"]))
    avg = average(theirs["value"], theirs["ci_low"], theirs["ci_high"])
    hidden_n = int(theirs["value"].isna().sum())
    if hidden_n:
        notes.append(f"{hidden_n} neighbour{'s' if hidden_n != 1 else ''}' figure{'s are' if hidden_n != 1 else ' is'} "
                     "protected and left out of the average.")
    fig_rows = [{"label": d[by].label_of(unit), "kind": "unit", **_fig(mine)}]
    fig_rows += [{"label": d[by].label_of(c), "kind": "neighbour", **_fig(theirs.loc[c])} for c in near["code"]]
    fig_rows.append({"label": f"Neighbours' average ({len(near) - hidden_n})", "kind": "average",
                     "value": avg[0], "ci_low": avg[1], "ci_high": avg[2], "hidden": None})
    others = []
    if level == "cluster" and scope.cpp is not None:
        cpp = model.cpp_estimate(ds, ind, Scope(scope.cpp, None, scope.wave, scope.filters), rules)
        cpp = cpp[cpp["code"].eq(scope.cpp)]
        if len(cpp):
            others.append(("CPP average", "cpp", cpp.iloc[0]))
    nat, why = model.national(ds, ind, Scope(scope.cpp, None, scope.wave, scope.filters), comps)
    if nat is not None:
        others.append(("National figure", "national", pd.Series({"value": nat, "ci_low": np.nan, "ci_high": np.nan,
                                                                  "hidden": None})))
    before = model.previous_wave(ds, scope.wave)
    if before is not None:
        then = estimates(ds, ind, by, ((role_var(d, "wave"), (before,)),) + scope.filters, rules)
        then = then[then["code"].eq(unit)]
        if len(then):
            wave_label = d.by_role("wave").label_of(before)
            others.append((f"{d[by].label_of(unit)}, {wave_label}", "previous", then.iloc[0]))
    fig_rows += [{"label": name, "kind": kind, **_fig(row)} for name, kind, row in others]
    figures = pd.DataFrame(fig_rows)
    comparisons = _comparisons(mine, [("Neighbours' average", pd.Series(
        {"value": avg[0], "ci_low": avg[1], "ci_high": avg[2]}))] + [(n, r) for n, _, r in others], ind.polarity)
    level_label = d[by].label
    return Neighbours(ind, ind.title(d), level_label, unit, d[by].label_of(unit), tuple(items(d)), table, figures,
                      avg, comparisons, METHOD, context(ds, Scope(scope.cpp, None, scope.wave, scope.filters), rules,
                                                        notes))


def _fig(row) -> dict:
    return {"value": row.get("value", np.nan), "ci_low": row.get("ci_low", np.nan),
            "ci_high": row.get("ci_high", np.nan), "hidden": row.get("hidden")}


def _comparisons(mine: pd.Series, against, polarity: str) -> pd.DataFrame:
    """The unit minus each comparator, with a MOVER interval where both have one (a fixed national figure: its own)."""
    rows = []
    for name, other in against:
        lo2 = other["ci_low"] if not pd.isna(other["ci_low"]) else other["value"]
        hi2 = other["ci_high"] if not pd.isna(other["ci_high"]) else other["value"]
        diff = stats.difference_ci(mine["value"], mine["ci_low"], mine["ci_high"], other["value"], lo2, hi2)
        d, lo, hi = (float(np.asarray(x).item()) for x in (diff.diff, diff.low, diff.high))
        rows.append({"comparator": name, "value": other["value"], "diff": d, "diff_low": lo, "diff_high": hi,
                     "verdict": stats.compare(d, lo, hi, 0.0, polarity).item()})
    return pd.DataFrame(rows, columns=["comparator", "value", "diff", "diff_low", "diff_high", "verdict"])


def comparator(ds: Dataset, ind: Indicator, scope: Scope, rules: Rules = Rules(), k: int = K) -> pd.DataFrame:
    """Every cluster of the scope's CPP with its neighbours' average on the indicator: code, value, ci_low, ci_high."""
    d = ds.dictionary
    prof = profile(ds, "cluster", scope.wave, rules)
    by = role_var(d, "cluster")
    wave_filter = ((role_var(d, "wave"), (scope.wave,)),) if scope.wave is not None else ()
    values = estimates(ds, ind, by, wave_filter + scope.filters, rules)
    values = values[values["code"].notna()].set_index("code")
    in_cpp = service.categories(ds, by, ((role_var(d, "cpp"), (scope.cpp,)),)) if scope.cpp is not None else []
    rows = []
    for code in in_cpp:
        near = nearest(prof, code, k)
        theirs = values.reindex(list(near["code"]))
        v, lo, hi = average(theirs["value"], theirs["ci_low"], theirs["ci_high"])
        rows.append({"code": code, "value": v, "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows, columns=["code", "value", "ci_low", "ci_high"])


def rank(ds: Dataset, ind: Indicator, level: str, scope: Scope, comparator_key: str = "cpp",
         rules: Rules = Rules(), comps: Comparators = EMPTY) -> model.Ranked:
    """`model.rank`, and for comparator "neighbours" each cluster against its own neighbours' average."""
    if comparator_key != "neighbours":
        return model.rank(ds, ind, level, scope, comparator_key, rules, comps)
    r = model.rank(ds, ind, level, scope, "cpp", rules, comps)
    units = r.units.copy()
    notes = [n for n in r.context.notes if "CPP figure" not in n]
    if level != "cluster":
        notes.append("Statistical neighbours are found for clusters and CPPs, not schools: no school is compared.")
        units["comparator"] = np.nan
        units["verdict"] = "not compared"
    else:
        avg = comparator(ds, ind, scope, rules).set_index("code").reindex(units["code"]).reset_index()
        diff = model.difference(units, avg)
        units["comparator"] = avg["value"].to_numpy()
        units["verdict"] = stats.compare(diff["diff"], diff["diff_low"], diff["diff_high"], 0.0, ind.polarity)
        units.loc[units["value"].isna(), "comparator"] = np.nan
    ctx = Context(r.context.dataset_title, r.context.synthetic, r.context.rules, r.context.filters_text, tuple(notes))
    return model.Ranked(r.indicator, r.title, r.level_label, "neighbours", model.COMPARATORS["neighbours"], None,
                        units, ctx)
