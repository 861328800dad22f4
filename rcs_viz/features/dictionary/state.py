"""The Data dictionary page's link: which column the preview counts (`var`), non-defaults only.

Pure: no Streamlit. A link is untrusted, so parsing never raises; what cannot
be used falls back to the default with a note in plain words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from rcs_viz.data.dictionary import Dictionary
from rcs_viz.features.dictionary.model import preview_options
from rcs_viz.features.link import Link, show


@dataclass(frozen=True)
class DictionaryView:
    var: str | None  # the column the preview counts; None when the data has none to count
    filters: tuple = ()  # the page has no filters (binding.sync reads them on every page)


def default_view(d: Dictionary) -> DictionaryView:
    options = preview_options(d)
    first = next((n for n in options if d[n].role is None and d[n].is_categorical), None)
    return DictionaryView(first or (options[0] if options else None))


def parse(params: Mapping[str, Sequence[str]], d: Dictionary) -> tuple[DictionaryView, list[str]]:
    notes: list[str] = []
    link = Link(params, notes)
    default = default_view(d)
    var = link.one("var")
    if var is not None and var not in preview_options(d):
        notes.append(f"'{show(var)}' is not a column the preview can count; showing the first.")
        var = None
    link.unknown({"var", "page"})
    return DictionaryView(var or default.var), notes


def to_params(view: DictionaryView, default: DictionaryView) -> dict[str, str]:
    return {"var": view.var} if view.var != default.var and view.var is not None else {}
