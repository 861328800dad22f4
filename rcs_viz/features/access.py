"""Who may open what, once people sign in: pure policy, no Streamlit (the screens are `rcs_viz.ui.access`).

Two roles, from the data owner's `access:` setting (`rcs_viz.config.Access`):

- an **explorer** holds the data rights: builds any view, on every page;
- a **viewer** opens what explorers published: the story page (a shared
  story's link, played step by step) and its steps, which are Explore,
  Compare or Need pages in presenter mode showing exactly a saved view of a
  story kept on the server. The query builder itself (those pages with any
  other settings, or out of presenter mode) is refused, whatever the link.

Signed in but on neither list: no role, and nothing opens.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from rcs_viz.config import Access
from rcs_viz.features.link import MODE_KEYS

EXPLORER = "explorer"
VIEWER = "viewer"
QUERY_PAGES = frozenset({"explore", "compare", "need"})  # the query builder: widgets that build any view
VIEWER_PAGES = frozenset({"story"})  # what a viewer may open with any link


def email_of(user: Mapping) -> str:
    """The signed-in user's e-mail address as the identity provider gave it, in lower case ("" if none)."""
    email = user.get("email")
    return email.strip().lower() if isinstance(email, str) else ""


def groups_of(user: Mapping, claim: str | None) -> frozenset[str]:
    """The groups the identity provider lists for the user in `claim` (a list, or one name)."""
    if claim is None:
        return frozenset()
    value = user.get(claim)
    if isinstance(value, str):
        return frozenset({value})
    if isinstance(value, (list, tuple)):
        return frozenset(v for v in value if isinstance(v, str))
    return frozenset()


def _listed(entries: Sequence[str], email: str, groups: frozenset[str]) -> bool:
    for entry in entries:
        if "@" not in entry:
            if entry in groups:
                return True
        elif entry.startswith("@"):
            if email and email.endswith(entry) and email.count("@") == 1:
                return True
        elif entry == email:
            return True
    return False


def role(access: Access, user: Mapping) -> str | None:
    """The signed-in user's role under `access`: EXPLORER, VIEWER, or None (not listed: refused).

    `user` holds the identity provider's claims (st.user): `email`, and the
    group claim when the owner named one. Explorer wins for someone on both lists.
    """
    email, groups = email_of(user), groups_of(user, access.group_claim)
    if _listed(access.explorers, email, groups):
        return EXPLORER
    if _listed(access.viewers, email, groups):
        return VIEWER
    return None


def may_open(role_: str | None, page: str, *, saved_step: bool = False) -> bool:
    """Whether someone of `role_` may open `page` (a router url path, "" the overview).

    `saved_step`: the link shows exactly a step of a story kept on the server,
    in presenter mode (see `is_saved_step`); only that lets a viewer onto a query page.
    """
    if role_ == EXPLORER:
        return True
    if role_ == VIEWER:
        return page in VIEWER_PAGES or (page in QUERY_PAGES and saved_step)
    return False


def is_saved_step(page: str, params: Mapping[str, Sequence[str]], views) -> bool:
    """Whether a link to `page` is step k of the story whose views are `views`, shown as saved, in presenter mode.

    The link must say `present=1`, `story=k` with 1 <= k <= len(views), and
    carry step k's settings and nothing else (each setting's values in the
    saved order), on step k's own page. `views` are the story's SavedViews
    as read from the server store for the link's `sid`.
    """
    if list(params.get("present", ())) != ["1"] or len(params.get("story", ())) != 1:
        return False
    k = params["story"][0]
    if not k.isdigit() or not 1 <= int(k) <= len(views):
        return False
    view = views[int(k) - 1]
    settings = {key: list(values) for key, values in params.items() if key not in MODE_KEYS}
    return view.page == page and settings == {key: list(values) for key, values in view.params}
