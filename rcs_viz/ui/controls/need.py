"""The Need and services page's widgets, bound to its link (`rcs_viz.ui.binding`).

Also here: the cached calls the page makes (`need.fit`, the configured
services table) and the services table a user uploads (kept in their
session, never written anywhere).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import streamlit as st

from rcs_viz import config as config_mod
from rcs_viz.engine import service
from rcs_viz.features.need import model as need, services as services_map, state as need_state, whatif
from rcs_viz.features.need.model import Definition
from rcs_viz.features.need.services import TIERS, Services, ServicesError
from rcs_viz.features.need.state import SECTIONS, NeedView, encode
from rcs_viz.output import export, figures
from rcs_viz.output.markdown import escape
from rcs_viz.ui import render, session, widgets
from rcs_viz.ui.binding import Binding, Widget, flag

P = "n"  # the prefix of every widget key on this page
ALL_WAVES, NO_BREAKDOWN, ALL_CPPS = "all", "none", "__all__"
BREAKDOWNS = ("cpp", "cluster", "stage", "sex", "simd", "urban_rural")  # roles or names, in this order
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UPLOAD, UPLOAD_ERROR = "n_services_upload", "n_services_error"
SHOW_PROBLEMS = 20


def _number(x) -> list[str]:
    x = float(x)
    return [str(int(x)) if x.is_integer() else repr(x)]


def _scope(d, view: NeedView) -> str:
    cpp = d.by_role("cpp")
    kept = dict(view.filters).get(cpp.name, ()) if cpp is not None else ()
    return kept[0] if len(kept) == 1 else ALL_CPPS


def _settle(params: dict, changed: str | None, current: NeedView) -> dict:
    """Picking the other tier swaps the two; a need or contact left without conditions gets its default back."""
    if changed == "n_from" and params.get("from") == [current.shift_to]:
        params["to"] = [current.shift_from]
    if changed == "n_to" and params.get("to") == [current.shift_from]:
        params["from"] = [current.shift_to]
    for key, what in (("need", "need"), ("contact", "service contact")):
        if not params.get(key):
            st.toast(f"The {what} needs at least one condition, so the default was put back.", icon="ℹ️")
    return params


def _codes(ds):
    return lambda name, within=(): service.categories(ds, name, within)


def default(ds) -> NeedView:
    """The view a bare link opens on, for this data."""
    return need_state.default_view(ds.dictionary, _codes(ds))


def binding(ds) -> Binding:
    """Need's view ↔ its link ↔ its widgets (keys prefixed n_)."""
    d = ds.dictionary
    codes, first = _codes(ds), default(ds)
    definitions = []
    for key in ("need", "contact"):
        definitions += [
            Widget(f"n_{key}", key, lambda v, k=key: encode(getattr(v, k)), list),
            Widget(f"n_{key}_all", f"{key}_all", lambda v, k=key: getattr(v, k).combine == "all", flag),
            Widget(f"n_{key}_answered", f"{key}_answered", lambda v, k=key: getattr(v, k).answered_only, flag)]
    return Binding(P, (
        Widget("n_sec", "sec", lambda v: v.section),
        *definitions,
        Widget("n_by", "by", lambda v: v.by or NO_BREAKDOWN),
        Widget("n_wave", "wave", lambda v: v.wave or ALL_WAVES),
        Widget("n_from", "from", lambda v: v.shift_from),
        Widget("n_to", "to", lambda v: v.shift_to),
        Widget("n_shift", "shift", lambda v: int(v.shift_pct), _number),
        Widget("n_avoid", "avoid", lambda v: float(v.avoided_pct), _number),
        Widget("n_cost", "cost", lambda v: float(v.outcome_cost), _number),
        Widget("n_years", "years", lambda v: int(v.years), _number),
        Widget("n_scope", "", lambda v: _scope(d, v), lambda _: None),  # edits the CPP filter: see _pick_scope
    ), parse=lambda params: need_state.parse(params, d, codes),
        to_params=lambda view: need_state.to_params(view, first), settle=_settle)


def section_picker(b: Binding) -> None:
    st.segmented_control("Part of the page", list(SECTIONS), format_func=SECTIONS.get,
                         label_visibility="collapsed", **b.on_change("n_sec"))


# --------------------------------------------------------------------------- the need and contact widgets


