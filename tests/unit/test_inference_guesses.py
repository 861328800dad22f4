"""Issue 13: no silent wrong guess. One test (or a few) for each problem found on real files.

Every file here is written by the test (pyreadstat, pandas), shaped like the
real file that showed the problem; ``tests/unit/test_realfiles.py`` checks the
real files themselves.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
import yaml

from rcs_viz.cli import main
from rcs_viz.data import dictionary as dictmod
from rcs_viz.engine import service
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.infer import non_answer_codes
from rcs_viz.engine.load import LoadError, load_dataset
from rcs_viz.engine.sql.views import CrossTab, QueryError

OPEN = Rules(threshold=1, min_base=1, secondary=False, perturbation=False)  # exact counts, to compare


def counts(ds, rows, cols=None, **kw) -> dict:
    """{(row label, col label): count} of the shown cells, margins included."""
    t = service.crosstab(ds, CrossTab(rows=rows, cols=cols, **kw), "count", OPEN)
    return {(r, c): n for r, c, n in zip(t.cells["row_label"], t.cells["col_label"], t.cells["count"])}


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- a haven-written .sav

def haven_sav(path: Path, n: int = 200) -> pd.DataFrame:
    """Like the British Election Study extract: written by R's haven, so every variable is "scale",
    and "Don't know" is the code 9999."""
    rng = np.random.default_rng(13)
    df = pd.DataFrame({
        "id": np.arange(n) + 1.0,
        "gender": rng.choice([1.0, 2.0], n),
        "likeLeader": rng.choice([0.0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 9999], n),
        "year": rng.choice([2019.0, 2023.0], n),
        "age": rng.integers(18, 90, n).astype(float),
    })
    df.loc[[3, 7], "age"] = -9.0
    like = {float(k): str(k) for k in range(1, 10)} | {0.0: "Strongly dislike", 10.0: "Strongly like",
                                                      9999.0: "Don't know"}
    pyreadstat.write_sav(
        df, str(path),
        column_labels={"gender": "Gender", "likeLeader": "Like or dislike the leader", "year": "Survey year"},
        variable_value_labels={"gender": {1.0: "Male", 2.0: "Female"}, "likeLeader": like,
                               "age": {-9.0: "Not Asked", -8.0: "Skipped"}},
        variable_measure={c: "scale" for c in df.columns},
    )
    return df


def test_value_labels_beat_the_scale_measure_level_of_a_haven_file(tmp_path):
    df = haven_sav(tmp_path / "bes.sav")
    ds = load_dataset(tmp_path / "bes.sav", cache_dir=tmp_path / "cache")
    d = ds.dictionary
    assert d["gender"].type == "categorical" and d["gender"].values == (("1", "Male"), ("2", "Female"))
    assert d["likeLeader"].type == "ordinal" and [c for c, _ in d["likeLeader"].values] == [str(k) for k in range(11)]
    assert d["age"].type == "numeric"  # labels on its non-answers only: still a number
    assert any("outweigh the SPSS measure level 'scale'" in n and "'gender'" in n for n in ds.notes)
    # gender can be a row now, and the counts are the file's
    got = counts(ds, "gender")
    assert got[("Male", None)] == (df.gender == 1).sum() and got[("Female", None)] == (df.gender == 2).sum()


def test_labelled_non_answers_are_proposed_as_missing_with_a_note(tmp_path):
    df = haven_sav(tmp_path / "bes.sav")
    ds = load_dataset(tmp_path / "bes.sav", cache_dir=tmp_path / "cache")
    d = ds.dictionary
    assert d["likeLeader"].missing == ("9999",) and "9999" not in d["likeLeader"].value_labels
    assert set(d["age"].missing) == {"-9", "-8"}
    note = next(n for n in ds.notes if n.startswith("Labelled as non-answers"))
    assert "9999 \"Don't know\" in 'likeLeader'" in note and "remove it from the variable's 'missing'" in note
    # the Don't knows are "No answer", not a category of their own
    got = counts(ds, "likeLeader")
    assert got[(dictmod.MISSING_LABEL, None)] == (df.likeLeader == 9999).sum()


def test_the_mean_leaves_the_dont_know_code_out(tmp_path):
    """The issue's figure: a mean that counted 9999 "Don't know" as a score (309.86 instead of 4.01)."""
    df = haven_sav(tmp_path / "bes.sav")
    ds = load_dataset(tmp_path / "bes.sav", cache_dir=tmp_path / "cache")
    mapping = ds.dictionary.to_mapping()
    for v in mapping["variables"]:
        if v["name"] == "likeLeader":
            v["type"] = "numeric"  # what a user does to average a 0-10 score; 'missing: [9999]' stays
    (tmp_path / "bes.yaml").write_text(yaml.safe_dump(mapping, sort_keys=False))
    ds = load_dataset(tmp_path / "bes.sav", tmp_path / "bes.yaml", cache_dir=tmp_path / "cache")
    t = service.crosstab(ds, CrossTab(rows="gender", value="likeLeader"), "mean", OPEN)
    mean = t.cells.loc[t.cells["row"].isna(), "value"].iloc[0]
    answered = df.likeLeader[df.likeLeader != 9999]
    assert mean == pytest.approx(answered.mean()) and df.likeLeader.mean() > 100 * mean / 10


