"""Each source's part of a sync run, for the history: its counts, issues, warnings, error."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import NamedTuple

import peewee

from engage_desktop.core.runs import RUN_COUNTS


class RunSourceRow(NamedTuple):
    """One source in one run."""

    source: str
    status: str  # succeeded | failed | cancelled
    full: bool
    counts: dict[str, int]
    issues: int
    suspicious: str | None
    error: str | None


class RunSourceRepo:
    """Per-source results of runs, and issues that belong to one source of a run."""

    def __init__(self, db: peewee.Database) -> None:
        self.db = db

    def record(self, run_id: int, row: RunSourceRow) -> None:
        counts = {k: int(row.counts.get(k, 0)) for k in RUN_COUNTS}
        with self.db.atomic():
            self.db.execute_sql(
                "INSERT OR REPLACE INTO run_sources (run_id, source, status, full, counts,"
                " issues, suspicious, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    row.source,
                    row.status,
                    int(row.full),
                    json.dumps(counts),
                    row.issues,
                    row.suspicious,
                    row.error,
                ),
            )

    def of_run(self, run_id: int) -> list[RunSourceRow]:
        rows = self.db.execute_sql(
            "SELECT source, status, full, counts, issues, suspicious, error FROM run_sources"
            " WHERE run_id = ? ORDER BY source",
            (run_id,),
        )
        return [
            RunSourceRow(s, st, bool(f), json.loads(c), int(i), sus, err)
            for s, st, f, c, i, sus, err in rows
        ]

    def add_issues(
        self, run_id: int, source: str, rows: Sequence[tuple[str | None, str | None, str]]
    ) -> None:
        """Issues of one source found outside the commit: (field, value, reason)."""
        with self.db.atomic():
            self.db.cursor().executemany(
                "INSERT INTO sync_issues (run_id, source, field, value, reason)"
                " VALUES (?, ?, ?, ?, ?)",
                [(run_id, source, *r) for r in rows],
            )

    def issue_count(self, run_id: int, source: str) -> int:
        (n,) = self.db.execute_sql(
            "SELECT count(*) FROM sync_issues WHERE run_id = ? AND source = ?", (run_id, source)
        ).fetchone()
        return int(n)
