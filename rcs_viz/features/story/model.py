"""Saved views: named page states kept in a list, played back as a story.

Pure: no Streamlit. A saved view is a page (the router's url path) and that
page's query parameters — the view is its URL, so nothing else is needed to
reproduce it. The list is a tuple; every operation returns a new one.

A list file comes from elsewhere (a presenter's laptop, an email) and is
untrusted: `from_json` reads it in full or not at all, and never raises
anything but `SavedViewsError`, whose message names the problem in plain
words. Names, titles and notes are kept as text; whoever shows them must
escape them.
"""

from __future__ import annotations

import json
import unicodedata
import urllib.parse
from dataclasses import dataclass, replace
from typing import Callable, Collection, Iterable, Mapping, Sequence

from rcs_viz.features.link import MODE_KEYS

FORMAT = "rcs-explorer-views"
VERSION = 1
MAX_BYTES = 256 * 1024
MAX_VIEWS = 200
MAX_NAME = 200  # a view's name and a step's title
MAX_NOTE = 1000
MAX_PARAMS = 60  # keys in one view's URL
MAX_VALUES = 100  # values of one key
MAX_PARAM_LENGTH = 500  # one key or value

FIELDS = ("name", "page", "params", "title", "note")

Params = tuple[tuple[str, tuple[str, ...]], ...]


class SavedViewsError(ValueError):
    """A saved-views list or edit that cannot be used, said in plain words."""


@dataclass(frozen=True)
class SavedView:
    """A page and its whole state, with a name for the list and an optional title and note for a story."""

    name: str
    page: str  # the router's url path: "" is the overview
    params: Params = ()
    title: str = ""
    note: str = ""

    def as_dict(self) -> dict[str, list[str]]:
        return {k: list(vs) for k, vs in self.params}


# --- text -------------------------------------------------------------------------------------------------

_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def _clean(text: str, multiline: bool = False) -> str:
    """Control and direction-override characters out; one line unless multiline."""
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = ["".join(ch for ch in line if not _hidden(ch)).rstrip() for line in text.split("\n")]
        return "\n".join(lines).strip()
    return " ".join("".join(" " if ch.isspace() else ("" if _hidden(ch) else ch) for ch in text).split())


def _hidden(ch: str) -> bool:
    return ch in _BIDI or (unicodedata.category(ch) == "Cc" and ch != "\t")


def _short(text: str, n: int = 40) -> str:
    return repr(text if len(text) <= n else text[:n] + "…")


def _text(value, what: str, limit: int, multiline: bool = False, required: bool = False) -> str:
    if not isinstance(value, str):
        raise SavedViewsError(f"{what} must be text, not {_kind(value)}.")
    text = _clean(value, multiline)
    if required and not text:
        raise SavedViewsError(f"{what} is empty: give it a name.")
    if len(text) > limit:
        raise SavedViewsError(f"{what} is {len(text):,} characters long; the limit is {limit:,}.")
    return text


def _kind(value) -> str:
    return {dict: "a group of fields", list: "a list", bool: "true/false", type(None): "empty (null)",
            int: "a number", float: "a number", str: "text"}.get(type(value), type(value).__name__)


# --- building and editing ---------------------------------------------------------------------------------

def _params(params, what: str) -> Params:
    """A URL's parameters as ((key, (value, ...)), ...), mode keys dropped, every part checked."""
    if isinstance(params, Mapping):
        items = list(params.items())
    elif isinstance(params, (list, tuple)) and all(isinstance(p, (list, tuple)) and len(p) == 2 for p in params):
        items = [tuple(p) for p in params]
    else:
        raise SavedViewsError(f"{what}: the settings must be a group of named values, not {_kind(params)}.")
    if len(items) > MAX_PARAMS:
        raise SavedViewsError(f"{what} has {len(items)} settings; the limit is {MAX_PARAMS}.")
    out, seen = [], set()
    for key, values in items:
        if not isinstance(key, str) or not key or len(key) > MAX_PARAM_LENGTH or any(_hidden(c) for c in key):
            raise SavedViewsError(f"{what} has a setting with an unusable name {_short(str(key))}.")
        if isinstance(values, str):
            values = (values,)
        if not isinstance(values, (list, tuple)):
            raise SavedViewsError(f"{what}: setting {_short(key)} must be text or a list of text, "
                                  f"not {_kind(values)}.")
        if len(values) > MAX_VALUES:
            raise SavedViewsError(f"{what}: setting {_short(key)} has {len(values)} values; "
                                  f"the limit is {MAX_VALUES}.")
        for v in values:
            if not isinstance(v, str):
                raise SavedViewsError(f"{what}: setting {_short(key)} must be text, not {_kind(v)}.")
            if len(v) > MAX_PARAM_LENGTH or any(_hidden(c) for c in v):
                raise SavedViewsError(f"{what}: setting {_short(key)} has an unusable value {_short(v)}.")
        if key in MODE_KEYS or not values:
            continue
        if key in seen:
            raise SavedViewsError(f"{what}: setting {_short(key)} is given twice.")
        seen.add(key)
        out.append((key, tuple(values)))
    return tuple(out)


