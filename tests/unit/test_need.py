"""Need against service contact: the 2×2, its two highlighted figures and the breakdown, against hand counts."""

import math

import numpy as np
import pandas as pd
import pytest

from rcs_viz.features.need import model as need
from rcs_viz.engine import service
from rcs_viz.data.dictionary import MISSING
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.load import load_dataset
from rcs_viz.features.need.model import Definition, fit, presets
from rcs_viz.engine.sql.views import NO, YES, QueryError

EXACT = Rules(perturbation=False, secondary=False, threshold=1, min_base=1)

DICTIONARY = """
dataset: {title: Hand-built need, synthetic: true}
variables:
  - {name: pupil, label: Pupil, type: categorical, role: id}
  - {name: area, label: Area, type: categorical, values: {2: North, 1: South}}
  - {name: sdq_total_band, label: SDQ total difficulties band, type: ordinal,
     values: {1: Normal, 2: Borderline, 3: Abnormal}}
  - {name: young_carer, label: Young carer, type: flag, values: {0: 'No', 1: 'Yes', 9: Prefer not to say}}
  - {name: wemwbs, label: Mental wellbeing (WEMWBS), type: numeric}
  - {name: safe_home, label: Feels safe at home, type: ordinal,
     values: {1: Always, 2: Most of the time, 3: Sometimes, 4: Never}, positive: [1, 2]}
  - {name: sw_contact, label: Social work contact, type: flag}
  - {name: looked_after_ever, label: Ever looked after, type: flag}
"""

# How each kind of pupil answers (sdq band, young carer, wemwbs): the need is "band 3 or young carer".
HAS_NEED = [(3, 0, 50), (1, 1, 45), (None, 1, None)]  # decided yes, one way or another
NO_NEED = [(1, 0, 50), (2, 0, 60), (2, 9, 38)]  # decided no ('prefer not to say' is not yes)
UNDECIDED = [(None, 0, None), (1, None, 50)]  # nothing settles it

# area → pupils with need & contact, need & no contact, contact & no need, neither
CELLS = {"1": (12, 30, 15, 60), "2": (3, 20, 11, 40), None: (0, 4, 0, 2)}
LEFT_OUT = {"1": 5, "2": 3}  # pupils whose need (area 1) or contact (area 2) is undecided


def rows() -> list[tuple]:
    out = []
    for area, (both, need_only, contact_only, neither) in CELLS.items():
        for n, kinds, sw in ((both, HAS_NEED, 1), (need_only, HAS_NEED, 0),
                             (contact_only, NO_NEED, 1), (neither, NO_NEED, 0)):
            out += [(area, *kinds[i % len(kinds)], (i % 4) + 1, sw, 0) for i in range(n)]
    out += [("1", *UNDECIDED[i % 2], 1, i % 2, 0) for i in range(LEFT_OUT["1"])]
    out += [("2", *HAS_NEED[i % 3], 3, None, 0) for i in range(LEFT_OUT["2"])]
    return out


ROWS = rows()
COLUMNS = ["area", "sdq_total_band", "young_carer", "wemwbs", "safe_home", "sw_contact", "looked_after_ever"]


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    frame = pd.DataFrame(ROWS, columns=COLUMNS)
    frame["area"] = frame["area"].astype("Float64")
    frame[COLUMNS[1:]] = frame[COLUMNS[1:]].astype("Float64")
    frame.insert(0, "pupil", np.arange(len(frame)))
    folder = tmp_path_factory.mktemp("need")
    frame.to_csv(folder / "pupils.csv", index=False)
    (folder / "dictionary.yaml").write_text(DICTIONARY)
    return load_dataset(folder / "pupils.csv", folder / "dictionary.yaml", cache_dir=folder / "db")


SDQ = Definition((("sdq_total_band", ("3",)), ("young_carer", ("1",))))
SW = Definition((("sw_contact", ("1",)),))


def square(cells) -> dict:
    both, need_only, contact_only, neither = cells
    return {(YES, YES): both, (YES, NO): need_only, (NO, YES): contact_only, (NO, NO): neither,
            (YES, None): both + need_only, (NO, None): contact_only + neither,
            (None, YES): both + contact_only, (None, NO): need_only + neither, (None, None): sum(cells)}


