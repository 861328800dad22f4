"""Fair comparisons between units of different size and make-up: funnel limits,
indirect standardisation and inequality on a deprivation gradient.

Why a module beside `stats` rather than more of it: `stats` gives each cell its
own interval; these methods judge a *set* of units against a target (funnels),
against what their pupils' mix predicts (standardisation), or across ordered
groups (SII/RII/PAR). Each follows a published public-health method and is
checked against it, so they are kept together with their references.

Like `stats`, this module is pure: no Streamlit, no DuckDB, no records.
Inputs are aggregates (counts, bases, rates, limits) as scalars, lists, numpy
arrays or pandas Series; outputs are numpy arrays broadcast to the inputs.

NaN in, NaN out, with no exception: a unit, stratum or quintile whose figure
the disclosure gate has blanked (NaN) makes every figure that rests on it NaN.
This is a deliberate departure from PHEindicatormethods, whose
`calculate_ISRatio` counts a missing stratum as zero (`na.zero`): here that
would turn a protected count into a number. Impossible aggregates (a negative
count, a count above its base) raise ValueError, as in `stats`.

References
----------
- PHEindicatormethods (UKHSA), R package: `calculate_funnel_limits`,
  `assign_funnel_significance`, `calculate_ISRatio`, `phe_sii`
  (github.com/ukhsa-collaboration/PHEindicatormethods, R/Funnels.R,
  R/ISRatio.R, R/SII_function.R, R/utils.R).
- Spiegelhalter DJ. Funnel plots for comparing institutional performance.
  Stat Med 2005;24:1185-1202 (exact binomial limits, appendix A.1.1).
- Breslow NE, Day NE. Statistical methods in cancer research, vol. II. IARC
  1987 (Byar's approximation to exact Poisson limits).
- ScotPHO, `calculate_inequality_measures` in scotpho-indicator-production
  (2.deprivation_analysis.R / functions): SII, RII, PAR, ranges.
- Low A, Low A. Measuring the gap: quantifying and comparing local health
  inequalities. J Public Health 2004;26:388-395 (SII by weighted regression
  on the relative rank).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rcs_viz.engine.stats import as_array, z_value

def _stats():
    """scipy.stats, imported when a limit is first computed: it takes a second, and most pages never need it."""
    from scipy import stats

    return stats


__all__ = [
    "FunnelLimits",
    "FUNNEL_LABELS",
    "funnel_limits_proportion",
    "funnel_limits_mean",
    "funnel_position",
    "ISRatio",
    "expected_events",
    "poisson_limits",
    "indirect_standardisation",
    "Inequality",
    "relative_rank",
    "inequality_measures",
]

# The two funnel levels the profiles draw: 95 % (about 2 SD) and 99.8 % (about 3 SD).
FUNNEL_LEVELS = (0.95, 0.998)
FUNNEL_LABELS = ("above 99.8%", "above 95%", "within", "below 95%", "below 99.8%", "not compared")


# --------------------------------------------------------------------------- funnels


class FunnelLimits(NamedTuple):
    """Control limits around a target at each unit's base: 95 % and 99.8 %."""

    target: np.ndarray
    low95: np.ndarray
    high95: np.ndarray
    low998: np.ndarray
    high998: np.ndarray


