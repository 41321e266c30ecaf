"""Contact Lists: each group (a source's list) with its members, source and last sync,
grouped by source."""

from __future__ import annotations

import asyncio
from datetime import datetime

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from engage_desktop.core.sources import source_label
from engage_desktop.storage.contact_table import ContactTable, ListRow
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.widgets.read_only_table import (
    RIGHT,
    Column,
    ColumnFitter,
    RowsTableModel,
    row_view,
)


def _last_sync(row: ListRow) -> str:
    when = row.last_synced_at
    return "never" if when is None else datetime.fromtimestamp(when).strftime("%Y-%m-%d %H:%M")


# The name takes the width; the other columns fit their headers and their longest values.
COLUMNS: tuple[Column[ListRow], ...] = (
    Column("Group", lambda r: r.name, tooltip=lambda r: r.name, stretch=1),
    Column("Source", lambda r: source_label(r.source), sample="Klaviyo"),
    Column("Members", lambda r: f"{r.members:,}", alignment=RIGHT, sample="1,000,000"),
    Column(
        "Size in source",
        lambda r: "—" if r.source_count is None else f"{r.source_count:,}",
        alignment=RIGHT,
        sample="1,000,000",
    ),
    Column("Last sync", _last_sync, sample="2026-12-31 23:59"),
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
        self.view.setWordWrap(False)
        self.columns = ColumnFitter(self.view, COLUMNS)
        self.empty = QLabel()
        # Why the two counts can differ, said where both are shown.
        self.counts_note = QLabel(
            "Members counts the Engage contacts on the list; Size in source is the source's "
            "own count at the last sync. Profiles that share a phone number become one contact, "
            "and profiles without a usable record are not contacts, so Members can be lower."
        )
        self.counts_note.setWordWrap(True)
        self.counts_note.setStyleSheet("color: #555;")
        self.layout_ = QVBoxLayout(self)
        self.layout_.addWidget(self.view, 1)
        self.layout_.addWidget(self.counts_note)
        self.layout_.addWidget(self.empty)
        self.view.activated.connect(self._open)

    def reload(self) -> asyncio.Task[None]:
        """Counting members reads every membership (100 ms at a million): off the GUI thread."""
        return self.ctx.spawn(self._load())

    async def _load(self) -> None:
        rows, order = await self.ctx.read(
            lambda: (self._table.list_rows(), self.ctx.actions.sources.priority())
        )
        rank = {source: i for i, source in enumerate(order)}
        # Grouped by source (in priority order), then by name: `Klaviyo: VIP` before
        # `Mailjet: Newsletter` before `CSV: Trade show 2026`.
        rows.sort(key=lambda r: (rank.get(r.source, len(rank)), r.name.casefold()))
        self.model.set_rows(rows)
        self.empty.setText(
            ""
            if self.model.rows
            else "No groups yet: install Klaviyo or Mailjet under Extensions → Integrations and "
            "sync, or import a file (File → Import contacts…)."
        )

    def _open(self, index: QModelIndex) -> None:
        if index.isValid():
            self.show_list_requested.emit(self.model.rows[index.row()].id)
