"""Explore: filtered cross-tabs and charts that a presenter can drive live."""

import streamlit as st

from rcs_viz.engine import service
from rcs_viz.features.explore import charts
from rcs_viz.output.markdown import escape
from rcs_viz.ui import binding, presenter, render, session, story
from rcs_viz.ui.controls import explore as controls

ds = session.dataset()
d = ds.dictionary
bound = controls.binding(ds)
view, notes = bound.view()
bound.sync(view)

render.dataset_header(ds, title="Explore")
story.bar("explore")
render.link_notes(notes)

if not presenter.active():
    with st.sidebar:
        st.header("Question")
        controls.question(ds, bound)
        st.header("Filters")
        controls.filters(ds, bound)

query = view.query(d)
left = session.bases(query.filters)[-len(view.filters) - 1:]  # after the wave, then each filter
chips = [(name, text, left[i + 1])
         for i, ((name, _), text) in enumerate(zip(view.filters, service.describe_filters(d, view.filters)))]
base = left[-1]
render.filter_chips(chips, base, on_remove=bound.remove_filter, edit=lambda: controls.filters(ds, bound))
if base.too_small:
    st.warning("These filters leave too few respondents to show anything. Remove a filter or widen it.",
               icon=":material/visibility_off:")
    st.stop()

result = session.crosstab(query, view.measure)
render.protected_table(result, show_ci=view.ci, key="explore_table")
stacked, why_not = charts.stacking(result, view.stacked, view.ci)
scale = presenter.SCALE if presenter.active() else 1.0
figure, drawn, missing = session.explore_charts(result, view.ci, stacked, scale)
render.chart(result, figure, drawn, missing, show_ci=view.ci)
if why_not:
    st.caption(escape(why_not))

wave_var = d.by_role("wave")
wave = wave_var.label_of(view.wave) if view.wave and wave_var else "all waves together"
render.result_downloads(result, figure, source=ds.source.name, wave=wave)
render.copy_link(binding.url_params())
story.save_control("explore")
