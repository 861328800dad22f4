"""Compare's funnel and inequality measures, from gated figures, against references written here.

The hand-built CPP (tests/fairdata.py) has counts chosen so the flags can be
worked out on paper; limits are recomputed here from scipy's normal quantiles,
the SII by statsmodels' WLS on the gated quintile figures, the PAR and ranges
from their formulas. `Rules(perturbation=False)` makes counts exact where the
point is the arithmetic; the default rules are used where it is disclosure.
"""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats as sps

from rcs_viz.engine import fairness
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.load import load_dataset
from rcs_viz.features.compare import charts, funnel as funnel_mod, measures as measures_mod, model, tables
from rcs_viz.features.compare.model import Scope
from rcs_viz.output import export
from tests import fairdata

EXACT = Rules(perturbation=False, secondary=False)  # exact counts; the small school alone hidden
SCOPE = Scope("1", None, "2019")


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fair")
    data, _ = fairdata.write(folder)
    return load_dataset(data, folder / "dictionary.yaml", cache_dir=folder / "db")


def ind(ds, name):
    return next(i for i in model.indicators(ds.dictionary) if i.name == name)


def unit(f, label):
    hit = f.units[f.units["label"].eq(label)]
    assert len(hit) == 1
    return hit.iloc[0]


# --------------------------------------------------------------------------- funnel: limits and flags


def test_funnel_limits_and_flags_agree_with_a_reference_from_the_normal_quantiles(ds):
    f = funnel_mod.funnel(ds, ind(ds, "bully"), "school", SCOPE, "cpp", EXACT)
    p = 214 / 1027
    assert f.comparator_value == pytest.approx(100 * p, rel=1e-12)
    want = {"Alder High": (300, 60, "within the limits"), "Birch High": (200, 70, "worse: above the 99.8% limit"),
            "Cedar High": (400, 48, "better: below the 99.8% limit"), "Daisy Primary": (120, 30, "within the limits")}
    for label, (n, k, flag) in want.items():
        u = unit(f, label)
        assert u["base"] == n and u["value"] == pytest.approx(100 * k / n)
        for level, lo, hi in ((0.95, "low95", "high95"), (0.998, "low998", "high998")):
            half = sps.norm.ppf(1 - (1 - level) / 2) * np.sqrt(p * (1 - p) / n)
            assert u[lo] == pytest.approx(100 * (p - half), rel=1e-9)
            assert u[hi] == pytest.approx(100 * (p + half), rel=1e-9)
        # the flag, worked out again from those limits and the polarity (lower is better)
        v = k / n
        z998 = sps.norm.ppf(0.999) * np.sqrt(p * (1 - p) / n)
        z95 = sps.norm.ppf(0.975) * np.sqrt(p * (1 - p) / n)
        side = "above" if v > p + z95 else "below" if v < p - z95 else None
        strength = "99.8%" if abs(v - p) > z998 else "95%"
        expected = "within the limits" if side is None else \
            f"{'worse' if side == 'above' else 'better'}: {side} the {strength} limit"
        assert u["flag"] == expected == flag
    assert list(f.outside["label"]) == ["Birch High", "Cedar High"]
    # drawn units by size, the protected one last
    assert list(f.drawn["label"]) == ["Daisy Primary", "Birch High", "Alder High", "Cedar High"]


def test_a_unit_outside_the_95_funnel_is_one_whose_wilson_interval_excludes_the_comparator(ds):
    f = funnel_mod.funnel(ds, ind(ds, "bully"), "school", SCOPE, "cpp", EXACT)
    r = model.rank(ds, ind(ds, "bully"), "school", SCOPE, "cpp", EXACT)
    verdicts = dict(zip(r.units["label"], r.units["verdict"]))
    for _, u in f.drawn.iterrows():
        assert u["verdict"] == verdicts[u["label"]]


def test_the_funnel_of_means_uses_the_cpps_spread_recovered_from_its_interval(ds, tmp_path):
    f = funnel_mod.funnel(ds, ind(ds, "wb"), "school", SCOPE, "cpp", EXACT)
    truth = fairdata.frame()
    assert f.comparator_value == pytest.approx(truth["wb"].mean(), rel=1e-9)
    assert f.sd == pytest.approx(truth["wb"].std(ddof=1), rel=1e-9)  # counts exact: recovered exactly
    for _, u in f.drawn.iterrows():
        half = sps.norm.ppf(0.975) * f.sd / np.sqrt(u["base"])
        assert (u["low95"], u["high95"]) == pytest.approx((f.comparator_value - half, f.comparator_value + half))
    # higher is better: Birch (46) below, Cedar (52) above the CPP's mean
    assert unit(f, "Birch High")["verdict"] == "worse" and unit(f, "Cedar High")["verdict"] == "better"


