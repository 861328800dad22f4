"""Charts as figures: the shared finish (title, projector-sized type) and PNG/SVG with their provenance.

Every page's charts end here, so an exported image always says where its
figures came from and which rules protected them, and type is scaled the
same way on every page when presenting.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import textwrap

import altair as alt
import pandas as pd
from altair.utils.data import to_values
from altair.utils.schemapi import disable_debug_mode

# Altair's debug mode checks every property object (an axis, a legend, a title) against the Vega-Lite schema as it is
# made: about a sixth of the time a page spends building its charts, for tracebacks that point at the bad property.
# The whole spec is checked by `to_dict()` / `spec_of` (validate on), which the tests do for every kind of chart.
disable_debug_mode()

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"]
FONT_SIZE = 15
PNG_SCALE = 2  # a PNG's pixels per CSS pixel (`png_of`): sharp in a document and on a slide
EXPORT_WIDTH = 760  # a PNG/SVG of a chart drawn as wide as its container on screen
SHORT = 30  # characters of a category's label on an axis; the tooltip holds the whole label
# An x (or y) scale that ends on a tick it writes, with as many ticks as the plot's width leaves room for:
# no bar or whisker runs past its axis on a chart as wide as its container.
TICKS = alt.expr("max(2, min(6, floor(width / 90)))")
LEGEND_WIDTH = 480  # pixels (times the scale) a legend's row may take in a file: the narrowest column a page had
LEGEND_LINE = 22  # characters of a legend label's line where its legend has no room for it whole
PAD_X = 30  # pixels of a container a chart's padding and a legend's own padding take
# Chart text in the page's own text colour, not the grey a chart theme gives it (#808495 on white is 3.7:1):
# WCAG 2.1 AA asks 4.5:1 of text, and an exported image travels without the page's theme.
TEXT = "#1a1a1a"   # 17.4:1 on white: titles, axis and legend labels, headers
SOFT = "#444444"   # 9.7:1 on white: subtitles


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


def _entries(labels, scale: float) -> tuple[float, float, dict]:
    """A legend entry's width (its symbol and its label), that of an entry whose label is broken into lines of
    LEGEND_LINE characters, and those lines for each label longer than that."""
    size = FONT_SIZE * scale
    lines = {str(t): list(_wrapped(str(t), LEGEND_LINE)) for t in labels if len(str(t)) > LEGEND_LINE}
    entry = max([_text_width(t, size) for t in labels] or [0]) + 34 * scale
    broken = max([_text_width(line, size) for t in labels for line in lines.get(str(t), [t])] or [0]) + 34 * scale
    return entry, broken, lines


def legend(labels, scale: float = 1.0, plot_width: bool = False, **kwargs) -> alt.Legend:
    """A legend on top that lists every entry whole: as many columns as its room holds, then more rows.

    Its room is the chart's container on a page (`containerSize`, less the chart's padding), so that a phone's
    column of about 330 px gets one or two columns and a desk one row. `plot_width`: the plot's own width (`width`)
    for a single or layered view, where a top legend starts at the plot's left edge: long labels on the other axis
    leave it less than its container (keep them short enough with `label_room`). A faceted chart has no `width`;
    its legend starts at its left edge. A file has no container, and a legend there has LEGEND_WIDTH: columns
    chosen by `width` in a file were laid out after the title was placed, and the title was cut off the top.
    A label too long for the room, one column, is written in lines (Need's "No contact recorded (possible unmet
    need)" is wider than a phone's plot).
    """
    entry, broken, lines = _entries(labels, scale)
    total = sum(_text_width(t, FONT_SIZE * scale) + 34 * scale for t in labels)
    room = f"(containerSize()[0] ? {'width' if plot_width else f'containerSize()[0] - {PAD_X}'} : {LEGEND_WIDTH * scale:g})"
    whole = f"{room} >= {entry:.0f}"  # one column holds the widest entry in one line
    columns = f"{room} >= {total:.0f} ? {len(labels)} : max(1, floor({room} / ({whole} ? {entry:.0f} : {broken:.0f})))"
    if lines:
        chosen = "datum.label"
        for label, parts in lines.items():
            chosen = f"datum.label === {json.dumps(label)} ? {json.dumps(parts)} : {chosen}"
        kwargs.setdefault("labelExpr", f"{whole} ? datum.label : ({chosen})")
    return alt.Legend(orient="top", labelLimit=0, columns=alt.ExprRef(columns), **kwargs)


def label_room(legend_labels, scale: float = 1.0, title: str = "") -> alt.ExprRef:
    """An axis's `labelLimit` on the left of a plot whose legend (`legend` with `plot_width`) starts at the plot's
    left edge: on a narrow container the labels give up what the legend's widest entry (its labels in lines) or its
    title needs (a school's name took two thirds of a phone's column, and the legend ran past the screen),
    shortened with an ellipsis (the tooltip has them whole); on a desk, and in a file, they are whole."""
    _, broken, _ = _entries(legend_labels, scale)
    need = max(broken, _text_width(title, FONT_SIZE * scale) + 10 * scale)
    return alt.ExprRef(f"containerSize()[0] ? max({60 * scale:g}, containerSize()[0] - {PAD_X + need:.0f})"
                       f" : 100000")


def wrap(text: str, size: float, width: float = 480) -> list[str]:
    """Lines short enough for `width` pixels, by default the narrowest column the pages have (about 480 px)."""
    return list(_wrapped(str(text), max(int(width / (0.58 * size)), 20)))


@functools.lru_cache(maxsize=4096)
def _wrapped(text: str, chars: int) -> tuple[str, ...]:
    """textwrap's lines of `text`, kept: a title and its subtitle are wrapped for each of TITLE_WIDTHS, a third of
    the time `fit` took, and most lines (the filters, the synthetic-sample line) recur from chart to chart. A line
    already short enough, single-spaced, is itself (as textwrap would give it, in a tenth of the time)."""
    if len(text) <= chars and text == text.strip() and " ".join(text.split(" ")) == " ".join(text.split()):
        return (text,)
    return tuple(textwrap.wrap(text, chars)) or ("",)


# The widths a title and its subtitle are wrapped for: the chart picks the widest its container holds (`by_width`).
# From 320: a column on a phone, or one of two side by side on a narrow window, is 350-400 px wide.
TITLE_WIDTHS = (320, 400, 480, 560, 640, 720, 800, 900, 1000, 1150, 1300, 1500, 1800)


def _chosen(lines_at) -> str:
    """A Vega expression giving `lines_at(width)` for the widest of TITLE_WIDTHS the chart's container holds
    (`containerSize`, or EXPORT_WIDTH in a file, which has none); 24 px go to the chart's padding and the title's
    offset. A width whose lines are those of the next narrower one is left out."""
    width = f"(containerSize()[0] || {EXPORT_WIDTH})"
    narrowest = lines_at(TITLE_WIDTHS[0] - 24)
    choice, last = json.dumps(narrowest), narrowest
    for least in TITLE_WIDTHS[1:]:
        lines = lines_at(least - 24)
        if lines != last:
            choice, last = f"{width} >= {least} ? {json.dumps(lines)} : {choice}", lines
    return choice


def by_width(text: str, size: float) -> alt.ExprRef:
    """The title's lines for the width the chart is drawn at: Vega-Lite cannot wrap a title, so its lines are
    written for each of TITLE_WIDTHS and the chart's container chooses (`_chosen`). A title wrapped for one width
    alone broke at about 350 px on a wide chart, or ran past a narrow one."""
    return alt.ExprRef(_chosen(lambda width: wrap(text, size, width)))


def subtitle_by_width(lines: list[str], size: float) -> str:
    """The subtitle's lines for the width the chart is drawn at, as `by_width` does for a title: a Vega expression,
    which Vega-Lite takes for a subtitle (as a signal) though its schema, and so Altair's validation, allows only
    text there. Kept in the chart's `usermeta` and put in place where a page draws it (`on_screen`)."""
    return _chosen(lambda width: [part for line in lines for part in wrap(line, size, width)])