def make(name: str, page: str, params, pages: Collection[str], title: str = "", note: str = "",
         what: str = "The view") -> SavedView:
    """A checked SavedView; `params` is a mapping or pairs of key → value(s), as st.query_params gives them."""
    name = _text(name, f"{what}'s name", MAX_NAME, required=True)
    label = f"{what} ({_short(name)})"
    if not isinstance(page, str) or page not in pages:
        raise SavedViewsError(f"{label} opens a page this app does not have: {_short(str(page))}.")
    return SavedView(name=name, page=page, params=_params(params, label),
                     title=_text(title, f"{label}: the title", MAX_NAME),
                     note=_text(note, f"{label}: the note", MAX_NOTE, multiline=True))


def _at(views: Sequence[SavedView], i: int) -> SavedView:
    if not isinstance(i, int) or not 0 <= i < len(views):
        raise SavedViewsError(f"There is no saved view number {i + 1 if isinstance(i, int) else i}.")
    return views[i]


def add(views: Sequence[SavedView], view: SavedView) -> tuple[SavedView, ...]:
    if len(views) >= MAX_VIEWS:
        raise SavedViewsError(f"The list is full ({MAX_VIEWS} views). Delete one first.")
    return (*views, view)


def rename(views: Sequence[SavedView], i: int, name: str) -> tuple[SavedView, ...]:
    _at(views, i)
    new = _text(name, "A view's name", MAX_NAME, required=True)
    return tuple(replace(v, name=new) if j == i else v for j, v in enumerate(views))


def set_text(views: Sequence[SavedView], i: int, title: str | None = None,
             note: str | None = None) -> tuple[SavedView, ...]:
    """A step's title and/or note (None leaves it as it is)."""
    v = _at(views, i)
    if title is not None:
        v = replace(v, title=_text(title, "A step's title", MAX_NAME))
    if note is not None:
        v = replace(v, note=_text(note, "A step's note", MAX_NOTE, multiline=True))
    return tuple(v if j == i else w for j, w in enumerate(views))


def delete(views: Sequence[SavedView], i: int) -> tuple[SavedView, ...]:
    _at(views, i)
    return tuple(v for j, v in enumerate(views) if j != i)


def move(views: Sequence[SavedView], i: int, step: int) -> tuple[SavedView, ...]:
    """One place up (step -1) or down (+1); at either end the list stays as it is."""
    _at(views, i)
    j = min(max(i + step, 0), len(views) - 1)
    out = list(views)
    out.insert(j, out.pop(i))
    return tuple(out)


def reorder(views: Sequence[SavedView], order: Sequence[int]) -> tuple[SavedView, ...]:
    """The views in a new order, given as each old position once."""
    if sorted(order) != list(range(len(views))):
        raise SavedViewsError(f"A new order must name each of the {len(views)} views once.")
    return tuple(views[i] for i in order)


# --- links and summaries ----------------------------------------------------------------------------------

def query(view: SavedView, **extra: str) -> list[tuple[str, str]]:
    """The view's URL parameters as pairs, plus any mode keys given (present=1, story=2)."""
    return [(k, v) for k, vs in view.params for v in vs] + [(k, str(v)) for k, v in extra.items()]


def url(view: SavedView, **extra: str) -> str:
    """The view's relative link, e.g. "/compare?view=spine&unit=102" (keys and values encoded)."""
    q = urllib.parse.urlencode(query(view, **extra), quote_via=urllib.parse.quote)
    return "/" + urllib.parse.quote(view.page) + ("?" + q if q else "")


