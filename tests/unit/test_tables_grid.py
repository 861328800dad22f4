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
