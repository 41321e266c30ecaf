"""The Klaviyo install wizard: five pages, nothing saved before Connect."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget, QWizard

from engage_desktop.actions import Connected
from engage_desktop.core.setup import SetupDraft, Step, next_step
from engage_desktop.sync.setup import KlaviyoSetup
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.wizard.api_key_page import ApiKeyPage
from engage_desktop.ui.wizard.consent_page import ConsentPage
from engage_desktop.ui.wizard.contacts_page import ContactsPage
from engage_desktop.ui.wizard.finish_page import FinishPage
from engage_desktop.ui.wizard.map_fields_page import MapFieldsPage


class SetupWizard(QWizard):
    """Collects a `SetupDraft` page by page; Connect saves it; Cancel leaves nothing."""

    connected = Signal(object)  # actions.Connected

    def __init__(
        self, ctx: AppContext, demo_url: str | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setup = KlaviyoSetup(ctx.make_client)
        self.tasks = ctx.owned()
        self.draft = SetupDraft(demo=ctx.demo)
        self.setWindowTitle("Install Klaviyo")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, False)
        self.setButtonText(QWizard.WizardButton.FinishButton, "&Connect")
        self.setMinimumSize(760, 560)
        self.setPage(Step.API_KEY, ApiKeyPage(self, demo_url))
        self.setPage(Step.CONSENT, ConsentPage(self))
        self.setPage(Step.CONTACTS, ContactsPage(self))
        self.setPage(Step.MAP_FIELDS, MapFieldsPage(self))
        self.setPage(Step.FINISH, FinishPage(self))
        self.setStartId(Step.API_KEY)
        self.finished.connect(self._closed)

    def nextId(self) -> int:
        after = next_step(self.draft, Step(self.currentId()))
        return -1 if after is None else int(after)

    def report_connected(self, done: Connected) -> None:
        self.connected.emit(done)

    def _closed(self) -> None:
        self.tasks.cancel()
        self.ctx.spawn(self.setup.aclose())
