"""The dictionary review: what was inferred or declared for each column and why, and a corrected dictionary.

Pure: no Streamlit, no data. `review_rows` turns a dataset's dictionary (and
its load notes, which say why) into one plain row per column, the table the
user corrects in place; `apply` turns an edited table back into a
`Dictionary`, with every problem and every change said in plain words. It
never raises on a bad edit: what cannot be used is a problem, and the
dictionary it returns is then None. A dictionary it does return always reads
back from its YAML (`dumps` then `parse`), so a downloaded file opens.

The editable columns are the variable's label, type, role, whether a guessed
role is confirmed, and its missing codes; the rest (name, evidence, value
labels, where the missing codes came from, why) are shown to explain.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from rcs_viz.data.dictionary import (
    MISSING, ROLES, TYPES, Dictionary, DictionaryError, Variable, dumps, load_yaml, parse,
)
from rcs_viz.engine.infer import SENTINELS
from rcs_viz.engine.sql.views import CrossTab

NO_ROLE = "(none)"
EDITABLE = ("label", "type", "role", "confirmed", "missing")
COLUMNS = ("name", "label", "type", "role", "confirmed", "evidence", "missing", "missing_from", "asked_at", "values",
           "why")
TITLES = {
    "name": "Column", "label": "Label", "type": "Type", "role": "Role", "confirmed": "Role confirmed",
    "evidence": "Role evidence", "values": "Value labels", "missing": "Missing codes",
    "missing_from": "Missing codes from", "asked_at": "Asked at", "why": "Why",
}
HELP = {
    "label": "The name shown in tables and pickers.",
    "type": "categorical, ordinal (ordered categories), flag (yes/no) or numeric.",
    "role": "What the column is for; each role goes to one column. (none) rejects a guessed role.",
    "confirmed": "Tick to confirm a guessed role. A guessed weight never weights an estimate until it is confirmed.",
    "missing": "Codes that mean no answer, separated by commas (e.g. -9, 9999). Remove one to count it as an answer.",
    "asked_at": "The stages the question is asked at, when not every stage (the dictionary's asked_at): its answers "
                "elsewhere are shown as 0, no such pupils.",
}
ROLE_WORDS = {
    "id": "respondent id", "cpp": "CPP", "cluster": "school cluster", "school": "school", "stage": "stage",
    "wave": "survey wave", "weight": "survey weight", "x": "longitude", "y": "latitude",
}
NUMERIC_ROLES = ("weight", "x", "y")
CATEGORY_ROLES = ("cpp", "cluster", "school", "stage", "wave")
MAX_MISSING = 50
MAX_CODE = 60
MAX_LABEL = 200
VALUES_SHOWN = 8


@dataclass(frozen=True)
class Result:
    """An edited table read back: the dictionary it makes (None when a problem stops it), why not, what changed."""

    dictionary: Dictionary | None
    problems: tuple[str, ...] = ()
    changes: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.dictionary is not None and bool(self.changes)


# ------------------------------------------------------------------------------------------ reading the notes

def _mentions(note: str, name: str) -> bool:
    return f"'{name}'" in note


def _why(v: Variable, d: Dictionary, notes: Sequence[str]) -> str:
    """Why the column reads as it does: the load notes that name it, each cut to its reason."""
    reasons = []
    for note in notes:
        if not _mentions(note, v.name):
            continue
        at, colon = note.index(f"'{v.name}'"), note.find(":")
        reason = note[:colon] if 0 < colon < at else note
        reasons.append(reason.strip().rstrip("."))
    if not reasons:
        reasons.append("inferred from the data" if d.source == "inferred" else f"declared in {d.source or 'the dictionary'}")
    return " · ".join(dict.fromkeys(reasons))


_PROPOSED = re.compile(r"""(?P<code>-?[\w.]+) "(?P<label>[^"]*)"(?: \([^)]*\))? in (?P<names>(?:'[^']*'(?:, | and )?)+)""")


def proposed_labels(notes: Sequence[str]) -> dict[tuple[str, str], str]:
    """{(column, code): label} of the codes inference proposed as missing because the file labels them as non-answers."""
    out: dict[tuple[str, str], str] = {}
    for note in notes:
        if not note.startswith("Labelled as non-answers"):
            continue
        for m in _PROPOSED.finditer(note):
            for name in re.findall(r"'([^']*)'", m.group("names")):
                out[(name, m.group("code"))] = m.group("label")
    return out


