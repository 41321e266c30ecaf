"""CSV imports in the database: their history and problem rows, their groups, and what an
import reads and writes beside the merge (records by number, group memberships)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import peewee

from engage_desktop.core.groups import group_name
from engage_desktop.core.sources import CSV
from engage_desktop.storage.dialect import not_among
from engage_desktop.storage.merge_rows import STORED_SELECT, chunks

MAX_KEPT_ISSUES = 10_000  # problem rows kept per import (all are counted)


class ImportRecord(NamedTuple):
    """One import, as the history shows it."""

    id: int
    group_name: str
    file_name: str
    started_at: float
    ended_at: float | None
    status: str
    counts: dict[str, int]
    error: str | None


class ImportIssue(NamedTuple):
    """A row (or a cell) an import could not take, and why."""

    row: int | None
    column_name: str | None
    value: str | None
    reason: str


class StoredRecord(NamedTuple):
    """A CSV record as stored: the old side of a re-imported row."""

    external_id: str
    contact_id: int
    phone: str | None
    phone_raw: str | None
    email: str | None
    first_name: str | None
    last_name: str | None
    fields: str
    consent: str | None
    consent_at: float | None
    linked_at: float
    links: int


class CsvImportRepo:
    """Everything an import keeps."""

    def __init__(self, db: peewee.Database) -> None:
        self.db = db

    # ----- history --------------------------------------------------------------------------
    def start(self, key: str, name: str, file_name: str, now: float) -> int:
        with self.db.atomic():
            cur = self.db.execute_sql(
                "INSERT INTO csv_imports (group_key, group_name, file_name, started_at, status)"
                " VALUES (?, ?, ?, ?, 'running')",
                (key, name, file_name, now),
            )
        return int(cur.lastrowid)

    def finish(
        self, import_id: int, status: str, counts: dict[str, int], now: float, error: str | None
    ) -> None:
        self.db.execute_sql(
            "UPDATE csv_imports SET status = ?, counts = ?, ended_at = ?, error = ? WHERE id = ?",
            (status, json.dumps(counts), now, error, import_id),
        )

    def add_issues(self, import_id: int, rows: Sequence[tuple[Any, ...]]) -> None:
        self.db.cursor().executemany(
            "INSERT INTO import_issues (import_id, row, column_name, value, reason)"
            " VALUES (?, ?, ?, ?, ?)",
            [(import_id, *r) for r in rows],
        )

    def recent(self, limit: int = 50) -> list[ImportRecord]:
        rows = self.db.execute_sql(
            "SELECT id, group_name, file_name, started_at, ended_at, status, counts, error"
            " FROM csv_imports ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [
            ImportRecord(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), r[7]) for r in rows
        ]

    def issues(self, import_id: int, limit: int = 1000, offset: int = 0) -> list[ImportIssue]:
        rows = self.db.execute_sql(
            "SELECT row, column_name, value, reason FROM import_issues WHERE import_id = ?"
            " ORDER BY rowid LIMIT ? OFFSET ?",
            (import_id, limit, offset),
        )
        return list(map(ImportIssue._make, rows))

    # ----- what an import reads ---------------------------------------------------------------
    def stored(self, ids: Sequence[str]) -> dict[str, StoredRecord]:
        """The CSV records stored under these ids (E.164 numbers)."""
        out: dict[str, StoredRecord] = {}
        for chunk in chunks(ids, 5000):
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute_sql(f"{STORED_SELECT}({marks})", (CSV, *chunk)):
                out[row[0]] = StoredRecord._make(row)
        return out

    def known_numbers(self, phones: Sequence[str]) -> set[str]:
        """Which of these numbers are contacts already."""
        found: set[str] = set()
        for chunk in chunks(phones, 5000):
            marks = ",".join("?" * len(chunk))
            found.update(
                r[0]
                for r in self.db.execute_sql(
                    f"SELECT phone FROM contacts WHERE phone IN ({marks})", tuple(chunk)
                )
            )
        return found

    def has_contacts(self) -> bool:
        (found,) = self.db.execute_sql("SELECT EXISTS (SELECT 1 FROM contacts)").fetchone()
        return bool(found)

    def group_id(self, key: str) -> int | None:
        row = self.db.execute_sql(
            "SELECT id FROM contact_lists WHERE source = ? AND external_id = ?", (CSV, key)
        ).fetchone()
        return None if row is None else int(row[0])

    def members(self, list_id: int | None, ids: Sequence[str]) -> set[str]:
        """Which of these records are in the group already."""
        if list_id is None:
            return set()
        found: set[str] = set()
        for chunk in chunks(ids, 5000):
            marks = ",".join("?" * len(chunk))
            found.update(
                r[0]
                for r in self.db.execute_sql(
                    "SELECT external_id FROM record_members WHERE list_id = ? AND source = ?"
                    f" AND external_id IN ({marks})",
                    (list_id, CSV, *chunk),
                )
            )
        return found

    # ----- what an import writes (inside its transaction) -------------------------------------
    def ensure_group(self, key: str, name: str, now: float) -> int:
        """The group's list, created the first time (its name as first typed stays)."""
        self.db.execute_sql(
            "INSERT INTO contact_lists (source, external_id, name, last_synced_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (source, external_id) DO NOTHING",
            (CSV, key, group_name(CSV, name), now),
        )
        found = self.group_id(key)
        assert found is not None
        return found

    def add_members(self, list_id: int, records: Sequence[tuple[str, int]]) -> None:
        """These records (id, contact) join the group, and their contacts with them."""
        cursor = self.db.cursor()
        cursor.executemany(
            "INSERT OR IGNORE INTO record_members (list_id, source, external_id) VALUES (?, ?, ?)",
            [(list_id, CSV, ext) for ext, _ in records],
        )
        cursor.executemany(
            "INSERT OR IGNORE INTO list_members (list_id, contact_id) VALUES (?, ?)",
            [(list_id, cid) for _, cid in records],
        )

    def add_every_record(self, list_id: int) -> None:
        """Every CSV record joins the group, and its contact with it: after a first import
        into a database without contacts, whose records are all this file's (one statement
        each, instead of two rows a record through the driver)."""
        self.db.execute_sql(
            "INSERT OR IGNORE INTO record_members (list_id, source, external_id)"
            " SELECT ?, source, external_id FROM contact_sources WHERE source = ?",
            (list_id, CSV),
        )
        self.db.execute_sql(
            "INSERT OR IGNORE INTO list_members (list_id, contact_id)"
            " SELECT ?, contact_id FROM contact_sources WHERE source = ?"
            " ORDER BY contact_id",  # appended in key order: cheaper than sorting it row by row
            (list_id, CSV),
        )

    def touch_group(self, list_id: int, now: float) -> None:
        """The group's size and time, after an import that changed something."""
        self.db.execute_sql(
            "UPDATE contact_lists SET last_synced_at = ?, member_count ="
            " (SELECT count(*) FROM record_members WHERE list_id = ?) WHERE id = ?",
            (now, list_id, list_id),
        )

    def keep_seen(self, ids: Sequence[str]) -> None:
        """Numbers this import brought (for replacing a group's members)."""
        self.db.execute_sql(
            "CREATE TEMP TABLE IF NOT EXISTS import_seen (external_id TEXT PRIMARY KEY)"
            " WITHOUT ROWID"
        )
        self.db.cursor().executemany(
            "INSERT OR IGNORE INTO import_seen (external_id) VALUES (?)", [(x,) for x in ids]
        )

    def replace_members(self, list_id: int) -> tuple[set[int], set[int]]:
        """The group becomes exactly what this import brought: records not in the file leave
        it; records then in no CSV group go. Returns (contacts whose groups changed, contacts
        that lost their CSV record)."""
        sql = self.db.execute_sql
        sql(
            "CREATE TEMP TABLE IF NOT EXISTS import_seen (external_id TEXT PRIMARY KEY)"
            " WITHOUT ROWID"
        )
        left = sql(
            "DELETE FROM record_members WHERE list_id = ? AND source = ? AND "
            + not_among(self.db, "record_members.external_id", "import_seen", "external_id", "true")
            + " RETURNING external_id",
            (list_id, CSV),
        ).fetchall()
        gone_ids = [r[0] for r in left]
        regroup: set[int] = set()
        lost: set[int] = set()
        for chunk in chunks(gone_ids, 5000):
            marks = ",".join("?" * len(chunk))
            regroup.update(
                int(r[0])
                for r in sql(
                    "SELECT contact_id FROM contact_sources WHERE source = ?"
                    f" AND external_id IN ({marks})",
                    (CSV, *chunk),
                )
            )
            lost.update(
                int(r[0])
                for r in sql(
                    f"DELETE FROM contact_sources WHERE source = ? AND external_id IN ({marks})"
                    " AND NOT EXISTS (SELECT 1 FROM record_members rm WHERE rm.source ="
                    " contact_sources.source AND rm.external_id = contact_sources.external_id)"
                    " RETURNING contact_id",
                    (CSV, *chunk),
                )
            )
        sql("DELETE FROM import_seen")
        return regroup, lost


@contextlib.contextmanager
def page_cache(db: peewee.Database, mebibytes: int) -> Iterator[None]:
    """A larger page cache for one big write: a million new contacts touch every index
    page by page, and pages pushed out of a small cache are read and written again."""
    (before,) = db.execute_sql("PRAGMA cache_size").fetchone()
    db.execute_sql(f"PRAGMA cache_size = {-int(mebibytes) * 1024}")
    try:
        yield
    finally:
        db.execute_sql(f"PRAGMA cache_size = {int(before)}")
