"""Tests for rcs_viz.engine.fairness against independent computations and published figures.

Each reference below is written here from the published method, not by
calling the module: funnel limits from scipy.stats.binom / norm directly,
ISRs by hand with scipy.stats.chi2, SII by statsmodels WLS. Worked examples
are copied from PHEindicatormethods' own test data (tests/testthat/
testdata_funnel_prop_outputs*.csv, testdata_DSR_ISR.xlsx, testdata_SII.xlsx,
github.com/ukhsa-collaboration/PHEindicatormethods).
"""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats as sps

from rcs_viz.engine.fairness import (
    expected_events,
    funnel_limits_mean,
    funnel_limits_proportion,
    funnel_position,
    indirect_standardisation,
    inequality_measures,
    poisson_limits,
    relative_rank,
)

REL = 1e-9

# --------------------------------------------------------------------------- funnels

# PHEindicatormethods testdata_funnel_prop_outputs.csv: Population, Lower2s, Upper2s, Lower3s, Upper3s (%)
PHE_FUNNEL = [
    (1, 3.204264, 100, 0, 100),
    (2, 25.885383, 100, 0, 100),
    (10, 56.154344, 100, 42.03259, 100),
    (75, 71.700657, 89.584239, 66.544121, 94.740774),
    (1699, 78.763743, 82.521152, 77.680336, 83.60456),
    (110000, 80.408963, 80.875933, 80.274317, 81.010578),
]
PHE_BASELINE = 80.642448  # %, as the CSV gives it (6 decimals)
# testdata_funnel_prop_outputs_with_axis_variation.csv
PHE_FUNNEL_AXIS = [
    (10000, 81.43030244, 82.93037332, 80.99777342, 83.36290233),
    (18055, 81.62214661, 82.73852914, 81.30024992, 83.06042583),
    (33000, 81.76745696, 82.5932188, 81.52935757, 82.83131819),
]
PHE_BASELINE_AXIS = 82.18033788


@pytest.mark.parametrize("rows, baseline", [(PHE_FUNNEL, PHE_BASELINE), (PHE_FUNNEL_AXIS, PHE_BASELINE_AXIS)])
def test_wilson_funnel_matches_phe_published_limits(rows, baseline):
    n = np.array([r[0] for r in rows], dtype=float)
    lim = funnel_limits_proportion(baseline / 100, n)
    # the CSV rounds the baseline and the limits: agreement to 1e-5 percentage points
    for i, col in enumerate(("low95", "high95", "low998", "high998"), start=1):
        np.testing.assert_allclose(getattr(lim, col) * 100, [r[i] for r in rows], atol=1e-5, err_msg=col)


def test_wilson_funnel_is_where_the_wilson_interval_touches_the_target():
    """Independent reference: solve Wilson upper(p, n) = target for p by root finding."""
    from scipy.optimize import brentq

    target, z = 0.3, sps.norm.isf(0.025)

    def wilson_upper(p, n):
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        return centre + z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)

    for n in (12, 40, 250, 3000):
        p_low = brentq(lambda p: wilson_upper(p, n) - target, 0.0, target)
        assert funnel_limits_proportion(target, n).low95 == pytest.approx(p_low, rel=REL)


def _spiegelhalter(p, n, theta):
    # Spiegelhalter (2005) appendix A.1.1, written out with scipy.stats.binom
    r = sps.binom.ppf(p, n, theta)
    alpha = (sps.binom.cdf(r, n, theta) - p) / (sps.binom.cdf(r, n, theta) - sps.binom.cdf(r - 1, n, theta))
    return min(max((r - alpha) / n, 0.0), 1.0)


@pytest.mark.parametrize("theta", [0.04, 0.2, 0.5, 0.81])
@pytest.mark.parametrize("n", [1, 7, 30, 121, 1000])
def test_exact_funnel_matches_spiegelhalter_by_scipy_binom(theta, n):
    lim = funnel_limits_proportion(theta, n, method="exact")
    for got, p in ((lim.low95, 0.025), (lim.high95, 0.975), (lim.low998, 0.001), (lim.high998, 0.999)):
        assert float(got) == pytest.approx(_spiegelhalter(p, n, theta), rel=REL, abs=1e-15)


