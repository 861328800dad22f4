"""The table as a sortable grid: numbers as numbers, the text as on screen, margins apart; whole counts whole."""

import io
import math

import pandas as pd
import pytest

from rcs_viz.engine import service
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.sql.views import CrossTab
from rcs_viz.features.explore import charts
from rcs_viz.output import export, tables


@pytest.fixture(scope="module")
def counts(sample_dataset):
    return service.crosstab(sample_dataset, CrossTab(rows="cluster", cols="sex"), "count", Rules())


@pytest.fixture(scope="module")
def school_pct(sample_dataset):
    cluster = sample_dataset.dictionary["cluster"].values[0][0]
    q = CrossTab(rows="school", cols="sex", filters=(("cluster", (cluster,)), ("wave", ("2019",))))
    return service.crosstab(sample_dataset, q, "row_pct", Rules())


def test_the_grid_sorts_by_numbers_and_shows_the_tables_text(counts):
    g = tables.grid(counts)
    wide = tables.wide(counts).reset_index()
    assert g.text.equals(wide)
    numbers = g.values.iloc[g.body]
    assert all(pd.api.types.is_float_dtype(numbers[c]) for c in numbers.columns[1:])
    ordered = numbers["All"].dropna().sort_values().tolist()
    assert ordered == sorted(ordered) and min(ordered) < 2000 < max(ordered)  # numeric order: 1,848 before 10,000-odd
    for i in g.body:
        for c in numbers.columns[1:]:
            v, text = g.values.at[i, c], g.text.at[i, c]
            assert text == (tables.SUPPRESSED if math.isnan(v) else f"{v:,.0f}")


def test_margins_are_apart_from_the_body(counts):
    g = tables.grid(counts)
    assert [g.text.iat[i, 0] for i in g.margins] == ["All"]
    assert "All" not in [g.text.iat[i, 0] for i in g.body]
    assert sorted(g.body + g.margins) == list(range(len(g.text)))


def test_each_panel_keeps_its_all_row_among_the_margins(sample_dataset):
    r = service.crosstab(sample_dataset, CrossTab(rows="simd", cols="fsm", panel="stage"), "count", Rules())
    g = tables.grid(r)
    assert all(g.text.iat[i, 1] == "All" for i in g.margins)
    assert len(g.margins) == g.text.iloc[:, 0].nunique()


def test_the_two_markers_stay_apart(school_pct):
    g = tables.grid(school_pct, show_ci=True)
    cells = [(g.values.iat[i, j], g.text.iat[i, j]) for i in range(len(g.text)) for j in range(1, g.text.shape[1])]
    assert {t for v, t in cells if isinstance(v, float) and math.isnan(v)} == {tables.SUPPRESSED}
    assert {t for v, t in cells if v == -math.inf} <= {tables.LOW_BASE}
    assert any("–" in t for _, t in cells)  # intervals are shown in the text, the grid sorts by the estimate


def test_counts_are_whole_numbers_in_tooltips_and_files(counts, school_pct):
    tips = charts.chart(counts).to_dict()["encoding"]["tooltip"]
    assert next(t for t in tips if t["field"] == "value")["format"] == ",.0f"
    tips = charts.chart(school_pct).to_dict()["encoding"]["tooltip"]
    assert next(t for t in tips if t["field"] == "value")["format"] == ",.1f"
    text = export.to_csv(counts).decode()
    assert ".0," not in text and not any(line.endswith(".0") for line in text.splitlines())
    assert str(export.tidy(counts)["count"].dtype) == "Int64"
    assert pd.read_csv(io.BytesIO(export.to_csv(counts)), comment="#")["count"].dropna().map(lambda v: float(v).is_integer()).all()


# --- stacking only parts of a whole ----------------------------------------------------------------------------

@pytest.mark.parametrize("measure, stacks", [("count", True), ("row_pct", True), ("total_pct", True),
                                             ("col_pct", False)])
def test_only_parts_of_a_whole_are_stacked(sample_dataset, measure, stacks):
    r = service.crosstab(sample_dataset, CrossTab(rows="simd", cols="bullied"), measure, Rules())
    ok, why = charts.stacking(r, asked=True)
    assert ok == stacks and (why is None) == stacks
    if not stacks:
        assert "add up to 100 down each column" in why
    x = charts.chart(r, stacked=ok).to_dict()["encoding"]["x"]
    assert (x.get("stack") == "zero") == stacks
    if stacks and measure == "row_pct":  # the parts of each bar really make 100
        data, _ = charts.drawable(r)
        totals = data.groupby("row_label")["value"].sum()
        assert ((totals > 99.5) & (totals < 100.5)).all()


def test_no_stacking_without_columns_with_intervals_or_for_means(sample_dataset):
    plain = service.crosstab(sample_dataset, CrossTab(rows="simd"), "count", Rules())
    assert charts.stacking(plain, True) == (False, charts.stacking(plain, True)[1]) and "no column" in \
        charts.stacking(plain, True)[1]
    pct = service.crosstab(sample_dataset, CrossTab(rows="simd", cols="sex"), "row_pct", Rules())
    assert not charts.stacking(pct, True, show_ci=True)[0]
    mean = service.crosstab(sample_dataset, CrossTab(rows="simd", cols="sex", value="wemwbs"), "mean", Rules())
    ok, why = charts.stacking(mean, True)
    assert not ok and "mean of each group is not a part of a whole" in why
    assert charts.stacking(pct, False) == (False, None)
