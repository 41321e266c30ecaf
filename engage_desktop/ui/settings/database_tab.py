"""Settings → Database: which database this desktop uses (its own file or the team's
PostgreSQL), a connection test, and the one-time move of this computer's data to the server.
The choice takes effect at the next start."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QTimer
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


class MoveProgressSnapshot:
    """The move's progress as its worker thread reports it: the latest count per table, read
    by the widget's timer on the GUI thread (no Qt call from the worker at all)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.tables: dict[str, tuple[int, int]] = {}
        self.latest: tuple[str, int, int] | None = None

    def report(self, table: str, copied: int, total: int) -> None:  # on the worker thread
        with self._lock:
            self.tables[table] = (copied, total)
            self.latest = (table, copied, total)

    def read(self) -> tuple[str, int, int] | None:
        with self._lock:
            return self.latest


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
        form.addRow("Team &database URL:", self.url)
        buttons = QHBoxLayout()
        for button in (self.test_button, self.move_button, self.use_button):
            buttons.addWidget(button)
        form.addRow(buttons)
        form.addRow(self.progress)
        form.addRow(self.result)
        form.addRow(note)
        self.snapshot = MoveProgressSnapshot()
        # Widgets render snapshots at most ten times a second (STYLE.md).
        self.redraw = QTimer(self, interval=int(PROGRESS_EVERY_S * 1000))
        self.redraw.timeout.connect(self.show_progress)
        self.test_button.clicked.connect(lambda: self.tasks.spawn(self.test()))
        self.move_button.clicked.connect(lambda: self.tasks.spawn(self.move_data()))
        self.use_button.clicked.connect(lambda: self.tasks.spawn(self.use()))

    def show_progress(self) -> None:
        latest = self.snapshot.read()
        if latest is None:
            return
        table, copied, total = latest
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
        self.snapshot = MoveProgressSnapshot()
        self.redraw.start()
        try:
            report = await self.ctx.blocking_io(
                lambda: move_local_data(self.folder, url, self.snapshot.report)
            )
        except ActionError as exc:
            self.result.setText(exc.message)
            self.move_button.setEnabled(True)
            return None
        finally:
            self.redraw.stop()
            self.show_progress()
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
