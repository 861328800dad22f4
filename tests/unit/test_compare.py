"""The comparison engine against hand-computed cases.

A hand-built dataset whose counts are chosen so every figure can be worked
out on paper: in CPP 1, wave 2019, cluster A has 60 of 200 pupils bullied
(30 %), B 20 of 200 (10 %), C 40 of 200 (20 %), so the CPP is 120 of 600
(20 %). Wilson intervals are written out below from the textbook formula, not
read from `rcs_viz.engine.stats`, so the engine is checked against an independent
calculation. With `Rules(perturbation=False)` counts are exact; the default
rules are used where the point is disclosure.
"""

import math

import numpy as np
import pandas as pd
import pytest

from rcs_viz.features.compare import model as compare
from rcs_viz.engine import service, stats
from rcs_viz.data.comparators import read as read_comparators
from rcs_viz.features.compare.model import Scope
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.load import load_dataset
from rcs_viz.engine.sql.views import QueryError

EXACT = Rules(perturbation=False)
Z = 1.959963984540054  # the 97.5th percentile of the standard normal

DICTIONARY = """
dataset: {title: Hand-built comparisons, synthetic: false}
variables:
  - {name: pupil, label: Pupil, type: numeric, role: id}
  - {name: wave, label: Survey wave, type: ordinal, role: wave, values: {2016: '2016', 2019: '2019'}}
  - {name: cpp, label: CPP, type: categorical, role: cpp, values: {1: Eastshire, 2: Westshire}}
  - name: cluster
    label: School cluster
    type: categorical
    role: cluster
    values: {1: Alder cluster, 2: Birch cluster, 3: Cedar cluster, 4: Daisy cluster, 5: Elm cluster}
  - name: school
    label: School
    type: categorical
    role: school
    values: {11: Alder High, 21: Birch High, 31: Cedar High, 32: Cedar Wee Primary, 41: Daisy High,
             51: Elm High, 52: Elm Primary}
  - {name: stage, label: Stage, type: ordinal, role: stage, values: {1: P5, 2: P6, 3: S2, 4: S3}}
  - {name: lon, label: School longitude, type: numeric, role: x}
  - {name: lat, label: School latitude, type: numeric, role: y}
  - {name: sex, label: Sex, type: categorical, values: {1: Boy, 2: Girl}}
  - name: simd
    label: SIMD quintile
    type: ordinal
    values: {1: 1 (most deprived), 2: '2', 3: '3', 4: '4', 5: 5 (least deprived)}
  - name: bully
    label: Bullied
    type: categorical
    group: Risk
    values: {1: Never, 2: Sometimes, 3: Often}
    positive: [2, 3]
    polarity: lower_is_better
  - {name: happy, label: Happy at school, type: flag, group: Wellbeing, polarity: higher_is_better}
  - name: screen
    label: Screen time
    type: categorical
    group: Risk
    values: {0: Under 4 hours, 1: 4 hours or more}
    positive: [1]
  - {name: wb, label: Wellbeing score, type: numeric, group: Wellbeing, polarity: higher_is_better}
"""

CLUSTER_OF = {11: 1, 21: 2, 31: 3, 32: 3, 41: 4, 51: 5, 52: 5}
CPP_OF = {1: 1, 2: 1, 3: 1, 4: 2, 5: 2}
PLACE = {11: (-3.10, 55.90), 21: (-3.20, 55.95), 31: (-3.30, 55.80), 32: (-3.31, 55.81),
         41: (-4.10, 55.60), 51: (-4.20, 55.70), 52: (-4.21, 55.71)}
WB = {1: (40, 60), 2: (50, 70), 3: (45, 65), 4: (50, 60), 5: (50, 60)}  # two scores alternate per cluster

