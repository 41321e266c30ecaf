"""Sync runs and their per-contact issues: the history."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import peewee

from engage_desktop.core.runs import RUN_COUNTS as COUNTS


@dataclass(frozen=True)
class RunRecord:
    """One row of the sync history."""

    id: int
    trigger: str
    full: bool
    started_at: float
    ended_at: float | None
    status: str
    counts: dict[str, int]
    issues: int
    suspicious: str | None
    error: str | None


class _RunColumns(NamedTuple):
    """A sync_runs row as `_select` reads it: the counts as one JSON object."""

    id: int
    trigger: str
    full: int
    started_at: float
    ended_at: float | None
    status: str
    counts: str
    issues: int
    suspicious: str | None
    error: str | None


_COUNTS_OBJECT = ", ".join(f"'{k}', r.{k}" for k in COUNTS)
_RUN_SELECT = (
    "SELECT r.id, r.trigger, r.full, r.started_at, r.ended_at, r.status,"
    f" json_object({_COUNTS_OBJECT}) AS counts,"
    " (SELECT count(*) FROM sync_issues i WHERE i.run_id = r.id) AS issues,"
    " r.suspicious, r.error FROM sync_runs r"
)


class IssueRow(NamedTuple):
    """One issue of a run: what could not be taken from a source record, and why."""

    profile_id: str | None  # the record's id in its source (a Klaviyo profile id)
    contact_id: int | None
    field: str | None
    value: str | None
    reason: str
    source: str | None  # KLAVIYO, …; None for issues found outside a source's commit


_ISSUE_SELECT = f"SELECT {', '.join(IssueRow._fields)} FROM sync_issues"


class RunRepo:
    """Starts, finishes and lists runs; stores and reads their issues."""

    def __init__(self, db: peewee.SqliteDatabase) -> None:
        self.db = db

    def start(self, trigger: str, full: bool, now: float) -> int:
        with self.db.atomic():
            cur = self.db.execute_sql(
                "INSERT INTO sync_runs (trigger, full, started_at, status) VALUES (?, ?, ?, ?)",
                (trigger, int(full), now, "running"),
            )
        return int(cur.lastrowid)

    def finish(
        self,
        run_id: int,
        status: str,
        counts: dict[str, int],
        now: float,
        suspicious: str | None = None,
        error: str | None = None,
    ) -> None:
        sets = ", ".join(f"{k} = ?" for k in COUNTS)
        with self.db.atomic():
            self.db.execute_sql(
                f"UPDATE sync_runs SET status = ?, ended_at = ?, suspicious = ?, error = ?, {sets}"
                " WHERE id = ?",
                (status, now, suspicious, error, *(counts.get(k, 0) for k in COUNTS), run_id),
            )

    def mark_interrupted(self, now: float) -> int:
        """Runs left 'running' by a process that died: record them as interrupted."""
        with self.db.atomic():
            cur = self.db.execute_sql(
                "UPDATE sync_runs SET status = 'interrupted', ended_at = ?,"
                " error = 'the process running it stopped' WHERE status = 'running'",
                (now,),
            )
        return int(cur.rowcount)

    def get(self, run_id: int) -> RunRecord | None:
        rows = self._select("WHERE r.id = ?", (run_id,))
        return rows[0] if rows else None

    def recent(self, limit: int = 50) -> list[RunRecord]:
        return self._select("ORDER BY r.id DESC LIMIT ?", (limit,))

    def last(self) -> RunRecord | None:
        rows = self.recent(1)
        return rows[0] if rows else None

    def _select(self, tail: str, args: tuple[Any, ...]) -> list[RunRecord]:
        rows = map(_RunColumns._make, self.db.execute_sql(f"{_RUN_SELECT} {tail}", args))
        return [
            RunRecord(
                id=r.id,
                trigger=r.trigger,
                full=bool(r.full),
                started_at=r.started_at,
                ended_at=r.ended_at,
                status=r.status,
                counts=json.loads(r.counts),
                issues=r.issues,
                suspicious=r.suspicious,
                error=r.error,
            )
            for r in rows
        ]

    def last_success_at(self) -> float | None:
        """When the last successful run started (the schedule counts from it)."""
        (started,) = self.db.execute_sql(
            "SELECT max(started_at) FROM sync_runs WHERE status = 'succeeded'"
        ).fetchone()
        return None if started is None else float(started)

    def issue_count(self, run_id: int) -> int:
        cursor = self.db.execute_sql("SELECT count(*) FROM sync_issues WHERE run_id = ?", (run_id,))
        (n,) = cursor.fetchone()
        return int(n)

    def issues(self, run_id: int) -> list[IssueRow]:
        """A run's issues, in the order they were found."""
        cursor = self.db.execute_sql(f"{_ISSUE_SELECT} WHERE run_id = ? ORDER BY id", (run_id,))
        return list(map(IssueRow._make, cursor))

    def export_issues_csv(self, run_id: int, path: Path) -> int:
        """Write a run's issues to a CSV file (UTF-8 with BOM, so spreadsheets read accents);
        returns how many rows were written. The file appears whole or not at all."""
        tmp = path.with_name(path.name + ".part")
        n = 0
        cursor = self.db.execute_sql(f"{_ISSUE_SELECT} WHERE run_id = ? ORDER BY id", (run_id,))
        with tmp.open("w", newline="", encoding="utf-8-sig") as f:
            out = csv.writer(f)
            out.writerow(["run", "klaviyo_profile_id", "contact_id", "field", "value", "reason"])
            for issue in map(IssueRow._make, cursor):
                values = (issue.profile_id, issue.contact_id, issue.field, issue.value)
                out.writerow([run_id, *("" if v is None else v for v in values), issue.reason])
                n += 1
        tmp.replace(path)
        return n

    def add_issues(self, run_id: int, rows: list[tuple[str | None, str | None, str]]) -> None:
        """Issues found outside the commit: (field, value, reason)."""
        with self.db.atomic():
            self.db.cursor().executemany(
                "INSERT INTO sync_issues (run_id, field, value, reason) VALUES (?, ?, ?, ?)",
                [(run_id, *r) for r in rows],
            )
