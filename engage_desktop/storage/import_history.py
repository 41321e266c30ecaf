"""CSV imports as rows of the sync history: an import read as a run (its counts under the
run's names), its problem rows as issues (grouped the same way), exported as CSV.

It answers what the history screen asks of `RunRepo` (`get`, `issue_groups`,
`issue_details`, `export_issues_csv`), for imports."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import peewee

from engage_desktop.core.runs import RUN_COUNTS
from engage_desktop.core.sources import CSV
from engage_desktop.storage.runs import IssueDetail, IssueGroup, RunRecord

EXPORT_HEADER = ("import", "row", "column", "value", "reason")
_SELECT = (
    "SELECT id, group_name, file_name, started_at, ended_at, status, counts, error FROM csv_imports"
)


def as_run(row: tuple[Any, ...]) -> RunRecord:
    """An import as the history shows a run: new contacts as created, merged as updated,
    contacts that left a replaced group as removed, rows not imported as invalid."""
    import_id, group, file_name, started, ended, status, counts_json, error = row
    c = json.loads(counts_json)
    counts = dict.fromkeys(RUN_COUNTS, 0) | {
        "created": c.get("new", 0),
        "updated": c.get("merged", 0),
        "unchanged": c.get("unchanged", 0),
        "removed": c.get("left_group", 0),
        "invalid": c.get("invalid", 0) + c.get("duplicates", 0),
        "opted_out": c.get("opted_out", 0),
        "fetched": c.get("rows", 0),
    }
    return RunRecord(
        id=import_id,
        trigger="import",
        full=True,
        started_at=started,
        ended_at=ended,
        status=status,
        counts=counts,
        issues=c.get("problems", 0),
        suspicious=None,
        error=error,
        imported=f"{file_name} into “CSV: {group}”",
    )


class ImportHistory:
    """Imports for the history screen, with `RunRepo`'s reading methods."""

    def __init__(self, db: peewee.Database) -> None:
        self.db = db

    def recent(self, limit: int = 50) -> list[RunRecord]:
        rows = self.db.execute_sql(f"{_SELECT} ORDER BY id DESC LIMIT ?", (limit,))
        return [as_run(r) for r in rows]

    def get(self, import_id: int) -> RunRecord | None:
        row = self.db.execute_sql(f"{_SELECT} WHERE id = ?", (import_id,)).fetchone()
        return None if row is None else as_run(row)

    def issue_groups(self, import_id: int) -> list[IssueGroup]:
        """The import's identical problems (one column, one reason), the most frequent first."""
        rows = self.db.execute_sql(
            "SELECT column_name, reason, count(*) AS n, count(DISTINCT value), min(reason)"
            " FROM import_issues WHERE import_id = ? GROUP BY column_name, reason"
            " ORDER BY n DESC, column_name, reason",
            (import_id,),
        )
        return list(map(IssueGroup._make, rows))

    def issue_details(self, import_id: int, group: IssueGroup | None = None) -> list[IssueDetail]:
        """The problem rows kept (the first 10,000), in file order; a row names no contact:
        it stands for its line in the file."""
        where: str = ""
        args: tuple[Any, ...] = ()
        if group is not None:
            where, args = " AND column_name IS ? AND reason = ?", (group.field, group.problem)
        rows = self.db.execute_sql(
            "SELECT row, column_name, value, reason FROM import_issues WHERE import_id = ?"
            f"{where} ORDER BY rowid",
            (import_id, *args),
        )
        return [
            IssueDetail(None, None if line is None else f"Row {line:,}", None, None, column,
                        value, reason, CSV, None)
            for line, column, value, reason in rows
        ]  # fmt: skip

    def export_issues_csv(self, import_id: int, path: Path) -> int:
        """The import's problem rows as a CSV file (UTF-8 with BOM); appears whole or not at
        all. Returns how many rows were written."""
        tmp = path.with_name(path.name + ".part")
        n = 0
        rows = self.db.execute_sql(
            "SELECT row, column_name, value, reason FROM import_issues WHERE import_id = ?"
            " ORDER BY rowid",
            (import_id,),
        )
        with tmp.open("w", newline="", encoding="utf-8-sig") as f:
            out = csv.writer(f)
            out.writerow(EXPORT_HEADER)
            for row in rows:
                out.writerow([import_id, *("" if v is None else v for v in row)])
                n += 1
        tmp.replace(path)
        return n
