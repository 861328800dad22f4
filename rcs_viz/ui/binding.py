"""One way to bind a page's view to its link and its widgets, used by every page.

The link is the single source of truth. Each run parses it into the page's
view (`Binding.view`) and writes that view into the widgets before they are
drawn (`sync`). A widget's change callback (`change`) starts again from the
link, puts in the settings the widgets now hold, has the page's own `parse`
check the result exactly as it checks a link someone pasted, and writes the
URL. So a shared link, the back button and the widgets can never disagree,
and no widget can reach a view a link could not.

A page declares its widgets once, each as the link setting it edits and how
its value is shown and read; filters share one set of widgets on every page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import streamlit as st

from rcs_viz.features.link import FILTER_PREFIX, as_lists, filter_params
from rcs_viz.ui import presenter


def url_params() -> dict[str, list[str]]:
    """The link of this run, every setting as a list of values."""
    return {k: st.query_params.get_all(k) for k in st.query_params.keys()}


def _one(value) -> list[str] | None:
    return None if value is None else [str(value)]


def flag(value) -> list[str]:
    """An on/off widget as a link setting."""
    return ["1" if value else "0"]


@dataclass(frozen=True)
class Widget:
    """A widget bound to one link setting."""

    key: str  # the widget's session-state key
    param: str  # the link setting it edits
    show: Callable[[Any], Any]  # the view → the widget's value
    read: Callable[[Any], list[str] | None] = _one  # the widget's value → the setting ([]: cleared; None: unchanged)


@dataclass(frozen=True)
class Binding:
    """A page's view, its link and its widgets, kept in step.

    `parse(params) -> (view, notes)` and `to_params(view) -> settings` are the
    page's pure link functions (`features/<page>/state.py`, the data's
    dictionary and default already given). `settle(params, changed, current)`
    applies the page's rules when one setting changes others (a new CPP has
    other clusters); it returns the settings to check.
    """

    prefix: str  # of the filter widgets' keys
    widgets: tuple[Widget, ...]
    parse: Callable
    to_params: Callable
    settle: Callable | None = None

    def view(self):
        """The view of this run's link, and notes on what it asked for that could not be used."""
        return self.parse(url_params())

    def sync(self, view) -> None:
        """Put the link's view into the widgets before they are drawn."""
        ss = st.session_state
        for w in self.widgets:
            ss[w.key] = w.show(view)
        sync_filters(self.prefix, view.filters)

    def change(self, changed: str | None = None, **settings: list[str]) -> None:
        """A widget changed (or `settings` are asked for): the new view into the URL, checked like any link."""
        ss = st.session_state
        current, _ = self.view()
        params = as_lists(self.to_params(current))
        for w in self.widgets:
            value = w.read(ss[w.key]) if w.key in ss else None
            if value is not None:
                params[w.param] = value
        if f"{self.prefix}_filters" in ss:
            params = {k: v for k, v in params.items() if not k.startswith(FILTER_PREFIX)}
            params |= filter_params(read_filters(self.prefix))
        params |= settings
        if self.settle is not None:
            params = self.settle(params, changed, current)
        view, _ = self.parse({k: v for k, v in params.items() if v})
        st.query_params.from_dict({**self.to_params(view), **presenter.carried()})

    def remove_filter(self, name: str) -> None:
        """A chip's ✕: drop that filter and rewrite the URL."""
        drop_filter(self.prefix, name)
        self.change("filter")

    def on_change(self, key: str) -> dict:
        """The keyword arguments that bind a widget to this page: its key and its change callback."""
        return dict(key=key, on_change=self.change, args=(key,))


def sync_filters(prefix: str, filters) -> None:
    """The link's filters into the filter widgets; a variable just added but not yet given values stays."""
    ss = st.session_state
    for name, kept in filters:
        ss[f"{prefix}_f_{name}"] = list(kept)
    ss[f"{prefix}_filters"] = [name for name, _ in filters] + [
        n for n in ss.get(f"{prefix}_pending", []) if n not in dict(filters)]


def read_filters(prefix: str) -> tuple:
    """The filter widgets as (variable, codes kept); those without values yet are remembered as pending."""
    ss = st.session_state
    filters = tuple((n, tuple(ss.get(f"{prefix}_f_{n}", ()))) for n in ss.get(f"{prefix}_filters", []))
    ss[f"{prefix}_pending"] = [n for n, kept in filters if not kept]
    return tuple((n, kept) for n, kept in filters if kept)


def drop_filter(prefix: str, name: str) -> None:
    """Forget one filter's widgets, ahead of rewriting the URL."""
    st.session_state[f"{prefix}_filters"] = [n for n in st.session_state.get(f"{prefix}_filters", []) if n != name]
    st.session_state.pop(f"{prefix}_f_{name}", None)