# (school, wave) -> parts of (simd, pupils, of whom bullied); simd None = quintiles 2, 3, 4 in turn
BLOCKS = {
    (11, 2019): [(1, 40, 20), (5, 60, 8), (None, 100, 32)],   # 200, 60 bullied
    (21, 2019): [(1, 40, 4), (5, 60, 4), (None, 100, 12)],    # 200, 20
    (31, 2019): [(1, 37, 11), (None, 157, 27)],               # 194, 38: no SIMD 5 in cluster C
    (32, 2019): [(1, 3, 1), (None, 3, 1)],                    # 6, 2: a school too small to show
    (11, 2016): [(None, 200, 30)],                            # 200, 30
    (21, 2016): [(None, 200, 20)],                            # 200, 20
    (31, 2016): [(None, 194, 68)],                            # cluster C: 70 of 200 with school 32
    (32, 2016): [(None, 6, 2)],
    (41, 2019): [(None, 200, 100)],
    (51, 2019): [(None, 100, 5)],                             # 5 bullied: a count under 10
    (52, 2019): [(None, 25, 12)],                             # counts of 12 and 13, base 25 < 30
    (41, 2016): [(None, 200, 100)],
    (51, 2016): [(None, 100, 50)],
    (52, 2016): [(None, 25, 12)],
}


def build_frame() -> pd.DataFrame:
    rows = []
    for (school, wave), parts in BLOCKS.items():
        cluster = CLUSTER_OF[school]
        i = 0
        for simd, n, k in parts:
            for j in range(n):
                positive = j < k
                rows.append({
                    "wave": wave, "cpp": CPP_OF[cluster], "cluster": cluster, "school": school,
                    "stage": 1 + i % 4, "lon": PLACE[school][0], "lat": PLACE[school][1],
                    "sex": 1 + i % 2, "simd": simd if simd is not None else 2 + j % 3,
                    "bully": (2 + j % 2) if positive else 1, "happy": int(positive),
                    "screen": int(positive), "wb": WB[cluster][i % 2],
                })
                i += 1
    frame = pd.DataFrame(rows)
    frame.insert(0, "pupil", np.arange(1, len(frame) + 1))
    return frame


def load(folder, frame: pd.DataFrame):
    frame.to_csv(folder / "pupils.csv", index=False)
    (folder / "dictionary.yaml").write_text(DICTIONARY)
    return load_dataset(folder / "pupils.csv", folder / "dictionary.yaml", cache_dir=folder / "db")


@pytest.fixture(scope="module")
def truth():
    """The records themselves: for the tests' expectations only."""
    return build_frame()


@pytest.fixture(scope="module")
def ds(tmp_path_factory, truth):
    return load(tmp_path_factory.mktemp("compare"), truth)


def ind(ds, name):
    return next(i for i in compare.indicators(ds.dictionary) if i.name == name)


def wilson(x, n):
    """Wilson score interval, in %, written out from the formula."""
    p = x / n
    denom = 1 + Z**2 / n
    centre = (p + Z**2 / (2 * n)) / denom
    half = Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2)) / denom
    return 100 * max(0.0, centre - half), 100 * min(1.0, centre + half)


def newcombe(x1, n1, x2, n2):
    """Newcombe's hybrid score interval for p1 - p2, in % points, from the two Wilson intervals."""
    p1, p2 = 100 * x1 / n1, 100 * x2 / n2
    l1, u1 = wilson(x1, n1)
    l2, u2 = wilson(x2, n2)
    d = p1 - p2
    return d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def row(units, code):
    hit = units[units["code"].eq(code)]
    assert len(hit) == 1, f"unit {code!r} listed {len(hit)} times"
    return hit.iloc[0]


def same(a, b):
    """Equal, or both missing."""
    return (pd.isna(a) and pd.isna(b)) or a == pytest.approx(b)


SCOPE = Scope(cpp="1", wave="2019")


# --------------------------------------------------------------------------- the hand computation itself


def test_the_hand_computed_intervals_are_what_the_tests_rely_on():
    """A's interval lies above 20 %, B's below, C's straddles it: worked out here once."""
    assert wilson(60, 200)[0] == pytest.approx(24.07, abs=0.01) and wilson(60, 200)[0] > 20
    assert wilson(20, 200)[1] == pytest.approx(14.94, abs=0.01) and wilson(20, 200)[1] < 20
    low, high = wilson(40, 200)
    assert low < 20 < high
    # and the engine's own Wilson agrees with the formula
    lo, hi = stats.wilson_ci(60, 200)
    assert (100 * lo, 100 * hi) == pytest.approx(wilson(60, 200))


