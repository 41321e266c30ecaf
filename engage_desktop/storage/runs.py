"""Sync runs and their per-contact issues: the history."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
        cols = ", ".join(f"r.{k}" for k in COUNTS)
        rows = self.db.execute_sql(
            f"SELECT r.id, r.trigger, r.full, r.started_at, r.ended_at, r.status, r.suspicious,"
            f" r.error, (SELECT count(*) FROM sync_issues i WHERE i.run_id = r.id), {cols}"
            f" FROM sync_runs r {tail}",
            args,
        ).fetchall()
        return [
            RunRecord(
                r[0],
                r[1],
                bool(r[2]),
                r[3],
                r[4],
                r[5],
                dict(zip(COUNTS, r[9:], strict=True)),
                r[8],
                r[6],
                r[7],
            )
            for r in rows
        ]

    def last_success_at(self) -> float | None:
        """When the last successful run started (the schedule counts from it)."""
        row = self.db.execute_sql(
            "SELECT max(started_at) FROM sync_runs WHERE status = 'succeeded'"
        ).fetchone()
        return None if row[0] is None else float(row[0])

    def issue_count(self, run_id: int) -> int:
        row = self.db.execute_sql("SELECT count(*) FROM sync_issues WHERE run_id = ?", (run_id,))
        return int(row.fetchone()[0])

    def issues(
        self, run_id: int
    ) -> list[tuple[str | None, int | None, str | None, str | None, str]]:
        """(profile id, contact id, field, value, reason) of a run."""
        return [
            tuple(r)
            for r in self.db.execute_sql(
                "SELECT profile_id, contact_id, field, value, reason FROM sync_issues"
                " WHERE run_id = ? ORDER BY id",
                (run_id,),
            )
        ]

    def export_issues_csv(self, run_id: int, path: Path) -> int:
        """Write a run's issues to a CSV file (UTF-8 with BOM, so spreadsheets read accents);
        returns how many rows were written. The file appears whole or not at all."""
        tmp = path.with_name(path.name + ".part")
        n = 0
        with tmp.open("w", newline="", encoding="utf-8-sig") as f:
            out = csv.writer(f)
            out.writerow(["run", "klaviyo_profile_id", "contact_id", "field", "value", "reason"])
            for row in self.db.execute_sql(
                "SELECT profile_id, contact_id, field, value, reason FROM sync_issues"
                " WHERE run_id = ? ORDER BY id",
                (run_id,),
            ):
                out.writerow([run_id, *("" if v is None else v for v in row)])
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
