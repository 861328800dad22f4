"""A story as a deck to hand round after a workshop: a cover, then one slide per saved view.

Pure: no Streamlit. Each step is made again from its link, as the page draws
it when the story plays: the page's own link parsing (`*.state.parse`), the
same gated calls (`engine.service`, the Compare and Need models) under the
rules the caller passes — the story page passes presenter mode's full
protection, as a playing story has — and the page's own charts and tables.
So a slide holds only figures the room could have seen, and a hidden figure
is its marker ([c], [b]), never a number. The files themselves are written by
`rcs_viz.output.deck`.

A step that cannot be made (a stale link, a question the data cannot answer)
is a slide that says so in words; it never stops the deck. Titles and notes are
the presenter's text, carried as plain text.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import pandas as pd

from rcs_viz.data.comparators import EMPTY, Comparators
from rcs_viz.engine import service
from rcs_viz.engine.disclosure.gate import Rules
from rcs_viz.engine.load import Dataset
from rcs_viz.engine.sql.views import QueryError
from rcs_viz.features.compare import charts as compare_charts, funnel, model as compare, state as compare_state, \
    tables as compare_tables
from rcs_viz.features.explore import charts as explore_charts, state as explore_state
from rcs_viz.features.need import charts as need_charts, model as need_model, state as need_state, \
    tables as need_tables
from rcs_viz.features.story import model as sv
from rcs_viz.output import deck as slides, deck_chart, export, figures, tables
from rcs_viz.output.deck import Deck, Step

SCALE = 1.5  # a story plays in presenter mode, whose charts are drawn at this scale for the back of the room
CHART_FONT_PX = figures.FONT_SIZE * SCALE * figures.PNG_SCALE  # a chart's labels in its PNG's pixels


@dataclass
class Made:
    """A step's content before its chart is drawn to PNG."""

    settings: list[str] = field(default_factory=list)
    figure: object = None  # an Altair chart
    table: pd.DataFrame | None = None  # text, first column the labels
    table_notes: list[str] = field(default_factory=list)
    missing: str = ""
    ranked: bool = False  # units in order of their figures: a chart too long for slides shows its top and bottom


def _rows(frame: pd.DataFrame | None) -> tuple[tuple[str, ...], ...]:
    if frame is None or frame.empty:
        return ()
    header = tuple(str(c) for c in frame.columns)
    return (header, *(tuple("" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v) for v in row)
                      for row in frame.itertuples(index=False, name=None)))


def _markers(rows) -> list[str]:
    used = {m for row in rows[1:] for cell in row for m in tables.MARKERS if m in cell}
    return [f"{m} {tables.MARKERS[m]}" for m in tables.MARKERS if m in used]


def _base(base: service.Base, who: str = "respondents") -> str:
    return f"Base: {base.count:,} {who}" if not base.too_small else "Base: too few to show"


def _filters(d, filters) -> str:
    words = service.describe_filters(d, filters)
    return "Filters: " + "; ".join(words) if words else "No filters"


# --- each page, made again from its link ------------------------------------------------------------------

def _explore(ds: Dataset, params, rules: Rules, comps: Comparators) -> Made:
    d = ds.dictionary
    view, notes = explore_state.parse(params, d, lambda name: service.categories(ds, name))
    query = view.query(d)
    base = service.bases(ds, query.filters, rules)[-1]
    wave_var = d.by_role("wave")
    wave = wave_var.label_of(view.wave) if view.wave and wave_var else "all waves together"
    made = Made(settings=[_filters(d, view.filters), f"Wave: {wave}", _base(base)])
    made.table_notes += notes
    if base.too_small:
        made.missing = "These filters leave too few respondents to show anything."
        return made
    result = service.crosstab(ds, query, view.measure, rules)
    made.settings.insert(0, export.heading(result))
    stacked, why_not = explore_charts.stacking(result, view.stacked, view.ci)
    made.figure = explore_charts.chart(result, show_ci=view.ci, stacked=stacked, scale=SCALE)
    wide = tables.wide(result)
    if result.query.panel is not None:  # one label column: "panel · row"
        wide.index = [f"{p} · {r}" for p, r in wide.index]
    made.table = wide.reset_index()
    _, left_out = explore_charts.drawable(result)
    if left_out:
        made.table_notes.append("Not drawn (protected or base too small): " + ", ".join(left_out[:6])
                                + (f" and {len(left_out) - 6} more." if len(left_out) > 6 else "."))
    made.table_notes += [n for n in result.notes if not n.startswith("Synthetic")] + ([why_not] if why_not else [])
    return made


COMPARE_DROP = ("95% CI", "Respondents", "Domain", "Range across units")


