"""Page 4: platform fields ← Klaviyo fields, with completions from sampled profiles."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWizardPage

from engage_desktop.core.setup import mapping_problems
from engage_desktop.klaviyo.errors import KlaviyoError
from engage_desktop.storage.fields import FieldRepo
from engage_desktop.ui.widgets.busy_bar import busy_bar
from engage_desktop.ui.widgets.mapping_editor import MappingEditor

if TYPE_CHECKING:
    from engage_desktop.ui.wizard.setup_wizard import SetupWizard


class MapFieldsPage(QWizardPage):
    """The mapping editor; warnings never block, errors (empty or doubled names) do."""

    def __init__(self, wizard: SetupWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self._sampled_for: tuple[str, ...] | bool | None = False  # False: not yet; None: all
        self._sampling: asyncio.Task[None] | None = None
        self.setTitle("Map fields")
        self.setSubTitle(
            "Which Klaviyo field fills each Engage field. Names are exact (case and spaces). "
            "Type a new platform field name to create it."
        )
        repo = FieldRepo(wizard.ctx.db)
        self.editor = MappingEditor(dict(repo.fields()))
        self.editor.set_mappings(repo.mappings())
        self.busy = busy_bar()
        self.status = QLabel()
        layout = QVBoxLayout(self)
        layout.addWidget(self.busy)
        layout.addWidget(self.status)
        layout.addWidget(self.editor, 1)
        self.editor.changed.connect(self._changed)

    def initializePage(self) -> None:
        draft = self._wizard.draft
        chosen = None if draft.every_list else draft.lists
        if draft.verified is not None and self._sampled_for != chosen:
            self._sampled_for = chosen
            if self._sampling is not None:
                self._sampling.cancel()
            self._sampling = self._wizard.tasks.spawn(self._sample(chosen))
        self.editor.table.setFocus()

    async def _sample(self, chosen: tuple[str, ...] | None) -> None:
        verified = self._wizard.draft.verified
        assert verified is not None
        self.busy.show()
        self.status.setText("Sampling profiles of the chosen lists to find their fields…")
        try:
            sample = await self._wizard.setup.sample(verified, chosen)
        except KlaviyoError as exc:
            self.busy.hide()
            self.status.setText(f"Could not sample profiles ({exc.user_message}).")
            self.editor.set_sample([])
            return
        self.busy.hide()
        self.status.setText("")
        self.editor.set_sample(sample.attributes)

    def isComplete(self) -> bool:
        return not mapping_problems(self.editor.mappings())

    def _changed(self) -> None:
        self._wizard.draft = replace(
            self._wizard.draft,
            mappings=tuple(self.editor.mappings()),
            mapping_warnings=tuple(self.editor.warning_lines()),
        )
        self.completeChanged.emit()
