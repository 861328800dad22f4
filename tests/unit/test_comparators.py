"""National comparator tables: read and checked, matched only to the same population."""

import pytest

from rcs_viz.data import comparators
from rcs_viz.data.comparators import (ALL_PRIMARY, ALL_SECONDARY, ALL_STAGES, EMPTY, ComparatorError, read,
                                 stage_scope)

GOOD = """indicator,statistic,positive,stage,wave,value,note
bully,pct,2;3,All stages,2019,25.0,Illustrative national figure
bully,pct, 3 ; 2 ,All primary,2019,22.5,
bully,pct,3,All stages,2016,9,
wb,mean,,All stages,2019,54.25,
wb,mean,,S2,2016,51,
"""

STAGES = {"1": "P4", "2": "P5", "3": "P6", "4": "S1", "5": "S2"}


def write(tmp_path, text, name="national.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# --------------------------------------------------------------------------- reading


def test_no_file_configured_is_the_empty_table():
    assert read(None) is EMPTY
    assert len(EMPTY.table) == 0 and list(EMPTY.table.columns) == list(comparators.COLUMNS)


def test_a_good_table_is_read_with_codes_as_text_and_values_as_numbers(tmp_path):
    c = read(write(tmp_path, GOOD))
    assert c.source == "national.csv"
    assert c.note == "Illustrative national figure"
    assert list(c.table["positive"]) == ["2;3", "2;3", "3", "", ""]  # spaces dropped, codes in one order
    assert list(c.table["value"]) == [25.0, 22.5, 9.0, 54.25, 51.0]
    assert list(c.table["wave"]) == ["2019", "2019", "2016", "2019", "2016"]
    assert c.waves("bully") == ["2016", "2019"] and c.waves("nothing") == []


def test_headers_are_matched_whatever_their_case_spacing_or_byte_order_mark(tmp_path):
    text = GOOD.replace("indicator,statistic", " Indicator , STATISTIC ", 1)
    c = read(write(tmp_path, "\ufeff" + text))
    assert c.national("bully", "pct", ("2", "3"), "2019", ALL_STAGES) == 25.0


def test_national_needs_the_same_definition_wave_and_stage(tmp_path):
    c = read(write(tmp_path, GOOD))
    assert c.national("bully", "pct", ("3", "2"), "2019", ALL_STAGES) == 25.0  # order of codes is immaterial
    assert c.national("bully", "pct", ("2", "3"), "2019", ALL_PRIMARY) == 22.5
    assert c.national("bully", "pct", ("3",), "2016", ALL_STAGES) == 9.0
    assert c.national("wb", "mean", (), "2019", ALL_STAGES) == 54.25
    assert c.national("wb", "mean", (), "2016", "S2") == 51.0
    # anything else is no figure, never the nearest one
    assert c.national("bully", "pct", ("2",), "2019", ALL_STAGES) is None  # other positive codes
    assert c.national("bully", "pct", ("2", "3", "4"), "2019", ALL_STAGES) is None
    assert c.national("bully", "pct", ("2", "3"), "2016", ALL_STAGES) is None  # 2016 counts 'Often' only
    assert c.national("bully", "pct", ("2", "3"), "2019", ALL_SECONDARY) is None  # other stages
    assert c.national("bully", "pct", ("2", "3"), "2022", ALL_STAGES) is None  # other wave
    assert c.national("bully", "mean", (), "2019", ALL_STAGES) is None  # other statistic
    assert c.national("bully", "pct", ("2", "3"), None, ALL_STAGES) is None  # no wave chosen
    assert c.national("bully", "pct", ("2", "3"), "2019", None) is None  # a stage mix
    assert c.national("happy", "pct", ("1",), "2019", ALL_STAGES) is None  # not in the table


# --------------------------------------------------------------------------- broken files


def _refused(path, *words):
    before = path.read_bytes()
    with pytest.raises(ComparatorError) as err:
        read(path)
    message = str(err.value)
    assert path.name in message
    for w in words:
        assert w in message, message
    assert path.read_bytes() == before  # reading never touches the file
    return message


def test_a_missing_column_is_named(tmp_path):
    text = "\n".join(",".join(f for i, f in enumerate(line.split(",")) if i != 4) for line in GOOD.splitlines())
    _refused(write(tmp_path, text, "no_wave.csv"), "missing column", "wave")


def test_several_missing_columns_are_all_named(tmp_path):
    _refused(write(tmp_path, "indicator,value\nbully,3\n", "thin.csv"), "statistic", "positive", "stage", "wave")


@pytest.mark.parametrize("bad, row", [("n/a", 4), ("", 4), ("25%", 4), ("twenty", 4)])
def test_a_value_that_is_not_a_number_names_its_row(tmp_path, bad, row):
    lines = GOOD.splitlines()
    fields = lines[3].split(",")
    fields[5] = bad
    lines[3] = ",".join(fields)  # the third record: row 4 counting the header as row 1
    message = _refused(write(tmp_path, "\n".join(lines) + "\n", "values.csv"), f"row {row}", "'value'")
    assert repr(bad) in message


def test_an_unknown_statistic_names_its_row(tmp_path):
    text = GOOD.replace("wb,mean,,S2", "wb,median,,S2")
    _refused(write(tmp_path, text, "stat.csv"), "row 6", "'median'")


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16"])
def test_a_file_that_is_not_utf8_is_refused_in_words(tmp_path, encoding):
    text = GOOD.replace("Illustrative national figure", "Échelle nationale, illustrée")
    _refused(write(tmp_path, text, f"national-{encoding}.csv", encoding), "UTF-8")


def test_a_missing_or_empty_file_is_refused_in_words(tmp_path):
    with pytest.raises(ComparatorError, match="absent.csv"):
        read(tmp_path / "absent.csv")
    _refused(write(tmp_path, "", "empty.csv"), "cannot be read")


@pytest.mark.parametrize("statistic, bad", [("mean", "inf"), ("mean", "-inf"), ("pct", "-5"), ("pct", "250")])
def test_an_impossible_value_is_refused(tmp_path, statistic, bad):
    text = f"indicator,statistic,positive,stage,wave,value\nbully,{statistic},2,All stages,2019,{bad}\n"
    _refused(write(tmp_path, text, "impossible.csv"), "row 2")


def test_two_figures_for_the_same_population_are_refused(tmp_path):
    text = GOOD + "bully,pct,3;2,All stages,2019,31.0,\n"  # same codes as row 2, other order
    _refused(write(tmp_path, text, "twice.csv"), "row")


def test_comparator_errors_are_value_errors():
    assert issubclass(ComparatorError, ValueError)


# --------------------------------------------------------------------------- which stage figure a view matches


@pytest.mark.parametrize("kept, expected", [
    (None, ALL_STAGES),
    ((), ALL_STAGES),
    (("1", "2", "3", "4", "5"), ALL_STAGES),
    (("1", "2", "3"), ALL_PRIMARY),
    (("3", "1", "2"), ALL_PRIMARY),
    (("4", "5"), ALL_SECONDARY),
    (("2",), "P5"),
    (("5",), "S2"),
    (("1", "4"), None),   # P4 and S1
    (("1", "2"), None),   # some primary stages only
    (("1", "2", "3", "4"), None),
], ids=["no filter", "empty filter", "every stage", "all primary", "all primary, any order", "all secondary",
        "one primary stage", "one secondary stage", "a mix", "part of primary", "primary and part of secondary"])
def test_stage_scope(kept, expected):
    assert stage_scope(STAGES, kept) == expected


def test_stage_scope_reads_labels_not_codes():
    labels = {"10": "Primary 4", "11": "Primary 5", "20": "Secondary 1", "21": "Secondary 2"}
    assert stage_scope(labels, ("10", "11")) == ALL_PRIMARY
    assert stage_scope(labels, ("20",)) == "Secondary 1"
    assert stage_scope(labels, ("21", "20")) == ALL_SECONDARY