def got(result, code) -> dict:
    """Counts of one category's cells; under EXACT (threshold 1) only empty cells are hidden, so NA is 0."""
    c = result.cells[result.cells["by"].isna() if code is None else result.cells["by"].eq(code)]
    return {(r if isinstance(r, str) else None, k if isinstance(k, str) else None): 0 if pd.isna(n) else int(n)
            for r, k, n in zip(c["need"], c["contact"], c["count"])}


def test_the_two_by_two_per_area_and_overall_matches_hand_counts(ds):
    result = fit(ds, SDQ, SW, "area", rules=EXACT)
    assert got(result, "1") == square(CELLS["1"])
    assert got(result, "2") == square(CELLS["2"])
    assert got(result, MISSING) == square(CELLS[None])
    overall = tuple(sum(c[i] for c in CELLS.values()) for i in range(4))
    assert got(result, None) == square(overall)
    table = result.square()
    assert list(table.index) == ["With the need", "Without the need", "All"]
    assert list(table.columns) == ["Contact", "No contact", "All"]
    assert table.loc["With the need", "No contact"] == overall[1]
    assert table.loc["All", "All"] == sum(overall)


def test_undecided_pupils_are_left_out_and_the_result_says_so(ds):
    result = fit(ds, SDQ, SW, None, rules=EXACT)
    assert result.square().loc["All", "All"] == len(ROWS) - sum(LEFT_OUT.values())
    assert any("cannot decide the need or the contact" in n for n in result.context.notes)


def test_unmet_and_unasked_percentages_are_the_hand_shares(ds):
    result = fit(ds, SDQ, SW, "area", rules=EXACT)
    both, need_only, contact_only, neither = (sum(c[i] for c in CELLS.values()) for i in range(4))
    assert result.unmet.count == need_only
    assert result.unmet.base == both + need_only
    assert result.unmet.pct == pytest.approx(100 * need_only / (both + need_only))
    assert result.unmet.ci_low < result.unmet.pct < result.unmet.ci_high
    assert result.unasked.count == contact_only
    assert result.unasked.base == both + contact_only
    assert result.unasked.pct == pytest.approx(100 * contact_only / (both + contact_only))
    assert "pupils" in result.unmet_text() and "% of those with the need" in result.unmet_text()


def test_breakdown_rows_follow_category_order_with_hand_figures(ds):
    b = fit(ds, SDQ, SW, "area", rules=EXACT).breakdown
    assert list(b["label"]) == ["North", "South", "No answer", "All"]  # dictionary order, not code order
    assert list(b["code"][:3]) == ["2", "1", MISSING] and b["code"].iloc[3] is None
    for code in ("1", "2"):
        both, need_only, contact_only, neither = CELLS[code]
        row = b[b["code"].eq(code)].iloc[0]
        total = both + need_only + contact_only + neither
        assert row["pupils"] == total
        assert row["need"] == both + need_only
        assert row["need_pct"] == pytest.approx(100 * (both + need_only) / total)
        assert row["contact"] == both + contact_only
        assert row["contact_pct"] == pytest.approx(100 * (both + contact_only) / total)
        assert row["unmet"] == need_only
        assert row["unmet_pct"] == pytest.approx(100 * need_only / (both + need_only))
        assert row["unasked"] == contact_only
        assert row["unasked_pct"] == pytest.approx(100 * contact_only / (both + contact_only))
    assert any("'No answer' in the breakdown" in n for n in fit(ds, SDQ, SW, "area", rules=EXACT).context.notes)


def test_all_and_a_numeric_condition_are_counted_as_defined(ds):
    """Checked against the rows worked through in Python with three-valued logic."""
    low = Definition((("sdq_total_band", ("3",)), ("wemwbs", ("<41",))), "all")
    result = fit(ds, low, SW, None, rules=EXACT)

    def truth(value, test):
        return None if value is None or (isinstance(value, float) and math.isnan(value)) else test(value)

    want = {}
    for area, band, carer, wb, safe, sw, la in ROWS:
        a, b = truth(band, lambda v: v == 3), truth(wb, lambda v: v < 41)
        n = False if a is False or b is False else (None if a is None or b is None else True)
        c = None if sw is None else sw == 1
        if n is None or c is None:
            continue
        key = (YES if n else NO, YES if c else NO)
        want[key] = want.get(key, 0) + 1
    cells = got(result, None)
    assert {k: cells[k] for k in want} == want
    assert any("combines conditions by 'all'" in n for n in result.context.notes)


