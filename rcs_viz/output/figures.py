"""Charts as figures: the shared finish (title, projector-sized type) and PNG/SVG with their provenance.

Every page's charts end here, so an exported image always says where its
figures came from and which rules protected them, and type is scaled the
same way on every page when presenting.
"""

from __future__ import annotations

import datetime as dt
import json

import altair as alt

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"]
FONT_SIZE = 15


def finish(chart, title: str, subtitle: list[str], height: float, scale: float, legend_limit: int = 340):
    """Title, fonts scaled for presenting, and the whole height Streamlit must be told (it squeezes otherwise)."""
    return (chart.properties(title=alt.TitleParams(title, subtitle=subtitle, anchor="start"),
                             usermeta={"height": int(height)})
            .configure_axis(labelFontSize=FONT_SIZE * scale, titleFontSize=FONT_SIZE * scale, labelLimit=340 * scale)
            .configure_legend(labelFontSize=FONT_SIZE * scale, titleFontSize=FONT_SIZE * scale,
                              labelLimit=legend_limit)
            .configure_title(fontSize=(FONT_SIZE + 3) * scale, subtitleFontSize=(FONT_SIZE - 2) * scale,
                             subtitleColor="#444444")
            .configure_header(labelFontSize=FONT_SIZE * scale, titleFontSize=FONT_SIZE * scale)
            .configure_text(fontSize=(FONT_SIZE - 1) * scale)
            .configure_view(stroke=None))


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
