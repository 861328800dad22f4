"""Stories kept in the server store, so a saved list survives a reload, a restart and a second server process.

Pure: no Streamlit. A story is the saved-views list (the same JSON as its
export file, plus when it was last changed) under kind "story" and a random id
that is also its link (`/story?id=...`): whoever has the link can open and play
it. Its owner — the browser that made it, until the app has sign-in — is the
store's owner column, which is never part of the link or of the document, so a
shared link lets a colleague play a story but not change it.

A document read back is checked as strictly as an imported file
(`model.from_json`), so a page renamed since, or a row edited by hand, gives a
SavedViewsError, never a broken page.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime, timezone
from typing import Collection

from rcs_viz.features.story import model as sv

KIND = "story"
_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_id() -> str:
    """A story's id: 128 random bits, URL-safe, so a link cannot be guessed from another."""
    return secrets.token_urlsafe(16)


def valid_id(text) -> bool:
    """Whether text has the shape of a story or browser id (anything else never reaches the store)."""
    return isinstance(text, str) and _ID.fullmatch(text) is not None


def _views(doc: dict, pages: Collection[str]) -> tuple[sv.SavedView, ...]:
    return sv.from_json(json.dumps({k: v for k, v in doc.items() if k != "updated"}), pages)


def keep(store, story_id: str, owner: str, views) -> None:
    """Save the list as story `story_id` of `owner` (replacing what was there)."""
    doc = json.loads(sv.to_json(views))
    for raw, view in zip(doc["views"], views):  # pairs, not an object: the store sorts keys, a link keeps its order
        raw["params"] = [[k, list(vs)] for k, vs in view.params]
    doc["updated"] = datetime.now(timezone.utc).isoformat(timespec="microseconds")
    store.put(KIND, story_id, doc, owner=owner)


def load(store, story_id: str, pages: Collection[str]) -> tuple[sv.SavedView, ...] | None:
    """Story `story_id`'s views, or None when the store has no such story."""
    if not valid_id(story_id):
        return None
    doc = store.get(KIND, story_id)
    return None if doc is None else _views(doc, pages)


def owned(store, owner: str) -> list[str]:
    """The ids of `owner`'s stories, the most recently changed first."""
    if not valid_id(owner):
        return []
    found = store.list(KIND, owner=owner)
    return [key for key, doc in sorted(found, key=lambda kd: str(kd[1].get("updated", "")), reverse=True)]


def owns(store, owner: str, story_id: str) -> bool:
    return story_id in owned(store, owner)


def latest(store, owner: str, pages: Collection[str]) -> tuple[str | None, tuple[sv.SavedView, ...]]:
    """The owner's most recently changed story, as (id, views); (None, ()) when they have none yet."""
    ids = owned(store, owner)
    if not ids:
        return None, ()
    return ids[0], load(store, ids[0], pages) or ()
