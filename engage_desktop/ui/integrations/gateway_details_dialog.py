"""The SMS gateway's details: the account, the opt-out words, the blacklist net, disconnect."""

from __future__ import annotations

import html
import time

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engage_desktop.actions import ActionError, Changes
from engage_desktop.actions.gateway import GatewayStatus
from engage_desktop.core.secrets import redact
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.widgets.busy_bar import busy_bar
from engage_desktop.ui.widgets.phone_text import phone_text
from engage_desktop.ui.widgets.question import ask


def _when(at: float | None) -> str:
    return "never" if at is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(at))


class GatewayDetailsDialog(QDialog):
    """Shows the connection; saves the opt-out words and the blacklist switch (checked live
    first); disconnects after a yes."""

    changed = Signal(object)  # Changes

    def __init__(self, ctx: AppContext, status: GatewayStatus, parent: QWidget | None = None):
        super().__init__(parent)
        assert status.settings is not None
        s = status.settings
        self.ctx = ctx
        self.tasks = ctx.owned()
        self.setWindowTitle("SMS gateway — details")
        self.setMinimumWidth(560)
        account = QFormLayout()
        account.addRow("Account:", QLabel(f"Sinch MessageMedia, key <b>{s.key_hint or '…'}</b>"))
        account.addRow("Server:", QLabel(html.escape(redact(s.base_url))))
        account.addRow(
            "Sends from:",
            QLabel(phone_text(s.source_number) if s.source_number else "MessageMedia's number"),
        )
        account.addRow("Connected:", QLabel(_when(s.connected_at)))
        heard = _when(s.last_poll_at) + (f" — {s.last_poll_error}" if s.last_poll_error else "")
        poll = QLabel(html.escape(heard))
        poll.setWordWrap(True)
        account.addRow("Last check for replies:", poll)
        self.keywords = QLineEdit(", ".join(s.opt_out_keywords))
        self.keywords.setAccessibleName("Opt-out words")
        words_note = QLabel(
            "A reply that is exactly one of these words (any case, trailing punctuation "
            "ignored) opts the sender out here and in Klaviyo."
        )
        words_note.setWordWrap(True)
        self.blacklist = QCheckBox("Add every opt-out to MessageMedia's &blacklist")
        self.blacklist.setChecked(s.blacklist_opt_outs)
        self.blacklist.setToolTip(
            "A safety net: MessageMedia then refuses those numbers whatever sends to them. It "
            "blocks every message from the account to them, transactional ones too."
        )
        settings = QFormLayout()
        settings.addRow("&Opt-out words:", self.keywords)
        settings.addRow("", words_note)
        settings.addRow("", self.blacklist)
        self.busy = busy_bar()
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.save = QPushButton("&Save")
        self.disconnect_button = QPushButton("&Disconnect…")
        self.buttons.addButton(self.save, QDialogButtonBox.ButtonRole.ApplyRole)
        self.buttons.addButton(self.disconnect_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        layout = QVBoxLayout(self)
        layout.addLayout(account)
        layout.addSpacing(8)
        layout.addLayout(settings)
        layout.addWidget(self.busy)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.buttons.rejected.connect(self.reject)
        self.save.clicked.connect(lambda: self.tasks.spawn(self.save_settings()))
        self.disconnect_button.clicked.connect(self._ask_disconnect)
        self.question: QMessageBox | None = None

    async def save_settings(self) -> bool:
        words = tuple(w for w in self.keywords.text().replace(",", " ").split() if w)
        gateway = self.ctx.actions.gateway
        self.busy.show()
        self.save.setEnabled(False)
        try:
            verified = await gateway.verify()
            done = await self.ctx.blocking_io(
                gateway.connect, verified, None, words, self.blacklist.isChecked()
            )
        except ActionError as exc:
            self.error.setText(exc.message)
            return False
        finally:
            self.busy.hide()
            self.save.setEnabled(True)
        self.error.setStyleSheet("color: #1b5e20;")
        self.error.setText("Saved.")
        self.keywords.setText(", ".join(done.settings.opt_out_keywords))
        self.changed.emit(done.changes)
        return True

    def _ask_disconnect(self) -> None:
        self.question = ask(
            self,
            "Disconnect the SMS gateway?",
            "The key and secret are removed from this computer and nothing is sent or "
            "heard until you connect again. Campaigns and replies stay.",
            "&Disconnect",
            lambda: self.tasks.spawn(self.disconnect_now()),
            destructive=True,
        )

    async def disconnect_now(self) -> Changes:
        changes = await self.ctx.blocking_io(self.ctx.actions.gateway.disconnect)
        self.changed.emit(changes)
        QTimer.singleShot(0, self.accept)
        return changes

    def done(self, result: int) -> None:
        self.tasks.cancel()
        super().done(result)
