"""Similar pupils: each school or cluster against what its own mix of pupils would show elsewhere.

A unit with many pupils from deprived areas may have more pupils with a
need than the CPP average without doing anything differently. Indirect
standardisation asks instead: at the reference's rates for pupils of the same
SIMD quintile, sex and stage, how many would this unit's pupils show? The
ratio observed ÷ expected is above 1 when the unit has more than similar
pupils elsewhere (Scotland's Insight calls the same idea a "virtual
comparator").

The expected count is made inside the engine (`engine.similar`), which
releases per unit only the gated observed count and base and one expected
count, and only where the gate shows the unit's figure. The ratio's interval
treats the observed count as Poisson and the expectation as fixed, exactly as
PHEindicatormethods' calculate_ISRatio (exact below 10 events, Byar from 10:
`engine.fairness.poisson_limits`). A unit the gate hides is listed by name,
with no count, expectation or ratio.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rcs_viz.data.dictionary import Dictionary
from rcs_viz.engine import fairness, similar as engine_similar, stats
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.load import Dataset
from rcs_viz.engine.sql.views import Flag, QueryError
from rcs_viz.features.compare.state import REFERENCES
from rcs_viz.features.compare.model import (FLAG, LEVELS, Context, Indicator, Scope, context, deprivation,
                                            place_filters, role_var)
from rcs_viz.output.tables import SUPPRESSED

METHOD = ("Indirect standardisation: a unit's expected count is, for each stratum of SIMD quintile × sex × stage, "
          "the reference's rate times the unit's pupils in it, added up; the ratio is observed ÷ expected. 95% "
          "interval: the observed count as Poisson with the expectation fixed, exact below 10 events and Byar's "
          "approximation from 10 (PHEindicatormethods calculate_ISRatio). A reference stratum with fewer than the "
          "minimum base of pupils, or fewer than the threshold with or without the indicator, takes the rate of a "
          "broader group (pooled over sex, then stage, then the whole reference). The expected count is the "
          "unit's expected rate times its base as shown; strata are never shown.")


def strata(d: Dictionary) -> list[str]:
    """The stratifiers this data has, most telling first (pooling drops from the end): SIMD, stage, sex."""
    out = []
    simd = deprivation(d)
    if simd is not None:
        out.append(simd.name)
    stage = d.by_role("stage")
    if stage is not None:
        out.append(stage.name)
    sex = next((v for v in d.variables if v.is_categorical and v.role is None
                and any(w in (v.name + " " + v.label).lower().split() for w in ("sex", "gender"))), None)
    if sex is not None:
        out.append(sex.name)
    return out


@dataclass(frozen=True)
class Similar:
    """Each unit's observed and expected counts and their ratio with a 95% interval; protected units by name."""

    indicator: Indicator
    title: str
    level_label: str
    reference: str  # a key of REFERENCES
    reference_label: str
    strata_labels: tuple[str, ...]
    units: pd.DataFrame  # code, label, base, observed, expected, ratio, ci_low, ci_high, method, verdict, hidden
    method: str
    context: Context

    @property
    def drawn(self) -> pd.DataFrame:
        return self.units[self.units["ratio"].notna()]

    @property
    def protected(self) -> list[str]:
        return list(self.units.loc[self.units["ratio"].isna(), "label"])


def similar(ds: Dataset, ind: Indicator, level: str, scope: Scope, reference: str = "cpp",
            rules: Rules = Rules()) -> Similar:
    """Clusters of a CPP, or schools of a CPP or cluster, against what similar pupils in the reference show."""
    d = ds.dictionary
    if level not in LEVELS:
        raise QueryError(f"compare clusters or schools, not '{level}'")
    if reference not in REFERENCES:
        raise QueryError(f"the reference is the CPP or all the data, not '{reference}'")
    if ind.statistic != "pct":
        raise QueryError("the similar-pupil comparison is made for percentages (counts of pupils), not means")
    by = role_var(d, level)
    names = strata(d)
    notes = []
    if not names:
        notes.append("This data has no SIMD, stage or sex variable, so the expectation is the reference's "
                     "overall rate.")
    flag = Flag(FLAG, ind.label, ((ind.name, ind.positive),))
    unit_filters = place_filters(d, scope, cluster=level == "school")
    ref_scope = scope if reference == "cpp" else Scope(None, None, scope.wave, scope.filters)
    ref_filters = place_filters(d, ref_scope, cluster=False)
    units = engine_similar.similar_pupils(ds, flag, by, unit_filters, ref_filters, names, rules)
    observed = units["observed"].astype(float).to_numpy()
    expected = units["expected"].astype(float).to_numpy()
    low, high, used = fairness.poisson_limits(observed)
    ok = units["shown"].to_numpy() & (expected > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        units["ratio"] = np.where(ok, observed / expected, np.nan)
        units["ci_low"] = np.where(ok, low / expected, np.nan)
        units["ci_high"] = np.where(ok, high / expected, np.nan)
    units["method"] = np.where(ok, used, "")
    units["verdict"] = stats.compare(units["ratio"], units["ci_low"], units["ci_high"], 1.0, ind.polarity)
    units["hidden"] = np.where(ok, None, SUPPRESSED)
    # nothing about a unit without a ratio but its name and the marker
    units["observed"] = units["observed"].where(ok)
    units["expected"] = units["expected"].where(ok)
    units = units.drop(columns="shown")
    shown = units[units["ratio"].notna()].sort_values("ratio", ascending=False, kind="stable")
    hidden = units[units["ratio"].isna()].sort_values("label", kind="stable")
    units = pd.concat([shown, hidden]).reset_index(drop=True)
    if reference == "all":
        notes.append("The reference is all the data: every CPP in the file, in this wave and these filters.")
    return Similar(ind, ind.title(d), d[by].label, reference, REFERENCES[reference],
                   tuple(d[n].label for n in names), units, METHOD, context(ds, scope, rules, notes))
