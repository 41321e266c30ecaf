"""Layouts that fit, at the default window size and at the smallest: headers in full, no
horizontal scrolling, the essential columns on screen, detail values never broken mid-word.
Each case leaves a screenshot (rendered offscreen) in the temp folder to look at."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QGroupBox,
    QLabel,
    QSplitter,
    QTabBar,
    QTableView,
    QWidget,
)
from pytestqt.qtbot import QtBot

from engage_desktop.app import EngageApp, apply_theme
from engage_desktop.storage.contact_table import ContactQuery, ContactTable
from engage_desktop.storage.database import Database
from engage_desktop.storage.runs import RunRepo
from engage_desktop.ui.contacts.contacts_model import ContactsTableModel
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.main_window import DEFAULT_SIZE, MINIMUM_SIZE, Screen, fitted_size
from engage_desktop.ui.widgets.phone_text import phone_text
from engage_desktop.ui.widgets.read_only_table import ColumnFitter, row_view
from tests.ui.bulk import fill_contacts

SHOTS = Path(tempfile.gettempdir()) / "engage-layouts"
SIZES = [DEFAULT_SIZE, MINIMUM_SIZE]
HEADER_PADDING = 16  # resources/style.qss: QHeaderView::section { padding: 5px 8px }
LONG = 7  # the contact the pane shows: the longest name, email and list names here


def realistic(db: Database) -> None:
    """Names, numbers, emails and lists as a real account has them (accents, long
    addresses, three countries, two sources, long list names)."""
    fill_contacts(db, 400, lists=0)
    people = [
        (
            "Ana-Lucía",
            "van der Berg",
            "+12127601000",
            "ana-lucia.van-der-berg1234@corp.example.com",
        ),
        ("Łukasz", "Kowalczyk", "+442079460958", "lukasz.kowalczyk88@mail.example.org"),
        ("Søren", "Øvergaard", "+41446681800", "soren.overgaard@shop.example"),
        ("Siobhán", "O'Brien", None, "siobhan.obrien@example.net"),
    ]
    for n, (first, last, phone, email) in enumerate(people, start=LONG):
        db.execute_sql(
            "UPDATE contacts SET first_name = ?, last_name = ?, phone = ?, email = ?,"
            " sms_status = 'never_subscribed' WHERE id = ?",
            (first, last, phone, email, n),
        )
    for k, (source, name) in enumerate(
        [
            ("KLAVIYO", "Klaviyo: Black Friday 2025 — early access"),
            ("KLAVIYO", "Klaviyo: SMS Subscribers"),
            ("MAILJET", "Mailjet: Newsletter (English)"),
        ],
        start=1,
    ):
        db.execute_sql(
            "INSERT INTO contact_lists (id, source, external_id, name, member_count)"
            " VALUES (?, ?, ?, ?, 1200000)",
            (k, source, f"L{k}", name),
        )
        db.execute_sql(
            "INSERT INTO list_members (list_id, contact_id) SELECT ?, id FROM contacts"
            " WHERE id % ? = 1",
            (k, k + 1),
        )
    db.execute_sql(
        "INSERT INTO contact_sources (contact_id, source, external_id)"
        " SELECT id, 'MAILJET', 'M' || id FROM contacts WHERE id % 5 = 2"
    )


@pytest.fixture
def engage(
    qtbot: QtBot, qapp: QApplication, ctx: AppContext, tmp_path: Path
) -> Iterator[EngageApp]:
    realistic(ctx.db)
    style = qapp.styleSheet()
    apply_theme(qapp)  # the app's own look: its paddings and bold headers take room
    app = EngageApp(ctx, tmp_path)
    qtbot.addWidget(app.window)
    app.start()
    app.window.show_screen(Screen.CONTACTS)
    contacts = app.contacts
    qtbot.waitUntil(lambda: contacts.model.rowCount() == 400, timeout=10000)
    qtbot.waitUntil(lambda: len(app.lists.model.rows) == 3, timeout=10000)
    contacts.select_contact(LONG)
    yield app
    app.stop()
    qapp.setStyleSheet(style)


def show(qtbot: QtBot, engage: EngageApp, screen: Screen, size: tuple[int, int]) -> QWidget:
    window = engage.window
    window.resize(*size)
    window.show_screen(screen)
    qtbot.waitUntil(lambda: window.size().toTuple() == size, timeout=5000)
    qtbot.wait(50)  # layouts and the column fitting settle on posted events
    SHOTS.mkdir(exist_ok=True)
    window.grab().save(str(SHOTS / f"{screen.name.lower()}_{size[0]}x{size[1]}.png"))
    return window


def check_headers(view: QTableView) -> None:
    """Every shown header reads in full (bold, padded), the sort arrow included."""
    header = view.horizontalHeader()
    bold = QFont(header.font())
    bold.setWeight(QFont.Weight.DemiBold)
    metrics = QFontMetrics(bold)
    model = view.model()
    for i in range(header.count()):
        if header.isSectionHidden(i):
            continue
        text = model.headerData(i, header.orientation())
        needed = metrics.horizontalAdvance(text) + HEADER_PADDING
        if header.isSortIndicatorShown() and header.sortIndicatorSection() == i:
            needed += 12
        assert header.sectionSize(i) >= needed, f"{text!r} is cut"


def on_screen(view: QTableView, columns: list[int]) -> None:
    """These columns are shown, and all of each lies within the view."""
    header = view.horizontalHeader()
    for i in columns:
        assert not header.isSectionHidden(i), view.model().headerData(i, header.orientation())
        right = header.sectionViewportPosition(i) + header.sectionSize(i)
        assert header.sectionViewportPosition(i) >= 0 and right <= view.viewport().width()


def inside(widget: QWidget, window: QWidget) -> bool:
    rect = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
    return widget.isVisible() and window.rect().contains(rect)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_all_contacts_fits(qtbot: QtBot, engage: EngageApp, size: tuple[int, int]) -> None:
    window = show(qtbot, engage, Screen.CONTACTS, size)
    screen = engage.contacts
    view = screen.view
    check_headers(view)
    assert not view.horizontalScrollBar().isVisible()
    everything = list(range(screen.model.columnCount()))
    essential = [0, 1, 3]  # name, phone, SMS status
    on_screen(view, everything if size == DEFAULT_SIZE else essential)
    assert inside(screen.detail.opt_out, window) and inside(screen.count, window)
    assert not screen.findChildren(QSplitter)  # no stray grip between table and pane

    # the pane: values read as one piece are never broken, nothing runs off to the side
    text = screen.detail.text
    assert not text.horizontalScrollBar().isVisible()
    tokens = [phone_text("+12127601000"), "Never subscribed"]
    email = "ana-lucia.van-der-berg1234@corp.example.com"
    blocks = {}
    block = text.document().begin()
    while block.isValid():
        # (a nowrap paragraph holds its spaces as no-break spaces)
        blocks[block.text().replace("\xa0", " ")] = block.layout().lineCount()
        block = block.next()
    assert all(blocks.get(t) == 1 for t in tokens), blocks
    # the email: on one line, or (in a narrow pane) broken after its @ and nowhere else
    local, domain = email.split("@")
    assert blocks.get(email) == 1 or blocks.get(local + "@") == blocks.get(domain) == 1
    assert text.toPlainText().startswith("Ana-Lucía van der Berg")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_contact_lists_fit(qtbot: QtBot, engage: EngageApp, size: tuple[int, int]) -> None:
    show(qtbot, engage, Screen.LISTS, size)
    view = engage.lists.view
    check_headers(view)  # "Size in source" once read "ize in sourc"
    assert not view.horizontalScrollBar().isVisible()
    on_screen(view, list(range(engage.lists.model.columnCount())))
    assert engage.lists.model.data(engage.lists.model.index(0, 1)) == "Klaviyo"


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_sync_history_fits(qtbot: QtBot, engage: EngageApp, size: tuple[int, int]) -> None:
    """Runs and imports, their counts without sideways scrolling (at 900 px it once needed
    it: the least needed counts go first)."""
    runs = RunRepo(engage.ctx.db)
    run = runs.start("manual", True, 1.7e9)
    runs.finish(run, "succeeded", {"created": 123456, "updated": 1234}, 1.7e9 + 3)
    engage.ctx.db.execute_sql(
        "INSERT INTO csv_imports (group_key, group_name, file_name, started_at, ended_at,"
        " status, counts) VALUES ('fair', 'Fair', 'fair.csv', 1.8e9, 1.8e9, 'succeeded',"
        ' \'{"new": 12, "merged": 3, "problems": 2}\')'
    )
    engage.history.reload()
    show(qtbot, engage, Screen.HISTORY, size)
    view = engage.history.runs_view
    check_headers(view)
    assert not view.horizontalScrollBar().isVisible()
    headers = [
        engage.history.runs.headerData(c, Qt.Orientation.Horizontal)
        for c in range(view.model().columnCount())
    ]
    essential = [
        headers.index(h) for h in ("#", "Started", "Status", "Created", "Updated", "Issues")
    ]
    on_screen(view, essential)
    assert engage.history.runs.data(engage.history.runs.index(0, 0)) == "i1"


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_new_message_fits(qtbot: QtBot, engage: EngageApp, size: tuple[int, int]) -> None:
    window = show(qtbot, engage, Screen.NEW_MESSAGE, size)
    message = engage.message
    qtbot.waitUntil(lambda: hasattr(message, "recipients"), timeout=5000)
    for widget in (message.list_choice, message.audience, message.editor, message.send):
        assert inside(widget, window)
    assert message.editor.height() > 150
    assert "of 400 contacts will receive it" in message.audience.text()


def test_the_first_size_fits_the_screen_it_opens_on() -> None:
    assert fitted_size(None) == DEFAULT_SIZE
    assert fitted_size((1920, 1050)) == DEFAULT_SIZE
    assert fitted_size((1280, 690)) == (1200, 642)  # a 1280 x 720 laptop, its panel shown
    assert fitted_size((1024, 600)) == (1008, 600)  # smaller than the screens allow: the least
    assert fitted_size((800, 480)) == MINIMUM_SIZE


def test_the_window_has_a_minimum_and_no_splitter(qtbot: QtBot, engage: EngageApp) -> None:
    window = engage.window
    assert window.minimumSize().toTuple() == MINIMUM_SIZE
    window.resize(700, 400)
    assert window.size().width() >= MINIMUM_SIZE[0] and window.size().height() >= MINIMUM_SIZE[1]
    central = window.centralWidget()
    assert not isinstance(central, QSplitter)  # whose grip opened an empty gap
    assert window.nav.parentWidget() is central and window.stack.parentWidget() is central
    assert window.nav.width() < 200  # the navigation leaves the room to the screens


def test_narrow_tables_give_up_the_least_needed_columns_first(qtbot: QtBot, db: Database) -> None:
    fill_contacts(db, 50)
    table = ContactTable(db)
    model = ContactsTableModel(table)
    model.set_snapshot(table.ids(ContactQuery()))
    view = row_view(model)
    qtbot.addWidget(view)
    fitter = ColumnFitter(view, model.columns)
    view.show()
    header = view.horizontalHeader()
    least = fitter.least()
    gone: list[list[str]] = []
    for width in range(sum(least) + 200, 300, -40):
        view.resize(width, 300)
        qtbot.waitUntil(lambda w=width: view.width() == w, timeout=2000)
        fitter.fit()
        hidden = [c.header for i, c in enumerate(model.columns) if header.isSectionHidden(i)]
        if not gone or hidden != gone[-1]:
            gone.append(hidden)
        shown = [i for i in range(len(least)) if not header.isSectionHidden(i)]
        used = sum(header.sectionSize(i) for i in shown)
        essentials = sum(least[i] for i in (0, 1, 3))
        if essentials <= view.viewport().width():
            assert used == view.viewport().width()  # the width is used, and no more
        assert all(header.sectionSize(i) >= least[i] for i in shown)
    assert gone == [
        [],
        ["Sources"],
        ["Sources", "Updated"],
        ["Sources", "Groups", "Updated"],
        ["Email", "Sources", "Groups", "Updated"],
    ]


def test_no_two_things_on_a_screen_share_an_alt_letter(qtbot: QtBot, engage: EngageApp) -> None:
    """Menus, the status panel and each screen together: Alt+letter reaches one thing."""
    window = engage.window
    menus = [a.text() for a in window.menuBar().actions()]
    for screen in Screen:
        window.show_screen(screen)
        qtbot.wait(20)
        texts = menus + alt_texts(window)
        letters = [m.group(1).lower() for t in texts if (m := re.search(r"&([^&\s])", t))]
        doubled = sorted({x for x in letters if letters.count(x) > 1})
        assert not doubled, f"{screen.name}: Alt+{', Alt+'.join(doubled)} used twice ({texts})"


def alt_texts(root: QWidget) -> list[str]:
    """What shows an Alt letter: buttons, labels with a buddy, group boxes, tabs."""
    texts: list[str] = []
    for w in root.findChildren(QWidget):
        if not w.isVisible():
            continue
        if isinstance(w, QAbstractButton) or (isinstance(w, QLabel) and w.buddy() is not None):
            texts.append(w.text())
        elif isinstance(w, QGroupBox):
            texts.append(w.title())
        elif isinstance(w, QTabBar):
            texts += [w.tabText(i) for i in range(w.count())]
    return [t.replace("&&", "") for t in texts]