def test_a_dictionary_that_counts_a_labelled_non_answer_is_told_so(tmp_path):
    haven_sav(tmp_path / "bes.sav")
    (tmp_path / "d.yaml").write_text("variables:\n  - {name: likeLeader, type: numeric}\n  - {name: gender}\n")
    ds = load_dataset(tmp_path / "bes.sav", tmp_path / "d.yaml", cache_dir=tmp_path / "cache")
    assert ds.dictionary["likeLeader"].missing == ()  # the dictionary decides ...
    assert any("counts as answers" in n and "'likeLeader' 9999" in n for n in ds.notes)  # ... and is told


def test_a_year_or_wave_column_is_a_category_whatever_its_measure_level(tmp_path):
    df = haven_sav(tmp_path / "bes.sav")
    ds = load_dataset(tmp_path / "bes.sav", cache_dir=tmp_path / "cache")
    year = ds.dictionary["year"]
    assert year.role == "wave" and year.type == "ordinal" and year.guessed == "named 'year'"
    got = counts(ds, "year")
    assert got[("2019", None)] == (df.year == 2019).sum()


def test_a_birth_year_is_not_taken_for_the_wave(tmp_path):
    pd.DataFrame({"year": np.arange(1950, 2010), "q": [1, 2] * 30}).to_csv(tmp_path / "p.csv", index=False)
    ds = load_dataset(tmp_path / "p.csv", cache_dir=tmp_path / "cache")
    assert ds.dictionary["year"].role is None
    assert any("'year' is not used as the survey wave: it has 60 distinct values" in n for n in ds.notes)


@pytest.mark.parametrize("label, proposed", [
    ("Don't know", True), ("Don\u2019t know", True), ("\u00a0Don't know", True), ("DK", True), ("dk,na", True),
    ("Refused", True), ("Not applicable", True), ("Prefer not to say", True), ("Prefer not to answer", True),
    ("IAP", True), ("NA", True), ("No answer", True), ("Not Asked", True), ("Skipped", True),
    ("Can't remember", True), ("Prefer not to say/ Don't know", True),
    ("No", False), ("None", False), ("Not sure", False), ("Other", False), ("Not at all", False),
    ("Never", False), ("Not selected", False), ("No, did not vote", False),
])
def test_non_answer_labels(label, proposed):
    assert ("8" in non_answer_codes({"1": "Yes", "2": "No", "8": label})) is proposed


def test_negative_and_9999_style_codes_are_proposed_only_beside_ordinary_codes():
    assert set(non_answer_codes({"-1": "Nothing", "1": "A", "2": "B", "99": "Ninety-nine", "9999": "x"})) == \
        {"-1", "99", "9999"}
    assert non_answer_codes({"-2": "Disagree", "-1": "Slightly", "0": "Neither", "1": "Agree"}) == {}
    assert non_answer_codes({"1": "1", "97": "97", "89": "89 or older"}) == {}  # 97 is not far above 89


# --------------------------------------------------------------------------- a column named 'weight'

def body_weights(path: Path, n: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"sex": rng.choice(["female", "male"], n), "weight": rng.normal(70, 12, n).round(1),
                       "height": rng.normal(170, 9, n).round(1)})
    df.to_csv(path, index=False)
    return df