# --------------------------------------------------------------------------- rank against the CPP


def test_clusters_against_their_cpp_lower_is_better(ds):
    r = compare.rank(ds, ind(ds, "bully"), "cluster", SCOPE, "cpp", EXACT)
    assert r.comparator_value == pytest.approx(20.0)  # 120 of 600; CPP 2 left out
    assert list(r.units["code"]) == ["1", "3", "2"]  # 30 %, 20 %, 10 %: highest first
    for code, x, verdict in (("1", 60, "worse"), ("2", 20, "better"), ("3", 40, "no different")):
        u = row(r.units, code)
        assert u["base"] == 200
        assert u["value"] == pytest.approx(100 * x / 200)
        assert (u["ci_low"], u["ci_high"]) == pytest.approx(wilson(x, 200))
        assert u["comparator"] == pytest.approx(20.0)
        assert u["verdict"] == verdict
    assert r.level_label == "School cluster"
    assert r.title == "Bullied: % Sometimes or Often"
    assert r.protected == []


def test_the_same_counts_higher_is_better_flip_the_words(ds):
    r = compare.rank(ds, ind(ds, "happy"), "cluster", SCOPE, "cpp", EXACT)
    assert dict(zip(r.units["code"], r.units["verdict"])) == {"1": "better", "2": "worse", "3": "no different"}


def test_a_neutral_indicator_is_only_higher_or_lower(ds):
    screen = ind(ds, "screen")
    assert screen.polarity == "neutral"
    r = compare.rank(ds, screen, "cluster", SCOPE, "cpp", EXACT)
    assert dict(zip(r.units["code"], r.units["verdict"])) == {"1": "higher", "2": "lower", "3": "no different"}


def test_a_mean_indicator_against_a_t_interval_worked_out_by_hand(ds, truth):
    """Wellbeing: A alternates 40/60 (mean 50), B 50/70 (60), C 45/65 (55); the CPP is 55."""
    from scipy.stats import t

    r = compare.rank(ds, ind(ds, "wb"), "cluster", SCOPE, "cpp", EXACT)
    assert r.comparator_value == pytest.approx(55.0)
    now = truth[(truth.cpp == 1) & (truth.wave == 2019)]
    for code, mean, verdict in (("1", 50, "worse"), ("2", 60, "better"), ("3", 55, "no different")):
        values = now.loc[now.cluster == int(code), "wb"].to_numpy(float)
        half = t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))
        u = row(r.units, code)
        assert u["value"] == pytest.approx(mean)
        assert (u["ci_low"], u["ci_high"]) == pytest.approx((mean - half, mean + half))
        assert u["verdict"] == verdict


def test_an_interval_that_touches_the_comparator_is_no_different():
    low, high = wilson(60, 200)
    for polarity in ("lower_is_better", "higher_is_better", "neutral", None):
        assert stats.compare(30.0, low, high, low, polarity).item() == "no different"
        assert stats.compare(30.0, low, high, high, polarity).item() == "no different"
    # a hair inside the interval's reach it is classed
    assert stats.compare(30.0, low, high, low - 1e-9, "lower_is_better").item() == "worse"
    assert stats.compare(30.0, low, high, high + 1e-9, "lower_is_better").item() == "better"


def test_protected_values_are_never_classed():
    nan = float("nan")
    for args in ((nan, 1.0, 2.0, 0.0), (1.5, nan, 2.0, 0.0), (1.5, 1.0, nan, 0.0), (50.0, 40.0, 60.0, nan)):
        for polarity in ("lower_is_better", "higher_is_better", "neutral"):
            assert stats.compare(*args, polarity).item() == "not compared"


