"""Sync runs and their per-contact issues: the history."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import peewee

from engage_desktop.core.runs import RUN_COUNTS as COUNTS
from engage_desktop.core.sources import source_label


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
    imported: str | None = None  # a CSV import shown among the runs: "file.csv into “CSV: …”"

    @property
    def key(self) -> tuple[bool, int]:
        """Runs and imports number themselves apart: (is an import, id)."""
        return self.imported is not None, self.id


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


class IssueDetail(NamedTuple):
    """One issue as people read it: whose contact (name, phone, email), the field, the problem."""

    contact_id: int | None  # the record's contact now (a merge may have moved it); None: none
    name: str | None
    phone: str | None
    email: str | None
    field: str | None
    value: str | None
    reason: str
    source: str | None
    profile_id: str | None


class IssueGroup(NamedTuple):
    """Identical problems of one run: a field, what was wrong with its values, how many."""

    field: str | None
    problem: str  # the reason without the value it quotes: "not an ISO 8601 date"
    issues: int
    values: int  # how many different values
    example: str  # one whole reason: "'12' is not an ISO 8601 date"


# A reason that starts by quoting its value ("'12' is not a number": core/fields.py quotes the
# first 40 characters) is grouped without it, so a thousand different bad dates make one group.
_QUOTED = "('''' || substr(i.value, 1, 40) || ''' is ')"
_PROBLEM = (
    f"(CASE WHEN i.value IS NOT NULL AND substr(i.reason, 1, length({_QUOTED})) = {_QUOTED}"
    f" THEN substr(i.reason, length({_QUOTED}) + 1) ELSE i.reason END)"
)
# The source record's current contact first: a merge may have moved it since the run.
_DETAIL_SELECT = (
    "SELECT c.id AS contact_id,"
    " nullif(trim(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '')), '') AS name,"
    " coalesce(c.phone, c.phone_raw) AS phone, c.email, i.field, i.value, i.reason, i.source,"
    " i.profile_id FROM sync_issues i"
    " LEFT JOIN contact_sources s ON s.source = i.source AND s.external_id = i.profile_id"
    " LEFT JOIN contacts c ON c.id = coalesce(s.contact_id, i.contact_id)"
    " WHERE i.run_id = ?"
)
CSV_HEADER = ("run", "name", "phone", "email", "field", "value", "reason", "source", "profile_id")


class RunRepo:
    """Starts, finishes and lists runs; stores and reads their issues."""

    def __init__(self, db: peewee.Database) -> None:
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
        """A run's issues as stored, in the order they were found."""
        cursor = self.db.execute_sql(f"{_ISSUE_SELECT} WHERE run_id = ? ORDER BY id", (run_id,))
        return list(map(IssueRow._make, cursor))

    def issue_details(self, run_id: int, group: IssueGroup | None = None) -> list[IssueDetail]:
        """A run's issues with their contacts, in the order they were found; only those of
        `group` when one is given."""
        where, args = _group_filter(group)
        cursor = self.db.execute_sql(f"{_DETAIL_SELECT}{where} ORDER BY i.id", (run_id, *args))
        return list(map(IssueDetail._make, cursor))

    def issue_groups(self, run_id: int) -> list[IssueGroup]:
        """The run's identical problems (one field, one reason but for the value it quotes),
        the most frequent first."""
        cursor = self.db.execute_sql(
            "SELECT field, problem, count(*) AS n, count(DISTINCT value), min(reason)"
            f" FROM (SELECT i.field, i.value, i.reason, {_PROBLEM} AS problem"
            " FROM sync_issues i WHERE i.run_id = ?) AS issues"
            " GROUP BY field, problem ORDER BY n DESC, field, problem",
            (run_id,),
        )
        return list(map(IssueGroup._make, cursor))

    def export_issues_csv(self, run_id: int, path: Path) -> int:
        """Write a run's issues to a CSV file (UTF-8 with BOM, so spreadsheets read accents):
        the contact's name, phone and email, the field, value and reason, and last the record's
        id in its source, for support. Returns how many rows were written; the file appears
        whole or not at all."""
        tmp = path.with_name(path.name + ".part")
        n = 0
        cursor = self.db.execute_sql(f"{_DETAIL_SELECT} ORDER BY i.id", (run_id,))
        with tmp.open("w", newline="", encoding="utf-8-sig") as f:
            out = csv.writer(f)
            out.writerow(CSV_HEADER)
            for d in map(IssueDetail._make, cursor):
                source = None if d.source is None else source_label(d.source)
                shown = (d.name, d.phone, d.email, d.field, d.value, d.reason, source)
                out.writerow([run_id, *("" if v is None else v for v in (*shown, d.profile_id))])
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


def _group_filter(group: IssueGroup | None) -> tuple[str, tuple[Any, ...]]:
    """The WHERE clause that keeps one group's issues (the same key `issue_groups` groups by)."""
    if group is None:
        return "", ()
    return f" AND i.field IS ? AND {_PROBLEM} = ?", (group.field, group.problem)
