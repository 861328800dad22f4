"""Sign-in and roles on screen: the gate the router runs before any page (policy: `rcs_viz.features.access`).

Sign-in is Streamlit's own (`st.login`, OpenID Connect with the
organisation's identity provider), configured by the data owner in
`.streamlit/secrets.toml` `[auth]`; who may do what is the `access:` setting
of `rcs_explorer.yaml`. With neither, the app is open as it always was (and
listens on localhost only). With either, nothing opens until someone has
signed in and is on one of the lists:

- `[auth]` without `access:` — everyone who signs in is refused, with a note
  for the data owner (no list, no one);
- `access:` without `[auth]` — nobody can sign in; the screen says what is
  missing (a lost secrets file never opens the app to all).

Who the user is comes only from `st.user`, which Streamlit fills from its
signed identity cookie; AppTest sets it with `at.user` (see tests/app/test_access.py).
"""

from __future__ import annotations

import hashlib
import logging

import streamlit as st

from rcs_viz import config as config_mod
from rcs_viz.engine.store_error import StoreError
from rcs_viz.features import access as policy
from rcs_viz.features.story import kept, model as sv
from rcs_viz.output.markdown import escape
from rcs_viz.ui import presenter, session
from rcs_viz.ui.pages import ALL, SAVEABLE, STORY

_LOG = logging.getLogger(__name__)
OPEN = "open"  # no sign-in configured: every page, as before sign-in existed
ROLE = "rcs_role"  # this run's role, for screens that differ by role (the gate itself never reads it back)


def _user() -> dict:
    return st.user.to_dict()


def email() -> str:
    """The signed-in user's e-mail address in lower case; "" when nobody is signed in."""
    user = _user()
    return policy.email_of(user) if user.get("is_logged_in") else ""


def owner_id() -> str | None:
    """A stable id for the signed-in user's saved views (a digest of their address), or None when not signed in."""
    address = email()
    return "user_" + hashlib.sha256(address.encode("utf-8")).hexdigest()[:40] if address else None


def current() -> str | None:
    """The role the gate found for this run (OPEN, EXPLORER or VIEWER), for screens that differ by role."""
    return st.session_state.get(ROLE)


def may_build() -> bool:
    """Whether this run's user may change a view (a filter while presenting, say): without sign-in, or an explorer.

    A viewer sees stories' steps exactly as saved, and a page run without the router's gate has no role: neither
    is offered a control that builds a view (the gate would refuse the view it made anyway).
    """
    return current() in (OPEN, policy.EXPLORER)


def who() -> str | None:
    """This session's role: OPEN without sign-in, else the signed-in user's; None once the screen says why not."""
    st.session_state.pop(ROLE, None)
    try:
        access = session.config().access
    except config_mod.ConfigError as err:  # fail closed; the details (paths) go to the owner's log, not the screen
        _LOG.error("%s", err)
        st.title("RCS Explorer")
        st.error("The server's configuration cannot be used, so nothing opens. The data owner will find why in "
                 "the server's log.", icon=":material/error:")
        return None
    user = _user()
    if access is None and "is_logged_in" not in user:
        found = OPEN
    elif "is_logged_in" not in user:
        st.title("RCS Explorer")
        st.error("This server asks everyone to sign in (`access:` in rcs_explorer.yaml), but sign-in is not set up: "
                 "the data owner must add the identity provider to `.streamlit/secrets.toml` under `[auth]` (see "
                 "the README, *Sign-in and roles*).", icon=":material/lock:")
        return None
    elif not user["is_logged_in"]:
        _sign_in()
        return None
    elif access is None or (found := policy.role(access, user)) is None:
        _refuse_person(access is None)
        return None
    st.session_state[ROLE] = found
    return found


def visible(role: str | None) -> frozenset[str] | None:
    """The pages shown in the menu for `role` (None: all of them)."""
    if role in (OPEN, policy.EXPLORER):
        return None
    return frozenset(p.url_path for p in ALL if role == policy.VIEWER and p.url_path in policy.VIEWER_PAGES)


def admit(role: str, page: str) -> bool:
    """Whether this run may draw `page` (its url path) for `role`; if not, a plain refusal is drawn instead."""
    if role in (OPEN, policy.EXPLORER):
        _signed_in_bar(role)
        return True
    if policy.may_open(role, page, saved_step=page in policy.QUERY_PAGES and _saved_step(page)):
        _signed_in_bar(role)
        return True
    if page == "":  # a viewer opening the app's address: their place is the story page
        st.switch_page(STORY.file)
    st.title("Not open to viewers")
    st.warning("This link opens the query builder, where any view of the data can be made. Your role on this "
               "server is **viewer**: you can open the stories that explorers share with you, and play their "
               "steps, but not build views. Ask the data owner if you need to explore.", icon=":material/block:")
    st.page_link(STORY.file, label="Saved views and story", icon=STORY.icon)
    _signed_in_bar(role)
    return False


def _saved_step(page: str) -> bool:
    """Whether this run's link is a step of a story kept on the server, exactly as saved, in presenter mode."""
    sid = st.query_params.get("sid")
    if not kept.valid_id(sid):
        return False
    try:
        views = kept.load(session.store(), sid, SAVEABLE)
    except (StoreError, sv.SavedViewsError):
        return False
    params = {k: st.query_params.get_all(k) for k in st.query_params.keys()}
    return views is not None and policy.is_saved_step(page, params, views)


def _sign_in() -> None:
    st.title("RCS Explorer")
    st.write("Sign in with your organisation's account to open the data.")
    if st.button("Sign in", type="primary", icon=":material/login:", key="sign_in"):
        st.login()


def _refuse_person(no_lists: bool) -> None:
    st.title("RCS Explorer")
    if no_lists:
        why = ("Sign-in is set up, but rcs_explorer.yaml names nobody who may use the app (`access:` with "
               "`explorers` and `viewers`), so nobody is let in.")
    else:
        why = "Your account is not on this server's lists of explorers or viewers."
    st.error(f"Signed in as {escape(email() or 'an account without an e-mail address')}. {why} "
             "Ask the data owner for access.", icon=":material/block:")
    st.button("Sign out", key="sign_out", icon=":material/logout:", on_click=st.logout)


def _signed_in_bar(role: str) -> None:
    """Who is signed in, as what, and the way out, at the foot of the sidebar (none without sign-in, or presenting)."""
    if role == OPEN or presenter.active():
        return
    with st.sidebar:
        st.caption(f"Signed in as {escape(email())} ({role})")
        st.button("Sign out", key="sign_out", icon=":material/logout:", on_click=st.logout)
