"""Similar-pupil expectations (indirect standardisation), made where the records are and released as one figure.

What a unit's pupils would show at a reference's rates: for each stratum
(SIMD quintile x sex x stage), the reference's rate times the unit's pupils in
that stratum, added up. Both the unit's stratum counts and the reference's
stratum rates are true counts, often small, so they are read and used here,
inside the engine, and never returned: out of this module comes, per unit,
only the observed count and base as the gate shows them, and an expected
count, and only where the gate shows the unit's figure (its count shown and
its base at least `min_base`).

Why the expected count is safe to release (docs/compare.md says it in words):

- It is the unit's *expected rate* (a weighted mean of the reference's
  stratum rates, weighted by the unit's true stratum shares) times the
  unit's base *as the gate shows it*, so it carries the gate's perturbation
  and never the unit's true size.
- Each reference rate used rests on at least `min_base` pupils, with at least
  `threshold` pupils with and without the indicator. A stratum short of that
  takes the rate of a broader group: pooled over its last stratifier (sex),
  then the next (stage), then the whole reference. So even a unit whose
  pupils all sit in one stratum (where the expected rate *is* that stratum's
  rate) reveals only a rate the gate could show: a percentage over a base of
  at least `min_base` with no small count under it.
- One weighted mean of many strata gives no single stratum's count of the
  unit; the unit's own figure is released only where the gate shows it.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from rcs_viz.engine import db, service
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.load import Dataset
from rcs_viz.engine.sql import views
from rcs_viz.engine.sql.views import YES, CrossTab, Flag

COLUMNS = ["code", "label", "base", "observed", "expected", "shown"]
MISSING_KEY = "\x00missing"  # a stratum value left blank: a stratum of its own


def reference_rates(counts: pd.DataFrame, strata: Sequence[str], rules: Rules) -> pd.Series:
    """The rate to apply in each full stratum of `counts` (columns: the strata, n, events), after pooling.

    A stratum keeps its own rate when it has at least `min_base` pupils and at
    least `threshold` with and without the indicator; otherwise it takes the
    rate of the group made by dropping its last stratifier, then the next,
    down to the whole reference. NaN when even the whole reference falls short.
    Indexed by the full stratum key (a tuple).
    """
    def safe(n, k):
        return (n >= rules.min_base) & (k >= rules.threshold) & (n - k >= rules.threshold)

    strata = list(strata)
    full = counts.groupby(strata, dropna=False)[["n", "events"]].sum() if strata else None
    total_n, total_k = float(counts["n"].sum()), float(counts["events"].sum())
    overall = total_k / total_n if total_n > 0 and safe(total_n, total_k) else np.nan
    if full is None:
        return pd.Series(dtype=float)
    rate = pd.Series(np.nan, index=full.index)
    decided = pd.Series(False, index=full.index)
    for depth in range(len(strata), 0, -1):
        keys = strata[:depth]
        pooled = counts.groupby(keys, dropna=False)[["n", "events"]].sum()
        ok = safe(pooled["n"], pooled["events"])
        level_rate = (pooled["events"] / pooled["n"]).where(ok)
        index = full.index if depth == len(strata) else full.index.droplevel(list(range(depth, len(strata))))
        here = pd.Series(level_rate.reindex(index).to_numpy(), index=full.index)
        take = ~decided & here.notna()
        rate[take] = here[take]
        decided |= take
    rate[~decided] = overall
    return rate


def expected_rates(counts: pd.DataFrame, strata: Sequence[str], rules: Rules) -> pd.Series:
    """Each unit's expected rate: its true stratum shares times the reference's (pooled) rates. By unit code."""
    strata = list(strata)
    rates = reference_rates(counts, strata, rules)
    if strata:
        keyed = counts.set_index(strata)
        applied = rates.reindex(keyed.index).to_numpy()
    else:
        total_n, total_k = float(counts["n"].sum()), float(counts["events"].sum())
        ok = total_n >= rules.min_base and total_k >= rules.threshold and total_n - total_k >= rules.threshold
        applied = np.full(len(counts), total_k / total_n if ok else np.nan)
    part = counts.assign(part=counts["n"].to_numpy() * applied)
    by_unit = part.groupby("unit", dropna=False).agg(n=("n", "sum"), part=("part", lambda s: s.sum(min_count=1)))
    # a stratum with no safe rate anywhere (NaN) leaves the unit without an expectation
    has_nan = part.assign(nan=np.isnan(applied)).groupby("unit", dropna=False)["nan"].any()
    out = (by_unit["part"] / by_unit["n"]).where(~has_nan & (by_unit["n"] > 0))
    return out


def similar_pupils(ds: Dataset, flag: Flag, by: str, filters, reference_filters, strata: Sequence[str],
                   rules: Rules = Rules()) -> pd.DataFrame:
    """Per unit of `by` under `filters`: base and observed count as the gate shows them, and the expected count.

    `reference_filters` choose the pupils whose stratum rates are applied (the
    CPP, or all data, with the view's wave and filters); they must include
    every pupil of every unit under `filters`. Returns COLUMNS: `expected` is
    NaN and `observed` <NA> wherever the gate does not show the unit's figure;
    `shown` says whether it does.
    """
    query = CrossTab(rows=by, cols=flag.name, filters=tuple(filters), include_missing=False, flags=(flag,))
    cells = service.crosstab(ds, query, "row_pct", rules).cells
    units = cells[cells["row"].notna()]
    yes = units[units["col"].eq(YES)].set_index("row")
    base = units[units["col"].isna()].set_index("row")["count"]
    out = pd.DataFrame({"code": yes.index, "label": yes["row_label"].to_numpy(),
                        "base": base.reindex(yes.index).to_numpy(), "observed": yes["count"].to_numpy()})
    shown = yes["value"].notna().to_numpy()
    out["shown"] = shown

    sql, params = views.strata_counts(by, tuple(strata), (flag,), flag.name, tuple(reference_filters),
                                      service.schema(ds))
    raw = db.run(ds.db_path, sql, params)
    raw.columns = ["unit", *strata, "n", "events"]
    for name in strata:
        raw[name] = raw[name].astype(object).where(raw[name].notna(), MISSING_KEY)
    raw = raw.astype({"n": float, "events": float})
    rate = expected_rates(raw, strata, rules)
    exp_rate = pd.Series(rate.reindex(out["code"]).to_numpy(), index=out.index)
    base_shown = pd.to_numeric(out["base"], errors="coerce").astype(float)
    out["expected"] = (exp_rate * base_shown).where(shown)
    out["observed"] = pd.array(out["observed"].where(shown), dtype="Int64")
    out["base"] = pd.array(out["base"], dtype="Int64")
    return out[COLUMNS].reset_index(drop=True)