def _binomial_quantile(p: float, n: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Spiegelhalter's interpolated binomial quantile, as a proportion.

    r_p is the p-th quantile of Binomial(n, target) (the smallest r with
    F(r) >= p); alpha = (F(r_p) - p) / (F(r_p) - F(r_p - 1)) moves it back
    between integers so the limit is a smooth curve in n rather than a
    staircase; the limit is (r_p - alpha) / n (Spiegelhalter 2005, A.1.1).
    """
    r = _stats().binom.ppf(p, n, target)
    f_r = _stats().binom.cdf(r, n, target)
    f_below = _stats().binom.cdf(r - 1, n, target)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = (f_r - p) / (f_r - f_below)
        return np.clip((r - alpha) / n, 0.0, 1.0)


def funnel_limits_proportion(target, n, method: str = "wilson") -> FunnelLimits:
    """Funnel limits for a proportion (0-1) at base n around a target proportion.

    method="wilson" is PHE's funnel for proportions (`calculate_funnel_limits`,
    statistic="proportion", whose metadata says "Wilson"): the limit at n is
    the proportion whose Wilson score interval at n just reaches the target.
    PHE's `sigma_adjustment` solves that quadratic in a long closed form; it
    simplifies to target +/- z * sqrt(target (1 - target) / n), because a Wilson
    bound pi solves (p - pi)^2 = z^2 pi (1 - pi) / n. So a unit lies outside
    the 95 % funnel exactly when its own 95 % Wilson interval excludes the
    target: the funnel and the rank chart's verdicts agree. Clipped to [0, 1]
    as PHE clips to [0, 100].

    method="exact" is Spiegelhalter's exact binomial funnel with interpolation
    between integers (see `_binomial_quantile`). It is better at small n and
    near 0 %/100 %, where the symmetric Wilson funnel overshoots.

    n <= 0 or any NaN gives NaN limits (a protected base draws no funnel).
    """
    t, n = np.broadcast_arrays(as_array(target), as_array(n))
    with np.errstate(invalid="ignore"):
        if np.any((t < 0) | (t > 1)):
            raise ValueError("funnel_limits_proportion: the target is a proportion between 0 and 1")
        if np.any(n < 0):
            raise ValueError("funnel_limits_proportion: a base cannot be negative")
        ok = (n > 0) & ~np.isnan(t)
    nn = np.where(ok, n, np.nan)
    tt = np.where(ok, t, np.nan)
    out = []
    for level in FUNNEL_LEVELS:
        if method == "wilson":
            with np.errstate(invalid="ignore"):
                half = z_value(level) * np.sqrt(tt * (1.0 - tt) / nn)
            low, high = np.clip(tt - half, 0.0, 1.0), np.clip(tt + half, 0.0, 1.0)
        elif method == "exact":
            tail = (1.0 - level) / 2.0
            low = _binomial_quantile(tail, nn, tt)
            high = _binomial_quantile(1.0 - tail, nn, tt)
        else:
            raise ValueError(f"method must be 'wilson' or 'exact', got {method!r}")
        out += [np.where(ok, low, np.nan), np.where(ok, high, np.nan)]
    return FunnelLimits(tt, *out)


def funnel_limits_mean(target, sd, n) -> FunnelLimits:
    """Normal funnel limits for a mean: target +/- z * sd / sqrt(n).

    sd is the spread of individual values in the reference population (the
    CPP's or the nation's), not of the unit: the funnel asks how far a unit of
    n pupils drawn from the reference would stray by chance (Spiegelhalter
    2005, section 2, normal outcome). n <= 0, sd < 0 or any NaN gives NaN.
    """
    t, s, n = np.broadcast_arrays(as_array(target), as_array(sd), as_array(n))
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = (n > 0) & (s >= 0) & ~np.isnan(t)
        se = np.where(ok, s / np.sqrt(np.where(ok, n, np.nan)), np.nan)
    tt = np.where(ok, t, np.nan)
    out = []
    for level in FUNNEL_LEVELS:
        half = z_value(level) * se
        out += [tt - half, tt + half]
    return FunnelLimits(tt, *out)


def funnel_position(value, limits: FunnelLimits) -> np.ndarray:
    """Where each unit sits against its funnel, as PHE's `assign_funnel_significance`.

    Strictly outside counts ("above"/"below"): a unit on a limit is "within",
    so rounding never manufactures an outlier. Any NaN (a protected value or
    base) gives "not compared", so a protected unit's side is never told.
    Polarity (better/worse) is the caller's: these labels only say high/low.
    """
    v, lo95, hi95, lo998, hi998 = np.broadcast_arrays(
        as_array(value), limits.low95, limits.high95, limits.low998, limits.high998)
    missing = np.isnan(v) | np.isnan(lo95) | np.isnan(hi95) | np.isnan(lo998) | np.isnan(hi998)
    out = np.full(v.shape, "within", dtype=object)
    with np.errstate(invalid="ignore"):
        out[v > hi95] = "above 95%"
        out[v > hi998] = "above 99.8%"
        out[v < lo95] = "below 95%"
        out[v < lo998] = "below 99.8%"
    out[missing] = "not compared"
    return out


# --------------------------------------------------------------------------- indirect standardisation


class ISRatio(NamedTuple):
    """Observed / expected with its interval; rates per pupil of the unit."""

    observed: np.ndarray
    expected: np.ndarray
    ratio: np.ndarray
    low: np.ndarray
    high: np.ndarray
    observed_rate: np.ndarray  # observed / unit size
    expected_rate: np.ndarray  # what the unit's pupils would show at the reference's stratum rates
    method: np.ndarray  # "exact" or "byar" per unit, "" where NaN


def expected_events(unit_n, ref_events, ref_n) -> np.ndarray:
    """Expected count: sum over strata (last axis) of unit size x reference rate.

    unit_n has strata on its last axis (..., k); ref_events and ref_n are the
    reference population's events and sizes per stratum, broadcast against it
    (usually shape (k,)). A stratum the unit has no pupils in adds 0 whatever
    the reference says; a stratum with pupils but no reference pupils has no
    rate, so the expectation is NaN. Any NaN stratum gives NaN: unlike
    PHEindicatormethods (`na.zero`), a protected stratum is never read as 0.
    """
    un, re, rn = np.broadcast_arrays(as_array(unit_n), as_array(ref_events), as_array(ref_n))
    with np.errstate(invalid="ignore"):
        if np.any((un < 0) | (re < 0) | (rn < 0)) or np.any(re > rn):
            raise ValueError("expected_events: counts must satisfy 0 <= events <= size")
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(rn > 0, re / rn, np.nan)
        part = np.where(un == 0, 0.0, un * rate)
    part = np.where(np.isnan(un) | np.isnan(re) | np.isnan(rn), np.nan, part)
    return part.sum(axis=-1)


def poisson_limits(observed, level: float = 0.95, method: str = "phe") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Confidence limits for a Poisson count, and the method used per count.

    "exact": the chi-squared form of the exact Poisson interval,
    lower = chi2(alpha/2, 2 O) / 2 and upper = chi2(1 - alpha/2, 2 O + 2) / 2,
    lower 0 when O = 0.
    "phe" (default): exact below 10 events, Byar's approximation from 10 on,
    exactly as PHEindicatormethods' `calculate_ISRatio` and `byars_lower/upper`:
    lower = O (1 - 1/(9 O) - z/(3 sqrt O))^3,
    upper = (O + 1) (1 - 1/(9 (O + 1)) + z/(3 sqrt(O + 1)))^3.
    Byar is within a fraction of a percent of exact from 10 events up.
    """
    o = as_array(observed)
    if np.any(o < 0):
        raise ValueError("poisson_limits: a count cannot be negative")
    if method not in ("phe", "exact"):
        raise ValueError(f"method must be 'phe' or 'exact', got {method!r}")
    z = z_value(level)
    a = 1.0 - level
    with np.errstate(divide="ignore", invalid="ignore"):
        ex_low = np.where(o > 0, _stats().chi2.ppf(a / 2.0, 2.0 * o) / 2.0, 0.0)
        ex_high = _stats().chi2.ppf(1.0 - a / 2.0, 2.0 * o + 2.0) / 2.0
        by_low = o * (1.0 - 1.0 / (9.0 * o) - z / (3.0 * np.sqrt(o))) ** 3
        o1 = o + 1.0
        by_high = o1 * (1.0 - 1.0 / (9.0 * o1) + z / (3.0 * np.sqrt(o1))) ** 3
    byar = (o >= 10) if method == "phe" else np.zeros(o.shape, dtype=bool)
    low = np.where(byar, by_low, ex_low)
    high = np.where(byar, by_high, ex_high)
    nan = np.isnan(o)
    used = np.where(nan, "", np.where(byar, "byar", "exact")).astype(object)
    return np.where(nan, np.nan, low), np.where(nan, np.nan, high), used


