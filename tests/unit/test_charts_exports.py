"""Charts and exports come from the protected result: nothing hidden is drawn or written."""

import io
import json

import openpyxl
import pandas as pd
import pytest

from rcs_viz.features.explore import charts

from rcs_viz.output import figures
from rcs_viz.output import tables
from rcs_viz.output import export
from rcs_viz.engine import service
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.sql.views import CrossTab


@pytest.fixture(scope="module")
def result(sample_dataset):
    ds = sample_dataset
    cluster = ds.dictionary["cluster"].values[0][0]
    q = CrossTab(rows="school", cols="sdq_total_band", filters=(("cluster", (cluster,)), ("wave", ("2019",))))
    return service.crosstab(ds, q, "row_pct", Rules())


def test_a_cluster_lists_its_own_schools_only(result):
    schools = set(result.cells["row"].dropna())
    assert 3 <= len(schools) <= 10  # a secondary and its feeder primaries, not all 126 schools


def test_protected_cells_are_left_out_of_the_chart_and_named(result):
    data, missing = charts.drawable(result)
    hidden = result.cells[result.cells["value"].isna() & result.cells["row"].notna() & result.cells["col"].notna()]
    assert len(hidden) > 0 and len(missing) == len(hidden)
    assert data["value"].notna().all()
    spec = charts.chart(result).to_dict()
    values = [row for ds in spec["datasets"].values() for row in ds]
    assert len(values) == len(data)
    assert not any(v.get("status") == "suppressed" for v in values)


def test_chart_title_names_the_question_and_the_synthetic_label(result):
    spec = charts.chart(result, show_ci=True).to_dict()
    assert figures.title_of(spec).startswith("School by SDQ total difficulties band")
    assert any("Synthetic sample" in s for s in spec["title"]["subtitle"])


def test_png_and_svg_exports(result):
    png = figures.to_png(charts.chart(result))
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    svg = figures.to_svg(charts.chart(result))
    assert svg.lstrip().startswith("<svg") and "Synthetic sample" in svg


def test_csv_excel_and_screen_agree(result):
    csv = pd.read_csv(io.BytesIO(export.csv_with_context(result, "respondents.parquet", "2019")),
                      keep_default_na=False, comment="#")
    assert csv.equals(pd.read_csv(io.BytesIO(export.to_csv(result)), keep_default_na=False))
    screen = tables.wide(result)
    book = openpyxl.load_workbook(io.BytesIO(export.to_excel(result, source="respondents.parquet", wave="2019")))
    sheet = [[c.value for c in r] for r in book["Table"].iter_rows()]
    for _, c in csv.iterrows():
        text = screen.loc[c["row"], c["col"]]
        in_excel = next(r for r in sheet if r[0] == c["row"])[sheet[0].index(c["col"])]
        if c["status"] == "suppressed":
            assert text == tables.SUPPRESSED == in_excel and c["count"] == "" and c["value"] == ""
        elif c["value"] == "":
            assert text == tables.LOW_BASE == in_excel
        else:
            assert text == f"{float(c['value']):.1f}"
            assert isinstance(in_excel, (int, float)) and f"{in_excel:.1f}" == text  # a number, not "73.9" as text
    notes = dict((r[0].value, r[1].value) for r in book["Notes"].iter_rows())
    assert "synthetic" in notes["Data"].lower()
    assert notes["Source file"] == "respondents.parquet"
    assert "Counts below 10" in notes["Disclosure rules"]
    assert notes["Rows"] == "School (variable school)" and notes["Columns"].startswith("SDQ total difficulties band")
    assert notes["Wave"] == "2019" and notes["Title"].startswith("School by SDQ total difficulties band")
    assert book["Table"].cell(2, 2).number_format == "0.0"


def test_the_csv_says_what_it_holds_above_tidy_numeric_columns(result, sample_dataset):
    text = export.csv_with_context(result, "respondents.parquet", "2019").decode()
    head = [line for line in text.splitlines() if line.startswith("#")]
    keys = [line.split(",", 1)[0] for line in head]
    for key in ("Title", "Data", "Source file", "Filters", "Wave", "Measure", "Disclosure rules", "Produced",
                "Synthetic", "Columns"):
        assert f"# {key}" in keys, key
    assert text.splitlines()[len(head)].startswith("row,col,count,value")  # then the columns, at once
    assert "School cluster: " in text and "Survey wave: 2019" in text  # filters in words
    counts = service.crosstab(sample_dataset, CrossTab(rows="cluster", cols="sex"), "count", Rules())
    tidy = pd.read_csv(io.BytesIO(export.csv_with_context(counts)), comment="#")
    assert pd.api.types.is_integer_dtype(tidy["count"]) and ".0," not in export.csv_with_context(counts).decode()


