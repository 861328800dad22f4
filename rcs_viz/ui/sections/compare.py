"""What Compare's fair-comparison views add to the page: the funnel's findings and the inequality measures.

The figures come from `features.compare` results, already protected; this
module says in words what they show, at a desk and on a projector (where
`render.table` draws a plain table in large type). Labels are escaped where
they meet Markdown.
"""

from __future__ import annotations

import streamlit as st

from rcs_viz.features.compare import tables as compare_tables
from rcs_viz.features.compare.funnel import Funnel
from rcs_viz.features.compare.model import Gradient
from rcs_viz.output.markdown import escape
from rcs_viz.ui import presenter, render

FUNNEL_HELP = ("Each dot is a unit at its number of pupils. Around the comparator, the curves show how far a unit "
               "of that size would stray by chance alone: 95% of the time within the solid curves, 99.8% within "
               "the dashed ones. A unit outside them differs by more than chance usually gives; it does not say "
               "why (pupils' mix, how the survey was run, or the school itself). Inside, a difference is within "
               "chance: it is not evidence of no difference.")
MEASURES_HELP = ("SII: the modelled gap from the most to the least deprived end of the gradient, using every "
                 "quintile and its size. RII: the SII as a share of the overall figure. PAR: how much of the "
                 "overall figure would go if every quintile had the least deprived quintile's figure. They "
                 "describe the gradient in these pupils; they do not say deprivation causes it.")


def funnel_findings(f: Funnel) -> None:
    """Units outside the limits named, in words that follow the indicator's polarity; the method in a line."""
    outside = f.outside
    if f.comparator_value is not None and len(outside):
        for verdict, group in outside.groupby("verdict", sort=False):
            names = ", ".join(escape(n) for n in group["label"])
            st.markdown(f"**Outside the limits, {escape(verdict)}:** {names}")
    elif f.comparator_value is not None and len(f.drawn):
        st.markdown(f"**Every {escape(f.level_label.lower())} drawn lies within the 95% limits.**")
    if not presenter.active():
        st.caption(escape(FUNNEL_HELP + " " + f.method))


def inequality(g: Gradient) -> None:
    """The measures as a table with what each says, or why they are not given."""
    m = g.inequality
    if not m.given:
        st.info(escape(m.reason), icon=":material/visibility_off:")
        return
    st.markdown(f"**{escape(m.sii_reading)}**")
    render.table(compare_tables.measures(g), key="c_measures")
    if not presenter.active():
        st.caption(escape(MEASURES_HELP + " " + m.method))
