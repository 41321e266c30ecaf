"""The field-mapping editor: the table, "+ Map more fields", completers and the summary line."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from engage_desktop.core.fields import FieldType
from engage_desktop.core.mapping import STANDARD_ATTRIBUTES, MappingSpec, discovered_paths
from engage_desktop.ui.widgets.mapping_model import (
    NAME,
    NOTES,
    PATH,
    TYPE,
    TYPE_LABELS,
    MappingTableModel,
)
from engage_desktop.ui.widgets.read_only_table import Index

COMPLETION_ROLE = Qt.ItemDataRole.UserRole + 1


class _MappingDelegate(QStyledItemDelegate):
    """Editors per column: field names and Klaviyo paths with completers, a type combo box."""

    def __init__(self, editor: MappingEditor) -> None:
        super().__init__(editor)
        self._editor = editor

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:
        if index.column() == TYPE:
            box = QComboBox(parent)
            box.addItems(list(TYPE_LABELS.values()))
            return box
        line = QLineEdit(parent)
        completer = QCompleter(
            self._editor.path_choices if index.column() == PATH else self._editor.field_choices,
            line,
        )
        completer.setCompletionRole(COMPLETION_ROLE)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        line.setCompleter(completer)
        return line

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        value = str(index.data(Qt.ItemDataRole.EditRole) or "")
        if isinstance(editor, QComboBox):
            editor.setCurrentText(value)
        elif isinstance(editor, QLineEdit):
            editor.setText(value)

    def setModelData(self, editor: QWidget, model: Any, index: Index) -> None:
        if isinstance(editor, QComboBox):
            model.setData(index, editor.currentText())
        elif isinstance(editor, QLineEdit):
            model.setData(index, editor.text())


class MappingEditor(QWidget):
    """Edits the custom mappings; `changed` whenever rows, warnings or errors change."""

    changed = Signal()

    def __init__(
        self, existing_fields: dict[str, FieldType] | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.model = MappingTableModel(existing_fields)
        self.path_choices = QStandardItemModel(self)
        self.field_choices = QStandardItemModel(self)
        self._fill_fields(existing_fields or {})
        self.set_discovered({}, 0)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setItemDelegate(_MappingDelegate(self))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(NOTES, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(NAME, 170)
        self.table.setColumnWidth(TYPE, 90)
        self.table.setColumnWidth(PATH, 220)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table, arrows move in it

        self.add = QPushButton("+ &Map more fields")
        self.remove = QPushButton("&Remove mapping")
        self.remove.setEnabled(False)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.sample_note = QLabel()
        self.sample_note.setWordWrap(True)

        buttons = QHBoxLayout()
        buttons.addWidget(self.add)
        buttons.addWidget(self.remove)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.sample_note)
        layout.addWidget(self.summary)

        self.add.clicked.connect(self.add_mapping)
        self.remove.clicked.connect(self.remove_selected)
        QShortcut(QKeySequence.StandardKey.Delete, self.table, self.remove_selected)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.model.dataChanged.connect(self._model_changed)
        self.model.rowsInserted.connect(self._model_changed)
        self.model.rowsRemoved.connect(self._model_changed)
        self.model.modelReset.connect(self._model_changed)
        self._model_changed()

    # ----- actions -------------------------------------------------------------------------
    def add_mapping(self) -> None:
        row = self.model.add_row()
        index = self.model.index(row, NAME)
        self.table.setCurrentIndex(index)
        self.table.edit(index)

    def remove_selected(self) -> None:
        index = self.table.currentIndex()
        if index.isValid():
            self.model.remove_row(index.row())

    def _selection_changed(self) -> None:
        index = self.table.currentIndex()
        self.remove.setEnabled(index.isValid() and not self.model.is_builtin(index.row()))

    # ----- data ----------------------------------------------------------------------------
    def set_mappings(self, specs: list[MappingSpec]) -> None:
        self.model.set_mappings(specs)

    def mappings(self) -> list[MappingSpec]:
        return self.model.mappings()

    def set_sample(self, sample: list[dict[str, Any]]) -> None:
        """Profiles sampled from the chosen lists: feeds completions and warnings."""
        seen = discovered_paths(sample)
        self.set_discovered(seen, len(sample))
        self.model.set_sample(sample, [*STANDARD_ATTRIBUTES, *seen])
        self.sample_note.setText(
            f"Klaviyo fields found by sampling {len(sample)} profiles of the chosen lists: "
            f"{len(seen)} custom properties."
            if sample
            else "No profiles to sample: type the Klaviyo field names exactly."
        )

    def set_discovered(self, seen: dict[str, int], sampled: int) -> None:
        self.path_choices.clear()
        for path in STANDARD_ATTRIBUTES:
            self._choice(self.path_choices, path, f"{path}    (standard attribute)")
        for path, n in seen.items():
            self._choice(self.path_choices, path, f"{path}    (seen on {n} of {sampled} sampled)")

    def _fill_fields(self, existing: dict[str, FieldType]) -> None:
        for name, kind in existing.items():
            self._choice(self.field_choices, name, f"{name}    ({TYPE_LABELS[kind]})")

    @staticmethod
    def _choice(model: QStandardItemModel, value: str, shown: str) -> None:
        item = QStandardItem(shown)
        item.setData(value, COMPLETION_ROLE)
        model.appendRow(item)

    def _model_changed(self, *_: object) -> None:
        errors, warnings = self.model.errors(), self.model.warnings()
        parts = []
        if errors:
            parts.append(
                f"<span style='color:#b00020'>{len(errors)} error"
                f"{'s' if len(errors) != 1 else ''} to fix: {errors[0]}</span>"
            )
        if warnings:
            parts.append(
                f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''} (you can still "
                f"continue): {warnings[0]}"
            )
        self.summary.setText("<br>".join(parts) or "No problems found.")
        self.changed.emit()
