"""Confidence intervals and comparison labels computed from aggregates.

This module is pure: no Streamlit, no DuckDB, no records. It receives the
per-cell sums the query layer produces (counts, bases, sums of values, sums
of weights and squared weights) and returns numpy arrays, so one call handles
a whole table of cells at once. Inputs may be scalars, lists, numpy arrays or
pandas Series; outputs are numpy arrays broadcast to the inputs' shape (0-d
for scalar inputs), which assign positionally into a DataFrame column.

NaN in, NaN out: a cell the query layer or disclosure control has blanked
(NaN) gets NaN estimates and is labelled "not compared" by `compare`, so a
protected cell can never acquire an interval or a better/worse verdict.
Impossible aggregates (a count above its base, a negative base) raise
ValueError, because they mean an upstream bug, not a small sample.

Why the survey-weighted functions use Kish's effective base: the query layer
only sees sums, not the survey design (strata, school clusters), so a full
design-based variance is not available. The Kish effective base
``n_eff = (sum w)^2 / sum w^2`` captures the precision lost to unequal
weights only; clustering of pupils within schools usually widens intervals
further, so weighted intervals here are, if anything, optimistic. The UI
shows an effective-base note beside any weighted estimate for this reason.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = [
    "ProportionCI",
    "MeanCI",
    "DiffCI",
    "wilson_ci",
    "weighted_proportion_ci",
    "kish_effective_base",
    "mean_ci",
    "weighted_mean_ci",
    "proportion_diff_ci",
    "weighted_proportion_diff_ci",
    "difference_ci",
    "compare",
    "COMPARISON_LABELS",
]

# Relative slack for floating-point sums that should satisfy an inequality
# exactly (e.g. weighted count <= weighted base) but were added up in a
# different order by the database.
_FP_SLACK = 1e-9


# What a cell can show, as the app names it: counts, three percentages, and two statistics of a number.
MEASURES = {
    "count": "Count",
    "row_pct": "Row %",
    "col_pct": "Column %",
    "total_pct": "% of total",
    "mean": "Mean",
    "median": "Median",
}


class ProportionCI(NamedTuple):
    p: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n_eff: np.ndarray


class MeanCI(NamedTuple):
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray


class DiffCI(NamedTuple):
    diff: np.ndarray
    low: np.ndarray
    high: np.ndarray


def as_array(a) -> np.ndarray:
    """Scalars, lists, arrays or Series as a float array: every function here takes any of them."""
    return np.asarray(a, dtype=float)


def z_value(level: float) -> float:
    """The two-sided normal critical value for a confidence level (1.96 for 0.95)."""
    level = float(level)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be strictly between 0 and 1, got {level!r}")
    # isf(alpha/2) with alpha = 1 - level: the same expression statsmodels
    # uses, so the critical value agrees bit for bit with alpha=1-level.
    from scipy import stats as st  # scipy.stats takes a second to import: only when an interval is asked for

    return float(st.norm.isf((1.0 - level) / 2.0))


def _check_count_base(x: np.ndarray, n: np.ndarray, what: str) -> None:
    with np.errstate(invalid="ignore"):
        bad = (n < 0) | (x < 0) | (x > n * (1 + _FP_SLACK))
    if np.any(bad):
        raise ValueError(f"{what}: counts must satisfy 0 <= count <= base")


def _wilson_from_p(p: np.ndarray, n: np.ndarray, z: float):
    """Wilson bounds from a proportion and a (possibly fractional) base.

    Written in terms of p and n rather than x and n so the weighted path can
    pass an effective base without rounding x_eff = p * n_eff to a count.
    The algebra is the textbook form (as in statsmodels) so results agree to
    rounding; the exact endpoints at p = 0 and p = 1 are then pinned because
    center - dist cancels to a few ulps there rather than to 0.
    """
    z2 = z * z
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = n > 0
        nn = np.where(ok, n, np.nan)
        denom = 1.0 + z2 / nn
        center = (p + z2 / (2.0 * nn)) / denom
        dist = z * np.sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn**2)) / denom
        low = np.clip(center - dist, 0.0, 1.0)
        high = np.clip(center + dist, 0.0, 1.0)
    low = np.where(p == 0.0, 0.0, low)
    high = np.where(p == 1.0, 1.0, high)
    return np.where(ok, low, np.nan), np.where(ok, high, np.nan)


def wilson_ci(x, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for x successes out of n (unweighted).

    Wilson rather than the normal (Wald) interval because survey cells are
    often small or near 0%/100%, where Wald gives zero-width or out-of-range
    intervals; Wilson stays inside [0, 1] and keeps near-nominal coverage.
    n == 0 gives NaN (no estimate); x == 0 gives low == 0, x == n high == 1.
    Matches ``statsmodels...proportion_confint(x, n, 1 - level, "wilson")``.
    """
    x, n = np.broadcast_arrays(as_array(x), as_array(n))
    _check_count_base(x, n, "wilson_ci")
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, x / n, np.nan)
    return _wilson_from_p(np.clip(p, 0.0, 1.0), n, z_value(level))


