"""Widgets that more than one page draws: the filter picker, and how a variable is named in a list.

Selectbox and multiselect options are plain text in the browser, so `label`
(a `format_func`) is not escaped; widget labels and `help=` are Markdown and are.
"""

from __future__ import annotations

import streamlit as st

from rcs_viz.data.dictionary import MISSING, Dictionary
from rcs_viz.engine import service
from rcs_viz.output.markdown import escape

NONE = "—"  # "no variable" in a picker


def label(d: Dictionary, name: str | None) -> str:
    if name in (None, NONE):
        return "(none)"
    var = d[name]
    return f"{var.label}  ·  {var.group}"


def filters(ds, binding, options: list[str]) -> None:
    """Pick a variable, then the values to keep; every change goes through the page's binding to the URL."""
    d = ds.dictionary
    prefix = binding.prefix
    st.multiselect("Filter on", options, format_func=lambda n: label(d, n), placeholder="Add a filter…",
                   **binding.on_change(f"{prefix}_filters"))
    for name in st.session_state.get(f"{prefix}_filters", []):
        var = d[name]
        codes = service.categories(ds, name) + [MISSING]
        st.multiselect(escape(var.label), codes, format_func=var.label_of, placeholder="Choose values to keep",
                       **binding.on_change(f"{prefix}_f_{name}"))
