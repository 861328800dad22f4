"""Charts as figures: the shared finish (title, projector-sized type) and PNG/SVG with their provenance.

Every page's charts end here, so an exported image always says where its
figures came from and which rules protected them, and type is scaled the
same way on every page when presenting.
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap

import altair as alt

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"]
FONT_SIZE = 15
EXPORT_WIDTH = 760  # a PNG/SVG of a chart drawn as wide as its container on screen
SHORT = 30  # characters of a category's label on an axis; the tooltip holds the whole label
# An x (or y) scale that ends on a tick it writes, with as many ticks as the plot's width leaves room for:
# no bar or whisker runs past its axis on a chart as wide as its container.
TICKS = alt.expr("max(2, min(6, floor(width / 90)))")
LEGEND_WIDTH = 480  # pixels (times the scale) a legend's row may take: it wraps to rows within the narrowest column


def shorten(label, limit: int = SHORT) -> str:
    """A long label cut at a word before `limit` characters, with an ellipsis; a short one unchanged."""
    text = str(label)
    if len(text) <= limit:
        return text
    head = text[:limit - 1]
    head = head.rsplit(" ", 1)[0] if " " in head[limit // 2:] else head
    return head.rstrip(" ,;:-–(") + "…"


def shorten_all(labels, limit: int = SHORT) -> dict:
    """Each label's short form, distinct for distinct labels (one that would repeat another keeps its whole text)."""
    out, seen = {}, set()
    for label in labels:
        short = shorten(label, limit)
        out[label] = str(label) if short in seen else short
        seen.add(out[label])
    return out


def _text_width(text: str, size: float) -> float:
    return 0.6 * size * len(str(text))


def legend(labels, scale: float = 1.0, **kwargs) -> alt.Legend:
    """A legend on top that lists every entry whole: as many columns as fit LEGEND_WIDTH, then more rows."""
    entry = max([_text_width(t, FONT_SIZE * scale) for t in labels] or [0]) + 34 * scale
    total = sum(_text_width(t, FONT_SIZE * scale) + 34 * scale for t in labels)
    columns = len(labels) if total <= LEGEND_WIDTH * scale else max(1, int(LEGEND_WIDTH * scale // entry))
    return alt.Legend(orient="top", labelLimit=0, columns=max(columns, 1), **kwargs)


def wrap(text: str, size: float) -> list[str]:
    """Lines short enough for the narrowest column the pages have (about 480 px)."""
    return textwrap.wrap(str(text), max(int(480 / (0.58 * size)), 20)) or [""]


def finish(chart, title: str, subtitle: list[str], height: float, scale: float, legend_limit: int = 0,
           wrapped: bool = False):
    """Title, fonts scaled for presenting, and the whole height (`usermeta.height`).

    Legends list every label whole (`legend_limit` 0). `wrapped` breaks the title and subtitle into lines that
    fit the narrowest column (for charts as wide as their container, `fit`).
    """
    heading, lines = [title], list(subtitle)
    if wrapped:
        heading = wrap(title, (FONT_SIZE + 3) * scale)
        lines = [line for s in subtitle for line in wrap(s, (FONT_SIZE - 2) * scale)]
    extra = 22 * scale * (len(heading) - 1 + len(lines) - len(subtitle))
    return (chart.properties(title=alt.TitleParams(heading[0] if len(heading) == 1 else heading, subtitle=lines,
                                                   anchor="start", limit=0),
                             padding={"top": 6 * scale, "left": 4, "right": 8 * scale, "bottom": 20},
                             usermeta={"height": int(height + extra)})
            .configure_axis(labelFontSize=FONT_SIZE * scale, titleFontSize=FONT_SIZE * scale, labelLimit=340 * scale)
            .configure_legend(labelFontSize=FONT_SIZE * scale, titleFontSize=FONT_SIZE * scale,
                              labelLimit=legend_limit, titleLimit=0)
            .configure_title(fontSize=(FONT_SIZE + 3) * scale, subtitleFontSize=(FONT_SIZE - 2) * scale,
                             subtitleColor="#444444")
            .configure_header(labelFontSize=FONT_SIZE * scale, titleFontSize=FONT_SIZE * scale)
            .configure_text(fontSize=(FONT_SIZE - 1) * scale)
            .configure_view(stroke=None))


def fit(chart, title: str, subtitle: list[str], height: float, scale: float, **kwargs):
    """`finish` for a single or layered view drawn as wide as its container (width "container"): its axes, labels
    and legend are fitted inside that width (autosize fit-x) and its height is its own (the plot's, plus the rest).
    An export gives it EXPORT_WIDTH (`to_png`, `to_svg`)."""
    return finish(chart.properties(autosize=alt.AutoSizeParams(type="fit-x", contains="padding")),
                  title, subtitle, height, scale, wrapped=True, **kwargs)


def head_height(subtitle: list[str], scale: float, legend: bool = True) -> float:
    """Room for a title, its subtitle lines and a legend above the plot."""
    return (40 + 20 * len(subtitle) + (45 if legend else 0) + 60) * scale


def footer(source: str, rules) -> list[str]:
    """What an exported image says about itself, since it travels without the page around it."""
    protection = (f"counts under {rules.threshold} suppressed"
                  + (", secondary suppression" if rules.secondary else "")
                  + (", small random adjustments to counts" if rules.perturbation else "")
                  + f"; %, means and intervals need a base of {rules.min_base}")
    return [f"Source: {source} · Protection: {protection}",
            f"Produced {dt.date.today():%d %B %Y} by RCS Explorer"]


def _spec(c: alt.Chart, lines) -> str:
    """The chart's spec with `lines` added under its title."""
    spec = c.to_dict()
    if spec.get("width") == "container":  # a file has no container: the width it is drawn at
        spec["width"] = EXPORT_WIDTH
    title = spec.get("title") or {"text": ""}
    title = {"text": title} if isinstance(title, str) else dict(title)
    subtitle = title.get("subtitle") or []
    title["subtitle"] = ([subtitle] if isinstance(subtitle, str) else list(subtitle)) + list(lines)
    spec["title"] = title
    return json.dumps(spec)


def to_png(c: alt.Chart, lines=()) -> bytes:
    import vl_convert as vlc

    return vlc.vegalite_to_png(_spec(c, lines), scale=2)


def to_svg(c: alt.Chart, lines=()) -> str:
    import vl_convert as vlc

    return vlc.vegalite_to_svg(_spec(c, lines))
