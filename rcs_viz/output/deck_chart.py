"""A chart drawn for a slide: the same figures as the page's chart, drawn to the shape of the room it gets.

A page's chart is drawn for a column of a web page, taller than wide; shrunk
onto a slide its labels came out too small to read from the back of a room,
and a chart of many bars was left out. Here the chart's own spec (its figures
already protected: nothing is counted again) is drawn as wide as the slide's
box asks for its labels to reach `deck.CHART_PT`, and as tall as the box holds:

- a chart of categories down its side (bars, dots) gets bars packed closer
  (at most STEP times its type size apart) and, when there are more than the
  box holds, is split into parts for consecutive slides, each on the same
  scale, a row "All" repeated in every part; a ranking of more than
  MOST_PARTS slides shows its top and its bottom (a slide each) and says how
  many are between and where the whole chart is;
- a chart of categories in no ranked order that would take more than
  MOST_SPLIT slides (Explore's every school) is sorted by its figures and
  shown as a ranking is, its highest and its lowest, the caption saying by
  what it is sorted: what a room asks of eighty schools is which stand out,
  and ten slides of bars in the data's order would not say it (a font under
  18 pt would not be read at all);
- any other chart (a line over waves, a scatter) is drawn to the box's height.

A chart is never drawn narrower than its export (figures.EXPORT_WIDTH): its
legends are laid out for that width, and cut below it.

Drawn with vl-convert from the spec, as `figures.to_png` draws a chart's PNG.
"""

from __future__ import annotations

import copy
import json
import math
import re

from rcs_viz.output import deck as slides, figures
from rcs_viz.output.deck import ChartPart

STEP = 1.5  # a category's row at most this many times the label's type size: bars close, labels apart
SPREAD = 1.5  # and, where the slide has room, at most this many times as far apart as on the page (bars thicker)
MOST_PARTS = 3  # a ranking split across at most this many slides; beyond, its top and its bottom on two
MOST_SPLIT = 6  # any other chart of categories split across at most this many slides; beyond, its highest and lowest
LEAST_PLOT = 120  # CSS pixels: the least height a plot is drawn at for a slide
ALL = "All"
WHERE = "the view's link and its PNG export"


def _png(spec: dict) -> bytes:
    return figures.png_of(json.dumps(spec))


def _height(spec: dict) -> float:
    """The chart's whole height in CSS pixels, padding included, read from its SVG: drawing an SVG takes a
    fraction of a PNG's time, and the padding it counts (trimmed off the PNG) only errs on the safe side."""
    import vl_convert as vlc

    head = vlc.vegalite_to_svg(json.dumps(spec))[:400]
    return float(re.search(r'<svg[^>]* height="([\d.]+)"', head).group(1))


def _values(spec: dict, data) -> list[dict]:
    """A view's rows: written in its data, or in the spec's datasets under the name its data gives."""
    data = data or {}
    return data.get("values") or spec.get("datasets", {}).get(data.get("name"), [])


def _categories(spec: dict) -> tuple[str, list[str]] | None:
    """The field down the chart's side and its categories in the order drawn, for a chart that has one (a
    horizontal bar or dot chart; `draw` has set small multiples aside); None otherwise."""
    field, order = None, []
    for node, data, enc in figures.units(spec):
        y = enc.get("y") or {}
        if y.get("type") not in ("nominal", "ordinal") or "field" not in y:
            continue
        if field not in (None, y["field"]):
            return None
        field = y["field"]
        if isinstance(y.get("sort"), list):
            order = list(y["sort"])
        for row in _values(spec, data):
            if row.get(field) is not None and row[field] not in order:
                order.append(row[field])
    return (field, order) if field and order else None