def _file_missing(notes: Sequence[str], name: str) -> bool:
    return any(_mentions(n, name) and ("missing-value codes" in n or "declares as missing" in n) for n in notes)


def _marker_note(notes: Sequence[str], name: str) -> str | None:
    note = next((n for n in notes if n.startswith("Text read as no answer") and _mentions(n, name)), None)
    if note is None:
        return None
    m = re.search(r"(?:such as )?((?:'[^']*'(?:, )?)+) in ", note)
    return f"text {m.group(1)} (missing_text)" if m else "text markers (missing_text)"


def _missing_from(v: Variable, d: Dictionary, notes: Sequence[str], proposed: Mapping) -> str:
    parts = []
    for code in v.missing:
        if (v.name, code) in proposed:
            parts.append(f'{code} proposed: the file labels it "{proposed[(v.name, code)]}"')
        elif d.source != "inferred":
            parts.append(f"{code} declared in the dictionary")
        elif code in SENTINELS:
            parts.append(f"{code} a usual no-answer code")
        elif _file_missing(notes, v.name):
            parts.append(f"{code} declared missing by the file")
        else:
            parts.append(f"{code} inferred")
    if _file_missing(notes, v.name) and d.source != "inferred":
        parts.append("the file's own missing codes")
    marker = _marker_note(notes, v.name)
    if marker:
        parts.append(marker)
    return "; ".join(parts)


# ------------------------------------------------------------------------------------------ dictionary -> table

def values_text(v: Variable) -> str:
    if not v.values:
        return "any value, shown as it is" if v.is_categorical and v.role != "id" else ""
    shown = [f"{c} {lab}" if lab != c else c for c, lab in v.values[:VALUES_SHOWN]]
    more = len(v.values) - VALUES_SHOWN
    return " · ".join(shown) + (f" · and {more} more" if more > 0 else "") + (" (default)" if v.values_defaulted else "")


def evidence(v: Variable, d: Dictionary) -> str:
    if v.role is None:
        return ""
    if v.role_guessed:
        return f"guessed: {v.guessed}"
    return "declared" if d.source != "inferred" else "confirmed"


def _asked_at(v: Variable, d: Dictionary) -> str:
    """The stages a routed question is asked at, by their labels; "" when every stage is asked."""
    stage = d.by_role("stage")
    return ", ".join(stage.label_of(c) for c in v.asked_at) if v.asked_at and stage else ""


def review_rows(d: Dictionary, notes: Sequence[str] = ()) -> list[dict[str, Any]]:
    """One row per column, in dictionary order: what it is, whether its role is a guess, and why."""
    notes = tuple(notes) + tuple(n for n in d.notes if n not in notes)
    proposed = proposed_labels(notes)
    return [{
        "name": v.name,
        "label": v.label,
        "type": v.type,
        "role": v.role or NO_ROLE,
        "confirmed": None if v.role is None else not v.role_guessed,  # None: no role, nothing to confirm
        "evidence": evidence(v, d),
        "values": values_text(v),
        "missing": ", ".join(v.missing),
        "missing_from": _missing_from(v, d, notes, proposed),
        "asked_at": _asked_at(v, d),
        "why": _why(v, d, notes),
    } for v in d.variables]


def guesses(d: Dictionary) -> list[str]:
    """Each guessed role in words, with what it means until it is confirmed."""
    out = []
    for v in d.guesses():
        what = f"'{v.name}' is guessed to be the {ROLE_WORDS.get(v.role, v.role)} ({v.guessed})"
        if v.role == "weight":
            what += "; it does not weight any estimate until it is confirmed"
        elif v.role == "id":
            what += "; it is never a row, column or filter"
        out.append(what + ".")
    return out


HOW_TO_CONFIRM = ("Confirm a guess by ticking “Role confirmed” on the Data dictionary page, or reject it by setting "
                  "its role to (none); in a YAML dictionary, delete the 'guessed:' line to confirm, or 'role' and "
                  "'guessed' to reject.")


# ------------------------------------------------------------------------------------------ table -> dictionary

def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):  # None or NaN from an emptied cell
        return ""
    return str(value).strip()


def _yes(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "y")
    try:
        return bool(value) and value == value  # NaN is no
    except (TypeError, ValueError):  # pandas' NA, an array: no
        return False


