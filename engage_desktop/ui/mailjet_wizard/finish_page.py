"""Page 6: the summary; Connect saves the connection and starts a sync of every source."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWizard, QWizardPage

from engage_desktop.actions import ActionError, NeedsConfirmation
from engage_desktop.core.consent import ConsentMode
from engage_desktop.core.words import plural
from engage_desktop.storage.database import DatabaseError
from engage_desktop.ui.mailjet_wizard.draft import MailjetDraft
from engage_desktop.ui.widgets.busy_bar import busy_bar

if TYPE_CHECKING:
    from engage_desktop.ui.mailjet_wizard.mailjet_wizard import MailjetWizard

WARNING_STYLE = "color: #8a4b00;"


def summary_lines(draft: MailjetDraft) -> list[str]:
    """What Connect will save, in words."""
    v = draft.verified
    assert v is not None
    names = {i: n for i, n, _ in draft.list_names}
    if draft.lists == "all":
        lists = "every list, including lists added later"
    else:
        lists = ", ".join(names.get(i, i) for i in draft.lists)
    consent = (
        "Inferred (contacts with a number may be messaged"
        + (f" unless '{draft.consent_property}' is false)" if draft.consent_property else ")")
        if draft.consent is ConsentMode.INFERRED
        else f"Explicit (only contacts whose '{draft.consent_property}' is true)"
    )
    lines = [
        f"Account: {plural(v.contacts, 'contact')} in {plural(v.lists, 'list')} "
        f"(key {v.keys.hint})",
        f"Phone numbers from the property: {draft.phone_property}",
        f"SMS consent: {consent}",
        f"Lists: {lists}",
        "Fields: "
        + (", ".join(f"{m.name} ← {m.path}" for m in draft.mappings) or "names and phone only"),
    ]
    lines += [f"Warning: {w}" for w in draft.mapping_warnings]
    return lines


class MailjetFinishPage(QWizardPage):
    """Shows what will be saved; saving runs off the GUI thread, then the wizard closes."""

    def __init__(self, wizard: MailjetWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self._saved = self._saving = False
        self._confirmed = False  # a widening change said, then Connect again confirms it
        self.setTitle("Ready to connect")
        self.setSubTitle("Check the summary, then press Connect. Nothing is saved before that.")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.busy = busy_bar()
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addStretch(1)
        layout.addWidget(self.busy)
        layout.addWidget(self.error)

    def initializePage(self) -> None:
        lines = summary_lines(self._wizard.draft)
        shown = [
            f"<span style='{WARNING_STYLE}'>{html.escape(x)}</span>"
            if x.startswith("Warning:")
            else html.escape(x)
            for x in lines
        ]
        self.summary.setText(
            "<br>".join(shown) + "<br><br>The keys go to your system keyring, never to a file. "
            "A sync of every connected source starts as soon as you connect."
        )
        self.error.clear()
        self._confirmed = False

    def validatePage(self) -> bool:
        if self._saved:
            return True
        if not self._saving:
            self._wizard.tasks.spawn(self._save())
        return False

    async def _save(self) -> None:
        self._saving = True
        self.busy.show()
        self.error.clear()
        self._buttons_enabled(False)
        ctx = self._wizard.ctx
        try:
            plan = self._wizard.draft.plan()
            done = await ctx.write(ctx.actions.mailjet.connect, plan, self._confirmed)
        except NeedsConfirmation as exc:
            self._confirmed = True
            self.error.setText(f"{exc.message} Press Connect again to go ahead.")
            return
        except ActionError as exc:
            self.error.setText(exc.message)
            return
        except (DatabaseError, OSError) as exc:
            self.error.setText(f"Could not save the connection: {exc}. Nothing was changed.")
            return
        finally:
            self._saving = False
            self.busy.hide()
            self._buttons_enabled(True)
        self._saved = True
        self._wizard.report_connected(done)
        self._wizard.accept()

    def _buttons_enabled(self, on: bool) -> None:
        for which in (
            QWizard.WizardButton.FinishButton,
            QWizard.WizardButton.CancelButton,
            QWizard.WizardButton.BackButton,
        ):
            self._wizard.button(which).setEnabled(on)