def indirect_standardisation(observed, unit_n, ref_events, ref_n, level: float = 0.95,
                             method: str = "phe") -> ISRatio:
    """Indirectly standardised ratio: the unit's observed count over what its mix predicts.

    The expected count applies the reference's rate in each stratum (e.g. SIMD
    quintile x sex x stage) to the unit's own pupils in that stratum
    (`expected_events`); observed / expected above 1 means more pupils with
    the indicator than similar pupils elsewhere. This is the "virtual
    comparator" idea: the expected rate is the unit's similar-pupil figure.
    The interval treats the observed count as Poisson and the expectation as
    fixed (PHEindicatormethods `calculate_ISRatio`: exact below 10 events,
    Byar from 10; method="exact" for exact throughout).

    observed is the unit's total count (..., ), the strata only enter through
    unit_n (..., k): the count with the indicator per stratum is never needed.
    NaN anywhere in a unit (its count, or any stratum) gives NaN throughout;
    expected 0 gives NaN (no pupils to expect anything of).
    """
    o = as_array(observed)
    e = expected_events(unit_n, ref_events, ref_n)
    size = as_array(unit_n).sum(axis=-1)
    o, e, size = np.broadcast_arrays(o, e, size)
    low, high, used = poisson_limits(o, level, method)
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = (e > 0) & ~np.isnan(o)
        ee = np.where(ok, e, np.nan)
        ratio = o / ee
        lo = low / ee
        hi = high / ee
        per = np.where(size > 0, size, np.nan)
        obs_rate = np.where(ok, o / per, np.nan)
        exp_rate = ee / per
    used = np.where(ok, used, "").astype(object)
    return ISRatio(np.where(ok, o, np.nan), ee, ratio, lo, hi, obs_rate, exp_rate, used)