def test_curves_span_the_drawn_units_and_agree_with_the_limits_at_each_size(ds):
    f = funnel_mod.funnel(ds, ind(ds, "bully"), "school", SCOPE, "cpp", EXACT)
    c = f.curves()
    assert c["n"].min() >= 0.8 * 120 - 1e-9 and c["n"].max() <= 1.1 * 400 + 1e-9
    lim = fairness.funnel_limits_proportion(214 / 1027, c["n"].to_numpy())
    np.testing.assert_allclose(c["high998"], lim.high998 * 100, rtol=1e-12)


@pytest.mark.parametrize("polarity, above, below", [
    ("lower_is_better", "worse", "better"), ("higher_is_better", "better", "worse"), ("neutral", "higher", "lower")])
def test_flags_follow_polarity(polarity, above, below):
    assert funnel_mod.words("above 99.8%", polarity) == (above, f"{above}: above the 99.8% limit")
    assert funnel_mod.words("below 95%", polarity) == (below, f"{below}: below the 95% limit")
    assert funnel_mod.words("within", polarity)[0] == "no different"
    assert funnel_mod.words("not compared", polarity, shown=False)[1] == "not compared (protected)"


def test_the_previous_wave_is_not_a_funnel_comparator(ds):
    f = funnel_mod.funnel(ds, ind(ds, "bully"), "cluster", SCOPE, "previous", EXACT)
    assert f.comparator == "cpp" and any("CPP is used" in n for n in f.context.notes)


# --------------------------------------------------------------------------- the planted small school


def test_the_leak_finder_finds_the_true_rate_written_any_way():
    assert fairdata.leaks("value 85.7 and 85.71429") == ["85.7", "85.71429"]
    assert fairdata.leaks("0.857 or 0.8571428") == ["0.857", "0.8571428"]
    assert fairdata.leaks("385.71 14.848761588587436 85 86.7 0.8") == []


def test_a_protected_school_is_listed_never_drawn_and_its_value_reaches_no_output(ds):
    """Under the owner's default rules: the planted school's true rate appears in no chart, table, file or text."""
    rules = Rules()
    f = funnel_mod.funnel(ds, ind(ds, "bully"), "school", SCOPE, "cpp", rules)
    assert fairdata.PLANTED_LABEL in f.protected  # (secondary suppression hides a partner beside it)
    assert fairdata.PLANTED_LABEL not in set(f.drawn["label"])
    planted = unit(f, fairdata.PLANTED_LABEL)
    assert pd.isna(planted["value"]) and pd.isna(planted["low95"]) and planted["position"] == "not compared"
    chart = charts.funnel_chart(f)
    spec = chart.to_dict()
    for rows in spec.get("datasets", {}).values():  # no mark's data names it
        assert all(r.get("unit") != fairdata.PLANTED_LABEL for r in rows)
    assert fairdata.PLANTED_LABEL in json.dumps(spec["title"])  # but the note lists it
    tidy = tables.tidy(f)
    workbook = export.workbook({"Table": tidy}, tables.notes(f, "funnel"))
    with zipfile.ZipFile(io.BytesIO(workbook)) as z:
        xlsx_text = " ".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    outputs = {
        "chart": json.dumps(spec),
        "screen": tables.display(f).to_string() + tables.as_text(f, "funnel"),
        "csv": export.frame_csv(tidy).decode(),
        "xlsx": xlsx_text,
    }
    for name, text in outputs.items():
        assert not fairdata.leaks(text), f"the planted school's true rate in the {name}: {fairdata.leaks(text)}"
    row = tables.display(f).set_index("School").loc[fairdata.PLANTED_LABEL]
    assert row["Respondents"] == "[c]" and row.iloc[1] in ("[c]", "[b]")
    assert row.iloc[-1] == "not compared (protected)"
    # the true rate, for the record, is what the data holds
    truth = fairdata.frame()
    small = truth[truth["school"] == fairdata.PLANTED]
    assert 100 * (small["bully"] == 2).mean() == pytest.approx(fairdata.PLANTED_RATE)


# --------------------------------------------------------------------------- inequality measures