def on_screen(spec: dict) -> dict:
    """A chart's spec as a page draws it: its subtitle lines chosen by its container's width, where `fit` wrote
    them so (`subtitle_by_width`); the spec's own lines, wrapped for one width, are for files and other uses."""
    chosen = (spec.get("usermeta") or {}).pop("subtitle", None)
    if chosen and isinstance(spec.get("title"), dict):
        spec["title"]["subtitle"] = {"expr": chosen}
    return spec


def finish(chart, title: str, subtitle: list[str], height: float, scale: float, legend_limit: int = 0,
           wrapped: bool = False, autosize: alt.AutoSizeParams | None = None):
    """Title, fonts scaled for presenting, and the whole height (`usermeta.height`).

    Legends list every label whole (`legend_limit` 0). `wrapped` (for charts as wide as their container, `fit`)
    breaks the title and subtitle into lines chosen by the container's width (`by_width`, `subtitle_by_width`); the
    spec's own subtitle lines, and `usermeta.height`, are those of the narrowest column the pages had (480 px).

    Set on one copy of the chart: each properties() or configure_*() call copies a chart again, and a layered or
    faceted chart copies every layer deep each time (a panel view's charts spent a third of their building so).
    """
    heading, lines = [title], list(subtitle)
    text = heading[0]
    meta = {}
    if wrapped:
        heading = wrap(title, (FONT_SIZE + 3) * scale)
        lines = [line for s in subtitle for line in wrap(s, (FONT_SIZE - 2) * scale)]
        text = by_width(title, (FONT_SIZE + 3) * scale) if len(
            wrap(title, (FONT_SIZE + 3) * scale, TITLE_WIDTHS[0] - 24)) > 1 else title
        meta = {"subtitle": subtitle_by_width(list(subtitle), (FONT_SIZE - 2) * scale)} if subtitle else {}
    extra = 22 * scale * (len(heading) - 1 + len(lines) - len(subtitle))
    finished = chart.copy(deep=False)
    if autosize is not None:
        finished.autosize = autosize
    finished.title = alt.TitleParams(text, subtitle=lines, anchor="start", limit=0)
    finished.padding = {"top": 6 * scale, "left": 4, "right": 8 * scale, "bottom": 20}
    finished.usermeta = {"height": int(height + extra), "title": title, **meta}
    config = alt.Config() if finished.config is alt.Undefined else finished.config.copy(deep=False)
    config["axis"] = alt.AxisConfig(labelFontSize=FONT_SIZE * scale, titleFontSize=FONT_SIZE * scale,
                                    labelLimit=340 * scale, labelColor=TEXT, titleColor=TEXT)
    config["legend"] = alt.LegendConfig(labelFontSize=FONT_SIZE * scale, titleFontSize=FONT_SIZE * scale,
                                        labelLimit=legend_limit, titleLimit=0, labelColor=TEXT, titleColor=TEXT)
    config["title"] = alt.TitleConfig(fontSize=(FONT_SIZE + 3) * scale, subtitleFontSize=(FONT_SIZE - 2) * scale,
                                      color=TEXT, subtitleColor=SOFT)
    config["header"] = alt.HeaderConfig(labelFontSize=FONT_SIZE * scale, titleFontSize=FONT_SIZE * scale,
                                        labelColor=TEXT, titleColor=TEXT)
    config["text"] = alt.MarkConfig(fontSize=(FONT_SIZE - 1) * scale, color=TEXT)
    config["view"] = alt.ViewConfig(stroke=None)
    finished.config = config
    spec = spec_of(finished, validate=False)
    # its sentences whole, not broken where a line was
    finished.description = describe({**spec, "title": {**spec["title"], "subtitle": list(subtitle)}})
    object.__setattr__(finished, SCREEN, _for_screen(spec, finished.description))  # not a Vega-Lite property
    return finished