def test_exact_funnel_meets_the_normal_one_at_large_n():
    wil = funnel_limits_proportion(0.3, 1e6)
    ex = funnel_limits_proportion(0.3, 1e6, method="exact")
    np.testing.assert_allclose(np.array(ex), np.array(wil), atol=2e-5)


def test_mean_funnel_is_target_plus_minus_z_sd_over_root_n():
    target, sd, n = 21.5, 6.2, np.array([5, 40, 900])
    lim = funnel_limits_mean(target, sd, n)
    for lo, hi, level in ((lim.low95, lim.high95, 0.95), (lim.low998, lim.high998, 0.998)):
        ref_lo, ref_hi = sps.norm.interval(level, loc=target, scale=sd / np.sqrt(n))
        np.testing.assert_allclose(lo, ref_lo, rtol=REL)
        np.testing.assert_allclose(hi, ref_hi, rtol=REL)


def test_funnel_position_labels_and_protected_units():
    lim = funnel_limits_proportion(0.5, [100, 100, 100, 100, 100, 100, np.nan])
    # 95 % half-width 0.098, 99.8 % 0.1545
    values = [0.5, 0.61, 0.70, 0.39, 0.30, np.nan, 0.9]
    assert list(funnel_position(values, lim)) == [
        "within", "above 95%", "above 99.8%", "below 95%", "below 99.8%", "not compared", "not compared"]
    # a value exactly on a limit is within
    assert funnel_position(lim.high95[0], lim)[0] == "within"


def test_funnel_nan_in_nan_out():
    lim = funnel_limits_proportion([np.nan, 0.4, 0.4], [50, np.nan, 0])
    assert np.isnan(np.array(lim)).all()
    assert np.isnan(np.array(funnel_limits_mean([np.nan, 3.0], [1.0, np.nan], 10))).all()
    assert np.isnan(np.array(funnel_limits_proportion(0.4, [np.nan, 20], method="exact"))[:, 0]).all()


def test_funnel_rejects_impossible_inputs():
    with pytest.raises(ValueError):
        funnel_limits_proportion(1.2, 10)
    with pytest.raises(ValueError):
        funnel_limits_proportion(0.2, -1)
    with pytest.raises(ValueError):
        funnel_limits_proportion(0.2, 10, method="wald")


# --------------------------------------------------------------------------- indirect standardisation

# PHEindicatormethods testdata_DSR_ISR.xlsx, sheets testdata_multiarea_isr / refdata / testresults_ISR
PHE_POP = [636, 558, 609, 543, 384, 594, 669, 843, 660, 576, 606, 522, 426, 273, 300, 288, 153, 123, 207]
PHE_REFCOUNT = [10303, 2824, 0, 3615, 3641, 3490, 3789, 3213, 3031, 2771, 3089, 3490, 3595, 4745, 5514, 7125,
                5694, 6210, 5757]
PHE_REFPOP = [50520, 57173, 60213, 54659, 44345, 50128, 62163, 67423, 62899, 55463, 60479, 49974, 44140, 40888,
              37239, 30819, 18136, 15325, 13918]
# observed, expected, value, lower95, upper95, lower99.8, upper99.8, method
PHE_ISR = [
    (895, 835.8835612311743, 1.0707232939020275, 1.0017147712553987, 1.143233287249895, 0.9635155619614437,
     1.1860070415876287, "byar"),
    (91, 835.8835612311743, 0.10886683770400503, 0.08765040101829405, 0.1336657632841891, 0.07695425528392111,
     0.14897920510466744, "byar"),
    (9, 835.8835612311743, 0.010767049882813684, 0.004923380825095776, 0.02043921455549973,
     0.0029339306550682617, 0.02710589651469021, "exact"),
]


