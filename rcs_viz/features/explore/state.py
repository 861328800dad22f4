"""The view is its URL: query parameters ↔ a validated view, non-defaults only.

Pure: no Streamlit. A link is untrusted input — it may be stale (a variable
from last year's dictionary), tampered or mistyped — so parsing never
raises: whatever cannot be used falls back to the default and is reported in
plain words beside the view.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Callable, Mapping, Sequence

from rcs_viz.data.dictionary import MISSING, Dictionary
from rcs_viz.engine.sql.views import CrossTab
from rcs_viz.features.story.model import MODE_KEYS
from rcs_viz.engine.service import MEASURES

FILTER_PREFIX = "f."
MAX_FILTERS = 12
MAX_PARAM_LENGTH = 200
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


class Link:
    """An untrusted link's parameters, read a setting at a time; what is set aside goes into `notes`."""

    def __init__(self, params: Mapping[str, Sequence[str]], notes: list[str]):
        self.params, self.notes = params, notes

    def many(self, key: str) -> list[str]:
        return [str(v) for v in self.params.get(key, ()) if v is not None]

    def one(self, key: str) -> str | None:
        values = self.many(key)
        if not values:
            return None
        if len(values) > 1:
            self.notes.append(f"'{_show(key)}' was given more than once; the first was used.")
        return values[0][:MAX_PARAM_LENGTH]

    def wave(self, wave_var, codes, current: str | None, allow_all: bool = True) -> str | None:
        """The wave the link asks for (None for "all", where allowed), else `current`, with a note if it was bad."""
        wave = self.one("wave")
        if wave is None or wave_var is None:
            return current
        if wave == "all" and allow_all:
            return None
        if wave in codes(wave_var.name):
            return wave
        self.notes.append(f"There is no wave '{_show(wave)}'; showing {wave_var.label_of(current)}.")
        return current


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
            notes.append(f"'{_show(name)}' is not a variable in this data, so {key} was reset.")
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
        notes.append(f"'{_show(measure)}' is not a measure; showing counts.")
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
    view = replace(view, filters=_parse_filters(params, dictionary, codes, notes, skip=wave_var))
    for key in ("missing", "ci", "weighted", "stacked"):
        flag = one(key)
        if flag is None:
            continue
        if flag not in ("0", "1"):
            notes.append(f"'{key}' should be 0 or 1; it was ignored.")
            continue
        view = replace(view, **{key: flag == "1"})
    if view.weighted and dictionary.by_role("weight") is None:
        notes.append("This data has no survey weight; estimates are unweighted.")
        view = replace(view, weighted=False)

    known = {f.name for f in fields(ExploreView)} | {"page", *MODE_KEYS}
    unknown = sorted(k for k in params if k not in known and not k.startswith(FILTER_PREFIX))
    if unknown:
        notes.append("Ignored unknown link setting(s): " + ", ".join(_show(k) for k in unknown[:5]) + ".")
    return view, notes


def _parse_filters(params, dictionary, codes, notes, skip) -> tuple:
    filters = []
    keys = [k for k in params if k.startswith(FILTER_PREFIX)]
    if len(keys) > MAX_FILTERS:
        notes.append(f"Only the first {MAX_FILTERS} filters were used.")
        keys = keys[:MAX_FILTERS]
    for key in keys:
        name = key[len(FILTER_PREFIX):]
        if name not in dictionary or (skip is not None and name == skip.name):
            notes.append(f"'{_show(name)}' is not a variable to filter on; that filter was dropped.")
            continue
        var = dictionary[name]
        if not var.is_categorical:
            notes.append(f"'{var.label}' is numeric and cannot be filtered by value; that filter was dropped.")
            continue
        allowed = list(codes(name)) + [MISSING]
        given = list(dict.fromkeys(str(v)[:MAX_PARAM_LENGTH] for v in params[key]))
        kept = tuple(c for c in allowed if c in given)
        unknown = [g for g in given if g not in allowed]
        if unknown:
            notes.append(f"{var.label}: {len(unknown)} unknown value(s) dropped "
                         f"(e.g. '{_show(unknown[0])}').")
        if kept:
            filters.append((name, kept))
        else:
            notes.append(f"{var.label}: no known values left, so that filter was dropped.")
    return tuple(filters)


def _show(text: str) -> str:
    """Echo untrusted text in a note, short and printable."""
    text = "".join(ch if ch.isprintable() else "?" for ch in str(text))
    return text if len(text) <= 40 else text[:37] + "…"


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
    for name, kept in view.filters:
        out[FILTER_PREFIX + name] = list(kept)
    return out
