"""The staging area: what a sync fetched, on disk, invisible to readers until the commit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
import peewee

STAGED_TABLES = ("staged_records", "staged_members", "staged_issues", "staged_kept")


@dataclass(frozen=True)
class StagedRecord:
    """A fetched source record, already normalised: E.164 phone or None, coerced field values."""

    external_id: str  # the source's id (a Klaviyo profile id)
    phone: str | None
    phone_raw: str | None
    email: str | None
    first_name: str | None
    last_name: str | None
    fields: dict[str, Any]
    consent: str | None  # SUBSCRIBED | UNSUBSCRIBED | NEVER_SUBSCRIBED, None when absent
    consent_at: float | None
    updated_at: float | None


@dataclass(frozen=True)
class StagedIssue:
    """A problem found while staging (bad phone, value that does not fit its field)."""

    external_id: str | None
    field: str | None
    value: str | None
    reason: str


def _to_json(fields: dict[str, Any]) -> str:
    # Sorted keys: the commit compares field values as text (storage/merge.py dump_fields).
    return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS).decode()


_RECORD_SQL = (
    "INSERT INTO staged_records (source, external_id, phone, phone_raw, email, first_name,"
    " last_name, fields, consent, consent_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (source, external_id) DO UPDATE SET phone = excluded.phone,"
    " phone_raw = excluded.phone_raw, email = excluded.email, first_name = excluded.first_name,"
    " last_name = excluded.last_name, fields = excluded.fields, consent = excluded.consent,"
    " consent_at = excluded.consent_at, updated_at = excluded.updated_at"
    " WHERE coalesce(excluded.updated_at, 0) >= coalesce(staged_records.updated_at, 0)"
)


def clear_sources(db: peewee.Database, sources: list[str]) -> None:
    """Empty these sources' parts of the staging area. A table that holds nothing else is
    emptied whole (SQLite then frees its pages at once instead of deleting row by row)."""
    marks = ",".join("?" * len(sources))
    for table in STAGED_TABLES:
        low, high, unnamed = db.execute_sql(
            f"SELECT min(source), max(source), count(*) - count(source) FROM {table}"
        ).fetchone()
        if low is None and not unnamed:
            continue  # empty
        if low == high and low in sources and not unnamed:
            db.execute_sql(f"DELETE FROM {table}")
        else:
            db.execute_sql(f"DELETE FROM {table} WHERE source IN ({marks})", sources)


class StagingRepo:
    """One source's part of the staging area: pages written in short transactions."""

    def __init__(self, db: peewee.Database, source: str) -> None:
        self.db = db
        self.source = source

    def clear(self) -> None:
        with self.db.atomic():
            clear_sources(self.db, [self.source])

    def add(
        self,
        records: Iterable[StagedRecord],
        members: Iterable[tuple[str, str]] = (),
        issues: Iterable[StagedIssue] = (),
        kept: Iterable[str] = (),
    ) -> None:
        """One page: records (the newest version of a record wins), memberships as (list id,
        record id), issues, and the ids of records seen but unreadable (never removed)."""
        src = self.source
        rows = [
            (
                src,
                r.external_id,
                r.phone,
                r.phone_raw,
                r.email,
                r.first_name,
                r.last_name,
                _to_json(r.fields) if r.fields else "{}",
                r.consent,
                r.consent_at,
                r.updated_at,
            )
            for r in records
        ]
        with self.db.atomic():
            cursor = self.db.cursor()
            cursor.executemany(_RECORD_SQL, rows)
            cursor.executemany(
                "INSERT OR IGNORE INTO staged_members (source, list_external_id, external_id)"
                " VALUES (?, ?, ?)",
                [(src, lst, ext) for lst, ext in members],
            )
            cursor.executemany(
                "INSERT INTO staged_issues (source, external_id, field, value, reason)"
                " VALUES (?, ?, ?, ?, ?)",
                [(src, i.external_id, i.field, i.value, i.reason) for i in issues],
            )
            cursor.executemany(
                "INSERT OR IGNORE INTO staged_kept (source, external_id) VALUES (?, ?)",
                [(src, ext) for ext in kept],
            )

    def counts(self) -> tuple[int, int]:
        sql = self.db.execute_sql
        records = sql("SELECT count(*) FROM staged_records WHERE source = ?", (self.source,))
        issues = sql("SELECT count(*) FROM staged_issues WHERE source = ?", (self.source,))
        return int(records.fetchone()[0]), int(issues.fetchone()[0])

    def max_updated(self) -> float | None:
        row = self.db.execute_sql(
            "SELECT max(updated_at) FROM staged_records WHERE source = ?", (self.source,)
        ).fetchone()
        return None if row[0] is None else float(row[0])

    def members_without_records(self, limit: int) -> list[str]:
        """Ids a list listed whose records no listing brought (at most `limit`)."""
        return self._not_brought("staged_members", limit)

    def stored_not_staged(self, limit: int) -> list[str]:
        """Ids of this source's stored records that no listing of this run brought (at most
        `limit`)."""
        return self._not_brought("contact_sources", limit)

    def _not_brought(self, table: str, limit: int) -> list[str]:
        """This source's ids in `table` that no staged record, read or kept, names."""
        rows = self.db.execute_sql(
            f"SELECT DISTINCT t.external_id FROM {table} t WHERE t.source = ?"
            " AND NOT EXISTS (SELECT 1 FROM staged_records r WHERE r.source = t.source"
            " AND r.external_id = t.external_id)"
            " AND NOT EXISTS (SELECT 1 FROM staged_kept k WHERE k.source = t.source"
            " AND k.external_id = t.external_id) LIMIT ?",
            (self.source, limit),
        ).fetchall()
        return [r[0] for r in rows]

    def drop_members(self, external_ids: list[str]) -> None:
        """Forget memberships of records proven gone (deleted while the run fetched)."""
        with self.db.atomic():
            self.db.cursor().executemany(
                "DELETE FROM staged_members WHERE source = ? AND external_id = ?",
                [(self.source, ext) for ext in external_ids],
            )