def _compare(ds: Dataset, params, rules: Rules, comps: Comparators) -> Made:
    d = ds.dictionary
    inds = {i.name: i for i in compare.indicators(d)}
    if not inds or any(d.by_role(r) is None for r in ("cpp", "cluster", "school")):
        return Made(missing="Comparisons need a CPP, cluster and school variable and at least one indicator.")
    view, notes = compare_state.parse(params, d, lambda name, within=(): service.categories(ds, name, within))
    place = compare_state.drawn_place(d, view)
    base = service.bases(ds, place + view.filters, rules)[-1]
    made = Made(settings=["Drawn for " + "; ".join(service.describe_filters(d, place)) if place else "",
                          _filters(d, view.filters), _base(base)], table_notes=list(notes))
    ind = inds[view.indicator]
    scope = compare.Scope(view.cpp, view.cluster, view.wave, view.filters)
    if view.view == "rank":
        result = compare.rank(ds, ind, view.level, scope, view.vs, rules=rules, comps=comps)
        head = (f"{result.title} — {result.level_label.lower()}s against the "
                f"{result.comparator_label.lower().replace('cpp', 'CPP')}")
        made.figure = compare_charts.rank_chart(result, SCALE)
        made.ranked = True
    elif view.view == "spine":
        result = compare.spine(ds, view.level, view.unit, scope, view.vs, rules=rules, comps=comps)
        head = (f"{result.unit_label}: every indicator against the "
                f"{compare.COMPARATORS[result.comparator].lower().replace('cpp', 'CPP')}")
        made.figure = compare_charts.spine_chart(result, SCALE)
    elif view.view == "trend":
        result = compare.trend(ds, ind, view.level, view.unit, scope, rules=rules, comps=comps)
        head = f"{result.title} over time"
        made.figure = compare_charts.trend_chart(result, SCALE)
    elif view.view == "funnel":
        result = funnel.funnel(ds, ind, view.level, scope, view.vs, rules=rules, comps=comps)
        head = f"{result.title}: {result.level_label.lower()}s by size"
        made.figure = compare_charts.funnel_chart(result, SCALE)
    elif view.view == "gradient":
        result = compare.gradient(ds, ind, scope, rules=rules)
        head = f"{result.title} by deprivation"
        made.figure = compare_charts.gradient_chart(result, SCALE)
        g = result.gap
        if g:
            made.settings.append(f"Gap, {g['most']} minus {g['least']}: {g['diff']:+.1f}{ind.unit} (95% CI "
                                 f"{g['diff_low']:+.1f} to {g['diff_high']:+.1f}): {g['verdict']}")
        made.settings.append(result.inequality.sii_reading or result.inequality.reason)
    else:
        result = compare.school_map(ds, ind, scope, rules=rules)
        head = f"{result.title}: schools"
        made.missing = "The school map is drawn on screen only; the figures are in the table."
    made.settings.insert(0, head)
    table = compare_tables.display(result)
    made.table = table.drop(columns=[c for c in COMPARE_DROP if c in table.columns]) if table.shape[1] > 4 else table
    hidden = getattr(result, "protected", None)
    if hidden:
        made.table_notes.append("Not drawn (protected or base too small): " + ", ".join(hidden[:6])
                                + (f" and {len(hidden) - 6} more." if len(hidden) > 6 else "."))
    made.table_notes += [n for n in result.context.notes if not n.startswith("Synthetic")]
    made.table_notes.append("Better/worse only where the 95% interval clears the comparator.")
    return made


def _need(ds: Dataset, params, rules: Rules, comps: Comparators) -> Made:
    d = ds.dictionary
    view, notes = need_state.parse(params, d, lambda name, within=(): service.categories(ds, name, within))
    if view.section != "fit":
        return Made(missing=f"The {need_state.SECTIONS[view.section].lower()} part of this page is drawn on screen "
                            "only: open the view's link to see it.", table_notes=list(notes))
    filters = view.query_filters(d)
    base = service.bases(ds, filters, rules)[-1]
    made = Made(settings=[_filters(d, view.filters), _base(base, "pupils")], table_notes=list(notes))
    if base.too_small:
        made.missing = "These filters leave too few pupils to show anything."
        return made
    fit = need_model.fit(ds, view.need, view.contact, view.by, filters, rules)
    made.settings[:0] = [f"Need: {fit.need_text}", f"Service contact: {fit.contact_text}"]
    made.figure = need_charts.fit_chart(fit, "need", d.synthetic, SCALE)
    made.table = need_tables.square_display(fit)
    made.table_notes += [n for n in fit.context.notes if not n.startswith("Synthetic")]
    return made


