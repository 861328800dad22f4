"""Charts drawn for a slide (rcs_viz.output.deck_chart), on small made-up bar charts: fast, no data set.

A chart too long for a slide is split into parts on one scale, a ranking too long for three slides shows its top
and bottom, any other chart too long for six is sorted by its figures and shows its highest and lowest, and every
picture's labels come out at 18 pt or more in the box it was drawn for.
"""

from __future__ import annotations

import re

import altair as alt
import pandas as pd

from rcs_viz.output import deck as slides, deck_chart, figures

SCALE = 1.5
FONT_PX = figures.FONT_SIZE * SCALE * 2
BOX = (12.3, 4.9)  # inches: a chart's own slide


def spec(n: int, all_row: bool = False) -> dict:
    """A page-shaped bar chart of `n` units (values 10, 20, ...), its rows 30 px apart at the presenting scale."""
    names = [f"Unit {k:03d}" for k in range(n)] + (["All"] if all_row else [])
    data = pd.DataFrame({"unit": names, "value": [10.0 * (k + 1) for k in range(len(names))]})
    step = 30 * SCALE
    chart = alt.Chart(data).mark_bar(size=step * 0.7).encode(
        x=alt.X("value:Q", title="Value"), y=alt.Y("unit:N", sort=names, title=None))
    chart = chart.properties(width="container", height=step * len(names))
    return figures.spec_of(figures.fit(chart, "", [], step * len(names) + 100, SCALE), validate=False)


def test_a_short_chart_is_one_picture_whose_labels_read_at_18_pt():
    (part,) = deck_chart.draw(spec(5), *BOX, FONT_PX, split=True)
    assert part.caption == ""
    assert slides.label_pt(part.png, FONT_PX, *BOX) >= slides.CHART_PT


def test_a_chart_too_long_for_a_slide_is_split_on_one_scale_with_all_in_every_part():
    s = spec(14, all_row=True)
    assert deck_chart.draw(s, *BOX, FONT_PX) == []  # without split: it cannot be read whole in the box
    parts = deck_chart.draw(s, *BOX, FONT_PX, split=True)
    assert 2 <= len(parts) <= deck_chart.MOST_SPLIT
    spans = [tuple(int(n) for n in re.match(r"Rows (\d+) to (\d+) of (\d+), every part on the same scale",
                                            p.caption).groups()) for p in parts]
    assert spans[0][0] == 1 and spans[-1][1] == 14 and all(t == 14 for *_, t in spans)
    assert all(a[1] + 1 == b[0] for a, b in zip(spans, spans[1:]))
    assert all(slides.label_pt(p.png, FONT_PX, *BOX) >= slides.CHART_PT for p in parts)
    field, order = deck_chart._categories(s)
    domain = deck_chart._x_domain(s)
    assert field == "unit" and order[-1] == "All" and domain == [0.0, 150.0]  # the whole chart's scale, zero too


def test_a_long_ranking_shows_its_top_and_bottom_and_says_how_many_are_between():
    parts = deck_chart.draw(spec(60), *BOX, FONT_PX, ranked=True, split=True)
    assert len(parts) == 2
    top = re.match(r"Top (\d+) of 60 drawn, as ranked; the (\d+) between are in the view's link", parts[0].caption)
    assert top and int(top.group(2)) == 60 - 2 * int(top.group(1))
    assert parts[1].caption.startswith(f"Bottom {top.group(1)} of 60 drawn, same scale")
    assert all(slides.label_pt(p.png, FONT_PX, *BOX) >= slides.CHART_PT for p in parts)


def test_any_other_chart_too_long_for_six_slides_shows_its_highest_and_lowest_by_value():
    """Explore's every school, in the data's order, would take more than six slides: a presenter gets the schools
    that stand out, sorted by value, each caption saying so and where the rest are (it was left out before)."""
    s = spec(100)
    parts = deck_chart.draw(s, *BOX, FONT_PX, split=True)
    assert len(parts) == 2
    high = re.match(r"Highest (\d+) of 100 by value; the (\d+) between are in the view's link", parts[0].caption)
    assert high and int(high.group(2)) == 100 - 2 * int(high.group(1))
    assert parts[1].caption.startswith(f"Lowest {high.group(1)} of 100 by value, same scale")
    assert all(slides.label_pt(p.png, FONT_PX, *BOX) >= slides.CHART_PT for p in parts)
    field, order = deck_chart._categories(s)
    ordered, by = deck_chart._by_figure(s, field, order)
    assert ordered[:2] == ["Unit 099", "Unit 098"] and ordered[-1] == "Unit 000" and by == "value"


def grouped(n: int, stacked: bool) -> dict:
    """`n` units with two series, side by side or stacked; series "A" is highest for Unit 000, "B" makes the last
    unit's bar the longest."""
    names = [f"Unit {k:03d}" for k in range(n)]
    rows = [{"unit": u, "series": "A", "value": float(n - k)} for k, u in enumerate(names)]
    rows += [{"unit": u, "series": "B", "value": float(3 * k)} for k, u in enumerate(names)]
    chart = alt.Chart(pd.DataFrame(rows)).mark_bar().encode(
        x=alt.X("value:Q", stack="zero" if stacked else None), y=alt.Y("unit:N", sort=names),
        color=alt.Color("series:N", sort=["A", "B"]), **({} if stacked else {"yOffset": "series:N"}))
    chart = chart.properties(width="container", height=30 * SCALE * n)
    return figures.spec_of(figures.fit(chart, "", [], 30 * SCALE * n + 100, SCALE), validate=False)


def test_a_chart_of_several_series_is_sorted_by_its_first_series_or_its_whole_bar():
    side = grouped(80, stacked=False)
    ordered, by = deck_chart._by_figure(side, "unit", deck_chart._categories(side)[1])
    assert by == "A" and ordered[0] == "Unit 000"
    whole = grouped(80, stacked=True)
    ordered, by = deck_chart._by_figure(whole, "unit", deck_chart._categories(whole)[1])
    assert by == "whole bar" and ordered[0] == "Unit 079"  # 1 + 237 beats 80 + 0
    parts = deck_chart.draw(side, *BOX, FONT_PX, split=True)
    room = re.match(r"Highest (\d+) of 80 by A; ", parts[0].caption).group(1)
    assert len(parts) == 2 and parts[1].caption.startswith(f"Lowest {room} of 80 by A, same scale")
