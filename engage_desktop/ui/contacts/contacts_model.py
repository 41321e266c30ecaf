"""The lazy All Contacts model: an id snapshot, rows loaded a page at a time."""

from __future__ import annotations

from array import array
from collections import OrderedDict
from datetime import datetime
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QColor

from engage_desktop.core.consent import SmsStatus
from engage_desktop.storage.contact_table import ContactRow, ContactTable
from engage_desktop.ui.widgets.read_only_table import Index, ReadOnlyTableModel

COLUMNS = ("Name", "Phone", "Email", "SMS status", "Sources", "Lists", "Updated")
SORT_KEYS = ("name", "phone", "email", "status", None, None, "updated")
PAGE = 200
PAGES_KEPT = 40  # 8,000 rows in memory at most
ID_ROLE = Qt.ItemDataRole.UserRole + 1
STATUS_COLOURS = {
    SmsStatus.SUBSCRIBED: QColor("#1b5e20"),
    SmsStatus.NEVER_SUBSCRIBED: QColor("#6b6b6b"),
    SmsStatus.OPTED_OUT: QColor("#b00020"),
}


class ContactsTableModel(ReadOnlyTableModel):
    """Rows come from `ContactTable.rows` by page; the order is the snapshot's (SQL sorted)."""

    sort_requested = Signal(str, bool)  # sort key, descending
    columns = COLUMNS

    def __init__(self, table: ContactTable) -> None:
        super().__init__()
        self._table = table
        self._ids: array[int] = array("q")
        self._pages: OrderedDict[int, dict[int, ContactRow]] = OrderedDict()
        self.page_loads = 0  # for tests and benchmarks

    # ----- Qt -----------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        if role == ID_ROLE:
            return self._ids[index.row()]
        if role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ForegroundRole,
            Qt.ItemDataRole.ToolTipRole,
        ):
            return None
        row = self.row_at(index.row())
        if row is None:  # removed since the snapshot was taken
            return (
                "(removed)" if role == Qt.ItemDataRole.DisplayRole and index.column() == 0 else None
            )
        col = index.column()
        if role == Qt.ItemDataRole.ForegroundRole:
            return STATUS_COLOURS[row.status] if col == 3 else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.lists if col == 5 and row.lists else None
        if col == 0:
            return row.name or "(no name)"
        if col == 1:
            return row.phone or "—"
        if col == 2:
            return row.email or ""
        if col == 3:
            return row.status.label
        if col == 4:
            return row.sources
        if col == 5:
            return row.lists
        return datetime.fromtimestamp(row.updated_at).strftime("%Y-%m-%d %H:%M")

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sorting is SQL's job: ask for a new snapshot in that order."""
        key = SORT_KEYS[column] if 0 <= column < len(SORT_KEYS) else None
        if key is not None:
            self.sort_requested.emit(key, order == Qt.SortOrder.DescendingOrder)

    # ----- ours ---------------------------------------------------------------------------
    def set_snapshot(self, ids: array[int]) -> None:
        """A new filter or order: the rows start over."""
        self.beginResetModel()
        self._ids = ids
        self._pages.clear()
        self.endResetModel()

    def refresh(self, ids: array[int]) -> None:
        """After a sync: same rows, newer values (keeps the view where it was); rows added or
        removed start over."""
        if ids == self._ids:
            self._pages.clear()
            if self._ids:
                last = self.index(len(self._ids) - 1, len(COLUMNS) - 1)
                self.dataChanged.emit(self.index(0, 0), last)
            return
        self.set_snapshot(ids)

    def contact_id(self, row: int) -> int | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, contact_id: int) -> int | None:
        try:
            return self._ids.index(contact_id)
        except ValueError:
            return None

    def row_at(self, row: int) -> ContactRow | None:
        page_no = row // PAGE
        page = self._pages.get(page_no)
        if page is None:
            page = self._load(page_no)
        else:
            self._pages.move_to_end(page_no)
        return page.get(self._ids[row])

    def _load(self, page_no: int) -> dict[int, ContactRow]:
        ids = list(self._ids[page_no * PAGE : (page_no + 1) * PAGE])
        page = self._table.rows(ids)
        self.page_loads += 1
        self._pages[page_no] = page
        while len(self._pages) > PAGES_KEPT:
            self._pages.popitem(last=False)
        return page
