"""Real survey files from public sources (none written here) open right, with no dictionary.

The files live in ``../shared/realfiles`` beside the repository (its README
names each source); they are never copied into the project, and these tests
skip when the folder is absent. For each file: it opens (or would be refused in
one line), and one cross-tab's counts, through the same service as the app
(threshold 1, no perturbation, no secondary suppression), equal a plain
pyreadstat/pandas count. The files' bytes are checked against the README's
sha256 before and after: the loader only ever reads them.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
import yaml

from rcs_viz.data.dictionary import MISSING, MISSING_TEXT
from rcs_viz.engine import service
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.load import load_dataset
from rcs_viz.engine.sql.views import CrossTab, QueryError

REAL = Path(__file__).parents[3] / "shared" / "realfiles"
OPEN = Rules(threshold=1, min_base=1, secondary=False, perturbation=False)

pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f"the real-file corpus is not at {REAL}")


def readme_hashes() -> dict[str, str]:
    text = (REAL / "README.md").read_text(encoding="utf-8")
    return dict(re.findall(r"^(\S+\.\w+)\n(?:.*\n)*?.*sha256: ([0-9a-f]{64})", text, flags=re.M))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module", autouse=True)
def untouched():
    """Every file matches the README's sha256 before the tests and after them."""
    expected = readme_hashes()
    assert len(expected) == 8, expected
    assert {name: sha(REAL / name) for name in expected} == expected
    yield
    assert {name: sha(REAL / name) for name in expected} == expected, "a real file was changed"


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("realfiles-cache")


def code(value) -> str:
    """A value as the loader's code: 2.0 is "2", text without surrounding spaces."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def plain_counts(rows: pd.Series, cols: pd.Series, missing: tuple[str, ...] = ()) -> Counter:
    """Counts per (row code, column code), margins (None) included; blanks and ``missing`` codes are MISSING."""
    def key(v):
        return MISSING if pd.isna(v) or code(v) == "" or code(v) in missing else code(v)
    r, c = rows.map(key), cols.map(key)
    out = Counter(zip(r, c))
    out.update(Counter((k, None) for k in r))
    out.update(Counter((None, k) for k in c))
    out[(None, None)] = len(r)
    return out


def check_counts(ds, rows: str, cols: str, expected: Counter) -> int:
    """The service's cross-tab equals ``expected`` cell for cell; returns how many cells were compared."""
    t = service.crosstab(ds, CrossTab(rows=rows, cols=cols), "count", OPEN)
    got = {(r, c): n for r, c, n in zip(t.cells["row"], t.cells["col"], t.cells["count"])}
    got = {(None if pd.isna(r) else r, None if pd.isna(c) else c): n for (r, c), n in got.items()}
    assert set(expected) <= set(got), f"cells missing from the table: {set(expected) - set(got)}"
    for key, n in got.items():
        want = expected.get(key, 0)
        if want == 0:
            assert pd.isna(n), f"{key}: an empty cell is shown as {n}"  # zeros are protected, never shown
        else:
            assert n == want, f"{key}: {n} in the table, {want} counted"
    return len(got)


def sav(name: str) -> pd.DataFrame:
    df, _ = pyreadstat.read_sav(str(REAL / name), user_missing=False)  # the file's own missing values: blank
    return df


def text_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Text as the loader reads it: spaces around values removed, the usual markers ("NA", ...) blank."""
    df = df.apply(lambda col: col.map(lambda v: v.strip() if isinstance(v, str) else v))
    return df.replace({m: None for m in MISSING_TEXT})


def one_line_notes(ds) -> None:
    assert ds.notes and all(n.strip() and "\n" not in n for n in ds.notes)


# --------------------------------------------------------------------------- SPSS

def test_bes_written_by_haven(cache):
    """Every variable "scale"; labels win, so gender is a category; 9999 "Don't know" is no answer."""
    name = "scgUtils_BES_survey.sav"
    ds = load_dataset(REAL / name, cache_dir=cache)
    one_line_notes(ds)
    d = ds.dictionary
    assert ds.rows == 5000 and len(d.variables) == 65
    assert d["gender"].type == "categorical" and d["gender"].values == (("1", "Male"), ("2", "Female"))
    assert d["likeSunak"].type == "ordinal" and d["likeSunak"].missing == ("9999",)
    assert d["id"].role == "id" and d["wt"].role == "weight" and d["wt"].role_guessed
    df = sav(name)
    assert check_counts(ds, "gender", "country", plain_counts(df.gender, df.country)) == 12
    check_counts(ds, "likeSunak", "gender", plain_counts(df.likeSunak, df.gender, missing=("9999",)))
    # weighting waits for the weight to be confirmed
    with pytest.raises(QueryError, match="only guessed to be the survey weight"):
        service.crosstab(ds, CrossTab(rows="gender", weight="wt"), "row_pct", OPEN)


def test_bes_mean_leaves_dont_know_out(cache, tmp_path):
    """The issue's figure: the mean of likeSunak was 309.86 with 9999 "Don't know" counted; it is 4.01."""
    name = "scgUtils_BES_survey.sav"
    ds = load_dataset(REAL / name, cache_dir=cache)
    mapping = ds.dictionary.to_mapping()
    for v in mapping["variables"]:
        if v["name"] == "likeSunak":
            v["type"] = "numeric"  # a 0-10 score, to be averaged; the proposed 'missing: [9999]' stays
    (tmp_path / "bes.yaml").write_text(yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True))
    ds = load_dataset(REAL / name, tmp_path / "bes.yaml", cache_dir=cache)
    t = service.crosstab(ds, CrossTab(rows="gender", value="likeSunak"), "mean", OPEN)
    mean = t.cells.loc[t.cells["row"].isna(), "value"].iloc[0]
    df = sav(name)
    assert round(df.likeSunak.mean(), 2) == 309.86
    assert round(mean, 2) == 4.01 and mean == pytest.approx(df.likeSunak[df.likeSunak != 9999].mean())


