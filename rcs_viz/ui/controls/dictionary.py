"""The Data dictionary page's one setting, the column its preview counts, bound to its link (`rcs_viz.ui.binding`)."""

from __future__ import annotations

import streamlit as st

from rcs_viz.features.dictionary import state
from rcs_viz.features.dictionary.model import preview_options
from rcs_viz.ui import widgets
from rcs_viz.ui.binding import Binding, Widget

VAR = "dd_var"


def binding(ds) -> Binding:
    """The page's view ↔ its link ↔ its widget (keys prefixed dd_)."""
    d = ds.dictionary
    default = state.default_view(d)
    return Binding("dd", (Widget(VAR, "var", lambda v: v.var),),
                   parse=lambda params: state.parse(params, d), to_params=lambda view: state.to_params(view, default))


def preview_picker(ds, b: Binding) -> None:
    d = ds.dictionary
    st.selectbox("Count", preview_options(d), format_func=lambda n: widgets.label(d, n),
                 help="The column the preview counts, as opened and with your corrections", **b.on_change(VAR))
