"""The Explore page's widgets, bound to its link (`rcs_viz.ui.binding`)."""

from __future__ import annotations

import streamlit as st

from rcs_viz.data.dictionary import Dictionary
from rcs_viz.engine import service
from rcs_viz.features.explore import state
from rcs_viz.engine.stats import MEASURES
from rcs_viz.features.explore.state import NUMERIC_MEASURES
from rcs_viz.output.markdown import escape
from rcs_viz.ui import widgets
from rcs_viz.ui.binding import Binding, Widget, flag
from rcs_viz.ui.widgets import NONE

ALL_WAVES = "all"


def _categorical(d: Dictionary) -> list[str]:
    return [v.name for vs in d.groups().values() for v in vs if v.is_categorical]


def _numeric(d: Dictionary) -> list[str]:
    return [v.name for vs in d.groups().values() for v in vs if not v.is_categorical]


def binding(ds) -> Binding:
    """Explore's view ↔ its link ↔ its widgets (keys prefixed x_)."""
    d = ds.dictionary
    codes = lambda name: service.categories(ds, name)  # noqa: E731
    default = state.default_view(d, codes)
    nums = _numeric(d)
    optional = lambda value: [] if value == NONE else [value]  # noqa: E731
    return Binding("x", (
        Widget("x_rows", "rows", lambda v: v.rows),
        Widget("x_cols", "cols", lambda v: v.cols or NONE, optional),
        Widget("x_panel", "panel", lambda v: v.panel or NONE, optional),
        Widget("x_measure", "measure", lambda v: v.measure),
        Widget("x_value", "value", lambda v: v.value or (nums[0] if nums else NONE), optional),
        Widget("x_wave", "wave", lambda v: v.wave or ALL_WAVES),
        *(Widget(f"x_{k}", k, lambda v, k=k: getattr(v, k), flag) for k in ("missing", "ci", "weighted", "stacked")),
    ), parse=lambda params: state.parse(params, d, codes), to_params=lambda view: state.to_params(view, default))


def question(ds, b: Binding) -> None:
    """Rows, columns, panel, measure, wave and options, in the sidebar."""
    d = ds.dictionary
    cats, nums = _categorical(d), _numeric(d)
    fmt = lambda n: widgets.label(d, n)  # noqa: E731
    st.selectbox("Rows", cats, format_func=fmt, help=_help(d, "x_rows"), **b.on_change("x_rows"))
    st.selectbox("Columns", [NONE] + cats, format_func=fmt, **b.on_change("x_cols"))
    st.selectbox("Panel (small multiples)", [NONE] + cats, format_func=fmt, **b.on_change("x_panel"))
    measures = list(MEASURES) if nums else [m for m in MEASURES if m not in NUMERIC_MEASURES]
    st.radio("Measure", measures, format_func=MEASURES.get, **b.on_change("x_measure"))
    if st.session_state["x_measure"] in NUMERIC_MEASURES:
        st.selectbox("Of", nums, format_func=fmt, **b.on_change("x_value"))
    wave = d.by_role("wave")
    if wave is not None:
        waves = service.categories(ds, wave.name)
        st.selectbox("Wave", [ALL_WAVES] + waves, **b.on_change("x_wave"),
                     format_func=lambda c: "All waves" if c == ALL_WAVES else wave.label_of(c))
    st.toggle("Show 'No answer'", **b.on_change("x_missing"))
    st.toggle("Confidence intervals", **b.on_change("x_ci"))
    st.toggle("Stacked bars", help="Only where a bar's parts make a whole: counts, row % and % of total; otherwise "
            "bars stand side by side and a note says why", **b.on_change("x_stacked"))
    weight = d.by_role("weight")
    if weight is not None and weight.role_guessed:  # a guess never weights an estimate: shown, off, with the reason
        st.toggle("Weighted", value=False, disabled=True, key="x_weighted_guessed", help=escape(_guessed(weight)))
        st.caption(escape(_guessed(weight)))
    elif weight is not None:
        st.toggle("Weighted", **b.on_change("x_weighted"))


def _guessed(weight) -> str:
    return (f"'{weight.label}' is only guessed to be the survey weight ({weight.guessed}), so estimates are "
            "unweighted. Confirm it on the Data dictionary page (or declare role: weight in a dictionary) to "
            "weight by it.")


def _help(d: Dictionary, key: str) -> str | None:
    name = st.session_state.get(key)
    question = d[name].question if name in d else None
    return escape(question) if question else None


def filters(ds, b: Binding) -> None:
    """Filters on any variable but the wave (which has its own control)."""
    d = ds.dictionary
    wave = d.by_role("wave")
    widgets.filters(ds, b, [n for n in _categorical(d) if wave is None or n != wave.name])