def test_a_small_school_is_listed_last_without_value_interval_or_verdict(ds):
    for rules in (EXACT, Rules()):
        r = compare.rank(ds, ind(ds, "bully"), "school", SCOPE, "cpp", rules)
        assert set(r.units["code"]) == {"11", "21", "31", "32"}  # CPP 1's schools only
        wee = row(r.units, "32")
        assert pd.isna(wee["value"]) and pd.isna(wee["ci_low"]) and pd.isna(wee["ci_high"])
        assert wee["verdict"] == "not compared"
        assert "Cedar Wee Primary" in r.protected
        assert "32" not in set(r.drawn["code"])
        hidden = r.units["value"].isna().to_numpy()
        assert not hidden[: len(r.drawn)].any() and hidden[len(r.drawn):].all()  # drawn first, protected last
        assert list(r.units.loc[hidden, "label"]) == sorted(r.units.loc[hidden, "label"])
        assert (r.units.loc[hidden, "verdict"] == "not compared").all()
        assert r.drawn["value"].is_monotonic_decreasing
    # the means of the two big schools can be shown: they come first, highest first, then the hidden by name
    r = compare.rank(ds, ind(ds, "wb"), "school", SCOPE, "cpp", EXACT)
    assert list(r.units["code"]) == ["21", "11", "31", "32"]
    assert list(r.units["verdict"]) == ["better", "worse", "not compared", "not compared"]
    assert r.protected == ["Cedar High", "Cedar Wee Primary"]


def test_within_a_cluster_only_its_schools_are_ranked(ds):
    r = compare.rank(ds, ind(ds, "bully"), "school", Scope(cpp="1", cluster="1", wave="2019"), "cpp", EXACT)
    assert list(r.units["code"]) == ["11"]
    assert r.comparator_value == pytest.approx(20.0)  # still the whole CPP
    assert row(r.units, "11")["value"] == pytest.approx(30.0)
    # Cedar's two schools: with the cluster's total in the same table, the big one would give the
    # small one away, so both are hidden and neither is classed
    r = compare.rank(ds, ind(ds, "bully"), "school", Scope(cpp="1", cluster="3", wave="2019"), "cpp", EXACT)
    assert set(r.units["code"]) == {"31", "32"}
    assert r.units["value"].isna().all() and (r.units["verdict"] == "not compared").all()


def test_bad_level_or_comparator_is_refused(ds):
    with pytest.raises(QueryError, match="clusters or schools"):
        compare.rank(ds, ind(ds, "bully"), "stage", SCOPE)
    with pytest.raises(QueryError, match="compare with"):
        compare.rank(ds, ind(ds, "bully"), "cluster", SCOPE, "region")


# --------------------------------------------------------------------------- previous wave


def test_previous_wave_verdict_is_newcombes_interval_of_the_change(ds):
    bully = ind(ds, "bully")
    r = compare.rank(ds, bully, "cluster", SCOPE, "previous", EXACT)
    assert r.comparator_label == "Previous wave (2016)"
    assert r.comparator_value is None
    then = {"1": 30, "2": 20, "3": 70}
    now = {"1": 60, "2": 20, "3": 40}
    want = {"1": "worse", "2": "no different", "3": "better"}  # +15, 0 and -15 points
    for code in then:
        u = row(r.units, code)
        assert u["comparator"] == pytest.approx(100 * then[code] / 200)
        d, low, high = newcombe(now[code], 200, then[code], 200)
        assert u["verdict"] == want[code] == stats.compare(d, low, high, 0.0, "lower_is_better").item()


def test_the_change_interval_equals_newcombe_on_the_same_counts(ds):
    bully = ind(ds, "bully")
    filters = lambda wave: (("cpp", ("1",)), ("wave", (wave,)))  # noqa: E731
    now = compare.estimates(ds, bully, "cluster", filters("2019"), EXACT)
    then = compare.estimates(ds, bully, "cluster", filters("2016"), EXACT)
    change = compare.difference(now, then)
    counts = {"1": (60, 30), "2": (20, 20), "3": (40, 70), None: (120, 120)}
    for i, code in enumerate(now["code"]):
        x1, x2 = counts[code]
        n = 600 if code is None else 200
        expected = stats.proportion_diff_ci(x1, n, x2, n)
        got = change.iloc[i]
        assert (got["diff"], got["diff_low"], got["diff_high"]) == pytest.approx(
            tuple(100 * float(a) for a in expected))
        assert (got["diff"], got["diff_low"], got["diff_high"]) == pytest.approx(newcombe(x1, n, x2, n))