def _x_domain(spec: dict) -> list[float] | None:
    """One x scale for every part of a split chart: its whole chart's figures and zero where the scale starts
    there (a scale already given a domain keeps it)."""
    low, high, zero = math.inf, -math.inf, False
    for node, data, enc in figures.units(spec):
        x = enc.get("x") or {}
        if x.get("type") != "quantitative":
            continue
        scale = x.get("scale") or {}
        if "domain" in scale:
            return None
        mark = node["mark"]["type"] if isinstance(node["mark"], dict) else node["mark"]
        zero = zero or scale.get("zero", mark == "bar")
        for key in ("x", "x2"):
            name = (enc.get(key) or {}).get("field")
            for row in _values(spec, data) if name else []:
                value = row.get(name)
                if isinstance(value, (int, float)) and not math.isnan(value):
                    low, high = min(low, value), max(high, value)
    if low > high:
        return None
    return [min(low, 0.0) if zero else low, max(high, 0.0) if zero else high]


def _part(spec: dict, field: str, shown: list[str], domain: list[float] | None, step: float, factor: float) -> dict:
    """The chart with only the categories `shown` (in that order), its rows `step` apart and its marks' widths
    times `factor`, on the x scale `domain`."""
    out = copy.deepcopy(spec)
    out["height"] = step * len(shown)
    for node, _, enc in figures.units(out):
        mark = node["mark"] if isinstance(node["mark"], dict) else {"type": node["mark"]}
        if isinstance(mark.get("size"), (int, float)) and mark["type"] in ("bar", "tick", "point", "circle"):
            mark["size"] *= factor ** 2 if mark["type"] in ("point", "circle") else factor
            node["mark"] = mark
        own = node.setdefault("encoding", {})
        if (enc.get("y") or {}).get("field") == field:
            node["transform"] = [{"filter": {"field": field, "oneOf": [s for s in shown if s is not None]}},
                                 *node.get("transform", [])]
            y = dict(own.get("y") or enc["y"])
            y["scale"] = {**(y.get("scale") or {}), "domain": shown}
            y.pop("sort", None)
            own["y"] = y
        if domain is not None and (enc.get("x") or {}).get("type") == "quantitative":
            x = dict(own.get("x") or enc["x"])
            x["scale"] = {**(x.get("scale") or {}), "domain": domain}
            own["x"] = x
    return out


def _by_figure(spec: dict, field: str, units: list[str]) -> tuple[list[str], str] | None:
    """The `units` drawn with a figure, sorted by it, highest first, and that figure in words: a bar's or dot's
    value; a stacked bar's whole length; with bars side by side (several series), the first series'. A unit with
    no such figure (protected, its base too small) is neither high nor low and is left out, as the page's chart
    leaves it blank. None for a chart with no bar or dot along a scale of values."""
    for node, data, enc in figures.units(spec):
        mark = node["mark"]["type"] if isinstance(node["mark"], dict) else node["mark"]
        x, y = enc.get("x") or {}, enc.get("y") or {}
        if mark not in ("bar", "point", "circle", "tick") or x.get("type") != "quantitative" or \
                y.get("field") != field or "field" not in x:
            continue
        rows = [r for r in _values(spec, data) if isinstance(r.get(x["field"]), (int, float))
                and not math.isnan(r[x["field"]])]
        series = (enc.get("color") or {}).get("field")
        stacked = series is not None and mark == "bar" and x.get("stack", "zero") is not None
        first = None
        if series is not None and not stacked:
            sort = (enc.get("color") or {}).get("sort")
            first = sort[0] if isinstance(sort, list) and sort else rows[0][series] if rows else None
            rows = [r for r in rows if r.get(series) == first]
        key: dict = {}
        for r in rows:
            key[r[field]] = key.get(r[field], 0.0) + r[x["field"]] if stacked else key.get(r[field], r[x["field"]])
        ordered = sorted((u for u in units if u in key), key=lambda u: -key[u])
        return ordered, ("whole bar" if stacked else figures.shorten(first, 24) if first is not None else "value")
    return None


def _fits(png: bytes, font_px: float, w: float, h: float) -> bool:
    return slides.label_pt(png, font_px, w, h) >= slides.CHART_PT


