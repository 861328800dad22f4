"""The Need page's view is its URL: query parameters ↔ a validated NeedView.

Pure, like `view_state`: a link is untrusted, so parsing never raises; what
cannot be used falls back to the default with a note in plain words.

A need or a contact is written as repeated conditions, one per parameter:
``need=sdq_total_band:3`` (codes joined by ``|``: ``safe_home:3|4``), a
number compared for a numeric variable (``need=wemwbs:<41``), and
``need_all=1`` when every condition must hold rather than any, and
``need_answered=1`` to judge each pupil on the conditions they answered. The
same for ``contact``, ``contact_all`` and ``contact_answered``. Then ``by`` (a breakdown, or ``none``),
``wave`` (or ``all``), filters ``f.<variable>``, the page section ``sec``
and the what-if settings ``from``, ``to``, ``shift``, ``avoid``, ``cost``,
``years``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable, Mapping, Sequence

from rcs_viz.data.dictionary import MISSING, Dictionary, Variable
from rcs_viz.features.need.model import Definition, presets
from rcs_viz.engine.sql.views import numeric_condition
from rcs_viz.features.need.services import TIERS
from rcs_viz.features.link import MAX_PARAM_LENGTH, Link, filter_params, show
from rcs_viz.features.need.whatif import MAX_YEARS, PLACEHOLDER_PROPORTION, PLACEHOLDER_UNIT_COST

SECTIONS = {"fit": "Need against contact", "services": "Services", "whatif": "What if"}
MAX_CONDITIONS = 8
MAX_NUMBER = 1e9  # no cut-off or cost in a link is bigger than this
MAX_COST = 1e9  # £ a year
SEPARATOR, CODES = ":", "|"
NOT_A_BREAKDOWN = ("id", "weight", "x", "y")
DEFAULT_FROM, DEFAULT_TO = TIERS[-1], TIERS[1]  # specialist / crisis → early help / targeted
PARAMS = ("need", "need_all", "need_answered", "contact", "contact_all", "contact_answered", "by", "wave", "sec", "from", "to", "shift", "avoid",
          "cost", "years")


@dataclass(frozen=True)
class NeedView:
    """Everything the Need page shows, as a plain value."""

    need: Definition = Definition()
    contact: Definition = Definition()
    by: str | None = None  # the breakdown; None: everyone together
    wave: str | None = None  # None: all waves together
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    section: str = "fit"
    shift_from: str = DEFAULT_FROM  # what-if: the tier spend moves from …
    shift_to: str = DEFAULT_TO  # … and to
    shift_pct: int = 10  # % of shift_from's spend moved, 0-100
    avoided_pct: float = round(100 * PLACEHOLDER_PROPORTION, 6)  # % of extra children whose outcome is avoided
    outcome_cost: float = float(PLACEHOLDER_UNIT_COST)  # £ a year of the outcome avoided
    years: int = 1

    def query_filters(self, dictionary: Dictionary) -> tuple:
        """The filters for `need.fit`: the wave is one more filter, first."""
        wave = dictionary.by_role("wave")
        if self.wave is not None and wave is not None:
            return ((wave.name, (self.wave,)),) + self.filters
        return self.filters


def default_view(d: Dictionary, codes: Callable[..., Sequence[str]]) -> NeedView:
    """The first need and contact the dictionary supports, by cluster, latest wave."""
    found = presets(d)
    need = found.needs[0].definition if found.needs else _fallback(d, ())
    contact = found.contacts[0].definition if found.contacts else _fallback(d, need.variables)
    cluster = d.by_role("cluster")
    wave = d.by_role("wave")
    waves = list(codes(wave.name)) if wave else []
    return NeedView(need=need, contact=contact, by=cluster.name if cluster and cluster.is_categorical else None,
                    wave=waves[-1] if waves else None)


def _fallback(d: Dictionary, taken: tuple[str, ...]) -> Definition:
    """Without the usual variables: the first pupil variable with 'positive' codes not used already."""
    var = next((v for v in d.variables if v.role is None and v.is_categorical and v.positive
                and v.name not in taken), None)
    return Definition(((var.name, tuple(var.positive)),)) if var else Definition()


def parse(params: Mapping[str, Sequence[str]], d: Dictionary,
          codes: Callable[..., Sequence[str]]) -> tuple[NeedView, list[str]]:
    """Query parameters → a safe view, and notes on what was set aside."""
    notes: list[str] = []
    default = default_view(d, codes)

    link = Link(params, notes)
    many, one = link.many, link.one

    switch = link.switch

    view = default
    for key, what in (("need", "need"), ("contact", "service contact")):
        given = many(key)
        definition = getattr(default, key)
        if given:
            conditions = _conditions(given, d, codes, what, notes)
            if conditions:
                definition = replace(definition, conditions=conditions)
            else:
                notes.append(f"No usable condition was left for the {what}, so the default was used.")
        every = switch(f"{key}_all")
        if every is not None:
            definition = replace(definition, combine="all" if every else "any")
        answered = switch(f"{key}_answered")
        if answered is not None:
            definition = replace(definition, answered_only=answered)
        view = replace(view, **{key: definition})

    by = one("by")
    if by is not None:
        if by == "none":
            view = replace(view, by=None)
        elif by not in d:
            notes.append(f"'{show(by)}' is not a variable in this data, so the breakdown was reset.")
        elif not d[by].is_categorical or d[by].role in NOT_A_BREAKDOWN:
            notes.append(f"'{d[by].label}' cannot be a breakdown (it is {d[by].type}), so the breakdown was reset.")
        else:
            view = replace(view, by=by)

    wave_var = d.by_role("wave")
    view = replace(view, wave=link.wave(wave_var, codes, default.wave))
    view = replace(view, filters=link.filters(d, codes, skip=wave_var))

    section = one("sec")
    if section is not None:
        if section in SECTIONS:
            view = replace(view, section=section)
        else:
            notes.append(f"'{show(section)}' is not a part of this page, so it opens on {SECTIONS['fit']}.")

    view = _what_if(view, default, one, notes)

    link.unknown(set(PARAMS) | {"page"})
    return view, notes


def _conditions(given: list[str], d: Dictionary, codes, what: str, notes: list[str]) -> tuple:
    """Each `variable:codes` checked against the dictionary and the data; the bad ones dropped with a note."""
    if len(given) > MAX_CONDITIONS:
        notes.append(f"Only the first {MAX_CONDITIONS} conditions of the {what} were used.")
        given = given[:MAX_CONDITIONS]
    out: dict[str, tuple[str, ...]] = {}
    for text in given:
        if len(text) > MAX_PARAM_LENGTH:
            notes.append(f"A condition of the {what} was too long to be real ('{show(text)}'); it was dropped.")
            continue
        name, codes_text = _split(text, d)
        if name is None:
            notes.append(f"'{show(text)}' does not name a variable in this data; "
                         f"that condition of the {what} was dropped.")
            continue
        var = d[name]
        if var.role is not None:
            notes.append(f"'{var.label}' describes places or the survey, not pupils; "
                         f"that condition of the {what} was dropped.")
            continue
        if name in out:
            notes.append(f"'{var.label}' appeared twice in the {what}; the first was used.")
            continue
        kept = _numeric(var, codes_text) if not var.is_categorical else _categorical(var, codes_text, codes)
        if isinstance(kept, str):
            notes.append(f"{var.label}: {kept}; that condition of the {what} was dropped.")
            continue
        out[name] = kept
    return tuple(out.items())


def _split(text: str, d: Dictionary) -> tuple[str | None, str]:
    """'sdq_total_band:3' → ('sdq_total_band', '3'), trying each ':' in turn so names may hold one."""
    at = text.find(SEPARATOR)
    while at >= 0:
        if text[:at] in d:
            return text[:at], text[at + 1:]
        at = text.find(SEPARATOR, at + 1)
    return None, ""


def _numeric(var: Variable, text: str) -> tuple[str, ...] | str:
    compared = numeric_condition(text.strip())
    if compared is None:
        return f"'{show(text)}' is not a comparison with a number (e.g. <41)"
    op, number = compared
    if not math.isfinite(number) or abs(number) > MAX_NUMBER:
        return f"'{show(text)}' is not a usable number"
    return (op + _number(number),)


def _categorical(var: Variable, text: str, codes) -> tuple[str, ...] | str:
    allowed = list(dict.fromkeys([c for c, _ in var.values] + list(codes(var.name))))
    given = list(dict.fromkeys(text.split(CODES)))
    if MISSING in given:
        return "'No answer' cannot be part of a need or contact"
    unknown = [g for g in given if g not in allowed]
    if unknown:
        return f"'{show(unknown[0])}' is not one of its values"
    return tuple(c for c in allowed if c in given)


def _number(x: float) -> str:
    """A number as short text that reads back to the same float."""
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _what_if(view: NeedView, default: NeedView, one, notes: list[str]) -> NeedView:
    tiers = {}
    for key, field_name in (("from", "shift_from"), ("to", "shift_to")):
        text = one(key)
        if text is None:
            continue
        tier = _tier(text)
        if tier is None:
            allowed = f": use one of {'; '.join(TIERS)}"
            notes.append(f"'{show(text)}' is not a tier{allowed}; it was reset.")
            continue
        tiers[field_name] = tier
    view = replace(view, **tiers)
    if view.shift_from == view.shift_to:
        notes.append("Spend cannot move from a tier to itself; both tiers were reset.")
        view = replace(view, shift_from=default.shift_from, shift_to=default.shift_to)
    for key, field_name, low, high, whole, what in (
        ("shift", "shift_pct", 0, 100, True, "a whole % from 0 to 100"),
        ("avoid", "avoided_pct", 0, 100, False, "a % from 0 to 100"),
        ("cost", "outcome_cost", 0, MAX_COST, False, f"an amount in £ from 0 to {MAX_COST:,.0f}"),
        ("years", "years", 1, MAX_YEARS, True, f"a whole number of years from 1 to {MAX_YEARS}"),
    ):
        text = one(key)
        if text is None:
            continue
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or not low <= number <= high or (whole and not number.is_integer()):
            notes.append(f"'{key}' should be {what}, not '{show(text)}'; it was reset.")
            continue
        view = replace(view, **{field_name: int(number) if whole else number})
    return view


def _tier(text: str) -> str | None:
    clean = " ".join(text.split())
    return next((t for t in TIERS if t.casefold() == clean.casefold()), None)


def encode(definition: Definition) -> list[str]:
    """A definition's conditions as link values: 'sdq_total_band:3', 'safe_home:3|4', 'wemwbs:<41'."""
    return [name + SEPARATOR + CODES.join(codes) for name, codes in definition.conditions]


