"""The read-only DuckDB connection: the only place that executes SQL.

One connection per loaded database file is shared by every session, opened
read-only with external access disabled, so nothing a query says can write
or reach a file. DuckDB serialises queries on one connection, so each thread
(each Streamlit session's script run) gets its own cursor.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

import duckdb
import pandas as pd

@lru_cache(maxsize=8)
def _connection(db_path: str) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(
        db_path,
        read_only=True,
        config={"enable_external_access": False, "lock_configuration": True},
    )


_local = threading.local()


def cursor(db_path: Path) -> duckdb.DuckDBPyConnection:
    """This thread's cursor on the read-only connection for `db_path`."""
    key = str(db_path)
    cursors = getattr(_local, "cursors", None)
    if cursors is None:
        cursors = _local.cursors = {}
    if key not in cursors:
        cursors[key] = _connection(key).cursor()
    return cursors[key]


def run(db_path: Path, sql: str, params: dict | None = None) -> pd.DataFrame:
    """Execute one query built by `rcs_viz.engine.sql.views` and return its (aggregated) result."""
    return cursor(db_path).execute(sql, params or {}).df()
