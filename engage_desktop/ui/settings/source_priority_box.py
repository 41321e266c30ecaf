"""Settings → Source priority: which source's value a contact shows when its sources
disagree. A small list; Alt+Up / Alt+Down (or the buttons) move the current source."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engage_desktop.actions import Changes
from engage_desktop.core.sources import source_label
from engage_desktop.ui.context import AppContext

SOURCE_ROLE = Qt.ItemDataRole.UserRole + 1


class PriorityList(QListWidget):
    """A list whose current item moves with Alt+Up and Alt+Down."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        alt = event.modifiers() & Qt.KeyboardModifier.AltModifier
        if alt and event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            self.move_current(-1 if event.key() == Qt.Key.Key_Up else 1)
            return
        super().keyPressEvent(event)

    def move_current(self, step: int) -> None:
        row = self.currentRow()
        to = row + step
        if row < 0 or not 0 <= to < self.count():
            return
        item = self.takeItem(row)
        self.insertItem(to, item)
        self.setCurrentRow(to)


class SourcePriorityBox(QGroupBox):
    """The order, first first; Save applies it (every merged contact is re-derived)."""

    applied = Signal(object)  # Changes

    def __init__(self, order: tuple[str, ...], parent: QWidget | None = None) -> None:
        super().__init__("Source priority", parent)
        self.saved_order = order
        self.list = PriorityList()
        self.list.setAccessibleName("Source priority, first wins")
        for source in order:
            item = QListWidgetItem(source_label(source))
            item.setData(SOURCE_ROLE, source)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        rows = self.list.sizeHintForRow(0) * max(len(order), 1) + 2 * self.list.frameWidth()
        self.list.setFixedHeight(rows + 4)
        self.up = QPushButton("Move ea&rlier")
        self.down = QPushButton("Move &later")
        note = QLabel(
            "When sources disagree on a field, the first that has a value wins. "
            "Alt+Up and Alt+Down move the selected source."
        )
        note.setWordWrap(True)
        buttons = QVBoxLayout()
        buttons.addWidget(self.up)
        buttons.addWidget(self.down)
        buttons.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.list, 1)
        row.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(note)
        self.up.clicked.connect(lambda: self.list.move_current(-1))
        self.down.clicked.connect(lambda: self.list.move_current(1))

    def order(self) -> tuple[str, ...]:
        return tuple(str(self.list.item(i).data(SOURCE_ROLE)) for i in range(self.list.count()))

    async def apply(self, ctx: AppContext) -> Changes:
        """Save a changed order off the GUI thread; what it changed goes out as `applied`."""
        if self.order() == self.saved_order:
            return Changes()
        done = await ctx.write(ctx.actions.sources.set_priority, self.order())
        self.saved_order = done.priority
        self.applied.emit(done.changes)
        return done.changes