def test_gss(cache):
    name = "cateseymour_GSS.sav"
    ds = load_dataset(REAL / name, cache_dir=cache)
    one_line_notes(ds)
    d = ds.dictionary
    assert ds.rows == 2867 and len(d.variables) == 362
    assert d["year"].role == "wave" and d["year"].type == "ordinal"
    assert set(d["degree"].missing) >= {"7", "8", "9"}  # IAP, DK, NA: labelled non-answers
    df = sav(name)
    check_counts(ds, "degree", "sex", plain_counts(df.degree, df.sex))
    # abany's 0, 8 and 9 are missing values the file declares
    check_counts(ds, "abany", "sex", plain_counts(df.abany, df.sex))


def test_icpsr_37110(cache):
    name = "holehan_37110-0002-Data.sav"
    ds = load_dataset(REAL / name, cache_dir=cache)
    one_line_notes(ds)
    d = ds.dictionary
    assert ds.rows == 3460 and d["SURVEY_YEAR"].role == "wave" and d["WEIGHT"].role_guessed
    df = sav(name)
    check_counts(ds, "Q2", "SURVEY_YEAR", plain_counts(df.Q2, df.SURVEY_YEAR))


def test_dark_triad_body_weight_is_not_a_survey_weight(cache):
    name = "holehan_DarkTriadDate_person.sav"
    ds = load_dataset(REAL / name, cache_dir=cache)
    one_line_notes(ds)
    d = ds.dictionary
    assert d["weight"].role == "weight" and d["weight"].role_guessed  # body weight in kg
    assert "weight" in [v.name for vs in d.groups().values() for v in vs]  # averaged like any number
    df = sav(name)
    check_counts(ds, "sex", "relStat", plain_counts(df.sex, df.relStat))
    with pytest.raises(QueryError, match="only guessed"):
        service.crosstab(ds, CrossTab(rows="sex", value="age", weight="weight"), "mean", OPEN)


def test_pallant_survey_opens_although_its_id_repeats(cache):
    name = "holehan_survey.sav"
    ds = load_dataset(REAL / name, cache_dir=cache)
    one_line_notes(ds)
    assert ds.rows == 439 and ds.dictionary.by_role("id") is None
    assert any("'id' looks like the respondent id by its name" in n and "'242' appears 2 times" in n
               for n in ds.notes)
    df = sav(name)
    check_counts(ds, "sex", "marital", plain_counts(df.sex, df.marital))


# --------------------------------------------------------------------------- CSV and Excel

def test_osmi_csv_reads_na_as_no_answer(cache):
    name = "HiAr21_OSMI_survey.csv"
    ds = load_dataset(REAL / name, cache_dir=cache)
    one_line_notes(ds)
    assert ds.rows == 1259
    assert "NA" not in ds.dictionary["self_employed"].value_labels
    assert any(n.startswith("Text read as no answer") and "'self_employed'" in n for n in ds.notes)
    df = text_frame(pd.read_csv(REAL / name, dtype=str, keep_default_na=False))
    expected = plain_counts(df.self_employed, df.treatment)
    assert expected[(MISSING, None)] == 18
    check_counts(ds, "self_employed", "treatment", expected)


def test_student_mental_health_csv_merges_spaces_with_a_note(cache):
    name = "elviraac_Student_Mental_health.csv"
    ds = load_dataset(REAL / name, cache_dir=cache)
    one_line_notes(ds)
    assert ds.rows == 101
    assert any(n.startswith("Spaces at the start or end of values were removed") for n in ds.notes)
    df = text_frame(pd.read_csv(REAL / name, dtype=str, keep_default_na=False))
    rows, cols = "What is your CGPA?", "Do you have Depression?"
    expected = plain_counts(df[rows], df[cols])
    assert expected[("3.50 - 4.00", None)] == 48  # 47 plus one written "3.50 - 4.00 "
    check_counts(ds, rows, cols, expected)


def test_mental_health_xlsx(cache):
    name = "priyam_MentalHealth_Survey_Raw.xlsx"
    ds = load_dataset(REAL / name, cache_dir=cache)
    one_line_notes(ds)
    assert ds.rows == 177 and ds.dictionary["ID"].role == "id"
    df = pd.read_excel(REAL / name, dtype=object)
    df.columns = [str(c).strip() for c in df.columns]
    df = text_frame(df)
    rows, cols = "What is your gender?", "How would you rate your mental health?"
    check_counts(ds, rows, cols, plain_counts(df[rows], df[cols]))
    with pytest.raises(QueryError, match="respondent id"):
        service.crosstab(ds, CrossTab(rows="ID"), "count", OPEN)


def test_every_file_has_a_test_here():
    tested = {"scgUtils_BES_survey.sav", "cateseymour_GSS.sav", "holehan_37110-0002-Data.sav",
              "holehan_DarkTriadDate_person.sav", "holehan_survey.sav", "HiAr21_OSMI_survey.csv",
              "elviraac_Student_Mental_health.csv", "priyam_MentalHealth_Survey_Raw.xlsx"}
    assert set(readme_hashes()) == tested
