"""The Need and services page's widgets, with the URL as their single source of truth (as on Compare).

Each run parses the URL into a `NeedView` and `sync` writes it into the
widgets (keys prefixed ``n_``) before they are drawn; every widget's change
callback rebuilds the view, checks it with `need_state.parse`, and writes the
URL. Also here: the cached calls the page makes (`need.fit`, the configured
services table), the services table a user uploads (kept in their session,
never written anywhere), and the tables the page shows and exports, made from
the library's protected results only.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd
import streamlit as st

from rcs_viz import charts, controls, export, need, need_state, presenter, service, services_map, session, whatif
from rcs_viz import config as config_mod
from rcs_viz.need import Definition, Fit
from rcs_viz.need_state import SECTIONS, NeedView, encode, to_params
from rcs_viz.queries import NO, YES
from rcs_viz.services_map import ALL_SECTORS, SUPPRESSED, TIERS, Services, ServicesError
from rcs_viz.tables import LOW_BASE, MARKERS
from rcs_viz.view_state import FILTER_PREFIX

P = "n"  # the prefix of every widget key on this page
ALL_WAVES, NO_BREAKDOWN, ALL_CPPS = "all", "none", "__all__"
BREAKDOWNS = ("cpp", "cluster", "stage", "sex", "simd", "urban_rural")  # roles or names, in this order
OPS = {"<": "below", "<=": "at most", ">": "above", ">=": "at least"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UPLOAD, UPLOAD_ERROR = "n_services_upload", "n_services_error"
SHOW_PROBLEMS = 20
NEED_ROWS = {YES: "With the need", NO: "Without the need", None: "All"}
CONTACT_COLS = {YES: "Contact", NO: "No contact", None: "All"}
UNMET, UNASKED = "Need without contact", "Contact without need"
UNMET_COLOUR, UNASKED_COLOUR = "#F9D3BF", "#FCE6B8"  # light vermillion and orange, as in the charts


def _codes(ds):
    return lambda name, within=(): service.categories(ds, name, within)


# --------------------------------------------------------------------------- URL ↔ widgets


def sync(view: NeedView, ds) -> None:
    """Put the URL's view into the widgets before they are drawn."""
    d = ds.dictionary
    ss = st.session_state
    ss["n_view"] = view
    ss["n_sec"] = view.section
    for key in ("need", "contact"):
        definition: Definition = getattr(view, key)
        ss[f"n_{key}"] = encode(definition)
        ss[f"n_{key}_all"] = definition.combine == "all"
        ss[f"n_{key}_answered"] = definition.answered_only
    ss["n_by"] = view.by or NO_BREAKDOWN
    ss["n_wave"] = view.wave or ALL_WAVES
    ss["n_from"], ss["n_to"], ss["n_shift"] = view.shift_from, view.shift_to, int(view.shift_pct)
    ss["n_avoid"], ss["n_cost"], ss["n_years"] = float(view.avoided_pct), float(view.outcome_cost), int(view.years)
    cpp = d.by_role("cpp")
    kept = dict(view.filters).get(cpp.name, ()) if cpp is not None else ()
    ss["n_scope"] = kept[0] if len(kept) == 1 else ALL_CPPS
    controls.sync_filters(P, view.filters)


