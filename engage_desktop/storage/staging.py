"""The staging area: what a sync fetched, on disk, invisible to readers until the commit."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import peewee


@dataclass(frozen=True)
class StagedProfile:
    """A fetched profile, already normalised: E.164 phone or None, coerced field values."""

    profile_id: str
    phone: str | None
    phone_raw: str | None
    email: str | None
    first_name: str | None
    last_name: str | None
    fields: dict[str, Any]
    consent: str | None  # Klaviyo's SMS consent, None when absent
    consent_at: float | None
    updated_at: float | None


@dataclass(frozen=True)
class StagedIssue:
    """A problem found while staging (bad phone, value that does not fit its field)."""

    profile_id: str | None
    field: str | None
    value: str | None
    reason: str


# Sorted keys: the commit compares field values as text. One encoder for every row (json.dumps
# with options builds a new encoder per call).
_to_json = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode

_PROFILE_SQL = (
    "INSERT INTO staged_profiles (profile_id, phone, phone_raw, email, first_name, last_name,"
    " fields, consent, consent_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (profile_id) DO UPDATE SET phone = excluded.phone,"
    " phone_raw = excluded.phone_raw, email = excluded.email, first_name = excluded.first_name,"
    " last_name = excluded.last_name, fields = excluded.fields, consent = excluded.consent,"
    " consent_at = excluded.consent_at, updated_at = excluded.updated_at"
    " WHERE coalesce(excluded.updated_at, 0) >= coalesce(staged_profiles.updated_at, 0)"
)


class StagingRepo:
    """Writes fetched pages in short transactions; `clear()` empties it."""

    def __init__(self, db: peewee.SqliteDatabase) -> None:
        self.db = db

    def clear(self) -> None:
        with self.db.atomic():
            for table in ("staged_profiles", "staged_members", "staged_issues"):
                self.db.execute_sql(f"DELETE FROM {table}")

    def add(
        self,
        profiles: Iterable[StagedProfile],
        members: Iterable[tuple[str, str]] = (),
        issues: Iterable[StagedIssue] = (),
    ) -> None:
        """One page: profiles (the newest version of a profile wins), memberships, issues."""
        rows = [
            (
                p.profile_id,
                p.phone,
                p.phone_raw,
                p.email,
                p.first_name,
                p.last_name,
                _to_json(p.fields) if p.fields else "{}",
                p.consent,
                p.consent_at,
                p.updated_at,
            )
            for p in profiles
        ]
        with self.db.atomic():
            cursor = self.db.cursor()
            cursor.executemany(_PROFILE_SQL, rows)
            cursor.executemany(
                "INSERT OR IGNORE INTO staged_members (list_external_id, profile_id) VALUES (?, ?)",
                list(members),
            )
            cursor.executemany(
                "INSERT INTO staged_issues (profile_id, field, value, reason) VALUES (?, ?, ?, ?)",
                [(i.profile_id, i.field, i.value, i.reason) for i in issues],
            )

    def counts(self) -> tuple[int, int]:
        profiles = self.db.execute_sql("SELECT count(*) FROM staged_profiles").fetchone()[0]
        issues = self.db.execute_sql("SELECT count(*) FROM staged_issues").fetchone()[0]
        return int(profiles), int(issues)

    def max_updated(self) -> float | None:
        row = self.db.execute_sql("SELECT max(updated_at) FROM staged_profiles").fetchone()
        return None if row[0] is None else float(row[0])
