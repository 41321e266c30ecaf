"""Contacts from several sources, as people ask about them: which source wins a field (the
priority, a setting), what a run merged (the merge report, exportable), each source's part of
a run, a contact's records source by source, the groups."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from engage_desktop.actions.outcomes import ActionError, Changes
from engage_desktop.core.groups import PriorityError, check_priority
from engage_desktop.core.sources import source_label
from engage_desktop.storage.contact_table import ContactTable, ListRow
from engage_desktop.storage.contacts import ContactRepo, SourceRecord
from engage_desktop.storage.database import Database
from engage_desktop.storage.import_history import ImportHistory
from engage_desktop.storage.merge_report import (
    MergeReportRow,
    export_report_csv,
    report_counts,
    report_rows,
)
from engage_desktop.storage.run_sources import RunSourceRepo, RunSourceRow
from engage_desktop.storage.runs import RunRepo
from engage_desktop.storage.source_settings import load_priority, rederive_merged, save_priority


@dataclass(frozen=True)
class PriorityChanged:
    """What setting the source priority did."""

    priority: tuple[str, ...]
    rederived: int  # contacts whose details changed at once
    changes: Changes


@dataclass(frozen=True)
class MergeReportPage:
    """A page of a run's (or an import's) merge report, and how many rows of each kind."""

    rows: list[MergeReportRow]
    counts: dict[str, int]  # merged, conflict, phone


class SourceActions:
    """Reads and settings about where contacts come from (blocking: the database)."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    # ----- the source priority ------------------------------------------------------------------
    def priority(self) -> tuple[str, ...]:
        """Which source's value a contact shows when its sources disagree, first first."""
        return load_priority(self.db)

    def priority_labels(self) -> list[str]:
        return [source_label(s) for s in self.priority()]

    def set_priority(self, order: Sequence[str]) -> PriorityChanged:
        """Store a new priority and apply it to every merged contact now."""
        try:
            checked = check_priority(order)
        except PriorityError as exc:
            raise ActionError(str(exc)) from None
        if checked == self.priority():
            return PriorityChanged(checked, 0, Changes())
        with self.db.atomic():
            save_priority(self.db, checked)
        changed = rederive_merged(self.db, self.clock())
        return PriorityChanged(checked, changed, Changes(settings=True, contacts=changed > 0))

    # ----- what runs merged -------------------------------------------------------------------
    def merge_report(
        self,
        run_id: int | None = None,
        import_id: int | None = None,
        kind: str | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> MergeReportPage:
        """A page of the report of one run or one import (Sync history shows it)."""
        self._one_that_exists(run_id, import_id)
        return MergeReportPage(
            report_rows(self.db, run_id, import_id, kind, limit, offset),
            report_counts(self.db, run_id, import_id),
        )

    def export_merge_report(
        self, path: Path, run_id: int | None = None, import_id: int | None = None
    ) -> int:
        """The whole report as a CSV file; returns the rows written."""
        self._one_that_exists(run_id, import_id)
        try:
            return export_report_csv(self.db, path, run_id, import_id)
        except OSError as exc:
            raise ActionError(f"Cannot write {path}: {exc.strerror or exc}.") from None

    def _one_that_exists(self, run_id: int | None, import_id: int | None) -> None:
        if (run_id is None) == (import_id is None):
            raise ActionError("Name one run or one import.")
        if run_id is not None and RunRepo(self.db).get(run_id) is None:
            raise ActionError(
                f"There is no sync run #{run_id}; `engage-desktop status` names the last one."
            )
        if import_id is not None and ImportHistory(self.db).get(import_id) is None:
            raise ActionError(
                f"There is no import #{import_id}; `engage-desktop import` prints each one's "
                "number, and Sync history lists them."
            )

    def run_sources(self, run_id: int) -> list[RunSourceRow]:
        """Each source's part of a run: status, counts, issues, warning, error."""
        return RunSourceRepo(self.db).of_run(run_id)

    # ----- contacts and groups ------------------------------------------------------------------
    def records(self, contact_id: int) -> list[SourceRecord]:
        """The contact's records, each source's values and groups (the detail pane)."""
        return ContactRepo(self.db).records(contact_id)

    def groups(self) -> list[ListRow]:
        """Every group (`Klaviyo: VIP`, `Mailjet: Newsletter`, `CSV: …`) with its size."""
        return ContactTable(self.db).list_rows()