def write_url(ds, default: NeedView, changed: str | None = None, filters: tuple | None = None) -> None:
    """The current view with the widgets' values, checked by `need_state.parse`, into the URL.

    Starts from this run's view, so a widget not drawn in this section keeps
    its value; `filters` replaces the filters (else the sidebar's filter
    widgets give them when `changed` is one of theirs).
    """
    ss = st.session_state
    d = ds.dictionary
    current: NeedView = ss.get("n_view", default)
    params = {k: v if isinstance(v, list) else [v] for k, v in to_params(current, default).items()}
    params = {k: v for k, v in params.items() if not k.startswith(FILTER_PREFIX)}
    for key in ("need", "contact"):
        if f"n_{key}" in ss:
            params[key] = list(ss[f"n_{key}"])
        for flag in ("all", "answered"):
            if f"n_{key}_{flag}" in ss:
                params[f"{key}_{flag}"] = ["1" if ss[f"n_{key}_{flag}"] else "0"]
    simple = {"n_by": "by", "n_wave": "wave", "n_from": "from", "n_to": "to"}
    for widget, key in simple.items():
        if ss.get(widget) is not None:
            params[key] = [str(ss[widget])]
    params["sec"] = [ss.get("n_sec") or current.section]
    for widget, key in (("n_shift", "shift"), ("n_avoid", "avoid"), ("n_cost", "cost"), ("n_years", "years")):
        if ss.get(widget) is not None:
            params[key] = [_number(ss[widget])]
    if changed == "n_from" and ss.get("n_from") == current.shift_to:  # picking the other tier swaps them
        params["to"] = [current.shift_from]
    if changed == "n_to" and ss.get("n_to") == current.shift_from:
        params["from"] = [current.shift_to]
    if filters is None:
        filters = controls.read_filters(P) if changed in (f"{P}_filters", "filter") else current.filters
    for name, kept in filters:
        params[FILTER_PREFIX + name] = list(kept)
    for key in ("need", "contact"):
        if not params.get(key):
            what = "need" if key == "need" else "service contact"
            st.toast(f"The {what} needs at least one condition, so the default was put back.", icon="ℹ️")
    view, _ = need_state.parse(params, d, _codes(ds))
    st.query_params.from_dict({**to_params(view, default), **presenter.carried()})


def _number(x) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() else repr(x)


def section_picker(ds, default: NeedView) -> None:
    st.segmented_control("Part of the page", list(SECTIONS), key="n_sec", format_func=SECTIONS.get,
                         label_visibility="collapsed", on_change=write_url, args=(ds, default, "n_sec"))


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


def sidebar(ds, default: NeedView) -> None:
    """The need, the service contact, the breakdown, the wave and filters."""
    d = ds.dictionary
    view: NeedView = st.session_state["n_view"]
    found = need.presets(d)
    kw = lambda key: dict(key=key, on_change=write_url, args=(ds, default, key))  # noqa: E731
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
    add_condition(ds, default)
    options = [NO_BREAKDOWN] + breakdowns(d, view.by)
    st.selectbox("Break down by", options, format_func=lambda n: "No breakdown" if n == NO_BREAKDOWN else d[n].label,
                 **kw("n_by"))
    wave = d.by_role("wave")
    if wave is not None:
        st.selectbox(wave.label, [ALL_WAVES] + service.categories(ds, wave.name),
                     format_func=lambda c: "All waves" if c == ALL_WAVES else wave.label_of(c), **kw("n_wave"))
    st.header("Filters")
    names = [v.name for vs in d.groups().values() for v in vs if v.is_categorical
             and (wave is None or v.name != wave.name)]
    controls.filter_widgets(ds, P, names, on_change=write_url, args=(ds, default, "filter"))


def add_condition(ds, default: NeedView) -> None:
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
            left.selectbox("Is", list(OPS), key="n_add_op", format_func=OPS.get)
            right.number_input("Number", key="n_add_num", value=None, step=1.0)
        st.button("Add", key="n_add", icon=":material/add:", on_click=_add, args=(ds, default))


def _add(ds, default: NeedView) -> None:
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
        value = name + need_state.SEPARATOR + (ss.get("n_add_op") or "<") + _number(number)
    key = "n_need" if ss.get("n_add_to", "need") == "need" else "n_contact"
    kept = [c for c in ss.get(key, []) if not c.startswith(name + need_state.SEPARATOR)]
    ss[key] = kept + [value]
    write_url(ds, default, key)


def remove_filter(name: str, ds, default: NeedView) -> None:
    """A chip's ✕: drop that filter and rewrite the URL."""
    current: NeedView = st.session_state.get("n_view", default)
    controls.drop_filter(P, name)
    write_url(ds, default, filters=tuple((n, k) for n, k in current.filters if n != name))


# --------------------------------------------------------------------------- cached calls