SCREEN = "screen_spec"  # the attribute of a finished chart that holds its spec as a page draws it (`screen_spec`)


def screen_spec(chart) -> dict | None:
    """The spec a page draws of a chart as `finish` left it (made there with the description's spec), or None for
    any other chart (a copy of a finished one is another chart: its properties may have changed).

    Streamlit makes a chart's spec again from the Altair chart on every page run that draws it (a few ms, a fifth of
    an Explore rerun's own work); drawn from this one (`st.vega_lite_chart`), a chart is made into a spec once, and
    a cached chart never again. Its data are inline values, which Streamlit sends as it sends a chart's own.
    """
    return chart.__dict__.get(SCREEN)


def _for_screen(spec: dict, description: str) -> dict:
    """`spec` as Streamlit would make it from the chart: with its description, its subtitle chosen by width
    (`on_screen`), and without the settings of Altair's default theme, which Streamlit turns off while it makes a
    chart's spec (a continuous view of 300 px; a chart here sets no such size of its own)."""
    out = on_screen({**spec, "title": dict(spec["title"]), "usermeta": dict(spec.get("usermeta") or {})})
    out["description"] = description
    if alt.theme.active == "default":
        _drop_settings(out, alt.theme.get()())
    return out


def _drop_settings(spec: dict, settings: dict) -> None:
    """Take out of `spec` (in place, copying what it changes) each setting that equals one of `settings`."""
    for key, value in settings.items():
        if isinstance(value, dict) and isinstance(spec.get(key), dict):
            spec[key] = dict(spec[key])
            _drop_settings(spec[key], value)
            if not spec[key]:
                del spec[key]
        elif key in spec and spec[key] == value:
            del spec[key]