KEY_WORDS = {"rows": "rows", "cols": "columns", "panel": "panel", "measure": "measure", "value": "of",
             "wave": "wave", "missing": "no answer shown", "ci": "intervals", "weighted": "weighted",
             "stacked": "stacked", "view": "view", "ind": "indicator", "level": "level", "cpp": "CPP",
             "cluster": "cluster", "unit": "unit", "vs": "against"}


def describe(view: SavedView, label: Callable[[str, str], str] | None = None) -> str:
    """The view's settings in a line: "rows: simd · columns: sex"; `label(key, value)` may give words for codes."""
    if not view.params:
        return "default settings"
    parts = []
    for key, values in view.params:
        word = f"filter {key[2:]}" if key.startswith("f.") else KEY_WORDS.get(key, key)
        shown = [label(key, v) if label else v for v in values]
        parts.append(f"{word}: {', '.join(shown)}")
    return " · ".join(parts)


# --- files ------------------------------------------------------------------------------------------------

def to_json(views: Iterable[SavedView]) -> bytes:
    """The list as a small versioned JSON file."""
    return json.dumps({
        "format": FORMAT, "version": VERSION,
        "views": [{"name": v.name, "page": v.page, "params": v.as_dict(), "title": v.title, "note": v.note}
                  for v in views],
    }, ensure_ascii=False, indent=1).encode("utf-8")


def _no_constants(name: str):
    raise ValueError(f"{name} is not allowed")


def from_json(data: bytes | str, pages: Collection[str]) -> tuple[SavedView, ...]:
    """A list file, checked in full: the views, or SavedViewsError saying what is wrong."""
    try:
        return _from_json(data, pages)
    except SavedViewsError:
        raise
    except Exception as err:  # anything unforeseen is still the file's fault, said plainly  # noqa: BLE001
        raise SavedViewsError(f"This file cannot be read as a saved-views list ({type(err).__name__}).") from None


def _from_json(data, pages: Collection[str]) -> tuple[SavedView, ...]:
    if not isinstance(data, (bytes, bytearray, memoryview, str)):
        raise SavedViewsError("A saved-views list must be a file of text.")
    size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
    if size > MAX_BYTES:
        raise SavedViewsError(f"The file is too big for a saved-views list ({size / 1024:,.0f} KB; "
                              f"the limit is {MAX_BYTES // 1024} KB).")
    if not isinstance(data, str):
        try:
            data = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise SavedViewsError("The file is not text (UTF-8): it is not a saved-views list.") from None
    try:
        doc = json.loads(data, parse_constant=_no_constants)
    except RecursionError:
        raise SavedViewsError("The file is nested too deeply to be a saved-views list.") from None
    except ValueError as err:
        where = f" (line {err.lineno}, column {err.colno})" if isinstance(err, json.JSONDecodeError) else ""
        raise SavedViewsError(f"The file is not JSON{where}: it is not a saved-views list.") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise SavedViewsError(f"This JSON file is not a saved-views list: it lacks \"format\": \"{FORMAT}\".")
    version = doc.get("version")
    if type(version) is not int or version != VERSION:
        said = json.dumps(version)[:20] if version is not None else "missing"
        raise SavedViewsError(f"This list's version is {said}; this app reads version {VERSION}. "
                              f"Export it again from an app of the same version.")
    views = doc.get("views")
    if not isinstance(views, list):
        raise SavedViewsError(f"The list's \"views\" must be a list, not {_kind(views)}.")
    if len(views) > MAX_VIEWS:
        raise SavedViewsError(f"The file holds {len(views):,} views; the limit is {MAX_VIEWS}.")
    out = []
    for n, raw in enumerate(views, start=1):
        what = f"View {n}"
        if not isinstance(raw, dict):
            raise SavedViewsError(f"{what} must be a group of fields, not {_kind(raw)}.")
        unknown = [k for k in raw if k not in FIELDS]
        if unknown:
            raise SavedViewsError(f"{what} has a field this app does not know: {_short(str(unknown[0]))}.")
        for field in ("name", "page"):
            if field not in raw:
                raise SavedViewsError(f"{what} has no {field}.")
        out.append(make(raw["name"], raw["page"], raw.get("params", {}), pages, raw.get("title", ""),
                        raw.get("note", ""), what=what))
    return tuple(out)
