"""Saved views and story mode on every page: a "Save this view" control and the story bar.

The list is kept in the server store (`session.store()`: SQLite by default,
PostgreSQL when configured) as a story with its own id and link
(`/story?id=...`, see `rcs_viz.features.story.kept`), so it survives a reload,
a restart and a second server process. `st.session_state["saved_views"]` holds
this session's copy (a tuple of SavedView), written through to the store on
every change; it still travels between machines as a file (app_pages/story.py).

Whose list it is: with sign-in, the signed-in user's (on any browser);
without, the browser's. A random id is
kept in a cookie (`rcs_browser`, set by a small script the first time this
browser saves, SameSite=Strict, a year), read from the request on each new
session. A cookie rather than the link, because links are made to be shared:
an owner id in every view's link would hand the list, to change or delete,
to whoever was sent a view. A colleague opens a story by its own link and may
play it or copy it into their own list, not change it.

A story step is an ordinary page URL plus mode keys: `present=1` (presenter
mode), `story=k` (step k) and, for a story kept on the server, `sid` (its id),
so a step link opens on any machine and after a reload.
"""

from __future__ import annotations

import html
import threading
from dataclasses import replace

import streamlit as st

from rcs_viz.engine.store_error import StoreError
from rcs_viz.output.markdown import escape
from rcs_viz.features import access as policy
from rcs_viz.ui import access, presenter, session
from rcs_viz.ui.pages import SAVEABLE as PAGES
from rcs_viz.features.story import kept, model as sv

KEY = "saved_views"
STORY = "story_id"  # the id of this session's own story in the store, once it has one
OWNER = "rcs_browser_id"
COOKIE = "rcs_browser"
COOKIE_DAYS = 365
PROBLEM = "story_store_problem"


# --- whose list, and where it is kept ------------------------------------------------------------------------

def _cookie() -> str | None:
    try:
        return st.context.cookies.get(COOKIE)
    except Exception:  # no browser (a bare script run): no cookie  # noqa: BLE001
        return None


def owner() -> str:
    """This browser's id: its cookie's, or a new one (which `remember_browser` then stores in a cookie)."""
    ss = st.session_state
    signed_in = access.owner_id()
    if signed_in is not None:  # with sign-in, the list is the user's, on any browser
        ss[OWNER], ss[OWNER + "_new"] = signed_in, False
    elif OWNER not in ss:
        cookie = _cookie()
        ss[OWNER] = cookie if kept.valid_id(cookie) else kept.new_id()
        ss[OWNER + "_new"] = not kept.valid_id(cookie)
    return ss[OWNER]


def remember_browser() -> None:
    """Give a browser without the cookie one, so its list is found again after a reload (once per session)."""
    owner()
    ss = st.session_state
    if ss.get(OWNER + "_new"):
        ss[OWNER + "_new"] = False
        # the id is [A-Za-z0-9_-] only (kept.valid_id), so it needs no quoting inside the script
        st.html(f"""<script>document.cookie = "{COOKIE}={ss[OWNER]}; path=/; max-age={COOKIE_DAYS * 86400}; "
                + "SameSite=Strict" + (location.protocol === "https:" ? "; Secure" : "");</script>""",
                unsafe_allow_javascript=True, width="content")


def _store():
    """The server store, or None (and a note for `problem`) when it cannot be used."""
    try:
        return session.store()
    except StoreError as err:
        st.session_state[PROBLEM] = str(err)
        return None


def problem() -> None:
    """Say so when the list could not be kept on the server (it is then kept in this browser session only)."""
    if PROBLEM in st.session_state:  # until a later write reaches the store
        st.warning("Saved views are kept in this browser session only, not on the server: "
                   f"{escape(st.session_state[PROBLEM])}. Export the list to keep it.", icon=":material/warning:")


def saved() -> tuple[sv.SavedView, ...]:
    """This session's list: on the first call, this browser's latest story from the store."""
    ss = st.session_state
    if KEY not in ss:
        ss[KEY], ss[STORY] = (), None
        where = _store()
        if where is not None:
            try:
                ss[STORY], ss[KEY] = kept.latest(where, owner(), PAGES)
                ss.pop(PROBLEM, None)
            except (StoreError, sv.SavedViewsError) as err:
                ss[PROBLEM] = f"your list could not be read back ({err})"
    return tuple(ss[KEY])