def parse_codes(text: Any) -> tuple[list[str], list[str]]:
    """Missing codes typed in a cell ("-9, 9999" or '"n/a"; 99') → (codes, problems)."""
    raw = _text(text)
    codes, problems = [], []
    for part in re.split(r"[,;]", raw) if raw else []:
        code = part.strip()
        if len(code) >= 2 and code[0] == code[-1] and code[0] in "'\"":
            code = code[1:-1].strip()
        if not code:
            continue
        if re.fullmatch(r"-?\d+\.0+", code):  # 9999.0 is the code 9999
            code = code.split(".")[0]
        if code == MISSING:
            problems.append(f"'{MISSING}' is reserved and cannot be a missing code")
        elif len(code) > MAX_CODE:
            problems.append(f"a missing code is longer than {MAX_CODE} characters")
        elif code not in codes:
            codes.append(code)
    if len(codes) > MAX_MISSING:
        problems.append(f"{len(codes)} missing codes; at most {MAX_MISSING} are allowed")
    return codes, problems


def _show(code: str) -> str:
    return code if len(code) <= 40 else code[:37] + "…"


def apply(d: Dictionary, rows: Iterable[Mapping[str, Any]], notes: Sequence[str] = ()) -> Result:
    """The edited table (rows as `review_rows` gives them, edited) → a corrected Dictionary, problems and changes.

    Only the editable columns are read; rows are matched to variables by name, and every variable must have
    its row once. A code taken out of the missing codes is listed again among the value labels (with the
    file's label when inference proposed it), so the file still opens with the new dictionary.
    """
    notes = tuple(notes) + tuple(d.notes)
    proposed = proposed_labels(notes)
    by_name: dict[str, Mapping[str, Any]] = {}
    problems: list[str] = []
    for row in rows:
        name = _text(row.get("name"))
        if name not in d:
            problems.append(f"The table has a row for '{_show(name)}', which is not a column of this data.")
        elif name in by_name:
            problems.append(f"'{name}' has two rows; keep one.")
        else:
            by_name[name] = row
    lost = [n for n in d.names if n not in by_name]
    if lost:
        problems.append("Rows are missing for " + ", ".join(f"'{n}'" for n in lost[:6]) + "; reload the page.")
    if problems:
        return Result(None, tuple(problems))

    changes: list[str] = []
    out: list[Variable] = []
    for v in d.variables:
        new, said, wrong = _variable(v, by_name[v.name], proposed)
        changes += said
        problems += wrong
        out.append(new)

    roles: dict[str, list[str]] = {}
    for v in out:
        if v.role:
            roles.setdefault(v.role, []).append(v.name)
    for role, names in roles.items():
        if len(names) > 1:
            problems.append(f"The role {role} ({ROLE_WORDS[role]}) is given to "
                            + " and ".join(f"'{n}'" for n in names) + "; each role goes to one column.")
    if problems:
        return Result(None, tuple(problems), tuple(changes))

    new = dataclasses.replace(d, variables=tuple(out), notes=())
    try:
        parse(load_yaml(dumps(new)), source="the corrected dictionary")
    except DictionaryError as exc:  # a last check that the YAML reads back; the checks above should catch all
        return Result(None, (str(exc),), tuple(changes))
    return Result(new, (), tuple(changes))