def kish_effective_base(sum_w, sum_w2) -> np.ndarray:
    """Kish effective base (sum w)^2 / sum w^2; NaN when there is no weight.

    Equal weights give n_eff == n; the more unequal the weights, the smaller
    n_eff, i.e. the less information the weighted cell really carries.
    """
    sum_w, sum_w2 = np.broadcast_arrays(as_array(sum_w), as_array(sum_w2))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sum_w2 > 0, sum_w**2 / sum_w2, np.nan)


def weighted_proportion_ci(
    weighted_count, weighted_base, sum_w2_base, level: float = 0.95
) -> ProportionCI:
    """Weighted proportion with a Wilson interval on the Kish effective base.

    p = weighted count / weighted base. The interval is Wilson applied to
    x_eff = p * n_eff out of n_eff, with n_eff = (sum w)^2 / sum w^2 over the
    base: the design-effect (Kish) approximation, which accounts for unequal
    weights but not for clustering or stratification (see module docstring).
    The UI must show n_eff in an effective-base note, because it, not the
    number of respondents, is what the interval's width reflects.
    With equal weights this reproduces `wilson_ci` on the unweighted counts.
    """
    wx, wn, sw2 = np.broadcast_arrays(
        as_array(weighted_count), as_array(weighted_base), as_array(sum_w2_base)
    )
    _check_count_base(wx, wn, "weighted_proportion_ci")
    n_eff = kish_effective_base(wn, sw2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(wn > 0, np.clip(wx / wn, 0.0, 1.0), np.nan)
    n_eff = np.where(np.isnan(p), np.nan, n_eff)
    low, high = _wilson_from_p(p, n_eff, z_value(level))
    return ProportionCI(np.asarray(p), low, high, np.asarray(n_eff))


def _spread_floor(spread, mean_sq_level):
    """Zero a variance that is below the rounding noise of the sums.

    A variance from sums is a difference of two nearly equal numbers
    (E[y^2] - mean^2). When every respondent gave the same answer the true
    value is 0, but rounding leaves ~1e-16 * E[y^2], whose square root would
    show as a spurious non-zero interval. No real survey variable has
    sd / rms below 1e-6, so anything under 1e-12 * E[y^2] is noise.
    """
    return np.where(spread <= 1e-12 * mean_sq_level, 0.0, spread)


def _t_interval(mean, var_of_mean, df, level):
    """mean +/- t(df) * sqrt(var_of_mean); NaN where df is not positive."""
    from scipy import stats as st

    z_value(level)  # validate level with the same message as the proportions
    with np.errstate(invalid="ignore"):
        dfv = np.where(df > 0, df, np.nan)
        t = st.t.isf((1.0 - level) / 2.0, dfv)
        half = t * np.sqrt(var_of_mean)
    return MeanCI(np.asarray(mean), np.asarray(mean - half), np.asarray(mean + half))


def mean_ci(n, s, ss, level: float = 0.95) -> MeanCI:
    """t interval for a mean from n, sum y and sum y^2 (unweighted).

    Sample variance (n - 1 divisor) is (ss - s^2/n) / (n - 1); rounding noise
    around 0 (all answers equal) is reported as exactly 0. n < 2 gives NaN:
    one value has no spread to estimate.
    Precision note: the sums form loses about log10(mean^2 / var) digits, so
    it is exact enough for survey scores and percentages but not for values
    with a tiny spread around a huge mean (centre the data in SQL for those).
    Matches ``scipy.stats.t.interval`` on the raw values.
    """
    n, s, ss = np.broadcast_arrays(as_array(n), as_array(s), as_array(ss))
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = n >= 2
        nn = np.where(ok, n, np.nan)
        # A single respondent still has a mean; only its interval is NaN.
        mean = s / np.where(n >= 1, n, np.nan)
        var = _spread_floor((ss - s * s / nn) / (nn - 1.0), ss / nn)
        return _t_interval(mean, var / nn, nn - 1.0, level)


def weighted_mean_ci(sum_w, sum_wy, sum_wy2, sum_w2, level: float = 0.95) -> MeanCI:
    """t interval for a survey-weighted mean from weighted sums.

    mean = sum wy / sum w. The weighted spread V = sum w (y - mean)^2 / sum w
    = sum wy^2 / sum w - mean^2 is turned into a sampling variance with the
    Kish effective base in place of n: SE^2 = V / (n_eff - 1), df = n_eff - 1.
    That is the usual design-effect approximation (unequal weights only; see
    module docstring). It reduces to `mean_ci` exactly when weights are equal,
    and equals statsmodels' frequency-weight DescrStatsW interval on weights
    rescaled to sum to n_eff. n_eff < 2 gives NaN, mirroring `mean_ci`'s n < 2.
    """
    sw, swy, swy2, sw2 = np.broadcast_arrays(
        as_array(sum_w), as_array(sum_wy), as_array(sum_wy2), as_array(sum_w2)
    )
    n_eff = kish_effective_base(sw, sw2)
    with np.errstate(divide="ignore", invalid="ignore"):
        pos = sw > 0
        sw_ = np.where(pos, sw, np.nan)
        mean = swy / sw_
        spread = _spread_floor(swy2 / sw_ - mean * mean, swy2 / sw_)
        # n_eff is a ratio of float sums: equal weights on 2 respondents can
        # come out a few ulps under 2, which must not flip the cell to NaN.
        ok = n_eff >= 2.0 * (1.0 - _FP_SLACK)
        ne = np.where(ok, n_eff, np.nan)
        return _t_interval(mean, spread / (ne - 1.0), ne - 1.0, level)


def _newcombe(p1, n1, p2, n2, level) -> DiffCI:
    z = z_value(level)
    l1, u1 = _wilson_from_p(p1, n1, z)
    l2, u2 = _wilson_from_p(p2, n2, z)
    d = p1 - p2
    low = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return DiffCI(np.asarray(d), np.asarray(low), np.asarray(high))


def proportion_diff_ci(x1, n1, x2, n2, level: float = 0.95) -> DiffCI:
    """Difference p1 - p2 with Newcombe's hybrid score interval.

    Used for gaps such as most vs least deprived SIMD quintile. Newcombe
    (method 10) combines the two Wilson intervals, so it inherits Wilson's
    good behaviour at small n and at 0%/100%, where a Wald difference
    interval collapses. Either base 0 gives NaN.
    Matches statsmodels ``confint_proportions_2indep(..., method="newcomb")``.
    """
    x1, n1, x2, n2 = np.broadcast_arrays(as_array(x1), as_array(n1), as_array(x2), as_array(n2))
    _check_count_base(x1, n1, "proportion_diff_ci (group 1)")
    _check_count_base(x2, n2, "proportion_diff_ci (group 2)")
    with np.errstate(divide="ignore", invalid="ignore"):
        p1 = np.where(n1 > 0, np.clip(x1 / n1, 0, 1), np.nan)
        p2 = np.where(n2 > 0, np.clip(x2 / n2, 0, 1), np.nan)
    return _newcombe(p1, n1, p2, n2, level)


def weighted_proportion_diff_ci(
    weighted_count1, weighted_base1, sum_w2_base1,
    weighted_count2, weighted_base2, sum_w2_base2,
    level: float = 0.95,
) -> DiffCI:
    """Newcombe difference of two weighted proportions, each on its own
    Kish effective base (same approximation as `weighted_proportion_ci`)."""
    a = weighted_proportion_ci(weighted_count1, weighted_base1, sum_w2_base1, level)
    b = weighted_proportion_ci(weighted_count2, weighted_base2, sum_w2_base2, level)
    return _newcombe(a.p, a.n_eff, b.p, b.n_eff, level)


COMPARISON_LABELS = (
    "better", "worse", "higher", "lower", "no different", "not compared",
)

def difference_ci(v1, low1, high1, v2, low2, high2) -> DiffCI:
    """v1 - v2 with an interval recovered from the two estimates' own intervals (MOVER).

    Zou & Donner's method of variance estimates recovery needs only each
    estimate and its limits, which is all a protected result carries. With
    Wilson limits it is exactly Newcombe's hybrid score interval; with
    symmetric t limits it is close to a Welch interval. NaN in any input
    (a protected estimate) gives NaN.
    """
    v1, l1, h1, v2, l2, h2 = np.broadcast_arrays(*(as_array(a) for a in (v1, low1, high1, v2, low2, high2)))
    d = v1 - v2
    low = d - np.sqrt((v1 - l1) ** 2 + (h2 - v2) ** 2)
    high = d + np.sqrt((h1 - v1) ** 2 + (v2 - l2) ** 2)
    return DiffCI(np.asarray(d), np.asarray(low), np.asarray(high))


_POLARITIES = {"higher_is_better", "lower_is_better", "neutral", None}


def compare(value, low, high, comparator, polarity) -> np.ndarray:
    """Label each unit against a comparator (e.g. the CPP or national figure).

    A unit differs only when its whole interval lies strictly on one side of
    the comparator; an interval that touches it (low == comparator) is "no
    different", so rounding never manufactures a finding. Direction becomes
    "better"/"worse" via polarity ("higher_is_better"/"lower_is_better");
    for "neutral" or None it is "higher"/"lower", since calling a neutral
    measure better or worse would be an editorial judgement.
    Any NaN among value, low, high or comparator, as for a protected cell,
    gives "not compared": a suppressed unit is never classed, so its label
    cannot leak which side of the comparator it was on.
    Returns an object array of strings shaped like the broadcast inputs.
    """
    if isinstance(polarity, float) and np.isnan(polarity):
        polarity = None  # a blank polarity cell read by pandas
    if polarity not in _POLARITIES:
        raise ValueError(
            f"polarity must be one of 'higher_is_better', 'lower_is_better', "
            f"'neutral' or None, got {polarity!r}"
        )
    v, lo, hi, c = np.broadcast_arrays(as_array(value), as_array(low), as_array(high), as_array(comparator))
    missing = np.isnan(v) | np.isnan(lo) | np.isnan(hi) | np.isnan(c)
    with np.errstate(invalid="ignore"):
        above = ~missing & (lo > c)
        below = ~missing & (hi < c)
    if polarity == "higher_is_better":
        up, down = "better", "worse"
    elif polarity == "lower_is_better":
        up, down = "worse", "better"
    else:
        up, down = "higher", "lower"
    out = np.full(v.shape, "no different", dtype=object)
    out[above] = up
    out[below] = down
    out[missing] = "not compared"
    return out