def _condition_labels(d, found: tuple, definition: Definition) -> dict[str, str]:
    """Link value → words, for the presets and for whatever the view holds (a link may carry its own)."""
    out: dict[str, str] = {}
    for preset in found:
        for name, codes in preset.definition.conditions:
            out[encode(Definition(((name, codes),)))[0]] = preset.label
    for name, codes in definition.conditions:
        one = Definition(((name, codes),))
        out.setdefault(encode(one)[0], one.describe(d))
    return out


def breakdowns(d, current: str | None) -> list[str]:
    """Cluster, stage, sex, SIMD and the like, as the dictionary has them, and whatever the view holds."""
    out = []
    for key in BREAKDOWNS:
        var = d.by_role(key) or (d[key] if key in d else None)
        if var is not None and var.is_categorical and var.name not in out:
            out.append(var.name)
    if current is not None and current not in out:
        out.append(current)
    return out


def sidebar(ds, b: Binding, view: NeedView) -> None:
    """The need, the service contact, the breakdown, the wave and filters."""
    d = ds.dictionary
    found = need.presets(d)
    kw = b.on_change
    for key, title, pool, word in (("need", "Need", found.needs, "need"),
                                   ("contact", "Service contact", found.contacts, "contact")):
        labels = _condition_labels(d, pool, getattr(view, key))
        st.multiselect(title, list(labels), format_func=lambda c, lab=labels: lab.get(c, c),
                       placeholder=f"Choose what counts as a {word}…", **kw(f"n_{key}"),
                       help=f"A pupil counts as having the {word} if any condition holds (or every one, below).")
        st.toggle("Every condition must hold", **kw(f"n_{key}_all"),
                  help="Off: any one condition is enough (or). On: all of them are needed (and).")
        st.toggle("Judge on the questions each pupil answered", **kw(f"n_{key}_answered"),
                  help="On: a pupil not asked one of the questions (for example, a primary pupil and a "
                       "secondary-only scale) is decided by the others. Off: such a pupil is left out unless "
                       "another condition already decides.")
    add_condition(ds, b)
    options = [NO_BREAKDOWN] + breakdowns(d, view.by)
    st.selectbox("Break down by", options, format_func=lambda n: "No breakdown" if n == NO_BREAKDOWN else d[n].label,
                 **kw("n_by"))
    wave = d.by_role("wave")
    if wave is not None:
        st.selectbox(escape(wave.label), [ALL_WAVES] + service.categories(ds, wave.name),
                     format_func=lambda c: "All waves" if c == ALL_WAVES else wave.label_of(c), **kw("n_wave"))
    st.header("Filters")
    filters(ds, b)


def filters(ds, b: Binding) -> None:
    """Filters on any variable but the wave (which has its own control): in the sidebar, or presenter mode's bar."""
    d = ds.dictionary
    wave = d.by_role("wave")
    widgets.filters(ds, b, [v.name for vs in d.groups().values() for v in vs if v.is_categorical
                            and (wave is None or v.name != wave.name)])


def add_condition(ds, b: Binding) -> None:
    """A condition of one's own: any pupil answer, to add to the need or the contact."""
    d = ds.dictionary
    pupil = [v.name for vs in d.groups().values() for v in vs if v.role is None]
    if not pupil:
        return
    with st.expander("Add a condition of your own", icon=":material/add:"):
        st.radio("Add to", ["need", "contact"], key="n_add_to", horizontal=True,
                 format_func=lambda k: "the need" if k == "need" else "the service contact")
        name = st.selectbox("Answer", pupil, key="n_add_var", format_func=lambda n: f"{d[n].label}  ·  {d[n].group}")
        var = d[name]
        if var.is_categorical:
            st.multiselect("Is one of", service.categories(ds, name), key="n_add_codes", format_func=var.label_of,
                           placeholder="Choose values")
        else:
            left, right = st.columns(2)
            left.selectbox("Is", list(need.OP_WORDS), key="n_add_op", format_func=need.OP_WORDS.get)
            right.number_input("Number", key="n_add_num", value=None, step=1.0)
        st.button("Add", key="n_add", icon=":material/add:", on_click=_add, args=(ds, b))


