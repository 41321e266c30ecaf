"""The thin, endless progress bar a page shows while it waits on Klaviyo or the database."""

from __future__ import annotations

from PySide6.QtWidgets import QProgressBar, QWidget


def busy_bar(parent: QWidget | None = None) -> QProgressBar:
    """Hidden until shown; no text, 8 px high, no known end."""
    bar = QProgressBar(parent)
    bar.setRange(0, 0)
    bar.setMaximumHeight(8)
    bar.setTextVisible(False)
    bar.hide()
    return bar