# --------------------------------------------------------------------------- inequality


class Inequality(NamedTuple):
    """Inequality across ordered deprivation groups, most deprived first.

    Signs follow ScotPHO: positive SII, RII, ranges above 0 / 1 mean the most
    deprived have more of the indicator. Whether that is worse depends on the
    indicator's polarity, which the caller words.
    """

    abs_range: np.ndarray  # most deprived - least deprived
    rel_range: np.ndarray  # most deprived / least deprived
    sii: np.ndarray  # fitted value at the most deprived end - at the least deprived end
    sii_low: np.ndarray
    sii_high: np.ndarray
    rii: np.ndarray  # sii / overall (ScotPHO); x 0.5 x 100 reads as "% above the average"
    rii_low: np.ndarray
    rii_high: np.ndarray
    par: np.ndarray  # fraction of the overall rate that would go if all had the least deprived rate
    overall: np.ndarray
    fitted_most: np.ndarray  # regression line at relative rank 0
    fitted_least: np.ndarray  # regression line at relative rank 1


def relative_rank(population) -> np.ndarray:
    """Midpoint of each group's share of the cumulative population, groups on the last axis.

    Groups ordered most deprived first: a first group holding 12 % of pupils
    has rank 0.06, a second of 10 % then 0.12 + 0.05 = 0.17 (PHE `FindXValues`,
    ScotPHO `relative_rank`).
    """
    pop = as_array(population)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = pop / pop.sum(axis=-1, keepdims=True)
    return np.cumsum(share, axis=-1) - share / 2.0


