"""Import page 3: the dry run (what would change, the problem rows), then Import with a
progress bar and Cancel. Both run in a process of their own (actions/import_child.py), so the
GUI thread never waits for the interpreter lock; progress arrives through the bridge, drawn
ten times a second."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWizard,
    QWizardPage,
)

from engage_desktop.actions import ActionError
from engage_desktop.actions.import_child import ImportChild
from engage_desktop.actions.imports import Imported
from engage_desktop.core.words import plural
from engage_desktop.imports.report import ImportProgress, ImportReport
from engage_desktop.storage.database import DatabaseError
from engage_desktop.ui.imports.problems_model import COLUMNS, ProblemsTableModel
from engage_desktop.ui.widgets.read_only_table import ColumnFitter, row_view

if TYPE_CHECKING:
    from engage_desktop.ui.imports.import_wizard import ImportWizard

COUNTS = (
    ("new", "New contacts"),
    ("merged", "Merged with existing contacts"),
    ("unchanged", "Unchanged (imported before)"),
    ("invalid", "Invalid rows (not imported)"),
    ("duplicates", "Repeated numbers (not imported)"),
    ("opted_out", "Opted out"),
)


class CheckPage(QWizardPage):
    """Runs the dry run on entry; Import (the wizard's Finish) writes, in one transaction."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self._report: ImportReport | None = None
        self._running = False
        self._done: Imported | None = None
        self._child: ImportChild | None = None
        self._latest: ImportProgress | None = None
        self.setTitle("Dry run")
        self.setSubTitle("What importing would do. Nothing has been written yet.")
        self.counts: dict[str, QLabel] = {}
        grid = QGridLayout()
        for i, (key, label) in enumerate(COUNTS):
            value = QLabel("—")
            value.setAccessibleName(label)
            self.counts[key] = value
            grid.addWidget(QLabel(label + ":"), i // 2, (i % 2) * 2)
            grid.addWidget(value, i // 2, (i % 2) * 2 + 1)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.cancel = QPushButton("&Cancel import")
        self.cancel.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.problems_label = QLabel()
        self.problems = ProblemsTableModel()
        self.view = row_view(self.problems)
        self.view.setAccessibleName("Problem rows")
        self.fitter = ColumnFitter(self.view, COLUMNS)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.progress)
        layout.addWidget(self.cancel)
        layout.addWidget(self.status)
        layout.addWidget(self.problems_label)
        layout.addWidget(self.view, 1)
        self.timer = QTimer(self, interval=100)  # at most ten redraws a second
        self.timer.timeout.connect(self._draw_progress)
        self.cancel.clicked.connect(self.stop_child)
        wizard.bridge.import_progressed.connect(self._progressed)

    # ----- the dry run ------------------------------------------------------------------------
    def initializePage(self) -> None:
        self._report = None
        self._done = None
        self.completeChanged.emit()
        self._wizard.tasks.spawn(self._dry_run())

    def isComplete(self) -> bool:
        return self._report is not None and not self._running

    async def _dry_run(self) -> None:
        w = self._wizard
        assert w.prepared is not None
        self._begin("Checking every row against your contacts…")
        self._child = ImportChild(Path(w.ctx.db.database), w.prepared, w.maps, dry_run=True)
        try:
            checked = await w.ctx.blocking_io(self._child.run, w.bridge.publish)
        except ActionError as exc:
            self._end()
            self.status.setText(exc.message)
            return
        self._end()
        report = checked.report
        self._report = report
        self.show_report(report)
        self.completeChanged.emit()

    def show_report(self, report: ImportReport) -> None:
        c = report.counts
        for key, _ in COUNTS:
            self.counts[key].setText(f"{getattr(c, key):,}")
        self.problems.set_rows(list(report.problems))
        kept = len(report.problems)
        self.problems_label.setText(
            f"{plural(c.problems, 'problem')} in the file"
            + (f" (the first {kept:,} shown)" if kept < c.problems else "")
            + (":" if c.problems else ".")
        )
        group = f"“CSV: {report.group}”"
        self.status.setText(
            f"Press Import to add {plural(c.new + c.merged, 'contact')} to {group} in one "
            "step (a sync must not be running)."
            if report.dry_run
            else f"Imported: {plural(c.new, 'new contact')}, {c.merged:,} merged, into {group}."
        )

    # ----- the import ---------------------------------------------------------------------------
    def validatePage(self) -> bool:
        if self._done is not None:
            return True
        if not self._running and self._report is not None:
            self._wizard.tasks.spawn(self._import())
        return False

    async def _import(self) -> None:
        w = self._wizard
        assert w.prepared is not None
        self._begin("Importing…")
        self.cancel.show()
        self.cancel.setFocus()
        self._child = ImportChild(Path(w.ctx.db.database), w.prepared, w.maps, dry_run=False)
        try:
            done = await w.ctx.blocking_io(self._child.run, w.bridge.publish)
        except (ActionError, DatabaseError) as exc:
            self._end()
            self.status.setText(getattr(exc, "message", str(exc)))
            self.status.setStyleSheet("color: #b00020;")
            return
        self._end()
        self._done = done
        self.status.setStyleSheet("")
        self.show_report(done.report)
        w.imported.emit(done)
        w.accept()

    # ----- progress -----------------------------------------------------------------------------
    def stop_child(self) -> None:
        """Cancel the dry run or import under way (the wizard closing, or Cancel import)."""
        if self._child is not None:
            self._child.cancel()

    def _begin(self, text: str) -> None:
        self._running = True
        self._latest = None
        self.status.setStyleSheet("")
        self.status.setText(text)
        self.progress.setValue(0)
        self.progress.show()
        self.timer.start()
        self._buttons(False)
        self.completeChanged.emit()

    def _end(self) -> None:
        self._child = None
        self._running = False
        self.timer.stop()
        self.progress.hide()
        self.cancel.hide()
        self._buttons(True)
        self.completeChanged.emit()

    def _progressed(self, p: ImportProgress) -> None:
        self._latest = p  # drawn by the timer: a snapshot, never a delta

    def _draw_progress(self) -> None:
        p = self._latest
        if p is None:
            return
        self.progress.setValue(int(1000 * p.bytes_read / max(p.total_bytes, 1)))
        verb = "Checked" if p.phase == "checking" else "Imported"
        self.progress.setFormat(f"{verb} {p.rows:,} rows — %p%")

    def _buttons(self, on: bool) -> None:
        for which in (QWizard.WizardButton.CancelButton, QWizard.WizardButton.BackButton):
            self._wizard.button(which).setEnabled(on)
