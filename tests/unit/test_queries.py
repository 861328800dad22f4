"""The query builder as strings and params (Datasette's test_build_where style)."""

import ast
import re
from pathlib import Path

import duckdb
import pytest

import rcs_viz
from rcs_viz.data import dictionary as dictmod
from rcs_viz.engine.sql import ingest, views

from rcs_viz.data.dictionary import MISSING
from rcs_viz.engine.sql.views import CrossTab, QueryError, base_counts, crosstab, quote, where_clause

SCHEMA = {"sex": "TINYINT", "school": "VARCHAR", "att": "DOUBLE", "wt": "DOUBLE",
          'we"ird': "INTEGER", "__rkey": "UTINYINT"}


@pytest.mark.parametrize("filters,sql,params", [
    ((), "", {}),
    ((("sex", ("1",)),), 'WHERE "sex" = ANY($f0)', {"f0": [1]}),
    ((("sex", ("1", "2")), ("school", ("Hillview",))),
     'WHERE "sex" = ANY($f0) AND "school" = ANY($f1)', {"f0": [1, 2], "f1": ["Hillview"]}),
    ((("sex", (MISSING,)),), 'WHERE "sex" IS NULL', {}),
    ((("sex", ("2", MISSING)),), 'WHERE ("sex" = ANY($f0) OR "sex" IS NULL)', {"f0": [2]}),
    ((("att", ("90.5",)),), 'WHERE "att" = ANY($f0)', {"f0": [90.5]}),
    ((('we"ird', ("3",)),), 'WHERE "we""ird" = ANY($f0)', {"f0": [3]}),
])
def test_build_where(filters, sql, params):
    assert where_clause(filters, SCHEMA) == (sql, params)


def test_hostile_values_are_bound_never_spliced():
    hostile = "x'); DROP TABLE respondents; --"
    sql, params = where_clause((("school", (hostile,)),), SCHEMA)
    assert hostile not in sql
    assert params == {"f0": [hostile]}


@pytest.mark.parametrize("name", ['sex"; DROP TABLE respondents; --', "nope", "__RKEY", "", "*"])
def test_unknown_or_hostile_names_are_refused(name):
    with pytest.raises(QueryError, match="unknown variable"):
        quote(name, SCHEMA)
    with pytest.raises(QueryError):
        crosstab(CrossTab(rows=name), SCHEMA)
    with pytest.raises(QueryError):
        where_clause(((name, ("1",)),), SCHEMA)


def test_a_code_that_cannot_be_the_columns_type_is_refused():
    with pytest.raises(QueryError, match="not a value of 'sex'"):
        where_clause((("sex", ("1 OR 1=1",)),), SCHEMA)


def test_empty_filter_is_refused():
    with pytest.raises(QueryError, match="keeps no values"):
        where_clause((("sex", ()),), SCHEMA)


def test_crosstab_is_one_cube_query():
    sql, params = crosstab(CrossTab(rows="sex", cols="school", filters=(("sex", ("1",)),)), SCHEMA)
    assert sql.count("SELECT") == 1
    assert sql.endswith('GROUP BY CUBE("sex", "school")')
    assert 'CASE WHEN GROUPING("sex") = 1 THEN NULL' in sql
    assert "CAST(SUM(__rkey) % 256 AS INTEGER) AS ckey" in sql
    assert params == {"f0": [1]}


def test_hiding_no_answer_drops_it_from_the_dimensions_only():
    sql, _ = crosstab(CrossTab(rows="sex", cols="school", include_missing=False), SCHEMA)
    assert 'WHERE "sex" IS NOT NULL AND "school" IS NOT NULL' in sql


def test_same_variable_twice_is_refused():
    with pytest.raises(QueryError, match="different variables"):
        crosstab(CrossTab(rows="sex", cols="sex"), SCHEMA)


def test_base_counts_is_one_scan_grouping_records_by_how_many_filters_they_pass():
    sql, params = base_counts((("sex", ("2",)), ("school", ("A", "B"))), SCHEMA)
    assert sql.startswith('SELECT CASE WHEN NOT COALESCE("sex" = ANY($f0), FALSE) THEN 0 '
                          'WHEN NOT COALESCE("school" = ANY($f1), FALSE) THEN 1 ELSE 2 END AS depth, '
                          "COUNT(*) AS n, SUM(__rkey) AS k, ")
    assert sql.endswith(" FROM respondents GROUP BY depth") and sql.count("SELECT") == 1
    assert "CAST(bit_xor(hash(rowid, 1)) AS UBIGINT) AS fp" in sql and "min(hash(rowid, 9)) AS mh7" in sql
    assert params == {"f0": [2], "f1": ["A", "B"]}


