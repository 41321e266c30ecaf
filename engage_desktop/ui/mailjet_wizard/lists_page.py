"""Page 4: the Mailjet lists to sync, with their sizes."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWizardPage,
)

from engage_desktop.actions import ActionError
from engage_desktop.core.words import plural
from engage_desktop.ui.mailjet_wizard.draft import lists_problem
from engage_desktop.ui.widgets.busy_bar import busy_bar

if TYPE_CHECKING:
    from engage_desktop.ui.mailjet_wizard.mailjet_wizard import MailjetWizard

ID_ROLE = Qt.ItemDataRole.UserRole + 1


class MailjetListsPage(QWizardPage):
    """Checkboxes, one per list (Space toggles), or every list including later ones."""

    def __init__(self, wizard: MailjetWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self._loaded_for: str | None = None
        self.setTitle("Lists")
        self.setSubTitle(
            "Contacts of the chosen lists become Engage contacts (source Mailjet); each list "
            "is a group, such as 'Mailjet: Newsletter'. A number already known from Klaviyo "
            "or a file joins that contact."
        )
        self.every = QCheckBox("&Every list, including lists added later")
        self.lists = QListWidget()
        self.lists.setAccessibleName("Mailjet lists")
        self.busy = busy_bar()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.retry = QPushButton("&Try again")
        self.retry.hide()
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #b00020;")
        layout = QVBoxLayout(self)
        layout.addWidget(self.every)
        layout.addWidget(self.lists, 1)
        layout.addWidget(self.busy)
        layout.addWidget(self.status)
        layout.addWidget(self.retry, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.problem)
        self.every.toggled.connect(self._changed)
        self.lists.itemChanged.connect(self._changed)
        self.retry.clicked.connect(self._load)

    def initializePage(self) -> None:
        verified = self._wizard.draft.verified
        if verified is not None and self._loaded_for != verified.keys.ref:
            self._loaded_for = verified.keys.ref
            self._load()
        self.lists.setFocus()

    def isComplete(self) -> bool:
        return self.lists.count() > 0 and lists_problem(self._wizard.draft) is None

    def _load(self) -> None:
        self._wizard.tasks.spawn(self._read())

    async def _read(self) -> None:
        verified = self._wizard.draft.verified
        assert verified is not None
        self.retry.hide()
        self.busy.show()
        self.status.setText("Reading your Mailjet lists…")
        try:
            found = await self._wizard.ctx.actions.mailjet.lists(verified)
        except ActionError as exc:
            self.busy.hide()
            self.status.setText(f"Could not read the lists: {exc.message}")
            self.retry.show()
            return
        self.busy.hide()
        self.lists.blockSignals(True)
        self.lists.clear()
        for lst in found:
            size = lst.member_count
            count = "size unknown" if size is None else plural(size, "subscriber")
            item = QListWidgetItem(f"{lst.name}   ({count})")
            item.setData(ID_ROLE, lst.external_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.lists.addItem(item)
        self.lists.blockSignals(False)
        if self.lists.count():
            self.lists.setCurrentRow(0)
        self._wizard.draft = replace(
            self._wizard.draft,
            list_names=tuple((x.external_id, x.name, x.member_count or 0) for x in found),
        )
        self.status.setText(
            f"{plural(len(found), 'list')} in this account."
            if found
            else "This account has no lists."
        )
        self._changed()

    def _changed(self) -> None:
        every = self.every.isChecked()
        self.lists.setEnabled(not every)
        chosen = tuple(
            str(self.lists.item(i).data(ID_ROLE))
            for i in range(self.lists.count())
            if self.lists.item(i).checkState() == Qt.CheckState.Checked
        )
        self._wizard.draft = replace(self._wizard.draft, lists="all" if every else chosen)
        loaded = self.lists.count() > 0
        self.problem.setText((lists_problem(self._wizard.draft) or "") if loaded else "")
        self.completeChanged.emit()
