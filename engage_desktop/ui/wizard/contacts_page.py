"""Page 3: whether to sync contacts, and from which Klaviyo lists."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QCheckBox, QLabel, QVBoxLayout, QWizardPage

from engage_desktop.core.setup import VerifiedKey, lists_problem
from engage_desktop.core.sources import KLAVIYO, source_label
from engage_desktop.ui.widgets.list_picker import ListPicker

if TYPE_CHECKING:
    from engage_desktop.ui.wizard.setup_wizard import SetupWizard


class ContactsPage(QWizardPage):
    """The "Sync my contacts" switch and the list picker (lists load in the background)."""

    def __init__(self, wizard: SetupWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self._loading: asyncio.Task[bool] | None = None
        self._loaded_for: str | None = None
        self.setTitle("Contacts")
        self.setSubTitle(
            "Choose the Klaviyo lists whose profiles become Engage contacts (their source shows "
            f"as {source_label(KLAVIYO)}). The sync runs every 24 hours and whenever you press "
            "Sync now."
        )
        self.sync = QCheckBox("&Sync my contacts from Klaviyo to Engage")
        self.sync.setChecked(wizard.draft.sync_contacts)
        self.picker = ListPicker()
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #b00020;")
        layout = QVBoxLayout(self)
        layout.addWidget(self.sync)
        layout.addWidget(self.picker, 1)
        layout.addWidget(self.problem)
        self.sync.toggled.connect(self._changed)
        self.picker.selection_changed.connect(self._changed)
        self.picker.retry.clicked.connect(self._load)

    def initializePage(self) -> None:
        verified = self._wizard.draft.verified
        if verified is not None and self._loaded_for != verified.account_id:
            self._loaded_for = verified.account_id
            self._load()
        self.sync.setFocus()

    def isComplete(self) -> bool:
        if not self.sync.isChecked():
            return True
        return self.picker.loaded and lists_problem(self._wizard.draft) is None

    def _load(self) -> None:
        verified = self._wizard.draft.verified
        if verified is None:
            return
        if self._loading is not None:
            self._loading.cancel()
        self._loading = self._wizard.tasks.spawn(self._load_lists(verified))

    async def _load_lists(self, verified: VerifiedKey) -> bool:
        ok = await self.picker.load(self._wizard.setup, verified)
        self._changed()
        return ok

    def _changed(self) -> None:
        on = self.sync.isChecked()
        self.picker.setEnabled(on)
        self._wizard.draft = replace(
            self._wizard.draft,
            sync_contacts=on,
            every_list=self.picker.every_list(),
            lists=self.picker.chosen(),
        )
        problem = lists_problem(self._wizard.draft) if self.picker.loaded else None
        self.problem.setText(problem or "")
        self.completeChanged.emit()

    def list_names(self) -> dict[str, str]:
        return self.picker.model.names()