def spec_of(chart, validate: bool = True) -> dict:
    """The chart's Vega-Lite spec, made safely beside Streamlit drawing charts in other threads (`_inline`)."""
    return _inline(chart).to_dict(validate=validate)


def _inline(chart):
    """A copy of `chart` whose data frames are written out as inline values, for a spec made here.

    Altair turns a data frame into a spec through its data transformer, which is global to the process, and
    Streamlit swaps in its own while it draws a chart (under a lock of its own, writing into that chart's
    datasets). A spec made from a data frame in another session's thread at that moment goes through Streamlit's
    transformer and writes into the chart being drawn: under load a page run failed ("dictionary changed size
    during iteration") and a description lost its figures. Inline values never meet a transformer.
    """
    out = chart.copy(deep=False)
    if isinstance(getattr(out, "data", None), pd.DataFrame):
        out.data = to_values(out.data)
    for key in ("layer", "hconcat", "vconcat", "concat"):
        parts = getattr(out, key, None)
        if isinstance(parts, list):
            setattr(out, key, [_inline(p) for p in parts])
    if hasattr(getattr(out, "spec", None), "to_dict"):
        out.spec = _inline(out.spec)
    return out


def fit(chart, title: str, subtitle: list[str], height: float, scale: float, **kwargs):
    """`finish` for a single or layered view drawn as wide as its container (width "container"): its axes, labels
    and legend are fitted inside that width (autosize fit-x) and its height is its own (the plot's, plus the rest).
    An export gives it EXPORT_WIDTH (`to_png`, `to_svg`)."""
    return finish(chart, title, subtitle, height, scale, wrapped=True,
                  autosize=alt.AutoSizeParams(type="fit-x", contains="padding"), **kwargs)


MARKS = {"bar": "bars", "point": "dots", "circle": "dots", "line": "lines", "rule": "intervals", "area": "areas",
         "rect": "cells", "tick": "ticks", "text": "labels", "geoshape": "areas"}


def units(node: dict, data=None, encoding=None):
    """Every single view of a spec (layers, facets, concatenations walked), with the data and encoding it inherits."""
    data = node.get("data", data)
    encoding = {**(encoding or {}), **node.get("encoding", {})}
    if "mark" in node:
        yield node, data, encoding
    for key in ("layer", "hconcat", "vconcat", "concat"):
        for child in node.get(key, []):
            yield from units(child, data, encoding)
    if isinstance(node.get("spec"), dict):
        yield from units(node["spec"], data, encoding)


def _number(value, fmt: str | None) -> str:
    """A value written as the chart's tooltip writes it (d3's ",.1f" is Python's too; "~" trims zeros)."""
    if fmt:
        try:
            return format(value, fmt.replace("~", "")) if "~" not in fmt else f"{value:,.6g}"
        except (TypeError, ValueError):
            pass
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _plain(text) -> str:
    return " ".join(text) if isinstance(text, list) else str(text or "")


def title_of(spec: dict) -> str:
    """A chart's title as one line of text, whether its lines are written out or chosen by width (`by_width`)."""
    title = spec.get("title") or {}
    text = title.get("text") if isinstance(title, dict) else title
    return (spec.get("usermeta") or {}).get("title", "") if isinstance(text, dict) else _plain(text)


