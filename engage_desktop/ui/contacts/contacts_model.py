"""The lazy All Contacts model: an id snapshot, rows loaded a page at a time."""

from __future__ import annotations

from array import array
from collections import OrderedDict
from datetime import datetime
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QColor

from engage_desktop.core.consent import SmsStatus
from engage_desktop.core.sources import source_label
from engage_desktop.storage.contact_table import ContactRow, ContactTable
from engage_desktop.ui.widgets.phone_text import phone_text
from engage_desktop.ui.widgets.read_only_table import Column, Index, ReadOnlyTableModel

PAGE = 200
PAGES_KEPT = 40  # 8,000 rows in memory at most
ID_ROLE = Qt.ItemDataRole.UserRole + 1
STATUS_COLOURS = {
    SmsStatus.SUBSCRIBED: QColor("#1b5e20"),
    SmsStatus.NEVER_SUBSCRIBED: QColor("#6b6b6b"),
    SmsStatus.OPTED_OUT: QColor("#b00020"),
}


def listed_name(row: ContactRow) -> str:
    """The name as the Name column sorts it, last name first ("Lee, Ann"); without a last
    name, the first name alone (those rows follow every row that has a last name)."""
    return ", ".join(x for x in (row.last_name, row.first_name) if x) or "(no name)"


def _sources(row: ContactRow) -> str:
    return ", ".join(source_label(s) for s in row.sources.split(",") if s)


# Widths by role (ColumnFitter): names, emails and lists share the width; the rest fit their
# longest usual value. A narrow window keeps name, phone and status and hides the others, the
# least needed first (the detail pane shows them all).
COLUMNS: tuple[Column[ContactRow], ...] = (
    Column("Name", listed_name, sort_key="name", stretch=3, sample="Martínez, Ana"),
    Column(
        "Phone",
        lambda r: phone_text(r.phone) if r.phone else "—",
        sort_key="phone",
        sample="+44 20 7946 0958",
    ),
    Column(
        "Email",
        lambda r: r.email or "",
        sort_key="email",
        tooltip=lambda r: r.email or None,
        stretch=3,
        sample="ana@example.com",
        elide=Qt.TextElideMode.ElideMiddle,  # both the person and the domain stay readable
        shed=1,
    ),
    Column(
        "SMS status",
        lambda r: r.status.label,
        sort_key="status",
        colour=lambda r: STATUS_COLOURS[r.status],
        sample="Never subscribed",
    ),
    Column("Sources", _sources, tooltip=_sources, sample="Mailjet, CSV", stretch=2, shed=4),
    Column("Groups", lambda r: r.lists, tooltip=lambda r: r.lists or None, stretch=3, shed=2),
    Column(
        "Updated",
        lambda r: datetime.fromtimestamp(r.updated_at).strftime("%Y-%m-%d"),
        sort_key="updated",
        tooltip=lambda r: datetime.fromtimestamp(r.updated_at).strftime("%Y-%m-%d %H:%M:%S"),
        sample="2026-12-31",
        shed=3,
    ),
)


class ContactsTableModel(ReadOnlyTableModel[ContactRow]):
    """Rows come from `ContactTable.rows` by page; the order is the snapshot's (SQL sorted)."""

    sort_requested = Signal(str, bool)  # sort key, descending
    columns = COLUMNS
    gone_text = "(removed)"  # since the snapshot was taken

    def __init__(self, table: ContactTable) -> None:
        super().__init__()
        self._table = table
        self._ids: array[int] = array("q")
        self._rows = 0  # more than the ids while only the first page of the order is known
        self._pages: OrderedDict[int, dict[int, ContactRow]] = OrderedDict()
        self.page_loads = 0  # for tests and benchmarks

    # ----- Qt -----------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._rows

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == ID_ROLE:  # no page read for it
            return self.contact_id(index.row()) if index.isValid() else None
        if index.row() >= len(self._ids):  # its place in the order is still being read
            return None
        return super().data(index, role)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sorting is SQL's job: ask for a new snapshot in that order."""
        key = self.sort_key(column)
        if key is not None:
            self.sort_requested.emit(key, order == Qt.SortOrder.DescendingOrder)

    # ----- ours ---------------------------------------------------------------------------
    def set_snapshot(self, ids: array[int], rows: int | None = None) -> None:
        """A new filter or order: the rows start over. With `rows` beyond the ids, only the
        first ids of the order are known yet: `complete` brings the others."""
        self.beginResetModel()
        self._ids = ids
        self._rows = len(ids) if rows is None else rows
        self._pages.clear()
        self.endResetModel()

    def complete(self, ids: array[int]) -> bool:
        """The whole order after its first page: its rows are painted where the view is
        (False, nothing done, when it does not continue what is shown: a commit between)."""
        known = len(self._ids)
        if len(ids) != self._rows or ids[:known] != self._ids:
            return False
        self._ids = ids
        self._pages.pop(known // PAGE, None)  # read while it had fewer ids
        if known < len(ids):
            last = self.index(len(ids) - 1, len(self.columns) - 1)
            self.dataChanged.emit(self.index(known, 0), last)
        return True

    def refresh(self, ids: array[int]) -> None:
        """After a sync: same rows, newer values (keeps the view where it was); rows added or
        removed start over."""
        if ids == self._ids and self._rows == len(ids):
            self._pages.clear()
            if self._ids:
                last = self.index(len(self._ids) - 1, len(self.columns) - 1)
                self.dataChanged.emit(self.index(0, 0), last)
            return
        self.set_snapshot(ids)

    def contact_id(self, row: int) -> int | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, contact_id: int, hint: int = -1) -> int | None:
        """The contact's row; `hint`, where it was, is checked first (a search through a
        million ids takes 30 ms; after a sync the rows have mostly stayed where they were)."""
        if 0 <= hint < len(self._ids) and self._ids[hint] == contact_id:
            return hint
        try:
            return self._ids.index(contact_id)
        except ValueError:
            return None

    def row_for(self, row: int) -> ContactRow | None:
        return self.row_at(row)

    def row_at(self, row: int) -> ContactRow | None:
        """The contact at this row, from its page (read if not held)."""
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
