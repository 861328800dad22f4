"""Structural zeros from a question's routing: a question the dictionary says is asked at some stages only
(`asked_at`: the substance questions at S2-S4) has no answers at a school or stage never asked it. Routing is
public (the questionnaire), like which stages a school teaches, so those cells are shown as 0, never hidden and
never partners. Only while the whole table agrees with the routing: an answer off it turns it off.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from rcs_viz.data import dictionary as dd
from rcs_viz.data.dictionary import MISSING
from rcs_viz.engine import service
from rcs_viz.engine.disclosure import gate
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.sql.views import CrossTab

from tests.unit.test_disclosure_structural import statuses, view_cells

SMOKED = "smoked_vaped_last_month"
PRIMARY = {"1", "2", "3", "4"}


def _stages_of_schools(dataset):
    """Each school's stage codes in the whole table (public structure)."""
    found = service._combinations(dataset.db_path, dataset.dictionary, ("school", "stage"))
    out: dict[str, set] = {}
    for school, stage in found:
        out.setdefault(school, set()).add(stage)
    return out


def test_the_sample_declares_its_routing_and_the_data_agrees(sample_dataset):
    d = sample_dataset.dictionary
    assert d[SMOKED].asked_at == ("6", "7", "8") and d["wemwbs"].asked_at == ("5", "6", "7", "8")
    for name in ("alcohol_last_week", SMOKED, "drugs_ever", "wemwbs", "primary_wellbeing"):
        assert service.routing(sample_dataset.db_path, d, name) == frozenset(d[name].asked_at)
    assert service.routing(sample_dataset.db_path, d, "bullied") == frozenset()  # asked at every stage


def test_a_primary_schools_answers_to_an_s2_s4_question_are_shown_as_zero_and_its_no_answers_are_not(sample_dataset):
    query = CrossTab(rows="school", cols=SMOKED)
    cells, empty = view_cells(sample_dataset, query)
    stages = _stages_of_schools(sample_dataset)
    primary = cells["row"].map(lambda s: s is not None and stages[s] <= PRIMARY).to_numpy(bool)
    answers = cells["col"].isin(["0", "1"]).to_numpy()
    assert primary.any() and (~primary & cells["row"].notna()).any()
    assert np.array_equal(empty & cells["row"].notna().to_numpy(), primary & answers)
    assert (cells.loc[empty, "n"] == 0).all()
    out = statuses(service.crosstab(sample_dataset, query, "count", Rules()), cells)
    assert (out.loc[primary & answers, "reason"] == gate.NO_SUCH_PUPILS).all()
    assert (out.loc[primary & answers, "count"] == 0).all()
    notes = service.crosstab(sample_dataset, query, "count", Rules()).notes
    assert any(n.startswith("Smoked or vaped in the last month is asked at S2, S3, S4 only") for n in notes)
    no_answer = primary & cells["col"].eq(MISSING).to_numpy()
    assert (cells.loc[no_answer, "n"] > 0).all()  # primary pupils not asked: counted, and protected as usual
    assert (out.loc[no_answer, "reason"] != gate.NO_SUCH_PUPILS).all()


def test_a_filter_on_answers_to_a_routed_question_empties_the_stages_never_asked(sample_dataset):
    answered = CrossTab(rows="stage", cols="sex", filters=((SMOKED, ("0", "1")),))
    cells, empty = view_cells(sample_dataset, answered)
    inner = cells["row"].notna().to_numpy() & cells["row"].ne(MISSING).to_numpy()
    never_asked = inner & ~cells["row"].isin(["6", "7", "8"]).to_numpy()
    assert never_asked.any() and np.array_equal(empty & inner, never_asked)
    assert (cells.loc[empty, "n"] == 0).all()

    with_no_answer = CrossTab(rows="stage", cols="sex", filters=((SMOKED, ("0", "1", MISSING)),))
    cells, empty = view_cells(sample_dataset, with_no_answer)
    assert not empty.any()  # 'no answer' keeps pupils of every stage: nothing is structural
    notes = service.crosstab(sample_dataset, answered, "count", Rules()).notes
    assert "The filter on Smoked or vaped in the last month keeps pupils at S2, S3, S4 only, the stages asked it." \
        in notes
    assert not any("asked" in n for n in service.crosstab(sample_dataset, with_no_answer, "count", Rules()).notes)
    by_sex = CrossTab(rows="sex", cols="bullied", filters=((SMOKED, ("1",)),))
    assert not view_cells(sample_dataset, by_sex)[1].any()  # every sex has pupils at S2-S4


def test_a_stage_filter_with_a_routed_question_leaves_only_zeros_it_cannot_hold(sample_dataset):
    query = CrossTab(rows="sex", cols="drugs_ever", filters=(("stage", ("3",)),))  # P6, never asked
    cells, empty = view_cells(sample_dataset, query)
    answers = cells["col"].isin(["0", "1"]).to_numpy() & cells["row"].notna().to_numpy()
    assert np.array_equal(empty & cells["row"].notna().to_numpy() & cells["col"].notna().to_numpy(), answers)
    out = service.crosstab(sample_dataset, query, "count", Rules())
    assert (out.cells.loc[out.cells["col"].isin(["0", "1"]), "count"] == 0).all()


def test_an_answer_off_the_routing_turns_the_routing_off(sample_dataset):
    """The data has S2 answers; a dictionary claiming S3-S4 only is contradicted, so nothing is structural by
    it (the gate would refuse a structural cell that counts anyone: the view still opens)."""
    d = sample_dataset.dictionary
    claimed = dataclasses.replace(d, variables=tuple(
        dataclasses.replace(v, asked_at=("7", "8")) if v.name == SMOKED else v for v in d.variables))
    wrong = dataclasses.replace(sample_dataset, dictionary=claimed)
    assert service.routing(wrong.db_path, claimed, SMOKED) == frozenset()
    query = CrossTab(rows="stage", cols=SMOKED)
    cells, empty = view_cells(wrong, query)
    _, right = view_cells(sample_dataset, query)
    assert not empty.any() and right.any()  # stage alone leaves nothing structural; the true routing does
    out = service.crosstab(wrong, query, "count", Rules())
    assert not out.cells["reason"].eq(gate.NO_SUCH_PUPILS).any()


def test_asked_at_names_codes_of_the_stage_variable():
    stage = {"name": "stage", "role": "stage", "values": {1: "P4", 2: "S2"}}
    d = dd.parse({"variables": [stage, {"name": "q", "type": "flag", "asked_at": [2]}]})
    assert d["q"].asked_at == ("2",) and dd.parse(d.to_mapping())["q"].asked_at == ("2",)
    with pytest.raises(dd.DictionaryError, match="'q'.*'asked_at' names stage codes .* 9"):
        dd.parse({"variables": [stage, {"name": "q", "type": "flag", "asked_at": [2, 9]}]})
    with pytest.raises(dd.DictionaryError, match="no variable has the role 'stage'"):
        dd.parse({"variables": [{"name": "q", "type": "flag", "asked_at": [2]}]})
    with pytest.raises(dd.DictionaryError, match="'asked_at' must list"):
        dd.parse({"variables": [stage, {"name": "q", "type": "flag", "asked_at": "S2"}]})
