"""Funnel plot of clusters or schools: each unit's figure against its size, with the limits chance allows.

A rank chart of units of very different sizes misleads: small units sit at
both ends by chance. A funnel plots each unit's figure (y) against its number
of pupils (x) and draws, around the comparator, the 95 % and 99.8 % limits a
unit of that size drawn from the comparator's population would stay within
(`engine.fairness`). A unit outside them differs by more than chance would
usually give; inside, its difference is within what chance gives.

Every figure is read from `model.estimates`, i.e. from the one gate: a unit's
x is its base as the gate shows it (perturbed), its y the gate's value. A
unit whose value or base the gate hides is listed as protected and never
drawn, and nothing about it (no base, value, limit or side) enters the result
beyond its name, so no output can carry its true value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rcs_viz.data.comparators import EMPTY, Comparators
from rcs_viz.engine import fairness
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.load import Dataset
from rcs_viz.engine.sql.views import QueryError
from rcs_viz.features.compare.model import (COMPARATORS, LEVELS, Context, Indicator, Scope, context, cpp_estimate,
                                            estimates, national, place_filters, role_var)

METHODS = {
    "pct": "95% and 99.8% limits for a proportion by PHE's method (PHEindicatormethods calculate_funnel_limits): "
           "comparator ± z·√(p(1−p)/n), so a unit is outside the 95% funnel exactly when its own 95% Wilson "
           "interval excludes the comparator.",
    "mean": "95% and 99.8% normal limits for a mean: comparator ± z·sd/√n (Spiegelhalter, Stat Med 2005), sd being "
            "the spread of pupils' scores in the CPP, recovered from the CPP's published 95% interval.",
}
# fairness.funnel_position → (side, strength) for words
SIDES = {"above 99.8%": ("above", "99.8%"), "above 95%": ("above", "95%"), "below 95%": ("below", "95%"),
         "below 99.8%": ("below", "99.8%")}


@dataclass(frozen=True)
class Funnel:
    """Units drawn against their size, the comparator and its limits; protected units by name only."""

    indicator: Indicator
    title: str
    level_label: str
    comparator: str  # "cpp" or "national"
    comparator_label: str
    comparator_value: float | None  # in the indicator's unit (%, or the mean's); None: no funnel
    sd: float | None  # for a mean: the reference spread the limits use
    units: pd.DataFrame  # code, label, base, value, ci_low, ci_high, hidden, low95, high95, low998, high998,
    #                      position, verdict, flag; drawn rows first (by base), protected last by name
    method: str
    context: Context

    @property
    def drawn(self) -> pd.DataFrame:
        return self.units[self.units["value"].notna() & self.units["base"].notna()]

    @property
    def protected(self) -> list[str]:
        return list(self.units.loc[self.units["value"].isna() | self.units["base"].isna(), "label"])

    @property
    def outside(self) -> pd.DataFrame:
        return self.units[self.units["position"].isin(list(SIDES))]

    def curves(self, points: int = 120) -> pd.DataFrame:
        """The limits as curves over the drawn units' sizes: n, target, low95, high95, low998, high998."""
        bases = self.drawn["base"].astype(float)
        if self.comparator_value is None or not len(bases):
            return pd.DataFrame(columns=["n", "target", "low95", "high95", "low998", "high998"])
        lo, hi = max(float(bases.min()) * 0.8, 2.0), float(bases.max()) * 1.1
        n = np.unique(np.round(np.geomspace(lo, max(hi, lo + 1), points), 2))
        lim = limits(self.indicator.statistic, self.comparator_value, self.sd, n)
        return pd.DataFrame({"n": n, **{k: getattr(lim, k) for k in ("target", "low95", "high95", "low998",
                                                                      "high998")}})


def limits(statistic: str, target: float, sd: float | None, n) -> fairness.FunnelLimits:
    """Limits in the indicator's own unit (% for a percentage)."""
    if statistic == "pct":
        lim = fairness.funnel_limits_proportion(target / 100.0, n)
        return fairness.FunnelLimits(*(np.asarray(a) * 100.0 for a in lim))
    return fairness.funnel_limits_mean(target, np.nan if sd is None else sd, n)


