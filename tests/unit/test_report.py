"""Report packs show only what the screen shows: the same protected figures, as HTML and PDF.

The key test works out, with DuckDB straight on the sample file, the true
value of every figure the protected results hide, and checks that neither
it nor any small count turns up in that unit's row of the report, in HTML or
in the text of the PDF; and that every number the summary does show is the
protected result's own.
"""

import datetime as dt
import html
import io
import re
from dataclasses import replace
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pypdf
import pytest

from rcs_viz.features.compare import model as compare
from rcs_viz.features.report import model as report, pdf as report_pdf
from rcs_viz.data import comparators
from rcs_viz.cli import main
from rcs_viz.features.compare.model import Scope
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.load import load_dataset

RULES = Rules()
WHEN = dt.datetime(2026, 3, 14, 9, 30)
NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


# --------------------------------------------------------------------------- helpers


def pdf_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def pdf_body(made: report.Report, data: bytes) -> list[str]:
    """Page texts without the running footer and the table headings repeated after a page break."""
    footer = re.compile(re.escape(flat(f"{made.title} · {made.wave_label} · produced {made.date_text}"))
                        + r".*?page \d+ of \d+")
    heading = flat(" ".join(made.summary_columns))
    return [footer.sub(" ", flat(p)).replace(heading, " ") for p in pdf_text(data)]


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def html_rows(page: str) -> dict[str, list[str]]:
    """indicator → the summary row's cell texts."""
    out = {}
    for name, body in re.findall(r'<tr data-indicator="([^"]+)"[^>]*>(.*?)</tr>', page, re.S):
        out[html.unescape(name)] = [flat(html.unescape(re.sub(r"<[^>]+>", "", c)))
                                    for c in re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)]
    return out


def html_sections(page: str) -> dict[str, str]:
    return dict(re.findall(r'<section id="([^"]+)"[^>]*>(.*?)</section>', page, re.S))


def svg_texts(section_html: str) -> list[str]:
    """The words drawn in a section's chart (not the notes beneath it)."""
    figure = re.search(r"<figure.*?</figure>", section_html, re.S)
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", figure.group(0), re.S)] if figure else []


def pdf_rows(pages: list[str], labels: list[str]) -> dict[str, str]:
    """Each summary row's text in the PDF: from its label to the next row's label (or domain)."""
    text = flat(" ".join(pages))
    start = text.index("Summary: every indicator")
    out = {}
    for i, label in enumerate(labels):
        at = text.index(flat(label), start) + len(flat(label))
        ends = [text.find(flat(labels[i + 1]), at)] if i + 1 < len(labels) else [text.find("Spine:", at)]
        stop = min(e for e in ends if e >= 0)
        out[label] = text[at:stop]
        start = at
    return out


def texts(value: float) -> set[str]:
    return {f"{value:.1f}", f"{value:.2f}", f"{value:,.1f}"}


def truth(ind: compare.Indicator, where: str, data: Path) -> tuple[float | None, int]:
    """The unprotected figure and its count, straight from the file `data`: what the gate must keep from view."""
    col = ind.name
    if ind.statistic == "pct":
        n, k = duckdb.sql(f"SELECT count({col}), count(*) FILTER (WHERE CAST({col} AS VARCHAR) IN "
                          f"({', '.join(repr(c) for c in ind.positive)})) FROM '{data}' WHERE {where}").fetchall()[0]
        return (100 * k / n if n else None), k
    n, mean = duckdb.sql(f"SELECT count({col}), avg({col}) FROM '{data}' WHERE {where}").fetchall()[0]
    return mean, n


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def big_school(sample_dataset, sample_comparators):
    """Monmordie High School: some rows hidden ([c] for rare answers, [b] for the primary-only scale)."""
    made = report.build(sample_dataset, "school", "10101", Scope("1", wave="2019"), RULES, sample_comparators,
                        created=WHEN)
    return made, report.to_html(made), report_pdf.render(made)


@pytest.fixture(scope="module")
def small_school(sample_dataset, sample_comparators):
    """Auchyarrow Primary (about two dozen pupils): most of its figures are hidden."""
    inds = {i.name: i for i in compare.indicators(sample_dataset.dictionary)}
    made = report.build(sample_dataset, "school", "10105", Scope("1", wave="2019"), RULES, sample_comparators,
                        [inds["bullied"], inds["fsm"]], created=WHEN)
    return made, report.to_html(made), report_pdf.render(made)


