"""Sync history: runs above, the selected run's issues below, with CSV export."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from engage_desktop.storage.runs import RunRepo
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.history.history_chart import HistoryChart
from engage_desktop.ui.history.runs_model import IssuesTableModel, RunsTableModel
from engage_desktop.ui.widgets.read_only_table import row_view

RUNS_SHOWN = 500


def _table(model: RunsTableModel | IssuesTableModel) -> QTableView:
    view = row_view(model)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return view


class HistoryScreen(QWidget):
    """Every run with its counts and status; its issues, exportable as CSV."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.repo = RunRepo(ctx.db)
        self.runs = RunsTableModel()
        self.issues = IssuesTableModel()
        self.chart = HistoryChart()
        self.runs_view = _table(self.runs)
        self.issues_view = _table(self.issues)
        self.detail = QLabel("Select a run to see its issues.")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.export = QPushButton("&Export issues as CSV…")
        self.export.setEnabled(False)
        self.status = QLabel()

        below = QWidget()
        lower = QVBoxLayout(below)
        lower.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        bar.addWidget(self.detail, 1)
        bar.addWidget(self.export)
        lower.addLayout(bar)
        lower.addWidget(self.issues_view, 1)
        lower.addWidget(self.status)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.chart)
        split.addWidget(self.runs_view)
        split.addWidget(below)
        split.setCollapsible(0, False)
        split.setStretchFactor(1, 1)
        split.setStretchFactor(2, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)

        for col, width in enumerate((48, 150, 80, 90, 100, 80)):
            self.runs_view.setColumnWidth(col, width)
        for col, width in enumerate((240, 80, 120, 200)):
            self.issues_view.setColumnWidth(col, width)
        self.runs_view.selectionModel().currentRowChanged.connect(self._run_chosen)
        # The chart draws the rows the table holds: no query of its own on the GUI thread.
        self.runs.modelReset.connect(lambda: self.chart.set_runs(self.runs.rows))
        self.chart.run_clicked.connect(self.show_run)
        self.export.clicked.connect(self._ask_export_path)

    def reload(self) -> None:
        chosen = self.current_run()
        self.runs.set_rows(self.repo.recent(RUNS_SHOWN))
        if chosen is not None:
            self.show_run(chosen)

    def show_run(self, run_id: int) -> None:
        """Select a run (a notification or the status panel links here)."""
        if self.runs.row_of(run_id) is None:  # newer than what is shown
            self.runs.set_rows(self.repo.recent(RUNS_SHOWN))
        row = self.runs.row_of(run_id)
        if row is not None:
            self.runs_view.setCurrentIndex(self.runs.index(row, 0))

    def current_run(self) -> int | None:
        index = self.runs_view.currentIndex()
        return self.runs.rows[index.row()].id if index.isValid() else None

    def _run_chosen(self) -> None:
        run_id = self.current_run()
        self.chart.set_current(run_id)
        if run_id is not None:
            self.loading = self.ctx.spawn(self._show_issues(run_id))

    async def _show_issues(self, run_id: int) -> None:
        """A run can have 100,000 issues: they are read off the GUI thread."""
        issues = await self.ctx.read(self.repo.issues, run_id)
        run = self.repo.get(run_id)
        if run is None or run_id != self.current_run():
            return  # another run was chosen meanwhile
        self.issues.set_rows(issues)
        self.export.setEnabled(bool(issues))
        parts = [f"Run #{run.id}: {run.status}, {len(self.issues.rows):,} issue(s)."]
        if run.suspicious:
            parts.append(f"Warning: {run.suspicious}")
        if run.error:
            parts.append(f"Error: {run.error}")
        self.detail.setText(" ".join(parts))

    def _ask_export_path(self) -> None:
        run_id = self.current_run()
        if run_id is None:
            return
        dialog = QFileDialog(self, "Export issues", str(Path.home() / f"sync-{run_id}-issues.csv"))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter("CSV files (*.csv)")
        dialog.setDefaultSuffix("csv")
        dialog.fileSelected.connect(
            lambda path: self.ctx.spawn(self.export_csv(run_id, Path(path)))
        )
        dialog.open()
        self.file_dialog = dialog

    async def export_csv(self, run_id: int, path: Path) -> int:
        """Write the run's issues to `path` off the GUI thread; says how it went."""
        try:
            n: int = await self.ctx.read(self.repo.export_issues_csv, run_id, path)
        except OSError as exc:
            self.status.setText(f"Could not write {path}: {exc.strerror or exc}.")
            return 0
        self.status.setText(f"Exported {n:,} issue(s) to {path}.")
        return n