@st.cache_data(show_spinner="Counting…", max_entries=256)
def _fit(key: str, _ds, _need: Definition, _contact: Definition, _by, _filters, _rules) -> Fit:
    return need.fit(_ds, _need, _contact, _by, _filters, _rules)


def fit(view: NeedView) -> Fit:
    """`need.fit` for this session's data under the owner's rules, cached per question."""
    ds, rules = session.dataset(), session.rules()
    filters = view.query_filters(ds.dictionary)
    key = repr((str(ds.db_path), view.need, view.contact, view.by, filters, rules))
    return _fit(key, ds, view.need, view.contact, view.by, filters, rules)


@st.cache_data(show_spinner="Reading the services table…", max_entries=8)
def _configured_services(path: str, stamp: float) -> Services:
    return services_map.load_services(path)


def services() -> tuple[Services | None, str, str | None]:
    """This session's services table: (table or None, "upload" / "configured" / "none", a problem with it)."""
    uploaded = st.session_state.get(UPLOAD)
    if uploaded is not None:
        return uploaded, "upload", None
    path = session.config().services
    if path is None:
        return None, "none", None
    try:
        stamp = Path(path).stat().st_mtime if Path(path).exists() else 0.0
        return _configured_services(str(path), stamp), "configured", None
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
        lines = "\n".join(f"- {p}" for p in problems[:SHOW_PROBLEMS])
        more = f"\n\n…and {len(problems) - SHOW_PROBLEMS} more." if len(problems) > SHOW_PROBLEMS else ""
        st.error(f"**{name} could not be used**, so the table below is the one you had before.\n\n{lines}{more}",
                 icon=":material/error:")
    with st.expander("Use your own services table", icon=":material/upload_file:", expanded=problem is not None):
        st.markdown("One row per service. Fill in the blank template (CSV or Excel), then upload it here. "
                    "It is only read, stays in this browser session and is never saved.")
        st.file_uploader("Services table (CSV or Excel .xlsx)", type=["csv", "xlsx", "xls", "tsv", "txt"],
                         key="n_upload", on_change=_on_upload)
        cols = st.columns(3)
        cols[0].download_button("Blank template (CSV)", services_map.template_csv(), "services_template.csv",
                                "text/csv", icon=":material/download:", on_click="ignore")
        cols[1].download_button("Blank template (Excel)", services_map.template_excel(), "services_template.xlsx",
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


def scope_picker(ds, default: NeedView, table: pd.DataFrame) -> None:
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
                 on_change=_pick_scope, args=(ds, default),
                 help="Also filters the need section to the same partnership.")


def _pick_scope(ds, default: NeedView) -> None:
    ss = st.session_state
    cpp = ds.dictionary.by_role("cpp")
    current: NeedView = ss.get("n_view", default)
    filters = tuple((n, k) for n, k in current.filters if n != cpp.name)
    if ss.get("n_scope") not in (None, ALL_CPPS):
        filters += ((cpp.name, (ss["n_scope"],)),)
    write_url(ds, default, filters=filters)


def whatif_inputs(ds, default: NeedView) -> None:
    kw = lambda key: dict(key=key, on_change=write_url, args=(ds, default, key))  # noqa: E731
    st.selectbox("Move spend from", list(TIERS), **kw("n_from"))
    st.selectbox("to", list(TIERS), **kw("n_to"))
    st.slider("Share of its spend moved (%)", 0, 100, step=1, **kw("n_shift"))


def fiscal_inputs(ds, default: NeedView) -> None:
    kw = lambda key: dict(key=key, on_change=write_url, args=(ds, default, key))  # noqa: E731
    cols = st.columns(3)
    cols[0].number_input(f"% of the extra children who avoid {whatif.DEFAULT_OUTCOME}", min_value=0.0,
                         max_value=100.0, step=0.5, format="%.1f", **kw("n_avoid"))
    cols[1].number_input(f"Cost of {whatif.DEFAULT_OUTCOME} (£ a year)", min_value=0.0,
                         max_value=float(need_state.MAX_COST), step=1000.0, format="%.0f", **kw("n_cost"))
    cols[2].number_input("Years each one is avoided", min_value=1, max_value=int(whatif.MAX_YEARS), step=1,
                         **kw("n_years"))


