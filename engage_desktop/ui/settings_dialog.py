"""Settings: the sync schedule, the tray (where there is one), and completion emails (with a
test email)."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from engage_desktop.core.secrets import ApiKey
from engage_desktop.core.settings import (
    SCHEDULE_MAX_H,
    SCHEDULE_MIN_H,
    AppSettings,
    EmailSettings,
    SmtpSecurity,
    email_problems,
    parse_recipients,
)
from engage_desktop.storage.connection import ConnectionRepo
from engage_desktop.storage.keystore import SMTP_SERVICE, KeyStore
from engage_desktop.storage.settings import SettingsRepo
from engage_desktop.sync.mailer import MailError, send_notice
from engage_desktop.sync.notices import Notice
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.settings.database_tab import DatabaseSettingsBox
from engage_desktop.ui.settings.source_priority_box import SourcePriorityBox

SECURITY_LABELS = {
    SmtpSecurity.STARTTLS: "STARTTLS (port 587)",
    SmtpSecurity.TLS: "TLS (port 465)",
    SmtpSecurity.NONE: "None (local relays only)",
}


class SettingsDialog(QDialog):
    """Edits `AppSettings` and the schedule; Save writes them off the GUI thread."""

    saved = Signal(object)  # AppSettings

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.tasks = ctx.owned()
        self.settings = SettingsRepo(ctx.db).load()
        self.passwords = KeyStore(SMTP_SERVICE)
        conn = ConnectionRepo(ctx.db).get()
        self.setWindowTitle("Settings")
        self.resize(560, 600)

        self.hours = QSpinBox(minimum=SCHEDULE_MIN_H, maximum=SCHEDULE_MAX_H, suffix=" hours")
        self.hours.setValue(conn.schedule_hours if conn else 24)
        self.hours.setEnabled(conn is not None)
        sync_box = QGroupBox("Sync")
        sync_form = QFormLayout(sync_box)
        sync_form.addRow("Sync &automatically every:", self.hours)
        # Without a tray, closing the window quits (app.py): offering the tray would mislead.
        self.tray: QCheckBox | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QCheckBox("&Keep running in the system tray when the window closes")
            self.tray.setChecked(self.settings.keep_in_tray)
            sync_form.addRow(self.tray)

        e = self.settings.email
        self.email_on = QGroupBox("Email me when a sync completes")
        self.email_on.setCheckable(True)
        self.email_on.setChecked(e.enabled)
        self.host = QLineEdit(e.host, placeholderText="smtp.example.com")
        self.port = QSpinBox(minimum=1, maximum=65535)
        self.port.setValue(e.port)
        self.security = QComboBox()
        for kind, label in SECURITY_LABELS.items():
            self.security.addItem(label, kind.value)
        self.security.setCurrentIndex(self.security.findData(e.security.value))
        self.user = QLineEdit(e.user)
        self.password = QLineEdit(placeholderText="kept in the system keyring")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.from_address = QLineEdit(e.sender, placeholderText="engage@example.com")
        self.recipients = QLineEdit(", ".join(e.recipients), placeholderText="a@x.com, b@y.com")
        self.on_success = QCheckBox("after a successful sync")
        self.on_success.setChecked(e.on_success)
        self.on_failure = QCheckBox("after a failed sync")
        self.on_failure.setChecked(e.on_failure)
        self.test = QPushButton("Send a test e&mail")  # Alt+T is the To field
        self.test_result = QLabel()
        self.test_result.setWordWrap(True)
        form = QFormLayout(self.email_on)
        form.addRow("SMTP &host:", self.host)
        form.addRow("&Port:", self.port)
        form.addRow("S&ecurity:", self.security)
        form.addRow("&User:", self.user)
        form.addRow("Pass&word:", self.password)
        form.addRow("&From:", self.from_address)
        form.addRow("&To:", self.recipients)
        when = QHBoxLayout()
        when.addWidget(self.on_success)
        when.addWidget(self.on_failure)
        form.addRow("Send:", when)
        form.addRow(self.test, self.test_result)

        self.problems = QLabel()
        self.problems.setStyleSheet("color: #b00020;")
        self.problems.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        layout = QVBoxLayout(self)
        layout.addWidget(sync_box)
        self.priority = SourcePriorityBox(ctx.actions.sources.priority())
        layout.addWidget(self.priority)
        layout.addWidget(self.email_on)
        self.database = DatabaseSettingsBox(ctx)  # issue 15: the team database
        layout.addWidget(self.database)
        layout.addWidget(self.problems)
        layout.addStretch(1)
        layout.addWidget(buttons)
        buttons.accepted.connect(lambda: self.tasks.spawn(self.save()))
        buttons.rejected.connect(self.reject)
        self.test.clicked.connect(lambda: self.tasks.spawn(self.send_test()))
        self.finished.connect(lambda _: self.tasks.cancel())

    def email_settings(self) -> EmailSettings:
        return EmailSettings(
            enabled=self.email_on.isChecked(),
            host=self.host.text().strip(),
            port=self.port.value(),
            security=SmtpSecurity(self.security.currentData()),
            user=self.user.text().strip(),
            sender=self.from_address.text().strip(),
            recipients=parse_recipients(self.recipients.text()),
            on_success=self.on_success.isChecked(),
            on_failure=self.on_failure.isChecked(),
        )

    def _stored_password(self, email: EmailSettings) -> str | None:
        """The stored password (blocking: the keyring; not on the GUI thread)."""
        stored = self.passwords.load(email.user) if email.user else None
        return stored.reveal() if stored else None

    async def send_test(self) -> bool:
        email = replace(self.email_settings(), enabled=True)
        problems = email_problems(email)
        if problems:
            self.test_result.setText(problems[0])
            return False
        self.test.setEnabled(False)
        self.test_result.setText("Sending…")
        notice = Notice("test email", "Email notifications from Engage Desktop work.", "info", 0)
        try:
            # the stored password comes from the keyring: looked up on the worker, not here
            typed = self.password.text()
            await self.ctx.blocking_io(
                lambda: send_notice(email, typed or self._stored_password(email), notice)
            )
        except MailError as exc:
            self.test_result.setText(f"Not sent: {exc}.")
            return False
        finally:
            self.test.setEnabled(True)
        self.test_result.setText(f"Sent to {', '.join(email.recipients)}.")
        return True

    async def save(self) -> AppSettings | None:
        email = self.email_settings()
        problems = email_problems(email)
        if problems:
            self.problems.setText(" ".join(problems))
            return None
        in_tray = self.settings.keep_in_tray if self.tray is None else self.tray.isChecked()
        settings = replace(self.settings, keep_in_tray=in_tray, email=email)
        password = self.password.text()
        hours = self.hours.value()

        def write() -> None:
            SettingsRepo(self.ctx.db).save(settings)
            if ConnectionRepo(self.ctx.db).get() is not None:
                ConnectionRepo(self.ctx.db).set_schedule(hours)
            if password and email.user:
                self.passwords.save(email.user, ApiKey(password))

        await self.ctx.write(write)
        await self.priority.apply(self.ctx)
        self.saved.emit(settings)
        self.accept()
        return settings
