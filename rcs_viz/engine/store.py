"""The server store: what must outlive a browser session and be shared by several server processes.

Saved views and stories (and the disclosure ledger) are JSON documents filed
under a kind and a key. By default they live in one SQLite file beside the
data owner's cache (one machine, several processes: write-ahead log and a busy
timeout); when the configuration names a PostgreSQL URL they live there
(several machines).

SQLAlchemy Core builds every statement from the tables in
``rcs_viz.engine.sql.store_schema``, so both databases take one code path and
every kind, key, owner and value travels as a bound parameter, never as text
spliced into a query. Each write is one statement (an upsert, or an insert
that yields to an existing row), so concurrent writers need no
read-then-write transaction and the database decides who was first.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, delete, exc, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Engine, make_url

from rcs_viz.engine.sql.store_schema import SQLITE_BUSY_MS, SQLITE_WAL, documents, metadata, released
from rcs_viz.engine.store_error import StoreError

MAX_NAME = 256  # characters in a kind, key or owner: well inside PostgreSQL's index entry limit
DRIVERS = {"sqlite": "sqlite+pysqlite", "postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}  # the two spellings of an upsert
_PRIMARY_KEY = [documents.c.kind, documents.c.key]
__all__ = ["MAX_NAME", "Store", "StoreError"]  # StoreError lives in store_error, raised and caught as this module's


class Store:
    """Documents (JSON objects) under (kind, key), shared by every server process that opens the same store."""

    def __init__(self, engine: Engine, secrets: tuple[str, ...] = ()):
        self._engine = engine
        self._secrets = secrets  # blanked out of any error message
        self._insert = _INSERTS[engine.dialect.name]

    @classmethod
    def open(cls, url: str | None, default_path: Path) -> Store:
        """Open (and create the table of) the store the data owner configured.

        ``url`` None means a SQLite file at ``default_path``; otherwise a
        ``postgresql://`` or ``sqlite:///`` URL. Connecting here, not at the
        first save, makes a wrong URL fail when the app starts.
        """
        if url is None:
            Path(default_path).parent.mkdir(parents=True, exist_ok=True)
            parsed = URL.create("sqlite", database=str(default_path))
        else:
            try:
                parsed = make_url(url)
            except (exc.ArgumentError, ValueError, TypeError):
                raise StoreError("store: cannot read the database URL; expected e.g. "
                                 "postgresql://user@host/database or sqlite:///path/store.sqlite") from None
        backend = parsed.get_backend_name()
        if backend not in DRIVERS:
            raise StoreError(f"store: {backend!r} databases are not supported; use postgresql:// or sqlite:///")
        secrets = _secrets(parsed)
        where = _shown(parsed)
        parsed = parsed.set(drivername=DRIVERS[backend])
        engine = None
        try:
            engine = _engine(parsed)
            _connect_first(engine)
        except Exception as error:  # whatever the driver raises, the message is one line without the password
            if engine is not None:
                engine.dispose()
            raise StoreError(f"store: cannot open {where}: {_reason(error, secrets)}") from None
        store = cls(engine, secrets)
        try:
            store._create_table(where)
        except StoreError:
            store.close()
            raise
        return store

    def close(self) -> None:
        """Let go of the store's connections (the data stays)."""
        self._engine.dispose()

    # ------------------------------------------------------------------ documents

    def put(self, kind: str, key: str, value: dict, owner: str = "") -> None:
        """Save a document, replacing any under the same kind and key (the owner too)."""
        row = _row(kind, key, value, owner)
        statement = self._insert(documents).values(**row)
        statement = statement.on_conflict_do_update(
            index_elements=_PRIMARY_KEY,
            set_={name: statement.excluded[name] for name in ("owner", "value", "updated_at")},
        )
        self._run(statement)

    def add_if_absent(self, kind: str, key: str, value: dict) -> bool:
        """Save a document only if none is there yet; True if this call saved it.

        One statement, so the first writer wins even across processes and
        machines (a ledger entry must be recorded exactly once).
        """
        statement = self._insert(documents).values(**_row(kind, key, value, ""))
        return self._run(statement.on_conflict_do_nothing(index_elements=_PRIMARY_KEY)) == 1

    def get(self, kind: str, key: str) -> dict | None:
        """The document under kind and key, or None."""
        statement = select(documents.c.value).where(*_match(kind, key))
        rows = self._run(statement)
        return json.loads(rows[0].value) if rows else None

    def delete(self, kind: str, key: str) -> bool:
        """Remove a document; True if there was one."""
        return self._run(delete(documents).where(*_match(kind, key))) == 1

    def list(self, kind: str, owner: str | None = None) -> list[tuple[str, dict]]:
        """Every (key, document) of a kind, or only one owner's, in key order (code point order on both databases)."""
        statement = select(documents.c.key, documents.c.value).where(documents.c.kind == _name("kind", kind))
        if owner is not None:
            statement = statement.where(documents.c.owner == _name("owner", owner, empty=True))
        rows = self._run(statement.order_by(documents.c.key))
        return [(key, json.loads(text)) for key, text in rows]

    # ------------------------------------------------------------------ the ledger of released figures

    def release(self, dataset: str, cells: list[dict]) -> None:
        """Record cells (dicts of cell, n, sketch, shown) as decided; a cell already recorded keeps its first decision."""
        if not cells:
            return
        rows = [{"dataset": _name("dataset", dataset), "cell": c["cell"], "n": int(c["n"]), "sketch": c["sketch"],
                 "shown": int(c["shown"])} for c in cells]
        statement = self._insert(released).on_conflict_do_nothing(index_elements=[released.c.dataset, released.c.cell])
        self._run_many(statement, rows)

    def released_since(self, dataset: str, seq: int) -> list[tuple[int, str, int, str, int]]:
        """(seq, cell, n, sketch, shown) of every cell recorded for `dataset` after `seq`, in order."""
        statement = (select(released.c.seq, released.c.cell, released.c.n, released.c.sketch, released.c.shown)
                     .where(released.c.dataset == _name("dataset", dataset), released.c.seq > int(seq))
                     .order_by(released.c.seq))
        return [tuple(row) for row in self._run(statement)]

    # ------------------------------------------------------------------ plumbing

    def _run_many(self, statement: Any, rows: list[dict]) -> None:
        """One statement over many rows, in one transaction."""
        try:
            with self._engine.begin() as connection:
                connection.execute(statement, rows)
        except exc.DBAPIError as error:
            raise StoreError(f"store: {_reason(error, self._secrets)}") from error

    def _run(self, statement: Any) -> Any:
        """Execute one statement in its own transaction: its rows, or how many rows it changed.

        A database failure becomes a StoreError.
        """
        try:
            with self._engine.begin() as connection:
                # SQLAlchemy keeps an insert's row count only when asked: add_if_absent needs it
                result = connection.execute(statement, execution_options={"preserve_rowcount": True})
                return result.all() if result.returns_rows else result.rowcount
        except exc.DBAPIError as error:
            raise StoreError(f"store: {_reason(error, self._secrets)}") from error

    def _create_table(self, where: str) -> None:
        """Create the table if it is missing. Processes starting together may race to create it:
        the loser's error is followed by a look that finds the winner's table."""
        for attempt in range(3):
            try:
                metadata.create_all(self._engine)
                return
            except exc.DBAPIError as error:
                if attempt == 2:
                    raise StoreError(f"store: cannot create the table in {where}: "
                                     f"{_reason(error, self._secrets)}") from None