def test_a_breakdown_does_not_change_the_overall_figures(ds):
    a, b = fit(ds, SDQ, SW, None, rules=EXACT), fit(ds, SDQ, SW, "area", rules=EXACT)
    assert got(a, None) == got(b, None)


def test_under_the_real_rules_no_small_count_is_shown_and_no_percent_rests_on_a_hidden_cell(ds):
    result = fit(ds, SDQ, SW, "area", rules=Rules())
    cells = result.cells
    shown = cells["count"].dropna()
    assert len(shown) and (shown >= 10).all()
    hidden = cells["count"].isna()
    assert hidden.any()  # area 2's 3 pupils with need and contact
    for column in ("row_pct", "row_low", "row_high", "col_pct", "col_low", "col_high"):
        assert cells.loc[hidden, column].isna().all()
    b = result.breakdown
    for name, base in (("unmet", "need"), ("unasked", "contact")):
        no_value = b[name].isna() | b[base].isna()
        assert b.loc[no_value, f"{name}_pct"].isna().all()
        assert b.loc[no_value, f"{name}_low"].isna().all()
    counts, shares = result.square("2"), result.square("2", "row_pct")
    assert counts.isna().to_numpy().any()
    assert shares[counts.isna()].isna().all().all()
    north = b[b["code"].eq("2")].iloc[0]  # 23 pupils with the need: under the minimum base of 30
    assert math.isnan(north["unmet_pct"])
    assert all(isinstance(v, (int, type(None))) for v in (result.unmet.count, result.unasked.count))


def test_a_hidden_figure_says_so_in_words():
    assert need.Figure(None, math.nan, math.nan, math.nan, None).words("x").startswith("protected")
    assert need.Figure(20, math.nan, math.nan, math.nan, 23).words("those with the need") == \
        "20 pupils (no % shown: the number of those with the need is too small or protected)"
    assert need.Figure(412, 61.6, 57.9, 65.2, 669).words("those with the need") == \
        "412 pupils, 62% of those with the need (95% CI 58% to 65%)"


def test_describe_in_plain_words(ds):
    d = ds.dictionary
    example = Definition((("sdq_total_band", ("3",)), ("young_carer", ("1",)), ("wemwbs", ("<41",))))
    assert example.describe(d) == ("SDQ total difficulties band is Abnormal, or Young carer is Yes, "
                                   "or Mental wellbeing (WEMWBS) below 41")
    ops = [Definition((("wemwbs", (op + "40.5",)),)).describe(d) for op in ("<", "<=", ">", ">=")]
    assert ops == [f"Mental wellbeing (WEMWBS) {w} 40.5" for w in ("below", "at most", "above", "at least")]
    both = Definition((("safe_home", ("3", "4")), ("sw_contact", ("1",))), "all")
    assert both.describe(d) == "Feels safe at home is Sometimes or Never, and Social work contact is Yes"
    three = Definition((("sdq_total_band", ("1", "2", "3")),))
    assert three.describe(d) == "SDQ total difficulties band is Normal, Borderline or Abnormal"
    assert Definition().describe(d) == "no conditions chosen"
    assert fit(ds, example, SW, rules=EXACT).definitions == (
        "Need: " + example.describe(d), "Service contact: Social work contact is Yes")


def test_notes_name_the_caveats_of_the_definitions(ds):
    example = Definition((("sdq_total_band", ("3",)), ("young_carer", ("1",)), ("wemwbs", ("<41",))))
    notes = fit(ds, example, SW, rules=EXACT).context.notes
    assert any("'Prefer not to say' to Young carer counts as not meeting" in n for n in notes)
    assert any("illustrative cut-off" in n for n in notes)
    assert any("combines conditions by 'any'" in n for n in notes)
    assert any("possible unmet need, not proof" in n for n in notes)
    assert any("Synthetic sample" in n for n in notes)


def test_filters_are_applied_and_described(ds):
    result = fit(ds, SDQ, SW, None, filters=(("area", ("1",)),), rules=EXACT)
    assert got(result, None) == square(CELLS["1"])
    assert result.context.filters_text == ("Area: South",)


