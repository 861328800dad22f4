"""Infer a data dictionary when a CPP gives us a data file and nothing else.

Everything is computed with SQL on a DuckDB relation (one aggregate scan over
every column, one to list the distinct values of the few-valued ones, and a
small extra one only when needed; each in batches of ``BATCH`` columns on a wide
file), so rows are never pulled into pandas. The SQL is written by
``rcs_viz.engine.sql.views``.

Rules, in order (``docs/dictionary.md`` says the same in plain words):

* **Roles** come from column names (case-insensitive, spaces and dashes read as
  ``_``): ``id``/``resp_id``/``pupil_id``/``respondent_id`` → id, ``cpp``/``la``/
  ``local_authority`` → cpp, ``cluster`` → cluster, ``school``/``school_name`` →
  school, ``stage``/``year_group`` → stage, ``wave``/``year``/``survey_year`` → wave,
  ``weight``/``wt``/``survey_weight`` → weight, ``lon``/``longitude``/``x`` → x,
  ``lat``/``latitude``/``y`` → y. Each role goes to the first matching column.
* **Types** from an SPSS file's measure level when there is one (nominal →
  categorical, or flag when the codes are 0/1; ordinal → ordinal; scale →
  numeric), otherwise from the data: text → categorical with the distinct
  values sorted; integers with only 0 and 1 → flag; integers with at most
  ``LEVELS_MAX`` distinct values → ordinal when they are 3 or more consecutive
  codes, else categorical; anything else numeric.
* **Labels** are the SPSS variable and value labels when there are any
  (value labels in code order), otherwise the column name and the codes.
* **Missing codes**: the usual survey sentinels (-9, -99, -8, ...) in a column
  whose other values are all zero or more are declared ``missing``, as are the
  SPSS file's own discrete user-missing values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rcs_viz.engine.sql import ingest
from rcs_viz.data.dictionary import Dictionary, Variable, _code
from rcs_viz.engine.sql.ingest import Col

LEVELS_MAX = 12  # an integer column with at most this many codes is categorical
TEXT_LEVELS_MAX = 500  # a text column with more distinct values gets no value list
BATCH = 64  # columns per summary query (see summarise)
SENTINELS = ("-7", "-8", "-9", "-97", "-98", "-99", "-997", "-998", "-999")

ROLE_NAMES: dict[str, tuple[str, ...]] = {
    "id": ("id", "resp_id", "pupil_id", "respondent_id"),
    "cpp": ("cpp", "la", "local_authority"),
    "cluster": ("cluster",),
    "school": ("school", "school_name"),
    "stage": ("stage", "year_group"),
    "wave": ("wave", "year", "survey_year"),
    "weight": ("weight", "wt", "survey_weight"),
    "x": ("lon", "longitude", "x"),
    "y": ("lat", "latitude", "y"),
}
_NUMERIC_ROLES = ("weight", "x", "y")
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
                codes = [_code(v) for v in (vals or []) if v is not None]
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
            out.append(_code(lo))
            continue
        for code in labelled:  # a range: the labelled codes that fall in it
            try:
                if float(lo) <= float(code) <= float(hi):
                    out.append(code)
            except (TypeError, ValueError):
                pass
    for value in _sav_attr(meta, "missing_user_values").get(column) or ():
        out.append(_code(value))
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


def infer_dictionary(
    data: Any,
    sav_meta: Any = None,
    title: str = "Untitled dataset",
) -> Dictionary:
    """A Dictionary for a data set that came without one.

    ``data`` is a DuckDB relation (summarised here with SQL) or a sequence of
    ``ColumnSummary``. ``sav_meta`` is pyreadstat's metadata for a ``.sav`` file
    (read with ``user_missing=True`` so its missing codes are known). The
    result's ``source`` is ``"inferred"`` and its ``notes`` say what was guessed.
    """
    if hasattr(data, "columns") and hasattr(data, "query"):
        summaries = summarise(data)
    else:
        summaries = list(data)
    names = [s.name for s in summaries]
    roles = guess_roles(names)
    sav_labels = _sav_attr(sav_meta, "column_names_to_labels")
    sav_values = _sav_attr(sav_meta, "variable_value_labels")
    sav_measure = _sav_attr(sav_meta, "variable_measure")

    variables: list[Variable] = []
    by_type: dict[str, list[str]] = {"numeric": [], "flag": [], "ordinal": [], "categorical": []}
    numeric_detail: list[str] = []
    unlisted: list[str] = []
    empty: list[str] = []
    dropped_roles: list[str] = []
    sentinel_cols: dict[str, list[str]] = {}
    sav_missing_cols: list[str] = []
    unlabelled_cols: list[str] = []
    from_measure: list[str] = []

    for s in summaries:
        role = roles.get(s.name)
        if role in _NUMERIC_ROLES and s.kind not in ("integer", "number"):
            dropped_roles.append(f"'{s.name}' is not numeric, so it is not used as {role}")
            role = None
            roles.pop(s.name)

        # SPSS labels, in code order, without the codes SPSS declares missing.
        labels = {_code(k): str(v) for k, v in (sav_values.get(s.name) or {}).items()}
        missing = _sav_missing(sav_meta, s.name, labels) if sav_meta is not None else []
        if missing:
            sav_missing_cols.append(s.name)
        labels = {c: lab for c, lab in sorted(labels.items(), key=lambda kv: _code_key(kv[0])) if c not in missing}
        measure = str(sav_measure.get(s.name) or "unknown").lower()

        codes = list(s.values) if s.values is not None else None
        few = codes is not None and len(codes) <= LEVELS_MAX
        zero_one = codes is not None and 0 < len(codes) and set(codes) <= {"0", "1"}

        # The type.
        if role == "id":
            vtype = "categorical"
        elif role in _NUMERIC_ROLES:
            vtype = "numeric"
        elif measure in ("nominal", "ordinal", "scale") and s.kind != "empty":
            from_measure.append(s.name)
            if measure == "scale":
                vtype = "numeric"
            elif measure == "ordinal":
                vtype = "ordinal"
            else:
                label_codes = set(labels) or set(codes or ())
                vtype = "flag" if label_codes and label_codes <= {"0", "1"} else "categorical"
        elif s.kind == "empty":
            vtype = "categorical"
            empty.append(s.name)
        elif role in _LISTED_ROLES:
            vtype = "ordinal" if role in ("stage", "wave") else "categorical"
        elif s.kind == "text":
            vtype = "categorical"
        elif s.kind == "integer" and zero_one and set(labels) <= {"0", "1"}:
            vtype = "flag"
        elif s.kind == "integer" and (few or (labels and codes is not None and set(codes) <= set(labels))):
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
                extra = [c for c in (codes or ()) if c not in listed and c not in missing]
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
            missing=tuple(missing),
        ))

    notes = []
    source = "the data and the SPSS file's labels" if sav_meta is not None else "the data"
    guessed = ", ".join(f"{n} → {r}" for n, r in roles.items())
    notes.append(
        f"No dictionary given: {_plural(len(variables), 'variable')} inferred from {source}; "
        + (f"roles guessed from column names: {guessed}." if guessed else "no roles recognised from column names.")
    )
    notes += [f"{d[0].upper()}{d[1:]}." for d in dropped_roles]
    if from_measure:
        notes.append(f"Types of {_names(from_measure)} taken from the SPSS measure level.")
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
        notes.append(f"The SPSS file's missing-value codes are read as no answer in {_names(sav_missing_cols)}.")
    if unlabelled_cols:
        notes.append(f"Codes with no SPSS value label are shown as the code itself in {_names(unlabelled_cols)}.")
    return Dictionary(variables=tuple(variables), title=title, source="inferred", notes=tuple(notes))


__all__ = [
    "ColumnSummary", "LEVELS_MAX", "ROLE_NAMES", "SENTINELS", "TEXT_LEVELS_MAX",
    "guess_roles", "infer_dictionary", "summarise",
]
