"""Overview: what data is open, what it covers, and a way to open your own."""

from pathlib import Path

import streamlit as st

from rcs_viz.engine import service
from rcs_viz.engine.load import LoadError
from rcs_viz.output import tables
from rcs_viz.output.markdown import escape
from rcs_viz.ui import presenter, render, session, story
from rcs_viz.ui.sections import dictionary

ds = session.dataset()
rules = session.rules()
d = ds.dictionary
render.dataset_header(ds)
story.bar("")

units = service.units(ds)
coverage = service.crosstab(ds, service.coverage_question(d), "count", rules)

cols = st.columns(5)
cols[0].metric("Respondents", tables.total_text(coverage))
for col, (role, label) in zip(cols[1:], [("cpp", "CPPs"), ("cluster", "School clusters"),
                                          ("school", "Schools"), ("wave", "Survey waves")]):
    col.metric(label, units.get(role, "—"))

st.subheader("Respondents by " + escape(coverage.row_title.lower())
             + (f" and {escape(coverage.col_title)}" if coverage.col_title else ""))
render.protected_table(coverage, key="overview_coverage")

story.save_control("")
if presenter.active():  # the room sees what the data covers; browsing and opening files are for the desk
    st.stop()

st.subheader("Variables")
described = "a dictionary inferred from the data" if ds.dictionary_source == "inferred" else \
    f"**{escape(Path(ds.dictionary_source).name)}**"
st.caption(f"From **{escape(ds.source.name)}**, described by {described}.")
for note in ds.notes:
    st.caption(escape(note))
dictionary.guesses(d)
for group, variables in d.groups().items():
    with st.expander(f"{escape(group)} ({len(variables)})"):
        st.dataframe(tables.variables(variables), hide_index=True, width="stretch")

st.subheader("Open your own data")
st.caption("CSV, Excel (.xlsx), Parquet or SPSS (.sav), with an optional YAML dictionary. "
           "The file is read, never changed; if it cannot be used you stay on the current data.")
with st.form("open_data"):
    data_file = st.file_uploader("Data file", type=["csv", "tsv", "txt", "xlsx", "parquet", "sav"])
    dict_file = st.file_uploader("Dictionary (optional)", type=["yaml", "yml"])
    submitted = st.form_submit_button("Open")
if submitted and data_file is not None:
    try:
        session.open_upload(data_file, dict_file)
    except LoadError as exc:
        st.error(escape(exc), icon=":material/error:")
    else:
        st.rerun()
if "rcs_dataset" in st.session_state and st.button("Back to the configured data"):
    session.reset()
    st.rerun()
