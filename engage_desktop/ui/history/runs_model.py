"""Sync history tables: the runs, and the issues of one run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from engage_desktop.core.runs import RUN_COUNTS
from engage_desktop.storage.runs import RunRecord

Index = QModelIndex | QPersistentModelIndex
RUN_COLUMNS = ("#", "Started", "Trigger", "Kind", "Status", "Duration", *RUN_COUNTS, "Issues")
ISSUE_COLUMNS = ("Klaviyo profile", "Contact", "Field", "Value", "Reason")
STATUS_COLOURS = {
    "succeeded": QColor("#1b5e20"),
    "failed": QColor("#b00020"),
    "interrupted": QColor("#b00020"),
    "cancelled": QColor("#8a6d00"),
}


class _Table(QAbstractTableModel):
    """A small read-only table of tuples (a page of history, one run's issues)."""

    columns: tuple[str, ...] = ()

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Any] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self.columns):
            return self.columns[section].replace("_", " ").capitalize()
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def set_rows(self, rows: list[Any]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()


class RunsTableModel(_Table):
    """Every run, newest first."""

    columns = RUN_COLUMNS

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        run: RunRecord = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.ForegroundRole and col == 4:
            return STATUS_COLOURS.get(run.status)
        if role == Qt.ItemDataRole.ToolTipRole:
            return run.error or run.suspicious
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if col == 0:
            return run.id
        if col == 1:
            return datetime.fromtimestamp(run.started_at).strftime("%Y-%m-%d %H:%M:%S")
        if col == 2:
            return run.trigger
        if col == 3:
            return "full" if run.full else "incremental"
        if col == 4:
            return run.status + (" ⚠" if run.suspicious else "")
        if col == 5:
            return "—" if run.ended_at is None else f"{run.ended_at - run.started_at:.1f} s"
        if col < 6 + len(RUN_COUNTS):
            return f"{run.counts[RUN_COUNTS[col - 6]]:,}"
        return f"{run.issues:,}"

    def row_of(self, run_id: int) -> int | None:
        for row, run in enumerate(self.rows):
            if run.id == run_id:
                return row
        return None


class IssuesTableModel(_Table):
    """(profile id, contact id, field, value, reason) rows of one run."""

    columns = ISSUE_COLUMNS

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        value = self.rows[index.row()][index.column()]
        return "" if value is None else str(value)
