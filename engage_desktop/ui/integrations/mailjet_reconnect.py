"""Integrations → Mailjet → Reconnect: the key pair again (a new secret, or one the keyring
lost), checked with Mailjet; everything else stays as it was."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from engage_desktop.actions import ActionError
from engage_desktop.actions.mailjet import MailjetConnected, MailjetPlan
from engage_desktop.core.secrets import ApiKey
from engage_desktop.storage.database import DatabaseError
from engage_desktop.storage.mailjet_settings import MailjetSettings
from engage_desktop.sync.sources.mailjet_keys import MailjetKeys
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.widgets.busy_bar import busy_bar

ANOTHER_ACCOUNT = (
    "This key belongs to another Mailjet account. To connect another account, use Change "
    "settings in the Mailjet details."
)


class MailjetReconnectDialog(QDialog):
    """Two fields and Reconnect; `reconnected` (MailjetConnected) once saved."""

    reconnected = Signal(object)

    def __init__(
        self, ctx: AppContext, saved: MailjetSettings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.saved = saved
        self.tasks = ctx.owned()
        self.setWindowTitle("Reconnect Mailjet")
        self.setMinimumWidth(520)
        self.key = QLineEdit(placeholderText=f"the API key ending {saved.key_hint[-4:]}")
        self.key.setAccessibleName("Mailjet API key")
        self.secret = QLineEdit(placeholderText="Secret key")
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setAccessibleName("Mailjet secret key")
        self.busy = busy_bar()
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b00020;")
        about = QLabel(
            "Give the key pair again. The phone property, consent, lists and fields stay as "
            "they are."
        )
        about.setWordWrap(True)
        form = QFormLayout()
        for text, widget in (("API &key:", self.key), ("S&ecret key:", self.secret)):
            label = QLabel(text)
            label.setBuddy(widget)
            form.addRow(label, widget)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.go = self.buttons.addButton("&Reconnect", QDialogButtonBox.ButtonRole.AcceptRole)
        layout = QVBoxLayout(self)
        layout.addWidget(about)
        layout.addLayout(form)
        layout.addWidget(self.busy)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.buttons.rejected.connect(self.reject)
        self.go.clicked.connect(lambda: self.tasks.spawn(self.reconnect()))
        self.finished.connect(lambda _: self.tasks.cancel())

    async def reconnect(self) -> bool:
        key, secret = self.key.text().strip(), self.secret.text().strip()
        if not key or not secret:
            self.problem.setText("Give both the API key and the secret key.")
            return False
        keys = MailjetKeys(ApiKey(key), ApiKey(secret))
        if keys.ref != self.saved.key_ref:
            self.problem.setText(ANOTHER_ACCOUNT)
            return False
        self.busy.show()
        self.go.setEnabled(False)
        self.problem.clear()
        try:
            verified = await self.ctx.actions.mailjet.verify(keys, self.saved.base_url)
            done: MailjetConnected = await self.ctx.write(
                self.ctx.actions.mailjet.connect, MailjetPlan(verified)
            )
        except (ActionError, DatabaseError) as exc:
            self.problem.setText(getattr(exc, "message", str(exc)))
            return False
        finally:
            self.busy.hide()
            self.go.setEnabled(True)
        self.reconnected.emit(done)
        self.accept()
        return True
