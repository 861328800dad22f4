"""Charts in words: every chart's accessible description, and the table read in words, say only what is shown.

A screen reader reads a chart's `description` (its aria-label) and the "Chart as a table" expander instead of the
drawing, so they are outputs like any other: a protected cell is never a figure in them, only the word.
"""

import html
import json
import re

import pytest

from rcs_viz.engine import service
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.sql.views import CrossTab
from rcs_viz.features.explore import charts
from rcs_viz.output import figures, tables

NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
FIGURES = re.compile(r", (-?[\d,.]+); lowest .*, (-?[\d,.]+)\.$")  # "highest <label>, <figure>; lowest <label>, <figure>."
# The views of a cluster's schools by sex in one wave: small groups, so cells are protected (primary and secondary).
VIEWS = [("school", "sex", None, "count"), ("school", "sex", None, "row_pct"), ("simd", "sex", "stage", "row_pct"),
         ("school", "young_carer", None, "count"), ("school", "bullied", None, "col_pct")]


@pytest.fixture(scope="module", params=VIEWS, ids=["-".join(str(x) for x in v if x) for v in VIEWS])
def result(request, sample_dataset):
    rows, cols, panel, measure = request.param
    cluster = sample_dataset.dictionary["cluster"].values[0][0]
    q = CrossTab(rows=rows, cols=cols, panel=panel, filters=(("cluster", (cluster,)), ("wave", ("2019",))))
    return service.crosstab(sample_dataset, q, measure, Rules())


def test_every_figure_in_a_description_is_one_the_table_shows(result):
    spec = charts.chart(result).to_dict()
    words = spec["description"]
    title = spec["title"]
    said = " ".join([figures.title_of(spec), *title["subtitle"]])
    assert words.startswith(said.split(" ")[0]) and "highest" in words and "lowest" in words, words
    drawn, missing = charts.drawable(result)
    shown = set(tables.wide(result).to_numpy().ravel()) - set(tables.MARKERS)
    # what the description adds to its title and subtitle: the number of marks, and the figures it names
    figures_said = [n for n in NUMBER.findall(words[len(said):]) if n != str(len(drawn))]
    labels = {str(x) for x in drawn[["row_label", "col_label", "panel_label"]].to_numpy().ravel() if x is not None}
    for n in figures_said:
        assert n in shown or any(n in label for label in labels), f"{n} is not a figure the table shows: {words}"
    assert result.summary["protected"] > 0 or not missing  # these views do protect cells
    high = drawn["value"].astype(float).max()
    assert tables.cell_text({"status": "shown", "value": high}, result.measure).replace(",", "") in \
        words.replace(",", ""), words


def test_a_protected_cell_is_never_a_figure_in_the_description(result, sample_dataset):
    """The figures behind protected cells, read with no protection, appear nowhere in the chart's words."""
    q = result.query
    open_ = service.crosstab(sample_dataset, q, result.measure, Rules(threshold=1, secondary=False,
                                                                      perturbation=False, min_base=1))
    hidden = result.cells["status"] != "shown"
    keys = ["row", "col", "panel"]
    secret = open_.cells.merge(result.cells.loc[hidden, keys], on=keys)
    shown = set(tables.wide(result).to_numpy().ravel())
    for c in [charts.chart(result), *charts.on_screen(result)[0]]:
        words = c.to_dict()["description"]
        said = set(FIGURES.search(words).groups()) if "highest" in words else set()
        for value in secret["value"].dropna():
            text = tables.cell_text({"status": "shown", "value": value, "ci_low": float("nan")}, result.measure)
            assert text not in said or text in shown, (text, words)


def test_the_table_in_words_says_protected_never_a_marker_or_a_number(result):
    wide = tables.wide(result)
    words = tables.in_words(result)
    assert words.index.equals(wide.index) and list(words.columns) == list(wide.columns)
    body = words.to_numpy()
    assert not (set(body.ravel()) & set(tables.MARKERS))
    assert (body == "protected").sum() == (wide.to_numpy() == tables.SUPPRESSED).sum() > 0
    assert (body == "base too small").sum() == (wide.to_numpy() == tables.LOW_BASE).sum()
    assert ((body != "protected") & (body != "base too small")).sum() == \
        ((wide.to_numpy() != tables.SUPPRESSED) & (wide.to_numpy() != tables.LOW_BASE)).sum()


def test_a_chart_with_nothing_to_draw_still_has_its_title_in_words():
    import altair as alt
    import pandas as pd

    empty = alt.Chart(pd.DataFrame({"v": []})).mark_bar().encode(x="v:Q")
    words = figures.finish(empty, "Nothing here", ["Filters: none"], 100, 1.0).to_dict()["description"]
    assert words == "Nothing here. Filters: none."


def test_a_fitted_chart_reads_its_subtitle_whole_and_draws_it_by_width():
    """The description reads each subtitle sentence whole (not cut where a line broke, "lines are. 95% confidence");
    on screen the subtitle's lines are chosen by the container's width, narrower lines for a narrower one."""
    import altair as alt
    import pandas as pd

    sentence = "Each school cluster compared with the CPP average; lines are 95% confidence intervals drawn around it."
    c = figures.fit(alt.Chart(pd.DataFrame({"v": [1]})).mark_bar().encode(x="v:Q").properties(width="container"),
                    "Title", [sentence], 100, 1.0)
    assert sentence.rstrip(".") in c.to_dict()["description"]
    spec = figures.on_screen(c.to_dict(validate=False))
    chosen = spec["title"]["subtitle"]["expr"]
    assert "containerSize()[0]" in chosen and "subtitle" not in spec["usermeta"]
    assert json.dumps(figures.wrap(sentence, figures.FONT_SIZE - 2, 296)) in chosen  # a 320 px column's lines
    assert json.dumps([sentence]) in chosen  # one line where there is room


def test_chart_text_is_dark_enough_on_white():
    """Axis, legend, title and header text of every finished chart: WCAG AA 4.5:1 against white."""
    def lum(hex_):
        r, g, b = (int(hex_[i:i + 2], 16) / 255 for i in (1, 3, 5))
        f = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in (r, g, b)]
        return 0.2126 * f[0] + 0.7152 * f[1] + 0.0722 * f[2]

    import altair as alt
    import pandas as pd

    config = figures.finish(alt.Chart(pd.DataFrame({"v": [1]})).mark_bar().encode(x="v:Q"), "t", [], 100,
                            1.0).to_dict()["config"]
    colours = [config["axis"]["labelColor"], config["axis"]["titleColor"], config["legend"]["labelColor"],
               config["legend"]["titleColor"], config["title"]["color"], config["title"]["subtitleColor"],
               config["header"]["labelColor"], config["text"]["color"]]
    for c in colours:
        assert 1.05 / (lum(c) + 0.05) >= 4.5, c


def test_an_exported_svg_is_named_by_the_charts_description(result):
    c = charts.chart(result)
    svg = figures.to_svg(c)
    head = svg[:svg.index(">") + 1]
    assert 'role="img"' in head and "aria-label=" in head and "<title>" in svg
    assert html.unescape(re.search(r'aria-label="([^"]*)"', head).group(1)) == c.to_dict()["description"]