def test_a_column_named_weight_is_a_guess_and_never_weights_an_estimate(tmp_path, capsys):
    body_weights(tmp_path / "p.csv")
    ds = load_dataset(tmp_path / "p.csv", cache_dir=tmp_path / "cache")
    w = ds.dictionary["weight"]
    assert w.role == "weight" and w.role_guessed and w.guessed == "named 'weight'"
    assert any("'weight' is not used to weight estimates" in n for n in ds.notes)
    with pytest.raises(QueryError, match="only guessed to be the survey weight"):
        service.crosstab(ds, CrossTab(rows="sex", weight="weight"), "row_pct", OPEN)
    code, out, err = run(capsys, "crosstab", tmp_path / "p.csv", "--rows", "sex", "--weighted")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "only guessed to be the survey weight (named 'weight')" in err and "role: weight" in err
    # until confirmed it is a number like any other: a body weight can be averaged
    assert "weight" in [v.name for vs in ds.dictionary.groups().values() for v in vs]
    t = service.crosstab(ds, CrossTab(rows="sex", value="weight"), "mean", OPEN)
    assert t.cells["value"].notna().all()


def test_a_confirmed_weight_weights(tmp_path):
    df = body_weights(tmp_path / "p.csv")
    ds = load_dataset(tmp_path / "p.csv", cache_dir=tmp_path / "cache")
    dictmod.write(ds.dictionary, tmp_path / "d.yaml")
    text = (tmp_path / "d.yaml").read_text()
    assert "guessed: named 'weight'" in text
    (tmp_path / "d.yaml").write_text(re.sub(r"\n *guessed: named 'weight'", "", text))  # the user confirms
    ds = load_dataset(tmp_path / "p.csv", tmp_path / "d.yaml", cache_dir=tmp_path / "cache")
    assert not ds.dictionary["weight"].role_guessed
    assert "weight" not in [v.name for vs in ds.dictionary.groups().values() for v in vs]
    t = service.crosstab(ds, CrossTab(rows="sex", value="height", weight="weight"), "mean", OPEN)
    female = df[df.sex == "female"]
    got = t.cells.loc[t.cells["row"] == "female", "value"].iloc[0]
    assert got == pytest.approx(np.average(female.height, weights=female.weight))


def test_guessed_must_go_with_a_role(tmp_path):
    with pytest.raises(dictmod.DictionaryError, match="'guessed' marks a guessed role"):
        dictmod.parse({"variables": [{"name": "wt", "guessed": "named 'wt'"}]})
    d = dictmod.parse({"variables": [{"name": "wt", "type": "numeric", "role": "weight", "guessed": True}]})
    assert d["wt"].role_guessed and dictmod.parse(d.to_mapping())["wt"].guessed == "guessed"


# --------------------------------------------------------------------------- the respondent id

@pytest.fixture
def with_ids(tmp_path) -> Path:
    pd.DataFrame({"id": range(1, 41), "sex": ["f", "m"] * 20}).to_csv(tmp_path / "ids.csv", index=False)
    return tmp_path / "ids.csv"


def test_the_id_is_never_rows_columns_a_panel_or_a_filter(with_ids, tmp_path, capsys):
    ds = load_dataset(with_ids, cache_dir=tmp_path / "cache")
    assert ds.dictionary["id"].role == "id"
    for query in (CrossTab(rows="id"), CrossTab(rows="sex", cols="id"), CrossTab(rows="sex", panel="id")):
        with pytest.raises(QueryError, match="'id' is the respondent id"):
            service.crosstab(ds, query, "count", OPEN)
    with pytest.raises(QueryError, match="respondent id"):
        service.crosstab(ds, CrossTab(rows="sex", filters=(("id", ("1",)),)), "count", OPEN)
    for flag in ("--rows", "--cols", "--panel"):
        args = ["--rows", "sex", flag, "id"] if flag != "--rows" else ["--rows", "id"]
        code, out, err = run(capsys, "crosstab", with_ids, *args)
        assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
        assert f"{flag}: 'id' is the respondent id" in err