# --------------------------------------------------------------------------- what is shown and exported


def _count(value) -> str:
    return SUPPRESSED if value is None or pd.isna(value) else f"{int(value):,}"


def _pct(value) -> str:
    return "" if value is None or pd.isna(value) else f"{float(value):.1f}%"


def _count_pct(count, pct) -> str:
    """'2,044 (85.8%)'; '[c]' where the count is protected; '2,044 [b]' where its % may not be shown."""
    if count is None or pd.isna(count):
        return SUPPRESSED
    return f"{int(count):,} " + (f"({float(pct):.1f}%)" if not pd.isna(pct) else LOW_BASE)


def _ci(low, high) -> str:
    return "" if pd.isna(low) or pd.isna(high) else f"{float(low):.1f}–{float(high):.1f}"


def square_display(f: Fit, code: str | None = None) -> pd.DataFrame:
    """The 2×2 with margins as text: counts with the % of each need row ('of those with the need')."""
    counts, pcts = f.square(code, "count"), f.square(code, "row_pct")
    out = pd.DataFrame(index=counts.index, columns=counts.columns, dtype=object)
    for r in counts.index:
        for c in counts.columns:
            n = counts.at[r, c]
            out.at[r, c] = _count(n) if c == "All" else _count_pct(n, pcts.at[r, c])
    out.columns.name = None
    return out.reset_index()


def style_square(frame: pd.DataFrame):
    """The two cells the page is about, highlighted as in the charts."""
    def paint(table: pd.DataFrame) -> pd.DataFrame:
        css = pd.DataFrame("", index=table.index, columns=table.columns)
        css.iloc[0, 2] = f"background-color: {UNMET_COLOUR}; font-weight: bold"
        css.iloc[1, 1] = f"background-color: {UNASKED_COLOUR}; font-weight: bold"
        return css
    return frame.style.apply(paint, axis=None)


def breakdown_display(f: Fit) -> pd.DataFrame:
    """One row per category and All: the figures of the breakdown as text, markers where protected."""
    b = f.breakdown
    return pd.DataFrame({
        f.by_label or "Group": b["label"],
        "Pupils": b["pupils"].map(_count),
        "With the need": [_count_pct(n, p) for n, p in zip(b["need"], b["need_pct"])],
        "With contact": [_count_pct(n, p) for n, p in zip(b["contact"], b["contact_pct"])],
        UNMET: [_count_pct(n, p) for n, p in zip(b["unmet"], b["unmet_pct"])],
        "95% CI": [_ci(lo, hi) for lo, hi in zip(b["unmet_low"], b["unmet_high"])],
        UNASKED: [_count_pct(n, p) for n, p in zip(b["unasked"], b["unasked_pct"])],
        "95% CI ": [_ci(lo, hi) for lo, hi in zip(b["unasked_low"], b["unasked_high"])],
    })


BREAKDOWN_HELP = {
    "With the need": "Pupils with the need, and in brackets their % of the group's pupils.",
    "With contact": "Pupils with a service contact, and in brackets their % of the group's pupils.",
    "Need without contact": "Pupils with the need and no service contact recorded (possible unmet need), and in "
                            "brackets their % of those with the need.",
    "Contact without need": "Pupils with a service contact and no reported need, and in brackets their % of those "
                            "with contact.",
}
BREAKDOWN_CAPTION = ("In brackets: with the need and with contact as a % of the group's pupils; need without "
                     "contact as a % of those with the need; contact without need as a % of those with contact. "
                     "95% CI: the range the % would probably fall in with a different set of pupils.")


def breakdown_tidy(f: Fit) -> pd.DataFrame:
    """The breakdown as numbers for files: blanks where protected."""
    b = f.breakdown
    out = pd.DataFrame({
        (f.by_label or "group"): b["label"], "pupils": b["pupils"],
        "with_need": b["need"], "with_need_pct": b["need_pct"],
        "with_contact": b["contact"], "with_contact_pct": b["contact_pct"],
        "need_without_contact": b["unmet"], "need_without_contact_pct_of_need": b["unmet_pct"],
        "need_without_contact_ci_low": b["unmet_low"], "need_without_contact_ci_high": b["unmet_high"],
        "contact_without_need": b["unasked"], "contact_without_need_pct_of_contact": b["unasked_pct"],
        "contact_without_need_ci_low": b["unasked_low"], "contact_without_need_ci_high": b["unasked_high"],
    })
    return _rounded(out)


