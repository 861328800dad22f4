"""Saved views and story mode on every page: a "Save this view" control and the story bar.

The list lives in the browser session (`st.session_state["saved_views"]`, a
tuple of SavedView) and travels between machines as a file (see
app_pages/story.py). A story step is an ordinary page URL plus two mode keys:
`present=1` (presenter mode) and `story=k` (this is step k of the list), so a
step is reached by switching to the view's page with its own parameters.
"""

from __future__ import annotations

import html
from dataclasses import replace

import streamlit as st

from rcs_viz.output.markdown import escape
from rcs_viz.ui import presenter
from rcs_viz.ui.pages import SAVEABLE as PAGES
from rcs_viz.features.story import model as sv

KEY = "saved_views"

def saved() -> tuple[sv.SavedView, ...]:
    return tuple(st.session_state.get(KEY, ()))


def store(views) -> None:
    st.session_state[KEY] = tuple(views)


def current_params() -> dict[str, list[str]]:
    return {k: st.query_params.get_all(k) for k in st.query_params.keys()}


def presenting() -> bool:
    return presenter.active()


def go(view: sv.SavedView, step: int | None = None) -> None:
    """Switch to a saved view; as story step `step` (1-based) in presenter mode when given."""
    extra = {presenter.KEY: "1", "story": str(step)} if step else {}
    params: dict[str, list[str]] = {}
    for k, v in sv.query(view, **extra):
        params.setdefault(k, []).append(v)
    st.switch_page(PAGES[view.page].file, query_params=params)


# --- on every page ----------------------------------------------------------------------------------------

def _save(page: str) -> None:
    ss = st.session_state
    name = ss.get("save_view_name", "")
    try:
        view = sv.make(name.strip() or PAGES[page].title, page, current_params(), PAGES, what="This view")
        if not name.strip():  # no name given: the page and its settings
            auto = f"{PAGES[page].title}: {sv.describe(view)}"
            view = replace(view, name=auto if len(auto) <= sv.MAX_NAME else auto[:sv.MAX_NAME - 1] + "…")
        store(sv.add(saved(), view))
    except sv.SavedViewsError as err:
        ss["save_view_error"] = str(err)
        return
    ss["save_view_done"] = view.name


def save_control(page: str) -> None:
    """A small "Save this view" popover: a name and a button that add this page's state to the list."""
    if presenting() or page not in PAGES:
        return
    ss = st.session_state
    with st.popover("Save this view", icon=":material/bookmark_add:"):
        with st.form("save_view_form", clear_on_submit=True, border=False):
            st.text_input("Name", key="save_view_name", max_chars=sv.MAX_NAME,
                          placeholder="e.g. Deprivation by sex")
            st.form_submit_button("Save", icon=":material/bookmark_add:", on_click=_save, args=(page,))
        st.caption(f"Kept in this browser session ({len(saved())} saved). "
                   "Export the list from *Saved views and story* to keep it.")
        if "save_view_error" in ss:
            st.error(escape(ss.pop("save_view_error")), icon=":material/error:")
    if "save_view_done" in ss:
        st.toast(f"Saved “{escape(ss.pop('save_view_done'))}”", icon=":material/bookmark_added:")


def _end() -> None:
    for key in presenter.CARRIED:
        st.query_params.pop(key, None)


def bar(page: str) -> None:
    """While a story plays (`story=k` in the URL): step k of n, its title and note, and the way on."""
    raw = st.query_params.get("story")
    if raw is None:
        return
    views = saved()
    k = int(raw) if raw.isdigit() else 0
    if not 1 <= k <= len(views):
        with st.container(border=True):
            st.warning("This link is a step of a story, but this browser session holds no such step. "
                       "Stories live in the session that made them: open *Saved views and story* and import "
                       "the list to play it here.", icon=":material/slideshow:")
            st.button("End story", key="story_end", icon=":material/stop:", on_click=_end)
        return
    n, view = len(views), views[k - 1]
    with st.container(border=True, key="story_bar"):
        heading = f"Step {k} of {n}" + (f" · {view.title or view.name}")
        note = (f'<div style="font-size:1.7rem;line-height:1.35;white-space:pre-wrap;margin-top:.4rem">'
                f"{html.escape(view.note)}</div>") if view.note else ""
        st.html(f'<div data-testid="story-step" style="font-size:1.35rem;font-weight:600">{html.escape(heading)}'
                f"</div>{note}")
        prev_col, next_col, _, end_col = st.columns([1, 1, 3, 1], vertical_alignment="center")
        back = prev_col.button("← Previous", key="story_prev", shortcut="Left", disabled=k == 1,
                               width="stretch")
        on = next_col.button("Next →", key="story_next", shortcut="Right", disabled=k == n,
                             type="primary", width="stretch")
        end_col.button("End story", key="story_end", icon=":material/stop:", on_click=_end, width="stretch")
    if back:
        go(views[k - 2], k - 1)
    if on:
        go(views[k], k + 1)
