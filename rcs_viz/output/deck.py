"""A story as slides to hand round: one layout, written as PowerPoint (python-pptx) and as PDF (fpdf2).

Both files are painted from the same laid-out pages (`pages`), so they hold
the same text, figures and pictures in the same places. A slide is 16:9 and
meant to be read from the back of a room: titles of 28 pt and more, every
other line at least 18 pt. Text is wrapped here, measured in DejaVu Sans
(the PDF's font, and wider than the Arial a PowerPoint viewer uses), so a
line never runs out of its box in either file; a chart is fitted into its box
whole, keeping its shape.

Everything here is already protected (`Deck` is filled by
`rcs_viz.features.story.deck` from the gated results the pages draw); this
module decides how it looks, never what may be shown. Text from users and
data (titles, notes, labels) is plain text in both formats: nothing is read as
markup, and characters a file format cannot hold are dropped.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

W, H = 13.333, 7.5  # inches: 16:9
MARGIN = 0.5
TITLE_PT, BODY_PT, COVER_PT = 30, 18, 40
LEADING = 1.22  # line height as a multiple of the type size
PANEL = 5.2  # inches: the least the figures and note beside a chart get
LABEL = 3.6  # inches: the most a table's label column asks for
CELL_PAD = 0.1  # inches each side of a table cell's text
MAX_ROWS = 12  # a table's rows on a slide (fewer where the room is less)
CHART_PT = BODY_PT  # the smallest a chart's labels may come out, as any other line: a chart drawn for its room
# (`deck_chart`) that cannot read so beside its figures gets slides of its own, split into parts if need be
DPI = 200  # a chart's pixels per inch as shown: sharp on a projector and in print, small files
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")  # Debian's fonts-dejavu-core, as the report packs use
FONTS = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
PPTX_FONT = "Arial"  # on every machine that opens a .pptx; narrower than DejaVu, so the wrapping holds
INK, MUTED, RULE, HEAD_FILL = (31, 35, 40), (80, 88, 98), (200, 207, 214), (236, 240, 244)
BANNER_FILL, BANNER_INK = (255, 236, 190), (92, 61, 0)
TOO_SMALL = ("The chart has too many bars to be read from the back of a room: the figures are in the table, and "
             "the whole chart is in the view's link and its PNG export.")
CHART_NEXT = "The chart is on the next slide, large enough to be read."
CHARTS_NEXT = "The chart is on the next {n} slides, in parts large enough to be read."
CHART_ENDS = ("The chart's two ends are on the next 2 slides, large enough to be read; the rows between are in the "
              "view's link.")
SYNTHETIC = "Synthetic sample — fictional places and pupils, not real statistics"
SYNTHETIC_SHORT = "Synthetic sample — not real statistics"
PPTX_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


# --- what a deck holds ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChartPart:
    """A chart, or a part of one, drawn for a slide of its own; `caption` says which part it is."""

    png: bytes
    caption: str = ""
    end: bool = False  # one end of a chart too long for slides (a ranking's top or bottom, a chart's highest or lowest)


@dataclass(frozen=True)
class Step:
    """One saved view as a slide: all text, already protected (a hidden figure is its marker, never a number)."""

    title: str
    where: str  # "Step 2 of 6 · Explore"
    settings: tuple[str, ...] = ()  # what the view shows, its filters, wave and base, in words
    chart: bytes | None = None  # PNG, drawn to sit beside the figures (`chart_boxes`)
    chart_parts: tuple[ChartPart, ...] = ()  # else the chart on slides of its own, in parts if need be
    chart_font_px: float = 30.0  # the size of the chart's labels in the PNG's pixels, to judge whether they can be read
    table: tuple[tuple[str, ...], ...] = ()  # header row first
    table_notes: tuple[str, ...] = ()  # what the table's markers mean
    note: str = ""  # the presenter's note, plain text
    missing: str = ""  # why the slide has no chart (or no figures at all)
    link: str = ""  # the view's own link, for the speaker notes


@dataclass(frozen=True)
class Deck:
    title: str
    dataset: str
    synthetic: bool
    date: str
    rules: tuple[str, ...]  # the disclosure rules, a sentence each
    footer: str  # source and protection in a line
    steps: tuple[Step, ...] = ()


# --- laid out ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Text:
    x: float
    y: float
    w: float
    h: float
    lines: tuple[str, ...]
    size: float = BODY_PT
    bold: bool = False
    colour: tuple[int, int, int] = INK
    fill: tuple[int, int, int] | None = None


@dataclass(frozen=True)
class Picture:
    x: float
    y: float
    w: float
    h: float
    png: bytes


@dataclass(frozen=True)
class Table:
    x: float
    y: float
    w: float
    h: float
    rows: tuple[tuple[str, ...], ...]  # header first; a header cell may hold two lines ("\n")
    widths: tuple[float, ...]
    size: float = BODY_PT

    @property
    def row_height(self) -> float:
        return line_height(self.size) + 0.06

    @property
    def head_height(self) -> float:
        return max(c.count("\n") + 1 for c in self.rows[0]) * line_height(self.size) + 0.06


@dataclass(frozen=True)
class Page:
    boxes: tuple
    notes: str = ""  # a PowerPoint slide's speaker notes
    texts: tuple[str, ...] = field(default=())


def plain(text) -> str:
    """Text any file can hold: no control characters but line ends and tabs, no lone surrogates, no
    direction overrides; nothing in it is markup to either format."""
    out = []
    for ch in str(text if text is not None else ""):
        cat = unicodedata.category(ch)
        if ch in "\n\t" or not (cat in ("Cc", "Cs", "Cn") or 0x202A <= ord(ch) <= 0x202E
                                or 0x2066 <= ord(ch) <= 0x2069 or ch in "\ufffe\uffff"):
            out.append(ch)
    return "".join(out).replace("\t", "    ")


@lru_cache(maxsize=8)
def _font(size: float, bold: bool):
    try:
        from PIL import ImageFont

        return ImageFont.truetype(str(FONT_DIR / FONTS["B" if bold else ""]), size=int(round(size * 10)))
    except (OSError, ImportError):
        return None


def width(text: str, size: float, bold: bool = False) -> float:
    """Inches a line takes at `size` points, measured in DejaVu Sans (a generous guess without it)."""
    font = _font(size, bold)
    if font is None:
        return 0.62 * size * len(text) / 72
    return font.getlength(text) / 10 / 72


def line_height(size: float) -> float:
    return size * LEADING / 72


def wrap(text: str, size: float, room: float, bold: bool = False, most: int | None = None) -> list[str]:
    """Lines of at most `room` inches: at spaces, inside a word too long for a line; paragraphs kept. With `most`,
    the lines beyond it are cut and the last ends in an ellipsis."""
    lines: list[str] = []
    for para in plain(text).split("\n"):
        line = ""
        for word in para.split(" "):
            candidate = f"{line} {word}" if line else word
            if width(candidate, size, bold) <= room:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = word
            while width(line, size, bold) > room and len(line) > 1:  # a word wider than the box: cut it
                cut = max(1, len(line) - 1)
                while cut > 1 and width(line[:cut], size, bold) > room:
                    cut = max(1, int(cut * 0.9) if cut > 20 else cut - 1)
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line)
    while len(lines) > 1 and not lines[-1]:
        lines.pop()
    if most is not None and len(lines) > most:
        lines = lines[:most]
        lines[-1] = fit(lines[-1] + " …", size, room, bold)
    return lines


def fit(text: str, size: float, room: float, bold: bool = False) -> str:
    """One line of at most `room` inches, cut with an ellipsis where it is longer."""
    text = " ".join(plain(text).split())
    if width(text, size, bold) <= room:
        return text
    while text and width(text + "…", size, bold) > room:
        text = text[:-1]
    return text.rstrip() + "…"


def _text(x, y, w, lines, size=BODY_PT, **kwargs) -> Text:
    return Text(x, y, w, len(lines) * line_height(size) + 0.04, tuple(lines), size, **kwargs)


def _footer_top(footer: str) -> float:
    """Where a slide's footer starts: it takes the footer's lines (two at most) and one for the slide's number."""
    lines = wrap(footer, BODY_PT, W - 2 * MARGIN, most=2)
    return H - 0.22 - ((len(lines) + 1) * line_height(BODY_PT) + 0.04)


