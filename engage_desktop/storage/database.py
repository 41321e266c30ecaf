"""Opening the database: this machine's SQLite file (WAL, foreign keys, a busy timeout) or the
team's PostgreSQL server (`--database URL`, $ENGAGE_DESKTOP_DATABASE); migrations on open."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import peewee

from engage_desktop.config import DATABASE_ENV as DATABASE_ENV
from engage_desktop.config import chosen_url, describe_url
from engage_desktop.config import is_server_url as is_server_url
from engage_desktop.storage import postgres
from engage_desktop.storage.migrations import migrate

DB_NAME = "engage.sqlite3"

BUSY_TIMEOUT_S = 15.0
# How long a write that must not be lost (an opt-out) waits for a sync's commit to end.
PATIENT_WAIT_S = 900.0

# What other layers may name without importing peewee themselves.
Database = peewee.Database
DatabaseError = peewee.DatabaseError
T = TypeVar("T")


def open_database(path: Path | str, url: str | None = None) -> peewee.Database:
    """Open (creating or upgrading) the chosen database: `url` or $ENGAGE_DESKTOP_DATABASE
    when given (sqlite:///path or postgresql://…), else the file at `path` (a folder gets
    `engage.sqlite3`)."""
    chosen = chosen_url(url)
    if chosen and is_server_url(chosen):
        db = postgres.open_team_database(chosen, BUSY_TIMEOUT_S, then=migrate)
        return db
    if chosen:
        path = chosen.removeprefix("sqlite:///")  # sqlite:////abs/path, sqlite:///relative
    return _open_sqlite(path)


def _open_sqlite(path: Path | str) -> peewee.SqliteDatabase:
    """Open (creating or upgrading) the database at `path`; a folder gets `engage.sqlite3`.

    WAL lets readers (the GUI, message preparation, another process) keep reading the last
    committed state while a sync writes; write transactions take the write lock at BEGIN so
    two writers queue instead of failing half-way.
    """
    target = Path(path)
    if target.is_dir():
        target = target / DB_NAME
    _owner_only(target)
    db = peewee.SqliteDatabase(
        str(target),
        pragmas={
            "journal_mode": "wal",
            "synchronous": "normal",
            "foreign_keys": 1,
            "busy_timeout": int(BUSY_TIMEOUT_S * 1000),
            "cache_size": -32000,
        },
        lock_type="IMMEDIATE",
        timeout=BUSY_TIMEOUT_S,
    )
    db.connect(reuse_if_open=True)
    migrate(db)
    return db


def _owner_only(target: Path) -> None:
    """Personal data: the database (and the WAL and shared-memory files SQLite creates with
    the same mode) readable by its owner only, also when it was made before this rule."""
    if not target.exists():
        target.touch(mode=0o600)
    for name in (target, *(target.with_name(target.name + s) for s in ("-wal", "-shm"))):
        if name.exists() and stat.S_IMODE(name.stat().st_mode) & 0o077:
            os.chmod(name, 0o600)


def is_locked(exc: BaseException) -> bool:
    """A write refused because another connection holds the write lock (a sync's commit):
    SQLite's busy timeout, or PostgreSQL's lock_timeout."""
    return isinstance(exc, peewee.OperationalError) and (
        "locked" in str(exc) or "lock timeout" in str(exc)
    )


def lost_database(exc: BaseException) -> str:
    """What to say when the database failed under a run: nothing of it was saved."""
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return (
        f"the database could not be reached during the sync ({reason}); nothing of this run "
        "was saved. It is used again as soon as it answers."
    )


def describe(db: peewee.Database) -> str:
    """Which database, as shown to people (never a password)."""
    if isinstance(db, postgres.TeamDatabase):
        return describe_url(db.url)
    return str(db.database)


def _set_wait(db: peewee.Database, seconds: float) -> None:
    if isinstance(db, postgres.TeamDatabase):
        db.set_lock_timeout(seconds)
    else:
        db.execute_sql(f"PRAGMA busy_timeout = {int(seconds * 1000)}")


def patiently(
    db: peewee.Database,
    write: Callable[[], T],
    on_wait: Callable[[], None],
    wait_s: float | None = None,
) -> T:
    """Run a write that must not be lost: if a long commit holds the lock, say so once
    (`on_wait`) and wait for it, up to `wait_s` (default PATIENT_WAIT_S), instead of failing
    after the usual timeout."""
    _set_wait(db, min(BUSY_TIMEOUT_S, 2.0))
    try:
        return write()
    except peewee.OperationalError as exc:
        if not is_locked(exc):
            raise
        on_wait()
        _set_wait(db, wait_s or PATIENT_WAIT_S)
        return write()
    finally:
        _set_wait(db, BUSY_TIMEOUT_S)
