"""Explore page via AppTest: links in, protected numbers out."""

import pandas as pd
import pytest
from grids import shown_text

from rcs_viz import config
from rcs_viz.output import tables
from rcs_viz.engine import service
from rcs_viz.engine.sql.views import CrossTab

PAGE = "explore.py"
CFG = config.load()


def screen_table(at) -> pd.DataFrame:
    """The table as read on screen: the sortable body's text, then the margins' grid below it."""
    return pd.concat([shown_text(f) for f in at.dataframe[:2]], ignore_index=True)


def expected_table(ds, query, measure, show_ci=False) -> pd.DataFrame:
    result = service.crosstab(ds, query, measure, CFG.rules)
    return tables.wide(result, show_ci=show_ci).reset_index()


def all_counts_safe(frame: pd.DataFrame) -> bool:
    """No count on screen below the threshold (counts are whole numbers with separators)."""
    for value in frame.iloc[:, 1:].to_numpy().ravel():
        text = str(value).replace(",", "")
        if text.isdigit() and int(text) < CFG.rules.threshold:
            return False
    return True


@pytest.mark.parametrize("measure", ["count", "row_pct", "col_pct", "total_pct"])
def test_each_percentage_measure_shows_the_engines_protected_numbers(ds, measure, run):
    at = run({"rows": "simd", "cols": "sex", "measure": measure, "f.stage": ["6", "7", "8"]})
    query = CrossTab(rows="simd", cols="sex", filters=(("wave", ("2019",)), ("stage", ("6", "7", "8"))))
    shown = screen_table(at)
    pd.testing.assert_frame_equal(shown.reset_index(drop=True), expected_table(ds, query, measure),
                                  check_names=False)
    if measure == "count":
        assert all_counts_safe(shown)


@pytest.mark.parametrize("ci", [True, False])
@pytest.mark.parametrize("measure", ["mean", "median"])
def test_mean_and_median_of_a_numeric_variable(ds, measure, ci, run):
    """With intervals the grid draws each cell's text; without, the browser writes its numbers itself (`%.1f`,
    `%g`): the same text either way."""
    at = run({"rows": "sex", "measure": measure, "value": "wemwbs", "wave": "all", "ci": "1" if ci else "0"})
    query = CrossTab(rows="sex", value="wemwbs")
    shown = screen_table(at)
    pd.testing.assert_frame_equal(shown.reset_index(drop=True), expected_table(ds, query, measure, ci),
                                  check_names=False)
    boys = shown.set_index(shown.columns[0]).loc["Boy"].iloc[0]
    assert 40 < float(boys.split(" ")[0]) < 60


def test_school_by_band_hides_small_schools_and_says_so(run, plain):
    at = run({"rows": "school", "cols": "sdq_total_band"})
    shown = screen_table(at)
    assert all_counts_safe(shown)
    assert (shown == "[c]").any().any()
    captions = plain(" ".join(c.value for c in at.caption))
    assert "cells protected" in captions and "[c]" in captions


@pytest.mark.parametrize("params,note", [
    ({"rows": "nonsense"}, "not a variable"),
    ({"rows": "sex", "measure": "sum"}, "not a measure"),
    ({"rows": "sex", "f.sex": ["1", "<script>alert(1)</script>"]}, "unknown value"),
    ({"rows": "sex'; DROP TABLE respondents; --"}, "not a variable"),
    ({"rows": "sex", "measure": "mean", "value": "sex"}, "needs a numeric"),
])
def test_tampered_link_falls_back_with_a_visible_note(params, note, run):
    at = run(params)
    warnings = " ".join(w.value for w in at.warning)
    assert note in warnings
    assert all_counts_safe(screen_table(at))


def test_filters_that_empty_the_base_say_so_instead_of_a_table(ds, run):
    primary = next(c for c, label in ds.dictionary["school"].values if "Primary" in label)
    at = run({"rows": "sex", "f.school": [primary], "f.stage": ["8"]})  # a primary school has no S4
    assert "too few respondents" in " ".join(w.value for w in at.warning)
    assert len(at.dataframe) == 0


def test_filter_chips_show_the_base_they_leave(run, plain):
    at = run({"rows": "sex", "f.simd": ["1"]})
    chip = next(b for b in at.button if b.label.startswith("✕"))
    assert "SIMD quintile: 1" in plain(chip.label) and "respondents" in chip.label


def test_removing_a_chip_rewrites_the_link(run):
    at = run({"rows": "sex", "f.simd": ["1"], "cols": "fsm"})
    next(b for b in at.button if b.label.startswith("✕")).click().run()
    assert "f.simd" not in at.query_params
    assert at.query_params["cols"] == "fsm"


def test_the_link_box_is_drawn_once_opened_and_holds_the_views_link(run):
    at = run({"rows": "sex", "f.simd": ["1"]})
    assert [e.label for e in at.expander if e.label == "Link to this view"] and not at.code  # no highlighter yet
    at.session_state["copy_link"] = True  # the user opens it
    at.run()
    assert at.code[0].value.endswith("?rows=sex&f.simd=1")
    at.selectbox(key="x_cols").set_value("fsm").run()  # it stays open, with the new view's link
    assert at.code[0].value.endswith("?rows=sex&cols=fsm&f.simd=1")


def test_changing_a_widget_writes_only_non_defaults_to_the_link(run):
    at = run({})
    at.selectbox(key="x_cols").set_value("sex").run()
    assert dict(at.query_params) == {"cols": "sex"}


def test_stacking_column_percentages_is_refused_in_words(run, plain):
    at = run({"rows": "simd", "cols": "bullied", "measure": "col_pct", "wave": "all", "missing": "0",
              "stacked": "1"})
    captions = plain(" ".join(c.value for c in at.caption))
    assert "add up to 100 down each column" in captions
    at = run({"rows": "simd", "cols": "bullied", "measure": "row_pct", "stacked": "1"})
    assert "not stacked" not in plain(" ".join(c.value for c in at.caption))


def test_the_chart_as_a_table_is_drawn_once_opened_and_reads_markers_in_words(run, plain):
    at = run({"rows": "school", "cols": "sex", "f.cluster": ["101"]})
    assert [e.label for e in at.expander if e.label == "Chart as a table"] and not at.table  # closed: not drawn
    at.session_state["chart_table"] = True  # a reader opens it
    at.run()
    cells = [plain(v) for v in at.table[0].value.to_numpy().ravel()]
    assert "protected" in cells and tables.SUPPRESSED not in cells
    at.selectbox(key="x_cols").set_value("simd").run()  # it stays open, with the new view's figures
    assert "1 (most deprived)" in [plain(c) for c in at.table[0].value.columns]
