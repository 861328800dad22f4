"""A report pack as PDF (fpdf2): the HTML report's header, tables, charts and notes on A4 pages.

Charts are the same Vega-Lite specs as the HTML, drawn to PNG by vl-convert.
Text is set in DejaVu Sans so dashes, ≥ and £ print; where the font is
missing the core Helvetica is used and such characters are spelled in ASCII.
Every page's footer repeats the report, wave, date and, for the sample,
"Synthetic sample — not real statistics".
"""

from __future__ import annotations

import io
from pathlib import Path

from fpdf import FPDF, XPos, YPos
from fpdf.fonts import FontFace
from PIL import Image

from rcs_viz.features.compare.charts import VERDICT_COLOURS
from rcs_viz.features.report.model import NONE, SYNTHETIC_BANNER, Report, Section, grouped, png

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}  # both in Debian's fonts-dejavu-core
MARGIN = 12  # mm
PX_TO_MM = 25.4 / 96
INK, MUTED, RULE = (31, 35, 40), (87, 96, 106), (208, 215, 222)
BANNER_FILL, BANNER_EDGE, BANNER_INK = (255, 244, 214), (183, 121, 31), (92, 61, 0)
ASCII = {"–": "-", "—": "-", "≥": ">=", "≤": "<=", "’": "'", "‘": "'", "“": '"', "”": '"', "…": "...",
         "−": "-", "→": "->", "•": "-"}


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def fonts_available(folder: Path = FONT_DIR) -> bool:
    return all((folder / f).is_file() for f in FONTS.values())


