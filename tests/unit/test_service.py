"""The one route to any output: query → grid → disclosure gate → statistics."""

import numpy as np
import pandas as pd
import pytest

from rcs_viz.engine import service
from rcs_viz.data.dictionary import MISSING
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.load import load_dataset
from rcs_viz.engine.sql.views import CrossTab, QueryError

EXACT = Rules(perturbation=False)

DICTIONARY = """
dataset: {title: Hand-built test data, synthetic: true}
variables:
  - {name: pupil, label: Pupil, type: categorical, role: id}
  - {name: school, label: School, type: categorical, role: school, values: {1: Hillview, 2: Burnside, 3: Wee School}}
  - {name: sex, label: Sex, type: categorical, values: {1: Boy, 2: Girl, 3: Other}}
  - {name: fsm, label: Free school meals, type: flag}
  - {name: att, label: Attendance %, type: numeric}
  - {name: wt, label: Weight, type: numeric, role: weight}
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """400 pupils: two big schools, one of 6; a rare sex category; some missing answers."""
    rng = np.random.default_rng(7)
    n = 400
    school = np.r_[np.full(200, 1), np.full(194, 2), np.full(6, 3)]
    sex = np.r_[np.tile([1, 2], 197), np.full(6, 3)]
    rng.shuffle(sex[:394])
    fsm = (rng.random(n) < 0.3).astype(int)
    att = np.round(rng.normal(90, 5, n), 1)
    att[::25] = np.nan
    frame = pd.DataFrame({"pupil": np.arange(n), "school": school, "sex": sex, "fsm": fsm, "att": att,
                          "wt": 1.0})
    frame.loc[::20, "sex"] = np.nan
    folder = tmp_path_factory.mktemp("svc")
    frame.to_csv(folder / "pupils.csv", index=False)
    (folder / "dictionary.yaml").write_text(DICTIONARY)
    return load_dataset(folder / "pupils.csv", folder / "dictionary.yaml", cache_dir=folder / "db"), frame


@pytest.fixture(scope="module")
def ds(built):
    return built[0]


@pytest.fixture(scope="module")
def truth(built):
    """The records themselves: for the tests' expectations only."""
    return built[1]


def cell(result, row=None, col=None):
    c = result.cells
    pick = (c["row"].isna() if row is None else c["row"].eq(row)) & (c["col"].isna() if col is None else c["col"].eq(col))
    assert pick.sum() == 1
    return c[pick].iloc[0]


def test_counts_are_the_truth_when_large_and_unperturbed(ds, truth):
    r = service.crosstab(ds, CrossTab(rows="school", cols="fsm"), "count", EXACT)
    expected = pd.crosstab(truth.school, truth.fsm, margins=True)
    shown = r.cells[r.cells["status"].eq("shown")]
    assert len(shown) >= 4
    for _, c in shown.iterrows():
        assert c["count"] == expected.loc[int(c["row"]) if c["row"] else "All", int(c["col"]) if c["col"] else "All"]
    assert cell(r)["count"] == 400


def test_small_cells_are_protected_and_never_leave(ds):
    r = service.crosstab(ds, CrossTab(rows="school", cols="fsm"), "count", Rules())
    wee = r.cells[r.cells["row"].eq("3")]
    assert (wee["status"] == "suppressed").all()
    assert wee["count"].isna().all() and wee["value"].isna().all()
    assert wee["reason"].notna().all()
    shown = r.cells[r.cells["status"].eq("shown")]
    assert (shown["count"] >= 10).all()
    assert not {"n", "ckey", "v_sum", "w_sum"} & set(r.cells.columns)


def test_perturbation_is_small_and_repeatable(ds):
    q = CrossTab(rows="school", cols="fsm")
    a = service.crosstab(ds, q, "count", Rules())
    b = service.crosstab(ds, q, "count", Rules())
    exact = service.crosstab(ds, q, "count", EXACT)
    assert a.cells["count"].equals(b.cells["count"])
    diff = (a.cells["count"] - exact.cells["count"]).dropna().abs()
    assert diff.max() <= 3


def test_row_percentages_and_wilson_interval(ds, truth):
    q = CrossTab(rows="school", cols="fsm", filters=(("school", ("1", "2")),))
    r = service.crosstab(ds, q, "row_pct", EXACT)
    expected = pd.crosstab(truth.school, truth.fsm, normalize="index") * 100
    c = cell(r, "1", "1")
    assert c["value"] == pytest.approx(expected.loc[1, 1])
    assert c["ci_low"] < c["value"] < c["ci_high"]
    assert cell(r, "1")["value"] == pytest.approx(100)


def test_percentage_needs_a_base_of_thirty(ds):
    r = service.crosstab(ds, CrossTab(rows="school", cols="fsm", filters=(("school", ("1", "2")),)),
                         "row_pct", Rules(perturbation=False, min_base=250))
    c = cell(r, "1", "1")
    assert c["status"] == "shown" and not pd.isna(c["count"])
    assert np.isnan(c["value"]) and "base" in c["reason"]


def test_mean_matches_pandas_and_ignores_missing_values(ds, truth):
    r = service.crosstab(ds, CrossTab(rows="school", value="att"), "mean", EXACT)
    expected = truth.groupby("school").att.mean()
    assert cell(r, "1")["value"] == pytest.approx(expected[1])
    assert cell(r)["value"] == pytest.approx(truth.att.mean())
    assert np.isnan(cell(r, "3")["value"])  # six pupils: protected