def spread(row: pd.Series) -> float | None:
    """A mean's sd from its shown t interval and base: half-width × √n ÷ t(n−1)."""
    n, lo, hi = row["base"], row["ci_low"], row["ci_high"]
    if pd.isna(n) or pd.isna(lo) or pd.isna(hi) or int(n) < 2:
        return None
    from scipy import stats  # only here: scipy.stats takes a second to import, and most pages never need it

    return float((hi - lo) / 2 * np.sqrt(float(n)) / stats.t.isf(0.025, float(n) - 1))


def words(position: str, polarity: str, shown: bool = True) -> tuple[str, str]:
    """(verdict, flag): the verdict as the rank chart colours it, and the flag in words that follow polarity."""
    if position == "within":
        return "no different", "within the limits"
    if position not in SIDES:
        return "not compared", "not compared (protected)" if not shown else "not compared (no comparator)"
    side, strength = SIDES[position]
    if polarity in ("higher_is_better", "lower_is_better"):
        verdict = "better" if (side == "above") == (polarity == "higher_is_better") else "worse"
    else:
        verdict = "higher" if side == "above" else "lower"
    return verdict, f"{verdict}: {side} the {strength} limit"


def funnel(ds: Dataset, ind: Indicator, level: str, scope: Scope, comparator: str = "cpp",
           rules: Rules = Rules(), comps: Comparators = EMPTY) -> Funnel:
    """Clusters of a CPP, or schools of a CPP or cluster, against the CPP or the national figure."""
    d = ds.dictionary
    if level not in LEVELS:
        raise QueryError(f"compare clusters or schools, not '{level}'")
    notes = []
    if comparator not in ("cpp", "national"):
        notes.append("A funnel compares with the CPP or the nation; the CPP is used.")
        comparator = "cpp"
    by = role_var(d, level)
    units = estimates(ds, ind, by, place_filters(d, scope, cluster=level == "school"), rules)
    units = units[units["code"].notna()].reset_index(drop=True)
    cpp = cpp_estimate(ds, ind, scope, rules)
    cpp_row = cpp[cpp["code"].eq(scope.cpp)] if scope.cpp is not None else cpp[cpp["code"].isna()]
    cpp_row = cpp_row.iloc[0] if len(cpp_row) else None
    sd = spread(cpp_row) if ind.statistic == "mean" and cpp_row is not None else None
    if comparator == "cpp":
        value = None if cpp_row is None or pd.isna(cpp_row["value"]) else float(cpp_row["value"])
        if value is None:
            notes.append("The CPP figure itself is protected, so there is no funnel.")
    else:
        value, why = national(ds, ind, scope, comps)
        if why:
            notes.append(why)
    if ind.statistic == "mean" and value is not None and sd is None:
        notes.append("The CPP's spread of scores is protected, so a mean has no funnel.")
        value = None
    elif ind.statistic == "mean" and comparator == "national" and value is not None:
        notes.append("The national funnel uses the CPP's spread of scores: the national table has no spread.")
    shown = units["value"].notna() & units["base"].notna()
    base = units["base"].astype(float).where(shown)
    lim = limits(ind.statistic, np.nan if value is None else value, sd, base.to_numpy())
    for k in ("low95", "high95", "low998", "high998"):
        units[k] = np.where(shown, getattr(lim, k), np.nan)
    position = fairness.funnel_position(units["value"].astype(float).where(shown), lim)
    judged = [words(p, ind.polarity, ok) for p, ok in zip(position, shown)]
    units["position"] = position
    units["verdict"] = [v for v, _ in judged]
    units["flag"] = [f for _, f in judged]
    # a protected unit carries its name, its marker and its base as the gate shows it (or [c]): no value or side
    units.loc[~shown, ["value", "ci_low", "ci_high"]] = np.nan
    order = list(units[shown].sort_values("base", kind="stable").index)
    order += list(units[~shown].sort_values("label", kind="stable").index)
    units = units.loc[order].reset_index(drop=True)
    return Funnel(ind, ind.title(d), d[by].label, comparator, COMPARATORS[comparator], value, sd, units,
                  METHODS[ind.statistic], context(ds, scope, rules, notes))
