"""Integrations → Mailjet → See details: what is connected, and the ways to change it."""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engage_desktop.storage.mailjet_settings import MailjetSettings
from engage_desktop.ui.integrations.mailjet_tile import lists_words
from engage_desktop.ui.widgets.question import ask


def settings_lines(s: MailjetSettings, key_place: str | None) -> list[str]:
    where = {
        "keyring": "in the system keyring",
        "session": "for this session only (no usable keyring)",
        "environment": "from MAILJET_API_KEY and MAILJET_API_SECRET",
        None: "not available — Reconnect to enter it again",
    }[key_place]
    return [
        f"Key {s.key_hint}, {where}",
        f"Address: {s.base_url}",
        f"Phone numbers from the property '{s.phone_property}' "
        f"(numbers without a country code are {s.default_region} numbers)",
        f"SMS consent: {s.consent_mode.value}"
        + (f", from '{s.consent_property}'" if s.consent_property else ""),
        f"Lists: {lists_words(s)}",
        "Fields: " + (", ".join(f"{m.name} ← {m.path}" for m in s.mappings) or "names only"),
    ]


class MailjetDetailsDialog(QDialog):
    """The saved settings; Change settings (the wizard again), Sync now, Disconnect."""

    change_requested = Signal()
    reconnect_requested = Signal()  # the key pair again (a new secret)
    sync_requested = Signal()
    disconnect_requested = Signal()

    def __init__(
        self, settings: MailjetSettings, key_place: str | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Mailjet")
        self.setMinimumWidth(560)
        text = QLabel("<br>".join(html.escape(x) for x in settings_lines(settings, key_place)))
        text.setWordWrap(True)
        self.change = QPushButton("&Change settings…")
        self.reconnect = QPushButton("&Reconnect…")
        self.sync = QPushButton("&Sync now")
        self.disconnect_button = QPushButton("&Disconnect…")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        for button in (self.change, self.reconnect, self.sync, self.disconnect_button):
            buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b style='font-size:13pt'>Mailjet is connected</b>"))
        layout.addWidget(text)
        layout.addStretch(1)
        layout.addWidget(buttons)
        buttons.rejected.connect(self.reject)
        self.change.clicked.connect(lambda: self._done(self.change_requested.emit))
        self.sync.clicked.connect(lambda: self._done(self.sync_requested.emit))
        self.reconnect.clicked.connect(lambda: self._done(self.reconnect_requested.emit))
        self.disconnect_button.clicked.connect(self._confirm_disconnect)

    def _done(self, then: Callable[[], object]) -> None:
        self.accept()
        then()

    def _confirm_disconnect(self) -> None:
        self.question = ask(
            self,
            "Disconnect Mailjet",
            "Stop syncing Mailjet and forget its keys? Its contacts and groups stay until the "
            "next sync; then contacts only Mailjet had go (opt-outs are always kept).",
            "&Disconnect",
            lambda: self._done(self.disconnect_requested.emit),
            destructive=True,
        )
