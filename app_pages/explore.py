"""Explore: filtered cross-tabs and charts that a presenter can drive live."""

import streamlit as st

from rcs_viz.ui.controls import explore as controls
from rcs_viz.ui import presenter, render, session, story
from rcs_viz.features.explore import charts, state as view_state
from rcs_viz.engine import service

ds = session.dataset()
d = ds.dictionary
codes = lambda name: service.categories(ds, name)  # noqa: E731
default = view_state.default_view(d, codes)
view, notes = view_state.parse(controls.url_params(), d, codes)
controls.sync(view, d)

render.dataset_header(ds, title="Explore")
story.bar("explore")
render.link_notes(notes)

if not presenter.active():
    with st.sidebar:
        st.header("Question")
        controls.question(ds, default)
        st.header("Filters")
        controls.filters(ds, default)

query = view.query(d)
left = session.bases(query.filters)[-len(view.filters) - 1:]  # after the wave, then each filter
chips = [(name, text, left[i + 1])
         for i, ((name, _), text) in enumerate(zip(view.filters, service.describe_filters(d, view.filters)))]
base = left[-1]
render.filter_chips(chips, base, on_remove=controls.remove_filter, args=(d, default))
if base.too_small:
    st.warning("These filters leave too few respondents to show anything. Remove a filter or widen it.",
               icon=":material/visibility_off:")
    st.stop()

result = session.crosstab(query, view.measure)
render.protected_table(result, show_ci=view.ci, key="explore_table")
figure = charts.chart(result, show_ci=view.ci, stacked=view.stacked and not view.ci,
                      scale=presenter.SCALE if presenter.active() else 1.0)
render.chart(result, figure)

render.result_downloads(result, figure, source=ds.source.name, stem=f"rcs_{view.rows}")
render.copy_link(controls.url_params())
story.save_control("explore")
