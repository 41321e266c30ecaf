"""What each recipient would get: one at a time, stepped through with ‹ and ›."""

from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from engage_desktop.core.messaging import SkipReason
from engage_desktop.gateway.campaign_plan import PreviewRow
from engage_desktop.ui.widgets.phone_text import phone_text


def reason_label(reason: str) -> str:
    try:
        return SkipReason(reason).label
    except ValueError:
        return reason


class PreviewPanel(QFrame):
    """Shows the loaded preview rows one at a time; asks for more at the end of a page."""

    more_requested = Signal(int)  # after this contact id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preview")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.rows: list[PreviewRow] = []
        self.position = 0
        self.complete = False  # every row of the audience is loaded
        self.total: int | None = None  # contacts in the list, when known
        self.who = QLabel()
        self.who.setAccessibleName("Preview recipient")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setAccessibleName("Preview text")
        self.text.setMinimumHeight(40)
        self.previous = QPushButton("‹ P&revious")
        self.next = QPushButton("Ne&xt ›")
        self.previous.setToolTip("The previous recipient (Alt+R)")
        self.next.setToolTip("The next recipient (Alt+X)")
        buttons = QHBoxLayout()
        buttons.addWidget(self.who, 1)
        buttons.addWidget(self.previous)
        buttons.addWidget(self.next)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.text)
        self.previous.clicked.connect(lambda: self.step(-1))
        self.next.clicked.connect(lambda: self.step(1))
        self.show_rows([], complete=True)

    def show_rows(
        self, rows: list[PreviewRow], complete: bool, keep_position: bool = False
    ) -> None:
        self.rows = rows
        self.complete = complete
        if not keep_position:
            self.position = 0
        self.position = min(self.position, max(len(rows) - 1, 0))
        self._render()

    def add_rows(self, rows: list[PreviewRow], complete: bool) -> None:
        self.rows.extend(rows)
        self.complete = complete
        self.step(1 if rows else 0)

    def step(self, by: int) -> None:
        wanted = self.position + by
        if wanted >= len(self.rows) and not self.complete and self.rows:
            self.more_requested.emit(self.rows[-1].contact_id)
            return
        self.position = max(0, min(wanted, len(self.rows) - 1))
        self._render()

    def _render(self) -> None:
        self.previous.setEnabled(self.position > 0)
        self.next.setEnabled(self.position < len(self.rows) - 1 or not self.complete)
        if not self.rows:
            self.who.setText("<b>Preview</b> — nobody in this list yet.")
            self.text.setText("")
            return
        row = self.rows[self.position]
        total = f"{len(self.rows) if self.complete else (self.total or 0):,}"
        phone = phone_text(row.phone) if row.phone else "no phone"
        self.who.setText(
            f"<b>Preview</b> {self.position + 1:,} of {total} — "
            f"{html.escape(row.name or '(no name)')}, {html.escape(phone)}"
        )
        if row.skipped is not None:
            why = reason_label(row.skipped)
            if row.missing:
                why += ": " + ", ".join(f"{{{m}}}" for m in row.missing)
            self.text.setText(f"<i style='color:#8a6d00'>Not sent — {html.escape(why)}.</i>")
        else:
            seg = f"{row.segments} segment{'s' if row.segments != 1 else ''}"
            self.text.setText(
                f"{html.escape(row.text or '').replace(chr(10), '<br>')}"
                f"<br><span style='color:#6b6b6b'>{seg}</span>"
            )