def _engine(url: URL) -> Engine:
    """An engine for the URL; SQLite connections wait for a lock rather than fail at once."""
    if url.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True)  # a restarted server costs a reconnect, not an error
    return create_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000})


def _connect_first(engine: Engine) -> None:
    """Connect once (a wrong URL fails here), switching a SQLite file to the write-ahead log.

    The switch needs the file to itself, and SQLite answers "locked" at once,
    without waiting, while another process is opening the same new file: so
    the switch is tried again, for as long as a write would wait.
    """
    if engine.dialect.name != "sqlite":
        with engine.connect():
            return
    deadline, pause = time.monotonic() + SQLITE_BUSY_MS / 1000, 0.01
    while True:
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql(SQLITE_WAL)
            return
        except exc.OperationalError as error:
            if "locked" not in str(error.orig) or time.monotonic() > deadline:
                raise
            time.sleep(pause)
            pause = min(2 * pause, 0.5)


def _name(what: str, text: Any, empty: bool = False) -> str:
    """A kind, key or owner as both databases keep it, or a StoreError that does not repeat the untrusted text.

    PostgreSQL's text holds no NUL and neither driver sends half a surrogate pair,
    so those are refused here rather than left to differ between the databases.
    """
    ok = isinstance(text, str) and (empty or text) and len(text) <= MAX_NAME and "\x00" not in text
    if ok:
        try:
            text.encode("utf-8")
            return text
        except UnicodeEncodeError:
            pass
    least = 0 if empty else 1
    raise StoreError(f"store: a {what} must be text of {least} to {MAX_NAME} characters, without NUL")


def _match(kind: str, key: str) -> tuple:
    return documents.c.kind == _name("kind", kind), documents.c.key == _name("key", key)


def _row(kind: str, key: str, value: dict, owner: str) -> dict:
    if not isinstance(value, dict):
        raise StoreError(f"store: a document is a JSON object, not {type(value).__name__}")
    try:
        text = json.dumps(value, sort_keys=True, allow_nan=False)  # ASCII: the same bytes on both databases
    except (TypeError, ValueError) as error:
        raise StoreError(f"store: a document must be plain JSON ({error})") from None
    return {"kind": _name("kind", kind), "key": _name("key", key), "owner": _name("owner", owner, empty=True),
            "value": text, "updated_at": datetime.now(timezone.utc)}


def _secrets(url: URL) -> tuple[str, ...]:
    """The passwords a URL carries: after the user name, or as a ?password= parameter."""
    query = url.query.get("password", ())
    found = (url.password, *((query,) if isinstance(query, str) else query))
    return tuple(secret for secret in found if secret)


def _shown(url: URL) -> str:
    """The URL as an error message may show it: passwords replaced by ***."""
    if "password" in url.query:
        url = url.update_query_dict({"password": "***"})
    return url.render_as_string(hide_password=True)


def _reason(error: BaseException, secrets: tuple[str, ...]) -> str:
    """The driver's first line about what went wrong, with any password blanked out."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    text = lines[0] if lines else type(cause).__name__
    for secret in secrets:
        text = text.replace(secret, "***")
    return text