def _footer(deck: Deck, k: int, n: int) -> list[Text]:
    """Source and protection, then (for the sample) the synthetic label, the date and the slide's number."""
    room = W - 2 * MARGIN
    lines = wrap(deck.footer, BODY_PT, room, most=2)
    tail = f"{deck.date} · {k} of {n}"
    label = fit(SYNTHETIC_SHORT, BODY_PT, room - width(" · " + tail, BODY_PT, True) - 0.1, True) + " · " \
        if deck.synthetic else ""
    y = _footer_top(deck.footer)
    return [_text(MARGIN, y, room, lines, colour=MUTED),
            _text(MARGIN, y + len(lines) * line_height(BODY_PT), room, [label + tail], bold=deck.synthetic,
                  colour=BANNER_INK if deck.synthetic else MUTED)]


def _image_size(png: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        return im.size


def _drawn(im, pad: int = 8) -> tuple[int, int, int, int] | None:
    """The box round what a picture draws (a few pixels kept): not blank, not near white; None if nothing."""
    import numpy as np

    pixels = np.asarray(im.convert("RGBA"))
    drawn = (pixels[..., 3] > 12) & (pixels[..., :3].min(axis=2) < 250)
    rows, cols = np.flatnonzero(drawn.any(axis=1)), np.flatnonzero(drawn.any(axis=0))
    if not len(rows):
        return None
    return (max(int(cols[0]) - pad, 0), max(int(rows[0]) - pad, 0), min(int(cols[-1]) + 1 + pad, im.width),
            min(int(rows[-1]) + 1 + pad, im.height))


@lru_cache(maxsize=16)
def trim(png: bytes) -> bytes:
    """The chart without the blank margins round what it draws, so its drawing, not its padding, takes the
    slide's room. Written fast (`_flat` writes the picture a slide embeds); kept for the next layout of the same
    deck (`pages` lays a deck out twice, and once more for each file)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        box = _drawn(im)
        if box is None or box == (0, 0, im.width, im.height):
            return png
        out = io.BytesIO()
        im.crop(box).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def label_pt(png: bytes, font_px: float, w: float, h: float) -> float:
    """The points a chart's labels (`font_px` in its PNG) come out at, the chart as large as a box `w` by `h`
    inches allows, whole, its blank margins trimmed (as `_picture` places it)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        box = _drawn(im) or (0, 0, im.width, im.height)
    return font_px * min(w / (box[2] - box[0]), h / (box[3] - box[1])) * 72


def _picture(png: bytes, font_px: float, x: float, y: float, w: float, h: float) -> Picture | None:
    """The chart as large as its box allows, whole, its shape kept, centred across the box; None when its
    labels would come out smaller than CHART_PT (a chart of very many bars), which no room can read."""
    png = trim(png)
    pw, ph = _image_size(png)
    scale = min(w / pw, h / ph)
    if font_px * scale * 72 < CHART_PT:
        return None
    return Picture(x + (w - pw * scale) / 2, y, pw * scale, ph * scale, _flat(png, pw * scale))


@lru_cache(maxsize=16)
def _flat(png: bytes, inches: float) -> bytes:
    """The picture on white, no finer than DPI at the size it is shown: both files embed it as it is, small.
    Kept for the deck's next layout (`pages` lays a deck out twice, and again for each file)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        im = im.convert("RGBA")
        flat = Image.new("RGB", im.size, "white")
        flat.paste(im, mask=im.getchannel("A"))
    most = int(inches * DPI)
    if flat.width > most:
        flat = flat.resize((most, round(flat.height * most / flat.width)), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    flat.save(out, "PNG", optimize=False, compress_level=6)
    return out.getvalue()


def _column(cells: list[list[str]], j: int, size: float) -> tuple[float, str]:
    """A column's width and its header in one or two lines: as wide as its widest figure, or its header's
    longest word, or half its header, whichever is most."""
    head = cells[0][j]
    body = max([width(r[j], size, True) for r in cells[1:]] + [0])  # bold: the All row is
    words = max(width(w, size, True) for w in head.split() or [""])
    need = max(body, words, min(width(head, size, True), width(head, size, True) / 2 + 0.3)) + 2 * CELL_PAD
    lines = wrap(head, size, need - 2 * CELL_PAD, bold=True, most=2)
    return need, "\n".join(lines)


def table_width(rows, size: float = BODY_PT) -> float:
    """The width a table would like: its label column (at most LABEL inches) and every other column."""
    if len(rows) < 2:
        return 0.0
    cells = [[" ".join(plain(c).split()) for c in r] for r in rows]
    label = min(LABEL, max(width(r[0], size, i == 0) for i, r in enumerate(cells)) + 2 * CELL_PAD)
    return label + sum(_column(cells, j, size)[0] for j in range(1, len(rows[0])))


def _table(rows: tuple[tuple[str, ...], ...], x: float, y: float, room_w: float, room_h: float,
           size: float = BODY_PT) -> tuple[Table | None, list[str]]:
    """The figures that fit the room at a readable size, and what was left out (in words)."""
    if len(rows) < 2:
        return None, []
    said = []
    cells = [[" ".join(plain(c).split()) for c in r] for r in rows]
    cols = len(cells[0])
    widths, heads = [], []
    for j in range(1, cols):
        need, head = _column(cells, j, size)
        if sum(widths) + need > room_w - 1.2:  # the label keeps at least 1.2 inches
            break
        widths.append(need)
        heads.append(head)
    kept_cols = len(widths) + 1
    if kept_cols < cols:
        said.append(f"Showing {kept_cols - 1} of {cols - 1} columns.")
    label = min(room_w - sum(widths), max(width(r[0], size, i == 0) for i, r in enumerate(cells)) + 2 * CELL_PAD)
    widths.insert(0, max(label, min(1.2, room_w - sum(widths))))
    heads.insert(0, "\n".join(wrap(cells[0][0], size, widths[0] - 2 * CELL_PAD, True, most=2)))
    body = cells[1:]
    row_h = line_height(size) + 0.06
    head_h = max(h.count("\n") + 1 for h in heads) * line_height(size) + 0.06
    room_rows = max(1, min(MAX_ROWS, int((room_h - head_h) / row_h)))
    kept = list(range(len(body)))
    if len(body) > room_rows:
        total = [i for i, r in enumerate(body) if r[0] == "All"]
        first = [i for i in range(len(body)) if i not in total][:max(1, room_rows - len(total))]
        kept = first + total
        said.append(f"Showing {len(kept)} of {len(body)} rows; the view's own export has them all.")
    out = [tuple(heads)] + [tuple([fit(body[i][0], size, widths[0] - 2 * CELL_PAD, body[i][0] == "All")]
                                  + body[i][1:kept_cols]) for i in kept]
    return Table(x, y, sum(widths), head_h + row_h * len(kept), tuple(out), tuple(widths), size), said


def _cover(deck: Deck, n: int) -> Page:
    room = W - 2 * MARGIN
    y = 0.45
    boxes = [_text(MARGIN, y, room, ["RCS Explorer · a story to hand round"], colour=MUTED, bold=True)]
    y += line_height(BODY_PT) + 0.15
    title = wrap(deck.title, COVER_PT, room, bold=True, most=3)
    boxes.append(_text(MARGIN, y, room, title, COVER_PT, bold=True))
    y += boxes[-1].h + 0.15
    if deck.synthetic:
        boxes.append(_text(MARGIN, y, room, [fit(SYNTHETIC, 22, room - 0.3, True)], 22, bold=True,
                           colour=BANNER_INK, fill=BANNER_FILL))
        y += boxes[-1].h + 0.2
    facts = wrap(f"Data: {deck.dataset}", 20, room, most=2) + [f"{len(deck.steps)} steps · produced {deck.date}"]
    boxes.append(_text(MARGIN, y, room, facts, 20))
    y += boxes[-1].h + 0.25
    boxes.append(_text(MARGIN, y, room, ["How every figure here is protected"], 22, bold=True))
    y += boxes[-1].h + 0.05
    rules = [line for rule in deck.rules for line in _bullet(rule, room)]
    foot = _footer(deck, 1, n)
    rules_room = int((foot[0].y - y - 0.1) / line_height(BODY_PT))
    boxes.append(_text(MARGIN, y, room, rules[:max(rules_room, 1)]))
    return Page(tuple(boxes + foot), notes=plain("\n".join([deck.title, *deck.rules])))


def _bullet(text: str, room: float) -> list[str]:
    lines = wrap(text, BODY_PT, room - 0.3)
    return ["• " + lines[0]] + ["   " + line for line in lines[1:]]


def _head(step: Step) -> tuple[list, float]:
    """A step slide's title, where the step is from and its settings; and where they end."""
    room = W - 2 * MARGIN
    y = 0.3
    title = wrap(step.title, TITLE_PT, room, bold=True, most=2)
    boxes: list = [_text(MARGIN, y, room, title, TITLE_PT, bold=True)]
    y += boxes[-1].h + 0.02
    boxes.append(_text(MARGIN, y, room, [fit(step.where, BODY_PT, room, True)], bold=True, colour=MUTED))
    y += boxes[-1].h
    settings = wrap(" · ".join(step.settings), BODY_PT, room, most=3) if step.settings else []
    if settings:
        boxes.append(_text(MARGIN, y, room, settings, colour=MUTED))
        y += boxes[-1].h
    return boxes, y


def _beside(step: Step, footer: str) -> tuple[float, float, float, float]:
    """The box a step's chart gets on the step's own slide: on the left, the figures and the note beside it."""
    room = W - 2 * MARGIN
    top = _head(step)[1] + 0.15
    side = bool(step.table or step.note)
    panel = min(max(table_width(step.table), PANEL), room * 0.55) if side else 0.0
    return MARGIN, top, room - panel - (0.3 if side else 0), _footer_top(footer) - 0.1 - top


def _alone(footer: str) -> tuple[float, float, float, float]:
    """The box a chart gets on a slide of its own: under the title and a line saying which part it is."""
    top = 0.3 + line_height(TITLE_PT) + 0.04 + 0.05 + line_height(BODY_PT) + 0.1
    return MARGIN, top, W - 2 * MARGIN, _footer_top(footer) - 0.05 - top


def chart_boxes(step: Step, footer: str) -> tuple[tuple[float, float], tuple[float, float]]:
    """The inches (wide, high) a step's chart gets beside its figures, and alone on a slide: a chart is drawn
    for one of them (`deck_chart`), so that its labels read at CHART_PT at the size it is shown."""
    return _beside(step, footer)[2:], _alone(footer)[2:]


def _step(deck: Deck, step: Step, k: int, n: int) -> list[Page]:
    room = W - 2 * MARGIN
    lh = line_height(BODY_PT)
    boxes, _ = _head(step)
    foot = _footer(deck, k, n)
    x, top, chart_w, body_h = _beside(step, deck.footer)
    bottom = top + body_h
    side = bool(step.table or step.note)

    # the chart on the left, as large as it can be read; the figures and the note beside it in what it leaves
    picture = _picture(step.chart, step.chart_font_px, x, top, chart_w, body_h) if step.chart else None
    parts = [] if picture else [_chart_page(deck, step, i, k + 1 + i, n) for i in range(len(step.chart_parts))]
    if None in parts:  # a part that cannot be read: the chart is not shown in parts
        parts = []
    missing = (step.missing if not (step.chart or step.chart_parts) else "" if picture
               else CHART_NEXT if len(parts) == 1 else CHART_ENDS if parts and step.chart_parts[0].end
               else CHARTS_NEXT.format(n=len(parts)) if parts else TOO_SMALL)
    if picture is not None:
        if side:  # to the left, leaving the rest to the figures
            picture = Picture(MARGIN, top, picture.w, picture.h, picture.png)
        boxes.append(picture)
        px = picture.x + picture.w + 0.3
    else:
        px = MARGIN
    pw = MARGIN + room - px
    py = top
    if missing:
        boxes.append(_text(px, py, pw, wrap(missing, BODY_PT, pw, most=3), colour=MUTED))
        py += boxes[-1].h + 0.1

    note_lines = wrap(step.note, BODY_PT, pw) if step.note else []
    reserve = (min(len(note_lines), 3) + 1) * lh + 0.1 if note_lines else 0.0
    table, said = _table(step.table, px, py, pw, bottom - py - reserve - lh)
    if table is not None:
        boxes.append(table)
        py += table.h + 0.06
    extra = [line for s in (*said, *step.table_notes) for line in wrap(s, BODY_PT, pw)]
    room_lines = int((bottom - py - reserve) / lh)
    if extra and room_lines > 0:
        shown = extra[:room_lines]
        if len(shown) < len(extra):
            shown[-1] = fit(shown[-1] + " … (all notes in the speaker notes)", BODY_PT, pw)
        boxes.append(_text(px, py, pw, shown, colour=MUTED))
        py += boxes[-1].h + 0.08
    pages_after = list(parts)
    if note_lines:
        if (len(note_lines) + 1) * lh <= bottom - py:
            boxes.append(_text(px, py, pw, ["Note"], bold=True))
            boxes.append(_text(px, py + lh, pw, note_lines))
        else:  # a long note gets a slide of its own rather than a cut or a smaller type
            where = "the next slide" if not pages_after else f"slide {k + 1 + len(pages_after)}"  # after its chart
            boxes.append(_text(px, py, pw, wrap(f"The note for this step is on {where}.", BODY_PT, pw, most=2),
                               bold=True))
            pages_after.append(_note_page(deck, step, k + 1 + len(pages_after), n))
    notes = "\n\n".join(p for p in (step.note, " · ".join(step.settings), *step.table_notes, step.link) if p)
    return [Page(tuple(boxes + foot), notes=plain(notes)), *pages_after]


def _chart_page(deck: Deck, step: Step, i: int, k: int, n: int) -> Page | None:
    """Part `i` of the step's chart on a slide of its own, its part number in the title ("(2 of 3)") and a line
    saying which rows it holds; None if its labels would come out below CHART_PT there."""
    room = W - 2 * MARGIN
    part = step.chart_parts[i]
    count = f" ({i + 1} of {len(step.chart_parts)})" if len(step.chart_parts) > 1 else ""
    title = [fit(f"Chart: {step.title}", TITLE_PT, room - width(count, TITLE_PT, True), True) + count]
    boxes: list = [_text(MARGIN, 0.3, room, title, TITLE_PT, bold=True)]
    if part.caption:
        boxes.append(_text(MARGIN, 0.3 + boxes[0].h + 0.05, room, [fit(part.caption, BODY_PT, room)], colour=MUTED))
    x, y, w, h = _alone(deck.footer)
    picture = _picture(part.png, step.chart_font_px, x, y, w, h)
    if picture is None:
        return None
    return Page(tuple(boxes + [picture] + _footer(deck, k, n)),
                notes=plain(" · ".join(p for p in (part.caption, *step.settings) if p)))


def _note_page(deck: Deck, step: Step, k: int, n: int) -> Page:
    room = W - 2 * MARGIN
    title = [fit(f"Note: {step.title}", TITLE_PT, room, True)]
    boxes: list = [_text(MARGIN, 0.3, room, title, TITLE_PT, bold=True)]
    foot = _footer(deck, k, n)
    y = 0.3 + boxes[0].h + 0.15
    most = int((foot[0].y - 0.1 - y) / line_height(BODY_PT))
    boxes.append(_text(MARGIN, y, room, wrap(step.note, BODY_PT, room, most=most)))
    return Page(tuple(boxes + foot), notes=plain(step.note))


def pages(deck: Deck) -> list[Page]:
    """Every slide laid out: the cover, then each step (and a page for a note too long to sit beside its chart).

    Laid out twice: the first pass finds which steps need a note page, so every footer counts the slides there are.
    """
    per_step = [len(_step(deck, step, 0, 0)) for step in deck.steps]
    n = 1 + sum(per_step)
    out, k = [_cover(deck, n)], 2
    for step, count in zip(deck.steps, per_step):
        out += _step(deck, step, k, n)
        k += count
    return out


# --- PowerPoint -------------------------------------------------------------------------------------------

def to_pptx(deck: Deck) -> bytes:
    from pptx import Presentation
    from pptx.dml.color import RGBColor
    from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
    from pptx.util import Emu, Inches, Pt

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(W), Inches(H)
    blank = prs.slide_layouts[6]
    prs.core_properties.title = plain(deck.title)[:250]
    prs.core_properties.author = "RCS Explorer"
    prs.core_properties.subject = plain(f"{deck.dataset}" + (f" ({SYNTHETIC})" if deck.synthetic else ""))[:250]

    def run_style(run, size, bold, colour):
        run.font.size, run.font.bold, run.font.name = Pt(size), bold, PPTX_FONT
        run.font.color.rgb = RGBColor(*colour)

    def frame(tf, lines, size, bold, colour, align=None):
        tf.word_wrap = True
        tf.auto_size = MSO_AUTO_SIZE.NONE
        tf.margin_left = tf.margin_right = tf.margin_top = tf.margin_bottom = Emu(0)
        for i, line in enumerate(lines):
            p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
            p.line_spacing = LEADING * 0.83  # PowerPoint's single spacing is about 1.2 of the size already
            if align is not None:
                p.alignment = align
            run = p.add_run()
            run.text = line
            run_style(run, size, bold, colour)

    for page in pages(deck):
        slide = prs.slides.add_slide(blank)
        for box in page.boxes:
            x, y, w, h = (Inches(v) for v in (box.x, box.y, box.w, box.h))
            if isinstance(box, Text):
                shape = slide.shapes.add_textbox(x, y, w, h)
                if box.fill is not None:
                    shape.fill.solid()
                    shape.fill.fore_color.rgb = RGBColor(*box.fill)
                    shape.text_frame.vertical_anchor = MSO_ANCHOR.MIDDLE
                frame(shape.text_frame, box.lines, box.size, box.bold, box.colour)
                if box.fill is not None:
                    shape.text_frame.margin_left = Inches(0.15)
            elif isinstance(box, Picture):
                slide.shapes.add_picture(io.BytesIO(box.png), x, y, w, h)
            elif isinstance(box, Table):
                shape = slide.shapes.add_table(len(box.rows), len(box.widths), x, y, w, h)
                table = shape.table
                table.first_row = True
                table.horz_banding = False
                for j, cw in enumerate(box.widths):
                    table.columns[j].width = Inches(cw)
                for i, row in enumerate(box.rows):
                    table.rows[i].height = Inches(box.head_height if i == 0 else box.row_height)
                    for j, text in enumerate(row):
                        cell = table.cell(i, j)
                        cell.margin_left = cell.margin_right = Inches(CELL_PAD)
                        cell.margin_top = cell.margin_bottom = Inches(0.02)
                        cell.fill.solid()
                        cell.fill.fore_color.rgb = RGBColor(*(HEAD_FILL if i == 0 else (255, 255, 255)))
                        cell.text_frame.word_wrap = False
                        cell.text_frame.paragraphs[0].text = ""
                        frame(cell.text_frame, text.split("\n"), box.size, i == 0 or row[0] == "All", INK,
                              PP_ALIGN.LEFT if j == 0 else PP_ALIGN.RIGHT)
        if page.notes:
            slide.notes_slide.notes_text_frame.text = page.notes[:5000]
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()


# --- PDF --------------------------------------------------------------------------------------------------

def fonts_available(folder: Path = FONT_DIR) -> bool:
    return all((folder / f).is_file() for f in FONTS.values())


def to_pdf(deck: Deck, font_dir: Path | None = None) -> bytes:
    from fpdf import FPDF

    folder = font_dir or FONT_DIR
    unicode = fonts_available(folder)
    pdf = FPDF(orientation="L", unit="in", format=(H, W))
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    if unicode:
        for style, name in FONTS.items():
            pdf.add_font("DejaVu", style=style, fname=str(folder / name))
    family = "DejaVu" if unicode else "Helvetica"

    def clean(text: str) -> str:
        text = plain(text)
        if unicode:
            return "".join(ch if ord(ch) <= 0xFFFF else "\ufffd" for ch in text)  # DejaVu has no astral glyphs
        text = text.replace("—", "-").replace("–", "-").replace("…", "...").replace("•", "-")
        return text.encode("latin-1", "replace").decode("latin-1")

    pdf.set_title(clean(deck.title + (f" ({SYNTHETIC})" if deck.synthetic else "")))
    pdf.set_author("RCS Explorer")
    pdf.set_creator("RCS Explorer")
    for page in pages(deck):
        pdf.add_page()
        for box in page.boxes:
            if isinstance(box, Text):
                if box.fill is not None:
                    pdf.set_fill_color(*box.fill)
                    pdf.rect(box.x - 0.05, box.y - 0.05, box.w + 0.1, box.h + 0.1, style="F")
                pdf.set_font(family, "B" if box.bold else "", box.size)
                pdf.set_text_color(*box.colour)
                for i, line in enumerate(box.lines):
                    pdf.set_xy(box.x + (0.15 if box.fill else 0), box.y + i * line_height(box.size))
                    pdf.cell(box.w, line_height(box.size), clean(line))
            elif isinstance(box, Picture):
                pdf.image(io.BytesIO(box.png), x=box.x, y=box.y, w=box.w, h=box.h)
            elif isinstance(box, Table):
                pdf.set_draw_color(*RULE)
                pdf.set_line_width(0.01)
                lh = line_height(box.size)
                yy = box.y
                for i, row in enumerate(box.rows):
                    rh = box.head_height if i == 0 else box.row_height
                    if i == 0:
                        pdf.set_fill_color(*HEAD_FILL)
                        pdf.rect(box.x, yy, box.w, rh, style="F")
                    pdf.set_font(family, "B" if i == 0 or row[0] == "All" else "", box.size)
                    pdf.set_text_color(*INK)
                    xx = box.x
                    for j, (text, cw) in enumerate(zip(row, box.widths)):
                        for m, line in enumerate(text.split("\n")):
                            pdf.set_xy(xx + CELL_PAD, yy + 0.03 + m * lh)
                            pdf.cell(cw - 2 * CELL_PAD, lh, clean(line), align="L" if j == 0 else "R")
                        xx += cw
                    yy += rh
                    pdf.line(box.x, yy, box.x + box.w, yy)
    return bytes(pdf.output())


def slug(text: str, most: int = 48) -> str:
    """A file-name part from any title: lower-case letters and digits joined by hyphens."""
    words = "".join(ch.lower() if ch.isalnum() and ch.isascii() else " " for ch in plain(text)).split()
    return "-".join(words)[:most].strip("-") or "story"