def test_a_guessed_id_with_repeats_is_dropped_as_the_id_not_a_reason_to_refuse(tmp_path):
    frame = pd.DataFrame({"id": list(range(1, 40)) + [7], "sex": ["f", "m"] * 20})
    frame.to_csv(tmp_path / "p.csv", index=False)
    ds = load_dataset(tmp_path / "p.csv", cache_dir=tmp_path / "cache")
    assert ds.rows == 40 and ds.dictionary["id"].role is None and ds.dictionary.by_role("id") is None
    note = next(n for n in ds.notes if n.startswith("'id' looks like the respondent id by its name"))
    assert "1 id appears more than once" in note and "'7' appears 2 times" in note and "role: id" in note
    # a saved inferred dictionary whose id is still a guess: the same
    d = dictmod.parse({"variables": [{"name": "id", "role": "id", "guessed": "named 'id'"}, {"name": "sex"}]})
    dictmod.write(d, tmp_path / "d.yaml")
    ds = load_dataset(tmp_path / "p.csv", tmp_path / "d.yaml", cache_dir=tmp_path / "cache")
    assert ds.dictionary.by_role("id") is None
    assert any("only guessed to be the respondent id (named 'id')" in n for n in ds.notes)
    # a declared id with repeats is still refused: the data owner said it is the id
    (tmp_path / "d.yaml").write_text("variables:\n  - {name: id, role: id}\n  - {name: sex}\n")
    with pytest.raises(LoadError, match="appears more than once"):
        load_dataset(tmp_path / "p.csv", tmp_path / "d.yaml", cache_dir=tmp_path / "cache")


def test_a_guessed_id_with_blanks_is_dropped_too(tmp_path):
    pd.DataFrame({"ID": [1, 2, None, 4], "q": ["a", "b", "a", "b"]}).to_csv(tmp_path / "p.csv", index=False)
    ds = load_dataset(tmp_path / "p.csv", cache_dir=tmp_path / "cache")
    assert ds.dictionary["ID"].role is None and any("it is empty in 1 row" in n for n in ds.notes)


# --------------------------------------------------------------------------- text files

def test_missing_markers_in_text_are_no_answer(tmp_path, capsys):
    rows = ["sex,state,score", "f,NA,1", "m,CA,NULL", "f,N/A,2", "m,-,3", "f,WA,n/a", "m, NA ,4", "f,CA,#N/A"]
    (tmp_path / "p.csv").write_text("\n".join(rows) + "\n")
    ds = load_dataset(tmp_path / "p.csv", cache_dir=tmp_path / "cache")
    assert ds.dictionary["state"].values == (("CA", "CA"), ("WA", "WA"))
    assert ds.dictionary["score"].type in ("ordinal", "numeric")
    got = counts(ds, "state")
    assert got[(dictmod.MISSING_LABEL, None)] == 4 and got[("CA", None)] == 2
    note = next(n for n in ds.notes if n.startswith("Text read as no answer"))
    assert "'NA'" in note and "'NULL'" in note and "'state'" in note and "missing_text" in note
    code, out, err = run(capsys, "crosstab", tmp_path / "p.csv", "--rows", "state", "--no-missing",
                         "--threshold", "1", "--perturbation", "off")
    assert code == 0, err
    cells = json.loads(out)["cells"]
    assert {c["row"] for c in cells} == {"CA", "WA", "All"}
    assert next(c["count"] for c in cells if c["row"] == "All") == 3


def test_missing_text_is_set_by_the_dictionary(tmp_path):
    (tmp_path / "p.csv").write_text("state\nNA\nCA\n-\nnone\n")
    (tmp_path / "d.yaml").write_text("missing_text: [none]\nvariables:\n  - {name: state}\n")
    ds = load_dataset(tmp_path / "p.csv", tmp_path / "d.yaml", cache_dir=tmp_path / "cache")
    got = counts(ds, "state")
    assert got[("NA", None)] == 1 and got[("-", None)] == 1 and got[(dictmod.MISSING_LABEL, None)] == 1
    assert ds.dictionary.missing_text == ("none",) and ds.dictionary.to_mapping()["missing_text"] == ["none"]
    (tmp_path / "d.yaml").write_text("missing_text: []\nvariables:\n  - {name: state}\n")
    ds = load_dataset(tmp_path / "p.csv", tmp_path / "d.yaml", cache_dir=tmp_path / "cache")
    assert dictmod.MISSING_LABEL not in {r for r, _ in counts(ds, "state")}