class _PDF(FPDF):
    """FPDF with the report's footer on every page and text made printable in the chosen font."""

    def __init__(self, report: Report, unicode: bool, folder: Path = FONT_DIR):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.report = report
        self.unicode = unicode
        if unicode:
            for style, name in FONTS.items():
                self.add_font("DejaVu", style=style, fname=str(folder / name))
        self.family_name = "DejaVu" if unicode else "Helvetica"

    def footer(self):
        r = self.report
        self.set_y(-13)
        self.set_font(self.family_name, "", 7.5)
        self.set_text_color(*MUTED)
        self.cell(self.epw - 24, 4, self.clean(f"{r.title} · {r.wave_label} · produced {r.date_text}"), align="L")
        self.cell(24, 4, f"page {self.page_no()} of {{nb}}", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if r.synthetic:
            self.set_font(self.family_name, "B", 7.5)
            self.set_text_color(*BANNER_INK)
            self.cell(0, 4, self.clean(SYNTHETIC_BANNER), align="L")

    def clean(self, text) -> str:
        text = "" if text is None else str(text)
        if self.unicode:
            return text
        for k, v in ASCII.items():
            text = text.replace(k, v)
        return text.encode("latin-1", "replace").decode("latin-1")


def render(report: Report, font_dir: Path | None = None) -> bytes:
    folder = font_dir or FONT_DIR
    pdf = _PDF(report, fonts_available(folder), folder)
    c = pdf.clean
    family = pdf.family_name
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=18)
    pdf.set_title(c(report.title + (f" ({SYNTHETIC_BANNER})" if report.synthetic else "")))
    pdf.set_author("RCS Explorer")
    pdf.set_creator("RCS Explorer")
    pdf.set_subject(c(f"{report.dataset_title}; {report.cpp_label}; {report.wave_label}"))
    pdf.add_page()
    width = pdf.epw

    def text(body: str, size: float = 9, style: str = "", colour=INK, h: float | None = None, gap: float = 0):
        pdf.set_font(family, style, size)
        pdf.set_text_color(*colour)
        pdf.multi_cell(0, h or size * 0.5, c(body), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if gap:
            pdf.ln(gap)

    def heading(title: str, size: float = 13):
        if pdf.will_page_break(30):
            pdf.add_page()
        pdf.ln(2)
        text(title, size, "B", gap=1)
        pdf.set_draw_color(*RULE)
        pdf.line(MARGIN, pdf.get_y(), MARGIN + width, pdf.get_y())
        pdf.ln(1.5)

    # ---- header
    text("RCS EXPLORER · REPORT PACK", 8, "B", MUTED)
    text(report.title, 18, "B", h=9, gap=1)
    if report.synthetic:
        pdf.set_fill_color(*BANNER_FILL)
        pdf.set_draw_color(*BANNER_EDGE)
        pdf.set_line_width(0.6)
        pdf.set_font(family, "B", 11.5)
        pdf.set_text_color(*BANNER_INK)
        pdf.cell(0, 9, c(SYNTHETIC_BANNER), border=1, fill=True, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_line_width(0.2)
        pdf.set_fill_color(255, 255, 255)  # tables fill their cells with the current colour
        pdf.set_text_color(*INK)
        pdf.ln(2)
    pdf.set_font(family, "", 8.5)
    with pdf.table(col_widths=(34, width - 34), text_align=("LEFT", "LEFT"), first_row_as_headings=False,
                   borders_layout="NONE", line_height=4.2, padding=(0.6, 1, 0.6, 0)) as table:
        for label, value in report.header():
            row = table.row()
            row.cell(c(label), style=FontFace(emphasis="BOLD", color=MUTED))
            row.cell(c(value))
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.7)
    pdf.line(MARGIN, pdf.get_y() + 1.5, MARGIN + width, pdf.get_y() + 1.5)
    pdf.set_line_width(0.2)
    pdf.ln(4)

    # ---- summary table
    _summary(pdf, report, width, heading, text)

    # ---- charts
    for n, section in enumerate(report.sections):
        _chart(pdf, section, width, heading, text, new_page=n == 0)

    # ---- fair comparisons
    if report.fair:
        heading("Fair comparisons")
        text(f"Where {report.unit_label} sits in the funnel against the CPP, and its pupils against similar pupils "
             "(same SIMD quintile, stage and sex) across the CPP; then the CPP's inequality measures. A protected "
             "unit is listed as protected, with no figure.", 8.5, colour=MUTED, gap=1.5)
        for label, body in report.fair:
            text(label, 9, "B", gap=0.3)
            text(body, 8.5, gap=1.5)

    # ---- method
    pdf.add_page()
    heading("Method and disclosure")
    for label, body in report.method():
        if pdf.will_page_break(14):
            pdf.add_page()
        text(label, 9.5, "B", gap=0.5)
        text(body, 9, gap=2.5)
    return bytes(pdf.output())


def _summary(pdf, report: Report, width: float, heading, text) -> None:
    c = pdf.clean
    vs = "against the national figure" if report.kind == "cpp" else "against the CPP and the nation"
    heading(f"Summary: every indicator {vs}")
    text(f"{report.unit_label} in {report.wave_label}, with 95% confidence intervals. Key indicators, ranked "
         f"below, are in bold. [c] protected; [b] base too small; [z] no such pupils; {NONE} no figure exists.",
         8.5, colour=MUTED, gap=1.5)
    columns = report.summary_columns
    if report.kind == "cpp":
        widths = (78, 18, 26, 18, 18, width - 158)
    else:
        widths = (66, 14, 22, 13, 12, 15, 22, width - 164)
    key = {i.name for i in report.key_indicators}
    line_h, pad = 3.6, (0.7, 1, 0.7, 1)
    pdf.set_draw_color(*RULE)

    def lines(text: str, w: float, bold: bool = False) -> int:
        pdf.set_font(pdf.family_name, "B" if bold else "", 7.5)
        return len(pdf.multi_cell(w - 2, line_h, c(text), dry_run=True, output="LINES"))

    head_h = max(lines(col, w, True) for col, w in zip(columns, widths)) * line_h + 1.4
    first = True
    for group, rows in grouped(report):
        # a domain starts on a new page rather than leave its heading, or part of it, at the foot of one
        need = line_h + 1.4 + sum(lines(r["Indicator"], widths[0], r["indicator"] in key) * line_h + 1.4
                                  for r in rows)
        broke = False
        if pdf.will_page_break(need + (head_h if first else 0)) and need + head_h < pdf.eph - 10:
            pdf.add_page()
            broke = True
        pdf.set_font(pdf.family_name, "", 7.5)
        with pdf.table(col_widths=widths, text_align=("LEFT",) + ("RIGHT",) * (len(columns) - 1),
                       borders_layout="HORIZONTAL_LINES", line_height=line_h, padding=pad,
                       first_row_as_headings=first or broke, repeat_headings=1,
                       headings_style=FontFace(emphasis="BOLD", color=INK)) as table:
            if first or broke:
                head = table.row()
                for col in columns:
                    head.cell(c(col))
            row = table.row()
            row.cell(c(group), colspan=len(columns), align="LEFT",
                     style=FontFace(emphasis="BOLD", fill_color=(240, 243, 246)))
            for r in rows:
                row = table.row()
                row.cell(c(r["Indicator"]), style=FontFace(emphasis="BOLD") if r["indicator"] in key else None)
                for col in columns[1:]:
                    value = r[col]
                    if col.startswith("Against") and value in VERDICT_COLOURS:
                        fill = _rgb(VERDICT_COLOURS[value])
                        ink = (255, 255, 255) if value in ("better", "worse") else INK
                        row.cell(c(value), align="CENTER", style=FontFace(color=ink, fill_color=fill))
                    else:
                        row.cell(c(value))
        first = False
    pdf.ln(2)


def _chart(pdf, section: Section, width: float, heading, text, new_page: bool) -> None:
    image = png(section, scale=2) if section.chart is not None else None
    if new_page:
        pdf.add_page()
    w_mm = h_mm = 0.0
    if image is not None:
        px_w, px_h = Image.open(io.BytesIO(image)).size
        w_mm, h_mm = px_w / 2 * PX_TO_MM, px_h / 2 * PX_TO_MM
        fit = min(1.0, width / w_mm)
        w_mm, h_mm = w_mm * fit, h_mm * fit
        # a whole page less the heading and notes; the trend and the gradient share one
        room = (pdf.eph - 60) / 2 if section.key in ("trend", "gradient") else pdf.eph - 30
        if h_mm > room:
            w_mm, h_mm = w_mm * room / h_mm, room
        if pdf.will_page_break(h_mm + (24 if section.heading else 8)):
            pdf.add_page()
    if section.heading:
        heading(section.heading, 12)
    if section.intro:
        text(section.intro, 8.5, colour=MUTED, gap=1.5)
    if image is not None:
        pdf.image(io.BytesIO(image), x=pdf.l_margin, y=pdf.get_y(), w=w_mm, h=h_mm)
        pdf.set_y(pdf.get_y() + h_mm + 1.5)
    for note in section.notes:
        text(note, 8, colour=MUTED, gap=0.8)
    pdf.ln(3)
