"""The dictionary review (issue 13, item 4): a dictionary as a table to correct, and the edited table read back.

The model is pure; the files here are written by the tests (pyreadstat, pandas), and a corrected
dictionary is checked by opening the same file again with its YAML.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from rcs_viz.data import dictionary as dictmod
from rcs_viz.engine import service
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.load import LoadError, load_dataset
from rcs_viz.engine.sql.views import CrossTab
from rcs_viz.features.dictionary import model, state
from rcs_viz.features.explore import state as explore_state

OPEN = Rules(threshold=1, min_base=1, secondary=False, perturbation=False)  # exact counts, to compare


def counts(ds, rows) -> dict:
    t = service.crosstab(ds, CrossTab(rows=rows), "count", OPEN)
    return {r: n for r, n in zip(t.cells["row_label"], t.cells["count"]) if r not in (None, "All")}


def survey_sav(path: Path, n: int = 240) -> pd.DataFrame:
    """A haven-style .sav: every variable 'scale', 9999 "Don't know" on a 0-10 scale, a guessed id and wave."""
    rng = np.random.default_rng(4)
    df = pd.DataFrame({
        "id": np.arange(n) + 1.0,
        "sex": rng.choice([1.0, 2.0], n),
        "like": rng.choice([0.0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 9999], n),
        "year": rng.choice([2021.0, 2023.0], n),
    })
    pyreadstat.write_sav(
        df, str(path), column_labels={"sex": "Sex", "like": "Likes school", "year": "Survey year"},
        variable_value_labels={"sex": {1.0: "Female", 2.0: "Male"},
                               "like": {0.0: "Not at all", 10.0: "Very much", 9999.0: "Don't know"}},
        variable_measure={c: "scale" for c in df.columns})
    return df


def weight_csv(path: Path, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(9)
    df = pd.DataFrame({"pupil_id": range(n), "school": rng.choice(["Hill", "Glen", "Burn"], n),
                       "hub": rng.choice(["North", "South"], n), "fsm": rng.integers(0, 2, n), "weight": rng.uniform(0.5, 2.0, n).round(3),
                       "attendance": rng.normal(92, 4, n).round(1)})
    df.to_csv(path, index=False)
    return df


@pytest.fixture
def sav(tmp_path):
    path = tmp_path / "survey.sav"
    df = survey_sav(path)
    return path, df, load_dataset(path, cache_dir=tmp_path / "db")


@pytest.fixture
def csv(tmp_path):
    path = tmp_path / "pupils.csv"
    df = weight_csv(path)
    return path, df, load_dataset(path, cache_dir=tmp_path / "db")


def rows_of(ds) -> list[dict]:
    return model.review_rows(ds.dictionary, ds.notes)


def row(rows, name) -> dict:
    return next(r for r in rows if r["name"] == name)


def reopen(path: Path, result: model.Result, tmp_path: Path):
    """The same file opened again with the downloaded YAML, as Overview → Open your own data does."""
    yaml_path = tmp_path / "corrected.yaml"
    yaml_path.write_text(dictmod.dumps(result.dictionary), encoding="utf-8")
    return load_dataset(path, yaml_path, cache_dir=tmp_path / "db")


# ------------------------------------------------------------------------------------------ dictionary -> table

def test_each_column_says_what_was_inferred_and_why(sav):
    _, _, ds = sav
    rows = rows_of(ds)
    assert [r["name"] for r in rows] == ["id", "sex", "like", "year"]
    assert set(rows[0]) == set(model.COLUMNS)
    year = row(rows, "year")
    assert (year["role"], year["confirmed"], year["evidence"]) == ("wave", False, "guessed: named 'year'")
    assert year["type"] == "ordinal" and year["values"] == "2021 · 2023"
    like = row(rows, "like")
    assert like["missing"] == "9999"
    assert like["missing_from"] == '9999 proposed: the file labels it "Don\'t know"'
    assert "proposed as missing" in like["why"] and "outweigh the SPSS measure level" in like["why"]
    assert like["values"].startswith("0 Not at all · 1 · 2")
    sex = row(rows, "sex")
    assert (sex["role"], sex["confirmed"], sex["evidence"]) == (model.NO_ROLE, None, "")  # nothing to confirm
    assert sex["values"] == "1 Female · 2 Male"


def test_a_declared_dictionary_shows_declared_roles_confirmed(sample_dataset):
    rows = rows_of(sample_dataset)
    with_role = [r for r in rows if r["role"] != model.NO_ROLE]
    assert with_role and all(r["confirmed"] and r["evidence"] == "declared" for r in with_role)
    assert all(r["why"] for r in rows)
    assert model.guesses(sample_dataset.dictionary) == []


def test_a_routed_question_says_the_stages_it_is_asked_at(sample_dataset):
    rows = {r["name"]: r for r in model.review_rows(sample_dataset.dictionary)}
    assert rows["smoked_vaped_last_month"]["asked_at"] == "S2, S3, S4"
    assert rows["wemwbs"]["asked_at"] == "S1, S2, S3, S4" and rows["bullied"]["asked_at"] == ""


def test_guesses_are_said_with_their_consequence(csv):
    _, _, ds = csv
    said = model.guesses(ds.dictionary)
    assert any("'weight' is guessed to be the survey weight (named 'weight')" in g
               and "does not weight any estimate" in g for g in said)
    assert any("'pupil_id' is guessed to be the respondent id" in g for g in said)
    assert "Role confirmed" in model.HOW_TO_CONFIRM and "guessed:" in model.HOW_TO_CONFIRM


def test_text_markers_are_named_where_they_were_found(tmp_path):
    path = tmp_path / "marks.csv"
    path.write_text("school,fsm\nHill,1\nGlen,NA\nBurn,0\nHill,NULL\n" * 5, encoding="utf-8")
    ds = load_dataset(path, cache_dir=tmp_path / "db")
    fsm = row(rows_of(ds), "fsm")
    assert "(missing_text)" in fsm["missing_from"] and "'NA'" in fsm["missing_from"]


# ------------------------------------------------------------------------------------------ table -> dictionary

def test_an_unedited_table_gives_the_same_dictionary_and_no_changes(sav, sample_dataset):
    for ds in (sav[2], sample_dataset):
        result = model.apply(ds.dictionary, rows_of(ds), ds.notes)
        assert result.problems == () and result.changes == () and not result.changed
        assert result.dictionary.variables == ds.dictionary.variables


def test_confirming_a_guessed_weight_lets_it_weight_after_reopening(csv, tmp_path):
    path, _, ds = csv
    rows = rows_of(ds)
    row(rows, "weight")["confirmed"] = True
    result = model.apply(ds.dictionary, rows, ds.notes)
    assert result.changes == ("'weight': guessed role weight (survey weight) confirmed.",)
    assert not result.dictionary["weight"].role_guessed
    assert result.dictionary["pupil_id"].role_guessed  # untouched guesses stay guesses
    again = reopen(path, result, tmp_path)
    assert again.dictionary["weight"].role == "weight" and not again.dictionary["weight"].role_guessed
    service.crosstab(again, CrossTab(rows="school", weight="weight"), "row_pct", OPEN)  # no longer refused


def test_rejecting_a_guess_makes_an_ordinary_column(csv, tmp_path):
    path, _, ds = csv
    rows = rows_of(ds)
    row(rows, "weight")["role"] = model.NO_ROLE
    result = model.apply(ds.dictionary, rows, ds.notes)
    assert result.dictionary["weight"].role is None and result.dictionary["weight"].guessed == ""
    assert "'weight': guessed role weight rejected" in result.changes[0]
    again = reopen(path, result, tmp_path)
    assert again.dictionary.by_role("weight") is None and "weight" in again.dictionary


def test_a_proposed_missing_code_taken_back_counts_as_an_answer_with_its_label(sav, tmp_path):
    path, df, ds = sav
    rows = rows_of(ds)
    assert "Don't know" not in counts(ds, "like")
    row(rows, "like")["missing"] = ""
    result = model.apply(ds.dictionary, rows, ds.notes)
    assert result.changes == ("'like': 9999 (Don't know) now counts as an answer.",)
    assert result.dictionary["like"].values[-1] == ("9999", "Don't know")
    again = reopen(path, result, tmp_path)
    assert counts(again, "like")["Don't know"] == (df.like == 9999).sum()


def test_edits_to_label_type_role_and_missing_codes_reopen_as_edited(sav, tmp_path):
    path, df, ds = sav
    rows = rows_of(ds)
    row(rows, "sex")["label"] = "Pupil's sex"
    row(rows, "sex")["missing"] = "2"
    row(rows, "year")["confirmed"] = True
    row(rows, "id")["confirmed"] = True
    row(rows, "like")["type"] = "numeric"
    result = model.apply(ds.dictionary, rows, ds.notes)
    assert result.problems == ()
    new = result.dictionary
    assert new["sex"].label == "Pupil's sex" and new["sex"].values == (("1", "Female"),)
    assert new["like"].type == "numeric" and new["like"].values == () and new["like"].missing == ("9999",)
    assert not new.guesses()
    again = reopen(path, result, tmp_path)
    assert again.dictionary["sex"].label == "Pupil's sex"
    assert counts(again, "sex") == {"Female": (df.sex == 1).sum(), "No answer": (df.sex == 2).sum()}
    mean = service.crosstab(again, CrossTab(rows="sex", value="like"), "mean", OPEN)
    assert mean.cells["value"].max() <= 10  # 9999 is still no answer


def test_a_role_chosen_here_is_declared(csv):
    _, _, ds = csv
    rows = rows_of(ds)
    row(rows, "hub")["role"] = "cluster"
    result = model.apply(ds.dictionary, rows, ds.notes)
    assert result.dictionary["hub"].role == "cluster" and not result.dictionary["hub"].role_guessed
    assert "chosen here" in result.changes[0]


@pytest.mark.parametrize("name, column, value, words", [
    ("school", "role", "weight", "must be numeric"),
    ("attendance", "role", "weight", "each role goes to one column"),
    ("attendance", "role", "school", "must be categorical or ordinal"),
    ("school", "type", "number", "'number' is not a type"),
    ("school", "role", "headteacher", "'headteacher' is not a role"),
    ("fsm", "missing", "\u2205", "is reserved"),
    ("fsm", "missing", ",".join(str(i) for i in range(60)), "at most 50"),
    ("school", "label", "x" * 300, "longer than 200"),
])
def test_a_bad_edit_is_said_in_plain_words_and_gives_no_dictionary(csv, name, column, value, words):
    _, _, ds = csv
    rows = rows_of(ds)
    row(rows, name)[column] = value
    result = model.apply(ds.dictionary, rows, ds.notes)
    assert result.dictionary is None
    assert any(words in p for p in result.problems), result.problems


def test_a_mangled_table_never_raises(csv):
    _, _, ds = csv
    rows = rows_of(ds)
    for r in rows:
        r.update(label=None, type=float("nan"), role=None, confirmed=pd.NA, missing=float("nan"))
    result = model.apply(ds.dictionary, rows, ds.notes)  # empties fall back: name as label, type kept, no role
    assert result.problems == ()
    assert all(v.label == v.name and v.role is None for v in result.dictionary.variables)
    assert model.apply(ds.dictionary, rows[1:], ds.notes).problems[0].startswith("Rows are missing for 'pupil_id'")
    extra = model.apply(ds.dictionary, rows + [{"name": "<b>x</b>"}, rows[0]], ds.notes).problems
    assert any("not a column of this data" in p for p in extra) and any("has two rows" in p for p in extra)


def test_flag_edits_keep_the_yaml_readable(csv, tmp_path):
    path, _, ds = csv
    rows = rows_of(ds)
    row(rows, "fsm")["type"] = "categorical"
    row(rows, "fsm")["missing"] = "1"
    result = model.apply(ds.dictionary, rows, ds.notes)
    assert result.dictionary["fsm"].positive == () and result.dictionary["fsm"].values == (("0", "No"),)
    again = reopen(path, result, tmp_path)
    assert again.dictionary["fsm"].type == "categorical"


def test_a_type_that_does_not_fit_the_data_is_refused_on_reopening_not_before(csv, tmp_path):
    path, _, ds = csv
    rows = rows_of(ds)
    row(rows, "hub")["type"] = "numeric"
    result = model.apply(ds.dictionary, rows, ds.notes)
    assert result.dictionary is not None
    with pytest.raises(LoadError, match="should be numeric"):
        reopen(path, result, tmp_path)


def test_parse_codes():
    assert model.parse_codes("-9, 9999.0; 'n/a', \"-\", -9") == (["-9", "9999", "n/a", "-"], [])
    assert model.parse_codes(None) == ([], [])
    assert model.parse_codes(" , ;") == ([], [])


def test_the_source_file_is_never_changed(csv, tmp_path):
    path, _, ds = csv
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    rows = rows_of(ds)
    row(rows, "weight")["confirmed"] = True
    reopen(path, model.apply(ds.dictionary, rows, ds.notes), tmp_path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


# ------------------------------------------------------------------------------------------ preview and link

def test_the_preview_counts_categories_and_averages_numbers(csv):
    _, _, ds = csv
    d = ds.dictionary
    assert "pupil_id" not in model.preview_options(d)
    assert model.preview_question(d, "school") == (CrossTab(rows="school"), "count")
    assert model.preview_question(d, "attendance") == (CrossTab(rows="school", value="attendance"), "mean")
    assert "respondent id" in model.preview_question(d, "pupil_id")


def test_the_link_names_the_previewed_column(csv):
    _, _, ds = csv
    d = ds.dictionary
    assert state.parse({}, d) == (state.DictionaryView("hub"), [])
    view, notes = state.parse({"var": ["pupil_id"], "rows": ["x"]}, d)
    assert view.var == "hub" and "preview can count" in notes[0] and len(notes) == 2
    view, _ = state.parse({"var": ["fsm"]}, d)
    assert state.to_params(view, state.default_view(d)) == {"var": "fsm"}


def test_explore_never_weights_by_a_guessed_weight(csv):
    _, _, ds = csv
    view, notes = explore_state.parse({"weighted": ["1"]}, ds.dictionary, lambda n: service.categories(ds, n))
    assert not view.weighted and view.query(ds.dictionary).weight is None
    assert any("only guessed to be the survey weight" in n for n in notes)
