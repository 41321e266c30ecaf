"""Contact Lists: each list with its members, source and last sync."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from engage_desktop.storage.contact_table import ContactTable, ListRow
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.widgets.read_only_table import Index, RowsTableModel, row_view

COLUMNS = ("List", "Source", "Members", "Size in source", "Last sync")


class ListsTableModel(RowsTableModel):
    """A few dozen lists: loaded whole, refreshed after each sync."""

    columns = COLUMNS

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        r: ListRow | None = self.row_at(index)
        if r is None:
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in (2, 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        when = r.last_synced_at
        return (
            r.name,
            r.source,
            f"{r.members:,}",
            "—" if r.source_count is None else f"{r.source_count:,}",
            "never" if when is None else datetime.fromtimestamp(when).strftime("%Y-%m-%d %H:%M"),
        )[index.column()]


class ListsScreen(QWidget):
    """The lists; a double click (or Enter) shows a list's contacts."""

    show_list_requested = Signal(int)  # local list id

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._table = ContactTable(ctx.db)
        self.model = ListsTableModel()
        self.view = row_view(self.model)
        self.view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.empty = QLabel()
        self.layout_ = QVBoxLayout(self)
        self.layout_.addWidget(self.view, 1)
        self.layout_.addWidget(self.empty)
        self.view.activated.connect(self._open)

    def reload(self) -> asyncio.Task[None]:
        """Counting members reads every membership (100 ms at a million): off the GUI thread."""
        return self.ctx.spawn(self._load())

    async def _load(self) -> None:
        self.model.set_rows(await self.ctx.read(self._table.list_rows))
        self.empty.setText(
            ""
            if self.model.rows
            else "No lists yet: install Klaviyo under Extensions → Integrations and sync."
        )

    def _open(self, index: QModelIndex) -> None:
        if index.isValid():
            self.show_list_requested.emit(self.model.rows[index.row()].id)
