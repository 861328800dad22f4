"""A page's link, read safely: the part of "the view is its URL" that every page shares.

Pure: no Streamlit. A link is untrusted input — stale (a variable from last
year's dictionary), tampered or mistyped — so nothing here raises: each
setting is read on its own, whatever cannot be used is set aside, and a note
in plain words says so. Each page's `state` module turns a `Link` into its
view (`parse`) and a view back into settings (`to_params`, non-defaults only);
`rcs_viz.ui.binding` ties both to the page's widgets.
"""

from __future__ import annotations

from typing import Callable, Iterable, Mapping, Sequence

from rcs_viz.data.dictionary import MISSING, Dictionary

FILTER_PREFIX = "f."
MAX_FILTERS = 12
MAX_PARAM_LENGTH = 200
MODE_KEYS = ("present", "story", "sid")  # how a view is shown (sid: the story played), not what: kept, never saved
Params = Mapping[str, Sequence[str]]


def show(text) -> str:
    """Echo untrusted text in a note, short and printable (whoever displays the note escapes it)."""
    text = "".join(ch if ch.isprintable() else "?" for ch in str(text))
    return text if len(text) <= 40 else text[:37] + "…"


def as_lists(params: Mapping[str, str | Sequence[str]]) -> dict[str, list[str]]:
    """Settings as a link holds them: every value a list of strings."""
    return {k: [v] if isinstance(v, str) else [str(x) for x in v] for k, v in params.items()}


class Link:
    """An untrusted link's parameters, read a setting at a time; what is set aside goes into `notes`."""

    def __init__(self, params: Params, notes: list[str]):
        self.params, self.notes = params, notes

    def many(self, key: str) -> list[str]:
        return [str(v) for v in self.params.get(key, ()) if v is not None]

    def one(self, key: str) -> str | None:
        values = self.many(key)
        if not values:
            return None
        if len(values) > 1:
            self.notes.append(f"'{show(key)}' was given more than once; the first was used.")
        return values[0][:MAX_PARAM_LENGTH]

    def switch(self, key: str) -> bool | None:
        """An on/off setting ("1" or "0"); None when absent or unusable."""
        value = self.one(key)
        if value is None:
            return None
        if value not in ("0", "1"):
            self.notes.append(f"'{show(key)}' should be 0 or 1; it was ignored.")
            return None
        return value == "1"

    def wave(self, wave_var, codes, current: str | None, allow_all: bool = True) -> str | None:
        """The wave the link asks for (None for "all", where allowed), else `current`, with a note if it was bad."""
        wave = self.one("wave")
        if wave is None or wave_var is None:
            return current
        if wave == "all" and allow_all:
            return None
        if wave in codes(wave_var.name):
            return wave
        self.notes.append(f"There is no wave '{show(wave)}'; showing {wave_var.label_of(current)}.")
        return current

    def filters(self, dictionary: Dictionary, codes: Callable[[str], Sequence[str]], skip=None,
                allowed: Callable[[str], bool] = lambda name: True) -> tuple:
        """`f.<variable>=code` settings → ((variable, codes kept), ...), in the dictionary's order of codes."""
        filters = []
        keys = [k for k in self.params if k.startswith(FILTER_PREFIX)]
        if len(keys) > MAX_FILTERS:
            self.notes.append(f"Only the first {MAX_FILTERS} filters were used.")
            keys = keys[:MAX_FILTERS]
        for key in keys:
            name = key[len(FILTER_PREFIX):]
            if name not in dictionary or (skip is not None and name == skip.name):
                self.notes.append(f"'{show(name)}' is not a variable to filter on; that filter was dropped.")
                continue
            if not allowed(name):
                continue
            var = dictionary[name]
            if not var.is_categorical:
                self.notes.append(f"'{var.label}' is numeric and cannot be filtered by value; that filter was dropped.")
                continue
            known = list(codes(name)) + [MISSING]
            given = list(dict.fromkeys(str(v)[:MAX_PARAM_LENGTH] for v in self.params[key]))
            kept = tuple(c for c in known if c in given)
            unknown = [g for g in given if g not in known]
            if unknown:
                self.notes.append(f"{var.label}: {len(unknown)} unknown value(s) dropped (e.g. '{show(unknown[0])}').")
            if kept:
                filters.append((name, kept))
            else:
                self.notes.append(f"{var.label}: no known values left, so that filter was dropped.")
        return tuple(filters)

    def unknown(self, known: Iterable[str]) -> None:
        """Note the settings this page does not have (mode keys and filters are always known)."""
        known = set(known) | set(MODE_KEYS)
        unknown = sorted(k for k in self.params if k not in known and not str(k).startswith(FILTER_PREFIX))
        if unknown:
            self.notes.append("Ignored unknown link setting(s): " + ", ".join(show(k) for k in unknown[:5]) + ".")


def filter_params(filters) -> dict[str, list[str]]:
    """((variable, codes), ...) → the link's `f.<variable>` settings."""
    return {FILTER_PREFIX + name: list(kept) for name, kept in filters}