@pytest.mark.parametrize("x1,n1,x2,n2", [(60, 200, 30, 200), (0, 40, 7, 35), (50, 50, 12, 90), (1, 3, 0, 1),
                                         (36, 120, 12, 120), (123, 4567, 89, 3210)])
def test_difference_ci_with_wilson_limits_is_newcombe(x1, n1, x2, n2):
    l1, u1 = stats.wilson_ci(x1, n1)
    l2, u2 = stats.wilson_ci(x2, n2)
    mover = stats.difference_ci(x1 / n1, l1, u1, x2 / n2, l2, u2)
    direct = stats.proportion_diff_ci(x1, n1, x2, n2)
    for a, b in zip(mover, direct):
        assert float(a) == pytest.approx(float(b), abs=1e-12)


def test_trend_change_over_the_last_two_waves_is_newcombe(ds):
    t = compare.trend(ds, ind(ds, "bully"), "cluster", "1", Scope(cpp="1"), EXACT)
    change = t.change.set_index("series")
    a = change.loc["Alder cluster"]
    assert (a["diff"], a["diff_low"], a["diff_high"]) == pytest.approx(newcombe(60, 200, 30, 200))
    assert a["verdict"] == "worse" and (a["from"], a["to"]) == ("2016", "2019")
    cpp = change.loc["Eastshire (CPP)"]
    assert (cpp["diff"], cpp["diff_low"], cpp["diff_high"]) == pytest.approx(newcombe(120, 600, 120, 600))
    assert cpp["verdict"] == "no different"


def test_with_no_earlier_wave_nothing_is_compared(ds):
    for scope in (Scope(cpp="1", wave="2016"), Scope(cpp="1")):
        r = compare.rank(ds, ind(ds, "bully"), "cluster", scope, "previous", EXACT)
        assert (r.units["verdict"] == "not compared").all()
        assert r.units["comparator"].isna().all()
        assert any("no earlier wave" in n for n in r.context.notes)


def test_a_unit_protected_in_either_wave_has_no_change_verdict(ds):
    r = compare.rank(ds, ind(ds, "bully"), "school", SCOPE, "previous", Rules())
    assert row(r.units, "32")["verdict"] == "not compared"
    assert (r.units.loc[r.units["value"].isna(), "verdict"] == "not compared").all()
    assert (r.units.loc[r.units["comparator"].isna(), "verdict"] == "not compared").all()


# --------------------------------------------------------------------------- national comparator

NATIONAL = """indicator,statistic,positive,stage,wave,value,note
bully,pct,2;3,All stages,2019,25.0,Illustrative
bully,pct,3; 2,All primary,2019,22.0,Illustrative
bully,pct,2;3,All secondary,2019,28.0,Illustrative
bully,pct,2;3,P5,2019,21.5,Illustrative
bully,pct,3,All stages,2016,9.0,Illustrative
wb,mean,,All stages,2019,54.0,Illustrative
"""


@pytest.fixture(scope="module")
def comps(tmp_path_factory):
    path = tmp_path_factory.mktemp("national") / "national.csv"
    path.write_text(NATIONAL)
    return read_comparators(path)


def test_national_figure_matched_by_definition_stage_and_wave(ds, comps):
    bully = ind(ds, "bully")
    assert compare.national(ds, bully, SCOPE, comps) == (25.0, None)
    assert compare.national(ds, bully, Scope("1", None, "2019", (("stage", ("1", "2")),)), comps) == (22.0, None)
    assert compare.national(ds, bully, Scope("1", None, "2019", (("stage", ("3", "4")),)), comps) == (28.0, None)
    assert compare.national(ds, bully, Scope("1", None, "2019", (("stage", ("1",)),)), comps) == (21.5, None)
    assert compare.national(ds, ind(ds, "wb"), SCOPE, comps) == (54.0, None)