@pytest.fixture(scope="module")
def filtered_cpp(sample_dataset, sample_comparators):
    d = sample_dataset.dictionary
    inds = {i.name: i for i in compare.indicators(d)}
    made = report.build(sample_dataset, "cpp", None, Scope("2", wave="2019", filters=(("sex", (d["sex"].code_of("Girl"),)),)),
                        RULES, sample_comparators, [inds["bullied"]], created=WHEN)
    return made, report.to_html(made), report_pdf.render(made)


# --------------------------------------------------------------------------- (a) nothing the screen would hide


@pytest.mark.parametrize("which", ["big_school", "small_school"])
def test_a_report_shows_no_value_the_screen_protects(which, request, sample_dir):
    made, page, pdf = request.getfixturevalue(which)
    spine = made.summary_result
    d_inds = {i.name: i for i in made.key_indicators} | {
        i.name: i for i in compare.indicators(request.getfixturevalue("sample_dataset").dictionary)}
    rows = html_rows(page)
    labels = list(spine.rows["label"])
    in_pdf = pdf_rows(pdf_body(made, pdf), labels)
    where = f"cpp = 1 AND wave = 2019 AND school = {int(made.unit)}"
    hidden = spine.rows[spine.rows["value"].isna()]
    assert len(hidden), "the case needs hidden figures to be a test"
    checked = 0
    for r in hidden.to_dict("records"):
        value, count = truth(d_inds[r["indicator"]], where, sample_dir / "respondents.parquet")
        cells, line = rows[r["indicator"]], in_pdf[r["label"]]
        assert cells[1] in ("[c]", "[b]") and cells[2] == "", cells
        # the unit's own cells; the CPP and national columns are other, shown figures that may match by chance
        own = cells[1:4] + cells[6:]
        tokens = NUMBER.findall(line)
        for shown in cells[4:6]:
            if NUMBER.fullmatch(shown):
                tokens.remove(shown)
        if value is not None:
            checked += 1
            for t in texts(value):
                assert t not in own, (r["indicator"], t, cells)
                assert t not in tokens, (r["indicator"], t, line)
        if 0 < count < RULES.threshold:
            assert str(count) not in own and str(count) not in tokens, (r["indicator"], count, line)
    assert checked, "at least one hidden figure has a true value to look for"
    # no count under the threshold anywhere in the summary's Pupils column, on screen or on paper
    pupils = made.summary_columns.index("Pupils")
    for cells in rows.values():
        assert cells[pupils] == "[c]" or int(cells[pupils].replace(",", "")) >= RULES.threshold
    for line in in_pdf.values():
        whole = [int(t.replace(",", "")) for t in NUMBER.findall(line) if "." not in t]
        assert all(n >= RULES.threshold for n in whole), line


@pytest.mark.parametrize("which", ["big_school", "small_school"])
def test_a_rank_charts_never_draw_a_protected_unit(which, request, sample_dir):
    made, page, _ = request.getfixturevalue(which)
    sections = html_sections(page)
    seen_hidden = 0
    for s in made.sections:
        if not s.key.startswith("rank-"):
            continue
        drawn = " ".join(svg_texts(sections[s.key]))
        for unit in s.result.units.to_dict("records"):
            if pd.isna(unit["value"]):
                seen_hidden += 1
                assert unit["label"] not in drawn, (s.key, unit["label"])
                value, _ = truth(s.result.indicator, f"cpp = 1 AND wave = 2019 AND school = {int(unit['code'])}",
                                 sample_dir / "respondents.parquet")
                assert value is None or all(t not in svg_texts(sections[s.key]) for t in texts(value))
            else:
                assert unit["label"] in drawn
    assert seen_hidden, "the cluster has schools too small to draw"


