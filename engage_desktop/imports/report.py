"""What an import (or its dry run) says: the counts, the problem rows, how the file was read."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engage_desktop.imports.columns import ColumnPlan
from engage_desktop.imports.csvfile import CsvFormat
from engage_desktop.imports.rows import RowProblem

MAX_KEPT = 10_000  # problem rows kept in memory (all are counted)


class ImportFailed(Exception):
    """An import that cannot be done as asked; the message says what to fix."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Prepared:
    """A file checked and planned, ready for a dry run or an import."""

    path: Path
    format: CsvFormat
    plan: ColumnPlan
    name: str  # the group, as typed (cleaned)
    key: str  # what identifies the group
    region: str  # numbers without +country are read in this country
    replace: bool = False  # the group becomes exactly this file


@dataclass(frozen=True)
class ImportProgress:
    """How far an import is (for a progress bar: bytes of the file read)."""

    phase: str  # checking | importing
    rows: int
    bytes_read: int
    total_bytes: int


@dataclass
class ImportCounts:
    """Rows by what happens to them."""

    rows: int = 0
    new: int = 0  # a number that is no contact yet
    merged: int = 0  # joins (or updates) the contact of its number
    unchanged: int = 0  # as a previous import left it
    invalid: int = 0  # not imported: no usable number, or a yes/no that is neither
    duplicates: int = 0  # the same number as an earlier row
    opted_out: int = 0  # rows that say the person opted out
    problems: int = 0  # problem notes (a row may have several)
    left_group: int = 0  # replacing the group: contacts no longer in the file
    queued_opt_outs: int = 0  # opt-outs queued for Klaviyo by this import

    def as_json(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class Problems:
    """Problem rows: all counted, the first MAX_KEPT kept."""

    kept: list[RowProblem] = field(default_factory=list)
    total: int = 0

    def add(self, line: int, column: str | None, value: str | None, reason: str) -> None:
        self.extend([RowProblem(line, column, value, reason)])

    def extend(self, found: list[RowProblem]) -> None:
        self.total += len(found)
        room = MAX_KEPT - len(self.kept)
        if room > 0:
            self.kept.extend(found[:room])


@dataclass(frozen=True)
class ImportReport:
    """What an import did, or its dry run would do."""

    dry_run: bool
    group: str
    file: str
    format: CsvFormat
    plan: ColumnPlan
    counts: ImportCounts
    problems: tuple[RowProblem, ...]
    import_id: int | None = None
    merge: dict[str, int] = field(default_factory=dict)  # the merge report's counts

    @classmethod
    def of(
        cls,
        prepared: Prepared,
        counts: ImportCounts,
        problems: Problems,
        dry_run: bool,
        import_id: int | None = None,
        merge: dict[str, int] | None = None,
    ) -> ImportReport:
        counts.problems = problems.total
        return cls(
            dry_run,
            prepared.name,
            prepared.path.name,
            prepared.format,
            prepared.plan,
            counts,
            tuple(problems.kept),
            import_id,
            dict(merge or {}),
        )

    def as_json(self, max_problems: int = 1000) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "group": self.group,
            "file": self.file,
            "encoding": self.format.encoding,
            "delimiter": self.format.delimiter,
            "columns": [
                {
                    "column": c.header,
                    "role": c.role.value,
                    "field": c.field,
                    "type": c.type.value if c.field else None,
                }
                for c in self.plan.columns
            ],
            **self.counts.as_json(),
            "import_id": self.import_id,
            "merge_report": self.merge,
            "problem_rows": [
                {"line": p.line, "column": p.column, "value": p.value, "reason": p.reason}
                for p in self.problems[:max_problems]
            ],
        }