def to_params(view: NeedView, default: NeedView) -> dict[str, str | list[str]]:
    """Only what differs from the default, so links stay short and readable."""
    out: dict[str, str | list[str]] = {}
    for key in ("need", "contact"):
        mine, theirs = getattr(view, key), getattr(default, key)
        if mine.conditions and mine.conditions != theirs.conditions:
            out[key] = encode(mine)
        if mine.combine != theirs.combine:
            out[f"{key}_all"] = "1" if mine.combine == "all" else "0"
        if mine.answered_only != theirs.answered_only:
            out[f"{key}_answered"] = "1" if mine.answered_only else "0"
    if view.by != default.by:
        out["by"] = view.by if view.by is not None else "none"
    if view.wave != default.wave:
        out["wave"] = view.wave if view.wave is not None else "all"
    out |= filter_params(view.filters)
    for key, field_name in (("sec", "section"), ("from", "shift_from"), ("to", "shift_to"), ("shift", "shift_pct"),
                            ("avoid", "avoided_pct"), ("cost", "outcome_cost"), ("years", "years")):
        value = getattr(view, field_name)
        if value != getattr(default, field_name):
            out[key] = value if isinstance(value, str) else _number(value)
    return out


__all__ = ["NeedView", "SECTIONS", "default_view", "encode", "parse", "to_params"]
