"""The Klaviyo integration's windows and what leads to them: install, reconnect, details.

The tile says whether the key is available; finding out asks the keyring, which may block
(an unlock prompt), so it is asked on a worker thread and the tile updates when it answers.
A missing key leads to Reconnect (the key, nothing else), never to the full install wizard.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from engage_desktop.actions import Changes, Connected
from engage_desktop.core.secrets import ApiKey
from engage_desktop.storage.connection import Connection, ConnectionRepo
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.integrations.details_dialog import KlaviyoDetailsDialog
from engage_desktop.ui.integrations.integrations_screen import IntegrationsScreen
from engage_desktop.ui.integrations.reconnect_dialog import ReconnectDialog
from engage_desktop.ui.wizard.setup_wizard import SetupWizard


class KlaviyoFlows(QObject):
    """Opens the right window for the tile's button and reports what each one changed."""

    changed = Signal(object)  # Changes
    sync_requested = Signal(str, bool)  # trigger, full

    def __init__(
        self,
        ctx: AppContext,
        screen: IntegrationsScreen,
        parent_window: QWidget,
        demo_url: str | None = None,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.screen = screen
        self.parent_window = parent_window
        self.demo_url = demo_url
        self.wizard: SetupWizard | None = None
        self.details: KlaviyoDetailsDialog | None = None
        self.reconnect: ReconnectDialog | None = None
        self.notice: QMessageBox | None = None
        tile = screen.klaviyo
        tile.install_requested.connect(self.open_wizard)
        tile.details_requested.connect(lambda: self.ctx.spawn(self.open_details()))

    # ----- the tile ---------------------------------------------------------------------------
    async def show_tile(self) -> None:
        conn = ConnectionRepo(self.ctx.db).get()
        self.screen.show_connection(conn, key_missing=False)
        if conn is None:
            return
        key = await self._key(conn)
        if ConnectionRepo(self.ctx.db).get() == conn:  # still the same connection
            self.screen.show_connection(conn, key_missing=key is None)

    async def _key(self, conn: Connection) -> ApiKey | None:
        found = await self.ctx.blocking_io(self.ctx.credentials.key_for, conn.account_id)
        return None if found is None else found[0]

    # ----- install ----------------------------------------------------------------------------
    def open_wizard(self) -> None:
        if self.wizard is not None:
            self.wizard.raise_()
            return
        self.wizard = SetupWizard(self.ctx, self.demo_url, self.parent_window)
        self.wizard.connected.connect(self._connected)
        self.wizard.finished.connect(self._wizard_closed)
        self.wizard.open()

    def _wizard_closed(self) -> None:
        if self.wizard is not None:
            self.wizard.deleteLater()
        self.wizard = None

    def _connected(self, done: Connected) -> None:
        self.changed.emit(done.changes | Changes(contacts=True, lists=True))
        syncing = done.connection.lists != ()
        if syncing:
            self.sync_requested.emit("install", True)
        text = (
            "Your first sync has started. You'll be notified when it's complete."
            if syncing
            else "Klaviyo is connected. Contact sync is off; opt-outs are sent to Klaviyo."
        )
        self.notice = QMessageBox(
            QMessageBox.Icon.Information,
            "Klaviyo is connected",
            "\n\n".join((text, *done.notes)),
            QMessageBox.StandardButton.NoButton,
            self.parent_window,
        )
        self.notice.addButton("Got it!", QMessageBox.ButtonRole.AcceptRole)
        self.notice.open()

    # ----- details, or the key again ------------------------------------------------------------
    async def open_details(self, field: str | None = None) -> None:
        """See details; with `field`, on the mapping with that platform field's row selected
        (a sync issue about a value of the wrong type links here)."""
        conn = ConnectionRepo(self.ctx.db).get()
        if conn is None:
            self.open_wizard()
            return
        key = await self._key(conn)
        if key is None:
            self.open_reconnect(conn)
            return
        self.details = KlaviyoDetailsDialog(self.ctx, conn, key, self.parent_window)
        self.details.changed.connect(self.changed)
        self.details.sync_requested.connect(lambda full: self.sync_requested.emit("manual", full))
        self.details.disconnected.connect(lambda: self.changed.emit(Changes(connection=True)))
        self.details.open()
        if field is not None:
            self.details.show_field(field)

    def open_reconnect(self, conn: Connection) -> None:
        self.reconnect = ReconnectDialog(self.ctx, conn, self.parent_window)
        self.reconnect.reconnected.connect(lambda done: self.changed.emit(done.changes))
        self.reconnect.open()
