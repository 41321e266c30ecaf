"""Page 5: the summary; Connect saves everything and starts the first sync."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWizard, QWizardPage

from engage_desktop.actions import ActionError
from engage_desktop.actions.connection import plan_from_draft
from engage_desktop.core.setup import Step, summary_lines
from engage_desktop.storage.database import DatabaseError
from engage_desktop.ui.widgets.busy_bar import busy_bar

if TYPE_CHECKING:
    from engage_desktop.ui.wizard.contacts_page import ContactsPage
    from engage_desktop.ui.wizard.setup_wizard import SetupWizard


def _shown(line: str) -> str:
    """A summary line as HTML: warnings (a key's missing scope, an unresolved mapping warning)
    stand out, so nobody connects past one unread."""
    text = html.escape(line)
    return f"<span style='{WARNING_STYLE}'>{text}</span>" if line.startswith("Warning:") else text


WARNING_STYLE = "color: #8a4b00;"


class FinishPage(QWizardPage):
    """Shows what will be saved; saving runs off the GUI thread, then the wizard closes."""

    def __init__(self, wizard: SetupWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self._saved = False
        self._saving = False
        self.setTitle("Ready to connect")
        self.setSubTitle("Check the summary, then press Connect. Nothing is saved before that.")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.keyring_note = QLabel()
        self.keyring_note.setWordWrap(True)
        self.busy = busy_bar()
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.keyring_note)
        layout.addStretch(1)
        layout.addWidget(self.busy)
        layout.addWidget(self.error)

    def initializePage(self) -> None:
        contacts: ContactsPage = self._wizard.page(Step.CONTACTS)  # type: ignore[assignment]
        lines = summary_lines(self._wizard.draft, contacts.list_names())
        self.summary.setText("<br>".join(map(_shown, lines)))
        self.keyring_note.clear()
        self._wizard.tasks.spawn(self._say_where_the_key_goes())

    async def _say_where_the_key_goes(self) -> None:
        ctx = self._wizard.ctx  # asking the keyring may block (an unlock prompt): not here
        if await ctx.blocking_io(ctx.credentials.keyring_usable):
            self.keyring_note.setStyleSheet("")
            self.keyring_note.setText(
                "The API key goes to your system keyring, never to a file. Your first sync "
                "starts as soon as you connect."
            )
        else:
            self.keyring_note.setStyleSheet(WARNING_STYLE)
            self.keyring_note.setText(
                "This computer has no usable keyring, so the API key cannot be stored: it is "
                "kept only while Engage runs, and after a restart Integrations → Klaviyo asks "
                "for it again. To keep it, unlock or install a keyring (GNOME Keyring, "
                "KWallet); on a server, set KLAVIYO_API_KEY."
            )

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
        self._buttons_enabled(False)  # a save half-way must not be cancelled
        ctx = self._wizard.ctx
        try:
            done = await ctx.write(
                ctx.actions.connection.connect, plan_from_draft(self._wizard.draft)
            )
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
