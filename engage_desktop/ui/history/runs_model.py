"""Sync history tables: the runs, and the issues of one run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from engage_desktop.core.runs import RUN_COUNTS
from engage_desktop.storage.runs import RunRecord
from engage_desktop.ui.widgets.read_only_table import Index, RowsTableModel

RUN_COLUMNS = (
    "#",
    "Started",
    "Trigger",
    "Kind",
    "Status",
    "Duration",
    *(count.replace("_", " ").capitalize() for count in RUN_COUNTS),
    "Issues",
)
ISSUE_COLUMNS = ("Klaviyo profile", "Contact", "Field", "Value", "Reason")
STATUS_COLOURS = {
    "succeeded": QColor("#1b5e20"),
    "failed": QColor("#b00020"),
    "interrupted": QColor("#b00020"),
    "cancelled": QColor("#8a6d00"),
}


class RunsTableModel(RowsTableModel):
    """Every run, newest first."""

    columns = RUN_COLUMNS

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        run: RunRecord | None = self.row_at(index)
        if run is None:
            return None
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


class IssuesTableModel(RowsTableModel):
    """(profile id, contact id, field, value, reason) rows of one run."""

    columns = ISSUE_COLUMNS

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index)
        if row is None or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        value = row[index.column()]
        return "" if value is None else str(value)
