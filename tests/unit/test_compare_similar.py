"""Similar-pupil ratios and statistical neighbours, against references written here, and the planted small school.

ISR: PHEindicatormethods' calculate_ISRatio worked by hand (expected = sum of
stratum sizes x reference rates; exact Poisson limits below 10 events, Byar's
from 10), and the engine's expectation recomputed from the records with
pandas under exact counts. Neighbours: z-scores and Euclidean distances
recomputed with numpy from the gated profile.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from rcs_viz.engine import fairness, similar as engine_similar
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.load import load_dataset
from rcs_viz.engine.sql import views
from rcs_viz.features.compare import charts, model, neighbours as nb, similar, tables
from rcs_viz.features.compare.model import Scope
from rcs_viz.output import export
from tests import fairdata

EXACT = Rules(perturbation=False, secondary=False)
SCOPE = Scope("1", None, "2019")


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    folder = tmp_path_factory.mktemp("similar")
    data, _ = fairdata.write(folder)
    return load_dataset(data, folder / "dictionary.yaml", cache_dir=folder / "db")


def bully(ds):
    return next(i for i in model.indicators(ds.dictionary) if i.name == "bully")


# --------------------------------------------------------------------------- the published method by hand


def test_isr_agrees_with_calculate_isratio_worked_by_hand():
    """Two strata; a unit with 30 and 70 pupils; reference rates 0.1 and 0.3; 31 events (Byar) and 6 (exact)."""
    e = 30 * 0.1 + 70 * 0.3  # 24
    for observed in (31, 6):
        got = fairness.indirect_standardisation(observed, [30, 70], [10, 90], [100, 300])
        assert got.expected == pytest.approx(e, rel=1e-12)
        assert got.ratio == pytest.approx(observed / e, rel=1e-12)
        z = sps.norm.ppf(0.975)
        if observed >= 10:  # Byar, as PHE's byars_lower / byars_upper
            lo = observed * (1 - 1 / (9 * observed) - z / (3 * np.sqrt(observed))) ** 3
            o1 = observed + 1
            hi = o1 * (1 - 1 / (9 * o1) + z / (3 * np.sqrt(o1))) ** 3
        else:  # exact, from the chi-squared quantiles
            lo, hi = sps.chi2.ppf(0.025, 2 * observed) / 2, sps.chi2.ppf(0.975, 2 * observed + 2) / 2
        assert got.low == pytest.approx(lo / e, abs=1e-9) and got.high == pytest.approx(hi / e, abs=1e-9)


def _pooled_rate(truth: pd.DataFrame, stratum: tuple, rules: Rules) -> float:
    """The rule written out again: the stratum's own rate if it rests on min_base pupils with threshold on each
    side, else (SIMD, stage), else SIMD, else everyone."""
    keys = ["simd", "stage", "sex"]
    for depth in (3, 2, 1, 0):
        mask = np.ones(len(truth), bool)
        for k, v in zip(keys[:depth], stratum[:depth]):
            mask &= truth[k].to_numpy() == v
        n, k = mask.sum(), truth["event"].to_numpy()[mask].sum()
        if n >= rules.min_base and k >= rules.threshold and n - k >= rules.threshold:
            return k / n
    return np.nan


@pytest.mark.parametrize("rules", [Rules(threshold=1, min_base=1, perturbation=False, secondary=False), EXACT])
def test_the_engines_expectation_is_the_reference_rates_applied_to_each_units_strata(ds, rules):
    """Exact counts: the published ISR (calculate_ISRatio) from the records, stratum rates pooled by the rule."""
    got = similar.similar(ds, bully(ds), "school", SCOPE, "cpp", rules).units.set_index("label")
    truth = fairdata.frame()
    truth["event"] = truth["bully"] == 2
    keys = ["simd", "stage", "sex"]
    checked = 0
    for school, label in zip([11, 12, 13, 14], ["Alder High", "Birch High", "Cedar High", "Daisy Primary"]):
        mine = truth[truth["school"] == school]
        n = mine.groupby(keys).size()
        rates = np.array([_pooled_rate(truth, s, rules) for s in n.index])
        isr = fairness.indirect_standardisation(int(mine["event"].sum()), n.to_numpy(), rates * 1e6,
                                                np.full(len(n), 1e6))
        row = got.loc[label]
        assert row["expected"] == pytest.approx(float(isr.expected), rel=1e-9)
        assert row["ratio"] == pytest.approx(float(isr.ratio), rel=1e-9)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((float(isr.low), float(isr.high)), rel=1e-9)
        checked += 1
    assert checked == 4


def test_small_reference_strata_take_a_broader_groups_rate():
    counts = pd.DataFrame({"unit": ["a", "a", "b"], "simd": ["1", "1", "2"], "sex": ["1", "2", "1"],
                           "n": [40.0, 5.0, 50.0], "events": [20.0, 1.0, 10.0]})
    rates = engine_similar.reference_rates(counts, ["simd", "sex"], Rules(threshold=3, min_base=30))
    assert rates[("1", "1")] == pytest.approx(0.5)  # its own: 40 pupils, 20 and 20
    assert rates[("1", "2")] == pytest.approx(21 / 45)  # 5 pupils: pooled over sex within SIMD 1
    assert rates[("2", "1")] == pytest.approx(0.2)
    tiny = counts.assign(n=[4.0, 2.0, 3.0], events=[1.0, 1.0, 1.0])
    assert engine_similar.reference_rates(tiny, ["simd", "sex"], Rules(threshold=3, min_base=30)).isna().all()


def test_the_strata_sql_names_only_allowlisted_columns_and_binds_values():
    schema = {"school": "INTEGER", "simd": "INTEGER", "bully": "INTEGER", "wave": "INTEGER"}
    flag = views.Flag("__f", "Bullied", (("bully", ("2",)),))
    sql, params = views.strata_counts("school", ("simd",), (flag,), "__f", (("wave", ("2019",)),), schema)
    assert "2019" not in sql and params["f0"] == [2019] and "GROUP BY k0, k1" in sql
    with pytest.raises(views.QueryError):
        views.strata_counts("school", ('simd"; DROP TABLE x; --',), (flag,), "__f", (), schema)


# --------------------------------------------------------------------------- the planted small school


def test_a_protected_school_is_listed_and_its_true_value_reaches_no_output(ds):
    r = similar.similar(ds, bully(ds), "school", SCOPE, "cpp", Rules())
    assert fairdata.PLANTED_LABEL in r.protected
    planted = r.units[r.units["label"].eq(fairdata.PLANTED_LABEL)].iloc[0]
    assert pd.isna(planted["ratio"]) and pd.isna(planted["expected"]) and pd.isna(planted["observed"])
    spec = charts.similar_chart(r).to_dict()
    for rows in spec.get("datasets", {}).values():
        assert all(row.get("unit") != fairdata.PLANTED_LABEL for row in rows)
    tidy = tables.tidy(r)
    with zipfile.ZipFile(io.BytesIO(export.workbook({"Table": tidy}, tables.notes(r, "similar")))) as z:
        xlsx = " ".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    for name, text in {"chart": json.dumps(spec), "screen": tables.display(r).to_string() + tables.as_text(r, "s"),
                       "csv": export.frame_csv(tidy).decode(), "xlsx": xlsx}.items():
        assert not fairdata.leaks(text), (name, fairdata.leaks(text))
        assert fairdata.PLANTED_LABEL in text or name == "chart"
    # no stratum leaves: the export has one row per unit and no stratum variable's values
    assert len(tidy) == len(r.units) and not {"simd", "sex", "stage"} & set(tidy.columns)


def test_means_are_refused_in_words(ds):
    wb = next(i for i in model.indicators(ds.dictionary) if i.name == "wb")
    with pytest.raises(model.QueryError, match="percentages"):
        similar.similar(ds, wb, "school", SCOPE)


# --------------------------------------------------------------------------- neighbours


@pytest.fixture(scope="module")
def sample():
    from rcs_viz import config

    cfg = config.load()
    return load_dataset(cfg.data, cfg.dictionary, cache_dir=cfg.cache_dir, salt=cfg.salt()), cfg


def test_neighbours_are_the_nearest_by_z_scores_recomputed_here(sample):
    ds, cfg = sample
    ind = next(i for i in model.indicators(ds.dictionary) if i.name == "bullied")
    n = nb.neighbours(ds, ind, "cluster", "101", SCOPE, cfg.rules)
    prof = nb.profile(ds, "cluster", "2019", cfg.rules).dropna()
    keys = [i.key for i in nb.items(ds.dictionary)]
    assert keys == ["simd12", "fsm", "urban", "size"]
    x = prof[keys].to_numpy(float)
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    me = z[list(prof["code"]).index("101")]
    dist = np.sqrt(((z - me) ** 2).sum(axis=1))
    order = np.argsort(dist, kind="stable")[1:6]
    assert list(n.profile["code"][1:]) == list(prof["code"].to_numpy()[order])
    np.testing.assert_allclose(n.profile["distance"][1:], dist[order], rtol=1e-12)
    # the average: the plain mean of the neighbours' shown figures, interval from theirs
    f = n.figures.set_index("kind")
    nbr = n.figures[n.figures["kind"].eq("neighbour")]
    se = (nbr["ci_high"] - nbr["ci_low"]) / (2 * sps.norm.ppf(0.975))
    half = sps.norm.ppf(0.975) * np.sqrt((se ** 2).sum()) / len(nbr)
    avg = f.loc["average"]
    assert avg["value"] == pytest.approx(nbr["value"].mean(), rel=1e-12)
    assert (avg["ci_low"], avg["ci_high"]) == pytest.approx((nbr["value"].mean() - half, nbr["value"].mean() + half))
    # profile figures are the gate's: the share of SIMD 1-2 is the gated estimate
    gated = model.estimates(ds, model.Indicator("simd", "", "", "pct", "neutral", ("1", "2")), "cluster",
                            (("wave", ("2019",)),), cfg.rules).set_index("code")
    assert n.profile.set_index("code").loc["101", "simd12"] == gated.loc["101", "value"]


def test_fewer_neighbours_when_fewer_units_exist_and_cpps_have_them_too(sample):
    ds, cfg = sample
    ind = next(i for i in model.indicators(ds.dictionary) if i.name == "bullied")
    n = nb.neighbours(ds, ind, "cpp", "1", SCOPE, cfg.rules)
    assert len(n.profile) == 3 and any("Only 2" in note for note in n.context.notes)


def test_rank_against_neighbours_gives_each_cluster_its_own_average(sample):
    ds, cfg = sample
    ind = next(i for i in model.indicators(ds.dictionary) if i.name == "bullied")
    r = nb.rank(ds, ind, "cluster", SCOPE, "neighbours", cfg.rules)
    assert r.comparator == "neighbours" and r.units["comparator"].notna().all()
    one = nb.neighbours(ds, ind, "cluster", "103", SCOPE, cfg.rules)
    got = r.units.set_index("code").loc["103", "comparator"]
    assert got == pytest.approx(one.average[0], rel=1e-12)
    with pytest.raises(model.QueryError):
        model.rank(ds, ind, "cluster", SCOPE, "neighbours", cfg.rules)


def test_the_cli_prints_the_similar_table_and_lists_the_planted_school(tmp_path):
    _, cfg = fairdata.write(tmp_path)
    out = subprocess.run([sys.executable, "-m", "rcs_viz", "compare", "--config", str(cfg), "--indicator", "bully",
                          "--cpp", "1", "--level", "school", "--similar"], capture_output=True, text=True, check=True)
    assert "Observed ÷ expected" in out.stdout and fairdata.PLANTED_LABEL in out.stdout
    assert not fairdata.leaks(out.stdout)
    csv = subprocess.run([sys.executable, "-m", "rcs_viz", "compare", "--config", str(cfg), "--indicator", "bully",
                          "--cpp", "1", "--level", "school", "--similar", "--format", "csv"],
                         capture_output=True, text=True, check=True).stdout
    assert "expected" in csv.splitlines()[0] and not fairdata.leaks(csv)


def test_a_report_pack_lists_the_planted_school_as_protected_in_html_and_pdf(ds):
    import pypdf

    from rcs_viz.features.report import model as report, pdf

    made = report.build(ds, "school", str(fairdata.PLANTED), SCOPE, Rules())
    fair = dict(made.fair)
    assert fair["Bullied: % Often"].count(report.PROTECTED) == 2  # funnel and similar pupils
    assert any(k.startswith("Inequality in the CPP") for k in fair)
    html = report.to_html(made)
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.render(made))).pages)
    for name, out in {"html": html, "pdf": text}.items():
        assert "Fair comparisons" in out and not fairdata.leaks(out), (name, fairdata.leaks(out))
    shown = report.build(ds, "cluster", "3", SCOPE, Rules())  # Cedar cluster: one large school, shown
    line = dict(shown.fair)["Bullied: % Often"]
    assert "observed ÷ expected" in line and "against statistical neighbours (" in line
    assert not fairdata.leaks(report.to_html(shown))


def test_the_ratio_axis_covers_the_ratios_and_intervals_not_from_zero(ds):
    """Ratios sit around 1: the axis spans the drawn ratios, their intervals and the line at 1, with a little room,
    instead of starting at 0 and leaving them a corner of the width."""
    r = similar.similar(ds, bully(ds), "school", SCOPE, "cpp", Rules())
    spec = charts.similar_chart(r).to_dict()
    domain = next(layer["encoding"]["x"]["scale"]["domain"] for layer in spec["layer"]
                  if "scale" in layer.get("encoding", {}).get("x", {}))
    drawn = r.drawn
    low, high = min(drawn["ci_low"].min(), 1.0), max(drawn["ci_high"].max(), 1.0)
    assert domain[0] <= low and domain[1] >= high, "every interval and the line at 1 inside the axis"
    assert domain[0] > 0 and domain[0] >= low - 0.1 * (high - low), "the axis starts near the data, not at zero"
    assert any(layer["mark"].get("strokeDash") and layer["encoding"]["x"]["field"] == "one" for layer in spec["layer"]
               if isinstance(layer["mark"], dict)), "the reference line at 1"
