"""The server store, on both databases it runs on: SQLite (the default file) and a real PostgreSQL server."""

import os
import sqlite3
import random
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

import pg_server  # tests/unit is on sys.path (pytest's default import mode), and so in spawned workers
from processes import race
from rcs_viz import config
from rcs_viz.engine.sql.store_schema import documents, metadata
from rcs_viz.engine.store import MAX_NAME, Store, StoreError

HOSTILE = ["'; DROP TABLE x; --", "'; DROP TABLE rcs_documents; --", 'x" OR 1=1 --', "%s", "%(key)s", ":key",
           "?", "$1", "\\", "a\nb", " ", "ключ", "學校", "🙂‍↔️", "\u202eevil", "ß", "𝔘"]
SECRET = "Sup3r-Secret"


@pytest.fixture(scope="session")
def postgres():
    with pg_server.running() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_database(postgres):
    """One database for the session, and an engine that empties it (dropping the table) for each test."""
    url = postgres.database()
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    yield url, engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request, tmp_path) -> tuple[str | None, Path]:
    """Store.open's arguments: no URL (the default SQLite file), or an empty database on the test server."""
    if request.param == "sqlite":
        return None, tmp_path / "cache" / "store.sqlite"
    url, engine = request.getfixturevalue("postgres_database")
    metadata.drop_all(engine)
    return url, tmp_path / "unused" / "store.sqlite"


@pytest.fixture
def store(where):
    opened = Store.open(*where)
    yield opened
    opened.close()


def test_the_default_is_a_sqlite_file_and_a_url_is_used_instead(where):
    url, default_path = where
    Store.open(url, default_path).close()
    assert default_path.exists() == (url is None)


def test_round_trip(store):
    doc = {"title": "Wellbeing by school", "filters": [["sex", ["1", "2"]]], "n": 3, "x": 0.5, "ok": True,
           "none": None, "nested": {"b": 1, "a": "é 🙂"}}
    store.put("view", "v1", doc)
    assert store.get("view", "v1") == doc
    assert store.get("view", "v2") is None
    assert store.get("story", "v1") is None  # kinds are separate


def test_put_replaces_value_and_owner_and_stamps_the_time(store):
    before = datetime.now(timezone.utc) - timedelta(seconds=5)
    store.put("view", "k", {"v": 1}, owner="ann")
    first = _updated_at(store, "view", "k")
    store.put("view", "k", {"v": 2}, owner="bob")
    assert store.get("view", "k") == {"v": 2}
    assert store.list("view") == [("k", {"v": 2})]
    assert store.list("view", owner="ann") == []
    assert store.list("view", owner="bob") == [("k", {"v": 2})]
    assert before <= first <= _updated_at(store, "view", "k") <= datetime.now(timezone.utc) + timedelta(seconds=5)


def test_list_is_in_key_order_and_filters_by_owner(store):
    keys = ["b", "a", "B", "ä", "10", "9", "a b", "Z", "é", "学"]
    for i, key in enumerate(keys):
        store.put("view", key, {"i": i}, owner="ann" if i % 2 else "")
    store.put("story", "a", {"other": "kind"})
    listed = store.list("view")
    assert [key for key, _ in listed] == sorted(keys)  # code point order, whichever database
    assert dict(listed) == {key: {"i": i} for i, key in enumerate(keys)}
    assert [key for key, _ in store.list("view", owner="ann")] == sorted(keys[1::2])
    assert [key for key, _ in store.list("view", owner="")] == sorted(keys[0::2])
    assert store.list("nothing") == []


def test_delete(store):
    store.put("view", "k", {"v": 1})
    store.put("view", "other", {"v": 2})
    assert store.delete("view", "k") is True
    assert store.delete("view", "k") is False
    assert store.get("view", "k") is None
    assert store.list("view") == [("other", {"v": 2})]


def test_add_if_absent_keeps_the_first(store):
    assert store.add_if_absent("ledger", "cell", {"by": 1}) is True
    assert store.add_if_absent("ledger", "cell", {"by": 2}) is False
    assert store.get("ledger", "cell") == {"by": 1}


