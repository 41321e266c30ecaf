"""Page 1: the private API key, verified live with Klaviyo."""

from __future__ import annotations

import html
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from engage_desktop.core.secrets import ApiKey
from engage_desktop.core.setup import (
    DEFAULT_BASE_URL,
    base_url_problem,
    is_verified,
    key_problem,
)
from engage_desktop.core.urls import UnsafeUrlError, redact_url
from engage_desktop.klaviyo.errors import KlaviyoError, NetworkError
from engage_desktop.klaviyo.scopes import PURPOSE
from engage_desktop.ui.widgets.busy_bar import busy_bar

if TYPE_CHECKING:
    from engage_desktop.ui.wizard.setup_wizard import SetupWizard

ERROR_STYLE = "color: #b00020;"
OK_STYLE = "color: #1b5e20;"


class ApiKeyPage(QWizardPage):
    """Masked key entry with a show toggle, an Advanced base URL, and an async Verify."""

    def __init__(self, wizard: SetupWizard, demo_url: str | None = None) -> None:
        super().__init__()
        self._wizard = wizard
        self._attempt = 0  # a newer Verify (or an edit) makes older answers stale
        self.setTitle("Connect your Klaviyo account")
        self.setSubTitle(
            "Paste a private API key. Engage reads your lists and profiles with it and sends "
            "SMS opt-outs back to Klaviyo."
        )
        self.demo_banner = QLabel()
        self.demo_banner.setWordWrap(True)
        self.use_demo = QPushButton("Use the &demo key")
        self.key = QLineEdit(placeholderText="pk_…")
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setAccessibleName("Private API key")
        self.show_key = QCheckBox("&Show key")
        self.verify = QPushButton("&Verify")
        self.verify.setDefault(False)
        self.advanced = QToolButton()
        self.advanced.setText("&Advanced")
        self.advanced.setCheckable(True)
        self.base_url = QLineEdit(demo_url or DEFAULT_BASE_URL)
        self.base_url.setAccessibleName("Klaviyo base URL")
        self.base_url_label = QLabel("Base &URL:")
        self.base_url_label.setBuddy(self.base_url)
        self.busy = busy_bar()
        self.result = QLabel()
        self.result.setWordWrap(True)

        key_row = QHBoxLayout()
        key_row.addWidget(self.key, 1)
        key_row.addWidget(self.show_key)
        key_row.addWidget(self.verify)
        form = QFormLayout()
        key_label = QLabel("Private API &key:")
        key_label.setBuddy(self.key)
        form.addRow(key_label, key_row)
        adv = QWidget()
        adv_row = QHBoxLayout(adv)
        adv_row.setContentsMargins(0, 0, 0, 0)
        adv_row.addWidget(self.base_url_label)
        adv_row.addWidget(self.base_url, 1)
        adv.setVisible(False)
        layout = QVBoxLayout(self)
        if wizard.draft.demo:
            self.demo_banner.setText(
                "<b>Demo mode.</b> Engage is talking to its built-in Klaviyo emulator on this "
                "computer, with generated contacts — not to Klaviyo. Use the demo key to try "
                "everything; nothing leaves your machine."
            )
            layout.addWidget(self.demo_banner)
            layout.addWidget(self.use_demo)
        else:
            self.use_demo.hide()
        layout.addLayout(form)
        layout.addWidget(self.advanced)
        layout.addWidget(adv)
        layout.addWidget(self.busy)
        layout.addWidget(self.result)
        layout.addStretch(1)

        self.show_key.toggled.connect(self._show_toggled)
        self.advanced.toggled.connect(adv.setVisible)
        self.verify.clicked.connect(self.start_verify)
        self.key.returnPressed.connect(self._enter)
        self.key.textEdited.connect(self._edited)
        self.base_url.textEdited.connect(self._edited)
        self.use_demo.clicked.connect(self._fill_demo_key)

    # ----- Qt -----------------------------------------------------------------------------
    def isComplete(self) -> bool:
        return is_verified(self._wizard.draft, self.key.text(), self.base_url.text())

    def initializePage(self) -> None:
        # The dialog gives the focus to its first button as it shows (in demo mode "Use the
        # demo key"), after this runs: take it back once the page is on screen.
        self.key.setFocus()
        QTimer.singleShot(0, self, self._focus_key)

    def _focus_key(self) -> None:
        if self._wizard.currentPage() is self and not self.isComplete():
            self.key.setFocus()

    # ----- ours ---------------------------------------------------------------------------
    def _show_toggled(self, on: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password
        self.key.setEchoMode(mode)

    def _fill_demo_key(self) -> None:
        if self._wizard.ctx.demo_key:
            self.key.setText(self._wizard.ctx.demo_key)
            self._edited()
            self.start_verify()

    def _enter(self) -> None:
        """Enter verifies; on a verified key the wizard's default button (Next) takes it."""
        if not self.isComplete():
            self.start_verify()

    def _edited(self) -> None:
        self._attempt += 1
        self._set_busy(False)
        if not self.isComplete():
            self.result.clear()
        self.completeChanged.emit()

    def start_verify(self) -> None:
        problem = key_problem(self.key.text()) or base_url_problem(self.base_url.text())
        if problem:
            self._show(problem, ok=False)
            return
        self._attempt += 1
        self._wizard.tasks.spawn(
            self._verify(self._attempt, ApiKey(self.key.text()), self.base_url.text().strip())
        )

    async def _verify(self, attempt: int, key: ApiKey, base_url: str) -> None:
        self._set_busy(True)
        self._show("Checking the key with Klaviyo…", ok=True)
        try:
            verified = await self._wizard.setup.verify(key, base_url)
        except NetworkError as exc:
            message = (
                f"Could not reach Klaviyo at {redact_url(base_url)}. Check your internet "
                f"connection (or the base URL under Advanced), then verify again. "
                f"({exc.user_message})"
            )
            outcome: tuple[str, bool] = (message, False)
            verified = None
        except KlaviyoError as exc:
            outcome, verified = (exc.user_message, False), None
        except UnsafeUrlError as exc:  # the base URL under Advanced
            outcome, verified = (str(exc), False), None
        if attempt != self._attempt:
            return  # the key or URL changed meanwhile
        self._set_busy(False)
        if verified is None:
            self._show(*outcome)
            self.completeChanged.emit()
            return
        self._wizard.draft = replace(self._wizard.draft, verified=verified)
        name = html.escape(verified.account_name)
        text = f"✔ Verified: Klaviyo account <b>{name}</b> ({verified.account_id})."
        if verified.missing_scopes:
            text += "<br>Warning: the key lacks " + "; ".join(
                f"{s} (needed to {PURPOSE[s]})" for s in verified.missing_scopes
            )
        self._show(text, ok=True, rich=True)
        self.completeChanged.emit()

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.verify.setEnabled(not busy)

    def _show(self, text: str, ok: bool, rich: bool = False) -> None:
        self.result.setStyleSheet(OK_STYLE if ok else ERROR_STYLE)
        self.result.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
        self.result.setText(text)
