"""The Mailjet install wizard: key pair, phone property, consent, lists, fields, finish."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget, QWizard

from engage_desktop.actions.mailjet import MailjetConnected
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.mailjet_wizard.consent_page import MailjetConsentPage
from engage_desktop.ui.mailjet_wizard.draft import MailjetDraft, MailjetStep
from engage_desktop.ui.mailjet_wizard.fields_page import MailjetFieldsPage
from engage_desktop.ui.mailjet_wizard.finish_page import MailjetFinishPage
from engage_desktop.ui.mailjet_wizard.keys_page import MailjetKeysPage
from engage_desktop.ui.mailjet_wizard.lists_page import MailjetListsPage
from engage_desktop.ui.mailjet_wizard.phone_page import PhonePropertyPage


class MailjetWizard(QWizard):
    """Collects a `MailjetDraft` page by page; Connect saves it; Cancel leaves nothing."""

    connected = Signal(object)  # MailjetConnected

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.tasks = ctx.owned()
        self.draft = MailjetDraft(demo=ctx.demo_mailjet is not None)
        self.setWindowTitle("Install Mailjet")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setButtonText(QWizard.WizardButton.FinishButton, "&Connect")
        self.setMinimumSize(760, 560)
        self.setPage(MailjetStep.KEYS, MailjetKeysPage(self))
        self.setPage(MailjetStep.PHONE, PhonePropertyPage(self))
        self.setPage(MailjetStep.CONSENT, MailjetConsentPage(self))
        self.setPage(MailjetStep.LISTS, MailjetListsPage(self))
        self.setPage(MailjetStep.FIELDS, MailjetFieldsPage(self))
        self.setPage(MailjetStep.FINISH, MailjetFinishPage(self))
        self.setStartId(MailjetStep.KEYS)
        self.finished.connect(lambda _: self.tasks.cancel())

    def report_connected(self, done: MailjetConnected) -> None:
        self.connected.emit(done)
