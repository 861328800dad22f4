"""Story decks, checked by opening them: the .pptx with python-pptx, the PDF with pypdf, and (where LibreOffice is
installed) the .pptx as LibreOffice draws it.

One deck of six steps is built once: an Explore table holding the planted small group, clusters ranked, Need
against contact (too many bars for one slide at 18 pt), every school ranked (too many for three slides), the
Overview, with a hostile title and note, and Explore's every school (no ranking, too many for six slides). The small group's figure must never appear on
a slide; every slide must say the data is the synthetic sample; text must be large and inside the slide.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image
from pptx import Presentation
from pptx.util import Emu
from pypdf import PdfReader

from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.features.story import deck as story_deck
from rcs_viz.features.story import model as sv
from rcs_viz.output import deck as slides
from rcs_viz.output.tables import SUPPRESSED

PAGES = {"": "Overview", "explore": "Explore", "compare": "Compare", "need": "Need and services"}
HOSTILE_NOTE = ("**Not bold** <script>alert(1)</script> [link](javascript:alert(1)) # not a heading\n"
                "Ünïcødé: Glenvarrow — ≥ 5 · ελληνικά\n" + "a long note that keeps going " * 25)
HOSTILE_TITLE = "<b>Title</b> & 'quotes' {{ x }} $HOME"
RULES = Rules(threshold=10, min_base=30, secondary=True, perturbation=True)


def words(text: str) -> list[str]:
    return " ".join(str(text).split()).split(" ")


@pytest.fixture(scope="module")
def planted(sample_dataset, small_group):
    school, sex = small_group(sample_dataset)
    return school, sex, sample_dataset.dictionary["sex"].label_of(sex)


@pytest.fixture(scope="module")
def views(planted):
    school, _, _ = planted
    return (
        sv.make("Sex in one school", "explore", {"rows": ["sex"], "f.school": [school], "wave": ["2019"]}, PAGES,
                title="Pupils of one school by sex", note="A small school: some figures are protected."),
        sv.make("Clusters ranked", "compare", {"view": ["rank"]}, PAGES),
        sv.make("Need", "need", {}, PAGES, title=HOSTILE_TITLE, note=HOSTILE_NOTE),
        sv.make("Schools ranked", "compare", {"view": ["rank"], "level": ["school"]}, PAGES),
        sv.make("What the data covers", "", {}, PAGES),
        sv.make("Every school", "explore", {"rows": ["school"], "wave": ["2019"]}, PAGES),
    )


@pytest.fixture(scope="module")
def built(sample_dataset, views, sample_comparators):
    timings = {}
    d = story_deck.build(sample_dataset, views, RULES, title="Workshop: wellbeing in Glenvarrow",
                         source="respondents.parquet", page_titles=PAGES, comps=sample_comparators, timings=timings)
    return d


@pytest.fixture(scope="module")
def pptx_bytes(built):
    return slides.to_pptx(built)


@pytest.fixture(scope="module")
def pdf_bytes(built):
    return slides.to_pdf(built)


@pytest.fixture(scope="module")
def prs(pptx_bytes):
    return Presentation(io.BytesIO(pptx_bytes))


def slide_text(slide) -> str:
    parts = []
    for shape in slide.shapes:
        if shape.has_text_frame:
            parts.append(shape.text_frame.text)
        if shape.has_table:
            parts += [cell.text for row in shape.table.rows for cell in row.cells]
    return "\n".join(parts)


def tables_of(slide) -> list[list[list[str]]]:
    return [[[c.text for c in row.cells] for row in s.table.rows] for s in slide.shapes if s.has_table]


def pdf_pages(pdf_bytes) -> list[str]:
    return [p.extract_text() for p in PdfReader(io.BytesIO(pdf_bytes)).pages]


def test_the_deck_is_16_9_and_every_shape_is_inside_its_slide(prs):
    assert prs.slide_width * 9 == pytest.approx(prs.slide_height * 16, rel=1e-3)
    for n, slide in enumerate(prs.slides, start=1):
        for shape in slide.shapes:
            assert shape.left >= 0 and shape.top >= 0, (n, shape.name)
            assert shape.left + shape.width <= prs.slide_width, (n, shape.name)
            assert shape.top + shape.height <= prs.slide_height, (n, shape.name)


def test_type_is_large_enough_for_the_back_of_a_room(prs):
    sizes = []
    for slide in prs.slides:
        first = True
        for shape in slide.shapes:
            frames = [shape.text_frame] if shape.has_text_frame else \
                [c.text_frame for row in shape.table.rows for c in row.cells] if shape.has_table else []
            for frame in frames:
                for p in frame.paragraphs:
                    for run in p.runs:
                        sizes.append(run.font.size.pt)
            if shape.has_text_frame and first and slide != prs.slides[0]:
                assert shape.text_frame.paragraphs[0].runs[0].font.size.pt >= 28  # the title
                first = False
    assert sizes and min(sizes) >= 18


def test_cover_and_every_slide_say_what_the_data_is_and_how_it_is_protected(prs, built):
    cover = slide_text(prs.slides[0])
    assert built.title in cover and "Synthetic sample" in cover
    for rule in ("Counts below 10 are suppressed", "worked out from totals", "base is at least 30",
                 "small random adjustments"):
        assert rule in cover
    for n, slide in enumerate(prs.slides, start=1):
        text = slide_text(slide)
        assert "Synthetic sample" in text, n
        assert "counts below 10 are protected" in text and "perturbed" in text, n


def test_each_step_has_its_title_where_it_is_from_and_its_note_as_plain_text(prs, views):
    texts = [slide_text(s) for s in prs.slides]
    everything = " ".join(words(" ".join(texts)))
    for k, view in enumerate(views, start=1):
        assert f"Step {k} of {len(views)}" in everything
        assert " ".join(words(view.title or view.name)) in everything
    note = views[2].note  # the note as kept (sv.make trims its ends)
    assert note.startswith("**Not bold** <script>") and " ".join(words(note)) in everything  # markup as written
    notes = [s.notes_slide.notes_text_frame.text for s in prs.slides if s.has_notes_slide]
    assert any(note in n for n in notes)  # the speaker notes keep its lines


def test_a_long_note_gets_a_slide_of_its_own(prs, views):
    texts = [slide_text(s) for s in prs.slides]
    charts = [t for t in texts if t.startswith("Chart: ")]  # a chart enlarged on a slide of its own
    assert len(prs.slides) == 1 + len(views) + 1 + len(charts)
    note = next(i for i, t in enumerate(texts) if t.startswith("Note: "))
    step = max(i for i, t in enumerate(texts[:note]) if not t.startswith("Chart: "))  # its chart's slides between
    where = "the next slide" if step == note - 1 else f"slide {note + 1}"
    assert f"The note for this step is on {where}" in " ".join(words(texts[step]))
    total = len(prs.slides)
    for k, slide in enumerate(prs.slides, start=1):  # every footer counts the slides there are, the note's too
        assert f"{k} of {total}" in slide_text(slide), k


def test_the_planted_small_group_reads_as_protected_never_as_a_number(prs, pdf_bytes, planted):
    _, _, label = planted
    (table,) = tables_of(prs.slides[1])
    row = next(r for r in table if r[0] == label)
    assert row[1] == SUPPRESSED
    assert SUPPRESSED in slide_text(prs.slides[1]) and "protected" in slide_text(prs.slides[1])
    page = pdf_pages(pdf_bytes)[1]
    line = next(line for line in page.splitlines() if line.startswith(label))
    assert line.replace(label, "").split() == [SUPPRESSED]


def test_the_small_group_never_appears_as_a_number_anywhere(sample_dataset, planted, prs, pdf_bytes):
    """Its true count (read with the test's privilege) is on no table row of its school's step, in either file."""
    from rcs_viz.engine import service
    from rcs_viz.engine.sql.views import CrossTab

    school, sex, label = planted
    q = CrossTab(rows="sex", filters=(("wave", ("2019",)), ("school", (school,))))
    cells = service.crosstab(sample_dataset, q, "count", Rules(threshold=1, secondary=False, perturbation=False)).cells
    true = int(cells[cells["row"] == sex]["count"].iloc[0])
    assert 1 <= true <= 9
    for text in (slide_text(prs.slides[1]), pdf_pages(pdf_bytes)[1]):
        row = [line for line in text.splitlines() if line.startswith(label)]
        assert all(str(true) not in re.findall(r"\d[\d,]*", line) for line in row)


def test_pictures_are_charts_fitted_whole(prs, built):
    pictures = [[s for s in slide.shapes if s.shape_type == 13] for slide in prs.slides]
    explore = next(i for i, s in enumerate(prs.slides) if slide_text(s).startswith("Chart: Pupils of one school"))
    assert len(pictures[explore]) == 1  # the Explore step's chart, enlarged on a slide of its own
    overview = next(i for i, s in enumerate(prs.slides) if "What the data covers" in slide_text(s))
    assert not pictures[0] and not pictures[overview]  # the cover, the overview: none
    laid = [[b for b in page.boxes if isinstance(b, slides.Picture)] for page in slides.pages(built)]
    for shapes, boxes in zip(pictures, laid):
        assert len(shapes) == len(boxes)
        for shape, box in zip(shapes, boxes):
            from PIL import Image

            w, h = Image.open(io.BytesIO(shape.image.blob)).size
            assert shape.width / shape.height == pytest.approx(w / h, rel=0.02)  # its shape kept
            assert Emu(shape.width).inches <= slides.W and Emu(shape.height).inches <= slides.H


def test_the_pdf_holds_the_same_slides_with_the_same_words(prs, pdf_bytes):
    reader = PdfReader(io.BytesIO(pdf_bytes))
    assert len(reader.pages) == len(prs.slides)
    for page, slide in zip(reader.pages, prs.slides):
        assert float(page.mediabox.width) / float(page.mediabox.height) == pytest.approx(16 / 9, rel=1e-3)
        assert sorted(words(page.extract_text())) == sorted(words(slide_text(slide)))


def test_a_deck_of_real_data_does_not_call_it_synthetic(built):
    real = slides.Deck(**{**built.__dict__, "synthetic": False})
    prs = Presentation(io.BytesIO(slides.to_pptx(real)))
    assert not any("not real statistics" in slide_text(s) for s in prs.slides)
    assert not any("not real statistics" in t for t in pdf_pages(slides.to_pdf(real)))


def test_hostile_text_of_every_kind_is_carried_without_breaking_either_file():
    nasty = "\x00\x07\ud800 <p>&amp;</p> \u202eevil\u202c " + "x" * 400 + " 🙂 漢字 עברית \t tab"
    d = slides.Deck(title=nasty, dataset=nasty, synthetic=True, date="1 January 2026", rules=(nasty,),
                    footer=nasty, steps=(slides.Step(title=nasty, where=nasty, settings=(nasty,), note=nasty * 2,
                                                     table=((nasty, nasty), (nasty, "[c]")), missing=nasty),))
    prs = Presentation(io.BytesIO(slides.to_pptx(d)))
    text = " ".join(slide_text(s) for s in prs.slides)
    assert "<p>&amp;</p>" in text and "\x00" not in text and "\u202e" not in text
    assert "<p>&amp;</p>" in " ".join(pdf_pages(slides.to_pdf(d)))


def test_file_names_say_what_they_hold():
    import datetime as dt

    stem = story_deck.file_stem("Workshop: wellbeing in Glenvarrow, March!", dt.date(2026, 3, 4))
    assert stem == "rcs_deck_workshop-wellbeing-in-glenvarrow-march_2026-03-04"
    assert story_deck.file_stem("∑∑∑", dt.date(2026, 3, 4)) == "rcs_deck_story_2026-03-04"


@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftoppm") is None,
                    reason="LibreOffice and poppler (Debian's libreoffice-impress, poppler-utils; make test installs them)")
def test_libreoffice_opens_the_pptx_and_draws_every_slide(pptx_bytes, prs, tmp_path, built, root):
    src = tmp_path / "deck.pptx"
    src.write_bytes(pptx_bytes)
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(src)], check=True, capture_output=True, timeout=180)
    pages = pdf_pages((tmp_path / "deck.pdf").read_bytes())
    assert len(pages) == len(prs.slides)
    assert built.title in " ".join(words(pages[0]))
    assert all("Synthetic sample" in p for p in pages)

    # Drawn to PNG as a reader's screen would show it, kept under artifacts/ to be looked at.
    out = root / "artifacts" / "deck_libreoffice"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(tmp_path / "deck.pdf"), str(out / "slide")],
                   check=True, capture_output=True, timeout=120)
    pngs = sorted(out.glob("slide-*.png"), key=lambda p: int(p.stem.split("-")[1]))
    assert len(pngs) == len(prs.slides)
    for png, slide in zip(pngs, prs.slides, strict=True):
        with Image.open(png) as img:
            pixels = np.asarray(img.convert("RGB"))
        height, width = pixels.shape[:2]
        assert abs(width / height - 16 / 9) < 0.02, png.name
        assert (pixels.min(axis=2) < 200).mean() > 0.005, f"{png.name} is blank"
        for shape in slide.shapes:  # each chart drawn by LibreOffice where it stands, not an empty frame
            if shape.shape_type != 13:
                continue
            x0, y0 = shape.left * width // prs.slide_width, shape.top * height // prs.slide_height
            x1, y1 = x0 + shape.width * width // prs.slide_width, y0 + shape.height * height // prs.slide_height
            area = pixels[y0:y1, x0:x1]
            assert (area.min(axis=2) < 200).mean() > 0.01, f"{png.name}: its chart is not drawn"


def _label_pt(shape) -> float:
    """A chart's labels as they come out on the slide: their size in the PNG's pixels, scaled to the picture."""
    width_px = Image.open(io.BytesIO(shape.image.blob)).size[0]
    return story_deck.CHART_FONT_PX * Emu(shape.width).inches / width_px * 72


def test_no_chart_label_comes_out_below_18_pt(prs):
    pictures = [s for slide in prs.slides for s in slide.shapes if s.shape_type == 13]
    assert pictures
    assert min(_label_pt(p) for p in pictures) >= 18, [round(_label_pt(p), 1) for p in pictures]


def _steps(prs) -> list[tuple[int, list[int]]]:
    """Each step's slide and the slides of its chart ("Chart: …") after it."""
    texts = [slide_text(s) for s in prs.slides]
    out = []
    for i, text in enumerate(texts):
        if re.search(r"Step \d+ of \d+", text):
            charts = []
            while i + 1 + len(charts) < len(texts) and texts[i + 1 + len(charts)].startswith("Chart: "):
                charts.append(i + 1 + len(charts))
            out.append((i, charts))
    return out


def test_every_step_keeps_its_chart_on_the_slides(prs, views):
    """No chart is left out: Need's (15 clusters and All) is split across slides; every school ranked (too many
    for three slides) shows its top and its bottom, saying how many are between and where the whole chart is."""
    steps = _steps(prs)
    assert len(steps) == len(views)
    pictures = [[s for s in slide.shapes if s.shape_type == 13] for slide in prs.slides]
    texts = [" ".join(words(slide_text(s))) for s in prs.slides]
    for (i, charts), view in zip(steps, views):
        shown = pictures[i] + [p for c in charts for p in pictures[c]]
        assert bool(shown) == (view.page != ""), (view.name, texts[i])  # the overview has no chart
        assert " ".join(words(slides.TOO_SMALL)) not in texts[i]
        if charts:  # too small beside the figures: the slide says where it is, each slide after holds one picture
            assert not pictures[i] and all(len(pictures[c]) == 1 for c in charts)
            ends = view.name in ("Schools ranked", "Every school")  # its top and bottom, or highest and lowest
            assert (slides.CHART_NEXT if len(charts) == 1 else slides.CHART_ENDS if ends
                    else slides.CHARTS_NEXT.format(n=len(charts))) in " ".join(words(texts[i])), texts[i][:300]
    need, ranked = steps[2][1], steps[3][1]
    assert len(need) >= 2 and len(ranked) == 2
    for charts in (need, ranked):  # each part says which it is in its title
        for k, c in enumerate(charts, start=1):
            first = prs.slides[c].shapes[0].text_frame.text
            assert first.startswith("Chart: ") and first.endswith(f"({k} of {len(charts)})"), first
    spans = [re.search(r"Rows (\d+) to (\d+) of (\d+), every part on the same scale", texts[c]) for c in need]
    assert all(spans), [texts[c][:200] for c in need]
    rows = [int(n) for m in spans for n in m.groups()]  # the parts follow on from each other, to the last row
    assert rows[0] == 1 and rows[-2] == rows[-1] and all(rows[k + 1] + 1 == rows[k + 3] for k in range(0, len(rows) - 3, 3))
    top = re.search(r"Top (\d+) of (\d+) drawn, as ranked; the (\d+) between are in the view's link and its "
                    r"PNG export", texts[ranked[0]])
    bottom = re.search(r"Bottom (\d+) of (\d+) drawn, same scale; the (\d+) between", texts[ranked[1]])
    assert top and bottom and top.groups() == bottom.groups()
    shown, total, between = (int(n) for n in top.groups())
    assert between == total - 2 * shown > 0
    schools = steps[5][1]  # not ranked, too many for six slides: sorted by value, its highest and its lowest
    assert len(schools) == 2
    high = re.search(r"Highest (\d+) of (\d+) by value; the (\d+) between are in the view's link and its PNG export",
                     texts[schools[0]])
    low = re.search(r"Lowest (\d+) of (\d+) by value, same scale; the (\d+) between", texts[schools[1]])
    assert high and low and high.groups() == low.groups()
    shown, total, between = (int(n) for n in high.groups())
    assert total > 6 * shown and between == total - 2 * shown
