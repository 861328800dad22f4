"""The Compare page's widgets, bound to its link (`rcs_viz.ui.binding`)."""

from __future__ import annotations

import streamlit as st

from rcs_viz.engine import service
from rcs_viz.features.compare import state
from rcs_viz.features.compare.model import COMPARATORS, group_indicators, indicators
from rcs_viz.features.compare.state import PLACE_ROLES, REFERENCES, VIEWS
from rcs_viz.output.markdown import escape
from rcs_viz.ui import widgets
from rcs_viz.ui.binding import Binding, Widget

ALL = "__all__"
LEVEL_LABELS = {"cluster": "Clusters", "school": "Schools"}
NEIGHBOUR_LEVELS = {"cluster": "A cluster", "cpp": "The CPP"}


def _settle(params: dict, changed: str | None, current) -> dict:
    """A new CPP has its own clusters and units; a new level or cluster its own units."""
    if changed == "c_cpp":
        return {k: v for k, v in params.items() if k not in ("cluster", "unit")}
    if changed in ("c_level", "c_cluster"):
        return {k: v for k, v in params.items() if k != "unit"}
    return params


def binding(ds) -> Binding:
    """Compare's view ↔ its link ↔ its widgets (keys prefixed c_)."""
    d = ds.dictionary
    codes = lambda name, within=(): service.categories(ds, name, within)  # noqa: E731
    default = state.default_view(d, codes)
    return Binding("c", (
        Widget("c_view", "view", lambda v: v.view),
        Widget("c_ind", "ind", lambda v: v.indicator),
        Widget("c_level", "level", lambda v: v.level),
        Widget("c_vs", "vs", lambda v: v.vs),
        Widget("c_ref", "ref", lambda v: v.ref),
        Widget("c_cpp", "cpp", lambda v: v.cpp),
        Widget("c_cluster", "cluster", lambda v: v.cluster or ALL, lambda c: [] if c in (None, ALL) else [c]),
        Widget("c_unit", "unit", lambda v: v.unit),
        Widget("c_wave", "wave", lambda v: v.wave),
    ), parse=lambda params: state.parse(params, d, codes), to_params=lambda view: state.to_params(view, default),
        settle=_settle)


def view_picker(b: Binding) -> None:
    st.segmented_control("View", list(VIEWS), format_func=VIEWS.get, label_visibility="collapsed",
                         **b.on_change("c_view"))


def sidebar(ds, b: Binding) -> None:
    """Indicator, places, comparator, wave and filters."""
    d = ds.dictionary
    view = st.session_state["c_view"]
    kw = b.on_change
    inds = {i.name: i for i in indicators(d)}
    st.selectbox("Indicator", list(inds), format_func=lambda n: f"{inds[n].title(d)}  ·  {inds[n].group}",
                 **kw("c_ind"))
    cpp, cluster = d.by_role("cpp"), d.by_role("cluster")
    st.selectbox(escape(cpp.label), service.categories(ds, cpp.name), format_func=cpp.label_of, **kw("c_cpp"))
    in_cpp = ((cpp.name, (st.session_state["c_cpp"],)),)
    if view in ("rank", "funnel", "similar", "spine", "trend"):
        st.radio("Compare", list(LEVEL_LABELS), format_func=LEVEL_LABELS.get, horizontal=True, **kw("c_level"))
    if view == "neighbours":
        st.radio("Neighbours of", list(NEIGHBOUR_LEVELS), format_func=NEIGHBOUR_LEVELS.get, horizontal=True,
                 **kw("c_level"))
    school_level = st.session_state["c_level"] == "school"
    if view in ("map", "gradient") or (school_level and view in ("rank", "funnel", "similar")):
        clusters = service.categories(ds, cluster.name, in_cpp)
        st.selectbox(escape(cluster.label), [ALL] + clusters, **kw("c_cluster"),
                     format_func=lambda c: f"All {cluster.label.lower()}s" if c == ALL else cluster.label_of(c))
    if view in ("spine", "trend") or (view == "neighbours" and st.session_state["c_level"] == "cluster"):
        level = d.by_role(st.session_state["c_level"])
        units = service.categories(ds, level.name, in_cpp)
        if st.session_state.get("c_unit") not in units:
            st.session_state["c_unit"] = units[0] if units else None
        st.selectbox(escape(level.label), units, format_func=level.label_of, **kw("c_unit"))
    if view == "similar":
        st.radio("Similar pupils in", list(REFERENCES), format_func=lambda r: REFERENCES[r][:1].upper() + REFERENCES[r][1:],
                 **kw("c_ref"))
    if view in ("rank", "funnel", "spine"):
        options = list(COMPARATORS) if view == "rank" else ["cpp", "national"]
        if st.session_state["c_vs"] not in options:
            st.session_state["c_vs"] = "cpp"
        st.radio("Against", options, format_func=COMPARATORS.get, **kw("c_vs"))
    wave = d.by_role("wave")
    if wave is not None and view != "trend":
        st.selectbox(escape(wave.label), service.categories(ds, wave.name), format_func=wave.label_of,
                     **kw("c_wave"))
    st.header("Filters")
    filters(ds, b)


def filters(ds, b: Binding) -> None:
    """Filters on any variable but the places (which the view picks): in the sidebar, or presenter mode's bar."""
    d = ds.dictionary
    widgets.filters(ds, b, [v.name for vs in d.groups().values() for v in vs
                            if v.is_categorical and v.role not in PLACE_ROLES])


def open_rank(indicator: str, b: Binding) -> None:
    """From a spine row to that indicator's rank chart, keeping every other setting."""
    b.change(None, view=["rank"], ind=[indicator])


def rank_links(inds, d, b: Binding) -> None:
    """Every indicator of the spine as a button to its rank chart, grouped by domain."""
    with st.expander("Open an indicator's rank chart", expanded=False, icon=":material/leaderboard:"):
        groups = group_indicators(inds)
        for column, (group, members) in zip(st.columns(3) * len(groups), groups.items()):
            column.markdown(f"**{escape(group)}**")
            for i in members:
                column.button(escape(i.title(d)), key=f"open_{i.name}", type="tertiary", icon=":material/leaderboard:",
                              on_click=open_rank, args=(i.name, b))


def report_pack(ds, view, scope) -> None:
    """The school, cluster or CPP report of what is in view, as HTML or PDF, written when asked for."""
    from rcs_viz.ui import session

    d = ds.dictionary
    level = d.by_role(view.level)
    cpp = d.by_role("cpp")
    choices = {"cpp": f"{escape(cpp.label_of(view.cpp))} (the CPP)"}  # radio options are Markdown
    if view.unit is not None:
        choices = {view.level: f"{escape(level.label_of(view.unit))} ({escape(level.label.lower())})", **choices}
    with st.popover("Report pack", icon=":material/description:"):
        kind = st.radio("Report on", list(choices), format_func=choices.get, key="c_report_kind")
        unit = view.unit if kind != "cpp" else None
        st.caption("Key indicators against the CPP and the nation, the spine and rank charts, the trend and the "
                   "deprivation gradient, with a method and disclosure note: the same protected figures as here.")
        stem = f"rcs_report_{kind}_{unit or view.cpp}"
        left, right = st.columns(2)
        left.download_button("HTML", lambda: session.report_file(kind, unit, scope, "html"), f"{stem}.html",
                             "text/html", icon=":material/download:", on_click="ignore")
        right.download_button("PDF", lambda: session.report_file(kind, unit, scope, "pdf"), f"{stem}.pdf",
                              "application/pdf", icon=":material/download:", on_click="ignore")


