"""Data dictionary: what was inferred or declared for each column and why; a file you opened can be corrected."""

import streamlit as st

from rcs_viz.ui import presenter, render, session
from rcs_viz.ui.controls import dictionary as controls
from rcs_viz.ui.sections import dictionary as sections

ds = session.dataset()
render.dataset_header(ds, title="Data dictionary")
bound = controls.binding(ds)
view, notes = bound.view()
bound.sync(view)
render.link_notes(notes)
if presenter.active():  # the dictionary is for the desk; the room sees the figures
    st.caption("The data dictionary is reviewed at a desk: leave presenter mode to see it.")
    st.stop()

sections.header(ds)
result = sections.review(ds)
if sections.opened():
    sections.preview(ds, bound, view, result)
sections.download(ds, result)