def _add(ds, b: Binding) -> None:
    ss = st.session_state
    d = ds.dictionary
    name = ss.get("n_add_var")
    if name not in d:
        return
    var = d[name]
    if var.is_categorical:
        codes = [c for c in service.categories(ds, name) if c in (ss.get("n_add_codes") or [])]
        if not codes:
            st.toast("Choose at least one value for the condition.", icon="ℹ️")
            return
        value = name + need_state.SEPARATOR + need_state.CODES.join(codes)
    else:
        number = ss.get("n_add_num")
        if number is None or not math.isfinite(float(number)):
            st.toast("Type a number for the condition.", icon="ℹ️")
            return
        value = name + need_state.SEPARATOR + (ss.get("n_add_op") or "<") + _number(number)[0]
    key = "n_need" if ss.get("n_add_to", "need") == "need" else "n_contact"
    kept = [c for c in ss.get(key, []) if not c.startswith(name + need_state.SEPARATOR)]
    ss[key] = kept + [value]
    b.change(key)


def services() -> tuple[Services | None, str, str | None]:
    """This session's services table: (table or None, "upload" / "configured" / "none", a problem with it)."""
    uploaded = st.session_state.get(UPLOAD)
    if uploaded is not None:
        return uploaded, "upload", None
    path = session.config().services
    if path is None:
        return None, "none", None
    try:
        return session.services_table(path), "configured", None
    except ServicesError as err:
        return None, "configured", str(err)


def services_synthetic(kind: str) -> bool:
    """Whether the table shown is the synthetic sample's: say so wherever it is shown."""
    if kind != "configured":
        return False
    cfg = session.config()
    if cfg.services is None:
        return False
    in_sample = Path(cfg.services).resolve().parent == config_mod.SAMPLE_DIR.resolve()
    return in_sample or "synthetic sample" in cfg.source.lower()


def _on_upload() -> None:
    """Check an uploaded table; only a clean one replaces the table shown, so a bad file changes nothing."""
    ss = st.session_state
    f = ss.get("n_upload")
    if f is None:
        return
    try:
        table = services_map.load_services(f.getvalue(), f.name)
        services_map.by_tier(table.table, None, session.rules().threshold)  # protect now, so it cannot fail later
    except ServicesError as err:
        ss[UPLOAD_ERROR] = (f.name, err.message, list(err.problems))
    except ValueError as err:
        ss[UPLOAD_ERROR] = (f.name, f"{f.name}: {err}", [f"{f.name}: {err}"])
    else:
        ss[UPLOAD] = table
        ss.pop(UPLOAD_ERROR, None)


def _forget_upload() -> None:
    st.session_state.pop(UPLOAD, None)
    st.session_state.pop(UPLOAD_ERROR, None)


def upload_panel(kind: str) -> None:
    """Upload a CPP's own table; blank templates; what each column means; any problem with the last file."""
    problem = st.session_state.get(UPLOAD_ERROR)
    if problem is not None:
        name, message, problems = problem
        lines = "\n".join(f"- {escape(p)}" for p in problems[:SHOW_PROBLEMS])
        more = f"\n\n…and {len(problems) - SHOW_PROBLEMS} more." if len(problems) > SHOW_PROBLEMS else ""
        st.error(f"**{escape(name)} could not be used**, so the table below is the one you had before.\n\n{lines}{more}",
                 icon=":material/error:")
    with st.expander("Use your own services table", icon=":material/upload_file:", expanded=problem is not None):
        st.markdown("One row per service. Fill in the blank template (CSV or Excel), then upload it here. "
                    "It is only read, stays in this browser session and is never saved.")
        st.file_uploader("Services table (CSV or Excel .xlsx)", type=["csv", "xlsx", "xls", "tsv", "txt"],
                         key="n_upload", on_change=_on_upload)
        cols = st.columns(3)  # the templates are made when clicked: the Excel one needs xlsxwriter, slow to import
        cols[0].download_button("Blank template (CSV)", services_map.template_csv, "services_template.csv",
                                "text/csv", icon=":material/download:", on_click="ignore")
        cols[1].download_button("Blank template (Excel)", services_map.template_excel, "services_template.xlsx",
                                XLSX, icon=":material/download:", on_click="ignore")
        if kind == "upload":
            cols[2].button("Back to the configured table", key="n_forget", on_click=_forget_upload,
                           icon=":material/undo:")
        st.caption("The columns:")
        st.dataframe(services_map.columns().rename(columns=str.capitalize), hide_index=True, width="stretch",
                     key="n_columns")


def scope_options(ds, table: pd.DataFrame) -> list[str]:
    """The data's CPP codes that have services in the table (matched by name), after 'all'."""
    cpp = ds.dictionary.by_role("cpp")
    if cpp is None:
        return []
    names = set(table["cpp"])
    return [c for c in service.categories(ds, cpp.name) if cpp.label_of(c) in names]