def test_no_answer_is_a_category_and_counts_in_the_base(ds, truth):
    big = (("school", ("1", "2")), ("sex", ("1", "2", MISSING)))
    r = service.crosstab(ds, CrossTab(rows="sex", filters=big), "count", EXACT)
    assert cell(r, MISSING)["row_label"] == "No answer"
    assert cell(r, MISSING)["count"] == truth[truth.school < 3].sex.isna().sum()
    assert cell(r)["count"] == 394
    hidden = service.crosstab(ds, CrossTab(rows="sex", filters=big[:1], include_missing=False), "count", EXACT)
    assert MISSING not in set(hidden.cells["row"])
    assert cell(hidden)["count"] == 394 - truth[truth.school < 3].sex.isna().sum()
    assert any("no answer" in n.lower() for n in hidden.notes)


def test_categories_do_not_depend_on_who_is_in_the_view(ds):
    """Filtered to boys, every school is still listed (absence would reveal a zero)."""
    r = service.crosstab(ds, CrossTab(rows="school", filters=(("sex", ("1",)),)), "count", EXACT)
    assert set(r.cells["row"].dropna()) == {"1", "2", "3"}


def test_a_filter_on_the_rows_variable_keeps_just_its_values(ds):
    """Structural zeros (schools the user filtered out) are not cells to protect."""
    r = service.crosstab(ds, CrossTab(rows="school", filters=(("school", ("2", "1")),)), "count", EXACT)
    assert list(r.cells["row"]) == ["1", "2", None]
    assert (r.cells["status"] == "shown").all()


def test_labels_in_dictionary_order_and_filters_in_words(ds):
    r = service.crosstab(ds, CrossTab(rows="school", filters=(("sex", ("2", MISSING)),)), "count", EXACT)
    assert list(r.cells["row_label"].drop_duplicates()) == ["Hillview", "Burnside", "Wee School", "All"]
    assert r.filters_text == ("Sex: Girl, No answer",)
    assert r.synthetic


@pytest.mark.parametrize("query,measure,message", [
    (CrossTab(rows="nope"), "count", "unknown variable"),
    (CrossTab(rows="att"), "count", "numeric"),
    (CrossTab(rows="school"), "mean", "needs a numeric"),
    (CrossTab(rows="school", value="sex"), "mean", "not a numeric"),
    (CrossTab(rows="school"), "sum", "unknown measure"),
    (CrossTab(rows="school", filters=(("sex", ("9",)),)), "count", "not a value"),
    (CrossTab(rows="school", filters=(("sex'--", ("1",)),)), "count", "unknown variable"),
    (CrossTab(rows="school", weight="att"), "row_pct", "not the survey weight"),
])
def test_bad_questions_get_a_clear_error(ds, query, measure, message):
    with pytest.raises(QueryError, match=message):
        service.crosstab(ds, query, measure)


def test_weighted_equal_weights_match_unweighted(ds):
    big = (("school", ("1", "2")),)
    q = CrossTab(rows="school", cols="fsm", filters=big)
    w = service.crosstab(ds, CrossTab(rows="school", cols="fsm", filters=big, weight="wt"), "row_pct", EXACT)
    u = service.crosstab(ds, q, "row_pct", EXACT)
    assert cell(w, "1", "1")["value"] == pytest.approx(cell(u, "1", "1")["value"])


def test_bases_for_each_filter_in_turn(ds, truth):
    filters = (("school", ("1", "2")), ("sex", ("2",)))
    exact = service.bases(ds, filters, EXACT)
    assert [b.count for b in exact] == [400, 394, int(((truth.school < 3) & (truth.sex == 2)).sum())]
    r = service.crosstab(ds, CrossTab(rows="fsm", filters=filters), "count", Rules())
    assert service.bases(ds, filters, Rules())[-1].count == cell(r)["count"]  # same records, same noise


def test_a_base_under_the_threshold_is_not_shown(ds):
    tiny = service.bases(ds, (("school", ("3",)),), Rules())[-1]
    assert tiny.too_small and tiny.count is None and tiny.reason.startswith("protected")


def test_hidden_cells_all_give_the_same_reason(ds):
    """Telling primary from secondary cells would say which hidden ones are small."""
    r = service.crosstab(ds, CrossTab(rows="school", cols="fsm"), "count", Rules())
    hidden = r.cells[r.cells["status"].eq("suppressed")]
    assert len(hidden) >= 3 and hidden["reason"].nunique() == 1
    assert set(r.summary) == {"cells", "protected", "share_cells_hidden", "mostly_protected", "advice"}


def test_weighted_percentages_carry_the_counts_noise(ds):
    """With weights of 1 a weighted % is a count ratio; unperturbed it would undo the noise."""
    big = (("school", ("1", "2")),)
    q = CrossTab(rows="school", cols="fsm", filters=big)
    w = service.crosstab(ds, CrossTab(rows="school", cols="fsm", filters=big, weight="wt"), "row_pct", Rules())
    u = service.crosstab(ds, q, "row_pct", Rules())
    exact = service.crosstab(ds, q, "row_pct", EXACT)
    assert cell(w, "1", "1")["value"] == pytest.approx(cell(u, "1", "1")["value"])
    assert (w.cells["value"] - exact.cells["value"]).abs().max() > 0