def cells_tidy(f: Fit) -> pd.DataFrame:
    c = f.cells
    out = pd.DataFrame({
        (f.by_label or "group"): c["by_label"].where(c["by"].notna(), "All"),
        "need": [NEED_ROWS[k if isinstance(k, str) else None] for k in c["need"]],
        "service_contact": [CONTACT_COLS[k if isinstance(k, str) else None] for k in c["contact"]],
        "count": c["count"], "status": c["status"],
        "pct_of_need_row": c["row_pct"], "row_ci_low": c["row_low"], "row_ci_high": c["row_high"],
        "pct_of_contact_column": c["col_pct"], "col_ci_low": c["col_low"], "col_ci_high": c["col_high"],
    })
    return _rounded(out)


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    numeric = [c for c in frame.columns if frame[c].dtype.kind == "f"]
    frame[numeric] = frame[numeric].round(4)
    return frame.reset_index(drop=True)


def markers_used(*frames: pd.DataFrame) -> str:
    """The legend of the markers that appear in these tables."""
    text = " ".join(str(x) for fr in frames for x in fr.to_numpy().ravel())
    return " · ".join(f"{m} {meaning}" for m, meaning in MARKERS.items() if m in text)


def _produced() -> tuple[str, str]:
    return ("Produced", dt.datetime.now().strftime("%Y-%m-%d %H:%M") + " by RCS Explorer")


def fit_notes(f: Fit, source: str) -> list[tuple[str, str]]:
    ctx = f.context
    rows = [
        ("Data", ctx.dataset_title + (" (synthetic sample: not real statistics)" if ctx.synthetic else "")),
        ("Source file", source),
        ("View", "Need against service contact"),
        ("Need", f.need_text), ("Service contact", f.contact_text),
        ("Breakdown", f.by_label or "none"),
        ("Wave and filters", "; ".join(ctx.filters_text) or "none"),
        ("Need without contact", f.unmet_text()),
        ("Contact without reported need", f.unasked_text()),
        ("Disclosure rules", ctx.rules.describe()),
        ("Markers", "; ".join(f"{k} {v}" for k, v in MARKERS.items())),
        _produced(),
    ]
    return [(k, v) for k, v in rows if v != ""] + [("Note", n) for n in ctx.notes]


def money(x) -> str:
    return "" if x is None or pd.isna(x) else f"£{float(x):,.0f}"


def signed_money(x) -> str:
    return ("+" if x > 0 else "−") + money(abs(x))


def _served(children, marker) -> str:
    return SUPPRESSED if marker == SUPPRESSED or pd.isna(children) else f"{int(children):,}"


def _per_child(value, marker) -> str:
    if marker == SUPPRESSED:
        return SUPPRESSED
    return "" if pd.isna(value) else money(value)


def _summary_display(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """A by-tier or by-sector summary as text, protected children served shown as the marker."""
    return pd.DataFrame({
        by.capitalize(): frame[by], "Services": frame["services"],
        "Annual spend": frame["annual_spend_gbp"].map(money), "Share of spend": frame["spend_pct"].map(_pct),
        "Children served": [_served(n, m) for n, m in zip(frame["children_served"], frame["marker"])],
        "Spend per child": [_per_child(v, m) for v, m in zip(frame["spend_per_child"], frame["marker"])],
    })


def tier_display(tiers: pd.DataFrame) -> pd.DataFrame:
    return _summary_display(tiers, "tier")


def sector_display(sectors: pd.DataFrame) -> pd.DataFrame:
    return _summary_display(sectors, "sector")


def grid_display(tier_sector: pd.DataFrame) -> pd.DataFrame:
    """Spend by tier × sector with each tier's sector shares: which sectors carry each tier."""
    spend = services_map.grid(tier_sector, "annual_spend_gbp")
    share = services_map.grid(tier_sector, "tier_spend_pct")
    out = spend.copy().astype(object)
    for r in spend.index:
        for c in spend.columns:
            v = spend.at[r, c]
            out.at[r, c] = "" if pd.isna(v) else money(v) + ("" if c == ALL_SECTORS or pd.isna(share.at[r, c])
                                                              else f" ({share.at[r, c]:.0f}%)")
    out.index.name = "Tier"
    return out.reset_index()


def prevent_display(prevent: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"Group": prevent["group"], "Tiers": prevent["tiers"], "Services": prevent["services"],
                         "Annual spend": prevent["annual_spend_gbp"].map(money),
                         "Share of spend": prevent["spend_pct"].map(_pct)})


