"""Page 2: which contact property holds the phone number, from sampled values."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWizardPage,
)

from engage_desktop.actions import ActionError
from engage_desktop.actions.mailjet import PropertySample
from engage_desktop.ui.widgets.busy_bar import busy_bar

if TYPE_CHECKING:
    from engage_desktop.ui.mailjet_wizard.mailjet_wizard import MailjetWizard

NAME_ROLE = Qt.ItemDataRole.UserRole + 1
HEADERS = ("Property", "Type", "Read as phone numbers", "Sampled values")


def phone_words(p: PropertySample) -> str:
    """'180 of 190 values (95%)', or why there is nothing to count."""
    if not p.filled:
        return f"no values in {p.sampled} sampled"
    return f"{p.phones} of {p.filled} values ({round(100 * p.phones / p.filled)}%)"


def looks_like_phones(p: PropertySample) -> bool:
    return p.filled > 0 and p.phones * 2 >= p.filled


class PhonePropertyPage(QWizardPage):
    """Every contact property, the likely phone properties first, with how many sampled
    values read as phone numbers; the person picks one."""

    def __init__(self, wizard: MailjetWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self._loaded_for: str | None = None
        self.setTitle("Phone numbers")
        self.setSubTitle(
            "Mailjet keeps phone numbers in a contact property whose name differs from one "
            "account to the next. Pick the one that holds your contacts' mobile numbers."
        )
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setAccessibleName("Contact properties")
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.busy = busy_bar()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.retry = QPushButton("&Try again")
        self.retry.hide()
        label = QLabel("Contact &properties (numbers read in the default country):")
        label.setBuddy(self.table)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.busy)
        layout.addWidget(self.status)
        layout.addWidget(self.retry, 0, Qt.AlignmentFlag.AlignLeft)
        self.table.itemSelectionChanged.connect(self._chosen)
        self.retry.clicked.connect(self._load)

    def initializePage(self) -> None:
        verified = self._wizard.draft.verified
        if verified is not None and self._loaded_for != verified.keys.ref:
            self._loaded_for = verified.keys.ref
            self._load()
        self.table.setFocus()

    def isComplete(self) -> bool:
        return self._wizard.draft.phone_property is not None

    def _load(self) -> None:
        self._wizard.tasks.spawn(self._read())

    async def _read(self) -> None:
        verified = self._wizard.draft.verified
        assert verified is not None
        self.retry.hide()
        self.busy.show()
        self.status.setText("Reading the contact properties and sampling values…")
        try:
            found = await self._wizard.ctx.actions.mailjet.properties(verified)
        except ActionError as exc:
            self.busy.hide()
            self.status.setText(f"Could not read the properties: {exc.message}")
            self.retry.show()
            return
        self.busy.hide()
        self._wizard.draft = replace(self._wizard.draft, properties=tuple(found))
        self.fill(found)

    def fill(self, found: list[PropertySample]) -> None:
        ordered = sorted(found, key=lambda p: (-p.phones, p.name.lower()))
        self.table.setRowCount(len(ordered))
        for row, p in enumerate(ordered):
            cells = (p.name, p.datatype, phone_words(p), ", ".join(p.samples) or "—")
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(NAME_ROLE, p.name)
                item.setToolTip(text)
                self.table.setItem(row, col, item)
        best = [p for p in ordered if looks_like_phones(p)]
        sampled = ordered[0].sampled if ordered else 0
        self.status.setText(
            f"{len(best)} of {len(ordered)} properties look like phone numbers in "
            f"{sampled:,} sampled contacts."
            if best
            else "No property looks like phone numbers in the sample: pick the one to use."
        )
        chosen = self._wizard.draft.phone_property or (best[0].name if best else None)
        for row, p in enumerate(ordered):
            if p.name == chosen:
                self.table.selectRow(row)

    def _chosen(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        item = self.table.item(rows[0].row(), 0) if rows else None
        name = None if item is None else item.data(NAME_ROLE)
        self._wizard.draft = replace(self._wizard.draft, phone_property=name)
        self.completeChanged.emit()
