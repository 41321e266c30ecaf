"""The Mailjet integration's windows: install (the wizard), details, change, disconnect.

Whether the key pair is available asks the keyring, which may block: on a worker thread.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from engage_desktop.actions import ActionError, Changes
from engage_desktop.actions.mailjet import MailjetConnected
from engage_desktop.storage.database import DatabaseError
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.integrations.integrations_screen import IntegrationsScreen
from engage_desktop.ui.integrations.mailjet_details import MailjetDetailsDialog
from engage_desktop.ui.integrations.mailjet_reconnect import MailjetReconnectDialog
from engage_desktop.ui.mailjet_wizard.mailjet_wizard import MailjetWizard


class MailjetFlows(QObject):
    """Opens the right window for the tile's button and reports what each one changed."""

    changed = Signal(object)  # Changes
    sync_requested = Signal(str, bool)  # trigger, full

    def __init__(self, ctx: AppContext, screen: IntegrationsScreen, parent_window: QWidget) -> None:
        super().__init__()
        self.ctx = ctx
        self.screen = screen
        self.tile = tile = screen.mailjet
        self.parent_window = parent_window
        self.wizard: MailjetWizard | None = None
        self.details: MailjetDetailsDialog | None = None
        self.reconnect: MailjetReconnectDialog | None = None
        self.notice: QMessageBox | None = None
        tile.install_requested.connect(self.open_wizard)
        tile.details_requested.connect(lambda: self.ctx.spawn(self.open_details()))

    async def show_tile(self) -> None:
        settings = self.ctx.actions.mailjet.settings()
        self.tile.show_settings(settings)
        self.screen.update_invite()
        if settings is None:
            return
        place = await self.ctx.blocking_io(self.ctx.actions.mailjet.key_place)
        if self.ctx.actions.mailjet.settings() == settings:
            self.tile.show_settings(settings, keys_missing=place is None)

    def open_wizard(self) -> None:
        if self.wizard is not None:
            self.wizard.raise_()
            return
        self.wizard = MailjetWizard(self.ctx, self.parent_window)
        self.wizard.connected.connect(self._connected)
        self.wizard.finished.connect(self._wizard_closed)
        self.wizard.open()

    def _wizard_closed(self) -> None:
        if self.wizard is not None:
            self.wizard.deleteLater()
        self.wizard = None

    def _connected(self, done: MailjetConnected) -> None:
        self.changed.emit(done.changes | Changes(contacts=True, lists=True))
        self.sync_requested.emit("install", False)
        self.notice = QMessageBox(
            QMessageBox.Icon.Information,
            "Mailjet is connected",
            "\n\n".join(
                (
                    "A sync of every connected source has started. You'll be notified when "
                    "it's complete.",
                    *done.notes,
                )
            ),
            QMessageBox.StandardButton.NoButton,
            self.parent_window,
        )
        self.notice.addButton("Got it!", QMessageBox.ButtonRole.AcceptRole)
        self.notice.open()

    async def open_details(self) -> None:
        settings = self.ctx.actions.mailjet.settings()
        if settings is None:
            self.open_wizard()
            return
        place = await self.ctx.blocking_io(self.ctx.actions.mailjet.key_place)
        if place is None:  # the keys are missing: ask for them, nothing else
            self.open_reconnect()
            return
        self.details = MailjetDetailsDialog(settings, place, self.parent_window)
        self.details.change_requested.connect(self.open_wizard)
        self.details.reconnect_requested.connect(self.open_reconnect)
        self.details.sync_requested.connect(lambda: self.sync_requested.emit("manual", False))
        self.details.disconnect_requested.connect(lambda: self.ctx.spawn(self.disconnect_mailjet()))
        self.details.open()

    def open_reconnect(self) -> None:
        settings = self.ctx.actions.mailjet.settings()
        if settings is None:
            return
        self.reconnect = MailjetReconnectDialog(self.ctx, settings, self.parent_window)
        self.reconnect.reconnected.connect(lambda done: self.changed.emit(done.changes))
        self.reconnect.open()

    async def disconnect_mailjet(self) -> bool:
        try:
            changes = await self.ctx.write(self.ctx.actions.mailjet.disconnect)
        except (ActionError, DatabaseError) as exc:
            text = getattr(exc, "message", str(exc))
            self.notice = QMessageBox(
                QMessageBox.Icon.Warning,
                "Mailjet",
                f"Could not disconnect: {text}",
                QMessageBox.StandardButton.Ok,
                self.parent_window,
            )
            self.notice.open()
            return False
        self.changed.emit(changes)
        return True
