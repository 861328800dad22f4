"""A throwaway PostgreSQL server for the tests: Debian's real binaries, started once per test session.

Tests and CI run as root, and initdb and postgres refuse to run as root. So, as
root, every PostgreSQL program runs as Debian's ``postgres`` user (through
``runuser``) in a data directory that user owns, inside a fresh temporary
directory; as anyone else they run as that user. The server listens only on a
Unix socket in that directory (no TCP port to collide with another run) and
trusts whoever can reach the socket. pytest-postgresql's process fixture was
tried first: it runs pg_ctl as the current user on a data directory under
pytest's root-only temporary directory, so as root it cannot start.

Missing binaries fail the tests rather than skip them: ``make test`` installs
Debian's ``postgresql`` package (``make postgresql``).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count
from pathlib import Path

USER = "rcs"  # the database superuser initdb creates
PORT = 5432  # only names the socket file; nothing listens on TCP
SETTINGS = """
listen_addresses = ''
unix_socket_directories = '{sockets}'
port = {port}
fsync = off
synchronous_commit = off
full_page_writes = off
"""


def binaries() -> Path:
    """The directory of Debian's newest installed PostgreSQL server programs (or pg_ctl's, found on PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).resolve().parent
    raise RuntimeError("PostgreSQL's server programs are not installed; `make postgresql` installs "
                       "Debian's postgresql package")


class Server:
    """One running server; ``database()`` hands each test a database of its own."""

    def __init__(self, root: Path, bindir: Path, as_postgres: list[str]):
        self.root = root
        self.bindir = bindir
        self.as_postgres = as_postgres
        self.data = root / "data"
        self._names = count()

    def run(self, program: str, *args: str) -> None:
        command = [*self.as_postgres, str(self.bindir / program), *args]
        done = subprocess.run(command, cwd=self.root, capture_output=True, text=True, timeout=60)
        if done.returncode:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}{tail}")

    def url(self, database: str = "postgres", password: str = "") -> str:
        secret = f":{password}" if password else ""
        return f"postgresql://{USER}{secret}@/{database}?host={self.root}&port={PORT}"

    def database(self) -> str:
        """A new empty database; its URL."""
        import psycopg

        name = f"test_{next(self._names)}"
        with psycopg.connect(host=str(self.root), port=PORT, user=USER, dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextmanager
def running() -> Iterator[Server]:
    """Initialise, start and finally stop and remove a server."""
    bindir = binaries()
    as_root = os.geteuid() == 0
    # as root, under /tmp: the postgres user must be able to reach it, whatever $TMPDIR says
    root = Path(tempfile.mkdtemp(prefix="rcs-pg-", dir="/tmp" if as_root else None))
    as_postgres: list[str] = []
    if as_root:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError("running as root, the tests start PostgreSQL as Debian's postgres user, "
                               "which does not exist; `make postgresql` installs it") from None
        os.chown(root, account.pw_uid, account.pw_gid)
        as_postgres = ["runuser", "-u", "postgres", "--"]
    server = Server(root, bindir, as_postgres)
    started = False
    try:
        server.run("initdb", "-D", str(server.data), "-U", USER, "--auth=trust", "-E", "UTF8",
                   "--no-locale", "--no-sync")
        with (server.data / "postgresql.conf").open("a") as conf:
            conf.write(SETTINGS.format(sockets=root, port=PORT))
        server.run("pg_ctl", "-D", str(server.data), "-l", str(root / "server.log"), "-w", "-t", "60", "start")
        started = True
        yield server
    finally:
        if started:
            server.run("pg_ctl", "-D", str(server.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)