@pytest.mark.parametrize("which", ["big_school", "small_school"])
def test_a_every_summary_number_is_the_protected_results(which, request):
    made, page, pdf = request.getfixturevalue(which)
    spine = made.summary_result.rows.set_index("indicator")
    rows = html_rows(page)
    in_pdf = pdf_rows(pdf_body(made, pdf), list(spine["label"]))
    assert set(rows) == set(spine.index)
    for name, cells in rows.items():
        r = spine.loc[name]
        label, value, ci, pupils, cpp, national, vs_cpp, vs_nat = cells
        assert label == r["label"]
        dp = 1 if r["statistic"] == "pct" or max(abs(x) for x in (r["cpp"], r["value"], r["national"])
                                                 if pd.notna(x)) >= 10 else 2
        close = lambda text, x: abs(float(text.replace(",", "")) - x) <= 0.5 * 10 ** -dp + 1e-9  # noqa: E731
        if pd.isna(r["value"]):
            assert value == r["hidden"] and ci == "" and vs_cpp == "not compared"
        else:
            assert close(value, r["value"])
            lo, hi = ci.split("–")
            assert close(lo, r["ci_low"]) and close(hi, r["ci_high"])
            assert vs_cpp == r["verdict"]
        assert pupils == "[c]" if pd.isna(r["base"]) else int(pupils.replace(",", "")) == r["base"]
        assert close(cpp, r["cpp"]) if pd.notna(r["cpp"]) else cpp == "[c]"
        if pd.isna(r["national"]):
            assert national == "–" and vs_nat == "–"
        else:
            assert close(national, r["national"])
        # the PDF row carries the same numbers in the same order
        assert NUMBER.findall(in_pdf[r["label"]]) == NUMBER.findall(" ".join(cells[1:])), name


def test_a_summary_verdicts_against_the_nation_come_from_the_shown_interval(big_school):
    made, _, _ = big_school
    spine = made.summary_result.rows.set_index("indicator")
    for row in made.summary.to_dict("records"):
        r = spine.loc[row["indicator"]]
        if pd.notna(r["national"]):
            lo_side, hi_side = r["ci_low"] > r["national"], r["ci_high"] < r["national"]
            assert (row["Against national"] in ("no different", "not compared")) == (not lo_side and not hi_side)


# --------------------------------------------------------------------------- (b) what every export carries


def test_b_html_and_pdf_say_source_wave_filters_rules_date_and_synthetic(filtered_cpp):
    made, page, pdf = filtered_cpp
    pages = pdf_text(pdf)
    whole = flat(" ".join(pages))
    text = flat(html.unescape(re.sub(r"<[^>]+>", " ", page)))
    for needed in ("Synthetic sample — not real statistics", "Sex: Girl", RULES.describe(), "14 March 2026",
                   "respondents.parquet", "Survey wave 2019", "Firthmuir", "Method and disclosure",
                   "[c] protected", "[b] not shown", "95% interval"):
        assert needed in text, needed
        assert needed in whole, needed
    assert '<div class="banner"' in page
    assert all("Synthetic sample — not real statistics" in p for p in pages), "every PDF page's footer says so"
    # a filtered view is not compared with the nation: the report says so rather than guessing
    assert "National figures are for all pupils" in text
    assert set(made.summary["Against national"]) == {"–"}


def test_b_real_data_has_no_synthetic_banner(filtered_cpp):
    made, _, _ = filtered_cpp
    real = replace(made, synthetic=False, notes=())
    page = report.to_html(real)
    assert "banner" not in re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    assert "not real statistics" not in "".join(pdf_text(report_pdf.render(real))).replace(
        "Synthetic sample: fictional places and pupils, not real statistics.", "")


def test_b_pdf_prints_unicode_with_dejavu_and_falls_back_to_helvetica(filtered_cpp, tmp_path):
    made, _, pdf = filtered_cpp
    assert report_pdf.fonts_available(), "fonts-dejavu-core is installed by `make chromium`"
    assert b"DejaVu" in pdf and "–" in flat(" ".join(pdf_text(pdf)))
    plain = report_pdf.render(made, font_dir=tmp_path)  # no fonts there
    text = flat(" ".join(pdf_text(plain)))
    assert "Synthetic sample - not real statistics" in text and "Sex: Girl" in text
    assert b"Helvetica" in plain


def test_b_school_report_has_its_sections_in_order(big_school):
    made, page, pdf = big_school
    keys = [s.key for s in made.sections]
    assert keys[0] == "spine" and keys[-2:] == ["trend", "gradient"]
    assert [k for k in keys if k.startswith("rank-")] == [f"rank-{i.name}" for i in made.key_indicators]
    assert 1 <= len(made.key_indicators) <= report.KEY_MAX
    assert made.key_indicators[0].statistic == "pct"
    assert page.count("<svg") == len(keys)
    assert len(set(re.findall(r'\bid="([^"]+)"', page))) == len(re.findall(r'\bid="([^"]+)"', page))
    assert "<b>Monmordie High School</b>" not in page  # bold is drawn by the chart, not written as markup
    assert 4 <= len(pdf_text(pdf)) <= 14


# --------------------------------------------------------------------------- (c) labels are text, never markup