def test_isr_matches_phe_published_results():
    obs = [r[0] for r in PHE_ISR]
    r95 = indirect_standardisation(obs, [PHE_POP] * 3, PHE_REFCOUNT, PHE_REFPOP)
    r998 = indirect_standardisation(obs, [PHE_POP] * 3, PHE_REFCOUNT, PHE_REFPOP, level=0.998)
    for i, (o, e, v, l95, u95, l998, u998, how) in enumerate(PHE_ISR):
        assert r95.expected[i] == pytest.approx(e, rel=REL)
        assert r95.ratio[i] == pytest.approx(v, rel=REL)
        assert (r95.low[i], r95.high[i]) == pytest.approx((l95, u95), rel=REL)
        assert (r998.low[i], r998.high[i]) == pytest.approx((l998, u998), rel=REL)
        assert r95.method[i] == how


def test_isr_against_a_hand_computation_and_chi2_exact_limits():
    # two schools, strata = SIMD quintile x sex (10), reference = their CPP
    rng = np.random.default_rng(7)
    ref_n = rng.integers(200, 900, size=10).astype(float)
    ref_x = np.floor(ref_n * rng.uniform(0.05, 0.4, size=10))
    unit_n = rng.integers(0, 40, size=(2, 10)).astype(float)
    observed = np.array([31.0, 6.0])
    got = indirect_standardisation(observed, unit_n, ref_x, ref_n, method="exact")
    for u in range(2):
        expected = sum(unit_n[u, s] * ref_x[s] / ref_n[s] for s in range(10))
        o = observed[u]
        low = sps.chi2.ppf(0.025, 2 * o) / 2 / expected
        high = sps.chi2.ppf(0.975, 2 * o + 2) / 2 / expected
        assert got.expected[u] == pytest.approx(expected, rel=REL)
        assert got.ratio[u] == pytest.approx(o / expected, rel=REL)
        assert (got.low[u], got.high[u]) == pytest.approx((low, high), rel=REL)
        assert got.expected_rate[u] == pytest.approx(expected / unit_n[u].sum(), rel=REL)
        assert got.observed_rate[u] == pytest.approx(o / unit_n[u].sum(), rel=REL)


def test_poisson_limits_zero_events_and_byar_close_to_exact():
    low, high, how = poisson_limits([0, 12, 400], method="exact")
    assert low[0] == 0.0 and high[0] == pytest.approx(sps.chi2.ppf(0.975, 2) / 2, rel=REL)
    blow, bhigh, bhow = poisson_limits([12, 400])
    assert list(bhow) == ["byar", "byar"]
    np.testing.assert_allclose(blow, low[1:], rtol=5e-3)
    np.testing.assert_allclose(bhigh, high[1:], rtol=5e-3)


def test_isr_nan_stratum_or_count_gives_nan_never_a_number():
    unit_n = np.array([[10.0, 20.0, 5.0], [10.0, np.nan, 5.0], [10.0, 20.0, 5.0]])
    got = indirect_standardisation([12, 12, np.nan], unit_n, [30, 50, 10], [100, 400, 90])
    assert np.isfinite(got.ratio[0])
    for field in ("observed", "expected", "ratio", "low", "high", "observed_rate", "expected_rate"):
        assert np.isnan(getattr(got, field)[1:]).all(), field
    assert list(got.method[1:]) == ["", ""]
    # a protected reference stratum, too
    assert np.isnan(expected_events([[1, 2]], [np.nan, 3], [10, 10])).all()


def test_expected_events_strata_edges():
    # no pupils in a stratum the reference lacks adds nothing; pupils in it leave no expectation
    assert expected_events([4, 0], [2, 0], [10, 0]) == pytest.approx(0.8)
    assert np.isnan(expected_events([4, 1], [2, 0], [10, 0]))
    with pytest.raises(ValueError):
        expected_events([4], [12], [10])


# --------------------------------------------------------------------------- inequality