def test_another_store_on_the_same_database_sees_every_change(where):
    first, second = Store.open(*where), Store.open(*where)
    try:
        first.put("story", "s", {"v": 1}, owner="ann")
        assert second.get("story", "s") == {"v": 1}
        second.put("story", "s", {"v": 2}, owner="ann")
        assert first.list("story", owner="ann") == [("s", {"v": 2})]
        assert first.delete("story", "s")
        assert second.get("story", "s") is None
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize("text", HOSTILE)
def test_untrusted_kinds_keys_and_owners_are_only_data(store, text):
    store.put(text, text, {text: text}, owner=text)
    store.put("view", text, {"v": text})
    assert store.get(text, text) == {text: text}
    assert store.list(text, owner=text) == [(text, {text: text})]
    assert store.list("view") == [(text, {"v": text})]
    assert store.add_if_absent(text, text, {}) is False
    assert store.delete(text, text) is True
    assert store.list(text) == [] and store.get("view", text) == {"v": text}  # the table is still there


@pytest.mark.parametrize("bad", ["", "a\x00b", "\ud800", "k" * (MAX_NAME + 1), None, 3])
def test_names_neither_database_can_keep_are_refused_the_same_way(store, bad):
    for call in (lambda: store.put("view", bad, {}), lambda: store.put(bad, "k", {}),
                 lambda: store.get("view", bad), lambda: store.add_if_absent("view", bad, {}),
                 lambda: store.delete(bad, "k"), lambda: store.list(bad)):
        with pytest.raises(StoreError) as err:
            call()
        assert "\x00" not in str(err.value) and "kkkk" not in str(err.value)
    store.put("view", "k" * MAX_NAME, {}, owner="o" * MAX_NAME)  # the longest allowed
    assert store.list("view", owner="o" * MAX_NAME) == [("k" * MAX_NAME, {})]


@pytest.mark.parametrize("value", [[1, 2], {"x": float("nan")}, {"x": {1, 2}}, {"x": object()}])
def test_a_document_must_be_a_plain_json_object(store, value):
    with pytest.raises(StoreError, match="document"):
        store.put("view", "k", value)
    assert store.get("view", "k") is None


# --------------------------------------------------------------------------- several processes, one database

KEYS = [f"cell-{i}" for i in range(50)]


def _race(barrier, url, default_path):
    """One server process: open the store when the others do, then try to record every key first."""
    barrier.wait()
    store = Store.open(url, default_path)  # the first to arrive creates the file and table; the others must cope
    order = KEYS[:]
    random.Random(os.getpid()).shuffle(order)
    barrier.wait()
    won = [key for key in order if store.add_if_absent("ledger", key, {"by": os.getpid()})]
    store.close()
    return os.getpid(), won


def test_add_if_absent_has_one_winner_per_key_across_processes(where):
    outcome = dict(race(_race, *where))
    winners = [key for won in outcome.values() for key in won]
    assert sorted(winners) == sorted(KEYS)  # every key recorded, and exactly once
    store = Store.open(*where)
    try:
        assert all(store.get("ledger", key) == {"by": pid} for pid, won in outcome.items() for key in won)
    finally:
        store.close()


def _open(barrier, default_path):
    barrier.wait()
    Store.open(None, default_path).close()
    return "opened"


def test_many_processes_opening_a_new_sqlite_file_together_all_open_it(tmp_path):
    """Switching a new file to the write-ahead log is refused at once while another process holds it;
    every process must still open the store (before the retry, 2 of 200 trials of 12 processes failed)."""
    for attempt in range(2):
        path = tmp_path / str(attempt) / "store.sqlite"
        assert race(_open, path, workers=6) == ["opened"] * 6
        with closing(sqlite3.connect(path)) as connection:
            assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


# --------------------------------------------------------------------------- a URL that cannot be opened

