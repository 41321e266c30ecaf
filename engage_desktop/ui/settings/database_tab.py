"""Settings → Database: which database this desktop uses (its own file or the team's
PostgreSQL), a connection test, and the one-time move of this computer's data to the server.
The choice takes effect at the next start."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QWidget,
)

from engage_desktop.actions.database import (
    MoveReport,
    choose_database,
    database_in_use,
    move_local_data,
    try_connection,
)
from engage_desktop.actions.outcomes import ActionError
from engage_desktop.config import data_dir, saved_database_url
from engage_desktop.ui.context import AppContext

PROGRESS_EVERY_S = 0.1  # the bar is redrawn at most ten times a second


class MoveProgressBridge(QObject):
    """Carries the move's progress from its worker thread to the widgets (a queued signal),
    at most ten snapshots a second; a table's last one always."""

    progressed = Signal(str, int, int)  # table, rows copied, rows in the table

    def __init__(self) -> None:
        super().__init__()
        self._last = 0.0

    def report(self, table: str, copied: int, total: int) -> None:  # on the worker thread
        now = time.monotonic()
        if copied >= total or now - self._last >= PROGRESS_EVERY_S:
            self._last = now
            self.progressed.emit(table, copied, total)


class DatabaseSettingsBox(QGroupBox):
    """The Database section of Settings."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__("Database", parent)
        self.ctx = ctx
        self.tasks = ctx.owned()
        in_use = database_in_use(ctx.db)
        self.folder: Path = in_use.local_folder or data_dir()
        self.url = QLineEdit(
            saved_database_url(self.folder) or "",
            placeholderText="postgresql://user@host:5432/engage (empty: this computer's file)",
        )
        self.test_button = QPushButton("Test co&nnection")
        self.move_button = QPushButton("Mo&ve my local data to this server")
        self.move_button.setEnabled(not in_use.team)
        self.use_button = QPushButton("Use at ne&xt start")
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        now = "a team database" if in_use.team else "this computer's file"
        note = QLabel(
            f"In use now: {now}, {in_use.shown}. A change takes effect when Engage Desktop "
            "starts again. Keys stay in this computer's keyring."
        )
        note.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow("Team database U&RL:", self.url)
        buttons = QHBoxLayout()
        for button in (self.test_button, self.move_button, self.use_button):
            buttons.addWidget(button)
        form.addRow(buttons)
        form.addRow(self.progress)
        form.addRow(self.result)
        form.addRow(note)
        self.bridge = MoveProgressBridge()
        self.bridge.progressed.connect(self.show_progress)
        self.test_button.clicked.connect(lambda: self.tasks.spawn(self.test()))
        self.move_button.clicked.connect(lambda: self.tasks.spawn(self.move_data()))
        self.use_button.clicked.connect(lambda: self.tasks.spawn(self.use()))

    def show_progress(self, table: str, copied: int, total: int) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(min(copied, max(total, 1)))
        self.progress.setFormat(f"{table}: {copied:,} of {total:,}")

    async def test(self) -> bool:
        url = self.url.text().strip()
        self.test_button.setEnabled(False)
        self.result.setText("Connecting…")
        try:
            check = await self.ctx.blocking_io(lambda: try_connection(url))
        finally:
            self.test_button.setEnabled(True)
        self.result.setText(check.message)
        return check.ok

    async def move_data(self) -> MoveReport | None:
        url = self.url.text().strip()
        self.move_button.setEnabled(False)
        self.progress.setVisible(True)
        self.result.setText("Moving this computer's data to the server…")
        try:
            report = await self.ctx.blocking_io(
                lambda: move_local_data(self.folder, url, self.bridge.report)
            )
        except ActionError as exc:
            self.result.setText(exc.message)
            self.move_button.setEnabled(True)
            return None
        finally:
            self.progress.setVisible(False)
        self.result.setText(
            f"Moved {report.total:,} rows; every table's count checked. Press "
            "“Use at next start”, then start Engage Desktop again."
        )
        return report

    async def use(self) -> bool:
        url = self.url.text().strip() or None
        try:
            await self.ctx.blocking_io(lambda: choose_database(self.folder, url))
        except ActionError as exc:
            self.result.setText(exc.message)
            return False
        self.result.setText(
            "From the next start: the team database."
            if url
            else "From the next start: this computer's file."
        )
        return True