def test_presets_only_for_variables_the_dictionary_has(ds, sample_dataset):
    found = presets(ds.dictionary)
    assert [p.key for p in found.needs] == ["sdq_abnormal", "low_wellbeing", "unsafe_home", "young_carer"]
    assert [p.key for p in found.contacts] == ["sw_contact", "looked_after"]
    by_key = {p.key: p for p in found.needs + found.contacts}
    assert by_key["unsafe_home"].definition.conditions == (("safe_home", ("3", "4")),)
    assert by_key["low_wellbeing"].definition.conditions == (("wemwbs", ("<41",)),)
    assert "illustrative" in by_key["low_wellbeing"].note
    sample = presets(sample_dataset.dictionary)
    assert [p.key for p in sample.contacts] == ["sw_contact", "looked_after", "cp_register", "asn"]
    assert len(sample.needs) == 4


@pytest.mark.parametrize("args, words", [
    ((Definition(), SW, None), "at least one condition for the need"),
    ((SDQ, Definition(), None), "at least one condition for the service contact"),
    ((SDQ, SW, "wemwbs"), "is numeric"),
    ((SDQ, SW, "nope"), "unknown variable"),
    ((Definition((("nope", ("1",)),)), SW, None), "unknown variable 'nope'"),
    ((Definition((("sdq_total_band", ("7",)),)), SW, None), "'7' is not a value"),
    ((Definition((("wemwbs", ("41; DROP TABLE respondents",)),)), SW, None), "compare"),
    ((SDQ, SW, need.NEED), "not a variable to break down by"),
])
def test_a_bad_question_is_refused_in_words(ds, args, words):
    with pytest.raises(QueryError, match=words):
        fit(ds, *args, rules=EXACT)


def test_the_sample_under_default_rules(sample_dataset):
    found = presets(sample_dataset.dictionary)
    result = fit(sample_dataset, found.needs[0].definition, found.contacts[0].definition, "simd",
                 (("wave", ("2019",)),), Rules())
    shown = result.cells["count"].dropna()
    assert (shown >= 10).all()
    assert result.cells.loc[result.cells["count"].isna(), ["row_pct", "col_pct"]].isna().all().all()
    assert 0 < result.unmet.pct < 100 and result.unmet.count is not None
    assert len(result.breakdown) == 6 and result.breakdown["label"].iloc[-1] == "All"
    # counts equal those of an ordinary protected cross-tab of the same question
    query = service.CrossTab(rows=need.NEED, cols=need.CONTACT, panel="simd",
                             filters=(("wave", ("2019",)), (need.NEED, (YES, NO)), (need.CONTACT, (YES, NO))),
                             flags=(found.needs[0].definition.to_flag(need.NEED, "Need"),
                                    found.contacts[0].definition.to_flag(need.CONTACT, "Service contact")))
    plain = service.crosstab(sample_dataset, query, "count", Rules()).cells
    mine = result.cells.set_index(["by", "need", "contact"])["count"]
    theirs = plain.set_index(["panel", "row", "col"])["count"]
    assert sorted(mine.dropna().astype(int).tolist()) == sorted(theirs.dropna().astype(int).tolist())


def test_judging_on_the_questions_answered_keeps_primary_pupils_in_a_need_with_a_secondary_scale(sample_dataset):
    """SDQ abnormal or low wellbeing (WEMWBS, asked of S1–S4 only), all stages, 2019."""
    sdq_or_low = (("sdq_total_band", ("3",)), ("wemwbs", ("<41",)))
    contact = Definition((("sw_contact", ("1",)),))
    where = (("wave", ("2019",)),)
    strict = fit(sample_dataset, Definition(sdq_or_low), contact, None, where, Rules())
    judged = fit(sample_dataset, Definition(sdq_or_low, answered_only=True), contact, None, where, Rules())
    everyone = fit(sample_dataset, Definition((("sdq_total_band", ("1", "2", "3")),)), contact, None, where, Rules())
    need_rate = lambda f: f.square(value="count").loc["With the need", "All"] / f.square().loc["All", "All"]  # noqa: E731
    base = lambda f: f.square().loc["All", "All"]  # noqa: E731
    assert base(strict) < 0.75 * base(everyone), "the strict reading drops primary pupils without an SDQ need"
    assert base(judged) >= 0.95 * base(everyone)
    assert need_rate(judged) < need_rate(strict)
    assert "judged on the questions each pupil answered" in " ".join(judged.context.notes)
    assert "(each pupil judged on the questions they answered)" in judged.need_text
