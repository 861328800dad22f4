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

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, MetaData, Table, Text, UniqueConstraint

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

# The ledger of released figures (rcs_viz.engine.disclosure.ledger): one row per cell of records any view has
# shown or hidden, per dataset. The first view to decide a cell wins (a unique cell, inserts that yield), and
# `seq` lets each server process read only what others have added since it last looked.
released = Table(
    "rcs_released",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("dataset", _BYTEWISE, nullable=False),  # the loaded database's content name
    Column("cell", _BYTEWISE, nullable=False),  # n and fingerprint: the identity of a set of records
    Column("n", BigInteger, nullable=False),
    Column("sketch", Text, nullable=False),  # the MinHash sketch, hex numbers separated by spaces
    Column("shown", Integer, nullable=False),  # 1: its count was shown; 0: it was hidden
    UniqueConstraint("dataset", "cell", name="rcs_released_cell"),
)
Index("rcs_released_since", released.c.dataset, released.c.seq)

# SQLite settings. The write-ahead log lets readers go on while one process
# writes; it is a property of the file, switched on once when the store opens.
# A writer that finds the file locked waits (up to SQLITE_BUSY_MS) instead of
# failing at once, so several server processes share one file.
SQLITE_BUSY_MS = 30_000
SQLITE_WAL = "PRAGMA journal_mode=WAL"