@pytest.mark.parametrize("scope, words", [
    (Scope("1", None, "2019", (("sex", ("1",)),)), "filtered view"),
    (Scope("1", None, "2019", (("stage", ("1", "3")),)), "No national figure"),  # P5 and S2: no such figure
    (Scope("1", None, "2016"), "No national figure"),  # 2016's figure counts 'Often' only
], ids=["sex filter", "stage mix", "other positive codes"])
def test_no_national_figure_for_a_different_population(ds, comps, scope, words):
    value, why = compare.national(ds, ind(ds, "bully"), scope, comps)
    assert value is None and words in why


def test_no_national_figure_for_a_wave_or_definition_the_table_lacks(ds, comps):
    value, why = compare.national(ds, ind(ds, "happy"), SCOPE, comps)
    assert value is None and "Happy at school" in why and "2019" in why
    value, why = compare.national(ds, ind(ds, "wb"), Scope(cpp="1", wave="2016"), comps)
    assert value is None and "2016" in why
    only_often = compare.Indicator("bully", "Bullied", "Risk", "pct", "lower_is_better", ("3",))
    assert compare.national(ds, only_often, SCOPE, comps)[0] is None
    assert compare.national(ds, ind(ds, "bully"), SCOPE, compare.EMPTY)[0] is None


def test_rank_against_the_nation(ds, comps):
    r = compare.rank(ds, ind(ds, "bully"), "cluster", SCOPE, "national", EXACT, comps)
    assert r.comparator_value == 25.0
    # A 30 % [24.1, 36.7] and C 20 % [15.0, 26.1] straddle 25 %; B 10 % [6.6, 14.9] lies below
    assert dict(zip(r.units["code"], r.units["verdict"])) == {"1": "no different", "2": "better",
                                                              "3": "no different"}
    filtered = compare.rank(ds, ind(ds, "bully"), "cluster", Scope("1", None, "2019", (("sex", ("2",)),)),
                            "national", EXACT, comps)
    assert filtered.comparator_value is None
    assert (filtered.units["verdict"] == "not compared").all()
    assert any("filtered view" in n for n in filtered.context.notes)


def test_rank_against_the_nation_at_the_stages_of_the_view(ds, comps):
    primary = Scope("1", None, "2019", (("stage", ("1", "2")),))  # P5 and P6: all the primary stages
    r = compare.rank(ds, ind(ds, "bully"), "cluster", primary, "national", EXACT, comps)
    assert r.comparator_value == 22.0
    assert (r.units["comparator"] == 22.0).all()


def test_spine_and_trend_carry_the_national_figure_only_where_it_matches(ds, comps):
    s = compare.spine(ds, "cluster", "1", SCOPE, "national", EXACT, comps).rows.set_index("indicator")
    assert s.loc["bully", "national"] == 25.0 and s.loc["bully", "verdict"] == "no different"  # 30 % [24.1, 36.7]
    assert s.loc["wb", "national"] == 54.0 and s.loc["wb", "verdict"] == "worse"  # mean 50, interval under 54
    assert pd.isna(s.loc["happy", "national"]) and s.loc["happy", "verdict"] == "not compared"
    t = compare.trend(ds, ind(ds, "bully"), None, None, Scope(cpp="1"), EXACT, comps)
    nation = t.series[t.series["series"].eq("National")]
    assert list(nation["wave"]) == ["2019"] and list(nation["value"]) == [25.0]  # 2016 counts 'Often' only


# --------------------------------------------------------------------------- spine


