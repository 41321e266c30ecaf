"""Opening the database: WAL, foreign keys, a busy timeout, migrations on open."""

from __future__ import annotations

from pathlib import Path

import peewee

from engage_desktop.storage.migrations import migrate

DB_NAME = "engage.sqlite3"

# What other layers may name without importing peewee themselves.
Database = peewee.SqliteDatabase
DatabaseError = peewee.DatabaseError


def open_database(path: Path | str) -> peewee.SqliteDatabase:
    """Open (creating or upgrading) the database at `path`; a folder gets `engage.sqlite3`.

    WAL lets readers (the GUI, message preparation, another process) keep reading the last
    committed state while a sync writes; write transactions take the write lock at BEGIN so
    two writers queue instead of failing half-way.
    """
    target = Path(path)
    if target.is_dir():
        target = target / DB_NAME
    db = peewee.SqliteDatabase(
        str(target),
        pragmas={
            "journal_mode": "wal",
            "synchronous": "normal",
            "foreign_keys": 1,
            "busy_timeout": 15000,
            "cache_size": -32000,
        },
        lock_type="IMMEDIATE",
        timeout=15,
    )
    db.connect(reuse_if_open=True)
    migrate(db)
    return db
