"""Page 5: Engage fields ← Mailjet contact properties (the mapping editor, as for Klaviyo)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QVBoxLayout, QWizardPage

from engage_desktop.actions.mailjet import PropertySample
from engage_desktop.core.setup import mapping_problems
from engage_desktop.storage.fields import FieldRepo
from engage_desktop.ui.widgets.mapping_editor import MappingEditor

if TYPE_CHECKING:
    from engage_desktop.ui.mailjet_wizard.mailjet_wizard import MailjetWizard


def sample_rows(props: tuple[PropertySample, ...]) -> list[dict[str, Any]]:
    """The sampled values as rows the editor checks types against: each property's distinct
    sampled values (up to five), spread over as many rows as were sampled."""
    size = max((p.sampled for p in props), default=0)
    rows: list[dict[str, Any]] = [{} for _ in range(size)]
    for p in props:
        for i, value in enumerate(p.samples[:size]):
            rows[i][p.name] = value
    return rows


class MailjetFieldsPage(QWizardPage):
    """Names and first names come from `firstname` and `name`; map any other property."""

    def __init__(self, wizard: MailjetWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle("Map fields")
        self.setSubTitle(
            "First and last names come from 'firstname' and 'name'. Map other Mailjet contact "
            "properties to Engage fields; type a new field name to create it."
        )
        repo = FieldRepo(wizard.ctx.db)
        self.editor = MappingEditor(
            dict(repo.fields()), source="Mailjet", builtin=False, standard=()
        )
        saved = wizard.ctx.actions.mailjet.settings()
        if saved is not None:
            self.editor.set_mappings(list(saved.mappings))
        layout = QVBoxLayout(self)
        layout.addWidget(self.editor, 1)
        self.editor.changed.connect(self._changed)

    def initializePage(self) -> None:
        props = self._wizard.draft.properties
        counts = {p.name: p.filled for p in props}
        sampled = max((p.sampled for p in props), default=0)
        self.editor.set_discovered(counts, sampled)
        self.editor.model.set_sample(sample_rows(props), list(counts))
        self.editor.sample_note.setText(
            f"{len(props)} Mailjet contact properties, values sampled from {sampled:,} contacts."
        )
        self.editor.refresh()
        self.editor.table.setFocus()
        self._changed()

    def isComplete(self) -> bool:
        return not mapping_problems(self.editor.mappings())

    def _changed(self) -> None:
        self._wizard.draft = replace(
            self._wizard.draft,
            mappings=tuple(self.editor.mappings()),
            mapping_warnings=tuple(self.editor.warning_lines()),
        )
        self.completeChanged.emit()
