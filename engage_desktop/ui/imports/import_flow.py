"""File → Import contacts…: opens the wizard (one at a time) and says what an import did."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMainWindow

from engage_desktop.actions.imports import Imported
from engage_desktop.core.words import plural
from engage_desktop.ui.bridge import EngineBridge
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.imports.import_wizard import ImportWizard


def imported_words(done: Imported) -> str:
    c = done.report.counts
    return (
        f"Imported {done.report.file} into “CSV: {done.report.group}”: "
        f"{plural(c.new, 'new contact')}, {c.merged:,} merged, {c.unchanged:,} unchanged, "
        f"{c.invalid + c.duplicates:,} rows not imported."
    )


class ImportFlow(QObject):
    """The wizard's life; `changed` (Changes) reloads the screens, `opt_outs_queued` sends
    imported opt-outs to Klaviyo now."""

    changed = Signal(object)  # Changes
    opt_outs_queued = Signal()

    def __init__(self, ctx: AppContext, bridge: EngineBridge, window: QMainWindow) -> None:
        super().__init__()
        self.ctx = ctx
        self.bridge = bridge
        self.window = window
        self.wizard: ImportWizard | None = None

    def open(self) -> None:
        if self.wizard is not None:
            self.wizard.raise_()
            return
        self.wizard = ImportWizard(self.ctx, self.bridge, self.window)
        self.wizard.imported.connect(self._imported)
        self.wizard.finished.connect(self._closed)
        self.wizard.open()

    def _closed(self) -> None:
        if self.wizard is not None:
            self.wizard.deleteLater()
        self.wizard = None

    def _imported(self, done: Imported) -> None:
        self.changed.emit(done.changes)
        self.window.statusBar().showMessage(imported_words(done), 30000)
        if done.changes.outbox:
            self.opt_outs_queued.emit()
