"""The SMS gateway tile's windows: connect, details. The tile's state asks the keyring
(where the key is), so it is read on a worker thread."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from engage_desktop.actions import Changes
from engage_desktop.actions.gateway import GatewayConnected, GatewayStatus
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.integrations.gateway_connect_dialog import GatewayConnectDialog
from engage_desktop.ui.integrations.gateway_details_dialog import GatewayDetailsDialog
from engage_desktop.ui.integrations.gateway_tile import GatewayTile


class GatewayFlows(QObject):
    """Opens the right window for the tile's button and reports what each one changed."""

    changed = Signal(object)  # Changes

    def __init__(
        self,
        ctx: AppContext,
        tile: GatewayTile,
        parent_window: QWidget,
        demo_url: str | None = None,
        demo_credentials: tuple[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.tile = tile
        self.parent_window = parent_window
        self.demo_url = demo_url
        self.demo_credentials = demo_credentials
        self.connect_dialog: GatewayConnectDialog | None = None
        self.details: GatewayDetailsDialog | None = None
        self.status: GatewayStatus | None = None
        tile.connect_requested.connect(self.open_connect)
        tile.details_requested.connect(lambda: self.ctx.spawn(self.open_details()))

    async def show_tile(self) -> GatewayStatus:
        self.status = await self.ctx.blocking_io(self.ctx.actions.gateway.status)
        self.tile.show_status(self.status)
        return self.status

    def open_connect(self) -> GatewayConnectDialog:
        key, secret = self.demo_credentials or ("", "")
        dialog = GatewayConnectDialog(self.ctx, self.parent_window, self.demo_url, key, secret)
        dialog.connected.connect(self._connected)
        self.connect_dialog = dialog
        dialog.open()
        return dialog

    async def open_details(self) -> GatewayDetailsDialog | None:
        """The details as they are now (the last check for replies moves every 5 s)."""
        await self.show_tile()
        if self.status is None or self.status.settings is None:
            return None
        dialog = GatewayDetailsDialog(self.ctx, self.status, self.parent_window)
        dialog.changed.connect(self.changed)
        self.details = dialog
        dialog.open()
        return dialog

    def _connected(self, done: GatewayConnected) -> None:
        self.changed.emit(done.changes)
        if done.notes:
            self.tile.state.setText(self.tile.state.text() + "<br>" + "<br>".join(done.notes))

    def emit_changed(self) -> None:
        self.changed.emit(Changes(connection=True))
