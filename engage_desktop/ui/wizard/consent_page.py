"""Page 2: SMS consent mode, Inferred or Explicit, with the rule table it produces."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWizardPage,
)

from engage_desktop.core.consent import ConsentMode, SmsStatus, consent_table
from engage_desktop.ui.widgets.phone_text import fill_regions

if TYPE_CHECKING:
    from engage_desktop.ui.wizard.setup_wizard import SetupWizard

EXPLAIN = {
    ConsentMode.INFERRED: (
        "<b>Inferred consent</b> — profiles with a phone number and no SMS consent record in "
        "Klaviyo may receive messages. Choose this when you collected numbers with consent "
        "outside Klaviyo (at checkout, in store)."
    ),
    ConsentMode.EXPLICIT: (
        "<b>Explicit consent</b> — only profiles Klaviyo records as SMS SUBSCRIBED may receive "
        "messages. The safest choice where the law requires recorded opt-in (TCPA, GDPR)."
    ),
}


class ConsentPage(QWizardPage):
    """Two choices, each explained, and the table of what Klaviyo's consent becomes here."""

    def __init__(self, wizard: SetupWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle("SMS consent")
        self.setSubTitle("How should Engage treat profiles that have no SMS consent in Klaviyo?")
        self.group = QButtonGroup(self)
        self.buttons: dict[ConsentMode, QRadioButton] = {}
        layout = QVBoxLayout(self)
        for mode, label in (
            (ConsentMode.INFERRED, "&Inferred consent"),
            (ConsentMode.EXPLICIT, "&Explicit consent"),
        ):
            button = QRadioButton(label)
            self.buttons[mode] = button
            self.group.addButton(button)
            text = QLabel(EXPLAIN[mode])
            text.setWordWrap(True)
            text.setContentsMargins(24, 0, 0, 8)
            layout.addWidget(button)
            layout.addWidget(text)
            button.toggled.connect(lambda on, m=mode: self._chosen(m) if on else None)
        layout.addWidget(QLabel("What Klaviyo's SMS consent becomes in Engage:"))
        self.table = QTableWidget(4, 2)
        self.table.setHorizontalHeaderLabels(["Klaviyo SMS consent", "Engage SMS status"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout.addWidget(self.table)
        note = QLabel(
            "A contact who opts out in Engage stays opted out, and Klaviyo is told. Engage "
            "never subscribes anyone in Klaviyo."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        self.region = QComboBox()
        self.region.setAccessibleName("Default country for phone numbers")
        fill_regions(self.region)  # by name ("Eswatini (+268)"); typing a name finds it
        self.region.setCurrentIndex(self.region.findData(wizard.draft.default_region))
        region_label = QLabel("Phone numbers written without a country code are &from:")
        region_label.setBuddy(self.region)
        row = QHBoxLayout()
        row.addWidget(region_label)
        row.addWidget(self.region)
        row.addStretch(1)
        layout.addLayout(row)
        self.region.currentIndexChanged.connect(self._region_chosen)
        chosen = wizard.draft.consent
        if chosen is not None:
            self.buttons[chosen].setChecked(True)
        self._fill(chosen)

    def initializePage(self) -> None:
        chosen = self._wizard.draft.consent
        self.buttons[chosen or ConsentMode.EXPLICIT].setFocus()

    def isComplete(self) -> bool:
        """Consent is the user's choice: Next stays off until one mode is picked."""
        return self._wizard.draft.consent is not None

    def _region_chosen(self) -> None:
        self._wizard.draft = replace(self._wizard.draft, default_region=self.region.currentData())

    def _chosen(self, mode: ConsentMode) -> None:
        self._wizard.draft = replace(self._wizard.draft, consent=mode)
        self._fill(mode)
        self.completeChanged.emit()

    def _fill(self, mode: ConsentMode | None) -> None:
        for row, (klaviyo, status) in enumerate(consent_table(mode or ConsentMode.EXPLICIT)):
            self.table.setItem(row, 0, QTableWidgetItem(klaviyo))
            shown = status.label
            if status is SmsStatus.NEVER_SUBSCRIBED:
                shown += " (not messageable)"
            if mode is None and klaviyo in ("NEVER_SUBSCRIBED", "no SMS consent"):
                shown = "depends on the mode you choose"
            self.table.setItem(row, 1, QTableWidgetItem(shown))
