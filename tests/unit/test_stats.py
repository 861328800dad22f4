"""Tests for rcs_viz.engine.stats: hand-worked cases, edge cases, and property tests
against statsmodels / scipy run on the equivalent inputs.

Bounds near 0 are compared with a tiny absolute slack as well as 1e-9
relative: the textbook Wilson formula computes the lower bound as
center - dist, which at x = 0 cancels to a few ulps in statsmodels but is
pinned to exactly 0 here. For means, the centre and the half-width are
compared relatively rather than the bounds, because a bound that happens to
sit near 0 (mean ~ half-width) is itself a cancellation, and relative error
on it says nothing about either implementation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
)
from statsmodels.stats.weightstats import DescrStatsW

from rcs_viz.engine.stats import (
    compare,
    kish_effective_base,
    mean_ci,
    proportion_diff_ci,
    weighted_mean_ci,
    weighted_proportion_ci,
    weighted_proportion_diff_ci,
    wilson_ci,
)


REL = 1e-9
ABS = 1e-12
PROPS = settings(max_examples=150, deadline=None)

levels = st.sampled_from([0.8, 0.9, 0.95, 0.99, 0.999])


def close(a, b, rel=REL, abs_=ABS):
    return np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float),
                                      rtol=rel, atol=abs_, equal_nan=True)


@st.composite
def count_base(draw, max_n=100_000):
    n = draw(st.integers(1, max_n))
    x = draw(st.integers(0, n))
    return x, n


# --------------------------------------------------------------------------
# Wilson
# --------------------------------------------------------------------------

def test_wilson_hand_worked_12_of_40():
    # p = 0.3, n = 40, z = 1.959964, z^2 = 3.841459
    # denom  = 1 + z^2/n                     = 1.096036
    # center = (p + z^2/(2n)) / denom        = 0.348018 / 1.096036 = 0.317524
    # dist   = z*sqrt(p(1-p)/n + z^2/(4n^2)) / denom
    #        = 1.959964 * sqrt(0.00525 + 0.00060023) / 1.096036 = 0.136776
    # => (0.1807, 0.4543)
    low, high = wilson_ci(12, 40)
    assert round(float(low), 4) == 0.1807
    assert round(float(high), 4) == 0.4543


def test_wilson_edges_zero_all_and_empty():
    low, high = wilson_ci([0, 5, 0], [10, 5, 0])
    assert low[0] == 0.0 and 0 < high[0] < 1          # x = 0: low pinned to 0
    assert high[1] == 1.0 and 0 < low[1] < 1          # x = n: high pinned to 1
    assert np.isnan(low[2]) and np.isnan(high[2])     # n = 0: no estimate
    # x = 0 of 10 by hand: z^2/(n+z^2) = 3.841459/13.841459 = 0.2775
    assert round(float(high[0]), 4) == 0.2775


def test_wilson_nan_propagates_and_accepts_series():
    x = pd.Series([3.0, np.nan, 4.0])
    n = pd.Series([10.0, 10.0, np.nan])
    low, high = wilson_ci(x, n)
    assert not np.isnan(low[0])
    assert np.isnan(low[1:]).all() and np.isnan(high[1:]).all()


@pytest.mark.parametrize("x,n", [(11, 10), (-1, 10), (1, -1)])
def test_wilson_rejects_impossible_counts(x, n):
    with pytest.raises(ValueError):
        wilson_ci(x, n)


@pytest.mark.parametrize("level", [0, 1, 95, -0.5])
def test_level_must_be_a_probability(level):
    with pytest.raises(ValueError):
        wilson_ci(1, 2, level)
    with pytest.raises(ValueError):
        mean_ci(5, 15, 55, level)


@PROPS
@given(st.lists(count_base(), min_size=1, max_size=20), levels)
def test_wilson_matches_statsmodels(cells, level):
    x = np.array([c[0] for c in cells])
    n = np.array([c[1] for c in cells])
    low, high = wilson_ci(x, n, level)
    sm_low, sm_high = proportion_confint(x, n, alpha=1 - level, method="wilson")
    close(low, sm_low)
    close(high, sm_high)
    p = x / n
    assert np.all((low <= p) & (p <= high))


# --------------------------------------------------------------------------
# Weighted proportion (Kish)
# --------------------------------------------------------------------------

def test_weighted_proportion_hand_worked():
    # weighted count 6 of weighted base 20, sum w^2 = 40:
    # p = 0.3, n_eff = 20^2/40 = 10 -> Wilson for 3 of 10.
    r = weighted_proportion_ci(6.0, 20.0, 40.0)
    assert float(r.p) == 0.3 and float(r.n_eff) == 10.0
    low, high = wilson_ci(3, 10)
    close(r.low, low)
    close(r.high, high)


def test_weighted_proportion_edges():
    r = weighted_proportion_ci([0.0, 5.0, 0.0, np.nan], [5.0, 5.0, 0.0, 4.0],
                               [5.0, 5.0, 0.0, 4.0])
    assert r.low[0] == 0.0 and r.high[1] == 1.0
    assert np.isnan([r.p[2], r.low[2], r.high[2], r.n_eff[2]]).all()
    assert np.isnan([r.p[3], r.low[3], r.high[3], r.n_eff[3]]).all()
    # a count a few ulps over its base (sums added in another order) is p = 1
    r = weighted_proportion_ci(10.000000000000002, 10.0, 5.0)
    assert float(r.p) == 1.0 and float(r.high) == 1.0
    with pytest.raises(ValueError):
        weighted_proportion_ci(11.0, 10.0, 5.0)


@PROPS
@given(count_base(max_n=5000), st.floats(0.01, 100), levels)
def test_weighted_proportion_equal_weights_is_unweighted_wilson(xn, w, level):
    x, n = xn
    r = weighted_proportion_ci(w * x, w * n, w * w * n, level)
    low, high = wilson_ci(x, n, level)
    close(r.n_eff, n)
    close(r.p, x / n)
    close(r.low, low)
    close(r.high, high)


@PROPS
@given(
    st.lists(st.tuples(st.booleans(), st.floats(0.1, 10)), min_size=1, max_size=300),
    levels,
)
def test_weighted_proportion_from_records_matches_statsmodels(rows, level):
    # Build the aggregates the query layer would send from raw weighted
    # records, then check against statsmodels Wilson on (p*n_eff, n_eff).
    y = np.array([r[0] for r in rows], float)
    w = np.array([r[1] for r in rows])
    r = weighted_proportion_ci((w * y).sum(), w.sum(), (w * w).sum(), level)
    p = (w * y).sum() / w.sum()
    n_eff = w.sum() ** 2 / (w * w).sum()
    assert n_eff <= len(rows) * (1 + 1e-12)  # unequal weights only lose info
    sm_low, sm_high = proportion_confint(p * n_eff, n_eff, alpha=1 - level,
                                         method="wilson")
    close(r.p, p)
    close(r.n_eff, n_eff)
    close(r.low, sm_low)
    close(r.high, sm_high)


def test_kish_effective_base():
    close(kish_effective_base([4.0, 3.0, 0.0], [4.0, 5.0, 0.0]), [4.0, 1.8, np.nan])


# --------------------------------------------------------------------------
# Means
# --------------------------------------------------------------------------

def test_mean_ci_hand_worked():
    # y = 1..5: n=5, sum=15, sum sq=55; mean 3, s^2 = (55 - 225/5)/4 = 2.5,
    # se = sqrt(2.5/5) = 0.707107, t(0.975, 4) = 2.776445, half = 1.963243
    r = mean_ci(5, 15, 55)
    assert float(r.mean) == 3.0
    assert round(float(r.low), 4) == 1.0368
    assert round(float(r.high), 4) == 4.9632


def test_mean_ci_edges():
    r = mean_ci([0, 1, 4], [0.0, 7.0, 28.0], [0.0, 49.0, 196.0])
    assert np.isnan([r.mean[0], r.low[0], r.high[0]]).all()   # empty
    assert r.mean[1] == 7.0 and np.isnan([r.low[1], r.high[1]]).all()  # n = 1
    # four identical answers: zero spread gives a zero-width interval (scipy
    # returns NaN for scale 0; DescrStatsW gives mean +/- 0, as here)
    assert r.low[2] == r.high[2] == 7.0
    r = mean_ci(np.nan, 1.0, 1.0)
    assert np.isnan([r.mean, r.low, r.high]).all()


def _sums(y):
    y = np.asarray(y, float)
    return len(y), y.sum(), (y * y).sum()


def _check_mean_against_scipy(y, level):
    n, s, ss = _sums(y)
    r = mean_ci(n, s, ss, level)
    m = np.mean(y)
    lo, hi = sps.t.interval(level, n - 1, loc=m, scale=sps.sem(y))
    close(r.mean, m)
    close(r.high - r.mean, hi - m)
    close(r.mean - r.low, m - lo)
    # and statsmodels' unweighted DescrStatsW
    d = DescrStatsW(y)
    sm_lo, sm_hi = d.tconfint_mean(alpha=1 - level)
    close(r.high - r.mean, sm_hi - d.mean)


@PROPS
@given(st.lists(st.integers(0, 70), min_size=2, max_size=400), levels)
def test_mean_ci_matches_scipy_on_scores(y, level):
    # WEMWBS-like integer scores: the sums are exact in floating point.
    assume(len(set(y)) > 1)  # scipy gives NaN for zero spread (see edge test)
    _check_mean_against_scipy(y, level)


@PROPS
@given(st.lists(st.floats(0, 100).map(lambda v: round(v, 2)), min_size=2,
                max_size=400), levels)
def test_mean_ci_matches_scipy_on_percentages(y, level):
    # Attendance-like values. The sums form loses ~log10(mean^2/var) digits
    # (documented in mean_ci); keep to data where that leaves > 1e-9.
    y = np.array(y)
    assume(np.var(y) > 1e-4 * np.mean(y) ** 2)
    _check_mean_against_scipy(y, level)


weighted_rows = st.lists(
    st.tuples(st.integers(0, 70), st.floats(0.2, 5.0)), min_size=2, max_size=300
)


def _wsums(y, w):
    y = np.asarray(y, float)
    w = np.asarray(w, float)
    return w.sum(), (w * y).sum(), (w * y * y).sum(), (w * w).sum()


@PROPS
@given(weighted_rows, levels)
def test_weighted_mean_matches_descrstatsw_on_rescaled_weights(rows, level):
    # DescrStatsW reads weights as frequency weights: it treats sum w as the
    # number of observations (df = sum w - 1). Rescaling the weights to sum
    # to n_eff makes that "number of observations" the Kish effective base,
    # which is exactly the approximation weighted_mean_ci documents, so the
    # two must agree. (Raw survey weights fed to DescrStatsW would not be
    # comparable: its interval would shrink if every weight were doubled.)
    y = np.array([r[0] for r in rows], float)
    w = np.array([r[1] for r in rows])
    assume(len(set(y)) > 1)
    r = weighted_mean_ci(*_wsums(y, w), level)
    n_eff = w.sum() ** 2 / (w * w).sum()
    assume(n_eff >= 2)
    d = DescrStatsW(y, weights=w * n_eff / w.sum())
    lo, hi = d.tconfint_mean(alpha=1 - level)
    close(r.mean, d.mean)
    close(r.mean, np.average(y, weights=w))
    close(r.high - r.mean, hi - d.mean)
    close(r.mean - r.low, d.mean - lo)


@PROPS
@given(st.lists(st.integers(0, 70), min_size=2, max_size=300),
       st.floats(0.01, 100), levels)
def test_weighted_mean_equal_weights_is_unweighted(y, w, level):
    y = np.array(y, float)
    weights = np.full(len(y), w)
    r = weighted_mean_ci(*_wsums(y, weights), level)
    u = mean_ci(*_sums(y), level)
    close(r.mean, u.mean)
    close(r.high - r.mean, u.high - u.mean)
    close(r.mean - r.low, u.mean - u.low)


@PROPS
@given(st.lists(st.tuples(st.integers(0, 70), st.integers(1, 6)), min_size=2,
                max_size=100), levels)
def test_weighted_mean_integer_weights_vs_expanded_data(rows, level):
    # With integer frequency weights the *mean* is the expanded data's mean,
    # and statsmodels' frequency-weight interval equals the expanded data's
    # interval. Ours is not a frequency-weight interval: n_eff = (sum k)^2 /
    # sum k^2 <= sum k, so it is never narrower than the expanded-data one.
    y = np.array([r[0] for r in rows], float)
    k = np.array([r[1] for r in rows])
    expanded = np.repeat(y, k)
    assume(len(set(y)) > 1)
    r = weighted_mean_ci(*_wsums(y, k), level)
    close(r.mean, expanded.mean())
    d = DescrStatsW(y, weights=k)
    close(d.tconfint_mean(alpha=1 - level),
          DescrStatsW(expanded).tconfint_mean(alpha=1 - level))
    sm_half = d.tconfint_mean(alpha=1 - level)[1] - d.mean
    if np.isnan(r.high):  # n_eff < 2: no interval, never a narrower one
        return
    assert r.high - r.mean >= sm_half * (1 - 1e-12)


def test_weighted_mean_edges():
    # one respondent (n_eff = 1) and an empty cell
    r = weighted_mean_ci([2.5, 0.0], [10.0, 0.0], [40.0, 0.0], [6.25, 0.0])
    assert r.mean[0] == 4.0 and np.isnan([r.low[0], r.high[0]]).all()
    assert np.isnan([r.mean[1], r.low[1], r.high[1]]).all()
    # two respondents, equal weights 0.1 whose float sums put n_eff a hair
    # under 2: must behave like mean_ci(n=2), not turn NaN
    w = 0.1
    r = weighted_mean_ci(w + w, w * 1 + w * 3, w * 1 + w * 9, w * w + w * w)
    u = mean_ci(2, 4.0, 10.0)
    close([r.mean, r.low, r.high], [u.mean, u.low, u.high])
    # two respondents with very unequal weights: n_eff < 2, too little to go on
    r = weighted_mean_ci(1.0 + 9.0, 1.0 + 27.0, 1.0 + 81.0, 1.0 + 81.0)
    assert np.isnan([r.low, r.high]).all() and float(r.mean) == 2.8


# --------------------------------------------------------------------------
# Difference between two proportions (Newcombe)
# --------------------------------------------------------------------------

def test_newcombe_hand_worked():
    # 30/50 vs 20/60: diff = 0.6 - 0.3333 = 0.2667
    # Wilson 30/50 = (0.46181, 0.72392); 20/60 = (0.22729, 0.45943)
    # low  = 0.2667 - sqrt((0.6-0.46181)^2 + (0.45943-0.33333)^2)
    #      = 0.2667 - sqrt(0.019095 + 0.015901) = 0.2667 - 0.18707 = 0.0796
    # high = 0.2667 + sqrt((0.72392-0.6)^2 + (0.33333-0.22729)^2)
    #      = 0.2667 + sqrt(0.015356 + 0.011244) = 0.2667 + 0.16310 = 0.4298
    r = proportion_diff_ci(30, 50, 20, 60)
    assert round(float(r.diff), 4) == 0.2667
    assert round(float(r.low), 4) == 0.0796
    assert round(float(r.high), 4) == 0.4298


def test_newcombe_edges():
    r = proportion_diff_ci([0, 0, 10], [10, 0, 10], [10, 1, 0], [10, 4, 10])
    assert float(r.diff[0]) == -1.0 and r.low[0] >= -1 and r.high[0] < 0
    assert np.isnan([r.diff[1], r.low[1], r.high[1]]).all()
    assert float(r.diff[2]) == 1.0 and r.high[2] == 1.0


@PROPS
@given(count_base(max_n=20_000), count_base(max_n=20_000), levels)
def test_newcombe_matches_statsmodels(a, b, level):
    (x1, n1), (x2, n2) = a, b
    r = proportion_diff_ci(x1, n1, x2, n2, level)
    lo, hi = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb",
                                        compare="diff", alpha=1 - level)
    close(r.low, lo)
    close(r.high, hi)
    assert r.low <= r.diff <= r.high


@PROPS
@given(count_base(max_n=5000), count_base(max_n=5000), st.floats(0.1, 10),
       st.floats(0.1, 10))
def test_weighted_diff_equal_weights_is_unweighted(a, b, w1, w2):
    (x1, n1), (x2, n2) = a, b
    r = weighted_proportion_diff_ci(w1 * x1, w1 * n1, w1 * w1 * n1,
                                    w2 * x2, w2 * n2, w2 * w2 * n2)
    u = proportion_diff_ci(x1, n1, x2, n2)
    close([r.diff, r.low, r.high], [u.diff, u.low, u.high])


# --------------------------------------------------------------------------
# Comparison labels
# --------------------------------------------------------------------------

# units: clearly above, clearly below, straddling, touching from above
# (low == comparator), touching from below (high == comparator)
VALUE = [0.60, 0.30, 0.50, 0.55, 0.45]
LOW = [0.55, 0.25, 0.40, 0.50, 0.40]
HIGH = [0.65, 0.35, 0.60, 0.60, 0.50]
C = 0.50


@pytest.mark.parametrize(
    "polarity,expected",
    [
        ("higher_is_better", ["better", "worse", "no different", "no different", "no different"]),
        ("lower_is_better", ["worse", "better", "no different", "no different", "no different"]),
        ("neutral", ["higher", "lower", "no different", "no different", "no different"]),
        (None, ["higher", "lower", "no different", "no different", "no different"]),
        (float("nan"), ["higher", "lower", "no different", "no different", "no different"]),
    ],
)
def test_compare_each_polarity(polarity, expected):
    assert compare(VALUE, LOW, HIGH, C, polarity).tolist() == expected


@pytest.mark.parametrize("polarity", ["higher_is_better", "lower_is_better", "neutral", None])
def test_compare_nan_never_classed(polarity):
    # a protected cell whose (hidden) interval would be far above the
    # comparator must still say nothing about its side
    v = [np.nan, 0.9, 0.9, 0.9, 0.9]
    lo = [0.8, np.nan, 0.8, 0.8, 0.8]
    hi = [1.0, 1.0, np.nan, 1.0, 1.0]
    c = [C, C, C, np.nan, C]
    out = compare(v, lo, hi, c, polarity)
    assert out[:4].tolist() == ["not compared"] * 4
    assert out[4] in ("better", "worse", "higher")


def test_compare_array_comparator_and_series():
    out = compare(pd.Series([0.6, 0.6]), pd.Series([0.55, 0.55]),
                  pd.Series([0.65, 0.65]), np.array([0.5, 0.7]), "higher_is_better")
    assert out.tolist() == ["better", "worse"]


def test_compare_rejects_unknown_polarity():
    with pytest.raises(ValueError):
        compare([1.0], [0.0], [2.0], 1.0, "higher")


finite_or_nan = st.one_of(st.floats(-10, 10), st.just(float("nan")))


@PROPS
@given(st.lists(st.tuples(finite_or_nan, finite_or_nan, finite_or_nan, finite_or_nan),
                min_size=1, max_size=30))
def test_compare_properties(rows):
    v, a, b, c = (np.array(col) for col in zip(*rows))
    lo, hi = np.fmin(a, b), np.fmax(a, b)
    hb = compare(v, lo, hi, c, "higher_is_better")
    lb = compare(v, lo, hi, c, "lower_is_better")
    nu = compare(v, lo, hi, c, "neutral")
    missing = np.isnan(v) | np.isnan(lo) | np.isnan(hi) | np.isnan(c)
    assert (hb[missing] == "not compared").all()
    assert (nu[missing] == "not compared").all()
    swap = {"better": "worse", "worse": "better"}
    assert [swap.get(s, s) for s in hb] == lb.tolist()
    as_neutral = {"better": "higher", "worse": "lower"}
    assert [as_neutral.get(s, s) for s in hb] == nu.tolist()
    ok = ~missing
    inside = ok & (lo <= c) & (c <= hi)
    assert (hb[inside] == "no different").all()
    assert (hb[ok & (lo > c)] == "better").all()
    assert (hb[ok & (hi < c)] == "worse").all()