def services_scope(view: NeedView, d, table: pd.DataFrame) -> tuple[str | None, str | None]:
    """The one CPP the view is filtered to, as the services table names it; or None (all) and why."""
    cpp = d.by_role("cpp")
    kept = dict(view.filters).get(cpp.name, ()) if cpp is not None else ()
    if not kept:
        return None, None
    names = [cpp.label_of(c) for c in kept]
    if len(names) == 1 and names[0] in set(table["cpp"]):
        return names[0], None
    if len(names) == 1:
        return None, f"The services table has no services for {names[0]}, so every partnership in it is shown."
    return None, "The view is filtered to more than one partnership, so every partnership in the table is shown."


def scope_picker(ds, b: Binding, table: pd.DataFrame) -> None:
    """Which partnership's services: the same CPP filter as the need section, so both agree."""
    d = ds.dictionary
    cpp = d.by_role("cpp")
    codes = scope_options(ds, table)
    if cpp is None or not codes:
        return
    if st.session_state.get("n_scope") not in [ALL_CPPS] + codes:
        st.session_state["n_scope"] = ALL_CPPS
    st.selectbox("Partnership", [ALL_CPPS] + codes, key="n_scope",
                 format_func=lambda c: "All partnerships in the table" if c == ALL_CPPS else cpp.label_of(c),
                 on_change=_pick_scope, args=(ds, b),
                 help="Also filters the need section to the same partnership.")


def _pick_scope(ds, b: Binding) -> None:
    """The partnership picked is the need section's CPP filter, set through the filter widgets."""
    ss = st.session_state
    cpp = ds.dictionary.by_role("cpp").name
    others = [n for n in ss.get(f"{P}_filters", []) if n != cpp]
    if ss.get("n_scope") in (None, ALL_CPPS):
        ss[f"{P}_filters"] = others
        ss.pop(f"{P}_f_{cpp}", None)
    else:
        ss[f"{P}_filters"] = others + [cpp]
        ss[f"{P}_f_{cpp}"] = [ss["n_scope"]]
    b.change("n_scope")


def whatif_inputs(b: Binding) -> None:
    kw = b.on_change
    st.selectbox("Move spend from", list(TIERS), **kw("n_from"))
    st.selectbox("to", list(TIERS), **kw("n_to"))
    st.slider("Share of its spend moved (%)", 0, 100, step=1, **kw("n_shift"))


def fiscal_inputs(b: Binding) -> None:
    kw = b.on_change
    cols = st.columns(3)
    cols[0].number_input(f"% of the extra children who avoid {whatif.DEFAULT_OUTCOME}", min_value=0.0,
                         max_value=100.0, step=0.5, format="%.1f", **kw("n_avoid"))
    cols[1].number_input(f"Cost of {whatif.DEFAULT_OUTCOME} (£ a year)", min_value=0.0,
                         max_value=float(need_state.MAX_COST), step=1000.0, format="%.0f", **kw("n_cost"))
    cols[2].number_input("Years each one is avoided", min_value=1, max_value=int(whatif.MAX_YEARS), step=1,
                         **kw("n_years"))


def downloads(stem: str, csv_frame: pd.DataFrame, sheets: dict[str, pd.DataFrame], notes: list[tuple[str, str]],
              charts: dict[str, object] | None = None, key: str = "", source: str = "") -> None:
    """CSV (under a header block of the same notes) and Excel (with a Notes sheet) of the figures shown, and
    PNG/SVG of each chart."""
    render.downloads(stem, lambda: export.csv_with_header(notes, csv_frame), lambda: export.workbook(sheets, notes),
                     charts, figures.footer(source, session.rules()), key=f"n_{key}")


def whatif_inputs_default(view: NeedView) -> dict:
    """The cost-avoided inputs, as `whatif.fiscal_return` takes them: placeholders left as None, so flagged."""
    avoid = None if math.isclose(view.avoided_pct, 100 * whatif.PLACEHOLDER_PROPORTION) else view.avoided_pct / 100
    cost = None if math.isclose(view.outcome_cost, whatif.PLACEHOLDER_UNIT_COST) else view.outcome_cost
    return {"proportion_avoided": avoid, "unit_cost": cost, "years": int(view.years)}