HOSTILE = """
dataset: {title: "Hostile <i>labels</i>", synthetic: true}
variables:
  - {name: id, label: Pupil, type: numeric, role: id}
  - {name: wave, label: Survey wave, type: ordinal, role: wave, values: {2016: '2016', 2019: '2019'}}
  - {name: cpp, label: CPP, type: categorical, role: cpp, values: {1: "Glen <b>shire</b>"}}
  - {name: cluster, label: School cluster, type: categorical, role: cluster, values: {1: North, 2: South}}
  - name: school
    label: School
    type: categorical
    role: school
    values: {11: "<script>alert('x')</script> Academy", 12: "Tom & Jerry's", 21: South High, 22: South Primary}
  - {name: simd, label: SIMD quintile, type: ordinal, values: {1: 1 (most deprived), 2: '2', 3: '3', 4: '4', 5: 5 (least deprived)}}
  - {name: happy, label: "Happy <img src=x onerror=alert(1)>", type: flag, group: "Well<b>being</b>", polarity: higher_is_better}
"""


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    rng = np.random.default_rng(7)
    n = 1600
    school = rng.choice([11, 12, 21, 22], n)
    frame = pd.DataFrame({"id": range(n), "wave": rng.choice([2016, 2019], n), "cpp": 1,
                          "cluster": np.where(school < 20, 1, 2), "school": school,
                          "simd": rng.integers(1, 6, n), "happy": rng.integers(0, 2, n)})
    frame.to_csv(folder / "pupils.csv", index=False)
    (folder / "dict.yaml").write_text(HOSTILE)
    ds = load_dataset(folder / "pupils.csv", folder / "dict.yaml", cache_dir=folder / "db")
    return report.build(ds, "school", "11", Scope("1", wave="2019"), RULES, comparators.EMPTY, created=WHEN)


def test_c_labels_are_escaped_in_html(hostile):
    page = report.to_html(hostile)
    for raw in ("<script>alert", "<img src=x", "<b>shire", "<i>labels", "<b>being"):
        assert raw not in page, raw
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Academy" in page
    assert "Tom &amp; Jerry" in page and "Tom & Jerry" not in page
    assert page.count("<svg") == len(hostile.sections), "charts are inlined: their text is escaped by the renderer"
    assert "Well&lt;b&gt;being&lt;/b&gt;" in page


def test_c_labels_print_as_text_in_pdf(hostile):
    whole = flat(" ".join(pdf_text(report_pdf.render(hostile))))
    assert "<script>alert('x')</script> Academy" in whole
    assert "Happy <img src=x onerror=alert(1)>" in whole


# --------------------------------------------------------------------------- (d) the command line


@pytest.fixture
def defaults(monkeypatch, tmp_path):
    """No data owner's file: the CLI reports on the bundled sample under the default rules."""
    monkeypatch.delenv("RCS_EXPLORER_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_d_cli_writes_html_and_pdf(defaults, capsys):
    out = defaults / "monmordie.html"
    code = main(["report", "--kind", "school", "--unit", "10101", "--cpp", "1", "--wave", "2019",
                 "--indicator", "bullied", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    page = out.read_text(encoding="utf-8")
    assert "School report: Monmordie High School" in page and "Synthetic sample — not real statistics" in page
    assert 'id="rank-bullied"' in page
    pdf = defaults / "glenvarrow.pdf"
    code = main(["report", "--kind", "cpp", "--cpp", "Glenvarrow", "--indicator", "bullied", "--out", str(pdf)])
    assert code == 0, capsys.readouterr().err
    assert pdf.read_bytes().startswith(b"%PDF") and "CPP report: Glenvarrow" in flat(" ".join(pdf_text(pdf.read_bytes())))


@pytest.mark.parametrize("argv, message", [
    (["--kind", "school", "--unit", "99999", "--cpp", "1"], "not a school"),
    (["--kind", "school", "--unit", "20101", "--cpp", "1"], "is not a school of Glenvarrow"),
    (["--kind", "cluster", "--unit", "101", "--cpp", "1", "--wave", "2031"], "not a survey wave"),
    (["--kind", "school", "--cpp", "1"], "name the school"),
    (["--kind", "cpp", "--cpp", "Nowhere"], "not a community planning partnership"),
    (["--kind", "cpp", "--cpp", "1", "--indicator", "shoe_size"], "not an indicator"),
    (["--kind", "cpp", "--cpp", "1", "--where", "sex=Martian"], "not a value of 'sex'"),
])
def test_d_cli_bad_input_exits_2_with_one_line(defaults, capsys, argv, message):
    out = defaults / "never.html"
    code = main(["report", *argv, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()
