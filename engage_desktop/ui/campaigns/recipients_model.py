"""A campaign's recipients, lazily: an id snapshot (of one status), rows read a page at a time
by id. 100,000 recipients cost an array of ids and the pages on screen."""

from __future__ import annotations

from array import array
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QModelIndex
from PySide6.QtGui import QColor

from engage_desktop.storage.campaigns import RecipientRow
from engage_desktop.ui.messages.preview_panel import reason_label
from engage_desktop.ui.widgets.phone_text import phone_text
from engage_desktop.ui.widgets.read_only_table import RIGHT, Column, Index, ReadOnlyTableModel

PAGE = 200
PAGES_KEPT = 40
GREEN, RED, AMBER, GREY = QColor("#1b5e20"), QColor("#b00020"), QColor("#8a6d00"), QColor("#6b6b6b")


def status_text(r: RecipientRow) -> str:
    """What happened to this recipient, in a word or three."""
    if r.state == "submitted":
        return (r.delivery or "submitted").capitalize()
    if r.state == "skipped":
        return "Skipped"
    if r.state == "unknown":
        return "Unknown — decide"
    if r.state == "failed":
        return "Refused"
    return {"pending": "Waiting", "sending": "Sending"}.get(r.state, r.state)


def status_colour(r: RecipientRow) -> QColor | None:
    if r.state == "unknown":
        return RED
    if r.state == "failed" or r.delivery in ("failed", "rejected", "expired"):
        return RED
    if r.delivery == "delivered":
        return GREEN
    if r.state == "skipped":
        return GREY
    return AMBER if r.state in ("pending", "sending") else None


def detail(r: RecipientRow) -> str:
    if r.state == "skipped" and r.reason:
        return reason_label(r.reason)
    if r.reason:
        return r.reason
    if r.delivery_at:
        at = datetime.fromtimestamp(r.delivery_at).strftime("%H:%M:%S")
        return f"{r.delivery or 'reported'} {at}"
    if r.sent_at:
        return "sent " + datetime.fromtimestamp(r.sent_at).strftime("%H:%M:%S")
    return ""


def _sent_text(r: RecipientRow) -> str:
    """The text this person got (or gets); nothing for one who is not sent it."""
    return "" if r.state == "skipped" else r.text


def name(r: RecipientRow) -> str:
    return " ".join(x for x in (r.first_name, r.last_name) if x) or "(no name)"


COLUMNS: tuple[Column[RecipientRow], ...] = (
    Column("Name", name, stretch=2, sample="Ana Martínez"),
    Column("Phone", lambda r: phone_text(r.phone) if r.phone else "—", sample="+44 20 7946 0958"),
    Column("Status", status_text, colour=status_colour, sample="Unknown — decide"),
    Column(
        "Detail",
        detail,
        tooltip=detail,
        stretch=2,
        sample="a field of the message is empty",
        shed=2,
    ),
    Column(
        "Text", lambda r: _sent_text(r), tooltip=lambda r: _sent_text(r) or None, stretch=3, shed=1
    ),
    Column("#", lambda r: r.id, alignment=RIGHT, sample="100000", shed=3),
)


class RecipientsTableModel(ReadOnlyTableModel[RecipientRow]):
    """Rows of the snapshot's ids, read by page through `load` (ids → rows)."""

    columns = COLUMNS
    gone_text = "(changed — refresh)"

    def __init__(self, load: Callable[[list[int]], dict[int, RecipientRow]]) -> None:
        super().__init__()
        self._load_rows = load
        self._ids: array[int] = array("q")
        self._pages: OrderedDict[int, dict[int, RecipientRow]] = OrderedDict()
        self.page_loads = 0

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def set_snapshot(self, ids: array[int]) -> None:
        self.beginResetModel()
        self._ids = ids
        self._pages.clear()
        self.endResetModel()

    def refresh(self, ids: array[int]) -> None:
        """Same rows: newer values, the view stays; other rows: start over."""
        if ids == self._ids:
            self._pages.clear()
            if self._ids:
                last = self.index(len(self._ids) - 1, len(self.columns) - 1)
                self.dataChanged.emit(self.index(0, 0), last)
            return
        self.set_snapshot(ids)

    def row_for(self, row: int) -> RecipientRow | None:
        page_no = row // PAGE
        page = self._pages.get(page_no)
        if page is None:
            ids = list(self._ids[page_no * PAGE : (page_no + 1) * PAGE])
            page = self._load_rows(ids)
            self.page_loads += 1
            self._pages[page_no] = page
            while len(self._pages) > PAGES_KEPT:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page_no)
        return page.get(self._ids[row])
