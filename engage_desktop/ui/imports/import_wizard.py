"""File → Import contacts…: the file, its columns and group, a dry run, then the import."""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget, QWizard

from engage_desktop.imports.preview import CsvPreview
from engage_desktop.imports.report import Prepared
from engage_desktop.ui.bridge import EngineBridge
from engage_desktop.ui.context import AppContext


class ImportStep(IntEnum):
    """The pages, in order."""

    FILE = 0
    COLUMNS = 1
    CHECK = 2


class ImportWizard(QWizard):
    """Nothing is written before Import; the import is one transaction (Cancel leaves
    nothing). Progress comes from the worker thread through the bridge."""

    imported = Signal(object)  # actions.imports.Imported

    def __init__(
        self, ctx: AppContext, bridge: EngineBridge, parent: QWidget | None = None
    ) -> None:
        from engage_desktop.ui.imports.check_page import CheckPage
        from engage_desktop.ui.imports.columns_page import ColumnsPage
        from engage_desktop.ui.imports.file_page import FilePage

        super().__init__(parent)
        self.ctx = ctx
        self.bridge = bridge
        self.tasks = ctx.owned()
        self.path: Path | None = None
        self.preview: CsvPreview | None = None
        self.prepared: Prepared | None = None
        self.maps: tuple[str, ...] = ()  # the columns as chosen, for the import's process
        self.setWindowTitle("Import contacts")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setButtonText(QWizard.WizardButton.FinishButton, "&Import")
        self.setMinimumSize(820, 600)
        self.setPage(ImportStep.FILE, FilePage(self))
        self.setPage(ImportStep.COLUMNS, ColumnsPage(self))
        check = CheckPage(self)
        self.setPage(ImportStep.CHECK, check)
        self.setStartId(ImportStep.FILE)
        self.finished.connect(lambda _: check.stop_child())  # its process stops with it
        self.finished.connect(lambda _: self.tasks.cancel())