def test_spine_range_and_cpp_mark_match_the_rank(ds):
    for rules in (EXACT, Rules()):
        s = compare.spine(ds, "cluster", "1", SCOPE, "cpp", rules)
        assert s.unit_label == "Alder cluster"
        assert list(s.rows["indicator"]) == ["bully", "happy", "screen", "wb"]
        for _, r in s.rows.iterrows():
            ranked = compare.rank(ds, ind(ds, r["indicator"]), "cluster", SCOPE, "cpp", rules)
            assert r["low"] == pytest.approx(ranked.drawn["value"].min())
            assert r["high"] == pytest.approx(ranked.drawn["value"].max())
            assert r["units"] == len(ranked.drawn)
            assert r["cpp"] == pytest.approx(ranked.comparator_value)
            me = row(ranked.units, "1")
            assert r["value"] == pytest.approx(me["value"]) and r["verdict"] == me["verdict"]
    bully = s.rows.set_index("indicator").loc["bully"]
    assert bully["verdict"] == "worse"


def test_spine_of_a_protected_school_has_no_value_and_no_verdict(ds):
    for rules in (EXACT, Rules()):
        s = compare.spine(ds, "school", "32", SCOPE, "cpp", rules)
        assert s.unit_label == "Cedar Wee Primary"
        assert s.rows["value"].isna().all() and s.rows["ci_low"].isna().all() and s.rows["ci_high"].isna().all()
        assert (s.rows["verdict"] == "not compared").all()
        for _, r in s.rows.iterrows():
            ranked = compare.rank(ds, ind(ds, r["indicator"]), "school", SCOPE, "cpp", rules)
            assert same(r["low"], ranked.drawn["value"].min())  # NaN when no school can be shown
            assert same(r["high"], ranked.drawn["value"].max())
            assert r["units"] == len(ranked.drawn)
            assert r["cpp"] == pytest.approx(ranked.comparator_value)
        assert s.rows.set_index("indicator").loc["wb", ["low", "high"]].tolist() == pytest.approx([50.0, 60.0])


# --------------------------------------------------------------------------- deprivation gradient


def test_gradient_gap_is_most_minus_least_deprived_with_newcombe(ds):
    g = compare.gradient(ds, ind(ds, "bully"), SCOPE, EXACT)
    assert g.by_label == "SIMD quintile"
    assert list(g.groups["code"]) == ["1", "2", "3", "4", "5"]
    assert g.groups.iloc[0]["value"] == pytest.approx(30.0)  # 36 of 120
    assert g.groups.iloc[-1]["value"] == pytest.approx(10.0)  # 12 of 120
    d, low, high = newcombe(36, 120, 12, 120)
    assert (g.gap["diff"], g.gap["diff_low"], g.gap["diff_high"]) == pytest.approx((d, low, high))
    assert low > 0 and g.gap["verdict"] == "worse"  # more bullying among the most deprived
    assert g.gap["ratio"] == pytest.approx(3.0)
    assert (g.gap["most"], g.gap["least"]) == ("1 (most deprived)", "5 (least deprived)")


def test_no_gap_when_a_quintile_is_protected(ds):
    g = compare.gradient(ds, ind(ds, "bully"), Scope(cpp="1", cluster="3", wave="2019"), EXACT)  # no SIMD 5
    assert pd.isna(g.groups.iloc[-1]["value"])
    assert g.gap == {}
    assert any("protected" in n for n in g.context.notes)


# --------------------------------------------------------------------------- map


def test_one_location_per_school(ds):
    places = service.school_places(ds)
    assert sorted(places["code"]) == sorted(str(s) for s in PLACE)
    for _, p in places.iterrows():
        assert (p["lon"], p["lat"]) == pytest.approx(PLACE[int(p["code"])])
        assert p["cluster"] == str(CLUSTER_OF[int(p["code"])])


def test_coordinates_that_vary_within_a_school_are_refused(tmp_path, truth):
    moved = truth.copy()
    moved.loc[moved.index[::7], "lon"] += 0.01  # pupils' homes, not the school
    with pytest.raises(QueryError, match="one location per school"):
        service.school_places(load(tmp_path, moved))


def test_a_school_without_coordinates_is_left_off_the_map(tmp_path, truth):
    blank = truth.copy()
    blank.loc[blank["school"].eq(52), ["lon", "lat"]] = np.nan
    places = service.school_places(load(tmp_path, blank))
    assert "52" not in set(places["code"]) and len(places) == len(PLACE) - 1


