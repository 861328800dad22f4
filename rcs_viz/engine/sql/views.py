"""The SQL of views: what pages, exports and the CLI count.

Every function here is pure: a description of what to count → (sql,
params). Column names must be in the schema (the dictionary's variables that
exist in the loaded table) and go through `quote`; values are always bound
parameters. Nothing here returns records: every query aggregates.

The SQL that reads a data file in is beside it, in ``ingest``; no module
outside this package writes SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from rcs_viz.data.dictionary import MISSING

TABLE = "respondents"
RECORD_KEY = "__rkey"
ROW_ID = "__rid"  # a record's position in the read-only table: the identity a cell's fingerprint is made of
SKETCH = 8  # min-hashes per cell, with which the ledger tells that one cell's records hold another's
PTABLE_SIZE = 256

INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
                 "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}
FLOAT_TYPES = {"FLOAT", "DOUBLE", "REAL"}


class QueryError(ValueError):
    """A request naming a variable or value the data does not have."""


NUMERIC_OPS = ("<=", ">=", "<", ">")  # longest first, so "<=" is not read as "<"
YES, NO = "1", "0"


@dataclass(frozen=True)
class Flag:
    """A yes/no variable made from answers, such as a need ("SDQ abnormal or young carer").

    It is yes when any (or all) of its conditions hold and no when the answers
    rule that out; when the answers given cannot decide, it is "No answer", so
    a base never counts a pupil as without a need they were not asked about.
    A condition keeps codes of a categorical variable, or compares a numeric
    one with a number written as text: "<41", ">=5".
    """

    name: str
    label: str
    conditions: tuple[tuple[str, tuple[str, ...]], ...]
    combine: str = "any"  # "any" (or) / "all" (and)
    # Judge each pupil on the conditions they answered: one not asked a question (a primary pupil and a
    # secondary-only scale) is decided by the others, and is "No answer" only when they answered none.
    answered_only: bool = False


@dataclass(frozen=True)
class CrossTab:
    """What to count: a plain value, so it can be cached, compared and put in a URL."""

    rows: str
    cols: str | None = None
    panel: str | None = None
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()  # variable → codes kept
    value: str | None = None  # numeric variable summarised by mean and median
    weight: str | None = None  # weight column, when estimates are weighted
    include_missing: bool = True
    flags: tuple[Flag, ...] = ()  # derived yes/no variables the other fields may name

    @property
    def dims(self) -> tuple[str | None, str | None, str | None]:
        return (self.panel, self.rows, self.cols)


def ident(name: str) -> str:
    """The one quoting of a SQL identifier (the loader uses it too, on a file's own columns)."""
    return '"' + name.replace('"', '""') + '"'


def quote(name: str, schema: Mapping[str, str]) -> str:
    """Quote an identifier that the allowlist knows; refuse any other."""
    if name not in schema:
        raise QueryError(f"unknown variable '{name}'")
    return ident(name)


def bind_code(code: str, sql_type: str, variable: str) -> int | float | str:
    """Turn a code as text into the column's own type, so the filter can use it as is."""
    base = sql_type.upper().split("(")[0]
    try:
        if base in INTEGER_TYPES:
            return int(code)
        if base in FLOAT_TYPES or base.startswith("DECIMAL"):
            return float(code)
    except ValueError:
        raise QueryError(f"'{code}' is not a value of '{variable}'") from None
    return code


def numeric_condition(text: str) -> tuple[str, float] | None:
    """"<41" → ("<", 41.0); None when the text is not an operator and a number."""
    for op in NUMERIC_OPS:
        if text.startswith(op):
            try:
                return op, float(text[len(op):])
            except ValueError:
                return None
    return None


def conditions(filters, schema: Mapping[str, str], prefix: str = "f") -> tuple[list[str], dict]:
    """One condition per filter, values bound as $f0, $f1, …"""
    clauses: list[str] = []
    params: dict = {}
    for i, (name, codes) in enumerate(filters):
        col = quote(name, schema)
        if not codes:
            raise QueryError(f"filter on '{name}' keeps no values")
        key = f"{prefix}{i}"
        numeric = schema[name].upper().split("(")[0] in INTEGER_TYPES | FLOAT_TYPES
        compared = numeric_condition(codes[0]) if numeric and len(codes) == 1 else None
        if compared:
            op, params[key] = compared
            clauses.append(f"{col} {op} ${key}")
            continue
        kept = [bind_code(c, schema[name], name) for c in codes if c != MISSING]
        parts = []
        if kept:
            params[key] = kept
            parts.append(f"{col} = ANY(${key})")
        if MISSING in codes:
            parts.append(f"{col} IS NULL")
        clauses.append(parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")")
    return clauses, params


def where_clause(filters, schema: Mapping[str, str], exclude_missing: tuple[str, ...] = ()) -> tuple[str, dict]:
    """Datasette-style: filters → (WHERE text, params)."""
    clauses, params = conditions(filters, schema)
    clauses += [f"{quote(name, schema)} IS NOT NULL" for name in exclude_missing]
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def source(flags: tuple[Flag, ...], schema: Mapping[str, str]) -> tuple[str, dict, dict[str, str]]:
    """The table a view reads: the respondents, plus one text column per flag ('1', '0' or NULL).

    Returns the FROM text, its parameters and the schema widened by the flags,
    so filters, rows and columns can name a flag like any other variable.
    """
    if not flags:
        return TABLE, {}, dict(schema)
    widened = dict(schema)
    exprs, params = [], {}
    for j, flag in enumerate(flags):
        if flag.name in widened:
            raise QueryError(f"'{flag.name}' is already a variable: give the derived one another name")
        if flag.combine not in ("any", "all"):
            raise QueryError(f"a derived variable combines its conditions by 'any' or 'all', not '{flag.combine}'")
        if not flag.conditions:
            raise QueryError(f"'{flag.label}' has no conditions")
        clauses, p = conditions(flag.conditions, schema, prefix=f"g{j}_")
        params.update(p)
        joiner = " OR " if flag.combine == "any" else " AND "
        if flag.answered_only:  # an unanswered condition neither makes nor breaks the flag
            neutral = "FALSE" if flag.combine == "any" else "TRUE"
            test = "(" + joiner.join(f"COALESCE({c}, {neutral})" for c in clauses) + ")"
            none = " AND ".join(f"({c}) IS NULL" for c in clauses)
            exprs.append(f"CASE WHEN {none} THEN NULL WHEN {test} THEN '{YES}' ELSE '{NO}' END AS {ident(flag.name)}")
        else:
            test = "(" + joiner.join(clauses) + ")"
            exprs.append(f"CASE WHEN {test} THEN '{YES}' WHEN NOT {test} THEN '{NO}' END AS {ident(flag.name)}")
        widened[flag.name] = "VARCHAR"
    return f"(SELECT *, rowid AS {ROW_ID}, {', '.join(exprs)} FROM {TABLE}) AS {TABLE}", params, widened


def _key(name: str | None, alias: str, schema: Mapping[str, str]) -> str:
    """A grouping key as text: NULL is the margin, MISSING is 'No answer'."""
    if name is None:
        return f"CAST(NULL AS VARCHAR) AS {alias}"
    col = quote(name, schema)
    return (f"CASE WHEN GROUPING({col}) = 1 THEN NULL WHEN {col} IS NULL THEN '{MISSING}' "
            f"ELSE CAST({col} AS VARCHAR) END AS {alias}")


def fingerprints(row_id: str, where: str = "", suffix: str = "") -> list[str]:
    """A cell's record set, summarised for the ledger of released figures (never shown).

    `fp`: an XOR of the records' hashes, with `n` the set's identity (the same
    records give the same fingerprint in any view); `mh0`… the least hash of
    the records under each of SKETCH hash functions (a MinHash sketch): where
    one set holds another, each least hash of the larger is at most the
    smaller's, and mostly equal to it.
    """
    f = f" FILTER (WHERE {where})" if where else ""
    return ([f"CAST(bit_xor(hash({row_id}, 1)){f} AS UBIGINT) AS fp{suffix}"]
            + [f"min(hash({row_id}, {j + 2})){f} AS mh{j}{suffix}" for j in range(SKETCH)])


def crosstab(q: CrossTab, schema: Mapping[str, str], fingerprinted: bool = True) -> tuple[str, dict]:
    """One query for a table and all its margins: GROUP BY CUBE over the dimensions used.

    `fingerprinted`: with each cell's record-set fingerprints (`fingerprints`), which only the ledger reads;
    without them when no ledger judges the view, since hashing every record nine times per grouping set is
    much of the query's work.
    """
    dims = [d for d in q.dims if d is not None]
    if len(set(dims)) != len(dims):
        raise QueryError("rows, columns and panel must be different variables")
    table, flag_params, schema = source(q.flags, schema)
    group_cols = [quote(d, schema) for d in dims]
    select = [
        _key(q.panel, "panel", schema),
        _key(q.rows, "row", schema),
        _key(q.cols, "col", schema),
        "COUNT(*) AS n",
        f"CAST(SUM({RECORD_KEY}) % {PTABLE_SIZE} AS INTEGER) AS ckey",
        *(fingerprints(ROW_ID if q.flags else "rowid") if fingerprinted else ()),  # a derived table: no rowid
    ]
    if q.weight:
        w = quote(q.weight, schema)
        select += [f"SUM({w}) AS w_sum", f"SUM({w} * {w}) AS w_sumsq"]
    if q.value:
        v = quote(q.value, schema)
        select += [
            f"COUNT({v}) AS v_n",
            f"SUM({v}) AS v_sum",
            f"SUM({v} * {v}) AS v_sumsq",
            f"quantile_cont({v}, 0.5) AS v_median",
        ]
        if q.weight:
            select += [
                f"SUM({w}) FILTER (WHERE {v} IS NOT NULL) AS vw_sum",
                f"SUM({w} * {w}) FILTER (WHERE {v} IS NOT NULL) AS vw_sumsq",
                f"SUM({w} * {v}) AS vw_ysum",
                f"SUM({w} * {v} * {v}) AS vw_yysum",
            ]
    exclude = () if q.include_missing else tuple(dims)
    where, params = where_clause(q.filters, schema, exclude)
    params.update(flag_params)
    sql = (
        "SELECT " + ",\n       ".join(select)
        + f"\nFROM {table}"
        + (f"\n{where}" if where else "")
        + f"\nGROUP BY CUBE({', '.join(group_cols)})"
    )
    return sql, params


def base_counts(filters, schema: Mapping[str, str], fingerprinted: bool = True) -> tuple[str, dict]:
    """Respondents left by no filter, the first filter, the first two, … all: one scan.

    Each record is counted once, at `depth`: how many of the filters, in
    order, it passes before the first it fails. The base left by the first i
    filters is then the records of depth i or more, so the caller adds the
    groups up from the deepest: counts and cell keys by sums, fingerprints by
    XOR and sketches by minimum (`fp`, `mh0`…, for the ledger; only if `fingerprinted`, as in `crosstab`).
    """
    clauses, params = conditions(filters, schema)
    depth = ("CASE " + " ".join(f"WHEN NOT COALESCE({c}, FALSE) THEN {i}" for i, c in enumerate(clauses))
             + f" ELSE {len(clauses)} END") if clauses else "0"
    select = [f"{depth} AS depth", "COUNT(*) AS n", f"SUM({RECORD_KEY}) AS k",
              *(fingerprints("rowid") if fingerprinted else ())]
    return f"SELECT {', '.join(select)} FROM {TABLE} GROUP BY depth", params


def _code(col: str) -> str:
    """A quoted column's value as a code: its text, or the 'no answer' key where it is empty."""
    return f"CASE WHEN {col} IS NULL THEN '{MISSING}' ELSE CAST({col} AS VARCHAR) END"


def distinct_codes(name: str, schema: Mapping[str, str], within=()) -> tuple[str, dict]:
    """The codes a categorical column holds (optionally within some filters); no counts."""
    where, params = where_clause(within, schema)
    return (f"SELECT DISTINCT {_code(quote(name, schema))} AS code FROM {TABLE}"
            + (f" {where}" if where else "")), params


def code_combinations(names: tuple[str, ...], schema: Mapping[str, str]) -> tuple[str, dict]:
    """Every combination of codes the columns `names` hold together in the whole table (no filter, every
    wave), as columns c0, c1, ...; no counts. Used for place and stage columns only, whose combinations are
    public structure (which stages a school teaches)."""
    keys = ", ".join(f"{_code(quote(n, schema))} AS c{i}" for i, n in enumerate(names))
    return f"SELECT DISTINCT {keys} FROM {TABLE}", {}


def answered_stages(name: str, stage: str, schema: Mapping[str, str]) -> tuple[str, dict]:
    """The stage codes (no answer where none is recorded) of everyone who answered `name`, in the whole
    table, as column c0; no counts. Checks a question's declared routing against the data."""
    return (f"SELECT DISTINCT {_code(quote(stage, schema))} AS c0 FROM {TABLE} "
            f"WHERE {quote(name, schema)} IS NOT NULL"), {}


def places(school: str, cluster: str, x: str, y: str, schema: Mapping[str, str]) -> tuple[str, dict]:
    """Each school's cluster and location, with their spread, so the caller can check they are the school's own.

    No counts: a school's place is public structure. The spread (min and
    max) lets the caller refuse coordinates that vary within a school, which
    would be pupils' homes, not school locations.
    """
    s, c, xq, yq = (quote(n, schema) for n in (school, cluster, x, y))
    return (f"SELECT CAST({s} AS VARCHAR) AS code, CAST(MIN({c}) AS VARCHAR) AS cluster, "
            f"MIN({xq}) AS lon, MAX({xq}) AS lon_max, MIN({yq}) AS lat, MAX({yq}) AS lat_max "
            f"FROM {TABLE} WHERE {s} IS NOT NULL GROUP BY {s}"), {}


def columns() -> tuple[str, dict]:
    """The loaded table's columns and types, from which the schema is built."""
    return ("SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = $table ORDER BY ordinal_position"), {"table": TABLE}


def strata_counts(unit: str, strata: tuple[str, ...], flags: tuple[Flag, ...], indicator: str, filters,
                  schema: Mapping[str, str]) -> tuple[str, dict]:
    """Pupils, and pupils with the indicator, per unit and stratum (SIMD quintile x sex x stage, say).

    For indirect standardisation only (`engine.similar`): these are true,
    often small counts, read inside the engine and never released. Pupils
    without an answer on the indicator are left out, as in the crosstab's
    base; a missing stratum value is a stratum of its own.
    """
    table, flag_params, widened = source(flags, schema)
    keys = [quote(name, widened) for name in (unit, *strata)]
    ind = quote(indicator, widened)
    select = [f"CAST({col} AS VARCHAR) AS k{i}" for i, col in enumerate(keys)]
    select += ["COUNT(*) AS n", f"COUNT(*) FILTER (WHERE CAST({ind} AS VARCHAR) = '{YES}') AS events"]
    where, params = where_clause(filters, widened, exclude_missing=(indicator,))
    params.update(flag_params)
    groups = ", ".join(f"k{i}" for i in range(len(keys)))
    return (f"SELECT {', '.join(select)} FROM {table}" + (f" {where}" if where else "") + f" GROUP BY {groups}"), params
