"""Compare: clusters and schools against their CPP, the nation and the last wave."""

import streamlit as st

from rcs_viz.engine import service
from rcs_viz.engine.sql.views import QueryError
from rcs_viz.features.compare import charts as compare_charts, model as compare
from rcs_viz.features.compare.state import drawn_place
from rcs_viz.features.compare.model import Scope
from rcs_viz.output.markdown import escape
from rcs_viz.ui import binding, presenter, render, session, story
from rcs_viz.ui.controls import compare as compare_controls
from rcs_viz.ui.sections import compare as compare_sections

ds = session.dataset()
d = ds.dictionary
render.dataset_header(ds, title="Compare")
story.bar("compare")
inds = {i.name: i for i in compare.indicators(d)}
if not inds or any(d.by_role(r) is None for r in ("cpp", "cluster", "school")):
    st.info("Comparisons need a CPP, cluster and school variable and at least one indicator (a variable with "
            "positive codes or a polarity) in the data dictionary.", icon=":material/info:")
    st.stop()

bound = compare_controls.binding(ds)
view, notes = bound.view()
bound.sync(view)
render.link_notes(notes)

presenting = presenter.active()
scale = presenter.SCALE if presenting else 1.0
if not presenting:
    with st.sidebar:
        st.header("Comparison")
        compare_controls.sidebar(ds, bound)
    compare_controls.view_picker(bound)

chips = list(zip([n for n, _ in view.filters], service.describe_filters(d, view.filters)))
place = drawn_place(d, view)  # the base is of what is drawn: its place and wave, then filters
left = session.bases(place + view.filters)[len(place):]
render.filter_chips([(name, text, left[i + 1]) for i, (name, text) in enumerate(chips)], left[-1],
                    on_remove=bound.remove_filter, within=service.describe_filters(d, place),
                    edit=lambda: compare_controls.filters(ds, bound))

ind = inds[view.indicator]
scope = Scope(view.cpp, view.cluster, view.wave, view.filters)
stem = f"rcs_{view.view}_{ind.name}"
try:
    if view.view == "rank":
        result = session.compared("rank", ind, view.level, scope, view.vs)
        st.subheader(f"{escape(result.title)} — {escape(result.level_label.lower())}s against the "
                     f"{escape(result.comparator_label.lower().replace('cpp', 'CPP'))}")
        render.comparison(result, compare_charts.rank_chart(result, scale), result.title, ds.source.name, stem)
    elif view.view == "funnel":
        result = session.compared("funnel", ind, view.level, scope, view.vs)
        st.subheader(f"{escape(result.title)} — {escape(result.level_label.lower())}s by size, against the "
                     f"{escape(result.comparator_label.lower().replace('cpp', 'CPP'))}")
        compare_sections.funnel_findings(result)
        render.comparison(result, compare_charts.funnel_chart(result, scale), result.title, ds.source.name, stem)
    elif view.view == "similar":
        result = session.compared("similar", ind, view.level, scope, view.ref)
        compare_sections.similar(result, ds.source.name, stem, scale)
    elif view.view == "neighbours":
        result = session.compared("neighbours", ind, view.level, view.unit, scope)
        compare_sections.neighbours(result, ds.source.name, stem, scale)
    elif view.view == "spine":
        result = session.compared("spine", view.level, view.unit, scope, view.vs)
        st.subheader(f"{escape(result.unit_label)}: every indicator against the "
                     f"{compare.COMPARATORS[result.comparator].lower().replace('cpp', 'CPP')}")
        st.caption("Each bar runs from the lowest to the highest unit of the CPP, better to the right. "
                   + ("Click an indicator to open its rank chart." if presenting else
                      "Click an indicator, or pick it below, to open its rank chart."))
        event = render.comparison(result, compare_charts.spine_chart(result, scale), f"Spine: {result.unit_label}",
                                  ds.source.name, f"rcs_spine_{view.unit}", chart_key="spine")
        picked = (event.selection.get("pick") or [{}])[0].get("indicator") if event else None
        if picked in inds:
            compare_controls.open_rank(picked, bound)
            st.rerun()
        if not presenting:
            compare_controls.rank_links(list(inds.values()), d, bound)
    elif view.view == "trend":
        result = session.compared("trend", ind, view.level, view.unit, scope)
        st.subheader(f"{escape(result.title)} over time")
        render.comparison(result, compare_charts.trend_chart(result, scale), result.title, ds.source.name, stem)
    elif view.view == "gradient":
        result = session.compared("gradient", ind, scope)
        st.subheader(f"{escape(result.title)} by deprivation")
        if result.gap:
            g = result.gap
            most, least = escape(g["most"]), escape(g["least"])
            st.markdown(f"**Gap, {most} minus {least}: {g['diff']:+.1f}{ind.unit}** "
                        f"(95% CI {g['diff_low']:+.1f} to {g['diff_high']:+.1f}) — the most deprived fare "
                        f"**{g['verdict']}**." if g["verdict"] in ("better", "worse") else
                        f"**Gap, {most} minus {least}: {g['diff']:+.1f}{ind.unit}** "
                        f"(95% CI {g['diff_low']:+.1f} to {g['diff_high']:+.1f}): {escape(g['verdict'])}.")
        render.comparison(result, compare_charts.gradient_chart(result, scale), result.title, ds.source.name, stem)
        compare_sections.inequality(result)
    else:
        result = session.compared("school_map", ind, scope)
        st.subheader(f"{escape(result.title)}: schools")
        if len(result.schools):
            st.pydeck_chart(compare_charts.school_deck(result, scale), height=compare_charts.map_size(scale)[1])
            st.caption("Circles are sized by respondents and coloured against the CPP average; hollow grey "
                       "circles are schools whose value is protected. Outlines group each cluster's schools.")
        render.comparison(result, None, result.title, ds.source.name, stem)
except QueryError as err:
    st.warning(f"This comparison cannot be made: {escape(err)}", icon=":material/block:")

render.copy_link(binding.url_params())
if not presenting:
    compare_controls.report_pack(ds, view, scope)
story.save_control("compare")