def test_map_gives_protected_schools_no_value(ds):
    for rules in (EXACT, Rules()):
        m = compare.school_map(ds, ind(ds, "bully"), SCOPE, rules)
        assert set(m.schools["code"]) == {"11", "21", "31", "32"}
        wee = row(m.schools, "32")
        assert pd.isna(wee["value"]) and pd.isna(wee["ci_low"]) and wee["verdict"] == "not compared"
        assert (wee["lon"], wee["lat"]) == pytest.approx(PLACE[32])
        assert m.comparator_value == pytest.approx(compare.rank(ds, ind(ds, "bully"), "school", SCOPE,
                                                                "cpp", rules).comparator_value)
    alder = row(compare.school_map(ds, ind(ds, "bully"), Scope(cpp="1", cluster="1", wave="2019"), EXACT).schools,
                "11")
    assert alder["value"] == pytest.approx(30.0) and alder["verdict"] == "worse"
    assert alder["cluster_label"] == "Alder cluster"
    cedar = compare.school_map(ds, ind(ds, "bully"), Scope(cpp="1", cluster="3", wave="2019"), EXACT)
    assert set(cedar.schools["code"]) == {"31", "32"}


# --------------------------------------------------------------------------- disclosure


def _true_counts(truth, level, cpp, wave, name, positive):
    rows = truth[(truth.cpp == int(cpp)) & (truth.wave == int(wave))]
    grouped = rows.groupby(level)
    return {str(k): (int(g[name].astype(str).isin(positive).sum()), len(g)) for k, g in grouped}


@pytest.mark.parametrize("name", ["bully", "happy", "screen"])
def test_default_rules_give_no_value_over_a_small_count_or_base(ds, truth, name):
    indicator = ind(ds, name)
    small_seen = 0
    for cpp in ("1", "2"):
        for wave in ("2016", "2019"):
            for level in ("cluster", "school"):
                r = compare.rank(ds, indicator, level, Scope(cpp=cpp, wave=wave), "cpp", Rules())
                counts = _true_counts(truth, level, cpp, wave, name, indicator.positive)
                for _, u in r.units.iterrows():
                    yes, base = counts[u["code"]]
                    if yes < 10 or base < 30:
                        small_seen += 1
                        assert pd.isna(u["value"]) and pd.isna(u["ci_low"]) and pd.isna(u["ci_high"])
                        assert u["verdict"] == "not compared"
                    if pd.notna(u["value"]):
                        assert yes >= 10 and base >= 30
    assert small_seen >= 4  # Cedar Wee Primary in both waves, Elm High's 5, Elm Primary's base of 25


def test_default_rules_hide_named_small_units(ds):
    r = compare.rank(ds, ind(ds, "bully"), "school", Scope(cpp="2", wave="2019"), "cpp", Rules())
    assert pd.isna(row(r.units, "51")["value"])  # 5 of 100 bullied
    assert pd.isna(row(r.units, "52")["value"])  # base 25
    means = compare.rank(ds, ind(ds, "wb"), "school", Scope(cpp="2", wave="2019"), "cpp", Rules())
    assert pd.isna(row(means.units, "52")["value"])  # a mean over 25 pupils
    assert pd.notna(row(means.units, "51")["value"])  # a mean over 100 pupils is fine


def test_default_rules_protect_the_gradient_and_map_too(ds, truth):
    g = compare.gradient(ds, ind(ds, "bully"), Scope(cpp="1", cluster="3", wave="2019"), Rules())
    rows = truth[(truth.cpp == 1) & (truth.cluster == 3) & (truth.wave == 2019)]
    for _, q in g.groups.iterrows():
        part = rows[rows.simd == int(q["code"])]
        if pd.notna(q["value"]):
            assert part["bully"].isin([2, 3]).sum() >= 10 and len(part) >= 30
    m = compare.school_map(ds, ind(ds, "bully"), Scope(cpp="2", wave="2019"), Rules())
    assert m.schools.set_index("code").loc[["51", "52"], "value"].isna().all()
