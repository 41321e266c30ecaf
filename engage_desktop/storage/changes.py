"""The change counter: how an open window learns that someone changed the data.

On the team database (PostgreSQL) every write transaction, from any desktop, bumps the one
row of `engage_changes` as it begins (postgres.py) and the bump becomes visible with the
transaction's data at COMMIT; a window polling `change_count` every few seconds sees another
desktop's sync commit, opt-out or campaign within that time. On SQLite the file's
`data_version` (another connection committed) plus this connection's `total_changes` play
the same part.
"""

from __future__ import annotations

from typing import NamedTuple

import peewee

from engage_desktop.storage.dialect import is_postgres


class ChangeToken(NamedTuple):
    """An opaque mark: compare two with `!=` to know whether anything changed between them."""

    shared: int
    local: int


def change_count(db: peewee.Database) -> int:
    """The team database's counter (PostgreSQL only)."""
    row = db.execute_sql("SELECT n FROM engage_changes WHERE id = 1").fetchone()
    return 0 if row is None else int(row[0])


def change_token(db: peewee.Database) -> ChangeToken:
    """Where the data stands now, on either engine."""
    if is_postgres(db):
        return ChangeToken(change_count(db), 0)
    conn = db.connection()
    (version,) = conn.execute("PRAGMA data_version").fetchone()
    return ChangeToken(int(version), int(conn.total_changes))
