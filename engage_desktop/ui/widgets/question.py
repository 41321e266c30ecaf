"""Asking a person to confirm, without a nested event loop (never `exec()` under qasync)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox, QWidget


def ask(
    parent: QWidget,
    title: str,
    text: str,
    yes: str,
    on_yes: Callable[[], object],
    *,
    no: str | None = None,
    destructive: bool = False,
) -> QMessageBox:
    """Open a question; `on_yes` runs only on the person's yes. `no` defaults to Cancel; a
    destructive question makes Cancel the default button."""
    icon = QMessageBox.Icon.Warning if destructive else QMessageBox.Icon.Question
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.NoButton, parent)
    role = (
        QMessageBox.ButtonRole.DestructiveRole if destructive else QMessageBox.ButtonRole.AcceptRole
    )
    yes_button = box.addButton(yes, role)
    no_button = (
        box.addButton(QMessageBox.StandardButton.Cancel)
        if no is None
        else box.addButton(no, QMessageBox.ButtonRole.RejectRole)
    )
    box.setDefaultButton(no_button if destructive else yes_button)
    box.buttonClicked.connect(lambda clicked: on_yes() if clicked is yes_button else None)
    box.open()
    return box
