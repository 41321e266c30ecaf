"""Connect the SMS gateway: key and secret (checked live), an optional sender number, and
the base URL only in demo mode or under Advanced."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from engage_desktop.actions import ActionError
from engage_desktop.actions.gateway import GatewayConnected, check_source_number
from engage_desktop.core.messaging import DEFAULT_GATEWAY_URL, GatewayCredentials
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.widgets.busy_bar import busy_bar


class GatewayConnectDialog(QDialog):
    """Checks the key and secret with MessageMedia, then keeps them in the keyring."""

    connected = Signal(object)  # GatewayConnected

    def __init__(
        self,
        ctx: AppContext,
        parent: QWidget | None = None,
        base_url: str | None = None,
        key: str = "",
        secret: str = "",
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Connect the SMS gateway")
        self.setMinimumWidth(520)
        self.tasks = ctx.owned()
        intro = QLabel(
            "Enter the API key and secret of your Sinch MessageMedia account (MessageMedia "
            "Hub → Settings → API settings). They are checked with MessageMedia now and kept "
            "in this computer's keyring."
        )
        intro.setWordWrap(True)
        self.key = QLineEdit(key)
        self.key.setAccessibleName("API key")
        self.secret = QLineEdit(secret)
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setAccessibleName("API secret")
        self.source = QLineEdit(placeholderText="optional, e.g. +61491570156")
        self.source.setAccessibleName("Sender number")
        self.base_url = QLineEdit(base_url or DEFAULT_GATEWAY_URL)
        self.base_url.setAccessibleName("Base URL")
        self.advanced = QCheckBox("&Advanced: another base URL")
        demo = base_url is not None
        self.advanced.setChecked(demo)
        self.advanced.setVisible(not demo)
        form = QFormLayout()
        form.addRow("API &key:", self.key)
        form.addRow("API &secret:", self.secret)
        form.addRow("Sender &number:", self.source)
        self.url_label = QLabel("Base &URL:")
        self.url_label.setBuddy(self.base_url)
        form.addRow(self.url_label, self.base_url)
        self.busy = busy_bar()
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("&Connect")
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.advanced)
        layout.addWidget(self.busy)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.advanced.toggled.connect(self._show_url)
        self.key.textChanged.connect(self._edited)
        self.secret.textChanged.connect(self._edited)
        self._show_url(demo)
        self._edited()
        self.task: asyncio.Task[GatewayConnected | None] | None = None

    def _show_url(self, on: bool) -> None:
        self.base_url.setVisible(on)
        self.url_label.setVisible(on)

    def _edited(self) -> None:
        self.ok.setEnabled(bool(self.key.text().strip() and self.secret.text().strip()))
        self.error.clear()

    def submit(self) -> None:
        """Connect: check the number here, the key and secret with MessageMedia."""
        self.task = self.tasks.spawn(self.connect_now())

    async def connect_now(self) -> GatewayConnected | None:
        source = self.source.text().strip() or None
        try:
            if source is not None:
                source = check_source_number(source)
        except ActionError as exc:
            self.error.setText(exc.message)
            self.source.setFocus()
            return None
        credentials = GatewayCredentials(self.key.text().strip(), self.secret.text().strip())
        url = self.base_url.text().strip() if self.advanced.isChecked() else None
        self._busy(True)
        gateway = self.ctx.actions.gateway
        try:
            verified = await gateway.verify(credentials, url or DEFAULT_GATEWAY_URL)
            done = await self.ctx.blocking_io(gateway.connect, verified, source)
        except ActionError as exc:
            self.error.setText(exc.message)
            return None
        finally:
            self._busy(False)
        self.connected.emit(done)
        QTimer.singleShot(0, self.accept)  # not from inside this task: closing cancels tasks
        return done

    def _busy(self, on: bool) -> None:
        self.busy.setVisible(on)
        for w in (self.key, self.secret, self.source, self.base_url, self.ok):
            w.setEnabled(not on)
        if not on:
            self._edited_keep_error()

    def _edited_keep_error(self) -> None:
        self.ok.setEnabled(bool(self.key.text().strip() and self.secret.text().strip()))

    def done(self, result: int) -> None:
        self.tasks.cancel()
        super().done(result)
