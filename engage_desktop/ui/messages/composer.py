"""The message editor: the text, fields to insert ({first_name} …) and the segment counter."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engage_desktop.core.personalisation import BUILTINS
from engage_desktop.core.segments import count_segments

BUILTIN_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "phone": "Phone",
}


def counter_text(text: str) -> str:
    """'42 characters · 1 segment (GSM-7) · 118 left', and why UCS-2 when it is."""
    count = count_segments(text)
    said = count.describe()
    if count.encoding == "UCS-2":
        odd = next((c for c in text if ord(c) > 127 and count_segments(c).encoding == "UCS-2"), "")
        if odd:
            said += f" — “{odd}” needs UCS-2 (70 per segment)"
    return said


class MessageComposer(QWidget):
    """Writes the text; inserting a field puts `{name}` at the cursor."""

    text_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = QPlainTextEdit(
            placeholderText="Write your message… e.g. Hi {first_name|there}"
        )
        self.editor.setAccessibleName("Message")
        self.editor.setTabChangesFocus(True)
        # An SMS is a few lines: room for about ten, not the whole window.
        lines = self.editor.fontMetrics().lineSpacing()
        self.editor.setMinimumHeight(lines * 3 + 12)
        self.editor.setMaximumHeight(lines * 10 + 12)
        self.insert = QToolButton()
        self.insert.setText("&Insert field")
        self.insert.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu = QMenu(self.insert)
        self.insert.setMenu(self.menu)
        self.counter = QLabel()
        self.counter.setAccessibleName("Segments")
        self.set_fields([])
        row = QHBoxLayout()
        row.addWidget(self.insert)
        row.addWidget(self.counter, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.editor, 1)
        layout.addLayout(row)
        self.editor.textChanged.connect(self._changed)
        self._changed()

    def text(self) -> str:
        return self.editor.toPlainText()

    def set_fields(self, platform_fields: list[str]) -> None:
        self.menu.clear()
        for name in BUILTINS:
            self._add(BUILTIN_LABELS.get(name, name), name)
        if platform_fields:
            self.menu.addSeparator()
            for name in sorted(platform_fields, key=str.casefold):
                self._add(name, name)

    def _add(self, label: str, name: str) -> None:
        action = QAction(f"{label}  {{{name}}}", self.menu)
        action.triggered.connect(lambda _=False, n=name: self.insert_field(n))
        self.menu.addAction(action)

    def insert_field(self, name: str) -> None:
        self.editor.insertPlainText(f"{{{name}}}")
        self.editor.setFocus()

    def _changed(self) -> None:
        self.counter.setText(counter_text(self.text()) + " (as written)")
        self.text_changed.emit()
