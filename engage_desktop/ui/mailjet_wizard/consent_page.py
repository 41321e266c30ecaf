"""Page 3: the SMS consent rule — Inferred, or Explicit from a true/false property."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QVBoxLayout,
    QWizardPage,
)

from engage_desktop.actions.mailjet import PropertySample
from engage_desktop.core.consent import ConsentMode
from engage_desktop.ui.mailjet_wizard.draft import consent_problem

if TYPE_CHECKING:
    from engage_desktop.ui.mailjet_wizard.mailjet_wizard import MailjetWizard

EXPLAIN = {
    ConsentMode.INFERRED: (
        "<b>Inferred consent</b> — every Mailjet contact with a phone number may receive "
        "messages, unless the consent property below says false (an opt-out)."
    ),
    ConsentMode.EXPLICIT: (
        "<b>Explicit consent</b> — only contacts whose consent property says true may receive "
        "messages. The safest choice where the law requires recorded opt-in."
    ),
}


def consent_words(p: PropertySample) -> str:
    """'flag (bool): 120 true, 40 false of 160 values'."""
    return f"{p.name} ({p.datatype}): {p.true} true, {p.false} false of {p.filled} values"


class MailjetConsentPage(QWizardPage):
    """Two choices and the property that records consent (required for Explicit)."""

    def __init__(self, wizard: MailjetWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle("SMS consent")
        self.setSubTitle(
            "Mailjet has no SMS consent of its own. Which contacts may Engage message?"
        )
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
            button.toggled.connect(lambda on, m=mode: self._mode_chosen(m) if on else None)
        self.consent_property = QComboBox()
        self.consent_property.setAccessibleName("SMS consent property")
        property_label = QLabel("SMS consent &property:")
        property_label.setBuddy(self.consent_property)
        row = QHBoxLayout()
        row.addWidget(property_label)
        row.addWidget(self.consent_property, 1)
        layout.addLayout(row)
        note = QLabel(
            "true: subscribed; false: opted out, for the number everywhere (Klaviyo is told). "
            "Mailjet records no time for a value, so a Mailjet true never lifts an opt-out."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #b00020;")
        self.problem.setWordWrap(True)
        layout.addWidget(self.problem)
        layout.addStretch(1)
        self.consent_property.currentIndexChanged.connect(self._property_chosen)

    def initializePage(self) -> None:
        draft = self._wizard.draft
        self.consent_property.blockSignals(True)
        self.consent_property.clear()
        self.consent_property.addItem("(none)", None)
        # Properties whose values read as true/false first: those are candidates.
        ranked = sorted(
            draft.properties, key=lambda p: (-(p.true + p.false), p.datatype != "bool", p.name)
        )
        for p in ranked:
            if p.name != draft.phone_property:
                self.consent_property.addItem(consent_words(p), p.name)
        self.consent_property.setCurrentIndex(
            max(self.consent_property.findData(draft.consent_property), 0)
        )
        self.consent_property.blockSignals(False)
        self.buttons[draft.consent or ConsentMode.EXPLICIT].setFocus()
        self._update()

    def isComplete(self) -> bool:
        return consent_problem(self._wizard.draft) is None

    def _mode_chosen(self, mode: ConsentMode) -> None:
        self._wizard.draft = replace(self._wizard.draft, consent=mode)
        if mode is ConsentMode.EXPLICIT and self.consent_property.currentData() is None:
            best = self._best()
            if best is not None:
                self.consent_property.setCurrentIndex(self.consent_property.findData(best))
        self._update()

    def _best(self) -> str | None:
        """The property whose values read as true/false most often, if any do."""
        props = [p for p in self._wizard.draft.properties if p.true + p.false > 0]
        props = [p for p in props if p.name != self._wizard.draft.phone_property]
        return max(props, key=lambda p: p.true + p.false).name if props else None

    def _property_chosen(self) -> None:
        self._wizard.draft = replace(
            self._wizard.draft, consent_property=self.consent_property.currentData()
        )
        self._update()

    def _update(self) -> None:
        draft = self._wizard.draft
        self.problem.setText(consent_problem(draft) or "" if draft.consent else "")
        self.completeChanged.emit()
