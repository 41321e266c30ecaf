"""Reconnect: the API key again (gone from the keyring, locked, revoked), nothing else.

Consent mode, lists, default country and mappings stay exactly as they are: reconnecting is
about the key. A key of another account is refused (switching accounts is a new install).
"""

from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engage_desktop.actions import ActionError, Connected
from engage_desktop.core.secrets import ApiKey, redact
from engage_desktop.core.setup import key_problem
from engage_desktop.storage.connection import Connection
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.widgets.busy_bar import busy_bar

ERROR_STYLE = "color: #b00020;"


class ReconnectDialog(QDialog):
    """Asks for the key of the connected account, checks it live, keeps it."""

    reconnected = Signal(object)  # actions.Connected

    def __init__(self, ctx: AppContext, conn: Connection, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.conn = conn
        self.tasks = ctx.owned()
        self.setWindowTitle("Reconnect Klaviyo")
        self.setMinimumWidth(560)
        intro = QLabel(
            f"Engage needs the private API key of <b>{html.escape(conn.account_name)}</b> "
            f"({html.escape(conn.account_id)}) again. Everything else stays as it is: SMS "
            f"consent ({conn.consent_mode.value}), the lists, the default country and the "
            f"field mapping."
        )
        intro.setWordWrap(True)
        self.key = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("pk_…")
        self.key.setAccessibleName("Private API key")
        self.show_key = QCheckBox("S&how key")
        self.show_key.toggled.connect(
            lambda on: self.key.setEchoMode(
                QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password
            )
        )
        self.base_url = QLineEdit(redact(conn.base_url))
        self.base_url.setAccessibleName("Base URL")
        key_label = QLabel("Private &API key:")
        key_label.setBuddy(self.key)
        url_label = QLabel("&Base URL:")
        url_label.setBuddy(self.base_url)
        form = QFormLayout()
        form.addRow(key_label, self.key)
        form.addRow("", self.show_key)
        form.addRow(url_label, self.base_url)
        self.busy = busy_bar()
        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.save = buttons.addButton(
            "&Verify and reconnect", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.save.setDefault(True)
        self.save.clicked.connect(self._verify)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        if ctx.demo and ctx.demo_key:
            demo = QPushButton("Use the &demo key")
            demo.clicked.connect(lambda: self.key.setText(ctx.demo_key or ""))
            layout.addWidget(demo)
        layout.addWidget(self.busy)
        layout.addWidget(self.outcome)
        layout.addWidget(buttons)
        self.finished.connect(lambda *_: self.tasks.cancel())
        self.key.setFocus()

    def _verify(self) -> None:
        problem = key_problem(self.key.text())
        if problem:
            self._show(problem, error=True)
            return
        self.tasks.spawn(self.reconnect(ApiKey(self.key.text()), self.base_url.text().strip()))

    async def reconnect(self, key: ApiKey, base_url: str) -> Connected | None:
        actions = self.ctx.actions.connection
        self.busy.show()
        self.save.setEnabled(False)
        self._show("Checking the key with Klaviyo…")
        try:
            verified = await actions.verify(key, base_url)
            done: Connected = await self.ctx.write(actions.reconnect, verified)
        except ActionError as exc:
            self._show(exc.message, error=True)
            return None
        finally:
            self.busy.hide()
            self.save.setEnabled(True)
        self.reconnected.emit(done)
        self.accept()
        return done

    def _show(self, text: str, error: bool = False) -> None:
        self.outcome.setStyleSheet(ERROR_STYLE if error else "")
        self.outcome.setText(text)
