"""The server store's tables, as SQLAlchemy Core definitions (``rcs_viz.engine.store`` uses them).

SQLAlchemy writes the SQL for each dialect from these definitions, so SQLite
and PostgreSQL share one code path and nothing here is a hand-written query
except the SQLite settings applied to each new connection.

Kinds and keys are compared byte for byte on both databases: PostgreSQL's
columns use the "C" collation (SQLite's default, BINARY, already does), so a
listing is in the same order whichever database holds it, whatever the
server's locale.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, MetaData, Table, Text

metadata = MetaData()

_BYTEWISE = Text().with_variant(Text(collation="C"), "postgresql")

documents = Table(
    "rcs_documents",  # a prefix, so the store can share a database the data owner already has
    metadata,
    Column("kind", _BYTEWISE, primary_key=True),  # e.g. "view", "story", "ledger"
    Column("key", _BYTEWISE, primary_key=True),
    Column("owner", Text, nullable=False),  # "" when nobody in particular
    Column("value", Text, nullable=False),  # JSON text (sorted keys): the same on both databases
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Index("rcs_documents_owner", documents.c.kind, documents.c.owner)

# Applied to every new SQLite connection: the write-ahead log lets readers go
# on while one process writes, and a writer that finds the file locked waits
# (milliseconds) instead of failing at once, so several server processes share
# one file.
SQLITE_BUSY_MS = 30_000
SQLITE_ON_CONNECT = (
    "PRAGMA journal_mode=WAL",
    f"PRAGMA busy_timeout={SQLITE_BUSY_MS}",
)