def describe(spec: dict) -> str:
    """The chart in words, its accessible name (Vega-Lite `description`, which Vega gives the drawing as
    aria-label): title, subtitle, what is drawn and its highest and lowest figure.

    Built only from the figures the chart itself draws, which the gate has passed already, so it says nothing the
    chart does not; a protected cell, which the chart leaves out, is left out here too (the page names it).
    """
    title = spec.get("title") or {}
    title = {"text": title} if isinstance(title, (str, list)) else title
    words = [title_of(spec)]
    subtitle = title.get("subtitle") or []
    words += [subtitle] if isinstance(subtitle, str) else list(subtitle)
    datasets = spec.get("datasets", {})
    for unit, data, enc in units(spec):
        mark = unit["mark"]["type"] if isinstance(unit["mark"], dict) else unit["mark"]
        rows = datasets.get((data or {}).get("name"), (data or {}).get("values"))
        if mark not in MARKS or not rows or unit.get("transform") or (
                isinstance(unit["mark"], dict) and unit["mark"].get("opacity") == 0):
            continue
        q = next((enc[k] for k in ("x", "y") if isinstance(enc.get(k), dict) and enc[k].get("type") == "quantitative"
                  and enc[k].get("field")), None)
        if q is None:
            continue
        tips = enc.get("tooltip") or []
        tips = tips if isinstance(tips, list) else [tips]
        names = [t["field"] for t in tips if isinstance(t, dict) and t.get("type") in ("nominal", "ordinal")
                 and t.get("field")]
        names = names or [enc[k]["field"] for k in ("y", "x", "color") if isinstance(enc.get(k), dict)
                          and enc[k].get("type") in ("nominal", "ordinal") and enc[k].get("field")]
        fmt = next((t.get("format") for t in tips if isinstance(t, dict) and t.get("field") == q["field"]), None)
        values = [r for r in rows if isinstance(r.get(q["field"]), (int, float)) and r[q["field"]] == r[q["field"]]]
        if not values:
            continue
        label = lambda r: " – ".join(str(r[n]) for n in names if r.get(n) is not None) or "one"  # noqa: E731
        high = max(values, key=lambda r: r[q["field"]])
        low = min(values, key=lambda r: r[q["field"]])
        what = _plain(q.get("title")) or q["field"]
        words.append(f"{len(values)} {MARKS[mark]} of {what}: highest {label(high)}, "
                     f"{_number(high[q['field']], fmt)}; lowest {label(low)}, {_number(low[q['field']], fmt)}")
        break
    return ". ".join(w.strip().rstrip(".") for w in words if w and w.strip()) + "."


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
    spec = spec_of(c)
    if spec.get("width") == "container":  # a file has no container: the width it is drawn at, and lines fitted to it
        spec["width"] = EXPORT_WIDTH  # (drawn to fit that width, a line longer than it would be cut, not widen it)
        size = spec.get("config", {}).get("title", {}).get("subtitleFontSize", FONT_SIZE - 2)
        lines = [part for line in lines for part in wrap(line, size, EXPORT_WIDTH) if part]
    title = spec.get("title") or {"text": ""}
    title = {"text": title} if isinstance(title, str) else dict(title)
    subtitle = title.get("subtitle") or []
    title["subtitle"] = ([subtitle] if isinstance(subtitle, str) else list(subtitle)) + list(lines)
    spec["title"] = title
    return json.dumps(spec)


def to_png(c: alt.Chart, lines=()) -> bytes:
    return png_of(_spec(c, lines))


def png_of(spec: str) -> bytes:
    """A Vega-Lite spec (JSON) drawn as a PNG of PNG_SCALE pixels per CSS pixel."""
    import vl_convert as vlc

    return vlc.vegalite_to_png(spec, scale=PNG_SCALE)


def to_svg(c: alt.Chart, lines=()) -> str:
    """The chart as SVG, named by its description (role img, aria-label and a title), as it is on screen."""
    import html

    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(_spec(c, lines))
    words = getattr(c, "description", None)
    words = html.escape(words, quote=True) if isinstance(words, str) else ""
    if not words or "<svg" not in svg:
        return svg
    start = svg.index("<svg")
    end = svg.index(">", start)
    return svg[:start] + svg[start:end] + f' role="img" aria-label="{words}">' + f"<title>{words}</title>" + svg[end + 1:]
