"""Extensions → Integrations: the SMS gateway tile (Sinch MessageMedia)."""

from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from engage_desktop.actions.gateway import GatewayStatus
from engage_desktop.ui.integrations.tile_frame import TileFrame
from engage_desktop.ui.widgets.phone_text import phone_text


class GatewayTile(TileFrame):
    """Whether SMS can be sent and through which account; Connect or See details."""

    connect_requested = Signal()
    details_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            "<b style='font-size:15pt'>SMS gateway</b> — Sinch MessageMedia",
            "Sends your messages to a list, hears replies and delivery reports, and turns "
            "STOP replies into opt-outs that reach Klaviyo.",
            parent,
        )
        self.button.clicked.connect(self._clicked)
        self.status: GatewayStatus | None = None
        self.show_status(None)

    @property
    def connected(self) -> bool:
        return self.status is not None and self.status.settings is not None

    def show_status(self, status: GatewayStatus | None) -> None:
        self.status = status
        s = None if status is None else status.settings
        if status is None or s is None:
            self.state.setText("Not connected.")
            self.button.setText("C&onnect…")
            return
        sender = phone_text(s.source_number) if s.source_number else "MessageMedia's shared number"
        text = (
            f"<span style='color:#1b5e20'>● Connected</span> — key "
            f"<b>{html.escape(s.key_hint or '…')}</b>, sending from {html.escape(sender)}."
        )
        if status.key_place is None:
            text += (
                "<br><span style='color:#b00020'>The key and secret are not available (not in "
                "the keyring, or it is locked): connect again.</span>"
            )
        if s.last_poll_error:
            text += (
                f"<br><span style='color:#8a6d00'>Last check for replies: "
                f"{html.escape(s.last_poll_error)}</span>"
            )
        if status.unknown_recipients:
            text += (
                f"<br><span style='color:#8a6d00'>{status.unknown_recipients:,} recipients "
                "need a decision (Campaigns).</span>"
            )
        self.state.setText(text)
        self.button.setText("C&onnect again…" if status.key_place is None else "See d&etails")

    def _clicked(self) -> None:
        usable = self.connected and self.status is not None and self.status.key_place is not None
        (self.details_requested if usable else self.connect_requested).emit()