def funders_display(shares: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"Tier": shares["tier"], "Main funder": shares["funding_source"],
                         "Services": shares["services"], "Annual spend": shares["annual_spend_gbp"].map(money),
                         "Share of the tier's spend": shares["tier_spend_pct"].map(_pct)})


def service_list_display(services_: pd.DataFrame) -> pd.DataFrame:
    s = services_
    ages = [("" if pd.isna(a) else f"{int(a)}") + "–" + ("" if pd.isna(b) else f"{int(b)}")
            for a, b in zip(s["age_min"], s["age_max"])]
    return pd.DataFrame({
        "Tier": s["tier"], "Service": s["name"], "CPP": s["cpp"], "Sector": s["sector"],
        "Provider": s["provider_type"], "Ages": [a if a != "–" else "" for a in ages],
        "Children served": [_served(n, m) for n, m in zip(s["children_served"], s["marker"])],
        "Annual spend": s["annual_spend_gbp"].map(money),
        "Spend per child": [_per_child(v, m) for v, m in zip(s["spend_per_child"], s["marker"])],
        "Main funder": s["funding_source"],
    })


def services_tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """A services summary for files: numbers, blanks where protected, the marker column kept."""
    out = frame.copy()
    return _rounded(out)


def services_notes(source: str, synthetic: bool, where: str, threshold: int, notes=()) -> list[tuple[str, str]]:
    rows = [
        ("Data", "Services table" + (" (synthetic sample: fictional services, not real spend)" if synthetic else "")),
        ("Source file", source), ("Partnership", where),
        ("Children served", f"Counts of children served from 1 to {threshold - 1} are protected ({SUPPRESSED}), "
                            "in every total too, with any count that would let one be worked out; no spend per "
                            "child is given beside a protected count."),
        ("Spend per child", "Spend ÷ children served: a cost per place, as a child using two services counts in "
                            "both."),
        ("Markers", "; ".join(f"{k} {v}" for k, v in services_map.MARKERS.items())),
        _produced(),
    ]
    return rows + [("Note", n) for n in notes]


def scenario_display(sc: whatif.Scenario) -> pd.DataFrame:
    t = sc.table
    known = t["cost_per_child"].notna()
    return pd.DataFrame({
        "Tier": t["tier"],
        "Spend now": t["spend_before"].map(money), "Spend after": t["spend_after"].map(money),
        "Change in spend": [signed_money(v) if v else "" for v in t["spend_change"]],
        "Cost per child": [money(v) if k else SUPPRESSED for v, k in zip(t["cost_per_child"], known)],
        "Reach now": [f"{v:,.0f}" if k else SUPPRESSED for v, k in zip(t["reach_before"], known)],
        "Reach after": [f"{v:,.0f}" if k else SUPPRESSED for v, k in zip(t["reach_after"], known)],
        "Change in reach": [(f"{v:+,.0f}" if abs(v) >= 0.5 else "0") if k else SUPPRESSED
                            for v, k in zip(t["reach_change"], known)],
    })


SCENARIO_CAPTION = ("Reach: children who could be served a year at the tier's cost per child (spend ÷ children "
                    "served in the table, a cost per place). " + SUPPRESSED + " no cost per child: the tier's "
                    "children served is protected or zero.")


