"""The view is its URL: query parameters ↔ a validated view, non-defaults only.

Pure: no Streamlit. A link is untrusted input — it may be stale (a variable
from last year's dictionary), tampered or mistyped — so parsing never
raises: whatever cannot be used falls back to the default and is reported in
plain words beside the view.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Callable, Mapping, Sequence

from rcs_viz.data.dictionary import Dictionary
from rcs_viz.engine.sql.views import CrossTab
from rcs_viz.features.link import Link, filter_params, show
from rcs_viz.engine.stats import MEASURES

NUMERIC_MEASURES = ("mean", "median")


@dataclass(frozen=True)
class ExploreView:
    """Everything the Explore page shows, as a plain value."""

    rows: str
    cols: str | None = None
    panel: str | None = None
    measure: str = "count"
    value: str | None = None  # the numeric variable of a mean or median
    wave: str | None = None  # None: all waves together
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    missing: bool = True  # show "No answer"
    ci: bool = False
    weighted: bool = False
    stacked: bool = False  # stacked bars (a chart option; the table is the same)

    def query(self, dictionary: Dictionary) -> CrossTab:
        """The question for the engine: the wave is one more filter."""
        filters = self.filters
        wave = dictionary.by_role("wave")
        if self.wave is not None and wave is not None:
            filters = ((wave.name, (self.wave,)),) + filters
        weight = dictionary.by_role("weight")
        return CrossTab(rows=self.rows, cols=self.cols, panel=self.panel, filters=filters,
                        value=self.value if self.measure in NUMERIC_MEASURES else None,
                        weight=weight.name if self.weighted and weight else None,
                        include_missing=self.missing)


def default_view(dictionary: Dictionary, codes: Callable[[str], Sequence[str]]) -> ExploreView:
    """A sensible first view: the first pupil characteristic, latest wave."""
    candidates = [v for v in dictionary.variables if v.is_categorical and v.role is None] or \
                 [v for v in dictionary.variables if v.is_categorical and v.role not in ("id",)]
    wave = dictionary.by_role("wave")
    waves = list(codes(wave.name)) if wave else []
    return ExploreView(rows=candidates[0].name, wave=waves[-1] if waves else None)


def parse(params: Mapping[str, Sequence[str]], dictionary: Dictionary,
          codes: Callable[[str], Sequence[str]]) -> tuple[ExploreView, list[str]]:
    """Query parameters (each a list of strings) → a safe view, and notes on what was set aside."""
    notes: list[str] = []
    default = default_view(dictionary, codes)
    view = default
    link = Link(params, notes)
    one = link.one

    def categorical(key: str) -> str | None:
        name = one(key)
        if name is None:
            return None
        if name not in dictionary:
            notes.append(f"'{show(name)}' is not a variable in this data, so {key} was reset.")
            return None
        var = dictionary[name]
        if not var.is_categorical or var.role in ("id", "weight", "x", "y"):
            notes.append(f"'{var.label}' cannot be used as {key} (it is {var.type}), so {key} was reset.")
            return None
        return name

    rows = categorical("rows") or default.rows
    cols = categorical("cols")
    panel = categorical("panel")
    if cols == rows:
        notes.append("Rows and columns were the same variable; columns were cleared.")
        cols = None
    if panel is not None and panel in (rows, cols):
        notes.append("The panel repeated another variable; it was cleared.")
        panel = None
    view = replace(view, rows=rows, cols=cols, panel=panel)

    measure = one("measure")
    if measure is not None and measure not in MEASURES:
        notes.append(f"'{show(measure)}' is not a measure; showing counts.")
        measure = None
    value = one("value")
    if measure in NUMERIC_MEASURES:
        if value is None or value not in dictionary or dictionary[value].is_categorical:
            notes.append(f"The {MEASURES[measure].lower()} needs a numeric variable; showing counts.")
            measure, value = None, None
    else:
        value = None
    view = replace(view, measure=measure or "count", value=value)

    wave_var = dictionary.by_role("wave")
    view = replace(view, wave=link.wave(wave_var, codes, default.wave))
    view = replace(view, filters=link.filters(dictionary, codes, skip=wave_var))
    for key in ("missing", "ci", "weighted", "stacked"):
        flag = link.switch(key)
        if flag is not None:
            view = replace(view, **{key: flag})
    weight = dictionary.by_role("weight")
    if view.weighted and weight is None:
        notes.append("This data has no survey weight; estimates are unweighted.")
        view = replace(view, weighted=False)
    elif view.weighted and weight.role_guessed:
        notes.append(f"'{weight.label}' is only guessed to be the survey weight ({weight.guessed}); "
                     "estimates are unweighted until it is confirmed.")
        view = replace(view, weighted=False)

    link.unknown({f.name for f in fields(ExploreView)} | {"page"})
    return view, notes


def to_params(view: ExploreView, default: ExploreView) -> dict[str, str | list[str]]:
    """Only what differs from the default, so links stay short and readable."""
    out: dict[str, str | list[str]] = {}
    for key in ("rows", "cols", "panel", "measure", "value"):
        if getattr(view, key) != getattr(default, key) and getattr(view, key) is not None:
            out[key] = getattr(view, key)
    if view.wave != default.wave:
        out["wave"] = view.wave if view.wave is not None else "all"
    for key in ("missing", "ci", "weighted", "stacked"):
        if getattr(view, key) != getattr(default, key):
            out[key] = "1" if getattr(view, key) else "0"
    return out | filter_params(view.filters)