@pytest.mark.parametrize("url", [
    f"postgresql://rcs:{SECRET}@127.0.0.1:1/rcs",
    f"postgresql://rcs:{SECRET}@/rcs?host=/nonexistent/socket/dir",
    f"postgresql://rcs@127.0.0.1:1/rcs?password={SECRET}",
    f"postgres://rcs:{SECRET}@127.0.0.1:1/rcs",
    f"mysql://rcs:{SECRET}@dbhost/rcs",
    f"not a url {SECRET}",
    f"postgresql://rcs:{SECRET}@dbhost:notaport/rcs",
    "sqlite:////nonexistent/dir/store.sqlite",
])
def test_a_url_that_cannot_be_opened_is_one_line_without_the_password(url, tmp_path):
    with pytest.raises(StoreError, match="^store: ") as err:
        Store.open(url, tmp_path / "store.sqlite")
    message = str(err.value)
    assert "\n" not in message and SECRET not in message and SECRET not in repr(err.value)
    shown_context = err.value.__context__ if not err.value.__suppress_context__ else None
    assert err.value.__cause__ is None and shown_context is None  # no chained driver error to leak it
    assert isinstance(err.value, ValueError)


def test_a_database_missing_on_a_running_server_is_named(postgres, tmp_path):
    with pytest.raises(StoreError, match='database "absent" does not exist') as err:
        Store.open(postgres.url("absent", password=SECRET), tmp_path / "store.sqlite")
    assert SECRET not in str(err.value) and "\n" not in str(err.value)


# --------------------------------------------------------------------------- the data owner's setting

def test_the_configuration_names_the_store(tmp_path):
    path = tmp_path / "rcs_explorer.yaml"
    path.write_text(f"cache_dir: cache/db\nstore: postgresql://rcs:{SECRET}@dbhost/rcs\n")
    cfg = config.load(path)
    assert cfg.store == f"postgresql://rcs:{SECRET}@dbhost/rcs"
    assert SECRET not in repr(cfg)
    assert cfg.store_path == tmp_path / "cache" / "store.sqlite"
    assert config.Config().store is None
    assert config.Config().store_path == config.Config().cache_dir.parent / "store.sqlite"


def test_the_default_configuration_opens_a_sqlite_store_beside_the_cache(tmp_path):
    path = tmp_path / "rcs_explorer.yaml"
    path.write_text("cache_dir: cache/db\n")
    cfg = config.load(path)
    store = Store.open(cfg.store, cfg.store_path)
    store.put("view", "k", {"v": 1})
    store.close()
    assert (tmp_path / "cache" / "store.sqlite").exists()


@pytest.mark.parametrize("value", ["", "  ", 5, ["postgresql://x"]])
def test_a_store_setting_that_is_not_a_url_is_a_configuration_error(tmp_path, value):
    path = tmp_path / "rcs_explorer.yaml"
    path.write_text(f"store: {value!r}\n" if isinstance(value, str) else f"store: {value}\n")
    with pytest.raises(config.ConfigError, match="store"):
        config.load(path)


def _updated_at(store, kind, key):
    with store._engine.connect() as conn:
        stamp = conn.execute(select(documents.c.updated_at).where(documents.c.kind == kind,
                                                                   documents.c.key == key)).scalar_one()
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)  # SQLite keeps the UTC time without zone


def test_the_ledger_keeps_each_cells_first_decision_and_reads_what_was_added_since(store):
    first = [{"cell": "12:abc", "n": 12, "sketch": "1 2", "shown": True},
             {"cell": "30:def", "n": 30, "sketch": "3 4", "shown": False}]
    store.release("ds1", first)
    store.release("ds1", [{"cell": "12:abc", "n": 12, "sketch": "1 2", "shown": False},  # decided already
                          {"cell": "15:ghi", "n": 15, "sketch": "5 6", "shown": True}])
    store.release("ds2", [{"cell": "12:abc", "n": 12, "sketch": "9 9", "shown": False}])  # another dataset
    rows = store.released_since("ds1", 0)
    assert [(cell, n, sketch, shown) for _, cell, n, sketch, shown in rows] == [
        ("12:abc", 12, "1 2", 1), ("30:def", 30, "3 4", 0), ("15:ghi", 15, "5 6", 1)]
    seqs = [seq for seq, *_ in rows]
    assert seqs == sorted(seqs) and store.released_since("ds1", seqs[1]) == rows[2:]
    assert [r[1:] for r in store.released_since("ds2", 0)] == [("12:abc", 12, "9 9", 0)]