def test_missing_markers_in_excel_too(tmp_path):
    pd.DataFrame({"state": ["NA", "CA", "#N/A", "CA"], "n": [1, 2, 3, 4]}).to_excel(tmp_path / "p.xlsx", index=False)
    ds = load_dataset(tmp_path / "p.xlsx", cache_dir=tmp_path / "cache")
    assert counts(ds, "state")[(dictmod.MISSING_LABEL, None)] == 2
    assert any(n.startswith("Text read as no answer") and "'#N/A'" in n for n in ds.notes)


def test_spaces_around_values_are_merged_and_the_note_says_so(tmp_path):
    (tmp_path / "p.csv").write_text("cgpa,course\n3.50 - 4.00,BCS\n3.50 - 4.00 ,BCS\n 3.00 - 3.49,Law\n")
    ds = load_dataset(tmp_path / "p.csv", cache_dir=tmp_path / "cache")
    assert counts(ds, "cgpa")[("3.50 - 4.00", None)] == 2
    note = next(n for n in ds.notes if n.startswith("Spaces at the start or end of values were removed"))
    assert "2 value(s) in 'cgpa'" in note and "is read as" in note


def test_a_workbook_named_csv_and_a_sav_named_dat_are_read_by_content(tmp_path):
    pd.DataFrame({"sex": ["f", "m", "f"]}).to_excel(tmp_path / "book.xlsx", index=False)
    (tmp_path / "book.csv").write_bytes((tmp_path / "book.xlsx").read_bytes())
    ds = load_dataset(tmp_path / "book.csv", cache_dir=tmp_path / "cache")
    assert ds.rows == 3 and any("is an Excel .xlsx workbook although its name ends in '.csv'" in n for n in ds.notes)
    haven_sav(tmp_path / "x.sav")
    (tmp_path / "x.dat").write_bytes((tmp_path / "x.sav").read_bytes())
    ds = load_dataset(tmp_path / "x.dat", cache_dir=tmp_path / "cache")
    assert ds.dictionary["gender"].values == (("1", "Male"), ("2", "Female"))


def test_other_binary_files_get_advice_about_what_they_are_not_about_utf16(tmp_path):
    (tmp_path / "old.csv").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    with pytest.raises(LoadError) as info:
        load_dataset(tmp_path / "old.csv", cache_dir=tmp_path / "cache")
    assert "old Excel .xls workbook" in info.value.message and "UTF-16" not in info.value.message
    (tmp_path / "odd.csv").write_bytes(b"sex,n\nf,1\n\x00\x01\x02" * 3)
    with pytest.raises(LoadError) as info:
        load_dataset(tmp_path / "odd.csv", cache_dir=tmp_path / "cache")
    assert "binary data" in info.value.message and "UTF-16" not in info.value.message


# --------------------------------------------------------------------------- SPSS and Stata labels

def test_a_declared_flag_keeps_the_files_value_labels(tmp_path):
    df = pd.DataFrame({"female": [0.0, 1, 1, 0, 1], "q": [1.0, 2, 1, 2, 1]})
    pyreadstat.write_sav(df, str(tmp_path / "f.sav"), column_labels={"female": "Sex"},
                         variable_value_labels={"female": {0.0: "male", 1.0: "female"}, "q": {1.0: "A", 2.0: "B"}})
    (tmp_path / "d.yaml").write_text("variables:\n  - {name: female, type: flag}\n  - {name: q, label: Q}\n")
    ds = load_dataset(tmp_path / "f.sav", tmp_path / "d.yaml", cache_dir=tmp_path / "cache")
    female = ds.dictionary["female"]
    assert female.values == (("0", "male"), ("1", "female")) and female.positive == ("1",) and female.label == "Sex"
    assert counts(ds, "female")[("female", None)] == 3
    notes = "\n".join(ds.notes)
    assert "Value labels missing from the dictionary were taken from f.sav for 'female', 'q'" in notes
    assert "Variable labels missing from the dictionary were taken from f.sav for 'female'." in notes
    # a flag that declares its own labels keeps them, and the note does not claim otherwise
    (tmp_path / "d.yaml").write_text("variables:\n  - {name: female, label: F, type: flag, values: {0: M, 1: F}}\n")
    ds = load_dataset(tmp_path / "f.sav", tmp_path / "d.yaml", cache_dir=tmp_path / "cache")
    assert ds.dictionary["female"].values == (("0", "M"), ("1", "F"))
    assert not any("taken from f.sav" in n for n in ds.notes)


