"""The Explore page's widgets, with the URL as their single source of truth.

Each run starts from the view parsed from the URL and writes it into the
widgets' session state; a widget's change callback builds the new view and
writes the URL. So a shared link, the back button and the widgets can never
disagree.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from rcs_viz.ui import presenter
from rcs_viz.engine import service
from rcs_viz.data.dictionary import MISSING, Dictionary
from rcs_viz.features.explore.state import NUMERIC_MEASURES, ExploreView, to_params

NONE = "—"
ALL_WAVES = "all"


def url_params() -> dict[str, list[str]]:
    return {k: st.query_params.get_all(k) for k in st.query_params.keys()}


def _label(d: Dictionary, name: str | None) -> str:
    if name in (None, NONE):
        return "(none)"
    var = d[name]
    return f"{var.label}  ·  {var.group}"


def _categorical(d: Dictionary) -> list[str]:
    return [v.name for vs in d.groups().values() for v in vs if v.is_categorical]


def _numeric(d: Dictionary) -> list[str]:
    return [v.name for vs in d.groups().values() for v in vs if not v.is_categorical]


def sync(view: ExploreView, d: Dictionary) -> None:
    """Put the URL's view into the widgets before they are drawn."""
    ss = st.session_state
    ss["x_rows"] = view.rows
    ss["x_cols"] = view.cols or NONE
    ss["x_panel"] = view.panel or NONE
    ss["x_measure"] = view.measure
    ss["x_value"] = view.value or (_numeric(d)[0] if _numeric(d) else NONE)
    ss["x_wave"] = view.wave or ALL_WAVES
    ss["x_missing"], ss["x_ci"], ss["x_weighted"], ss["x_stacked"] = view.missing, view.ci, view.weighted, view.stacked
    sync_filters("x", view.filters)


def sync_filters(prefix: str, filters) -> None:
    """The URL's filters into the filter widgets; a variable just added but not yet given values stays."""
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


def _from_widgets(d: Dictionary) -> ExploreView:
    ss = st.session_state
    measure = ss["x_measure"]
    return ExploreView(
        rows=ss["x_rows"],
        cols=None if ss["x_cols"] == NONE else ss["x_cols"],
        panel=None if ss["x_panel"] == NONE else ss["x_panel"],
        measure=measure,
        value=ss["x_value"] if measure in NUMERIC_MEASURES and ss["x_value"] != NONE else None,
        wave=None if ss["x_wave"] == ALL_WAVES else ss["x_wave"],
        filters=read_filters("x"),
        missing=ss["x_missing"], ci=ss["x_ci"], weighted=ss["x_weighted"], stacked=ss["x_stacked"],
    )


def _write_url(d: Dictionary, default: ExploreView) -> None:
    view = _from_widgets(d)
    if view.cols == view.rows:
        view = replace(view, cols=None)
    if view.panel in (view.rows, view.cols):
        view = replace(view, panel=None)
    st.query_params.from_dict({**to_params(view, default), **presenter.carried()})


def question(ds, default: ExploreView) -> None:
    """Rows, columns, panel, measure, wave and options, in the sidebar."""
    d = ds.dictionary
    cats, nums = _categorical(d), _numeric(d)
    fmt = lambda n: _label(d, n)  # noqa: E731
    kw = dict(on_change=_write_url, args=(d, default))
    st.selectbox("Rows", cats, key="x_rows", format_func=fmt, help=_help(d, "x_rows"), **kw)
    st.selectbox("Columns", [NONE] + cats, key="x_cols", format_func=fmt, **kw)
    st.selectbox("Panel (small multiples)", [NONE] + cats, key="x_panel", format_func=fmt, **kw)
    measures = list(service.MEASURES) if nums else [m for m in service.MEASURES if m not in NUMERIC_MEASURES]
    st.radio("Measure", measures, key="x_measure", format_func=service.MEASURES.get, **kw)
    if st.session_state["x_measure"] in NUMERIC_MEASURES:
        st.selectbox("Of", nums, key="x_value", format_func=fmt, **kw)
    wave = d.by_role("wave")
    if wave is not None:
        waves = service.categories(ds, wave.name)
        st.selectbox("Wave", [ALL_WAVES] + waves, key="x_wave",
                     format_func=lambda c: "All waves" if c == ALL_WAVES else wave.label_of(c), **kw)
    st.toggle("Show 'No answer'", key="x_missing", **kw)
    st.toggle("Confidence intervals", key="x_ci", **kw)
    st.toggle("Stacked bars", key="x_stacked", help="For counts and percentages without intervals", **kw)
    if d.by_role("weight") is not None:
        st.toggle("Weighted", key="x_weighted", **kw)


def _help(d: Dictionary, key: str) -> str | None:
    name = st.session_state.get(key)
    return d[name].question or None if name in d else None


def filters(ds, default: ExploreView) -> None:
    """Filters on any variable but the wave (which has its own control)."""
    d = ds.dictionary
    wave = d.by_role("wave")
    filter_widgets(ds, "x", [n for n in _categorical(d) if wave is None or n != wave.name],
                   on_change=_write_url, args=(d, default))


def filter_widgets(ds, prefix: str, options: list[str], on_change, args=()) -> None:
    """Pick a variable, then the values to keep; every change goes through `on_change` to the URL."""
    d = ds.dictionary
    kw = dict(on_change=on_change, args=args)
    st.multiselect("Filter on", options, key=f"{prefix}_filters", format_func=lambda n: _label(d, n),
                   placeholder="Add a filter…", **kw)
    for name in st.session_state.get(f"{prefix}_filters", []):
        var = d[name]
        codes = service.categories(ds, name) + [MISSING]
        st.multiselect(var.label, codes, key=f"{prefix}_f_{name}", format_func=var.label_of,
                       placeholder="Choose values to keep", **kw)


def drop_filter(prefix: str, name: str) -> None:
    """Forget one filter's widgets, ahead of rewriting the URL."""
    st.session_state[f"{prefix}_filters"] = [n for n in st.session_state.get(f"{prefix}_filters", []) if n != name]
    st.session_state.pop(f"{prefix}_f_{name}", None)


def remove_filter(name: str, d: Dictionary, default: ExploreView) -> None:
    """A chip's ✕: drop that filter and rewrite the URL."""
    drop_filter("x", name)
    _write_url(d, default)
