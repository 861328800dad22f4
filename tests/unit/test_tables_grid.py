"""The table as a sortable grid: numbers as numbers, the text as on screen, margins apart; whole counts whole."""

import io
import math

import pandas as pd
import pytest

from rcs_viz.engine import service
from rcs_viz.engine.disclosure import gate
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
    assert g.text.drop(columns=tables.NOT_SHOWN, errors="ignore").equals(wide)
    numbers = g.values.iloc[g.body].drop(columns=tables.NOT_SHOWN, errors="ignore")
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


def _marked(g: tables.Grid) -> list[tuple[float, str, str]]:
    """Every number cell of a grid: its number, its text and its row's Not shown cell."""
    numeric = [c for c in g.values.columns if pd.api.types.is_float_dtype(g.values[c])]
    return [(g.values.at[i, c], g.text.at[i, c], g.text.at[i, tables.NOT_SHOWN]) for i in range(len(g.text))
            for c in numeric]


def test_a_cell_without_a_figure_is_empty_and_its_row_says_why(school_pct):
    """A grid's accessible table reads a cell's number: a marker drawn as one (-inf for [b]) was read "-Infinity".
    Every cell without a figure is empty (NaN) and its marker is named in its row's Not shown column."""
    g = tables.grid(school_pct, show_ci=True)
    cells = _marked(g)
    assert not any(math.isinf(v) for v, _, _ in cells)
    empty = [(t, why) for v, t, why in cells if math.isnan(v)]
    assert {t for t, _ in empty} == {tables.SUPPRESSED, tables.LOW_BASE}  # this view has both
    assert all(t in why.split() for t, why in empty)
    assert list(g.text.columns[:2]) == ["School", tables.NOT_SHOWN]  # read right after the row's label
    assert any("–" in t for _, t, _ in cells)  # intervals are shown in the text, the grid sorts by the estimate


def test_a_mean_over_nobody_is_no_such_pupils_not_a_small_base(sample_dataset):
    """A school's mean in a stage it does not teach (a structural zero, public) has no figure because nobody is
    there: [z], not [b], which says some pupils were held back as too few."""
    r = service.crosstab(sample_dataset, CrossTab(rows="school", cols="stage", value="wemwbs"), "mean", Rules())
    structural = r.cells["reason"].eq(gate.NO_SUCH_PUPILS) & r.cells["row"].notna() & r.cells["col"].notna()
    assert structural.any()
    text = [tables.cell_text(c, "mean") for c in r.cells.to_dict("records")]
    assert {t for t, s in zip(text, structural) if s} == {tables.NO_PUPILS}
    assert tables.LOW_BASE in {t for t, s in zip(text, structural) if not s}  # a small base is still [b]
    assert "no such pupils" in tables.in_words(r).to_numpy().ravel().tolist()  # the expander reads it in words
    g = tables.grid(r)
    assert all(t in why.split() for v, t, why in _marked(g) if math.isnan(v))


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


def test_a_layout_names_the_markers_its_table_holds(sample_dataset, school_pct):
    """`tables.layout` is what the page draws of a table, cached per table: its markers (the caption's legend and
    the grid's placeholder) are those its text holds."""
    laid = tables.layout(school_pct, show_ci=True)
    text = set(tables.wide(school_pct, show_ci=True).to_numpy().ravel())
    assert laid.used == tuple(m for m in tables.MARKERS if m in text) and len(laid.used) == 2
    assert laid.grid.text.equals(tables.grid(school_pct, True).text)
    counts = tables.layout(service.crosstab(sample_dataset, CrossTab(rows="sex"), "count", Rules()))
    assert counts.used == ()