def _variable(v: Variable, row: Mapping[str, Any], proposed: Mapping) -> tuple[Variable, list[str], list[str]]:
    """One variable with its row's edits; (variable, changes said, problems)."""
    said: list[str] = []
    wrong: list[str] = []
    name = v.name

    label = _text(row.get("label"))
    if not label:
        label = name
        if v.label != name:
            said.append(f"'{name}': the label was emptied, so the column's name is shown.")
    elif len(label) > MAX_LABEL:
        wrong.append(f"'{name}': the label is longer than {MAX_LABEL} characters; shorten it.")
        label = v.label
    elif label != v.label:
        said.append(f"'{name}': label '{v.label}' → '{label}'.")

    vtype = _text(row.get("type")) or v.type
    if vtype not in TYPES:
        wrong.append(f"'{name}': '{_show(vtype)}' is not a type; choose {', '.join(TYPES)}.")
        vtype = v.type
    elif vtype != v.type:
        said.append(f"'{name}': type {v.type} → {vtype}.")

    role_text = _text(row.get("role"))
    role = None if role_text in ("", NO_ROLE, "none", "None") else role_text
    if role is not None and role not in ROLES:
        wrong.append(f"'{name}': '{_show(role)}' is not a role; choose one of {', '.join(ROLES)} or {NO_ROLE}.")
        role = v.role
    confirmed = _yes(row.get("confirmed"))
    guessed = ""
    if role is None:
        if v.role is not None:
            said.append(f"'{name}': {'guessed ' if v.role_guessed else ''}role {v.role} rejected; "
                        "it is now an ordinary column.")
    elif role != v.role:
        said.append(f"'{name}': role {v.role or NO_ROLE} → {role} ({ROLE_WORDS[role]}), chosen here.")
    elif v.role_guessed and confirmed:
        said.append(f"'{name}': guessed role {role} ({ROLE_WORDS[role]}) confirmed.")
    elif v.role_guessed:
        guessed = v.guessed
    elif not confirmed:
        guessed = "not confirmed in the review"
        said.append(f"'{name}': role {role} is now marked as a guess.")
    if role in NUMERIC_ROLES and vtype != "numeric":
        wrong.append(f"'{name}': the {ROLE_WORDS[role]} must be numeric; set its type to numeric or choose another role.")
    if role in CATEGORY_ROLES and vtype == "numeric":
        wrong.append(f"'{name}': the {ROLE_WORDS[role]} must be categorical or ordinal, not numeric.")

    missing, bad = parse_codes(row.get("missing"))
    wrong += [f"'{name}': {b}." for b in bad]
    if bad:
        missing = list(v.missing)

    values = list(v.values)
    defaulted = v.values_defaulted
    if vtype == "numeric":
        values, defaulted = [], False
    elif v.type == "numeric":
        values, defaulted = [], False  # any value accepted, shown as it is
    if vtype == "flag" and not values:
        values, defaulted = [("0", "No"), ("1", "Yes")], True
    elif vtype != "flag" and defaulted:
        defaulted = False  # the No/Yes labels are now written out

    added = [c for c in missing if c not in v.missing]
    removed = [c for c in v.missing if c not in missing]
    for code in removed:
        label_of = proposed.get((name, code))
        if values and code not in dict(values):
            values.append((code, label_of or code))
        said.append(f"'{name}': {_show(code)}{f' ({label_of})' if label_of else ''} now counts as an answer.")
    if added:
        said.append(f"'{name}': {', '.join(_show(c) for c in added)} now mean{'s' if len(added) == 1 else ''} "
                    "no answer.")
        values = [(c, lab) for c, lab in values if c not in added]
    codes = {c for c, _ in values}
    positive = tuple(c for c in v.positive if c in codes)
    if vtype == "flag" and not positive and "1" in codes:
        positive = ("1",)
    if vtype == "numeric":
        positive = ()

    new = dataclasses.replace(v, label=label, type=vtype, role=role, guessed=guessed if role else "",
                              values=tuple(values), values_defaulted=defaulted, positive=positive,
                              missing=tuple(missing))
    return new, said, wrong


# ------------------------------------------------------------------------------------------ the preview

def preview_options(d: Dictionary) -> list[str]:
    """The columns a preview can count: any but the respondent id."""
    return [v.name for v in d.variables if v.role != "id"]


def preview_question(d: Dictionary, name: str) -> tuple[CrossTab, str] | str:
    """The small table that shows a column under dictionary `d`: its categories counted, or its mean by the
    wave, stage or first category; or, when it cannot be counted, why not in words."""
    if name not in d:
        return f"'{name}' is not a column of this data."
    v = d[name]
    if v.role == "id":
        return f"'{v.label}' is the respondent id, which is never counted as categories."
    if v.role in NUMERIC_ROLES and not v.role_guessed:
        return f"'{v.label}' is the {ROLE_WORDS[v.role]}, which is not analysed itself."
    if v.is_categorical:
        return CrossTab(rows=name), "count"
    by = next((d.by_role(r) for r in ("wave", "stage") if d.by_role(r) is not None), None)
    if by is None:
        by = next((w for vs in d.groups().values() for w in vs if w.is_categorical and w.name != name), None)
    if by is None:
        return f"'{v.label}' is numeric and the data has no category to show its mean by."
    return CrossTab(rows=by.name, value=name), "mean"