def store(views) -> None:
    """Replace this session's list, and keep it in the server store under its story id (a new one the first time)."""
    ss = st.session_state
    ss[KEY] = tuple(views)
    if access.current() == policy.VIEWER:
        # Only explorers publish: a story in the store is one a viewer may play (rcs_viz.features.access), so a
        # viewer's own list (copied or imported, with any settings a file can hold) is never kept there.
        ss[PROBLEM] = "with the viewer role, your own list is not kept on the server and its steps do not open"
        return
    where = _store()
    if where is None:
        return
    sid = ss.get(STORY) or kept.new_id()
    try:
        kept.keep(where, sid, owner(), ss[KEY])
    except StoreError as err:
        ss[PROBLEM] = str(err)
        return
    ss[STORY] = sid
    ss.pop(PROBLEM, None)


def story_id() -> str | None:
    """The id (and so the link) of this session's own story, once it has been kept."""
    return st.session_state.get(STORY)


def open_link(sid: str) -> tuple[tuple[sv.SavedView, ...], bool] | None:
    """The story a link names, and whether it is this browser's (then it becomes this session's list); None if none."""
    where = _store() if kept.valid_id(sid) else None
    if where is None:
        return None
    try:
        views = kept.load(where, sid, PAGES)
        if views is None:
            return None
        mine = kept.owns(where, owner(), sid)
    except (StoreError, sv.SavedViewsError) as err:
        st.session_state[PROBLEM] = f"the story could not be read ({err})"
        return None
    if mine:
        st.session_state[KEY], st.session_state[STORY] = views, sid
    return views, mine


def link(sid: str) -> str:
    """The story's link as a colleague can open it: this server's address when the browser said it."""
    here = ""
    try:
        here = st.context.url or ""
    except Exception:  # noqa: BLE001
        pass
    base = here.split("?")[0].rsplit("/", 1)[0] if "://" in here else ""
    return f"{base}/{'story'}?id={sid}"


def current_params() -> dict[str, list[str]]:
    return {k: st.query_params.get_all(k) for k in st.query_params.keys()}


def presenting() -> bool:
    return presenter.active()


def go(view: sv.SavedView, step: int | None = None, sid: str | None = None) -> None:
    """Switch to a saved view; as step `step` (1-based) of story `sid` in presenter mode when given."""
    extra = {presenter.KEY: "1", "story": str(step)} if step else {}
    if step and sid:
        extra["sid"] = sid
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
        where = "in this browser session" if PROBLEM in ss else "on the server for this browser"
        st.caption(f"Kept {where} ({len(saved())} saved); *Saved views and story* gives the list a link to share.")
        problem()
        if "save_view_error" in ss:
            st.error(escape(ss.pop("save_view_error")), icon=":material/error:")
    if ss.get(OWNER + "_new"):
        remember_browser()
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
    sid = st.query_params.get("sid")
    if sid is not None and sid != story_id():
        found = open_link(sid)
        views = found[0] if found else ()
    else:
        views = saved()
    k = int(raw) if raw.isdigit() else 0
    if not 1 <= k <= len(views):
        with st.container(border=True):
            st.warning("This link is a step of a story, but the story it names holds no such step: it may have "
                       "been shortened or deleted, or the link is incomplete. Open *Saved views and story* to see "
                       "the stories you have.", icon=":material/slideshow:")
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
        go(views[k - 2], k - 1, sid)
    if on:
        go(views[k], k + 1, sid)


# --- the story as a deck to hand round ------------------------------------------------------------------------

_DECKS: dict = {}  # the last few decks made, by what they were made from: PowerPoint and PDF share one build
_DECKS_LOCK = threading.Lock()
PPTX, PDF = "application/vnd.openxmlformats-officedocument.presentationml.presentation", "application/pdf"


def _deck_file(ds, views, rules, comps, title: str, source: str, fmt: str) -> bytes:
    """The deck as a file, made when a button asks for it (outside the page run: everything it needs is passed)."""
    from rcs_viz.features.story import deck
    from rcs_viz.output import deck as slides

    key = (str(ds.db_path), tuple(views), rules, comps.source, title, source)
    with _DECKS_LOCK:  # one build at a time: two clicks on the same story wait for one deck
        built = _DECKS.get(key)
        if built is None:
            titles = {path: page.title for path, page in PAGES.items()}
            built = deck.build(ds, views, rules, title=title, source=source, page_titles=titles, comps=comps)
            _DECKS[key] = built
            while len(_DECKS) > 4:
                _DECKS.pop(next(iter(_DECKS)))
    return slides.to_pptx(built) if fmt == "pptx" else slides.to_pdf(built)


