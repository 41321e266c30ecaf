"""Importing contacts from a CSV file: preview, dry run, import — one behaviour for the app
(File → Import contacts…) and the command line (`engage-desktop import`).

Blocking (the file, the database): the app runs these on a worker thread. Opt-outs an import
queues for Klaviyo are sent by the caller afterwards (OptOutActions.push), as after `optout`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engage_desktop.actions.outcomes import ActionError, Changes, Exit
from engage_desktop.imports.csvfile import CsvError
from engage_desktop.imports.importer import ImportCancelled, dry_run, import_file, prepare
from engage_desktop.imports.preview import CsvPreview, read_preview
from engage_desktop.imports.report import ImportFailed, ImportProgress, ImportReport, Prepared
from engage_desktop.storage.connection import ConnectionRepo
from engage_desktop.storage.csv_imports import CsvImportRepo, ImportIssue, ImportRecord
from engage_desktop.storage.database import Database
from engage_desktop.storage.mailjet_settings import MailjetSettingsRepo
from engage_desktop.storage.source_settings import field_types
from engage_desktop.sync.lock import SyncLockHeld
from engage_desktop.sync.written_phones import region_code

Progress = Callable[[ImportProgress], None]


@dataclass(frozen=True)
class Imported:
    """What an import did, and which screens must reload."""

    report: ImportReport
    changes: Changes


class ImportActions:
    """CSV imports into one database."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    def default_region(self) -> str:
        """Numbers without +country are read in Klaviyo's default country, else Mailjet's,
        else the US."""
        conn = ConnectionRepo(self.db).get()
        if conn is not None:
            return conn.default_region
        mailjet = MailjetSettingsRepo(self.db).get()
        return mailjet.default_region if mailjet is not None else "US"

    def preview(
        self, path: Path, maps: tuple[str, ...] = (), region: str | None = None
    ) -> CsvPreview:
        """How the file is written, what each column seems to hold, its first rows."""
        try:
            return read_preview(path, self._region(region), field_types(self.db), maps)
        except (CsvError, ValueError) as exc:
            raise ActionError(str(exc)) from None

    def prepare(
        self,
        path: Path,
        group: str,
        maps: tuple[str, ...] = (),
        region: str | None = None,
        replace: bool = False,
    ) -> Prepared:
        """The file checked and its columns planned (ActionError saying what to fix)."""
        try:
            return prepare(path, group, self._region(region), maps, field_types(self.db), replace)
        except ImportFailed as exc:
            raise ActionError(exc.message) from None

    def dry_run(self, prepared: Prepared, on_progress: Progress | None = None) -> ImportReport:
        """What importing would do; nothing is written."""
        try:
            return dry_run(self.db, prepared, on_progress)
        except CsvError as exc:
            raise ActionError(str(exc)) from None

    def run(
        self,
        prepared: Prepared,
        who: str = "Engage Desktop",
        on_progress: Progress | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> Imported:
        """Import in one transaction under the sync lock (ActionError with Exit.LOCKED while
        a sync runs); cancelling leaves everything as it was."""
        try:
            report = import_file(self.db, prepared, who, self.clock, on_progress, should_stop)
        except SyncLockHeld as exc:
            raise ActionError(f"{exc} Import again when it has finished.", Exit.LOCKED) from None
        except ImportFailed as exc:
            raise ActionError(exc.message, Exit.FAILED) from None
        except ImportCancelled:
            raise ActionError("Import cancelled: nothing was imported.", Exit.FAILED) from None
        c = report.counts
        changed = bool(c.new or c.merged or c.left_group)
        return Imported(
            report,
            Changes(contacts=changed, lists=changed, history=True, outbox=c.queued_opt_outs > 0),
        )

    def history(self, limit: int = 50) -> list[ImportRecord]:
        return CsvImportRepo(self.db).recent(limit)

    def issues(self, import_id: int, limit: int = 1000, offset: int = 0) -> list[ImportIssue]:
        return CsvImportRepo(self.db).issues(import_id, limit, offset)

    def _region(self, region: str | None) -> str:
        try:
            return region_code(region) if region else self.default_region()
        except ValueError as exc:
            raise ActionError(str(exc)) from None