def test_user_missing_values_the_file_declares_are_no_answer(tmp_path):
    df = pd.DataFrame({"q": [1.0, 2, 8, 9, 1]})
    pyreadstat.write_sav(df, str(tmp_path / "m.sav"), variable_value_labels={"q": {1.0: "Yes", 2.0: "No"}},
                         missing_ranges={"q": [8.0, 9.0]})
    ds = load_dataset(tmp_path / "m.sav", cache_dir=tmp_path / "cache")
    assert counts(ds, "q")[(dictmod.MISSING_LABEL, None)] == 2
    (tmp_path / "d.yaml").write_text("variables:\n  - {name: q, values: {1: Yes, 2: No}}\n")
    ds = load_dataset(tmp_path / "m.sav", tmp_path / "d.yaml", cache_dir=tmp_path / "cache")
    assert counts(ds, "q")[(dictmod.MISSING_LABEL, None)] == 2
    assert any("declares as missing were read as no answer in 'q'" in n for n in ds.notes)


def test_stata_files_are_read_with_their_labels(tmp_path):
    df = pd.DataFrame({"sex": [1, 2, 2, 1, 2], "happy": [1, 3, 2, 3, 9], "income": [1.5, 2.5, 3.5, 4.5, 5.5]})
    pyreadstat.write_dta(df, str(tmp_path / "s.dta"), column_labels={"sex": "Sex of pupil"},
                         variable_value_labels={"sex": {1: "Boy", 2: "Girl"},
                                                "happy": {1: "Not happy", 2: "Fairly", 3: "Very", 9: "Refused"}})
    ds = load_dataset(tmp_path / "s.dta", cache_dir=tmp_path / "cache")
    d = ds.dictionary
    assert d["sex"].label == "Sex of pupil" and d["sex"].values == (("1", "Boy"), ("2", "Girl"))
    assert d["happy"].type == "ordinal" and d["happy"].missing == ("9",) and d["income"].type == "numeric"
    assert "the Stata file's labels" in ds.notes[0]
    assert counts(ds, "sex") == {("Boy", None): 2, ("Girl", None): 3, ("All", None): 5}


# --------------------------------------------------------------------------- YAML 1.1 booleans

def test_yes_and_no_in_a_dictionary_stay_words(tmp_path):
    (tmp_path / "p.csv").write_text("smoker,answer\n0,yes\n1,no\n1,yes\n")
    (tmp_path / "d.yaml").write_text(
        "dataset: {title: T, synthetic: no}\n"
        "variables:\n  - {name: smoker, values: {0: No, 1: Yes}}\n"
        "  - {name: answer, values: {yes: Agree, no: Disagree}, positive: [yes]}\n"
    )
    ds = load_dataset(tmp_path / "p.csv", tmp_path / "d.yaml", cache_dir=tmp_path / "cache")
    d = ds.dictionary
    assert d.synthetic is False
    assert d["smoker"].values == (("0", "No"), ("1", "Yes"))
    assert d["answer"].values == (("yes", "Agree"), ("no", "Disagree")) and d["answer"].positive == ("yes",)
    assert counts(ds, "smoker", "answer")[("Yes", "Agree")] == 1
    assert dictmod.load_yaml("a: on\nb: true\nc: False") == {"a": "on", "b": True, "c": False}


def test_a_written_dictionary_reads_back_the_same(tmp_path):
    d = dictmod.parse({"missing_text": ["NA", "none"], "variables": [
        {"name": "smoker", "values": {0: "No", 1: "Yes"}}, {"name": "f", "type": "flag"},
        {"name": "wt", "type": "numeric", "role": "weight", "guessed": "named 'wt'"}]})
    dictmod.write(d, tmp_path / "d.yaml")
    again = dictmod.read(tmp_path / "d.yaml")
    assert again.variables == d.variables and again.missing_text == ("NA", "none")
    assert "values" not in next(v for v in again.to_mapping()["variables"] if v["name"] == "f")


