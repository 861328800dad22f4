"""`python -m rcs_viz crosstab`: the same protected result as the app, as JSON/CSV/Excel."""

import json
import subprocess
import sys

import numpy as np
import openpyxl
import pandas as pd
import pytest

from rcs_viz.cli import main

DICTIONARY = """
dataset: {title: CLI test data}
variables:
  - {name: id, label: Pupil, type: categorical, role: id}
  - {name: school, label: School, type: categorical, values: {1: Hillview, 2: Burnside, 3: "=Wee, School"}}
  - {name: sex, label: Sex, type: categorical, values: {1: Boy, 2: Girl}}
  - {name: att, label: Attendance, type: numeric}
"""


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(3)
    n = 300
    frame = pd.DataFrame({"id": range(n), "school": np.r_[np.full(150, 1), np.full(145, 2), np.full(5, 3)],
                          "sex": rng.integers(1, 3, n), "att": rng.normal(90, 4, n).round(1)})
    frame.to_csv(folder / "pupils.csv", index=False)
    (folder / "dict.yaml").write_text(DICTIONARY)
    return folder


def run(capsys, *argv):
    code = main(list(map(str, argv)))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_has_the_documented_shape(data, capsys):
    code, out, err = run(capsys, "crosstab", data / "pupils.csv", "--dictionary", data / "dict.yaml",
                         "--rows", "school", "--cols", "sex")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["rows"] == "school" and doc["cols"] == "sex" and doc["measure"] == "count"
    assert doc["rules"]["threshold"] == 10
    keys = {"row", "col", "count", "value", "ci_low", "ci_high", "status", "reason"}
    assert all(keys <= set(c) for c in doc["cells"])
    grand = [c for c in doc["cells"] if c["row"] == "All" and c["col"] == "All"]
    assert len(grand) == 1 and abs(grand[0]["count"] - 300) <= 3
    wee = [c for c in doc["cells"] if c["row"] == "=Wee, School"]
    assert wee and all(c["status"] == "suppressed" and c["count"] is None and c["value"] is None for c in wee)
    assert all(c["count"] is None or c["count"] >= 10 for c in doc["cells"])


def test_where_takes_labels_and_mean_takes_a_variable(data, capsys):
    code, out, err = run(capsys, "crosstab", data / "pupils.csv", "--dictionary", data / "dict.yaml",
                         "--rows", "school", "--where", "sex=Girl", "--where", "school=Hillview,Burnside",
                         "--measure", "mean:att", "--perturbation", "off")
    assert code == 0, err
    doc = json.loads(out)
    frame = pd.read_csv(data / "pupils.csv")
    expected = frame[(frame.sex == 2) & frame.school.isin([1, 2])].groupby("school").att.mean()
    hill = next(c for c in doc["cells"] if c["row"] == "Hillview")
    assert hill["value"] == pytest.approx(expected[1], abs=1e-4)
    assert hill["ci_low"] < hill["value"] < hill["ci_high"]
    assert doc["filters"] == ["Sex: Girl", "School: Hillview, Burnside"]


def test_csv_and_excel_are_the_same_protected_numbers(data, capsys, tmp_path):
    base = ["crosstab", data / "pupils.csv", "--dictionary", data / "dict.yaml", "--rows", "school"]
    _, out, _ = run(capsys, *base)
    assert run(capsys, *base, "--format", "csv", "--out", tmp_path / "t.csv")[0] == 0
    assert run(capsys, *base, "--format", "xlsx", "--out", tmp_path / "t.xlsx")[0] == 0
    counts = {c["row"]: c["count"] for c in json.loads(out)["cells"]}
    csv = pd.read_csv(tmp_path / "t.csv")
    assert dict(zip(csv["row"], csv["count"].astype("Int64"))) == {
        ("'" + k if k.startswith("=") else k): (pd.NA if v is None else v) for k, v in counts.items()}
    book = openpyxl.load_workbook(tmp_path / "t.xlsx")
    assert book.sheetnames == ["Table", "Cells", "Notes"]
    texts = [c.value for row in book["Table"].iter_rows() for c in row]
    assert "'=Wee, School" in texts and "[c]" in texts  # formula neutralised; protected marked
    notes = {r[0].value: r[1].value for r in book["Notes"].iter_rows()}
    assert "Counts below 10" in notes["Disclosure rules"]


@pytest.mark.parametrize("args,message", [
    (["--rows", "nope"], "unknown variable 'nope'"),
    (["--rows", "school", "--where", "sex=Dragon"], "'Dragon' is not a value of 'sex'"),
    (["--rows", "school", "--where", "sex"], "expected VAR=VALUE"),
    (["--rows", "school", "--measure", "mean:sex"], "not a numeric variable"),
    (["--rows", "school", "--threshold", "0"], "threshold"),
])
def test_bad_input_exits_2_with_one_line(data, capsys, args, message):
    code, out, err = run(capsys, "crosstab", data / "pupils.csv", "--dictionary", data / "dict.yaml", *args)
    assert code == 2
    assert out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_unreadable_file_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"PAR1 this is not parquet")
    proc = subprocess.run([sys.executable, "-m", "rcs_viz", "crosstab", str(bad), "--rows", "x"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "broken.parquet" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_the_configured_rules_are_the_default(data, capsys, tmp_path, monkeypatch):
    conf = tmp_path / "rcs_explorer.yaml"
    conf.write_text(f"data: {data / 'pupils.csv'}\ndisclosure: {{threshold: 20, min_base: 40}}\ncache_dir: {tmp_path}/db\n")
    monkeypatch.setenv("RCS_EXPLORER_CONFIG", str(conf))
    code, out, err = run(capsys, "crosstab", data / "pupils.csv", "--dictionary", data / "dict.yaml", "--rows", "sex")
    assert code == 0, err
    assert json.loads(out)["rules"]["threshold"] == 20 and err == ""


@pytest.mark.parametrize("flags,words", [
    (["--threshold", "5"], "--threshold 5 (configured 10)"),
    (["--min-base", "20"], "--min-base 20 (configured 30)"),
    (["--perturbation", "off"], "--perturbation off (configured on)"),
])
def test_a_flag_that_loosens_the_rules_warns_in_one_line(data, capsys, flags, words):
    code, out, err = run(capsys, "crosstab", data / "pupils.csv", "--dictionary", data / "dict.yaml",
                         "--rows", "sex", *flags)
    assert code == 0, err
    assert err.count("\n") == 1 and err.startswith("warning: ") and words in err and "must not be published" in err


def test_a_flag_that_tightens_the_rules_says_nothing(data, capsys):
    code, _, err = run(capsys, "crosstab", data / "pupils.csv", "--dictionary", data / "dict.yaml",
                       "--rows", "sex", "--threshold", "15", "--min-base", "40")
    assert code == 0 and err == ""
