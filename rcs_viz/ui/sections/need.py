"""What the Need and services page draws, a section at a time, from protected results only.

The page picks the section its view names; each function here lays out the
library's results (`rcs_viz.features.need`) with the page's widgets. Their
text is plain (labels, service and file names among it) and is escaped where
it meets Markdown.
"""

from __future__ import annotations

import streamlit as st

from rcs_viz.engine import service
from rcs_viz.engine.sql.views import QueryError
from rcs_viz.features.need import charts as need_charts, services as services_map, tables as nt, whatif
from rcs_viz.features.need.state import NeedView
from rcs_viz.output.markdown import escape
from rcs_viz.ui import presenter, render, session
from rcs_viz.ui.binding import Binding
from rcs_viz.ui.controls import need as nc


def need(ds, b: Binding, view: NeedView) -> None:
    """Need against service contact: the two by two, the breakdown, charts and downloads."""
    d = ds.dictionary
    if not presenter.active():
        with st.sidebar:
            st.header("Need and contact")
            nc.sidebar(ds, b, view)
    st.subheader("Need against service contact")
    chips = list(zip([n for n, _ in view.filters], service.describe_filters(d, view.filters)))
    left = session.bases(view.query_filters(d))[-len(view.filters) - 1:]
    render.filter_chips([(name, text, left[i + 1]) for i, (name, text) in enumerate(chips)], left[-1],
                        on_remove=b.remove_filter, edit=lambda: nc.filters(ds, b))
    if left[-1].too_small:
        st.warning("These filters leave too few pupils to show anything. Remove a filter or widen it.",
                   icon=":material/visibility_off:")
        return
    try:
        fit = session.fit(view)
    except QueryError as err:
        st.warning(f"This question cannot be answered: {escape(err)}", icon=":material/block:")
        return
    st.markdown(f"**Need:** {escape(fit.need_text)}  \n**Service contact:** {escape(fit.contact_text)}  \n"
                f"**Pupils:** {escape('; '.join(fit.context.filters_text) or 'everyone')}"
                + (f" · **by {escape(fit.by_label.lower())}**" if fit.by_label else ""))
    if fit.summary.get("mostly_protected"):
        st.info(escape(fit.summary["advice"]), icon=":material/visibility_off:")
    cols = st.columns(2)
    for col, title, figure, text, of in (
            (cols[0], "Need without contact (possible unmet need)", fit.unmet, fit.unmet_text(), "with the need"),
            (cols[1], "Contact without reported need", fit.unasked, fit.unasked_text(), "with contact")):
        value = "protected" if not figure.shown else (f"{figure.pct:.0f}%" if figure.pct == figure.pct
                                                      else f"{figure.count:,}")
        col.metric(title, value, border=True, help=f"As a % of pupils {of}.")
        col.caption(escape(text))
    square = nt.square_display(fit)
    render.table(nt.style_square(square), key="n_square")
    st.caption("Everyone in view: pupils, and in brackets the % of the row (of those with, or without, the need). "
               "Shaded: need without contact (possible unmet need), and contact without reported need.")
    scale = presenter.SCALE if presenter.active() else 1.0
    unmet_chart = need_charts.fit_chart(fit, "need", d.synthetic, scale)
    unasked_chart = need_charts.fit_chart(fit, "contact", d.synthetic, scale)
    tabs = st.tabs(["Need without contact", "Contact without reported need"])
    with tabs[0]:
        render.draw(unmet_chart)
    with tabs[1]:
        render.draw(unasked_chart)
    table = nt.breakdown_display(fit)
    render.table(table, key="n_breakdown",
                 column_config={k: st.column_config.TextColumn(k, help=v) for k, v in nt.BREAKDOWN_HELP.items()})
    st.caption(nt.BREAKDOWN_CAPTION)
    legend = nt.markers_used(square, table)
    st.caption(escape(fit.context.rules.describe()) + (f"  \n{escape(legend)}" if legend else ""))
    for note in fit.context.notes:
        st.caption(escape(note))
    stem = f"rcs_need_{fit.by or 'all'}"
    nc.downloads(stem, nt.breakdown_tidy(fit),
                 {"Two by two": square, "Breakdown": nt.breakdown_tidy(fit), "Cells": nt.cells_tidy(fit)},
                 nt.fit_notes(fit, ds.source.name),
                 {"need without contact": unmet_chart, "contact without reported need": unasked_chart}, key="fit",
                 source=ds.source.name)


