"""Import page 2: what each column holds (guessed, editable) and the group's name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWizardPage,
)

from engage_desktop.actions import ActionError
from engage_desktop.core.fields import FieldType
from engage_desktop.core.groups import group_name
from engage_desktop.core.sources import CSV
from engage_desktop.imports.columns import Column, Role
from engage_desktop.ui.widgets.busy_bar import busy_bar

if TYPE_CHECKING:
    from engage_desktop.ui.imports.import_wizard import ImportWizard

ROLES = {
    Role.PHONE: "Phone number",
    Role.EMAIL: "Email",
    Role.FIRST_NAME: "First name",
    Role.LAST_NAME: "Last name",
    Role.NAME: "Full name",
    Role.OPTED_OUT: "Opted out (yes/no)",
    Role.SUBSCRIBED: "Subscribed to SMS (yes/no)",
    Role.FIELD: "Field",
    Role.SKIP: "Skip",
}
TYPES = {FieldType.TEXT: "Text", FieldType.NUMBER: "Number", FieldType.DATE: "Date"}
HEADERS = ("Column", "Sample values", "Holds", "Field", "Type")
ONE_COLUMN_ROLES = set(Role) - {Role.FIELD, Role.SKIP}


def column_spec(index: int, role: Role, field: str, kind: FieldType) -> str:
    """The `COLUMN=FIELD` mapping (by 1-based position) the import applies."""
    if role is Role.FIELD:
        return f"{index + 1}={field}:{kind.value}"
    return f"{index + 1}={role.value}"


class ColumnsPage(QWizardPage):
    """One row per column: its header, sampled values, and a role, field and type to edit.
    A role taken by one column leaves any other (Skip)."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self._ready = False
        self._checking = False
        self.setTitle("Columns and group")
        self.setSubTitle(
            "Check what each column holds. Rows are merged with existing contacts by phone "
            "number; the contacts join the group you name."
        )
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setAccessibleName("Columns of the file")
        self.table.verticalHeader().hide()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.group = QLineEdit()
        self.group.setAccessibleName("Group name")
        self.group_hint = QLabel()
        group_label = QLabel("&Group:")
        group_label.setBuddy(self.group)
        row = QHBoxLayout()
        row.addWidget(group_label)
        row.addWidget(self.group, 1)
        row.addWidget(self.group_hint)
        self.busy = busy_bar()
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(self.busy)
        layout.addWidget(self.error)
        self.group.textChanged.connect(self._changed)
        self.roles: list[QComboBox] = []
        self.fields: list[QLineEdit] = []
        self.types: list[QComboBox] = []

    def initializePage(self) -> None:
        preview = self._wizard.preview
        assert preview is not None and self._wizard.path is not None
        self._ready = False
        self.table.setRowCount(len(preview.columns))
        self.roles, self.fields, self.types = [], [], []
        for r, col in enumerate(preview.columns):
            c = col.column
            name = QTableWidgetItem(c.header or f"Column {c.index + 1}")
            samples = ", ".join(col.samples) or "(empty)"
            if col.phones:
                samples = f"{col.phones} of {col.filled} read as phone numbers — {samples}"
            self.table.setItem(r, 0, name)
            self.table.setItem(r, 1, QTableWidgetItem(samples))
            self._editors(r, c)
        self.table.resizeColumnToContents(0)
        metrics = self.table.fontMetrics()
        widest = max(metrics.horizontalAdvance(label) for label in ROLES.values())
        self.table.setColumnWidth(2, widest + 48)  # the combo box's arrow and margins
        self.table.setColumnWidth(3, metrics.horizontalAdvance("Badge scans") + 40)
        self.table.setColumnWidth(4, metrics.horizontalAdvance("Number") + 48)
        if not self.group.text():
            self.group.setText(self._wizard.path.stem.replace("_", " ").replace("-", " "))
        self._ready = True
        self._changed()
        self.table.setFocus()

    def _editors(self, r: int, c: Column) -> None:
        role = QComboBox()
        role.setAccessibleName(f"What column {c.header or c.index + 1} holds")
        for value, label in ROLES.items():
            role.addItem(label, value.value)  # Qt keeps a str subclass as a plain str
        role.setCurrentIndex(role.findData(c.role.value))
        field = QLineEdit(c.field or c.header)
        field.setAccessibleName(f"Field for column {c.header or c.index + 1}")
        kind = QComboBox()
        for ftype, label in TYPES.items():
            kind.addItem(label, ftype.value)
        kind.setCurrentIndex(kind.findData(c.type.value))
        self.table.setCellWidget(r, 2, role)
        self.table.setCellWidget(r, 3, field)
        self.table.setCellWidget(r, 4, kind)
        self.roles.append(role)
        self.fields.append(field)
        self.types.append(kind)
        role.currentIndexChanged.connect(lambda _, at=r: self._role_changed(at))
        field.textChanged.connect(self._changed)
        kind.currentIndexChanged.connect(self._changed)

    def role(self, i: int) -> Role:
        return Role(self.roles[i].currentData())

    def _role_changed(self, at: int) -> None:
        role = self.role(at)
        if role in ONE_COLUMN_ROLES:
            for i, other in enumerate(self.roles):
                if i != at and self.role(i) is role:
                    other.setCurrentIndex(other.findData(Role.SKIP.value))
        self._changed()

    def maps(self) -> tuple[str, ...]:
        return tuple(
            column_spec(i, self.role(i), self.fields[i].text().strip(),
                        FieldType(self.types[i].currentData()))
            for i in range(len(self.roles))
        )  # fmt: skip

    def problem(self) -> str | None:
        chosen = [self.role(i) for i in range(len(self.roles))]
        if Role.PHONE not in chosen:
            return "Choose the column that holds the phone numbers."
        if not self.group.text().strip():
            return "Name the group the contacts join."
        for i, role in enumerate(chosen):
            if role is Role.FIELD and not self.fields[i].text().strip():
                return f"Name the field for column {i + 1}, or skip it."
        return None

    def _changed(self) -> None:
        if not self._ready:
            return
        for i in range(len(self.roles)):
            on = self.role(i) is Role.FIELD
            self.fields[i].setEnabled(on)
            self.types[i].setEnabled(on)
        name = self.group.text().strip()
        self.group_hint.setText(f"contacts join “{group_name(CSV, name)}”" if name else "")
        self.error.setText(self.problem() or "")
        self._wizard.prepared = None
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self._ready and self.problem() is None and not self._checking

    def validatePage(self) -> bool:
        """The plan is checked by the same rules the import uses, off the GUI thread."""
        if self._wizard.prepared is not None:
            return True
        if not self._checking:
            self._wizard.tasks.spawn(self._prepare())
        return False

    async def _prepare(self) -> None:
        w = self._wizard
        assert w.path is not None
        self._checking = True
        self.completeChanged.emit()
        self.busy.show()
        maps = self.maps()
        try:
            w.prepared = await w.ctx.read(
                w.ctx.actions.imports.prepare, w.path, self.group.text(), maps
            )
            w.maps = maps
        except ActionError as exc:
            self.error.setText(exc.message)
            return
        finally:
            self._checking = False
            self.busy.hide()
            self.completeChanged.emit()
        w.next()
