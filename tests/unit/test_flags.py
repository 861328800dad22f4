"""Derived yes/no variables (needs, indicators): counted exactly as their definition says."""

import numpy as np
import pandas as pd
import pytest

from rcs_viz.engine import service
from rcs_viz.data.dictionary import MISSING
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.load import load_dataset
from rcs_viz.engine.sql.views import NO, YES, CrossTab, Flag, QueryError

EXACT = Rules(perturbation=False, secondary=False, threshold=1, min_base=1)

DICTIONARY = """
dataset: {title: Hand-built flags, synthetic: true}
variables:
  - {name: pupil, label: Pupil, type: categorical, role: id}
  - {name: band, label: SDQ band, type: ordinal, values: {1: Normal, 2: Borderline, 3: Abnormal}}
  - {name: carer, label: Young carer, type: flag}
  - {name: wb, label: Wellbeing, type: numeric}
  - {name: sw, label: Social work contact, type: flag}
"""

# band, carer, wb, sw — 12 pupils, hand-picked so every branch of the three-valued logic appears
ROWS = [
    (3, 0, 50, 1), (3, 1, 35, 0), (1, 1, 40, 0), (1, 0, 60, 0), (2, 0, 41, 1), (None, 1, 30, 0),
    (None, 0, 55, 1), (None, None, None, 0), (1, None, 45, 0), (3, None, None, 1), (2, 1, 38, 0), (1, 0, 39, 0),
]


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    frame = pd.DataFrame(ROWS, columns=["band", "carer", "wb", "sw"]).astype("Float64")
    frame.insert(0, "pupil", np.arange(len(frame)))
    folder = tmp_path_factory.mktemp("flags")
    frame.to_csv(folder / "pupils.csv", index=False)
    (folder / "dictionary.yaml").write_text(DICTIONARY)
    return load_dataset(folder / "pupils.csv", folder / "dictionary.yaml", cache_dir=folder / "db")


def counts(ds, flag, cols=None):
    result = service.crosstab(ds, CrossTab(rows=flag.name, cols=cols, flags=(flag,)), "count", EXACT)
    c = result.cells
    return {(r, k): int(n) for r, k, n in zip(c["row"], c["col"], c["count"])}


def expected(test):
    """The flag worked out row by row in Python: True, False or None (undecided)."""
    out = {YES: 0, NO: 0, MISSING: 0}
    for row in ROWS:
        value = test(*row)
        out[YES if value is True else NO if value is False else MISSING] += 1
    return out


def either(a, b):
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def both(a, b):
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def test_any_is_yes_when_one_condition_holds_and_undecided_only_when_nothing_settles_it(ds):
    need = Flag("need", "Need", (("band", ("3",)), ("carer", ("1",))), "any")
    got = counts(ds, need)
    want = expected(lambda band, carer, wb, sw: either(None if band is None else band == 3,
                                                       None if carer is None else carer == 1))
    assert {k: got[(k, None)] for k in want} == want
    assert got[(None, None)] == len(ROWS)


def test_all_needs_every_condition(ds):
    need = Flag("need", "Need", (("band", ("3",)), ("carer", ("1",))), "all")
    got = counts(ds, need)
    want = expected(lambda band, carer, wb, sw: both(None if band is None else band == 3,
                                                     None if carer is None else carer == 1))
    assert {k: got[(k, None)] for k in want} == want


def test_numeric_condition_compares_with_a_bound_number(ds):
    low = Flag("low", "Low wellbeing", (("wb", ("<41",)),))
    got = counts(ds, low)
    assert got[(YES, None)] == sum(1 for r in ROWS if r[2] is not None and r[2] < 41)
    assert got[(NO, None)] == sum(1 for r in ROWS if r[2] is not None and r[2] >= 41)
    assert got[(MISSING, None)] == sum(1 for r in ROWS if r[2] is None)


def test_a_flag_crossed_with_a_real_variable_and_used_as_a_filter(ds):
    need = Flag("need", "Need", (("band", ("3",)),))
    got = counts(ds, need, cols="sw")
    assert got[(YES, "1")] == sum(1 for r in ROWS if r[0] == 3 and r[3] == 1)
    assert got[(YES, "0")] == sum(1 for r in ROWS if r[0] == 3 and r[3] == 0)
    kept = service.crosstab(ds, CrossTab(rows="sw", filters=(("need", (YES,)),), flags=(need,)), "count", EXACT)
    assert int(kept.cells.loc[kept.cells["row"].isna(), "count"].iloc[0]) == sum(1 for r in ROWS if r[0] == 3)


def test_percent_of_a_flag_leaves_undecided_pupils_out_of_the_base(ds):
    need = Flag("need", "Need", (("band", ("3",)),))
    result = service.crosstab(ds, CrossTab(rows="sw", cols="need", include_missing=False, flags=(need,)),
                              "row_pct", EXACT)
    c = result.cells
    value = c.loc[c["row"].isna() & c["col"].eq(YES), "value"].iloc[0]
    answered = [r for r in ROWS if r[0] is not None]
    assert value == pytest.approx(100 * sum(r[0] == 3 for r in answered) / len(answered))


@pytest.mark.parametrize("flag, words", [
    (Flag("need", "Need", (("nope", ("1",)),)), "unknown variable 'nope'"),
    (Flag("need", "Need", (("band", ("9",)),)), "'9' is not a value of 'SDQ band'"),
    (Flag("need", "Need", (("wb", ("41",)),)), "compare 'Wellbeing' with a number"),
    (Flag("need", "Need", (("wb", ("<41; DROP TABLE respondents",)),)), "compare 'Wellbeing' with a number"),
    (Flag("band", "Band again", (("band", ("3",)),)), "already a variable"),
    (Flag("need", "Need", ()), "has no conditions"),
    (Flag("need", "Need", (("band", ("3",)),), "xor"), "'any' or 'all'"),
])
def test_a_bad_definition_is_refused_in_words(ds, flag, words):
    with pytest.raises(QueryError, match=words):
        service.crosstab(ds, CrossTab(rows=flag.name, flags=(flag,)), "count", EXACT)


def test_small_flag_cells_are_protected_under_the_real_rules(ds):
    need = Flag("need", "Need", (("band", ("3",)),))
    result = service.crosstab(ds, CrossTab(rows="need", cols="sw", flags=(need,)), "count", Rules())
    shown = result.cells["count"].dropna()
    assert (shown >= 10).all()


def answered(values, combine):
    """Judged on the answered conditions only: None only when none was answered."""
    known = [v for v in values if v is not None]
    if not known:
        return None
    return any(known) if combine == "any" else all(known)


@pytest.mark.parametrize("combine", ["any", "all"])
def test_judged_on_the_questions_answered_an_unasked_condition_neither_makes_nor_breaks_it(ds, combine):
    need = Flag("need", "Need", (("band", ("3",)), ("wb", ("<41",))), combine, answered_only=True)
    got = counts(ds, need)
    want = expected(lambda band, carer, wb, sw: answered([None if band is None else band == 3,
                                                          None if wb is None else wb < 41], combine))
    assert {k: got[(k, None)] for k in want} == want
    strict = counts(ds, Flag("need", "Need", need.conditions, combine))
    assert got[(MISSING, None)] < strict[(MISSING, None)], "fewer pupils left undecided than the strict reading"
