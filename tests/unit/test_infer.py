"""rcs_viz.engine.infer: roles, types, labels and notes guessed from the data (and a .sav's own labels)."""

from __future__ import annotations

from types import SimpleNamespace

import duckdb
import numpy as np
import pandas as pd
import pyreadstat
import pytest

from rcs_viz.engine.infer import ColumnSummary, guess_roles, infer_dictionary, summarise


def relation(df: pd.DataFrame, as_text: bool = False):
    """A DuckDB relation over df; as_text mimics a CSV read with every column VARCHAR."""
    con = duckdb.connect()
    if as_text:
        df = df.astype(object).where(df.notna(), None)
        df = df.apply(lambda col: col.map(lambda v: None if v is None else str(v)))
    con.register("df", df)
    return con, con.sql("SELECT * FROM df")


def pupils(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame({
        "Pupil_ID": np.arange(n) + 1,
        "Survey Year": rng.choice([2022, 2024], n),
        "Local_Authority": rng.choice(["Glenmore", "Strathaven"], n),
        "cluster": rng.choice(["North", "South", "East"], n),
        "school_name": rng.choice([f"School {k}" for k in range(15)], n),
        "Stage": rng.choice(["P5", "P7", "S2", "S4"], n),
        "wt": rng.uniform(0.5, 2.0, n).round(3),
        "longitude": rng.uniform(-4.5, -3.0, n),
        "lat": rng.uniform(55.5, 56.5, n),
        "sex": rng.choice([1, 2], n),
        "wemwbs_band": rng.choice([1, 2, 3, 4, 5], n),
        "region_code": rng.choice([3, 7, 12], n),
        "young_carer": rng.choice([0, 1], n),
        "sleep": rng.choice([-9, 1, 2, 3, 4], n),
        "attendance": rng.uniform(60, 100, n).round(1),
        "exclusions": rng.integers(0, 40, n),
        "school_code": rng.choice(["01", "02", "03"], n),
    })


@pytest.mark.parametrize("as_text", [False, True], ids=["typed", "csv-text"])
def test_roles_and_types_from_names_and_data(as_text):
    con, rel = relation(pupils(), as_text)
    d = infer_dictionary(rel, title="Pupils")
    roles = {v.name: v.role for v in d.variables if v.role}
    assert roles == {
        "Pupil_ID": "id", "Survey Year": "wave", "Local_Authority": "cpp", "cluster": "cluster",
        "school_name": "school", "Stage": "stage", "wt": "weight", "longitude": "x", "lat": "y",
    }
    types = {v.name: v.type for v in d.variables}
    assert types["young_carer"] == "flag" and d["young_carer"].positive == ("1",)
    assert d["young_carer"].values == (("0", "No"), ("1", "Yes"))
    assert types["wemwbs_band"] == "ordinal"  # 1..5, consecutive
    assert types["sex"] == "categorical"  # only two codes
    assert types["region_code"] == "categorical"  # not consecutive
    assert d["region_code"].values == (("3", "3"), ("7", "7"), ("12", "12"))  # numeric order
    assert types["attendance"] == "numeric" and types["exclusions"] == "numeric"  # > 12 distinct
    assert types["wt"] == types["longitude"] == types["lat"] == "numeric"
    assert types["Stage"] == "ordinal" and types["Survey Year"] == "ordinal"
    assert d["Stage"].values == tuple((s, s) for s in ("P5", "P7", "S2", "S4"))
    assert d["school_name"].type == "categorical" and len(d["school_name"].values) == 15
    assert d["Pupil_ID"].values == ()  # ids are never listed
    assert d["school_code"].values == (("01", "01"), ("02", "02"), ("03", "03"))  # leading zeros are text
    # -9 beside non-negative codes is a missing code, not a category
    assert d["sleep"].missing == ("-9",) and [c for c, _ in d["sleep"].values] == ["1", "2", "3", "4"]
    assert d.source == "inferred" and d.title == "Pupils"
    con.close()


def test_notes_say_what_was_inferred():
    con, rel = relation(pupils())
    d = infer_dictionary(rel)
    text = "\n".join(d.notes)
    assert d.notes[0].startswith("No dictionary given: 17 variables inferred from the data; roles guessed")
    assert "Pupil_ID → id" in text and "Survey Year → wave" in text and "wt → weight" in text
    assert "'attendance' (" in text and "distinct values)" in text and "Treated as numeric" in text
    assert "flags" in text and "'young_carer'" in text
    assert "-9 treated as missing" in text and "'sleep'" in text
    con.close()


def test_guess_roles_prefers_the_first_listed_name_and_assigns_each_role_once():
    assert guess_roles(["year", "wave", "ID", "resp_id"]) == {"wave": "wave", "ID": "id"}
    assert guess_roles(["LA", "school-name", "year group"]) == {"LA": "cpp", "school-name": "school", "year group": "stage"}
    assert guess_roles(["x_coord", "identity"]) == {}


def test_a_text_column_named_like_a_coordinate_gets_no_role():
    con, rel = relation(pd.DataFrame({"x": ["a", "b"], "y": [1.5, 2.5]}))
    d = infer_dictionary(rel)
    assert d["x"].role is None and d["y"].role == "y"
    assert any("not numeric" in n for n in d.notes)
    con.close()


def test_empty_and_many_valued_text_columns():
    df = pd.DataFrame({"comment": [f"text {k}" for k in range(700)], "blank": [None] * 700})
    con, rel = relation(df, as_text=True)
    d = infer_dictionary(rel)
    assert d["comment"].type == "categorical" and d["comment"].values == ()
    assert d["blank"].type == "categorical"
    text = "\n".join(d.notes)
    assert "Too many distinct values" in text and "Empty in every row: 'blank'" in text
    con.close()


def test_text_numbers_with_float_formatting_are_integers():
    # pandas writes an integer column with gaps as 1.0, 2.0, ... in CSV
    df = pd.DataFrame({"q": ["1.0", "2.0", None, "3.0", " 2 "], "f": ["0", "1", "1", "0", ""]})
    con, rel = relation(df)
    d = infer_dictionary(rel)
    assert d["q"].type == "ordinal" and [c for c, _ in d["q"].values] == ["1", "2", "3"]
    assert d["f"].type == "flag"
    con.close()


def test_from_summaries_without_duckdb():
    d = infer_dictionary([
        ColumnSummary("id", "integer", 10, 10),
        ColumnSummary("happy", "integer", 10, 2, ("0", "1")),
        ColumnSummary("score", "number", 10, 80),
    ])
    assert [(v.name, v.type, v.role) for v in d.variables] == [
        ("id", "categorical", "id"), ("happy", "flag", None), ("score", "numeric", None),
    ]


def test_summarise_counts():
    con, rel = relation(pd.DataFrame({"a": [1, 2, 2, None], "b": ["x", "y", None, "x"]}))
    a, b = summarise(rel)
    assert (a.kind, a.non_null, a.distinct, a.values) == ("integer", 3, 2, ("1", "2"))
    assert (b.kind, b.non_null, b.distinct, b.values) == ("text", 3, 2, ("x", "y"))
    con.close()


def test_sav_labels_measure_levels_and_missing_codes(tmp_path):
    df = pd.DataFrame({
        "resp_id": [1.0, 2, 3, 4, 5, 6],
        "sex": [1.0, 2, 1, 2, 1, 2],
        "bullied": [0.0, 1, 0, 0, 1, 0],
        "feel_safe": [1.0, 2, 3, 4, 5, -9],
        "fruit": [3.0, 1, 2, 3, 1, 2],
        "attendance": [91.5, 88.0, 72.5, 99.0, 100.0, 64.0],
        "mood": [2.0, 4, 4, 2, 9, 2],
    })
    path = tmp_path / "w.sav"
    pyreadstat.write_sav(
        df, str(path),
        column_labels={"sex": "Sex", "bullied": "Bullied in the last year", "feel_safe": "I feel safe at school"},
        variable_value_labels={
            "sex": {2: "Male", 1: "Female"},
            "bullied": {0: "No", 1: "Yes"},
            "feel_safe": {5: "Strongly agree", 4: "Agree", 3: "Neither", 2: "Disagree", 1: "Strongly disagree",
                          -9: "Not answered"},
            "mood": {2: "Low", 4: "High"},
        },
        variable_measure={"sex": "nominal", "bullied": "nominal", "feel_safe": "ordinal", "fruit": "scale",
                          "attendance": "scale"},
        missing_ranges={"feel_safe": [-9]},
    )
    data, _ = pyreadstat.read_sav(str(path))
    _, meta = pyreadstat.read_sav(str(path), metadataonly=True, user_missing=True)
    con, rel = relation(data)
    d = infer_dictionary(rel, sav_meta=meta, title="W")
    assert d["sex"].label == "Sex" and d["sex"].type == "categorical"
    assert d["sex"].values == (("1", "Female"), ("2", "Male"))  # code order, not label order
    assert d["bullied"].type == "flag" and d["bullied"].values == (("0", "No"), ("1", "Yes"))
    assert d["feel_safe"].type == "ordinal" and d["feel_safe"].label == "I feel safe at school"
    assert [c for c, _ in d["feel_safe"].values] == ["1", "2", "3", "4", "5"]  # -9 is SPSS-missing
    assert d["feel_safe"].missing == ("-9",)
    assert d["fruit"].type == "numeric"  # scale wins over few values
    assert d["attendance"].type == "numeric"
    # unknown measure: types from the data; a data code with no label is kept as its own label
    assert d["mood"].values == (("2", "Low"), ("4", "High"), ("9", "9"))
    text = "\n".join(d.notes)
    assert "the SPSS file's labels" in d.notes[0]
    assert "SPSS measure level" in text and "missing-value codes" in text and "'mood'" in text
    con.close()


def test_sav_meta_can_be_any_object_with_the_pyreadstat_attributes():
    con, rel = relation(pd.DataFrame({"q": [1, 2, 1]}))
    meta = SimpleNamespace(column_names_to_labels={"q": "Question"}, variable_value_labels={"q": {1: "A", 2: "B"}},
                           variable_measure={"q": "nominal"}, missing_ranges={})
    d = infer_dictionary(rel, sav_meta=meta)
    assert d["q"].label == "Question" and d["q"].values == (("1", "A"), ("2", "B"))
    con.close()
