"""Page 1: the API key and secret key, checked live with Mailjet."""

from __future__ import annotations

import html
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWizardPage,
)

from engage_desktop.actions import ActionError
from engage_desktop.core.secrets import ApiKey
from engage_desktop.core.words import plural
from engage_desktop.mailjet.client import DEFAULT_BASE_URL
from engage_desktop.sync.sources.mailjet_keys import MailjetKeys
from engage_desktop.ui.widgets.busy_bar import busy_bar

if TYPE_CHECKING:
    from engage_desktop.ui.mailjet_wizard.mailjet_wizard import MailjetWizard

ERROR_STYLE = "color: #b00020;"
OK_STYLE = "color: #1b5e20;"


class MailjetKeysPage(QWizardPage):
    """Two masked fields, an Advanced base URL, and Verify (Enter verifies too)."""

    def __init__(self, wizard: MailjetWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self._attempt = 0
        demo = wizard.ctx.demo_mailjet
        self.setTitle("Connect your Mailjet account")
        self.setSubTitle(
            "Give the API key and secret key (Mailjet → Account settings → REST API keys). "
            "Engage only reads contacts, their properties and list memberships."
        )
        self.key = QLineEdit(placeholderText="API key")
        self.key.setAccessibleName("Mailjet API key")
        self.secret = QLineEdit(placeholderText="Secret key")
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setAccessibleName("Mailjet secret key")
        self.show_secret = QCheckBox("&Show secret key")
        self.verify = QPushButton("&Verify")
        self.use_demo = QPushButton("Use the &demo keys")
        self.advanced = QToolButton()
        self.advanced.setText("&Advanced")
        self.advanced.setCheckable(True)
        self.base_url = QLineEdit(demo[0] if demo else DEFAULT_BASE_URL)
        self.base_url.setAccessibleName("Mailjet base URL")
        self.base_url.setVisible(False)
        self.busy = busy_bar()
        self.result = QLabel()
        self.result.setWordWrap(True)
        form = QFormLayout()
        for text, widget in (("API &key:", self.key), ("S&ecret key:", self.secret)):
            label = QLabel(text)
            label.setBuddy(widget)
            form.addRow(label, widget)
        form.addRow("", self.show_secret)
        url_label = QLabel("Base &URL:")
        url_label.setBuddy(self.base_url)
        url_label.setVisible(False)
        form.addRow(url_label, self.base_url)
        layout = QVBoxLayout(self)
        if demo:
            banner = QLabel(
                "<b>Demo mode.</b> Engage is talking to its built-in Mailjet emulator on this "
                "computer, with generated contacts — some share phone numbers with the demo "
                "Klaviyo account, so you can watch them merge."
            )
            banner.setWordWrap(True)
            layout.addWidget(banner)
            layout.addWidget(self.use_demo)
        else:
            self.use_demo.hide()
        layout.addLayout(form)
        layout.addWidget(self.verify, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.advanced, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.busy)
        layout.addWidget(self.result)
        layout.addStretch(1)
        self.show_secret.toggled.connect(
            lambda on: self.secret.setEchoMode(
                QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password
            )
        )
        self.advanced.toggled.connect(self.base_url.setVisible)
        self.advanced.toggled.connect(url_label.setVisible)
        self.verify.clicked.connect(self.start_verify)
        self.use_demo.clicked.connect(self._fill_demo)
        for line in (self.key, self.secret, self.base_url):
            line.textEdited.connect(self._edited)
            line.returnPressed.connect(self._enter)

    def initializePage(self) -> None:
        QTimer.singleShot(0, self, self.key.setFocus)

    def isComplete(self) -> bool:
        v = self._wizard.draft.verified
        return v is not None and self._typed() == (v.keys.key.reveal(), v.keys.secret.reveal())

    def _typed(self) -> tuple[str, str]:
        return self.key.text().strip(), self.secret.text().strip()

    def _fill_demo(self) -> None:
        demo = self._wizard.ctx.demo_mailjet
        if demo:
            self.base_url.setText(demo[0])
            self.key.setText(demo[1])
            self.secret.setText(demo[2])
            self._edited()
            self.start_verify()

    def _enter(self) -> None:
        if not self.isComplete():
            self.start_verify()

    def _edited(self) -> None:
        self._attempt += 1
        self.busy.hide()
        self.verify.setEnabled(True)
        if not self.isComplete():
            self.result.clear()
        self.completeChanged.emit()

    def start_verify(self) -> None:
        key, secret = self._typed()
        if not key or not secret:
            self._show("Give both the API key and the secret key.", ok=False)
            return
        self._attempt += 1
        keys = MailjetKeys(ApiKey(key), ApiKey(secret))
        self._wizard.tasks.spawn(self._verify(self._attempt, keys, self.base_url.text().strip()))

    async def _verify(self, attempt: int, keys: MailjetKeys, base_url: str) -> None:
        self.busy.show()
        self.verify.setEnabled(False)
        self._show("Checking the keys with Mailjet…", ok=True)
        try:
            verified = await self._wizard.ctx.actions.mailjet.verify(keys, base_url)
        except ActionError as exc:
            if attempt == self._attempt:
                self.busy.hide()
                self.verify.setEnabled(True)
                self._show(exc.message, ok=False)
            return
        if attempt != self._attempt:
            return
        self.busy.hide()
        self.verify.setEnabled(True)
        self._wizard.draft = replace(self._wizard.draft, verified=verified, properties=())
        self._show(
            f"✔ Verified: the account has {html.escape(plural(verified.contacts, 'contact'))} "
            f"in {html.escape(plural(verified.lists, 'list'))} (key {keys.hint}).",
            ok=True,
        )
        self.completeChanged.emit()

    def _show(self, text: str, ok: bool) -> None:
        self.result.setStyleSheet(OK_STYLE if ok else ERROR_STYLE)
        self.result.setText(text)
