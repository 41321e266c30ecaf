"""A throwaway PostgreSQL server for the tests: initdb + pg_ctl in a temporary folder, on
127.0.0.1 and a free port, fsync off; run as the `postgres` user when we are root (initdb
refuses root). A fresh database per test is `CREATE DATABASE … TEMPLATE template0`.

Without the server binaries the PostgreSQL tests skip with a reason, unless
ENGAGE_REQUIRE_POSTGRES=1 (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REQUIRE_ENV = "ENGAGE_REQUIRE_POSTGRES"
_BIN_DIRS = (
    "/usr/lib/postgresql/17/bin",
    "/usr/lib/postgresql/16/bin",
    "/usr/lib/postgresql/15/bin",
)
_counter = itertools.count(1)


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for folder in _BIN_DIRS:
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unavailable(reason: str) -> None:
    """Skip (a developer machine without PostgreSQL) or fail (CI requires it)."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"PostgreSQL required ({REQUIRE_ENV}=1) but {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


@dataclass
class PgServer:
    """One running throwaway server; `fresh_url()` makes an empty database on it."""

    folder: Path
    port: int
    user: str = "app"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def fresh_url(self) -> str:
        name = f"t_{os.getpid()}_{next(_counter)}"
        self.admin(f"CREATE DATABASE {name} TEMPLATE template0")
        return self.url(name)

    def _as_owner(self, *args: str) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *args]
        return list(args)

    def start(self) -> None:
        pg_ctl = _binary("pg_ctl")
        assert pg_ctl is not None
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            self._as_owner(
                pg_ctl,
                "-D",
                str(self.folder / "data"),
                "-l",
                str(self.folder / "log"),
                "-w",
                "-o",
                options,
                "start",
            ),
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        pg_ctl = _binary("pg_ctl")
        assert pg_ctl is not None
        subprocess.run(
            self._as_owner(pg_ctl, "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop"),
            capture_output=True,
        )


@contextlib.contextmanager
def throwaway_server() -> Iterator[PgServer]:
    initdb = _binary("initdb")
    if initdb is None or _binary("pg_ctl") is None:
        unavailable("initdb/pg_ctl not found (apt-get install postgresql)")
    assert initdb is not None
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        unavailable("running as root without runuser")
    folder = Path(tempfile.mkdtemp(prefix="engage-pg-"))
    server = PgServer(folder, _free_port())
    try:
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres")
        done = subprocess.run(
            server._as_owner(
                initdb,
                "-D",
                str(folder / "data"),
                "-A",
                "trust",
                "-U",
                server.user,
                "--no-sync",
                "--no-locale",
                "-E",
                "UTF8",
            ),
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            unavailable(f"initdb failed: {done.stderr.strip()[:300]}")
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def fresh_database_each_time() -> Iterator[None]:
    """Inside a test that runs on the team database, a new empty database (on the same
    server) for what runs in this block — for tests that start over several times in one
    test function (hypothesis examples), as SQLite's do with a new temporary folder."""
    from engage_desktop.storage.database import DATABASE_ENV

    url = os.environ.get(DATABASE_ENV)
    if not url:
        yield
        return
    import psycopg

    base, _, _ = url.rpartition("/")
    name = f"t_{os.getpid()}_{next(_counter)}_x"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE template0")  # type: ignore[arg-type]
    os.environ[DATABASE_ENV] = f"{base}/{name}"
    try:
        yield
    finally:
        os.environ[DATABASE_ENV] = url