def _overview(ds: Dataset, params, rules: Rules, comps: Comparators) -> Made:
    coverage = service.crosstab(ds, service.coverage_question(ds.dictionary), "count", rules)
    return Made(settings=[f"Respondents: {tables.total_text(coverage)}", export.heading(coverage)],
                table=tables.wide(coverage).reset_index(),
                missing="The overview has no chart: what the data covers is in the table.")


MAKERS: dict[str, Callable[..., Made]] = {"": _overview, "explore": _explore, "compare": _compare, "need": _need}


def make_step(ds: Dataset, view: sv.SavedView, rules: Rules, comps: Comparators = EMPTY) -> Made:
    """A saved view's content as its page would draw it; a step that cannot be made says why in words."""
    maker = MAKERS.get(view.page)
    if maker is None:
        return Made(missing="This page is not drawn in a deck: open the view's link to see it.")
    try:
        made = maker(ds, view.as_dict(), rules, comps)
    except QueryError as err:
        return Made(missing=f"This view cannot be made from this data: {err}.")
    made.settings = [s for s in made.settings if s]
    return made


# --- the deck ---------------------------------------------------------------------------------------------

def untitled(figure):
    """The chart without its own title and subtitle: the slide states both above it in larger type, and the
    room the title took goes to the plot."""
    import altair as alt

    return figure.properties(title=alt.TitleParams(text=""))


def footer(source: str, rules: Rules) -> str:
    """Source and protection in one line, as every slide repeats it."""
    parts = [f"counts below {rules.threshold} are protected [c]"]
    if rules.secondary:
        parts.append("with further cells so they cannot be worked out")
    if rules.perturbation:
        parts.append("shown counts are perturbed")
    parts.append(f"%, means and intervals need a base of {rules.min_base}")
    return f"Source: {source} · " + "; ".join(parts)


def build(ds: Dataset, views: Sequence[sv.SavedView], rules: Rules, *, title: str, source: str,
          page_titles: Mapping[str, str], comps: Comparators = EMPTY, today: dt.date | None = None,
          timings: dict | None = None) -> Deck:
    """The story's deck: a cover (title, data, date, the rules in words), then a slide per view.

    `page_titles` names each page by its url path; `timings`, when given, collects seconds spent counting and
    drawing, for bench/deck.py. Each chart is drawn for the room its slide gives it (`_draw`).
    """
    d = ds.dictionary
    day = today or dt.date.today()
    foot = footer(source, rules)
    steps = []
    counting = drawing = 0.0
    for k, view in enumerate(views, start=1):
        t0 = time.perf_counter()
        made = make_step(ds, view, rules, comps)
        rows = _rows(made.table)
        step = Step(
            title=view.title or view.name,
            where=f"Step {k} of {len(views)} · {page_titles.get(view.page, view.page)}"
                  + (f" · {view.name}" if view.title and view.name != view.title else ""),
            settings=tuple(made.settings), chart_font_px=CHART_FONT_PX, table=rows,
            table_notes=tuple(_markers(rows) + made.table_notes), note=view.note, missing=made.missing,
            link=sv.url(view))
        t1 = time.perf_counter()
        if made.figure is not None:
            step = _draw(step, made, foot)
        t2 = time.perf_counter()
        counting, drawing = counting + t1 - t0, drawing + t2 - t1
        steps.append(step)
    if timings is not None:
        timings.update(counting=counting, drawing=drawing)
    return Deck(title=title, dataset=d.title, synthetic=d.synthetic, date=f"{day:%d %B %Y}",
                rules=tuple(_sentence(r) for r in rules.describe().split(";")), footer=foot, steps=tuple(steps))


def _draw(step: Step, made: Made, foot: str) -> Step:
    """The step with its chart drawn for a slide: beside its figures if it reads at 18 pt there, else on slides
    of its own (in parts, or a ranking's top and bottom), else a line saying where the whole chart is. The
    figures are the page's own: the chart is drawn again from its spec, never counted again."""
    beside, alone = slides.chart_boxes(step, foot)
    spec = figures.spec_of(untitled(made.figure), validate=False)
    drawn = deck_chart.draw(spec, *beside, CHART_FONT_PX)
    if drawn:
        return dataclasses.replace(step, chart=drawn[0].png, missing="")
    parts = deck_chart.draw(spec, *alone, CHART_FONT_PX, ranked=made.ranked, split=True)
    return dataclasses.replace(step, chart_parts=tuple(parts), missing="" if parts else slides.TOO_SMALL)


def _sentence(text: str) -> str:
    text = text.strip().rstrip(".")
    return text[:1].upper() + text[1:] + "."


def file_stem(title: str, today: dt.date | None = None) -> str:
    """A name that says what the file holds: rcs_deck_<title>_<date>."""
    return f"rcs_deck_{slides.slug(title)}_{(today or dt.date.today()).isoformat()}"
