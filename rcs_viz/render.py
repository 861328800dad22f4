"""The only module that draws data in Streamlit: tables, banners, notes.

Everything it receives is already protected; it decides how things look,
never what may be shown.
"""

from __future__ import annotations

import streamlit as st

from rcs_viz import tables
from rcs_viz.load import Dataset
from rcs_viz.service import Protected

SYNTHETIC_BADGE = "Synthetic sample — fictional places and pupils, not real statistics"


def dataset_header(ds: Dataset) -> None:
    """Title, and the synthetic label wherever synthetic data is shown."""
    st.title(ds.dictionary.title)
    if ds.dictionary.synthetic:
        st.badge(SYNTHETIC_BADGE, icon=":material/science:", color="orange")


def protected_table(result: Protected, show_ci: bool = False, key: str | None = None) -> None:
    """A protected table with its markers explained and its rules stated."""
    table = tables.wide(result, show_ci=show_ci)
    st.dataframe(table, use_container_width=True, key=key)
    used = {m for m in tables.MARKERS if (table == m).any().any()}
    legend = " · ".join(f"{m} {tables.MARKERS[m]}" for m in tables.MARKERS if m in used)
    st.caption(tables.caption(result) + (f"  \n{legend}" if legend else ""))
    if result.summary.get("mostly_protected"):
        st.info(result.summary["advice"], icon=":material/visibility_off:")
    for note in result.notes:
        st.caption(note)
