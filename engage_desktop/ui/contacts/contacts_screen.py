"""All Contacts: search, filter by list and source, the lazy table, the detail pane."""

from __future__ import annotations

import asyncio
from array import array
from dataclasses import replace

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from engage_desktop.core.sources import source_label
from engage_desktop.core.words import plural
from engage_desktop.storage.contact_table import ContactQuery, ContactTable
from engage_desktop.ui.contacts.contact_detail import ContactDetailPane
from engage_desktop.ui.contacts.contacts_model import PAGE, ContactsTableModel
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.widgets.question import ask
from engage_desktop.ui.widgets.read_only_table import ColumnFitter, row_view

SEARCH_DELAY_MS = 250
ROW_HEIGHT = 24
# The pane takes a fifth of the width, within bounds that fit a phone number and most
# email addresses on one line; the table keeps the rest.
PANE_WIDTH = (260, 340)
LIST_CHARS = 16


class ContactsScreen(QWidget):
    """Shows the committed contacts; asks (never does) to opt one out."""

    opt_out_requested = Signal(int)  # contact id, confirmed by the person

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.table_data = ContactTable(ctx.db)
        self.query = ContactQuery()
        self._generation = 0
        self.loading: asyncio.Task[None] | None = None

        self.search = QLineEdit(placeholderText="Search name, phone or email  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.list_filter = QComboBox()
        # As wide as a usual list name, not half the row: the search box keeps its hint.
        self.list_filter.setMinimumContentsLength(LIST_CHARS)
        self.list_filter.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.list_filter.setAccessibleName("Filter by group")
        self.source_filter = QComboBox()
        self.source_filter.setAccessibleName("Filter by source")
        self.count = QLabel()
        self.model = ContactsTableModel(self.table_data)
        self.view = row_view(self.model)
        self.view.setSortingEnabled(True)
        self.view.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.view.setWordWrap(False)
        rows = self.view.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(ROW_HEIGHT)
        self.columns = ColumnFitter(self.view, self.model.columns)
        self.detail = ContactDetailPane()
        self.detail.setMinimumWidth(PANE_WIDTH[0])
        self.detail.setMaximumWidth(PANE_WIDTH[1])
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)

        filters = QHBoxLayout()
        filters.addWidget(self.search, 1)
        filters.addWidget(self.list_filter)
        filters.addWidget(self.source_filter)
        filters.addWidget(self.count)
        # A plain layout, not a splitter: a splitter's grip invited dragging the pane away
        # and showed as a stray mark between table and pane.
        body = QHBoxLayout()
        body.addWidget(self.view, 4)
        body.addWidget(self.detail, 1)
        self.layout_ = QVBoxLayout(self)
        self.layout_.addLayout(filters)
        self.layout_.addLayout(body, 1)

        self.search.textChanged.connect(lambda _: self._search_timer.start())
        self._search_timer.timeout.connect(self._filters_changed)
        self.list_filter.currentIndexChanged.connect(self._filters_changed)
        self.source_filter.currentIndexChanged.connect(self._filters_changed)
        self.model.sort_requested.connect(self._sort)
        self.view.selectionModel().currentRowChanged.connect(self._current_changed)
        self.detail.opt_out.clicked.connect(self._confirm_opt_out)
        QShortcut(QKeySequence.StandardKey.Find, self, self.search.setFocus)

    # ----- loading --------------------------------------------------------------------------
    def reload(self, keep_rows: bool = False) -> asyncio.Task[None]:
        """A new snapshot for the current query, read off the GUI thread."""
        self._generation += 1
        self.loading = self.ctx.spawn(self._load(self._generation, self.query, keep_rows))
        return self.loading

    async def _load(self, generation: int, query: ContactQuery, keep_rows: bool) -> None:
        """A big view's first page is painted while its whole order is read."""
        self.count.setText("Loading…")
        current, was_at = self.current_contact(), self.view.currentIndex().row()
        first = None if keep_rows else await self.ctx.read(self.table_data.first_page, query, PAGE)
        if generation != self._generation:
            return  # a newer query won
        if first is not None:
            self.model.set_snapshot(first.ids, first.total)
            self.count.setText(plural(first.total, "contact"))
        ids: array[int] = await self.ctx.read(self.table_data.ids, query)
        if generation != self._generation:
            return
        self.count.setText(plural(len(ids), "contact"))
        picked = self.view.currentIndex()  # after a first page: a row picked on it meanwhile
        if first is not None and self.model.complete(ids):
            if picked.isValid():
                self._current_changed()  # it stays; its contact may only be known now
                return
        else:
            if first is None or picked.isValid():
                current, was_at = self.current_contact(), picked.row()
            if keep_rows:
                self.model.refresh(ids)
            else:
                self.model.set_snapshot(ids)
        row = None if current is None else self.model.row_of(current, was_at)
        if row is not None:
            self._select_row(row)  # its row may have moved, its values changed
        else:  # filtered out, or removed: the pane must not show it as if it were listed
            self.view.clearSelection()
            self.detail.show_contact(None)

    def refresh_filters(self) -> None:
        """The lists and sources to filter by (after a sync they may change)."""
        for combo, first, items in (
            (self.list_filter, "All groups", self.table_data.lists()),
            (
                self.source_filter,
                "All sources",
                [(s, source_label(s)) for s in self.table_data.sources()],
            ),
        ):
            chosen = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(first, None)
            for value, name in items:
                combo.addItem(name, value)
            at = combo.findData(chosen)
            combo.setCurrentIndex(max(at, 0))
            combo.blockSignals(False)

    def show_list(self, list_id: int) -> None:
        """Filter by one list (Contact Lists → double click)."""
        self.refresh_filters()
        at = self.list_filter.findData(list_id)
        if at >= 0:
            self.list_filter.setCurrentIndex(at)

    def _filters_changed(self) -> None:
        self.query = replace(
            self.query,
            text=self.search.text(),
            list_id=self.list_filter.currentData(),
            source=self.source_filter.currentData(),
        )
        self.reload()

    def _sort(self, key: str, descending: bool) -> None:
        self.query = replace(self.query, sort=key, descending=descending)
        self.reload()

    # ----- selection and opt-out ---------------------------------------------------------------
    def current_contact(self) -> int | None:
        index = self.view.currentIndex()
        return self.model.contact_id(index.row()) if index.isValid() else None

    def show_contact(self, contact_id: int) -> None:
        """Select this contact; a search or filter hiding it is cleared first."""
        if self.model.row_of(contact_id) is not None:
            self.select_contact(contact_id)
            return
        inputs = (self.search, self.list_filter, self.source_filter)
        for widget in inputs:  # one reload below, not one per cleared input
            widget.blockSignals(True)
        self.search.clear()
        self.list_filter.setCurrentIndex(0)
        self.source_filter.setCurrentIndex(0)
        for widget in inputs:
            widget.blockSignals(False)
        self.query = replace(self.query, text="", list_id=None, source=None)
        self.reload().add_done_callback(lambda _: self.select_contact(contact_id))

    def select_contact(self, contact_id: int) -> None:
        """Select the contact's row and show it as it is now (after an opt-out the row is the
        same, so no selection signal would refresh the pane)."""
        row = self.model.row_of(contact_id, self.view.currentIndex().row())
        if row is not None:
            self._select_row(row)

    def _select_row(self, row: int) -> None:
        index = self.model.index(row, 0)
        if index == self.view.currentIndex():
            self._current_changed()
        else:
            self.view.setCurrentIndex(index)  # the pane follows through currentRowChanged

    def _current_changed(self) -> None:
        """One short read by id on the GUI thread: the pane shows what the row shows."""
        contact_id = self.current_contact()
        detail = None if contact_id is None else self.table_data.detail(contact_id)
        records = [] if detail is None else self.ctx.actions.sources.records(detail.row.id)
        order = {s: i for i, s in enumerate(self.ctx.actions.sources.priority())}
        records.sort(key=lambda r: order.get(r.source, len(order)))  # the winner first
        views = self.ctx.actions.sending.views()
        replies = [] if contact_id is None else views.contact_replies(contact_id, 5)
        self.detail.show_contact(detail, records, replies)

    def _confirm_opt_out(self) -> None:
        detail = self.detail.shown  # the contact on screen, as read when last shown
        if detail is None:
            return
        contact_id = detail.row.id
        self.confirmation = ask(
            self,
            "Mark as opted out",
            f"Opt {detail.row.name or detail.row.phone or 'this contact'} out of SMS?\n\n"
            "Engage will not message this contact again, and Klaviyo is told (SMS "
            "unsubscribed). A new opt-in in Klaviyo would be needed to undo this.",
            "Opt out",
            lambda: self.opt_out_requested.emit(contact_id),
            destructive=True,
        )
