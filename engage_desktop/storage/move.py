"""The one-time move of this machine's SQLite data to the team database (PostgreSQL).

Every table is copied (contacts, their source records, fields, groups, runs and their
history, the outbox, opt-outs, campaigns, replies …) except the lock row, in the order their
foreign keys need, in batches with COPY. Each batch commits with a note of how far its table
got (`engage_move` on the server), so a move that stopped (the network, a closed laptop)
resumes where it was when started again. At the end each table's row count on the server is
compared with the file's, and the server's id sequences are set past the copied ids.

The SQLite file is only read (opened read-only). A server that already holds other data — rows
that no move from this file put there — is refused before anything is written.
"""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engage_desktop.storage.postgres import TeamDatabase

BATCH_ROWS = 5000
SKIPPED = ("sqlite_sequence", "schema_version", "sync_lease")
_PROGRESS_TABLE = (
    "CREATE TABLE IF NOT EXISTS engage_move (table_name TEXT PRIMARY KEY, source TEXT NOT NULL,"
    " copied BIGINT NOT NULL, total BIGINT NOT NULL, done BIGINT NOT NULL DEFAULT 0)"
)

Progress = Callable[[str, int, int], None]  # table, rows copied so far, rows in the table


class MoveRefused(Exception):
    """The server holds data that is not this file's (or another file's move started)."""


class MoveMismatch(Exception):
    """A table's count on the server differs from the file's after the copy."""


@dataclass
class MoveReport:
    """What was moved: rows per table (verified equal on both sides)."""

    counts: dict[str, int] = field(default_factory=dict)
    resumed: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def source_id(path: Path) -> str:
    """Which file a move came from: this machine and the file's path."""
    return f"{socket.gethostname()}:{path.resolve()}"


def move_to_server(
    sqlite_path: Path, target: TeamDatabase, on_progress: Progress | None = None
) -> MoveReport:
    """Copy the SQLite file's data into the (migrated) team database; see the module's doc."""
    source = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    try:
        return _move(source, source_id(sqlite_path), target, on_progress or _quiet)
    finally:
        source.close()


def _quiet(table: str, copied: int, total: int) -> None:
    return None


def _move(
    source: sqlite3.Connection, me: str, target: TeamDatabase, on_progress: Progress
) -> MoveReport:
    raw = target.cursor()
    raw.execute_raw(_PROGRESS_TABLE)
    tables = _tables_in_order(source, target)
    done = {
        name: (src, int(copied), bool(finished))
        for name, src, copied, finished in raw.execute_raw(
            "SELECT table_name, source, copied, done FROM engage_move"
        ).fetchall()
    }
    _refuse_foreign_data(raw, tables, done, me)
    report = MoveReport(resumed=bool(done))
    for table in tables:
        total = int(source.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        copied = done.get(table, (me, 0, False))[1]
        if not done.get(table, (me, 0, False))[2]:
            copied = _copy_table(source, target, table, copied, total, me, on_progress)
        on_progress(table, copied, total)
        report.counts[table] = total
    _verify(raw, report.counts, source)
    _advance_sequences(raw, tables)
    return report


def _tables_in_order(source: sqlite3.Connection, target: TeamDatabase) -> list[str]:
    """The file's tables the server has too, parents before the tables that refer to them."""
    names = [
        n
        for (n,) in source.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        )
        if n not in SKIPPED
    ]
    on_server = {
        n
        for (n,) in target.cursor()
        .execute_raw(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        .fetchall()
    }
    parents = {
        n: {r[2] for r in source.execute(f"PRAGMA foreign_key_list({n})")} - {n} for n in names
    }
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [n for n in names if n not in ordered and parents[n] <= set(ordered)]
        if not ready:  # a cycle (none today): keep the rest in name order
            ready = [n for n in names if n not in ordered]
        ordered += ready
    return [n for n in ordered if n in on_server]


def _refuse_foreign_data(
    raw: Any, tables: list[str], done: dict[str, tuple[str, int, bool]], me: str
) -> None:
    others = {src for src, _, _ in done.values() if src != me}
    if others:
        raise MoveRefused(
            f"Another move into this database started from {sorted(others)[0]}: "
            "the server's data is not this computer's."
        )
    for table in tables:
        (rows,) = raw.execute_raw(f"SELECT count(*) FROM {table}").fetchone()
        expected = done.get(table, (me, 0, False))[1]
        if int(rows) != expected:
            raise MoveRefused(
                f"The server already holds other data ({rows} rows in {table}): a move goes "
                "only into an empty team database. Point at a new database, or use this one "
                "as it is."
            )


def _columns(source: sqlite3.Connection, raw: Any, table: str) -> tuple[list[str], list[str]]:
    mine = [r[1] for r in source.execute(f"PRAGMA table_info({table})")]
    theirs = {
        c
        for (c,) in raw.execute_raw(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = %s",
            (table,),
        ).fetchall()
    }
    keys = [
        r[1]
        for r in sorted(source.execute(f"PRAGMA table_info({table})"), key=lambda r: r[5])
        if r[5]
    ]
    return [c for c in mine if c in theirs], keys


def _copy_table(
    source: sqlite3.Connection,
    target: TeamDatabase,
    table: str,
    copied: int,
    total: int,
    me: str,
    on_progress: Progress,
) -> int:
    raw = target.cursor()
    columns, keys = _columns(source, raw, table)
    order = ", ".join(keys) if keys else "rowid"
    names = ", ".join(f'"{c}"' for c in columns)
    select = f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order} LIMIT ? OFFSET ?"
    while True:
        rows = source.execute(select, (BATCH_ROWS, copied)).fetchall()
        with target.atomic():
            if rows:
                with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            copied += len(rows)
            raw.execute_raw(
                "INSERT INTO engage_move (table_name, source, copied, total, done)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (table_name) DO UPDATE SET"
                " copied = EXCLUDED.copied, total = EXCLUDED.total, done = EXCLUDED.done",
                (table, me, copied, total, len(rows) < BATCH_ROWS),
            )
        on_progress(table, copied, total)
        if len(rows) < BATCH_ROWS:
            return copied


def _verify(raw: Any, counts: dict[str, int], source: sqlite3.Connection) -> None:
    for table, expected in counts.items():
        (rows,) = raw.execute_raw(f"SELECT count(*) FROM {table}").fetchone()
        if int(rows) != expected:
            raise MoveMismatch(f"{table}: {expected} rows in the file, {rows} on the server")


def _advance_sequences(raw: Any, tables: list[str]) -> None:
    """New rows on the server get ids after the copied ones."""
    identity = {
        t
        for (t,) in raw.execute_raw(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'id'"
            " AND is_identity = 'YES' AND table_schema = current_schema()"
        ).fetchall()
    }
    for table in tables:
        if table not in identity:
            continue
        (seq,) = raw.execute_raw("SELECT pg_get_serial_sequence(%s, 'id')", (table,)).fetchone()
        raw.execute_raw(
            f"SELECT setval(%s, coalesce((SELECT max(id) FROM {table}), 0) + 1, false)", (seq,)
        )