# PHEindicatormethods testdata_SII.xlsx, area1 (deciles, value_type 0): population, value, standard error
PHE_SII_POP = [7291, 7997, 6105, 7666, 5790, 6934, 5918, 5974, 7147, 7534]
PHE_SII_VALUE = [75.9334590103081, 78.3442382727843, 83.8360631041654, 83.6375399664931, 80.4655031529559,
                 81.1156759857022, 81.6930835718562, 84.1900062060987, 80.5955641081472, 86.2894349578624]
PHE_SII_SE = [1.638472426358545, 1.578192884542907, 1.5134355059640296, 1.7754906175801293, 1.7013390591981388,
              1.56412107376755, 1.3681148366878566, 1.4001418005940802, 2.4328463975781616, 1.5665181695934678]
# sii, rii, sii_lowercl, sii_uppercl (simulation, 100 000 repetitions) as PHE reports them
PHE_SII_RESULT = (6.934616473668819, 1.0888180804446217, 3.127594617650817, 10.7586873680794)

QUINTILES = dict(  # an illustrative CPP: % of pupils with the indicator by SIMD quintile, most deprived first
    rate=np.array([34.1, 29.8, 27.2, 22.5, 18.9]),
    pop=np.array([1450.0, 1210.0, 980.0, 1120.0, 860.0]),
)


def _wls(rate, pop):
    x = relative_rank(pop)  # checked separately below
    return sm.WLS(rate, sm.add_constant(x), weights=pop / pop.sum()).fit()


def test_relative_rank_is_the_midpoint_of_each_cumulative_share():
    pop = np.array([12.0, 10.0, 30.0, 48.0])
    np.testing.assert_allclose(relative_rank(pop), [0.06, 0.17, 0.37, 0.76], rtol=REL)


def test_sii_rii_point_estimates_match_statsmodels_wls():
    rate, pop = QUINTILES["rate"], QUINTILES["pop"]
    fit = _wls(rate, pop)
    low, high = rate - 2.5, rate + 2.5
    got = inequality_measures(rate, pop, low, high)
    intercept, slope = fit.params
    overall = (rate * pop).sum() / pop.sum()
    assert got.sii == pytest.approx(-slope, rel=REL)
    assert got.fitted_most == pytest.approx(intercept, rel=REL)
    assert got.fitted_least == pytest.approx(intercept + slope, rel=REL)
    assert got.overall == pytest.approx(overall, rel=REL)
    assert got.rii == pytest.approx(-slope / overall, rel=REL)
    assert got.abs_range == pytest.approx(34.1 - 18.9, rel=REL)
    assert got.rel_range == pytest.approx(34.1 / 18.9, rel=REL)
    # an overall rate from outside (ScotPHO's "Total" row, e.g. with unknown SIMD) is used as given
    assert inequality_measures(rate, pop, low, high, overall=27.0).rii == pytest.approx(-slope / 27.0, rel=REL)


def test_sii_regression_interval_matches_statsmodels_confint():
    rate, pop = QUINTILES["rate"], QUINTILES["pop"]
    fit = _wls(rate, pop)
    got = inequality_measures(rate, pop, method="regression")
    lo, hi = fit.conf_int(alpha=0.05)[1]
    assert (got.sii_low, got.sii_high) == pytest.approx((-hi, -lo), rel=REL)
    overall = (rate * pop).sum() / pop.sum()
    assert (got.rii_low, got.rii_high) == pytest.approx((-hi / overall, -lo / overall), rel=REL)


def test_sii_normal_interval_is_the_limit_of_phes_simulation():
    """phe_sii's SimulationFunc, written out: draw each group ~ N(value, se), refit by least squares, take quantiles."""
    rate, pop = QUINTILES["rate"], QUINTILES["pop"]
    se = np.array([1.9, 2.1, 2.4, 2.2, 2.6])
    z = sps.norm.isf(0.025)
    got = inequality_measures(rate, pop, rate - z * se, rate + z * se)
    rng = np.random.default_rng(2024)
    draws = rng.normal(rate, se, size=(200_000, 5))
    a = pop / pop.sum()
    X = np.column_stack([np.sqrt(a), relative_rank(pop) * np.sqrt(a)])
    coef = np.linalg.lstsq(X, (draws * np.sqrt(a)).T, rcond=None)[0]
    sim = -coef[1]
    lo, hi = np.quantile(sim, [0.025, 0.975])
    width = got.sii_high - got.sii_low
    assert got.sii_low == pytest.approx(lo, abs=0.01 * width)
    assert got.sii_high == pytest.approx(hi, abs=0.01 * width)