def test_file_names_say_what_the_file_holds(result):
    stem = export.file_stem(result, "2019")
    assert stem.startswith("rcs_school_by_sdq-total-difficulties-band_row_2019_synthetic_") or \
        stem.startswith("rcs_school_by_sdq-total-difficulties-band_")
    assert "2019" in stem and "synthetic" in stem and all(ch.isalnum() or ch in "_-" for ch in stem)


def test_json_nulls_every_protected_number(result):
    doc = json.loads(export.to_json(result))
    for cell in doc["cells"]:
        if cell["status"] == "suppressed":
            assert cell["count"] is None and cell["value"] is None and cell["ci_low"] is None
            assert cell["reason"]


@pytest.mark.parametrize("text", ["=cmd|' /C calc'!A0", "+1+1", "-2", "@SUM(A1)", "\t=1"])
def test_formula_like_text_is_neutralised(text):
    assert export.safe_text(text) == "'" + text
    assert export.safe_text("Hillview") == "Hillview"


def test_an_exported_chart_says_where_it_came_from_and_how_it_was_protected(sample_dataset):
    from rcs_viz.features.explore import charts
    from rcs_viz.engine import service
    from rcs_viz.engine.disclosure.gate import Rules
    from rcs_viz.engine.sql.views import CrossTab

    result = service.crosstab(sample_dataset, CrossTab(rows="simd", cols="sex", filters=(("wave", ("2019",)),)),
                              "count", Rules())
    svg = figures.to_svg(charts.chart(result), figures.footer("respondents.parquet", result.rules))
    for words in ("Source: respondents.parquet", "counts under 10 suppressed", "secondary suppression",
                  "Produced", "Synthetic sample", "Survey wave: 2019"):
        assert words in svg, words


def test_a_chart_takes_its_containers_width_and_an_export_a_fixed_one(result):
    c = charts.chart(result)
    spec = c.to_dict()
    assert spec["width"] == "container" and spec["autosize"]["type"] == "fit-x"
    assert json.loads(figures._spec(c, []))["width"] == figures.EXPORT_WIDTH  # vl-convert has no container
    assert figures.to_png(c)[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_exported_chart_drawn_to_fit_keeps_its_source_line_whole(result):
    """A chart as wide as its container is exported at EXPORT_WIDTH: its source and rules lines wrap to that width
    rather than run off the image (nothing is drawn in its last columns of pixels)."""
    import io

    import numpy as np
    from PIL import Image

    lines = figures.footer("respondents.parquet", result.rules)
    assert max(len(line) for line in lines) > 120  # longer than one line of the export
    with Image.open(io.BytesIO(figures.to_png(charts.chart(result), lines))) as img:
        pixels = np.asarray(img.convert("L"))
    assert (pixels[:, -6:] < 160).sum() == 0, "something is drawn up to the image's right edge: cut"
    svg = figures.to_svg(charts.chart(result), lines)
    assert "Source: respondents.parquet" in svg and "need a base of" in svg


def test_long_labels_are_shortened_distinctly_with_the_whole_text_in_the_tooltip(result):
    long = ["The Very Long Name of a School in the Borders Area", "The Very Long Name of a School in the Highlands",
            "Short"]
    short = figures.shorten_all(long)
    assert short["Short"] == "Short" and short[long[0]].endswith("…") and len(short[long[0]]) <= figures.SHORT
    assert len(set(short.values())) == 3
    spec = charts.chart(result).to_dict()
    tips = [t["field"] for layer in [spec] + spec.get("layer", []) for t in layer.get("encoding", {}).get("tooltip", [])]
    assert "row_label" in tips  # the axis shows row_short, the tooltip the whole label


def test_small_multiples_have_their_own_axes_and_one_complete_legend(sample_dataset):
    q = CrossTab(rows="simd", cols="safe_home", panel="stage", filters=(("wave", ("2019",)),))
    r = service.crosstab(sample_dataset, q, "row_pct", Rules())
    spec = charts.chart(r).to_dict()
    assert spec["resolve"]["axis"] == {"x": "independent", "y": "independent"}
    drawn, columns = charts.on_screen(r)
    head = drawn[0].to_dict()
    legend = head["encoding"]["color"]["legend"]
    assert legend["labelLimit"] == 0 and "No answer" in head["encoding"]["color"]["scale"]["domain"]
    assert len(drawn) - 1 == r.cells["panel"].dropna().nunique() and columns in (1, 2)
    assert all(d.to_dict()["width"] == "container" for d in drawn)