def inequality_measures(rate, population, low=None, high=None, overall=None, level: float = 0.95,
                        method: str = "normal") -> Inequality:
    """Absolute and relative range, SII, RII and PAR across deprivation groups.

    rate, population (and low, high) carry the groups on their last axis,
    most deprived first (SIMD quintile 1 to 5); leading axes are units.

    SII: weighted least squares of the group rates on their relative rank
    (`relative_rank`), weights the population shares: ScotPHO's
    `lm(rate*sqrt(a) ~ sqrt(a) + rank*sqrt(a) + 0)`, which is also PHE's
    `phe_sii` regression (Low & Low 2004). The SII is minus the slope (ScotPHO's
    sign): the modelled gap between the most and the least deprived ends.
    PHE reports the slope itself, i.e. -sii, and its RII as
    fitted_least / fitted_most; both can be read off this result.

    RII: sii / overall, ScotPHO's definition, where overall is the area's
    overall rate (pass it; by default the population-weighted mean of the
    group rates). Its limits are the SII's divided by the same overall rate,
    as ScotPHO does (the overall rate taken as fixed).

    PAR: ScotPHO's Levin form sum(a (r / r_least - 1)) / (1 + sum(a (r / r_least - 1))),
    which equals (weighted mean - least deprived rate) / weighted mean: the
    share of the overall rate that would go if every group had the least
    deprived group's rate. It uses the least deprived group, not the best one,
    as ScotPHO does; it is negative when the least deprived have more.
    Returned as a fraction (ScotPHO shows x 100). No interval (ScotPHO has none).

    Intervals for the SII (method):
    - "normal" (default): each group's standard error is recovered from its
      95 % limits as (high - low) / (2 x 1.959964), as `phe_sii` does; the SII
      is a fixed linear combination c . y of the group rates, so with
      independent groups its variance is sum(c^2 se^2) and the interval is
      SII +/- z sqrt(that). This is the exact limit, as repetitions grow, of
      `phe_sii`'s simulation for untransformed values (value_type 0), without
      its random draws, so the same view always gives the same interval. It
      reflects the sampling error of each group, which is what small groups
      of pupils have most of. Requires low and high.
    - "regression": ScotPHO's `confint(lm)`: the t interval from the regression's
      residual scatter on k - 2 degrees of freedom. It ignores each group's
      own precision (five points on a straight line give a zero-width
      interval however few pupils they rest on), so it is offered for
      agreement with ScotPHO's published figures, not as the default.

    Only when every group is shown: any NaN rate or population in a unit (or
    a NaN limit, for "normal") gives NaN for every measure of that unit, as
    does a group with no population. Needs at least 3 groups.
    """
    r = as_array(rate)
    pop = as_array(population)
    r, pop = np.broadcast_arrays(r, pop)
    k = r.shape[-1] if r.ndim else 0
    if k < 3:
        raise ValueError("inequality_measures: needs at least 3 ordered groups on the last axis")
    if np.any(pop < 0):
        raise ValueError("inequality_measures: a population cannot be negative")
    if method not in ("normal", "regression"):
        raise ValueError(f"method must be 'normal' or 'regression', got {method!r}")
    bad = np.isnan(r).any(axis=-1) | np.isnan(pop).any(axis=-1) | (pop <= 0).any(axis=-1)
    if method == "normal":
        if low is None or high is None:
            raise ValueError("inequality_measures: method 'normal' needs each group's 95 % limits (low, high)")
        lo, hi = np.broadcast_arrays(as_array(low), as_array(high), r)[:2]
        bad = bad | np.isnan(lo).any(axis=-1) | np.isnan(hi).any(axis=-1)
    z = z_value(level)

    with np.errstate(divide="ignore", invalid="ignore"):
        a = pop / pop.sum(axis=-1, keepdims=True)
        x = np.cumsum(a, axis=-1) - a / 2.0
        xbar = (a * x).sum(axis=-1, keepdims=True)
        ybar = (a * r).sum(axis=-1, keepdims=True)
        sxx = (a * (x - xbar) ** 2).sum(axis=-1, keepdims=True)
        c = a * (x - xbar) / sxx  # slope = c . y
        slope = (c * r).sum(axis=-1)
        intercept = ybar[..., 0] - slope * xbar[..., 0]
        if method == "normal":
            se = (hi - lo) / (2.0 * float(_stats().norm.isf(0.025)))
            half = z * np.sqrt((c * c * se * se).sum(axis=-1))
        else:
            resid = r - (intercept[..., None] + slope[..., None] * x)
            df = k - 2
            s2 = (a * resid * resid).sum(axis=-1) / df
            half = float(_stats().t.isf((1.0 - level) / 2.0, df)) * np.sqrt(s2 / sxx[..., 0])
        sii = -slope
        mean = ybar[..., 0]
        ov = mean if overall is None else np.broadcast_to(as_array(overall), mean.shape)
        most, least = r[..., 0], r[..., -1]

        def over(v):
            # ScotPHO: zero inequality is an RII of 0, even over a zero overall rate
            return np.where(v == 0, 0.0, v / np.where(ov != 0, ov, np.nan))

        rii, rii_low, rii_high = over(sii), over(sii - half), over(sii + half)
        par_rr = (a * (r / least[..., None] - 1.0)).sum(axis=-1)
        par = np.where(least > 0, par_rr / (par_rr + 1.0), np.nan)
        fields = dict(
            abs_range=most - least,
            rel_range=np.where(least != 0, most / np.where(least != 0, least, np.nan), np.nan),
            sii=sii, sii_low=sii - half, sii_high=sii + half,
            rii=rii, rii_low=rii_low, rii_high=rii_high, par=par,
            overall=ov, fitted_most=intercept, fitted_least=intercept + slope,
        )
    return Inequality(**{name: np.where(bad, np.nan, np.asarray(v, dtype=float)) for name, v in fields.items()})
