"""Infer a data dictionary when a CPP gives us a data file and nothing else.

Everything is computed with SQL on a DuckDB relation (one aggregate scan over
every column, one to list the distinct values of the few-valued ones, and a
small extra one only when needed; each in batches of ``BATCH`` columns on a wide
file), so rows are never pulled into pandas. The SQL is written by
``rcs_viz.engine.sql.ingest``.

Rules, in order (``docs/dictionary.md`` says the same in plain words):

* **Roles** come from column names (case-insensitive, spaces and dashes read as
  ``_``; see ``ROLE_NAMES``), each to the first matching column, and each is
  only a *guess*: ``Variable.guessed`` says why ("named 'wt'"), and a guessed
  weight is never used for weighting until a dictionary confirms it. Weight and
  coordinates only for numbers; wave and stage only with at most
  ``ROLE_LEVELS_MAX`` values; the id only when it is filled in and unique
  (within a wave), else it is dropped as the id with a note.
* **Types**: role columns first (wave/stage ordinal, places categorical). Then
  an SPSS/Stata file's value labels where they cover the data (they beat the
  "scale" measure level that R's haven gives every variable), then the SPSS
  measure level (nominal → categorical, or flag when the codes are 0/1;
  ordinal → ordinal; scale → numeric), then the data: text → categorical with
  the distinct values sorted; integers with only 0 and 1 → flag; integers with
  at most ``LEVELS_MAX`` distinct values → ordinal when they are 3 or more
  consecutive codes, else categorical; anything else numeric.
* **Labels** are the file's variable and value labels when there are any
  (value labels in code order), otherwise the column name and the codes.
* **Missing codes**: the usual survey sentinels (-9, -99, -8, ...) in a column
  whose other values are all zero or more, the file's own user-missing
  values, and, *proposed* with a note, the codes the file labels as non-answers
  ("Don't know", "Refused", "Not applicable", a negative or 9999-style code;
  see ``non_answer_codes``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rcs_viz.engine.sql import ingest
from rcs_viz.data.dictionary import Dictionary, Variable, code_text
from rcs_viz.engine.sql.ingest import Col

LEVELS_MAX = 12  # an integer column with at most this many codes is categorical
ROLE_LEVELS_MAX = 20  # a column named like a wave or stage with more distinct values is not one (a birth year)
TEXT_LEVELS_MAX = 500  # a text column with more distinct values gets no value list
BATCH = 64  # columns per summary query (see summarise)
SENTINELS = ("-7", "-8", "-9", "-97", "-98", "-99", "-997", "-998", "-999")

ROLE_NAMES: dict[str, tuple[str, ...]] = {
    "id": ("id", "resp_id", "pupil_id", "respondent_id"),
    "cpp": ("cpp", "la", "local_authority", "la_code", "la_name"),
    "cluster": ("cluster", "asg", "school_cluster"),  # ASG: a Scottish associated schools group
    "school": ("school", "school_name", "seed_code", "seedcode"),
    "stage": ("stage", "year_group"),
    "wave": ("wave", "year", "survey_year"),
    "weight": ("weight", "wt", "survey_weight"),
    "x": ("lon", "longitude", "x"),
    "y": ("lat", "latitude", "y"),
}
_NUMERIC_ROLES = ("weight", "x", "y")
_ROLE_WORDS = {
    "id": "respondent id", "cpp": "CPP", "cluster": "school cluster", "school": "school", "stage": "stage",
    "wave": "survey wave", "weight": "survey weight", "x": "longitude", "y": "latitude",
}
_LISTED_ROLES = ("cpp", "cluster", "school", "stage", "wave")
_ROLE_GROUP = {
    "cpp": "Where", "cluster": "Where", "school": "Where", "stage": "Where",
    "id": "Design", "wave": "Design", "weight": "Design", "x": "Design", "y": "Design",
}

INT_TYPES = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
    "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
}


# --------------------------------------------------------------------------- types

def type_kind(duckdb_type: Any) -> str:
    """Sort a DuckDB column type into text / int / float / bool / other."""
    t = str(duckdb_type).upper()
    if t == "VARCHAR":
        return "text"
    if t in INT_TYPES:
        return "int"
    if t in ("FLOAT", "DOUBLE", "REAL") or t.startswith("DECIMAL"):
        return "float"
    if t == "BOOLEAN":
        return "bool"
    return "other"


# --------------------------------------------------------------------------- summaries

@dataclass(frozen=True)
class ColumnSummary:
    """What inference needs to know about one column."""

    name: str
    kind: str  # "integer" (every value a whole number), "number", "text" or "empty"
    non_null: int = 0
    distinct: int = 0  # exact when `values` is given, else approximate
    values: tuple[str, ...] | None = None  # distinct codes (sentinels excluded), when few enough to list
    sentinels: tuple[str, ...] = ()  # -9-style codes found in an otherwise non-negative column


def summarise(relation: Any, columns: Sequence[str] | None = None) -> list[ColumnSummary]:
    """Summaries of a DuckDB relation's columns, computed with SQL scans.

    One scan computes cheap counts for every column; a second lists the
    distinct values of the few-valued columns; a small extra scan runs only
    when some column has blank text or -9-style codes to look at closely.
    On a file wider than ``BATCH`` columns each scan is split into batches:
    DuckDB's time to plan one query grows much faster than its width.
    """
    names = list(relation.columns)
    kinds = {n: type_kind(t) for n, t in zip(names, relation.types)}
    if columns is not None:
        names = [n for n in names if n in set(columns)]
    if not names:
        return []
    sentinel_nums = [int(x) for x in SENTINELS]

    def run(parts: list[str], per_query: int) -> tuple:
        # In batches: DuckDB's planning time grows much faster than the number of expressions.
        out: list = []
        for i in range(0, len(parts), per_query):
            out += relation.query(ingest.SCAN, ingest.scan(parts[i:i + per_query])).fetchall()[0]
        return tuple(out)

    parts = []
    for n in names:
        parts += ingest.column_stats(Col(n, kinds[n]), sentinel_nums)
    width = 7
    row = run(parts, width * BATCH)
    raw_stats = {n: row[width * i: width * i + width] for i, n in enumerate(names)}

    # A closer look where needed: exact blanks, and which -9-style codes sit below non-negative values.
    extra, extra_keys = [], []
    for n in names:
        c = Col(n, kinds[n])
        _, nb, _, _, _, _, ns = raw_stats[n]
        if nb:
            extra.append(ingest.blank_count(c))
            extra_keys.append((n, "blank"))
        if ns:
            extra.append(ingest.sentinel_mask(c, sentinel_nums))
            extra_keys.append((n, "sentinels"))
            extra.append(ingest.smallest_other(c, sentinel_nums))
            extra_keys.append((n, "min"))
    looked = dict(zip(extra_keys, run(extra, 3 * BATCH))) if extra else {}

    stats = {}
    for n in names:
        nr, _, nf, ni, nz, nd, _ = raw_stats[n]
        nn = int(nr) - int(looked.get((n, "blank")) or 0)
        if nn == 0:
            kind = "empty"
        elif ni == nn and nz == 0:
            kind = "integer"
        elif nf == nn and nz == 0:
            kind = "number"
        else:
            kind = "text"
        sentinels: tuple[str, ...] = ()
        found = [x for i, x in enumerate(sentinel_nums) if (looked.get((n, "sentinels")) or 0) >> i & 1]
        rest_min = looked.get((n, "min"))
        if kind in ("integer", "number") and found and (rest_min is None or rest_min >= 0):
            sentinels = tuple(str(x) for x in sorted(found, reverse=True))
        stats[n] = (kind, nn, nd, sentinels)

    # Second scan: the exact distinct values of columns that may be listable, as distinct
    # (column, value) pairs, one query per value type and batch of columns. (Not a
    # list(DISTINCT ...) per column: DuckDB gives each such aggregate megabytes of its own,
    # so a hundred columns exceed the loader's memory limit.)
    limit = TEXT_LEVELS_MAX * 1.2 + 10
    listable = [n for n in names if stats[n][0] != "empty" and stats[n][2] <= limit]
    values: dict[str, list[str]] = {n: [] for n in listable}
    by_type: dict[str, list[tuple[str, str]]] = {}
    for n in listable:
        kind = stats[n][0]
        by_type.setdefault(kind, []).append((n, ingest.listed_value(Col(n, kinds[n]), kind)))
    for items in by_type.values():
        for i in range(0, len(items), BATCH):
            batch = items[i:i + BATCH]
            got = relation.query(ingest.SCAN, ingest.distinct_values([expr for _, expr in batch])).fetchall()
            for k, vals in got:
                n = batch[int(k)][0]
                codes = [code_text(v) for v in (vals or []) if v is not None]
                values[n] = [v for v in codes if v not in stats[n][3]]

    out = []
    for n in names:
        kind, nn, nd, sentinels = stats[n]
        vals = values.get(n)
        listed = None
        if vals is not None and len(vals) <= TEXT_LEVELS_MAX:
            if kind in ("integer", "number"):
                key = float
            else:
                key = lambda s: (s.casefold(), s)  # noqa: E731
            listed = tuple(sorted(vals, key=key))
        out.append(ColumnSummary(
            name=n, kind=kind, non_null=nn,
            distinct=len(vals) if vals is not None else nd,
            values=listed, sentinels=sentinels,
        ))
    return out


# --------------------------------------------------------------------------- roles

def _norm(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def guess_roles(names: Sequence[str]) -> dict[str, str]:
    """{column: role} from common column names; each role to its best match only."""
    normed = {n: _norm(n) for n in names}
    out: dict[str, str] = {}
    for role, candidates in ROLE_NAMES.items():
        for cand in candidates:  # the list order is the preference order
            hit = next((n for n in names if normed[n] == cand and n not in out), None)
            if hit is not None:
                out[hit] = role
                break
    return out


# --------------------------------------------------------------------------- inference

def _sav_attr(meta: Any, name: str) -> dict:
    value = getattr(meta, name, None) if meta is not None else None
    return value if isinstance(value, dict) else {}


def _sav_missing(meta: Any, column: str, labelled: Iterable[str]) -> list[str]:
    """The discrete user-missing codes an SPSS file declares for a column."""
    out: list[str] = []
    for rng in _sav_attr(meta, "missing_ranges").get(column) or ():
        lo, hi = rng.get("lo"), rng.get("hi")
        if lo == hi and lo is not None:
            out.append(code_text(lo))
            continue
        for code in labelled:  # a range: the labelled codes that fall in it
            try:
                if float(lo) <= float(code) <= float(hi):
                    out.append(code)
            except (TypeError, ValueError):
                pass
    for value in _sav_attr(meta, "missing_user_values").get(column) or ():
        out.append(code_text(value))
    return list(dict.fromkeys(out))


def _code_key(code: str):
    try:
        return (0, float(code), code)
    except ValueError:
        return (1, 0.0, code)


def _consecutive(codes: Sequence[str]) -> bool:
    try:
        ints = sorted(int(c) for c in codes)
    except ValueError:
        return False
    return len(ints) >= 3 and ints == list(range(ints[0], ints[0] + len(ints)))


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _list(items: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _names(items: Sequence[str], limit: int = 12) -> str:
    return _list([f"'{s}'" for s in items], limit)


def non_answer_codes(labels: dict[str, str]) -> dict[str, str]:
    """{code: why} for the labelled codes that look like non-answers rather than answers.

    A code is proposed as missing when its label reads like one ("Don't know",
    "Refused", "Not applicable", "Prefer not to say", "IAP", ...), when it is
    negative while every other labelled code is zero or more, or when it is a
    9999-style sentinel (97, 98, 99, 998, 9999, ...) far above the other codes.
    """
    out: dict[str, str] = {}
    numbers: dict[str, float] = {}
    for code in labels:
        try:
            numbers[code] = float(code)
        except ValueError:
            pass
    sentinel = {c for c in numbers if re.fullmatch(r"9*9[789]", c)}
    for code, label in labels.items():
        text = _label_text(label)
        others = [x for c, x in numbers.items() if c != code]
        ordinary = [x for c, x in numbers.items() if c != code and c not in sentinel]
        if _NON_ANSWER.search(text):
            out[code] = f'"{label.strip()}"'
        elif code in numbers and numbers[code] < 0 and others and min(others) >= 0:
            out[code] = f'"{label.strip()}" (a negative code)'
        elif code in sentinel and ordinary and numbers[code] > 2 * max(ordinary):
            out[code] = f'"{label.strip()}" (a {code}-style code)'
    return out


_NON_ANSWER = re.compile(
    r"\b(do ?n[o']?t know|did ?n[o']?t know|dk|refused?|refusal|prefer(red)? not to|rather not (say|answer)"
    r"|not applicable|inapplicable|iap|not asked|skipped|no answer|not answered|no response|not stated"
    r"|can ?n?[o']?t (remember|say)|not coded|system missing|don'?t remember)\b"
    r"|^(n/?a|na|unknown|missing|dk/na|dk, ?na)$"
)


def _label_text(label: str) -> str:
    """A label as compared with non-answer words: lower case, plain apostrophes and spaces."""
    text = str(label).replace("\u2019", "'").replace("\u00a0", " ").strip().lower()
    return re.sub(r"\s+", " ", text).strip(" .:;-()[]")


def id_problem(relation: Any, id_name: str, wave_name: str | None = None) -> str | None:
    """Why column ``id_name`` cannot be a respondent id, in words; None when it can.

    An id must be present in every row and unique (within a wave, when there is
    a wave column). One SQL query over ``relation``, with codes read as
    inference and the loader read them (1, 1.0 and "1" are one id).
    """
    kinds = {n: type_kind(t) for n, t in zip(relation.columns, relation.types)}
    wave = Col(wave_name, kinds[wave_name]) if wave_name else None
    blank, repeated, rows, example, most = relation.query(
        ingest.SCAN, ingest.id_clashes(Col(id_name, kinds[id_name]), wave)
    ).fetchall()[0]
    if blank:
        return f"it is empty in {_plural(int(blank), 'row')}"
    if repeated:
        where = " in the same wave" if wave_name else ""
        return (
            f"{_plural(int(repeated), 'id')} appear{'s' if repeated == 1 else ''} more than once{where} "
            f"({_plural(int(rows), 'row')}; e.g. '{_short(example)}' appears {int(most)} times)"
        )
    return None


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def infer_dictionary(
    data: Any,
    sav_meta: Any = None,
    title: str = "Untitled dataset",
    *,
    file_kind: str = "SPSS",
    not_roles: dict[str, str] | None = None,
) -> Dictionary:
    """A Dictionary for a data set that came without one.

    ``data`` is a DuckDB relation (summarised here with SQL) or a sequence of
    ``ColumnSummary``. ``sav_meta`` is pyreadstat's metadata for a ``.sav`` (or,
    with ``file_kind="Stata"``, a ``.dta``) file, read with
    ``user_missing=True`` so its missing codes are known. ``not_roles`` maps
    columns to the reason their name's role must not be used (the loader
    passes one for a guessed id that turned out not to be unique).

    Roles guessed from column names are marked as guesses (``Variable.guessed``
    says why), and the result's ``notes`` say what was guessed and how to
    change it. The result's ``source`` is ``"inferred"``.
    """
    relation = data if hasattr(data, "columns") and hasattr(data, "query") else None
    summaries = summarise(data) if relation is not None else list(data)
    by_name = {s.name: s for s in summaries}
    names = [s.name for s in summaries]
    roles = guess_roles(names)
    not_roles = dict(not_roles or {})
    sav_labels = _sav_attr(sav_meta, "column_names_to_labels")
    sav_values = _sav_attr(sav_meta, "variable_value_labels")
    sav_measure = _sav_attr(sav_meta, "variable_measure")

    dropped_roles: list[str] = []
    for name, role in list(roles.items()):
        s = by_name[name]
        why = not_roles.get(name)
        if why is None and role in _NUMERIC_ROLES and s.kind not in ("integer", "number"):
            why = "it is not numeric"
        if why is None and role in ("wave", "stage") and s.distinct > ROLE_LEVELS_MAX:
            why = f"it has {_plural(s.distinct, 'distinct value')}"
        if why is not None:
            dropped_roles.append(f"'{name}' is not used as the {_ROLE_WORDS[role]}: {why}")
            del roles[name]
    if relation is not None:
        id_col = next((n for n, r in roles.items() if r == "id"), None)
        if id_col is not None:
            wave_col = next((n for n, r in roles.items() if r == "wave"), None)
            why = id_problem(relation, id_col, wave_col)
            if why is not None:
                dropped_roles.append(
                    f"'{id_col}' looks like the respondent id by its name, but {why}, so it is not used as the id "
                    "(declare the id column with role: id in a dictionary, or fix the ids)"
                )
                del roles[id_col]

    variables: list[Variable] = []
    by_type: dict[str, list[str]] = {"numeric": [], "flag": [], "ordinal": [], "categorical": []}
    numeric_detail: list[str] = []
    unlisted: list[str] = []
    empty: list[str] = []
    sentinel_cols: dict[str, list[str]] = {}
    sav_missing_cols: list[str] = []
    proposed: dict[str, list[str]] = {}  # "9999 \"Don't know\"" -> columns
    unlabelled_cols: list[str] = []
    from_measure: list[str] = []
    over_measure: list[str] = []

    for s in summaries:
        role = roles.get(s.name)

        # The file's labels, in code order; the codes it declares missing, and those that read as non-answers.
        all_labels = {code_text(k): str(v) for k, v in (sav_values.get(s.name) or {}).items()}
        missing = _sav_missing(sav_meta, s.name, all_labels) if sav_meta is not None else []
        if missing:
            sav_missing_cols.append(s.name)
        if role != "id":
            for code, why in non_answer_codes({c: lab for c, lab in all_labels.items() if c not in missing}).items():
                missing.append(code)
                proposed.setdefault(f"{code} {why}", []).append(s.name)
        labels = {c: lab for c, lab in sorted(all_labels.items(), key=lambda kv: _code_key(kv[0])) if c not in missing}
        measure = str(sav_measure.get(s.name) or "unknown").lower()

        codes = [c for c in s.values if c not in missing] if s.values is not None else None
        few = codes is not None and len(codes) <= LEVELS_MAX
        zero_one = codes is not None and 0 < len(codes) and set(codes) <= {"0", "1"}
        # Value labels beat the measure level (R's haven marks every variable "scale"), where they
        # cover the data: every code labelled, or few codes.
        labelled = bool(labels) and codes is not None and s.kind != "number" and (few or set(codes) <= set(labels))

        # The type.
        if role == "id":
            vtype = "categorical"
        elif role in _NUMERIC_ROLES:
            vtype = "numeric"
        elif s.kind == "empty":
            vtype = "categorical"
            empty.append(s.name)
        elif role in _LISTED_ROLES:
            vtype = "ordinal" if role in ("stage", "wave") else "categorical"
        elif labelled:
            every = set(labels) | set(codes or ())
            if every <= {"0", "1"}:
                vtype = "flag"
            elif measure == "ordinal":
                vtype = "ordinal"
            elif measure == "nominal":
                vtype = "categorical"
            else:
                vtype = "ordinal" if _consecutive(sorted(every, key=_code_key)) else "categorical"
            if measure in ("nominal", "ordinal"):
                from_measure.append(s.name)
            elif measure == "scale":
                over_measure.append(s.name)
        elif measure in ("nominal", "ordinal", "scale"):
            from_measure.append(s.name)
            if measure == "scale":
                vtype = "numeric"
            elif measure == "ordinal":
                vtype = "ordinal"
            else:
                label_codes = set(labels) or set(codes or ())
                vtype = "flag" if label_codes and label_codes <= {"0", "1"} else "categorical"
        elif s.kind == "text":
            vtype = "categorical"
        elif s.kind == "integer" and zero_one:
            vtype = "flag"
        elif s.kind == "integer" and few:
            vtype = "ordinal" if _consecutive(codes) else "categorical"
        else:
            vtype = "numeric"

        if s.sentinels and role != "id":
            new = [c for c in s.sentinels if c not in missing]
            if new:
                missing += new
                sentinel_cols.setdefault(", ".join(new), []).append(s.name)

        # The value list.
        values: tuple[tuple[str, str], ...] = ()
        if vtype != "numeric" and role != "id":
            if codes is None and not labels:
                if s.kind != "empty":
                    unlisted.append(f"'{s.name}' ({_plural(s.distinct, 'distinct value')})")
            else:
                listed = dict(labels)
                extra = [c for c in (codes or ()) if c not in listed]
                if labels and extra:
                    unlabelled_cols.append(s.name)
                for c in extra:
                    listed[c] = c
                if labels and extra:
                    listed = dict(sorted(listed.items(), key=lambda kv: _code_key(kv[0])))
                if vtype == "flag" and not labels:
                    listed = {"0": "No", "1": "Yes"}
                values = tuple(listed.items())
        if vtype == "flag" and not values:
            values = (("0", "No"), ("1", "Yes"))

        if vtype == "numeric":
            approx = "" if s.values is not None else "about "
            numeric_detail.append(f"'{s.name}' ({approx}{_plural(s.distinct, 'distinct value')})")
        by_type[vtype].append(s.name)

        label = str(sav_labels.get(s.name) or "").strip() or s.name
        variables.append(Variable(
            name=s.name,
            label=label,
            type=vtype,
            group=_ROLE_GROUP.get(role, "Other"),
            role=role,
            values=values,
            positive=("1",) if vtype == "flag" and "1" in dict(values) else (),
            missing=tuple(dict.fromkeys(missing)),
            guessed=f"named '{s.name}'" if role else "",
        ))

    notes = []
    source = f"the data and the {file_kind} file's labels" if sav_meta is not None else "the data"
    guessed = ", ".join(f"{n} → {r}" for n, r in roles.items())
    notes.append(
        f"No dictionary given: {_plural(len(variables), 'variable')} inferred from {source}; "
        + (f"roles guessed from column names: {guessed}." if guessed else "no roles recognised from column names.")
    )
    if roles:
        weight = next((n for n, r in roles.items() if r == "weight"), None)
        notes.append(
            "Roles guessed from names are only guesses until a dictionary confirms them (delete the 'guessed' line)"
            + (f"; '{weight}' is not used to weight estimates until then." if weight else ".")
        )
    notes += [f"{d[0].upper()}{d[1:]}." for d in dropped_roles]
    if over_measure:
        notes.append(
            f"Value labels outweigh the {file_kind} measure level 'scale' (files written by R's haven mark every variable so): "
            f"{_names(over_measure)} read as categories."
        )
    if from_measure:
        notes.append(f"Types of {_names(from_measure)} taken from the {file_kind} measure level.")
    if numeric_detail:
        notes.append(f"Treated as numeric: {_list(numeric_detail)}.")
    if by_type["flag"]:
        notes.append(f"Treated as yes/no flags (codes 0 and 1): {_names(by_type['flag'])}.")
    if by_type["ordinal"]:
        notes.append(f"Treated as ordinal (ordered codes): {_names(by_type['ordinal'])}.")
    if by_type["categorical"]:
        notes.append(f"Treated as categorical: {_names(by_type['categorical'])}.")
    if unlisted:
        notes.append(f"Too many distinct values to list, so no value labels: {_list(unlisted)}.")
    if empty:
        notes.append(f"Empty in every row: {_names(empty)}.")
    for codes_text, cols in sentinel_cols.items():
        notes.append(f"Code(s) {codes_text} treated as missing (no answer) in {_names(cols)}.")
    if sav_missing_cols:
        notes.append(f"The {file_kind} file's missing-value codes are read as no answer in {_names(sav_missing_cols)}.")
    if proposed:
        parts = [f"{code_why} in {_names(cols, 4)}" for code_why, cols in proposed.items()]
        notes.append(
            "Labelled as non-answers, so proposed as missing (no answer): " + _list(parts, 5)
            + ". To count one as an answer, remove it from the variable's 'missing' in the dictionary."
        )
    if unlabelled_cols:
        notes.append(f"Codes with no {file_kind} value label are shown as the code itself in {_names(unlabelled_cols)}.")
    return Dictionary(variables=tuple(variables), title=title, source="inferred", notes=tuple(notes))


__all__ = [
    "ColumnSummary", "LEVELS_MAX", "ROLE_LEVELS_MAX", "ROLE_NAMES", "SENTINELS", "TEXT_LEVELS_MAX",
    "guess_roles", "id_problem", "infer_dictionary", "non_answer_codes", "summarise",
]