def test_sii_matches_phe_worked_example():
    z = sps.norm.isf(0.025)
    v, se = np.array(PHE_SII_VALUE), np.array(PHE_SII_SE)
    got = inequality_measures(v, PHE_SII_POP, v - z * se, v + z * se)
    sii, rii, lo, hi = PHE_SII_RESULT
    # PHE's sign is the slope (least deprived end minus most); its RII fitted_least / fitted_most
    assert -got.sii == pytest.approx(sii, rel=REL)
    assert got.fitted_least / got.fitted_most == pytest.approx(rii, rel=REL)
    # PHE's limits come from 100 000 random draws; its own tests allow 5 %
    assert -got.sii_high == pytest.approx(lo, rel=0.05)
    assert -got.sii_low == pytest.approx(hi, rel=0.05)


def test_par_is_scotphos_levin_form_and_equals_the_share_above_the_least_deprived():
    rate, pop = QUINTILES["rate"], QUINTILES["pop"]
    got = inequality_measures(rate, pop, method="regression")
    a = pop / pop.sum()
    par_rr = (a * (rate / rate[-1] - 1)).sum()
    assert got.par == pytest.approx(par_rr / (par_rr + 1), rel=REL)
    mean = (a * rate).sum()
    assert got.par == pytest.approx((mean - rate[-1]) / mean, rel=REL)


def test_inequality_is_vectorised_over_units():
    rate = np.vstack([QUINTILES["rate"], QUINTILES["rate"][::-1] + 3])
    pop = np.vstack([QUINTILES["pop"], QUINTILES["pop"] * 2])
    both = inequality_measures(rate, pop, rate - 2, rate + 2)
    for u in range(2):
        one = inequality_measures(rate[u], pop[u], rate[u] - 2, rate[u] + 2)
        np.testing.assert_allclose([f[u] for f in both], list(one), rtol=REL)


@pytest.mark.parametrize("where", ["rate", "pop", "low", "zero_pop"])
def test_a_protected_quintile_makes_every_measure_nan(where):
    rate, pop = QUINTILES["rate"].copy(), QUINTILES["pop"].copy()
    low, high = rate - 2, rate + 2
    if where == "rate":
        rate[2] = np.nan
    elif where == "pop":
        pop[4] = np.nan
    elif where == "low":
        low[0] = np.nan
    else:
        pop[1] = 0.0
    got = inequality_measures(np.vstack([QUINTILES["rate"], rate]), np.vstack([QUINTILES["pop"], pop]),
                              np.vstack([QUINTILES["rate"] - 2, low]), np.vstack([QUINTILES["rate"] + 2, high]))
    assert all(np.isfinite(f[0]) for f in got)
    assert all(np.isnan(f[1]) for f in got), got


def test_no_inequality_gives_zero_sii_rii_par():
    got = inequality_measures([20.0] * 5, QUINTILES["pop"], [18.0] * 5, [22.0] * 5)
    assert abs(got.sii) < 1e-12 and abs(got.rii) < 1e-12 and abs(got.par) < 1e-12
    assert got.rel_range == 1.0 and got.abs_range == 0.0


def test_inequality_rejects_bad_inputs():
    with pytest.raises(ValueError):
        inequality_measures([1.0, 2.0], [3.0, 4.0], method="regression")
    with pytest.raises(ValueError):
        inequality_measures(QUINTILES["rate"], QUINTILES["pop"])  # normal needs limits
    with pytest.raises(ValueError):
        inequality_measures(QUINTILES["rate"], -QUINTILES["pop"], method="regression")
