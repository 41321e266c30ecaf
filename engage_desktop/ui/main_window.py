"""The main window: navigation on the left, one screen at a time. It only composes panels."""

from __future__ import annotations

from enum import IntEnum

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QColor, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from engage_desktop import __version__


class Screen(IntEnum):
    """The screens, in navigation order."""

    NEW_MESSAGE = 0
    CONTACTS = 1
    LISTS = 2
    INTEGRATIONS = 3
    HISTORY = 4
    CAMPAIGNS = 5


NAV = (
    (None, "New Message", Screen.NEW_MESSAGE),
    (None, "Campaigns", Screen.CAMPAIGNS),
    ("Contacts", "All Contacts", Screen.CONTACTS),
    ("Contacts", "Contact Lists", Screen.LISTS),
    ("Extensions", "Integrations", Screen.INTEGRATIONS),
    (None, "Sync history", Screen.HISTORY),
)


DEFAULT_SIZE = (1200, 760)
# Every screen is laid out to work from here up (tests/ui/test_layouts.py checks both sizes).
MINIMUM_SIZE = (900, 600)
FRAME_ROOM = (16, 48)  # what a window manager's frame and title bar take, about


def fitted_size(available: tuple[int, int] | None) -> tuple[int, int]:
    """The window's first size: the default, or what the screen's free area holds with the
    frame around it (a 1280 × 720 laptop), never under the minimum the screens are laid out
    for."""
    if available is None:
        return DEFAULT_SIZE
    return (
        max(MINIMUM_SIZE[0], min(DEFAULT_SIZE[0], available[0] - FRAME_ROOM[0])),
        max(MINIMUM_SIZE[1], min(DEFAULT_SIZE[1], available[1] - FRAME_ROOM[1])),
    )


NAV_PADDING = 76  # the item's indent, padding and margins (resources/style.qss), and a gap


class MainWindow(QMainWindow):
    """Navigation tree + stacked screens + a menu; the app wires what the screens ask for."""

    screen_shown = Signal(int)  # Screen
    close_requested = Signal(QCloseEvent)  # the window's close button: the app decides
    quit_requested = Signal()  # File → Quit: really quit
    settings_requested = Signal()
    import_requested = Signal()  # File → Import contacts…

    def __init__(self, screens: dict[Screen, QWidget], title: str = "Engage Desktop") -> None:
        super().__init__()
        self.setWindowTitle(title)
        self.setMinimumSize(*MINIMUM_SIZE)
        display = QGuiApplication.primaryScreen()
        room = None if display is None else display.availableGeometry().size()
        self.resize(*fitted_size(None if room is None else (room.width(), room.height())))
        self.nav = QTreeWidget()
        self.nav.setHeaderHidden(True)
        self.nav.setRootIsDecorated(False)
        self.nav.setIndentation(14)
        self.nav.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.nav.setAccessibleName("Navigation")
        self.nav.setObjectName("nav")
        self.stack = QStackedWidget()
        self._items: dict[Screen, QTreeWidgetItem] = {}
        self._screens = screens
        groups: dict[str, QTreeWidgetItem] = {}
        for group, label, screen in NAV:
            parent: QTreeWidget | QTreeWidgetItem = self.nav
            if group is not None:
                if group not in groups:
                    head = QTreeWidgetItem(self.nav, [group])
                    head.setFlags(Qt.ItemFlag.ItemIsEnabled)
                    head.setForeground(0, QColor("#8fa0bf"))
                    groups[group] = head
                parent = groups[group]
            item = QTreeWidgetItem(parent, [label])
            item.setData(0, Qt.ItemDataRole.UserRole, int(screen))
            self._items[screen] = item
            self.stack.addWidget(screens[screen])
        self.nav.expandAll()
        widest = max(self.nav.fontMetrics().horizontalAdvance(label) for _, label, _ in NAV)
        self.nav.setFixedWidth(widest + NAV_PADDING)
        # A fixed navigation column and the screen beside it: no splitter, whose grip only
        # offered to open an empty gap between the two.
        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.nav)
        row.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self._menus()
        self.nav.currentItemChanged.connect(self._nav_changed)

    def _menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        import_action = QAction("&Import contacts…", self, shortcut=QKeySequence("Ctrl+I"))
        import_action.triggered.connect(self.import_requested)
        file_menu.addAction(import_action)
        settings = QAction("&Settings…", self)
        settings.setShortcut(QKeySequence.StandardKey.Preferences)
        settings.triggered.connect(self.settings_requested)
        file_menu.addAction(settings)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.quit_requested)
        file_menu.addAction(quit_action)
        go = self.menuBar().addMenu("&Go")
        for n, (_, label, screen) in enumerate(NAV, start=1):
            action = QAction(label, self, shortcut=QKeySequence(f"Ctrl+{n}"))
            action.triggered.connect(lambda _=False, s=screen: self.show_screen(s))
            go.addAction(action)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About Engage Desktop", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def _about(self) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "About Engage Desktop",
            f"<b>Engage Desktop</b> {__version__}<br>Keeps your SMS contacts in step with "
            "Klaviyo: contacts, consent and opt-outs.",
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.open()  # never a nested event loop under qasync
        self.about_box = box

    def show_screen(self, screen: Screen) -> None:
        self.nav.setCurrentItem(self._items[screen])

    def current_screen(self) -> Screen:
        current = self.stack.currentWidget()
        return next(s for s, w in self._screens.items() if w is current)

    def _nav_changed(self, item: QTreeWidgetItem | None) -> None:
        value = None if item is None else item.data(0, Qt.ItemDataRole.UserRole)
        if value is None:
            return
        self.stack.setCurrentWidget(self._screens[Screen(int(value))])
        self.screen_shown.emit(int(value))

    def closeEvent(self, event: QCloseEvent) -> None:
        """The app decides (a running sync, the tray); by default the window closes."""
        self.close_requested.emit(event)