# --------------------------------------------------------------------------- --where and commas

def test_where_takes_labels_with_commas_quoted_or_by_code(tmp_path, capsys):
    (tmp_path / "p.csv").write_text("party,sex\n1,f\n2,m\n3,f\n1,m\n2,f\n")
    (tmp_path / "d.yaml").write_text(
        'variables:\n  - {name: party, values: {1: "Labour, Co-op", 2: Green, 3: "Other, any"}}\n  - {name: sex}\n'
    )
    base = ["crosstab", tmp_path / "p.csv", "--dictionary", tmp_path / "d.yaml", "--rows", "sex",
            "--threshold", "1", "--perturbation", "off"]

    def total(*where):
        code, out, err = run(capsys, *base, *[a for w in where for a in ("--where", w)])
        assert code == 0, err
        doc = json.loads(out)
        return next(c["count"] for c in doc["cells"] if c["row"] == "All"), doc["filters"]

    assert total('party="Labour, Co-op",Green') == (4, ["party: Labour, Co-op, Green"])
    assert total("party=Labour, Co-op") == (2, ["party: Labour, Co-op"])  # a whole label, unquoted
    assert total('party="Labour, Co-op","Other, any"')[0] == 3
    assert total("party=1,3")[0] == 3  # by code
    assert total("party=Green, 1")[0] == 4  # a space after the comma is fine
    code, _, err = run(capsys, *base, "--where", 'party="Labour, Co-op')
    assert code == 2 and "not closed" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, *base, "--where", "party=Labour")
    assert code == 2 and "'Labour' is not a value of 'party'" in err


def test_where_help_says_how_to_quote(capsys):
    with pytest.raises(SystemExit):
        main(["crosstab", "--help"])
    out = capsys.readouterr().out
    assert "double quotes" in out and "code" in out


# --------------------------------------------------------------------------- places with unusual names

def test_a_mostly_hidden_table_filtered_to_an_undeclared_place_hints_at_declaring_roles(tmp_path):
    rng = np.random.default_rng(2)
    units = {f"hub{h}": [f"unit{h}{k}" for k in range(6)] for h in range(5)}
    rows = [(hub, unit) for hub, us in units.items() for unit in us for _ in range(rng.integers(20, 30))]
    pd.DataFrame(rows, columns=["hub", "unit"]).to_csv(tmp_path / "p.csv", index=False)
    ds = load_dataset(tmp_path / "p.csv", cache_dir=tmp_path / "cache")
    assert ds.dictionary.by_role("school") is None and ds.dictionary.by_role("cluster") is None
    rules = Rules(threshold=10, min_base=10, secondary=True, perturbation=False)
    t = service.crosstab(ds, CrossTab(rows="unit", filters=(("hub", ("hub0",)),)), "count", rules)
    assert t.summary["mostly_protected"]
    hint = next(n for n in t.notes if n.startswith("If 'hub' is a place"))
    assert "declare the place columns' roles (cpp, cluster, school)" in hint
    # declared, the filter keeps the table to the hub's own units: nothing is hidden
    (tmp_path / "d.yaml").write_text("variables:\n  - {name: hub, role: cluster}\n  - {name: unit, role: school}\n")
    ds = load_dataset(tmp_path / "p.csv", tmp_path / "d.yaml", cache_dir=tmp_path / "cache")
    t = service.crosstab(ds, CrossTab(rows="unit", filters=(("hub", ("hub0",)),)), "count", rules)
    assert not t.summary["mostly_protected"] and not any("is a place" in n for n in t.notes)


def test_scottish_place_names_are_guessed(tmp_path):
    pd.DataFrame({"la_code": ["S1", "S2"] * 5, "asg": ["A", "B"] * 5, "seed_code": list("abcdeabcde")}) \
        .to_csv(tmp_path / "p.csv", index=False)
    d = load_dataset(tmp_path / "p.csv", cache_dir=tmp_path / "cache").dictionary
    assert (d["la_code"].role, d["asg"].role, d["seed_code"].role) == ("cpp", "cluster", "school")
    assert all(v.role_guessed for v in (d["la_code"], d["asg"], d["seed_code"]))
