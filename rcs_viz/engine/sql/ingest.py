"""The SQL that reads, checks and writes a data file, and summarises one for inference.

Used by ``rcs_viz.engine.load`` and ``rcs_viz.engine.infer``; the notes below say
how it quotes names and binds values before any dictionary vouches for them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


from rcs_viz.engine.sql.views import RECORD_KEY, TABLE, ident


# =========================================================================== ingest: reading and checking a data file
#
# The loader (rcs_viz.engine.load) and dictionary inference (rcs_viz.engine.infer) read a
# CPP's file before any dictionary vouches for its columns, so there is no
# allowlist to check names against yet: the file's own column names are quoted
# with `ident` (any text, quotes doubled, is a safe identifier). Every value,
# such as a dictionary's codes and missing codes, the salt or a setting, is a
# bound parameter, collected in a `Params` as the checks are planned. Two kinds
# of text cannot be bound, and hold no value of anyone's but this module's or
# the file's own:
#
# * a view's definition (DuckDB refuses parameters there): the data file's
#   path, its column names and its separator, given to read_csv/read_parquet,
#   and the dictionary's `missing_text` markers ("NA", "NULL", ...), which the
#   view over a text file turns into NULL, are written as literals by `lit`;
# * inference's summaries run on a DuckDB relation, whose `query` takes no
#   parameters: they hold only fixed numbers (the -9-style codes).

SOURCE = "src"  # the view over the data file's columns
RAW_SOURCE = "src_raw"  # a registered Arrow table (Excel, SPSS), which may also hold the row numbers
FILE_SOURCE = "src_file"  # a CSV file's columns as read, before its missing-text markers become NULL
_SCRATCH = "__probe"  # a scratch copy of one column, in file order (see bad_rows_in_order)
INT_RE = "-?(0|[1-9][0-9]{0,17})"  # a canonical integer code: no leading zeros, fits BIGINT
_PLACEHOLDER = re.compile(r'"(?:[^"]|"")*"|\'(?:[^\']|\'\')*\'|\$(\w+)')  # names and strings skipped


def lit(text: str) -> str:
    """A SQL string literal: only for what DuckDB cannot bind (a view's definition)."""
    return "'" + text.replace("'", "''") + "'"


class Params(dict):
    """Values bound so far, each under its own name ($v0, $v1, …), for one loader's queries."""

    def bind(self, value: Any) -> str:
        key = f"v{len(self)}"
        self[key] = value
        return "$" + key

    def used_by(self, sql: str) -> dict:
        """The values ``sql`` names (DuckDB refuses values a query does not use)."""
        names = {m.group(1) for m in _PLACEHOLDER.finditer(sql) if m.group(1)}
        return {k: v for k, v in self.items() if k in names}


def as_number(code: str) -> float | None:
    """A code's value as a finite number, or None when it is not a number."""
    try:
        x = float(code)
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def is_int_code(code: str) -> bool:
    """True for a canonical integer code: "12", "-9", not "012" or "1.5"."""
    return re.fullmatch(INT_RE, code) is not None


def in_codes(expr: str, codes: Iterable[str], params: Params) -> str:
    """``expr IN (...)`` over text codes, bound; FALSE when there are none."""
    codes = list(codes)
    if not codes:
        return "FALSE"
    return f"({expr} IN ({', '.join(params.bind(c) for c in codes)}))"


def in_numbers(expr: str, numbers: Iterable[float | int], params: Params) -> str:
    """``expr IN (...)`` over numbers, bound (whole ones as integers); FALSE when there are none."""
    numbers = list(dict.fromkeys(numbers))
    if not numbers:
        return "FALSE"
    return f"({expr} IN ({', '.join(params.bind(_whole(x)) for x in numbers)}))"


def _whole(x: float | int) -> float | int:
    return int(x) if isinstance(x, float) and x.is_integer() and abs(x) < 1e15 else x


def _in_fixed_numbers(expr: str, numbers: Iterable[int]) -> str:
    """``expr IN (...)`` over this module's own whole numbers, written out (for a relation's query)."""
    numbers = list(dict.fromkeys(numbers))
    if not numbers:
        return "FALSE"
    return f"({expr} IN ({', '.join(str(int(x)) for x in numbers)}))"


def count_if(pred: str) -> str:
    """Rows where ``pred`` holds, as an aggregate."""
    # sum(CASE ...) is several times faster than count(*) FILTER (...) in DuckDB 2.0
    return f"sum(CASE WHEN {pred} THEN 1 ELSE 0 END)"


class Col:
    """SQL fragments for one source column, chosen by its DuckDB type.

    Values are read the same way everywhere (inference, checks, writing):

    * ``text``: the value's canonical code text, NULL when blank. Codes compare
      as text, and 1, 1.0, "1.0", "1.00" and True are all the code "1" (as in
      ``rcs_viz.data.dictionary.code_text``); other text is trimmed of spaces.
    * ``num``: the value as a finite DOUBLE, NULL when blank, text, NaN or infinite.
    * ``present``: true when the value is not blank.

    ``text`` is the slow one on text columns (trim and a regular expression), so
    checks test cheap fragments first and only then ``text``.
    """

    def __init__(self, name: str, kind: str):
        self.name, self.kind = name, kind
        self.raw = ident(name)

    @property
    def text(self) -> str:
        c = self.raw
        if self.kind == "int":
            return f"CAST({c} AS VARCHAR)"
        if self.kind == "bool":
            return f"CAST(CAST({c} AS TINYINT) AS VARCHAR)"
        if self.kind == "float":
            d = f"CAST({c} AS DOUBLE)"
            return (
                f"(CASE WHEN NOT isfinite({d}) THEN NULL "
                f"WHEN {d} = trunc({d}) AND abs({d}) < 1e15 THEN CAST(CAST({d} AS BIGINT) AS VARCHAR) "
                f"ELSE CAST({d} AS VARCHAR) END)"
            )
        v = f"NULLIF(trim(CAST({c} AS VARCHAR)), '')"
        return (
            f"(CASE WHEN contains({v}, '.') AND regexp_full_match({v}, '-?[0-9]+\\.0+') "
            f"THEN regexp_replace({v}, '\\.0+$', '') ELSE {v} END)"
        )

    @property
    def num(self) -> str:
        c = self.raw
        if self.kind == "int":
            return f"CAST({c} AS DOUBLE)"
        if self.kind == "bool":
            return f"CAST(CAST({c} AS TINYINT) AS DOUBLE)"
        if self.kind == "float":
            d = f"CAST({c} AS DOUBLE)"
        elif self.kind == "text":
            d = f"TRY_CAST({c} AS DOUBLE)"
        else:
            d = f"TRY_CAST(CAST({c} AS VARCHAR) AS DOUBLE)"
        return f"(CASE WHEN isfinite({d}) THEN {d} END)"

    @property
    def present(self) -> str:
        c = self.raw
        if self.kind in ("int", "bool"):
            return f"({c} IS NOT NULL)"
        if self.kind == "float":
            return f"coalesce(isfinite(CAST({c} AS DOUBLE)), FALSE)"
        if self.kind == "text":
            return f"({c} IS NOT NULL AND {c} <> '' AND NOT (starts_with({c}, ' ') AND trim({c}) = ''))"
        return f"({self.text} IS NOT NULL)"

    @property
    def whole(self) -> str:
        """True when the value is a whole number (as a number: "01" and "1.0" count)."""
        return f"({self.num} = trunc({self.num}) AND abs({self.num}) < 1e15)"

    @property
    def leading_zero(self) -> str:
        """True for text such as "01" or "007", which are codes, not numbers."""
        if self.kind != "text":
            return "FALSE"
        return f"(contains({self.raw}, '0') AND regexp_full_match({self.raw}, ' *-?0[0-9]+(\\.[0-9]*)? *'))"


# --------------------------------------------------------------------------- ingest: settings and sources

def set_memory_limit(limit: str) -> tuple[str, dict]:
    return "SET memory_limit = $limit", {"limit": limit}


def keep_insertion_order() -> tuple[str, dict]:
    return "SET preserve_insertion_order = true", {}


def no_type_pushdown() -> tuple[str, dict]:
    """DuckDB 2.0 pushes TRY_CAST(text AS DOUBLE) into the CSV reader as a typed read,
    which then fails on the first non-number instead of giving NULL."""
    return "SET disabled_optimizers = 'type_pushdown'", {}


def checkpoint() -> tuple[str, dict]:
    return "CHECKPOINT", {}


def csv_source(path: str, columns: list[str], delim: str, missing_text: list[str] | None = None) -> str:
    """A view over a CSV file, every column read as text (a view: nothing can be bound).

    With ``missing_text`` it is `src`, where blanks and those texts are NULL;
    without, `src_file`, the file as it is (only blanks NULL), for counting them.
    """
    struct = "{" + ", ".join(f"{lit(n)}: 'VARCHAR'" for n in columns) + "}"
    view, nulls = FILE_SOURCE, ""
    if missing_text is not None:
        view = SOURCE
        nulls = ", nullstr = [" + ", ".join(lit(t) for t in ["", *missing_text]) + "]"
    return (
        f"CREATE VIEW {view} AS SELECT * FROM read_csv({lit(path)}, columns = {struct}, "
        f"header = true, auto_detect = false, delim = {lit(delim)}, quote = '\"', escape = '\"', "
        f"strict_mode = true, null_padding = false{nulls})"
    )


def parquet_source(path: str) -> str:
    """View `src` over a Parquet file (a view: nothing can be bound)."""
    return f"CREATE VIEW {SOURCE} AS SELECT * FROM read_parquet({lit(path)})"


def arrow_source(row_col: str | None = None) -> str:
    """View `src` over the registered table `src_raw`, without its row-number column if it has one."""
    exclude = f" EXCLUDE ({ident(row_col)})" if row_col else ""
    return f"CREATE VIEW {SOURCE} AS SELECT *{exclude} FROM {RAW_SOURCE}"


def text_counts(columns: list[tuple[str, bool, bool]]) -> list[str]:
    """Aggregates over text columns, for the load's notes: per (name, present, spaces), the values that
    are not blank (when ``present``), and (when ``spaces``: categories and ids) the values with spaces
    around them, which trimming merges with the same text without, and one such value. Added to the
    check scan of `src`; with ``raw_counts`` of the file as read, the difference is the values that
    missing-text markers made blank (cheaper than testing every value against the markers).
    """
    exprs = []
    for name, present, spaces in columns:
        c = ident(name)
        if present:
            exprs.append(f"count({c})")
        if spaces:
            padded = f"((starts_with({c}, ' ') OR ends_with({c}, ' ')) AND trim({c}) <> '')"
            exprs += [count_if(padded), f"min(CASE WHEN {padded} THEN {c} END)"]
    return exprs


def raw_counts(columns: list[str]) -> str:
    """Values that are not blank, per column of a CSV file as read (`src_file`), before its markers."""
    return f"SELECT {', '.join(f'count({ident(n)})' for n in columns)} FROM {FILE_SOURCE}"


def marker_masks(relation: str, columns: list[str], markers: list[str], params: Params) -> tuple[str, dict]:
    """Which missing-text markers occur in each column, as a bit mask (marker i is bit i), as the
    CSV reader's `nullstr` matches them (see ``padded_markers``)."""
    whens = " ".join(
        f"WHEN {{c}} IN ({', '.join(params.bind(v) for v in padded_markers([m]))}) THEN {1 << i}"
        for i, m in enumerate(markers)
    )
    exprs = [f"bit_or(CASE {whens.format(c=ident(name))} END)" for name in columns]
    sql = f"SELECT {', '.join(exprs)} FROM {relation}"
    return sql, params.used_by(sql)


def padded_markers(markers: list[str]) -> list[str]:
    """Missing-text markers as written, and with one space before, after or both ("NA", " NA", "NA ", " NA ")."""
    return [v for m in markers for v in (m, f" {m}", f"{m} ", f" {m} ")]


def source_rows() -> str:
    """Every row of `src`, as a relation's query (to read its columns, or to summarise it)."""
    return f"SELECT * FROM {SOURCE}"


def any_row() -> tuple[str, dict]:
    return f"SELECT 1 FROM {SOURCE} LIMIT 1", {}


# --------------------------------------------------------------------------- ingest: checks and the stored values

@dataclass
class ColumnPlan:
    """How one dictionary variable is checked and stored."""

    var: Any
    col: str  # the file's column
    kind: str  # the file column's type kind
    checks: list[tuple[str, str, str | None]]  # (what, cheap, exact): a row is bad when both hold
    storage: str | None  # "double" | "bigint" | "varchar"; None until `probe` is counted
    probe: tuple[str, str | None] = ("FALSE", None)  # (cheap, exact): a value that is not a whole-number code
    _values: dict[str, str] = field(default_factory=dict)

    @property
    def value(self) -> str:
        return self._values[self.storage]

    @property
    def key_text(self) -> str:
        """The stored value as text, for the record key."""
        v = self.value
        if self.storage == "bigint":
            return f"CAST({v} AS VARCHAR)"
        if self.storage == "double":
            return (
                f"(CASE WHEN {v} = trunc({v}) AND abs({v}) < 1e15 THEN CAST(CAST({v} AS BIGINT) AS VARCHAR) "
                f"ELSE CAST({v} AS VARCHAR) END)"
            )
        return v


def column_plan(v, col: str, kind: str, params: Params) -> ColumnPlan:
    """Checks and the stored value for variable ``v`` read from column ``col``.

    Each check is a pair of SQL predicates (cheap, exact): a row is bad when
    both hold. ``cheap`` is a fast superset test run over every row; ``exact``
    (None when ``cheap`` is already exact) uses the slower canonical text and is
    only evaluated, in a second scan, for columns where ``cheap`` found rows.
    On non-text columns every test is cheap. The variable's codes are bound in
    ``params``.
    """
    c = Col(col, kind)
    text = kind == "text"
    miss_text = f"coalesce({in_codes(c.text, v.missing, params)}, FALSE)"
    miss_nums = [x for x in (as_number(m) for m in v.missing) if x is not None]
    miss_ints = [int(x) for x in miss_nums if x.is_integer() and abs(x) < 1e15]
    raw = c.raw
    odd = f"({raw} = '' OR starts_with({raw}, ' ') OR ends_with({raw}, ' '))"  # text that trimming may change
    checks: list[tuple[str, str, str | None]] = []

    if v.role == "id":
        exact = f"(NOT {c.present} OR {miss_text})"
        if text:
            cheap = f"({raw} IS NULL OR {odd}"
            if v.missing:
                cheap += (
                    f" OR coalesce({in_codes(raw, v.missing, params)}, FALSE) OR contains({raw}, '.')"
                    f" OR coalesce({in_numbers(c.num, miss_nums, params)}, FALSE)"
                )
            checks.append(("id_empty", cheap + ")", exact))
        else:
            checks.append(("id_empty", exact, None))

    number = f"(CASE WHEN {in_numbers(c.num, miss_nums, params)} THEN NULL ELSE {c.num} END)"
    if kind in ("int", "bool"):
        x = raw if kind == "int" else f"CAST({raw} AS TINYINT)"
        whole = f"CAST(CASE WHEN {in_numbers(x, miss_ints, params)} THEN NULL ELSE {x} END AS BIGINT)"
    else:
        whole = f"CAST({number} AS BIGINT)"
    values = {
        "double": f"CAST({number} AS DOUBLE)",
        "bigint": whole,
        "varchar": f"CAST(CASE WHEN {miss_text} THEN NULL ELSE {c.text} END AS VARCHAR)",
    }
    plan = ColumnPlan(var=v, col=col, kind=kind, checks=checks, storage=None, _values=values)

    if v.type == "numeric":
        plan.storage = "double"
        if kind in ("text", "other"):
            exact = f"({c.present} AND {c.num} IS NULL AND NOT {miss_text})"
            checks.append(("numeric", f"({raw} IS NOT NULL AND {c.num} IS NULL)", exact) if text else ("numeric", exact, None))
        return plan

    codes = [code for code, _ in v.values]
    accepted = codes + list(v.missing)
    if codes and all(is_int_code(code) for code in codes):
        plan.storage = "bigint"
        allowed = [int(code) for code in codes] + miss_ints
        if kind in ("int", "bool"):
            x = raw if kind == "int" else f"CAST({raw} AS TINYINT)"
            checks.append(("values", f"(NOT {in_numbers(x, allowed, params)})", None))
        else:
            cheap = (
                f"({c.present if not text else raw + ' IS NOT NULL'} "
                f"AND NOT coalesce({in_numbers(c.num, allowed, params)}, FALSE))"
            )
            exact = f"({c.present} AND NOT coalesce({in_codes(c.text, accepted, params)}, FALSE))"
            checks.append(("values", cheap, exact))
    elif codes:
        plan.storage = "varchar"
        exact = f"({c.present} AND NOT coalesce({in_codes(c.text, accepted, params)}, FALSE))"
        if text:
            cheap = f"({raw} IS NOT NULL AND NOT coalesce({in_codes(raw, accepted, params)}, FALSE))"
            checks.append(("values", cheap, exact))
        else:
            checks.append(("values", exact, None))
    elif kind in ("int", "bool"):
        plan.storage = "bigint"
    else:
        exact = f"({c.present} AND NOT (coalesce({c.whole}, FALSE) AND NOT {c.leading_zero}) AND NOT {miss_text})"
        if text:
            plain = (
                f"({raw} = '0' OR NOT (starts_with({raw}, '0') OR starts_with({raw}, '-0') OR {odd}))"
            )
            plan.probe = (f"({raw} IS NOT NULL AND NOT coalesce({c.whole} AND {plain}, FALSE))", exact)
        else:
            plan.probe = (exact, None)
    return plan


def both(cheap: str, exact: str | None) -> str:
    """A check's predicate: ``cheap`` and, when there is one, ``exact``."""
    return cheap if exact is None else f"({cheap} AND {exact})"


def check_counts(preds: list[str], params: Params, rows: bool = True, extra: list[str] = ()) -> tuple[str, dict]:
    """One scan of `src`: the row count (when ``rows``), a count for each predicate, then the ``extra``
    aggregates (see ``text_counts``)."""
    exprs = (["count(*)"] if rows else []) + [count_if(p) for p in preds] + list(extra)
    sql = "SELECT " + ", ".join(exprs) + f" FROM {SOURCE}"
    return sql, params.used_by(sql)


def _record_key(params: Params, salt: str, id_text: str, wave_text: str) -> str:
    key = f"{params.bind(salt)} || chr(31) || coalesce({id_text}, '') || chr(31) || coalesce({wave_text}, '')"
    return f"CAST(('0x' || substr(md5({key}), 1, 2)) AS UTINYINT)"


def write_table(
    plans: list[ColumnPlan], id_plan: ColumnPlan | None, wave_plan: ColumnPlan | None, salt: str, params: Params
) -> tuple[str, dict]:
    """Table `respondents` from `src`: each variable's stored value, then the record key.

    The key is the first byte of md5(salt, id, wave); without an id it is NULL
    here, and `row_record_keys` fills it in from the row order.
    """
    exprs = [f"{p.value} AS {ident(p.var.name)}" for p in plans]
    if id_plan is not None:
        wave_t = wave_plan.key_text if wave_plan else "''"
        exprs.append(f"{_record_key(params, salt, id_plan.key_text, wave_t)} AS {RECORD_KEY}")
    else:
        exprs.append(f"CAST(NULL AS UTINYINT) AS {RECORD_KEY}")
    sql = f"CREATE TABLE {TABLE} AS SELECT {', '.join(exprs)} FROM {SOURCE}"
    return sql, params.used_by(sql)


def row_record_keys(salt: str) -> tuple[str, dict]:
    """The record key from the record number (1-based, file order), for a dictionary without an id."""
    params = Params()
    key = _record_key(params, salt, "CAST(rowid + 1 AS VARCHAR)", "''")
    sql = f"UPDATE {TABLE} SET {RECORD_KEY} = {key}"
    return sql, dict(params)


def duplicate_ids(id_name: str, wave_name: str | None) -> tuple[str, dict]:
    """The most repeated id (per wave), its count, and how many ids repeat in how many rows."""
    idc = ident(id_name)
    keys = f"{idc}, {ident(wave_name)}" if wave_name else idc
    return (
        f"SELECT {keys}, n, count(*) OVER (), sum(n) OVER () FROM ("
        f"SELECT {keys}, count(*) AS n FROM {TABLE} WHERE {idc} IS NOT NULL GROUP BY ALL HAVING count(*) > 1"
        f") ORDER BY n DESC, {keys} LIMIT 1"
    ), {}


# --------------------------------------------------------------------------- ingest: describing a failed check

def first_bad_row(relation: str, row_col: str, text: str, pred: str, params: Params) -> tuple[str, dict]:
    """The first bad row's number and value, from a relation that holds row numbers."""
    sql = f"SELECT {ident(row_col)}, {text} FROM {relation} WHERE {pred} ORDER BY {ident(row_col)} LIMIT 1"
    return sql, params.used_by(sql)


def bad_rows_in_order(text: str, pred: str, params: Params) -> tuple[str, dict]:
    """A one-column scratch copy of `src` in file order: its rowid is the position in the file."""
    sql = (
        f"CREATE OR REPLACE TEMP TABLE {_SCRATCH} AS SELECT CASE WHEN {pred} THEN {text} END AS v, "
        f"({pred}) AS bad FROM {SOURCE}"
    )
    return sql, params.used_by(sql)


def first_bad_in_order() -> tuple[str, dict]:
    return f"SELECT rowid, v FROM {_SCRATCH} WHERE bad ORDER BY rowid LIMIT 1", {}


def drop_bad_rows() -> tuple[str, dict]:
    return f"DROP TABLE {_SCRATCH}", {}


def bad_values(text: str, pred: str, params: Params, limit: int = 6) -> tuple[str, dict]:
    """The commonest bad values and their counts."""
    sql = f"SELECT {text} AS v, count(*) AS n FROM {SOURCE} WHERE {pred} GROUP BY v ORDER BY n DESC, v LIMIT {limit}"
    return sql, params.used_by(sql)


def bad_value_count(text: str, pred: str, params: Params) -> tuple[str, dict]:
    sql = f"SELECT count(DISTINCT {text}) FROM {SOURCE} WHERE {pred}"
    return sql, params.used_by(sql)


# --------------------------------------------------------------------------- ingest: summaries for inference
# On a DuckDB relation: `relation.query(SCAN, sql)` names the relation SCAN inside sql.

SCAN = "__t"


def scan(exprs: list[str]) -> str:
    """One row of aggregates over the relation."""
    return f"SELECT {', '.join(exprs)} FROM {SCAN}"


def column_stats(c: Col, sentinels: list[int]) -> list[str]:
    """Seven aggregates: present, maybe blank, numbers, whole numbers, leading zeros,
    approximate distinct count, -9-style codes."""
    if c.kind == "text":
        r = c.raw
        present = f"count({r})"
        maybe_blank = count_if(f"{r} = '' OR starts_with({r}, ' ')")
        lead0 = count_if(
            f"(starts_with({r}, '0') AND {r} <> '0' AND NOT starts_with({r}, '0.')) "
            f"OR (starts_with({r}, '-0') AND {r} <> '-0' AND NOT starts_with({r}, '-0.'))"
        )
    else:
        present, maybe_blank, lead0 = count_if(c.present), "0", "0"
    return [
        present,
        maybe_blank,
        f"count({c.num})",
        count_if(c.whole),
        lead0,
        f"approx_count_distinct({c.raw})",
        count_if(_in_fixed_numbers(c.num, sentinels)),
    ]


def blank_count(c: Col) -> str:
    """Values that are there but blank once trimmed."""
    return count_if(f"{c.raw} IS NOT NULL AND {c.text} IS NULL")


def sentinel_mask(c: Col, sentinels: list[int]) -> str:
    """Which -9-style codes occur, as a bit mask (cheaper than a list(DISTINCT ...) per column)."""
    mask = " ".join(f"WHEN {c.num} = {x} THEN {1 << i}" for i, x in enumerate(sentinels))
    return f"bit_or(CASE {mask} END)"


def smallest_other(c: Col, sentinels: list[int]) -> str:
    """The smallest number that is not a -9-style code."""
    return f"min(CASE WHEN NOT {_in_fixed_numbers(c.num, sentinels)} THEN {c.num} END)"


def listed_value(c: Col, kind: str) -> str:
    """A value as inference lists it: a whole number, a number or a code's text."""
    return f"CAST({c.num} AS BIGINT)" if kind == "integer" else c.num if kind == "number" else c.text


def distinct_values(exprs: list[str]) -> str:
    """Distinct (k, list of values) pairs; k is the position of the expression in ``exprs``."""
    cols = ", ".join(f"{expr} AS {ident(str(j))}" for j, expr in enumerate(exprs))
    return (
        f"SELECT k, list(v) FROM (SELECT DISTINCT k, v FROM (UNPIVOT (SELECT {cols} FROM {SCAN}) "
        "ON COLUMNS(*) INTO NAME k VALUE v)) GROUP BY k"
    )


def id_clashes(id_col: Col, wave_col: Col | None) -> str:
    """Over the relation: rows with no id; then how many ids repeat (within a wave), in how many rows,
    the most repeated one and how often it appears."""
    i = id_col.text
    w = wave_col.text if wave_col is not None else "NULL"
    return (
        f"SELECT (SELECT coalesce({count_if(f'{i} IS NULL')}, 0) FROM {SCAN}), count(*), coalesce(sum(n), 0), "
        f"arg_max(i, n), max(n) FROM ("
        f"SELECT {i} AS i, {w} AS w, count(*) AS n FROM {SCAN} WHERE {i} IS NOT NULL GROUP BY ALL HAVING count(*) > 1)"
    )