def test_measures_agree_with_a_weighted_regression_on_the_gated_quintiles(ds):
    g = model.gradient(ds, ind(ds, "bully"), SCOPE, EXACT)
    groups = g.groups
    truth = fairdata.frame()
    raw = truth.groupby("simd").agg(n=("bully", "size"), k=("bully", lambda s: (s == 2).sum()))
    np.testing.assert_allclose(groups["value"], 100 * raw["k"] / raw["n"], rtol=1e-12)  # exact counts
    m = g.inequality.rows.set_index("measure")["value"]
    y, n = groups["value"].to_numpy(float), groups["base"].to_numpy(float)
    a = n / n.sum()
    x = np.cumsum(a) - a / 2
    fit = sm.WLS(y, sm.add_constant(x), weights=a).fit()
    sii = -fit.params[1]
    se = (groups["ci_high"] - groups["ci_low"]).to_numpy(float) / (2 * sps.norm.ppf(0.975))
    c = a * (x - (a * x).sum()) / (a * (x - (a * x).sum()) ** 2).sum()
    half = sps.norm.ppf(0.975) * np.sqrt((c * c * se * se).sum())
    overall = (a * y).sum()
    rows = g.inequality.rows.set_index("measure")
    assert m["SII (slope index of inequality)"] == pytest.approx(sii, rel=1e-9)
    assert (rows.loc["SII (slope index of inequality)", "ci_low"],
            rows.loc["SII (slope index of inequality)", "ci_high"]) == pytest.approx((sii - half, sii + half), rel=1e-9)
    assert m["RII (relative index of inequality)"] == pytest.approx(sii / overall, rel=1e-9)
    assert m["PAR (population attributable risk, %)"] == pytest.approx(100 * (overall - y[-1]) / overall, rel=1e-9)
    assert m["Absolute range"] == pytest.approx(y[0] - y[-1], rel=1e-9)
    assert m["Relative range"] == pytest.approx(y[0] / y[-1], rel=1e-9)
    assert m["Overall (population-weighted)"] == pytest.approx(overall, rel=1e-9)
    assert sii > 0 and "the more deprived fare worse" in g.inequality.sii_reading  # bullying: lower is better


def test_no_measures_unless_every_quintile_is_shown(ds):
    # within the Birch cluster (207 pupils, the planted school among them) some quintile is too small
    g = model.gradient(ds, ind(ds, "bully"), Scope("1", "2", "2019"), Rules())
    hidden = list(g.groups.loc[g.groups["value"].isna(), "label"])
    assert hidden, "a quintile of the Birch cluster should be protected"
    assert not g.inequality.given and all(h in g.inequality.reason for h in hidden)
    assert "not given" in g.inequality.reason
    assert "SII" not in " ".join(tables.tidy(g)["row"].astype(str)) and "inequality measure" not in set(tables.tidy(g)["row"])
    some = model.gradient(ds, ind(ds, "bully"), Scope("1", None, "2019", (("simd", ("1", "2", "3")),)), EXACT)
    assert not some.inequality.given and "every quintile" in some.inequality.reason


@pytest.mark.parametrize("polarity, words", [("lower_is_better", "fare worse"), ("higher_is_better", "fare better"),
                                             ("neutral", "higher among the more deprived")])
def test_measure_words_follow_polarity(polarity, words):
    groups = pd.DataFrame({"label": list("12345"), "base": [100.0] * 5, "value": [30.0, 25, 20, 15, 10],
                           "ci_low": [25.0, 20, 15, 10, 5], "ci_high": [35.0, 30, 25, 20, 15]})
    m = measures_mod.inequality(groups, "pct", polarity)
    assert words in m.sii_reading
    flat = measures_mod.inequality(groups.assign(value=20.0), "pct", polarity)
    assert "no clear gradient" in flat.sii_reading


def test_the_gradient_export_carries_the_measures_and_their_method(ds):
    g = model.gradient(ds, ind(ds, "bully"), SCOPE, EXACT)
    tidy = tables.tidy(g)
    assert list(tidy["row"]).count("inequality measure") == 6
    sii = tidy[tidy["SIMD quintile"].eq("SII (slope index of inequality)")].iloc[0]
    assert sii["ci_low"] < sii["value"] < sii["ci_high"]
    notes = dict(tables.notes(g, "gradient"))
    assert "phe_sii" in notes["Inequality measures"] and "ScotPHO" in notes["Inequality measures"]
    f = funnel_mod.funnel(ds, ind(ds, "bully"), "school", SCOPE, "cpp", EXACT)
    assert {"limit95_low", "limit95_high", "limit998_low", "limit998_high", "flag"} <= set(tables.tidy(f).columns)
    assert "PHEindicatormethods" in dict(tables.notes(f, "funnel"))["Funnel"]