def fiscal_display(fr: whatif.FiscalReturn) -> pd.DataFrame:
    t = fr.table()
    text = []
    for measure, value in zip(t["measure"], t["value"]):
        if pd.isna(value):
            text.append("— (the help costs nothing)")
        elif "(£" in measure:
            text.append(money(value))
        elif measure.startswith("Proportion") or measure == "Discount rate":
            text.append(f"{100 * value:.1f}%")
        elif measure == "Return per £1":
            text.append(f"£{value:,.2f}")
        elif measure == "Outcomes avoided":
            text.append(f"{value:,.1f}")
        else:
            text.append(f"{value:,.0f}")
    return pd.DataFrame({"Measure": t["measure"], "Value": text})


def whatif_notes(sc: whatif.Scenario, source: str, synthetic: bool, where: str,
                 fr: whatif.FiscalReturn | None) -> list[tuple[str, str]]:
    rows = [
        ("Data", "Services table" + (" (synthetic sample: fictional services, not real spend)" if synthetic else "")),
        ("Source file", source), ("Partnership", where), ("View", "Shift upstream: what if"),
        ("Caution", whatif.CAUTION),
        _produced(),
    ]
    rows += [("Assumption", a) for a in sc.assumptions]
    if fr is not None:
        rows += [("Cost-avoided assumption", a) for a in fr.assumptions]
    return rows


def assumptions_frame(sc: whatif.Scenario, fr: whatif.FiscalReturn | None) -> pd.DataFrame:
    rows = [("Shift", a) for a in sc.assumptions] + [("Cost avoided", a) for a in (fr.assumptions if fr else ())]
    return pd.DataFrame(rows, columns=["part", "assumption"])


def downloads(stem: str, csv_frame: pd.DataFrame, sheets: dict[str, pd.DataFrame], notes: list[tuple[str, str]],
              figures: dict[str, object] | None = None, key: str = "", source: str = "") -> None:
    """CSV and Excel (with a Notes sheet) of the figures shown, and PNG/SVG of each chart; built when asked for."""
    if presenter.active():
        return
    figures = figures or {}
    lines = charts.footer(source, session.rules())
    cols = st.columns(4)
    cols[0].download_button("CSV", lambda: export.frame_csv(csv_frame), f"{stem}.csv", "text/csv",
                            icon=":material/download:", on_click="ignore", key=f"n_csv_{key}")
    cols[1].download_button("Excel", lambda: export.workbook(sheets, notes), f"{stem}.xlsx", XLSX,
                            icon=":material/download:", on_click="ignore", key=f"n_xlsx_{key}")
    for i, (name, figure) in enumerate(figures.items()):
        if len(figures) > 1:  # one row per chart, named
            cols = st.columns(4)
            cols[1].caption(f"Chart: {name}")
        file = f"{stem}_{i + 1}" if len(figures) > 1 else stem
        cols[2].download_button("Chart PNG", lambda f=figure: charts.to_png(f, lines), f"{file}.png", "image/png",
                                icon=":material/image:", on_click="ignore", key=f"n_png_{key}_{i}")
        cols[3].download_button("Chart SVG", lambda f=figure: charts.to_svg(f, lines), f"{file}.svg", "image/svg+xml",
                                icon=":material/image:", on_click="ignore", key=f"n_svg_{key}_{i}")


def whatif_inputs_default(view: NeedView) -> dict:
    """The cost-avoided inputs, as `whatif.fiscal_return` takes them: placeholders left as None, so flagged."""
    avoid = None if math.isclose(view.avoided_pct, 100 * whatif.PLACEHOLDER_PROPORTION) else view.avoided_pct / 100
    cost = None if math.isclose(view.outcome_cost, whatif.PLACEHOLDER_UNIT_COST) else view.outcome_cost
    return {"proportion_avoided": avoid, "unit_cost": cost, "years": int(view.years)}


__all__ = ["ALL_CPPS", "breakdown_display", "breakdown_tidy", "cells_tidy", "fit", "fit_notes", "section_picker",
           "services", "services_scope", "services_synthetic", "sidebar", "square_display", "sync", "write_url"]
