"""New Message: pick a list, see who it reaches (and who not, and why), write and count."""

from __future__ import annotations

import asyncio

from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engage_desktop.core.segments import count_segments
from engage_desktop.core.words import plural
from engage_desktop.storage.contact_table import ContactTable, Recipients
from engage_desktop.ui.context import AppContext

# The list box is as wide as a long list name ("Klaviyo: Black Friday 2025"), not the window:
# a box across the whole screen reads as a text field.
LIST_CHARS = 36


class NewMessageScreen(QWidget):
    """Prepares and previews a message; sending arrives with the SMS gateway."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.table = ContactTable(ctx.db)
        self._generation = 0
        self.loading: asyncio.Task[None] | None = None
        self.list_choice = QComboBox()
        self.list_choice.setAccessibleName("Send to list")
        self.audience = QLabel()
        self.audience.setWordWrap(True)
        self.editor = QPlainTextEdit(placeholderText="Write your message…")
        self.editor.setAccessibleName("Message")
        self.counter = QLabel()
        self.send = QPushButton("Send")
        self.send.setEnabled(False)
        self.send.setToolTip("Sending arrives with the SMS gateway.")
        note = QLabel(
            "Sending is not connected yet: it comes with the SMS gateway. For now this screen "
            "prepares and previews your message and its audience."
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: #8a6d00;")
        self.top = QVBoxLayout()  # the sync status panel goes here
        to = QLabel("&To:")
        to.setBuddy(self.list_choice)
        self.list_choice.setMinimumContentsLength(LIST_CHARS)
        self.list_choice.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        choose = QHBoxLayout()
        choose.addWidget(to)
        choose.addWidget(self.list_choice)
        choose.addStretch(1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.counter, 1)
        bottom.addWidget(self.send)
        layout = QVBoxLayout(self)
        layout.addLayout(self.top)
        layout.addLayout(choose)
        layout.addWidget(self.audience)
        layout.addWidget(self.editor, 1)
        layout.addWidget(note)
        layout.addLayout(bottom)
        self.list_choice.currentIndexChanged.connect(lambda _: self.refresh())
        self.editor.textChanged.connect(self._count)
        self._count()

    def reload_lists(self) -> None:
        chosen = self.list_choice.currentData()
        self.list_choice.blockSignals(True)
        self.list_choice.clear()
        self.list_choice.addItem("All contacts", None)
        for list_id, name in self.table.lists():
            self.list_choice.addItem(name, list_id)
        self.list_choice.setCurrentIndex(max(self.list_choice.findData(chosen), 0))
        self.list_choice.blockSignals(False)
        self.refresh()

    def refresh(self) -> asyncio.Task[None]:
        """Recount the audience from committed data (after a sync commits, too)."""
        self._generation += 1
        self.loading = self.ctx.spawn(
            self._recount(self._generation, self.list_choice.currentData())
        )
        return self.loading

    async def _recount(self, generation: int, list_id: int | None) -> None:
        found: Recipients = await self.ctx.read(self.table.recipients, list_id)
        if generation == self._generation:
            self.show_audience(found)

    def show_audience(self, r: Recipients) -> None:
        self.recipients = r
        left_out = [
            (r.opted_out, "opted out"),
            (r.never_subscribed, "never subscribed (Explicit consent)"),
            (r.no_valid_phone, "without a valid phone number"),
        ]
        parts = [f"{n:,} {why}" for n, why in left_out if n]
        self.audience.setText(
            f"<b>{r.eligible:,}</b> of {plural(r.total, 'contact')} will receive it."
            + (f" Left out: {', '.join(parts)}." if parts else "")
        )

    def _count(self) -> None:
        self.counter.setText(count_segments(self.editor.toPlainText()).describe())
