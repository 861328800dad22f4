"""What Compare's fair-comparison views add to the page: the funnel's findings, the inequality measures, and the
similar-pupil and statistical-neighbour views.

The figures come from `features.compare` results, already protected; this
module says in words what they show, at a desk and on a projector (where
`render.table` draws a plain table in large type). Labels are escaped where
they meet Markdown.
"""

from __future__ import annotations

import streamlit as st

from rcs_viz.features.compare import charts as compare_charts, tables as compare_tables
from rcs_viz.features.compare.funnel import Funnel
from rcs_viz.features.compare.model import Gradient
from rcs_viz.features.compare.neighbours import Neighbours
from rcs_viz.features.compare.similar import Similar
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
    render.sorted_table(compare_tables.measures(g), key="c_measures")
    if not presenter.active():
        st.caption(escape(MEASURES_HELP + " " + m.method))


SIMILAR_HELP = ("Observed ÷ expected: how many pupils have this answer, against how many would if each pupil had the "
                "rate of pupils like them (same SIMD quintile, stage and sex) in the reference. Above 1: more than "
                "similar pupils elsewhere; below 1: fewer. It takes account of who the pupils are, not of anything "
                "else (how the survey was run, the area, the school). The groups behind an expectation are never "
                "shown: only each unit's own count, its expected count and the ratio.")
NEIGHBOURS_HELP = ("Statistical neighbours are the units whose circumstances are most like this one's, on the profile "
                   "in the table: the share of pupils from the most deprived areas (SIMD 1–2), on free school meals, "
                   "living in urban areas, and the number of pupils. Comparing with them asks how this unit fares "
                   "against places facing much the same. They are not a league table, not chosen for their results, "
                   "and not alike in everything: schools, staff and services differ.")


def similar(r: Similar, source: str, stem: str, scale: float) -> None:
    """The ranked ratios with what they mean, the table and downloads."""
    st.subheader(f"{escape(r.title)} — {escape(r.level_label.lower())}s against similar pupils in "
                 f"{escape(r.reference_label)}")
    findings = r.drawn[r.drawn["verdict"].isin(["better", "worse", "higher", "lower"])]
    for verdict, group in findings.groupby("verdict", sort=False):
        st.markdown(f"**{escape(verdict.capitalize())} than similar pupils:** "
                    + ", ".join(escape(n) for n in group["label"]))
    if not presenter.active():
        st.caption(escape(SIMILAR_HELP + " " + r.method))
    render.comparison(r, compare_charts.similar_chart(r, scale), f"{r.title}: similar pupils", source, stem)


def neighbours(n: Neighbours, source: str, stem: str, scale: float) -> None:
    """The unit against its neighbours' average and the other comparators, with the profile the neighbours are on."""
    st.subheader(f"{escape(n.title)} — {escape(n.unit_label)} and its statistical neighbours")
    if not presenter.active():
        st.caption(escape(NEIGHBOURS_HELP))
    if len(n.comparisons):
        render.sorted_table(compare_tables.comparisons(n), key="c_neighbour_vs")
    render.comparison(n, compare_charts.neighbours_chart(n, scale) if n.figures["value"].notna().any() else None,
                      f"{n.title}: neighbours of {n.unit_label}", source, stem)
    st.markdown(f"**Profile: {escape(n.unit_label)} and its neighbours** (figures as shown, nearest first)")
    render.sorted_table(compare_tables.neighbour_profile(n), key="c_neighbour_profile")
    if not presenter.active():
        st.caption(escape(n.method))
