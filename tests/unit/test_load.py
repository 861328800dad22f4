"""rcs_viz.engine.load: every format to the same table, and a clear LoadError for every bad input."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyreadstat
import pytest

from rcs_viz.engine.load import LOADER_VERSION, Dataset, LoadError, load_dataset, record_key

N = 40
DICT_YAML = """\
dataset: {title: Test pupils}
variables:
  - {name: resp_id, role: id}
  - {name: wave, role: wave, type: ordinal}
  - {name: school, role: school}
  - {name: stage, role: stage, type: ordinal}
  - {name: sex, label: Sex of pupil, values: {1: Female, 2: Male}}
  - name: simd
    type: ordinal
    values: {1: Most deprived, 2: '2', 3: '3', 4: '4', 5: Least deprived}
    missing: [-9]
  - {name: safe, type: flag}
  - {name: attendance, type: numeric, missing: [-9]}
"""
SEX_LABELS = {1: "Female", 2: "Male"}
SIMD_LABELS = {1: "Most deprived", 2: "2", 3: "3", 4: "4", 5: "Least deprived", -9: "Not known"}


def frame(n: int = N) -> pd.DataFrame:
    i = np.arange(n)
    return pd.DataFrame({
        "resp_id": i + 1,
        "wave": np.where(i % 2 == 1, 2022, 2024),
        "school": [["Ashdale High", "Birch Primary", "Cairn Academy"][k % 3] for k in i],
        "stage": [["S1", "S2"][k % 2] for k in i],
        "sex": 1 + i % 2,
        "simd": np.where(i % 7 == 0, -9, 1 + i % 5),
        "safe": i % 2,
        "attendance": [np.nan if k % 9 == 0 else (-9.0 if k % 11 == 5 else 80 + k * 0.5) for k in i],
        "notes": ["free text"] * n,
    })


def write(df: pd.DataFrame, path: Path) -> Path:
    suffix = path.suffix
    if suffix == ".csv":
        df.to_csv(path, index=False)
    elif suffix == ".parquet":
        df.to_parquet(path, index=False)
    elif suffix == ".xlsx":
        df.to_excel(path, index=False)
    elif suffix == ".sav":
        pyreadstat.write_sav(
            df, str(path),
            column_labels={"sex": "Sex of pupil", "simd": "SIMD quintile"},
            variable_value_labels={"sex": SEX_LABELS, "simd": SIMD_LABELS},
            variable_measure={"sex": "nominal", "simd": "ordinal", "attendance": "scale"},
            missing_ranges={"simd": [-9]},
        )
    else:
        raise ValueError(suffix)
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def dict_path(tmp_path) -> Path:
    p = tmp_path / "dictionary.yaml"
    p.write_text(DICT_YAML, encoding="utf-8")
    return p


def load(path: Path, dictionary: Path | None, tmp_path: Path, **kw) -> Dataset:
    """Load and check the source is byte-for-byte unchanged."""
    before = sha(path)
    try:
        return load_dataset(path, dictionary, cache_dir=tmp_path / "cache", **kw)
    finally:
        assert sha(path) == before, "the source file was modified"


def table(ds: Dataset) -> tuple[list, list]:
    con = duckdb.connect(str(ds.db_path), read_only=True)
    try:
        types = con.execute("DESCRIBE respondents").fetchall()
        rows = con.execute("SELECT * FROM respondents").fetchall()
    finally:
        con.close()
    return [(t[0], t[1]) for t in types], rows


def bad(path: Path, dictionary: Path | None, tmp_path: Path) -> str:
    """The LoadError message for a bad input (and the source is unchanged)."""
    with pytest.raises(LoadError) as info:
        load(path, dictionary, tmp_path)
    message = info.value.message
    assert message == str(info.value)
    assert path.name in message or (dictionary and dictionary.name in message)
    return message


# --------------------------------------------------------------------------- good inputs

EXPECTED_TYPES = [
    ("resp_id", "BIGINT"), ("wave", "BIGINT"), ("school", "VARCHAR"), ("stage", "VARCHAR"),
    ("sex", "BIGINT"), ("simd", "BIGINT"), ("safe", "BIGINT"), ("attendance", "DOUBLE"), ("__rkey", "UTINYINT"),
]


@pytest.fixture
def reference(tmp_path, dict_path):
    ds = load(write(frame(), tmp_path / "ref.csv"), dict_path, tmp_path)
    return table(ds)


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx", ".sav"])
def test_every_format_gives_the_same_table(tmp_path, dict_path, reference, suffix):
    path = write(frame(), tmp_path / f"pupils{suffix}")
    ds = load(path, dict_path, tmp_path)
    types, rows = table(ds)
    assert types == EXPECTED_TYPES
    assert (types, rows) == reference
    assert ds.rows == N and ds.source == path and ds.dictionary_source == str(dict_path)
    assert ds.dictionary["sex"].values == (("1", "Female"), ("2", "Male"))
    assert any("'notes'" in n and "ignored" in n for n in ds.notes)


def test_values_and_missing_codes(tmp_path, dict_path):
    ds = load(write(frame(), tmp_path / "p.csv"), dict_path, tmp_path)
    con = duckdb.connect(str(ds.db_path), read_only=True)
    got = con.execute(
        "SELECT resp_id, simd, attendance, school FROM respondents WHERE resp_id IN (1, 2, 6, 10) ORDER BY 1"
    ).fetchall()
    con.close()
    # row 1 (i=0): simd -9 -> NULL, attendance NaN -> NULL; i=5: attendance -9 -> NULL; i=9: blank -> NULL
    assert got == [(1, None, None, "Ashdale High"), (2, 2, 80.5, "Birch Primary"),
                   (6, 1, None, "Cairn Academy"), (10, 5, None, "Ashdale High")]


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx", ".sav"])
def test_inferred_dictionary_is_the_same_shape_from_every_format(tmp_path, suffix, reference):
    ds = load(write(frame(), tmp_path / f"p{suffix}"), None, tmp_path)
    d = ds.dictionary
    assert ds.dictionary_source == "inferred" and d.source == "inferred"
    assert d.by_role("id").name == "resp_id" and d.by_role("wave").name == "wave"
    assert d["safe"].type == "flag" and d["attendance"].type == "numeric"
    assert d["simd"].missing == ("-9",)
    assert any(n.startswith("No dictionary given") for n in ds.notes)
    types, rows = table(ds)
    # same data as with the written dictionary, plus the 'notes' column
    ref_types, ref_rows = reference
    assert [r[:8] for r in rows] == [r[:8] for r in ref_rows]
    assert [r[-1] for r in rows] == [r[-1] for r in ref_rows]  # same __rkey


def test_sav_value_labels_become_the_dictionary(tmp_path):
    ds = load(write(frame(), tmp_path / "p.sav"), None, tmp_path)
    d = ds.dictionary
    assert d["sex"].label == "Sex of pupil" and d["sex"].type == "categorical"
    assert d["sex"].values == (("1", "Female"), ("2", "Male"))
    # the SPSS missing code (-9) is declared missing and not a category; order is code order
    assert d["simd"].type == "ordinal"
    assert d["simd"].values == (("1", "Most deprived"), ("2", "2"), ("3", "3"), ("4", "4"), ("5", "Least deprived"))
    assert "-9" in d["simd"].missing


def test_sav_labels_fill_a_sparse_dictionary(tmp_path):
    (tmp_path / "d.yaml").write_text(
        "variables:\n  - {name: resp_id, role: id}\n  - {name: sex}\n  - {name: simd, type: ordinal}\n"
    )
    ds = load(write(frame(), tmp_path / "p.sav"), tmp_path / "d.yaml", tmp_path)
    assert ds.dictionary["sex"].values == (("1", "Female"), ("2", "Male"))
    assert ds.dictionary["simd"].label == "SIMD quintile"
    assert any("taken from p.sav" in n for n in ds.notes)


def test_utf8_bom_csv(tmp_path, dict_path, reference):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + frame().to_csv(index=False).encode())
    assert table(load(path, dict_path, tmp_path)) == reference


def test_windows_1252_csv_is_read_with_a_note(tmp_path):
    path = tmp_path / "cp.csv"
    path.write_bytes("id,school\n1,Caf\u00e9 \u2018Academy\u2019\n2,Birch\n".encode("cp1252"))
    ds = load(path, None, tmp_path)
    assert any("read as Windows-1252" in n for n in ds.notes)
    con = duckdb.connect(str(ds.db_path), read_only=True)
    assert con.execute("SELECT school FROM respondents ORDER BY id").fetchall()[0][0] == "Caf\u00e9 \u2018Academy\u2019"
    con.close()


def test_utf16_with_bom_is_read(tmp_path, dict_path, reference):
    path = tmp_path / "u16.csv"
    path.write_bytes(frame().to_csv(index=False).encode("utf-16"))
    ds = load(path, dict_path, tmp_path)
    assert table(ds) == reference
    assert any("UTF-16" in n for n in ds.notes)


@pytest.mark.parametrize("sep, suffix", [(";", ".csv"), ("\t", ".tsv"), ("\t", ".txt")])
def test_other_separators(tmp_path, dict_path, reference, sep, suffix):
    path = tmp_path / f"sep{suffix}"
    path.write_text(frame().to_csv(index=False, sep=sep), encoding="utf-8")
    ds = load(path, dict_path, tmp_path)
    assert table(ds) == reference
    assert any("separated by" in n for n in ds.notes)


def test_crlf_and_string_codes(tmp_path):
    path = tmp_path / "crlf.csv"
    path.write_bytes(b"id,school_code,score\r\n1,01,3.5\r\n2,02,\r\n3,A1,4\r\n")
    (tmp_path / "d.yaml").write_text(
        "variables:\n  - {name: id, role: id}\n  - {name: school_code, values: {'01': One, '02': Two, A1: Three}}\n"
        "  - {name: score, type: numeric}\n"
    )
    ds = load(path, tmp_path / "d.yaml", tmp_path)
    types, rows = table(ds)
    assert types[:3] == [("id", "BIGINT"), ("school_code", "VARCHAR"), ("score", "DOUBLE")]
    assert [r[:3] for r in rows] == [(1, "01", 3.5), (2, "02", None), (3, "A1", 4.0)]


def test_cache_hit_on_reload(tmp_path, dict_path):
    path = write(frame(), tmp_path / "p.parquet")
    first = load(path, dict_path, tmp_path)
    stamp = first.db_path.stat().st_mtime_ns
    calls = []
    second = load(path, dict_path, tmp_path, progress=lambda f, m: calls.append((f, m)))
    assert second.db_path == first.db_path and second.db_path.stat().st_mtime_ns == stamp
    assert second.dictionary == first.dictionary and second.rows == first.rows
    assert any("Reused" in n for n in second.notes)
    assert calls and calls[-1][0] == 1.0
    # a different salt (or dictionary, or file) is a different database
    third = load(path, dict_path, tmp_path, salt="other")
    assert third.db_path != first.db_path
    assert LOADER_VERSION
    leftovers = [p for p in (tmp_path / "cache").iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_progress_is_reported_in_stages(tmp_path, dict_path):
    calls = []
    load(write(frame(), tmp_path / "p.csv"), dict_path, tmp_path, progress=lambda f, m: calls.append((f, m)))
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(calls) >= 4
    assert all(isinstance(m, str) and m for _, m in calls)


def test_record_key_is_fixed_in_range_and_roughly_uniform(tmp_path):
    n = 4096
    df = pd.DataFrame({"id": np.arange(n) + 1000, "wave": 2024, "x": 1})
    path = write(df, tmp_path / "k.parquet")
    (tmp_path / "d.yaml").write_text(
        "variables:\n  - {name: id, role: id}\n  - {name: wave, role: wave}\n  - {name: x}\n"
    )
    keys = [r[-1] for r in table(load(path, tmp_path / "d.yaml", tmp_path, salt="s1"))[1]]
    again = [r[-1] for r in table(load_dataset(path, tmp_path / "d.yaml", cache_dir=tmp_path / "c2", salt="s1"))[1]]
    assert keys == again
    assert all(0 <= k <= 255 for k in keys)
    assert keys[:5] == [record_key("s1", str(i), "2024") for i in range(1000, 1005)]
    counts = np.bincount(np.array(keys) // 16, minlength=16)  # 16 buckets of 16 keys, ~256 each
    assert counts.min() > 180 and counts.max() < 340
    salted = [r[-1] for r in table(load(path, tmp_path / "d.yaml", tmp_path, salt="s2"))[1]]
    assert np.mean(np.array(salted) == np.array(keys)) < 0.05


def test_record_key_without_an_id_uses_the_row_number(tmp_path):
    path = tmp_path / "noid.csv"
    path.write_text("a\n1\n2\n3\n")
    (tmp_path / "d.yaml").write_text("variables:\n  - {name: a}\n")
    ds = load(path, tmp_path / "d.yaml", tmp_path)
    assert [r[-1] for r in table(ds)[1]] == [record_key("", str(i)) for i in (1, 2, 3)]
    assert any("row order" in n for n in ds.notes)


# --------------------------------------------------------------------------- bad inputs

def test_unsupported_type(tmp_path):
    path = tmp_path / "pupils.json"
    path.write_text("{}")
    assert "unsupported file type '.json'" in bad(path, None, tmp_path)


def test_missing_file(tmp_path):
    with pytest.raises(LoadError, match="nope.csv: file not found"):
        load_dataset(tmp_path / "nope.csv", cache_dir=tmp_path / "cache")


@pytest.mark.parametrize("suffix, words", [
    (".parquet", "not a complete Parquet file"),
    (".xlsx", "cannot be read as an Excel .xlsx workbook"),
    (".sav", "cannot be read as an SPSS .sav file"),
])
def test_corrupt_binary_files(tmp_path, suffix, words):
    path = tmp_path / f"junk{suffix}"
    path.write_bytes(bytes(range(256)) * 40)
    assert words in bad(path, None, tmp_path)


@pytest.mark.parametrize("suffix", [".parquet", ".xlsx", ".sav"])
def test_truncated_binary_files(tmp_path, suffix):
    good = write(frame(), tmp_path / f"full{suffix}")
    path = tmp_path / f"cut{suffix}"
    path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    msg = bad(path, None, tmp_path)
    assert "damaged" in msg or "truncated" in msg


def test_truncated_csv_names_the_row(tmp_path, dict_path):
    text = frame().to_csv(index=False)
    path = tmp_path / "cut.csv"
    path.write_text(text[: text.index("\n", len(text) // 2) + 12])
    msg = bad(path, dict_path, tmp_path)
    assert "row " in msg and "but the header has 9 columns" in msg and "cut short" in msg


def test_unclosed_quote(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('id,school\n1,"Ashdale\n2,Birch\n')
    msg = bad(path, None, tmp_path)
    assert "row 2" in msg and "quote" in msg


def test_binary_or_utf16_without_bom(tmp_path):
    path = tmp_path / "u16.csv"
    path.write_bytes("id,school\n1,Ashdale\n".encode("utf-16-le"))
    msg = bad(path, None, tmp_path)
    assert "binary data" in msg and "UTF-8" in msg


def test_bad_utf16(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_bytes(codecs_bom16() + "id,x\n1,2\n".encode("utf-16-le") + b"\x00\xd8")  # lone surrogate
    assert "not valid UTF-16" in bad(path, None, tmp_path)


def codecs_bom16() -> bytes:
    import codecs

    return codecs.BOM_UTF16_LE


@pytest.mark.parametrize("content", [b"", b"\n\n", b"\xef\xbb\xbf"])
def test_empty_csv(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    assert "the file is empty" in bad(path, None, tmp_path)


def test_header_only_csv(tmp_path, dict_path):
    path = tmp_path / "head.csv"
    path.write_text(",".join(frame().columns) + "\n")
    assert "header row but no data rows" in bad(path, dict_path, tmp_path)


def test_header_only_parquet_and_xlsx(tmp_path, dict_path):
    for suffix in (".parquet", ".xlsx"):
        path = write(frame().iloc[:0], tmp_path / f"head{suffix}")
        msg = bad(path, dict_path, tmp_path)
        assert "no data rows" in msg or "is empty" in msg


def test_empty_xlsx_sheet(tmp_path):
    import openpyxl

    path = tmp_path / "blank.xlsx"
    openpyxl.Workbook().save(path)
    assert "first sheet is empty" in bad(path, None, tmp_path)


def test_duplicate_headers(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("id,sex,age,sex\n1,1,10,2\n")
    msg = bad(path, None, tmp_path)
    assert "used more than once" in msg and "'sex' (columns 2 and 4" in msg
    path.write_text("id,Sex,sex\n1,1,2\n")
    assert "differ only in capitals" in bad(path, None, tmp_path)


def test_duplicate_headers_xlsx(tmp_path):
    df = pd.DataFrame([[1, 2, 3]], columns=["id", "sex", "SEX"])
    path = write(df, tmp_path / "dup.xlsx")
    assert "'sex' (columns 2 and 3" in bad(path, None, tmp_path)


def test_dictionary_names_missing_columns(tmp_path, dict_path):
    path = write(frame().drop(columns=["simd", "attendance"]).rename(columns={"sex": "gender"}), tmp_path / "m.csv")
    msg = bad(path, dict_path, tmp_path)
    assert "names 3 columns that are not in the file" in msg
    for col in ("'sex'", "'simd'", "'attendance'"):
        assert col in msg


def test_dictionary_matching_ignores_case(tmp_path, dict_path, reference):
    path = write(frame().rename(columns={"sex": "SEX", "simd": "Simd"}), tmp_path / "case.csv")
    ds = load(path, dict_path, tmp_path)
    assert table(ds) == reference
    assert any("matched column 'SEX'" in n for n in ds.notes)


def test_bad_dictionary_is_a_load_error(tmp_path):
    path = write(frame(), tmp_path / "p.csv")
    d = tmp_path / "broken.yaml"
    d.write_text("variables:\n  - {name: sex, type: nominal}\n")
    msg = bad(path, d, tmp_path)
    assert msg.startswith("broken.yaml") and "'sex'" in msg and "nominal" in msg
    d.write_text("variables: [unclosed\n")
    assert "not valid YAML" in bad(path, d, tmp_path)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_duplicate_ids_within_a_wave(tmp_path, dict_path, suffix):
    df = frame()
    df.loc[5, "resp_id"] = 2  # row 1 (id 2) is wave 2022; row 5 is wave 2022 too
    df.loc[8, "resp_id"] = 1  # id 1 in wave 2024 (row 0 is 2024): a second duplicate
    msg = bad(write(df, tmp_path / f"dup{suffix}"), dict_path, tmp_path)
    assert "column 'resp_id' has 2 respondent ids that appear more than once in the same wave" in msg
    assert "id '1' appears 2 times with wave = 2024" in msg


def test_same_id_in_two_waves_is_fine(tmp_path, dict_path):
    df = frame()
    df.loc[1, "resp_id"] = 1  # id 1 in 2024 (row 0) and 2022 (row 1)
    assert load(write(df, tmp_path / "w.csv"), dict_path, tmp_path).rows == N


def test_empty_id(tmp_path, dict_path):
    df = frame().astype({"resp_id": "object"})
    df.loc[3, "resp_id"] = None
    msg = bad(write(df, tmp_path / "e.csv"), dict_path, tmp_path)
    assert "column 'resp_id' (the respondent id) is empty in 1 row (e.g. row 5)" in msg


@pytest.mark.parametrize("suffix, row", [(".csv", 17), (".xlsx", 17), (".parquet", 16), (".sav", 16)])
def test_value_outside_labels(tmp_path, dict_path, suffix, row):
    df = frame()
    df.loc[15, "sex"] = 7
    df.loc[[20, 22], "sex"] = 9
    msg = bad(write(df, tmp_path / f"v{suffix}"), dict_path, tmp_path)
    assert "column 'sex' has 2 values not in its value labels, in 3 rows" in msg
    assert "'9', '7'" in msg and f"first in row {row}" in msg


def test_declared_missing_code_is_not_outside_labels(tmp_path, dict_path):
    # simd has -9 throughout frame(); it is declared missing, so the load succeeds
    assert load(write(frame(), tmp_path / "ok.csv"), dict_path, tmp_path).rows == N


@pytest.mark.parametrize("suffix, row", [(".csv", 17), (".xlsx", 17)])
def test_numeric_with_text(tmp_path, dict_path, suffix, row):
    df = frame().astype({"attendance": "object"})
    df.loc[15, "attendance"] = "not known"
    df.loc[[20, 21], "attendance"] = "absent"
    msg = bad(write(df, tmp_path / f"pupils{suffix}"), dict_path, tmp_path)
    assert msg.startswith(
        f"pupils{suffix}: column 'attendance' should be numeric but has text in 3 rows (e.g. 'not known' in row {row}"
    )
    assert "'absent'" in msg


def test_several_problems_are_all_listed(tmp_path, dict_path):
    df = frame().astype({"attendance": "object"})
    df.loc[3, "attendance"] = "not known"
    df.loc[4, "sex"] = 5
    with pytest.raises(LoadError) as info:
        load(write(df, tmp_path / "two.csv"), dict_path, tmp_path)
    assert len(info.value.problems) == 2
    assert "1 more problem" in info.value.message
    assert not list((tmp_path / "cache").glob("*.duckdb"))  # nothing cached for a failed load


def test_reserved_name(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("__rkey\n1\n")
    (tmp_path / "d.yaml").write_text("variables:\n  - {name: __rkey}\n")
    assert "reserved" in bad(path, tmp_path / "d.yaml", tmp_path)
