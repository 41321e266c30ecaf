"""The frame every Integrations tile shares: a title, what the integration does, a state
line and one button (Enter presses it too)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


class TileFrame(QFrame):
    """A tile's layout; subclasses fill `state` and `button` and connect the button."""

    def __init__(self, title_html: str, about: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("tile")
        self.setMaximumWidth(520)
        title = QLabel(title_html)
        text = QLabel(about)
        text.setWordWrap(True)
        self.state = QLabel()
        self.state.setWordWrap(True)
        self.button = QPushButton()
        self.button.setMinimumWidth(140)
        # Outside a dialog a push button takes Space only; Enter should press it too.
        self.button.setAutoDefault(True)
        row = QHBoxLayout()
        row.addWidget(self.state, 1)
        row.addWidget(self.button, 0, Qt.AlignmentFlag.AlignRight)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(text)
        layout.addLayout(row)