def deck_downloads(views, key: str) -> None:
    """PowerPoint and PDF of the story, to hand round after a workshop: a cover with the rules, a slide per view.

    Each step is made again under presenter mode's full protection, as the story plays to a room; the files
    are built only when a button is clicked. Not offered while presenting.
    """
    if presenting() or not views:
        return
    from rcs_viz.features.story.deck import file_stem

    ds = session.dataset()
    rules, comps = presenter.protect(session.config().rules), session.comparators()
    first = views[0].title or views[0].name
    title = st.text_input("Title of the deck", value=f"Story: {first}", max_chars=sv.MAX_NAME, key=f"{key}_deck_title")
    title = title.strip() or f"Story: {first}"
    stem = file_stem(title)
    cols = st.columns([1, 1, 2], vertical_alignment="bottom")
    cols[0].download_button("Deck (PowerPoint)", lambda: _deck_file(ds, views, rules, comps, title, ds.source.name,
                                                                   "pptx"),
                            f"{stem}.pptx", PPTX, icon=":material/slideshow:", on_click="ignore", key=f"{key}_pptx",
                            width="stretch")
    cols[1].download_button("Deck (PDF)", lambda: _deck_file(ds, views, rules, comps, title, ds.source.name, "pdf"),
                            f"{stem}.pdf", PDF, icon=":material/picture_as_pdf:", on_click="ignore",
                            key=f"{key}_pdf", width="stretch")
    cols[2].caption("A slide per view with its chart, figures, note and filters in words, under full protection "
                    "(as the story plays). Made when clicked: a few seconds.")


# --- a story opened from a colleague's link -------------------------------------------------------------------

def _copy(views) -> None:
    mine = saved()
    if len(mine) + len(views) > sv.MAX_VIEWS:
        st.session_state["sv_error"] = (f"Adding {len(views)} views to your {len(mine)} would pass the limit of "
                                        f"{sv.MAX_VIEWS}.")
        return
    store(mine + tuple(views))
    st.session_state["sv_copied"] = len(views)


def _mine() -> None:
    st.query_params.pop("id", None)


def shared(sid: str, views, label) -> None:
    """A story someone else keeps: play it, open its views, export it, or copy it into this browser's list."""
    st.info(f"A shared story of {len(views)} view(s). You can play it, open its views or export it; to change it, "
            "copy it into your own list.", icon=":material/share:")
    cols = st.columns(4, vertical_alignment="bottom")
    if cols[0].button("Play story", key="sh_play", type="primary", icon=":material/slideshow:", disabled=not views,
                      width="stretch"):
        go(views[0], 1, sid)
    cols[1].button("Copy into my list", key="sh_copy", icon=":material/content_copy:", on_click=_copy,
                   args=(views,), disabled=not views, width="stretch")
    cols[2].download_button("Export the list", data=sv.to_json(views), file_name="rcs_story.json",
                            mime="application/json", icon=":material/download:", on_click="ignore",
                            disabled=not views, key="sh_export", width="stretch")
    cols[3].button("My own list", key="sh_mine", icon=":material/bookmarks:", on_click=_mine, width="stretch")
    deck_downloads(views, "sh")
    if "sv_copied" in st.session_state:
        st.success(f"Copied {st.session_state.pop('sv_copied')} view(s) to the end of your list.",
                   icon=":material/check_circle:")
    for i, view in enumerate(views):
        with st.container(border=True, key=f"sh_view_{i}"):
            left, right = st.columns([3, 1], vertical_alignment="center")
            left.markdown(f"**{i + 1}. {escape(view.title or view.name)}**")
            left.caption(f"**{PAGES[view.page].title}** · " + escape(sv.describe(view, label)))
            if view.note:
                left.caption(escape(view.note))
            if right.button("Open", key=f"sh_open_{i}", icon=":material/open_in_new:", width="stretch"):
                # a viewer sees a saved view only as its story's step (rcs_viz.features.access)
                go(view, *((i + 1, sid) if access.current() == policy.VIEWER else ()))
            if right.button("Play from here", key=f"sh_play_{i}", icon=":material/play_arrow:", width="stretch"):
                go(view, i + 1, sid)
