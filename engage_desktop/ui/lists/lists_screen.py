"""Contact Lists: each list with its members, source and last sync."""

from __future__ import annotations

import asyncio
from datetime import datetime

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from engage_desktop.storage.contact_table import ContactTable, ListRow
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.widgets.read_only_table import RIGHT, Column, RowsTableModel, row_view


def _last_sync(row: ListRow) -> str:
    when = row.last_synced_at
    return "never" if when is None else datetime.fromtimestamp(when).strftime("%Y-%m-%d %H:%M")


COLUMNS: tuple[Column[ListRow], ...] = (
    Column("List", lambda r: r.name),
    Column("Source", lambda r: r.source),
    Column("Members", lambda r: f"{r.members:,}", alignment=RIGHT),
    Column(
        "Size in source",
        lambda r: "—" if r.source_count is None else f"{r.source_count:,}",
        alignment=RIGHT,
    ),
    Column("Last sync", _last_sync),
)


class ListsTableModel(RowsTableModel[ListRow]):
    """A few dozen lists: loaded whole, refreshed after each sync."""

    columns = COLUMNS


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