def draw(spec: dict, w: float, h: float, font_px: float, ranked: bool = False, split: bool = False) -> list[ChartPart]:
    """The chart (its spec, `figures.spec_of`) drawn for a box `w` by `h` inches, its labels (`font_px` in the
    PNG) at least CHART_PT there.

    One picture when it fits; with `split`, a chart of categories too many for the box comes in parts (or, a
    ranking beyond MOST_PARTS slides, as its top and bottom; any other beyond MOST_SPLIT, sorted by its figures,
    as its highest and lowest). An empty list: it cannot be read in such a box,
    or the box is narrower than the chart is made for (figures.EXPORT_WIDTH: its legends are laid out for it).
    """
    css = font_px / figures.PNG_SCALE  # the labels' CSS pixels
    most_w = css * 72 * w / slides.CHART_PT  # the widest (CSS pixels) the chart may be for labels of CHART_PT
    most_h = css * 72 * h / slides.CHART_PT * 0.97  # and the tallest (a little kept for rounding)
    if "facet" in spec or not isinstance(spec.get("height"), (int, float)):  # small multiples: as exported
        png = _png(spec)
        return [ChartPart(png)] if _fits(png, font_px, w, h) else []
    if most_w < figures.EXPORT_WIDTH:
        return []
    spec = {**spec, "width": int(most_w * 0.98)}
    cats = _categories(spec)
    if cats is None:  # a chart of its own shape (lines over waves, a scatter): drawn to the box's height
        spec["height"] = max(LEAST_PLOT, spec["height"] + most_h - _height(spec))
        png = _png(spec)
        return [ChartPart(png)] if _fits(png, font_px, w, h) else []
    field, order = cats
    rows = len(order)
    old_step = spec["height"] / rows
    step = min(old_step, STEP * css) if rows >= 3 else old_step
    domain = _x_domain(spec)
    head = _height(_part(spec, field, order, domain, step, step / old_step)) - step * rows  # legend, axis, padding
    if (most_h - head) / rows >= step:  # the whole chart fits: its rows spread over the box's height
        wide = min(old_step * SPREAD, (most_h - head) / rows)
        png = _png(_part(spec, field, order, domain, wide, wide / old_step))
        if _fits(png, font_px, w, h):
            return [ChartPart(png)]
    if not split:
        return []
    totals = [c for c in order if c == ALL]
    units = [c for c in order if c != ALL]
    room = int((most_h - head) // step) - len(totals)  # rows a part holds
    if room < 2:
        return []
    count = -(-len(units) // room)

    def part(shown: list[str], caption: str, step: float, end: bool = False) -> ChartPart:
        return ChartPart(_png(_part(spec, field, shown + totals, domain, step, step / old_step)), caption, end)

    if count <= (MOST_PARTS if ranked else MOST_SPLIT):
        size = -(-len(units) // count)  # as many in each part; their rows spread over the box's height
        spread = min(old_step * SPREAD, (most_h - head) / (size + len(totals)))
        out = [part(units[k:k + size], f"Rows {k + 1} to {min(k + size, len(units))} of {len(units)}, every part "
                                       "on the same scale.", spread) for k in range(0, len(units), size)]
    elif ranked:  # the top and the bottom of the ranking, each on a slide; how many between, and where they are
        between = f"the {len(units) - 2 * room} between are in {WHERE}."
        out = [part(units[:room], f"Top {room} of {len(units)} drawn, as ranked; {between}", step, True),
               part(units[-room:], f"Bottom {room} of {len(units)} drawn, same scale; {between}", step, True)]
    elif (by_figure := _by_figure(spec, field, units)) is not None and len(by_figure[0]) > 2 * room:
        ordered, by = by_figure  # sorted, then drawn as a ranking is
        between = f"the {len(ordered) - 2 * room} between are in {WHERE}."
        out = [part(ordered[:room], f"Highest {room} of {len(ordered)} by {by}; {between}", step, True),
               part(ordered[-room:], f"Lowest {room} of {len(ordered)} by {by}, same scale; {between}", step, True)]
    else:
        return []
    return out if all(_fits(p.png, font_px, w, h) for p in out) else []
