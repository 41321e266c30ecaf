"""Extensions → Integrations: the Klaviyo tile (Install, or See details when connected)."""

from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from engage_desktop.core.words import plural
from engage_desktop.storage.connection import Connection
from engage_desktop.ui.integrations.gateway_tile import GatewayTile
from engage_desktop.ui.integrations.mailjet_tile import MailjetTile
from engage_desktop.ui.integrations.tile_frame import TileFrame


class KlaviyoTile(TileFrame):
    """One integration: what it does, whether it is connected, one button."""

    install_requested = Signal()
    details_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            "<b style='font-size:15pt'>Klaviyo</b>",
            "Syncs names, phone numbers, emails, SMS consent and the fields you map from your "
            "Klaviyo lists every 24 hours, and sends SMS opt-outs back to Klaviyo.",
            parent,
        )
        self.button.clicked.connect(self._clicked)
        self._connected = False
        self.show_connection(None)

    def show_connection(self, conn: Connection | None, key_missing: bool = False) -> None:
        self._connected = conn is not None
        if conn is None:
            self.state.setText("Not installed.")
            self.button.setText("&Install")
            return
        lists = (
            "contact sync off"
            if conn.lists == ()
            else "every list"
            if conn.lists is None
            else plural(len(conn.lists), "list")
        )
        text = (
            f"<span style='color:#1b5e20'>● Connected</span> to "
            f"<b>{html.escape(conn.account_name)}</b> — {lists}, "
            f"{conn.consent_mode.value} consent."
        )
        if key_missing:
            text += (
                "<br><span style='color:#b00020'>The API key is not available (not in the "
                "keyring, or the keyring is locked): Reconnect to enter it. Nothing else "
                "changes.</span>"
            )
        self.state.setText(text)
        self.button.setText("&Reconnect…" if key_missing else "See &details")

    def _clicked(self) -> None:
        (self.details_requested if self._connected else self.install_requested).emit()


class IntegrationsScreen(QWidget):
    """The integrations the product offers (Klaviyo today; Mailjet and CSV later)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.klaviyo = KlaviyoTile()
        self.invite = QLabel(
            "<h2>Connect your contacts</h2>Install Klaviyo or Mailjet to bring your SMS contacts "
            "into Engage and keep them in step."
        )
        self.invite.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.invite)
        layout.addWidget(self.klaviyo)
        self.mailjet = MailjetTile()
        layout.addWidget(self.mailjet)
        self.gateway = GatewayTile()
        layout.addWidget(self.gateway)
        layout.addStretch(1)

    def show_connection(self, conn: Connection | None, key_missing: bool = False) -> None:
        self.klaviyo.show_connection(conn, key_missing)
        self.update_invite()

    def update_invite(self) -> None:
        """The invitation shows until a source is connected."""
        self.invite.setVisible(not (self.klaviyo._connected or self.mailjet.connected))