def _header(table, kind: str, synthetic: bool) -> None:
    """Which services table is shown, and whether it is the synthetic one."""
    source = table.source if table is not None else "none"
    st.caption(("Your uploaded table: " if kind == "upload" else "Configured services table: ") + escape(source)
               + (f" · {len(table.table)} services" if table is not None else ""))
    if synthetic:
        st.badge("Synthetic sample — fictional services, not real spend", icon=":material/science:", color="orange")
    if table is not None:
        for note in table.notes:
            st.caption(escape(note))


def services(ds, b: Binding, view: NeedView) -> None:
    """The services map: spend and children served by tier, sector and funder, protected counts marked."""
    table, kind, problem = nc.services()
    d, presenting, rules = ds.dictionary, presenter.active(), session.rules()
    threshold = rules.threshold
    st.subheader("Services map")
    synthetic = nc.services_synthetic(kind)
    _header(table, kind, synthetic)
    if problem:
        st.error(f"The configured services table cannot be used: {escape(problem)}", icon=":material/error:")
    if not presenting:
        nc.upload_panel(kind)
    if table is None:
        st.info("No services table yet: upload one above (the blank template shows the layout).",
                icon=":material/info:")
        return
    t = table.table
    if not presenting:
        nc.scope_picker(ds, b, t)
    cpp, why = nc.services_scope(view, d, t)
    if why:
        st.caption(escape(why))
    s = services_map.summarise(t, cpp, rules)
    where, tiers, sectors, tier_sector, prevent, funders, listed = (
        s.where, s.tiers, s.sectors, s.tier_sector, s.prevent, s.funders, s.services)
    total = tiers.iloc[-1]
    cols = st.columns(3)
    cols[0].metric("Annual spend", nt.money(total["annual_spend_gbp"]), border=True)
    cols[1].metric("Children served (places)", nt.tier_display(tiers)["Children served"].iloc[-1], border=True,
                   help="A child using two services counts in both.")
    cols[2].metric("Spent on prevention", f"{prevent['spend_pct'].iloc[0]:.0f}%", border=True,
                   help="Universal and early help / targeted services, as a share of all spend.")
    scale = presenter.SCALE if presenting else 1.0
    spend_chart = need_charts.spend_chart(tier_sector, where, synthetic, scale)
    per_child_chart = need_charts.per_child_chart(tiers, where, synthetic, scale)
    render.draw(spend_chart)
    render.table(nt.tier_display(tiers), key="n_tiers")
    render.draw(per_child_chart)
    st.markdown("**Prevention against intensive and specialist services** (spend only)")
    render.table(nt.prevent_display(prevent), key="n_prevent")
    st.markdown("**Which sectors carry each tier** (annual spend; in brackets, the share of the tier)")
    render.table(nt.grid_display(tier_sector), key="n_grid")
    st.markdown("**Which funders carry each tier**")
    render.table(nt.funders_display(funders), key="n_funders")
    st.markdown("**By sector**")
    render.table(nt.sector_display(sectors), key="n_sectors")
    with st.expander(f"Every service ({len(listed)})", icon=":material/list:"):
        render.table(nt.service_list_display(listed), key="n_list")
    st.caption(f"{services_map.SUPPRESSED} {services_map.MARKERS[services_map.SUPPRESSED]} (threshold "
               f"{threshold}). Spend is about services, not people, and is always shown; no spend per child is "
               "given beside a protected count.")
    nc.downloads("rcs_services", nt.services_tidy(tier_sector),
                 {"By tier": nt.services_tidy(tiers), "By sector": nt.services_tidy(sectors),
                  "Tier x sector": nt.services_tidy(tier_sector), "Prevention": nt.services_tidy(prevent),
                  "Funders": nt.services_tidy(funders),
                  "Services": nt.services_tidy(listed.drop(columns=["age_min", "age_max"]))},
                 nt.services_notes(table.source, synthetic, where, threshold, table.notes),
                 {"spend": spend_chart, "per_child": per_child_chart}, key="services", source=table.source)


