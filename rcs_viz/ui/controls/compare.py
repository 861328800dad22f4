"""The Compare page's widgets, with the URL as their single source of truth (as on Explore)."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from rcs_viz.ui.controls import explore as controls
from rcs_viz.ui import presenter
from rcs_viz.engine import service
from rcs_viz.features.compare.model import COMPARATORS, group_indicators, indicators
from rcs_viz.features.compare.state import PLACE_ROLES, VIEWS, CompareView, to_params

ALL = "__all__"
LEVEL_LABELS = {"cluster": "Clusters", "school": "Schools"}


def sync(view: CompareView) -> None:
    """Put the URL's view into the widgets before they are drawn."""
    ss = st.session_state
    ss["c_view"], ss["c_ind"], ss["c_level"], ss["c_vs"] = view.view, view.indicator, view.level, view.vs
    ss["c_cpp"], ss["c_cluster"], ss["c_unit"] = view.cpp, view.cluster or ALL, view.unit
    ss["c_wave"] = view.wave
    controls.sync_filters("c", view.filters)


def _from_widgets(changed: str | None) -> CompareView:
    ss = st.session_state
    view = CompareView(view=ss["c_view"] or "rank", indicator=ss["c_ind"], level=ss["c_level"], vs=ss["c_vs"],
                       cpp=ss["c_cpp"], cluster=None if ss.get("c_cluster") in (None, ALL) else ss["c_cluster"],
                       unit=ss.get("c_unit"), wave=ss.get("c_wave"), filters=controls.read_filters("c"))
    if changed == "c_cpp":  # a new CPP: its own clusters and units, not the last one's
        view = replace(view, cluster=None, unit=None)
    elif changed in ("c_level", "c_cluster"):
        view = replace(view, unit=None)
    return view


def write_url(default: CompareView, changed: str | None = None, **overrides) -> None:
    view = replace(_from_widgets(changed), **overrides)
    st.query_params.from_dict({**to_params(view, default), **presenter.carried()})


def view_picker(default: CompareView) -> None:
    st.segmented_control("View", list(VIEWS), key="c_view", format_func=VIEWS.get, label_visibility="collapsed",
                         on_change=write_url, args=(default, "c_view"))


def sidebar(ds, default: CompareView) -> None:
    """Indicator, places, comparator, wave and filters."""
    d = ds.dictionary
    view = st.session_state["c_view"]
    kw = lambda key: dict(key=key, on_change=write_url, args=(default, key))  # noqa: E731
    inds = {i.name: i for i in indicators(d)}
    st.selectbox("Indicator", list(inds), format_func=lambda n: f"{inds[n].title(d)}  ·  {inds[n].group}",
                 **kw("c_ind"))
    cpp, cluster = d.by_role("cpp"), d.by_role("cluster")
    st.selectbox(cpp.label, service.categories(ds, cpp.name), format_func=cpp.label_of, **kw("c_cpp"))
    in_cpp = ((cpp.name, (st.session_state["c_cpp"],)),)
    if view in ("rank", "spine", "trend"):
        st.radio("Compare", list(LEVEL_LABELS), format_func=LEVEL_LABELS.get, horizontal=True, **kw("c_level"))
    school_level = st.session_state["c_level"] == "school"
    if view in ("map", "gradient") or (school_level and view == "rank"):
        clusters = service.categories(ds, cluster.name, in_cpp)
        st.selectbox(cluster.label, [ALL] + clusters, **kw("c_cluster"),
                     format_func=lambda c: f"All {cluster.label.lower()}s" if c == ALL else cluster.label_of(c))
    if view in ("spine", "trend"):
        level = d.by_role(st.session_state["c_level"])
        units = service.categories(ds, level.name, in_cpp)
        if st.session_state.get("c_unit") not in units:
            st.session_state["c_unit"] = units[0] if units else None
        st.selectbox(level.label, units, format_func=level.label_of, **kw("c_unit"))
    if view in ("rank", "spine"):
        options = list(COMPARATORS) if view == "rank" else ["cpp", "national"]
        if st.session_state["c_vs"] not in options:
            st.session_state["c_vs"] = "cpp"
        st.radio("Against", options, format_func=COMPARATORS.get, **kw("c_vs"))
    wave = d.by_role("wave")
    if wave is not None and view != "trend":
        st.selectbox(wave.label, service.categories(ds, wave.name), format_func=wave.label_of, **kw("c_wave"))
    st.header("Filters")
    options = [v.name for vs in d.groups().values() for v in vs if v.is_categorical and v.role not in PLACE_ROLES]
    controls.filter_widgets(ds, "c", options, on_change=write_url, args=(default,))


def remove_filter(name: str, default: CompareView) -> None:
    controls.drop_filter("c", name)
    write_url(default)


def open_rank(indicator: str, default: CompareView) -> None:
    """From a spine row to that indicator's rank chart, keeping every other setting."""
    write_url(default, view="rank", indicator=indicator)


def rank_links(inds, d, default: CompareView) -> None:
    """Every indicator of the spine as a button to its rank chart, grouped by domain."""
    with st.expander("Open an indicator's rank chart", expanded=False, icon=":material/leaderboard:"):
        groups = group_indicators(inds)
        for column, (group, members) in zip(st.columns(3) * len(groups), groups.items()):
            column.markdown(f"**{group}**")
            for i in members:
                column.button(i.title(d), key=f"open_{i.name}", type="tertiary", icon=":material/leaderboard:",
                              on_click=open_rank, args=(i.name, default))


def report_pack(ds, view: CompareView, scope) -> None:
    """The school, cluster or CPP report of what is in view, as HTML or PDF, written when asked for."""
    from rcs_viz.ui import session

    d = ds.dictionary
    level = d.by_role(view.level)
    cpp = d.by_role("cpp")
    choices = {"cpp": f"{cpp.label_of(view.cpp)} (the CPP)"}
    if view.unit is not None:
        choices = {view.level: f"{level.label_of(view.unit)} ({level.label.lower()})", **choices}
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
