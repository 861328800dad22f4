"""A report keeps each marker its protected results give: [z] (no such pupils: a structural zero, which is public)
is neither turned into [c] nor described as protected, in its summary, its notes or its spine chart's tooltips."""

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pandas as pd

from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.features.compare import charts as compare_charts, model as compare
from rcs_viz.features.report import model as report
from rcs_viz.output.tables import LOW_BASE, MARKERS, NO_PUPILS, SUPPRESSED


def _spine(hidden: list) -> SimpleNamespace:
    n = len(hidden)
    rows = pd.DataFrame({
        "indicator": [f"i{k}" for k in range(n)], "group": "Wellbeing", "label": [f"Indicator {k}" for k in range(n)],
        "statistic": "pct", "polarity": "neutral", "value": np.nan, "ci_low": np.nan, "ci_high": np.nan,
        "hidden": hidden, "base": pd.array([pd.NA] * n, dtype="Int64"), "cpp": 20.0, "national": np.nan,
        "verdict": "not compared"})
    return SimpleNamespace(rows=rows, unit_label="Alder Primary")


def test_every_marker_stays_itself_in_the_summary_and_anything_else_is_protected():
    summary = report._unit_summary(_spine([SUPPRESSED, LOW_BASE, NO_PUPILS, None, "[x]"]), "School")
    assert list(summary["School"]) == [SUPPRESSED, LOW_BASE, NO_PUPILS, SUPPRESSED, SUPPRESSED]
    assert "no such pupils" in MARKERS[NO_PUPILS]  # the key under every summary names it so


def test_rows_with_no_such_pupils_are_not_called_protected():
    notes = report._protected_rows(_spine([SUPPRESSED, NO_PUPILS]))
    assert notes == ("Not shown for Alder Primary (protected or base too small): Indicator 0.",
                     "No such pupils for Alder Primary: Indicator 1.")
    assert report._protected_rows(_spine([NO_PUPILS])) == ("No such pupils for Alder Primary: Indicator 0.",)


def test_the_spine_a_report_draws_reads_no_such_pupils_not_protected(sample_dataset):
    spine = compare.spine(sample_dataset, "cluster", "101", compare.Scope(cpp="1", wave="2019"), "cpp", Rules())
    rows = spine.rows.copy()
    rows.loc[0, ["value", "ci_low", "ci_high", "hidden"]] = [np.nan, np.nan, np.nan, NO_PUPILS]
    rows.loc[1, ["value", "ci_low", "ci_high", "hidden"]] = [np.nan, np.nan, np.nan, SUPPRESSED]
    spec = compare_charts.spine_chart(replace(spine, rows=rows)).to_dict()
    texts = {r["indicator"]: r["value_text"] for r in next(iter(spec["datasets"].values()))}
    assert texts[rows.loc[0, "indicator"]] == compare_charts.NONE_TEXT
    assert texts[rows.loc[1, "indicator"]] == compare_charts.NA_TEXT


def test_the_trend_a_report_draws_counts_no_such_pupils_apart_from_too_few(sample_dataset):
    ind = next(i for i in compare.indicators(sample_dataset.dictionary) if i.statistic == "pct")
    trend = compare.trend(sample_dataset, ind, "cluster", "101", compare.Scope(cpp="1"), Rules())
    series = trend.series.copy()
    series.loc[0, ["value", "ci_low", "ci_high", "hidden"]] = [np.nan, np.nan, np.nan, NO_PUPILS]
    subtitle = compare_charts.trend_chart(replace(trend, series=series)).to_dict()["title"]["subtitle"]
    assert "1 point not drawn: no such pupils." in subtitle
    assert not any("too few pupils" in line for line in subtitle), subtitle