def what_if(ds, b: Binding, view: NeedView) -> None:
    """Shift upstream: the arithmetic of moving spend between tiers, every assumption beside it."""
    table, kind, problem = nc.services()
    d, presenting, rules = ds.dictionary, presenter.active(), session.rules()
    default = nc.default(ds)
    st.subheader("Shift upstream: what if spend moved between tiers?")
    st.warning(whatif.CAUTION, icon=":material/lightbulb:")
    synthetic = nc.services_synthetic(kind)
    _header(table, kind, synthetic)
    if table is None:
        st.info("The what-if needs a services table: " + escape(problem or "upload one under Services."),
                icon=":material/info:")
        return
    t = table.table
    cpp, why = nc.services_scope(view, d, t)
    where = cpp or "All partnerships in the table"
    st.caption(f"Partnership: {escape(where)} (change it under Services)." + (f" {escape(why)}" if why else ""))
    if presenting:
        results = st.container()
        st.caption(f"Moving {view.shift_pct}% of {escape(view.shift_from)} spend to {escape(view.shift_to)}.")
    else:
        inputs, results = st.columns([1, 2])
        with inputs:
            nc.whatif_inputs(b)
    try:
        scenario = whatif.shift_upstream(services_map.summarise(t, cpp, rules).tiers, view.shift_from,
                                         view.shift_to, view.shift_pct)
    except whatif.WhatIfError as err:
        results.warning(f"This move cannot be worked out: {escape(err)}. Choose other tiers, or another partnership.",
                        icon=":material/block:")
        return
    moved, lost, gained = results.columns(3)
    moved.metric("Spend moved a year", nt.money(scenario.moved_gbp), border=True)
    lost.metric(scenario.from_tier, f"{-scenario.reach_lost:+,.0f}", border=True,
             help="Change in children reachable a year at this tier's cost per child.")
    gained.metric(scenario.to_tier, f"{scenario.reach_gained:+,.0f}", border=True,
             help="Change in children reachable a year at this tier's cost per child.")
    results.caption("Spend moved, and the change in children reachable a year in each of the two tiers.")
    scale = presenter.SCALE if presenting else 1.0
    figure = need_charts.whatif_chart(scenario, where, synthetic, scale)  # what the PNG and SVG downloads draw
    left, right = st.columns([3, 2])
    with left:
        for chart in need_charts.whatif_on_screen(scenario, where, synthetic, scale):
            render.draw(chart)
    right.markdown("**Assumptions**\n\n" + "\n".join(f"- {escape(x)}" for x in scenario.assumptions))
    render.table(nt.scenario_display(scenario), key="n_scenario")
    st.caption(nt.SCENARIO_CAPTION)
    changed = (view.avoided_pct, view.outcome_cost, view.years) != (default.avoided_pct, default.outcome_cost,
                                                                    default.years)
    with st.expander("Optional: a rough estimate of costs avoided", icon=":material/calculate:", expanded=changed):
        if not presenting:
            nc.fiscal_inputs(b)
        fr = whatif.fiscal_return(scenario.reach_gained, scenario.moved_gbp, **nc.whatif_inputs_default(view))
        if fr.placeholders:
            st.warning(f"Still at a made-up placeholder: {', '.join(p.replace('_', ' ') for p in fr.placeholders)}. "
                       f"That is {whatif.PLACEHOLDER}.", icon=":material/edit:")
        cols = st.columns([2, 3])
        with cols[0]:
            render.table(nt.fiscal_display(fr), key="n_fiscal")
        cols[1].markdown("**Assumptions**\n\n" + "\n".join(f"- {escape(x)}" for x in fr.assumptions))
    nc.downloads("rcs_whatif", nt.services_tidy(scenario.table),
                 {"Scenario": nt.services_tidy(scenario.table), "Cost avoided": fr.table(),
                  "Assumptions": nt.assumptions_frame(scenario, fr)},
                 nt.whatif_notes(scenario, table.source, synthetic, where, fr), {"reach": figure}, key="whatif",
                 source=table.source)