def test_fingerprints_are_fetched_only_for_the_ledger():
    """Without a ledger to judge the view, no record is hashed: the counts and cell keys are the same query's."""
    q = CrossTab(rows="sex", cols="school", filters=(("sex", ("2",)),))
    for sql, bare in (crosstab(q, SCHEMA), crosstab(q, SCHEMA, fingerprinted=False)), \
            (base_counts(q.filters, SCHEMA), base_counts(q.filters, SCHEMA, fingerprinted=False)):
        assert "hash(" in sql[0] and "hash(" not in bare[0] and " AS fp" not in bare[0]
        assert re.sub(r",\s*CAST\(bit_xor.*?AS mh7", "", sql[0], flags=re.S) == bare[0] and sql[1] == bare[1]


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("""CREATE TABLE respondents AS SELECT
        (i % 3)::TINYINT AS sex,
        CASE WHEN i % 2 = 0 THEN 'Hillview' ELSE 'Burnside' END AS school,
        CASE WHEN i % 10 = 0 THEN NULL ELSE (i % 50)::DOUBLE END AS att,
        1.0 + (i % 4) / 10 AS wt,
        0::INTEGER AS "we""ird",
        (i % 256)::UTINYINT AS __rkey
        FROM range(600) t(i)""")
    return con


def test_crosstab_runs_and_its_margins_add_up(con):
    sql, params = crosstab(CrossTab(rows="sex", cols="school", value="att", weight="wt"), SCHEMA)
    df = con.execute(sql, params).df()
    inner = df[df.row.notna() & df.col.notna()]
    assert int(df[df.row.isna() & df.col.isna()].n.iloc[0]) == 600
    assert int(inner.n.sum()) == 600
    by_row = inner.groupby("row").n.sum()
    margins = df[df.row.notna() & df.col.isna()].set_index("row").n
    assert (by_row == margins).all()
    assert int(df[df.row.isna() & df.col.isna()].v_n.iloc[0]) == 540  # 60 missing values not counted
    assert df.ckey.between(0, 255).all()


def test_no_answer_is_its_own_category(con):
    sql, params = crosstab(CrossTab(rows="att", filters=(("att", ("1", MISSING)),)), SCHEMA)
    df = con.execute(sql, params).df()
    assert set(df.row.dropna()) == {"1.0", MISSING}
    assert int(df[df.row == MISSING].n.iloc[0]) == 60


# --------------------------------------------------------------------------- ingest

def test_ingest_values_are_bound_and_only_the_used_ones_are_passed():
    params = ingest.Params()
    a, b = params.bind("x'); DROP TABLE respondents; --"), params.bind(3)
    # a column may be called anything, even like a parameter: quoted names and strings are not parameters
    sql = f"SELECT {views.ident('$v1')}, '$v1' FROM src WHERE {views.ident('c')} = {a}"
    assert params.used_by(sql) == {"v0": "x'); DROP TABLE respondents; --"}
    assert b == "$v1"


def test_a_column_plan_binds_the_dictionarys_codes():
    hostile = "1'); DROP TABLE src; --"
    var = dictmod.parse({"variables": [{"name": "q", "values": {"a": "A", hostile: "B"}, "missing": ["-9"]}]}).variables[0]
    params = ingest.Params()
    plan = ingest.column_plan(var, 'q"uoted', "text", params)
    sql = " ".join(p for _, cheap, exact in plan.checks for p in (cheap, exact) if p)
    assert hostile not in sql and '"q""uoted"' in sql
    assert hostile in params.values()
    con = duckdb.connect()
    con.execute('CREATE TABLE src AS SELECT * FROM (VALUES (\'a\'), (\'-9\'), (\'zz\'), (NULL)) t("q""uoted")')
    preds = [ingest.both(cheap, exact) for _, cheap, exact in plan.checks]
    assert con.execute(*ingest.check_counts(preds, params)).fetchone() == (4, 1)


# --------------------------------------------------------------------------- one query builder (DESIGN.md, invariant 2)

SQL_WORDS = re.compile(
    r"\b(SELECT|CREATE|INSERT|UPDATE|DELETE|ALTER|DROP|COPY|PRAGMA|ATTACH|CHECKPOINT)\b|\bSET \w+ ="
    r"|\bCASE WHEN\b|\b(TRY_)?CAST\(|\bIS (NOT )?NULL\b"  # fragments of a query count too
)


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring constants: prose, not SQL."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def test_only_the_query_builder_writes_sql():
    package = Path(rcs_viz.__file__).parent
    sql_home = package / "engine" / "sql"
    scanned = [p for p in sorted(package.rglob("*.py")) if sql_home not in p.parents]
    assert len(scanned) > 30, "the scan must see the whole package, sub-packages included"
    found = []
    for path in scanned:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        skip = _docstrings(tree)
        skip |= {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):  # an f-string: its literal parts together
                text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
                text = node.value
            else:
                continue
            m = SQL_WORDS.search(text)
            if m:
                found.append(f"{path.relative_to(package)}:{node.lineno}: {m.group()!r} in {text[:60]!r}")
    assert not found, "SQL written outside rcs_viz/engine/sql/:\n" + "\n".join(sorted(found))
