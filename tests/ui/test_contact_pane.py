"""The detail pane follows its contact (an opt-out, a sync's commit, a search), and every view
shows phone numbers formatted for people and names as people write them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from engage_desktop.app import EngageApp
from engage_desktop.core.consent import ConsentMode, SmsStatus
from engage_desktop.core.setup import Step
from engage_desktop.storage import contact_table
from engage_desktop.storage.connection import Connection
from engage_desktop.storage.contact_table import ContactQuery, ContactTable
from engage_desktop.storage.database import Database
from engage_desktop.ui.contacts import contacts_screen
from engage_desktop.ui.contacts.contacts_screen import ContactsScreen
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.integrations.connection_tab import ConnectionTab
from engage_desktop.ui.main_window import Screen
from engage_desktop.ui.widgets.phone_text import phone_text, regions_by_name
from engage_desktop.ui.wizard.setup_wizard import SetupWizard

ANN, ZOE, HEIDI, OLIVER = 1, 2, 3, 4


def add_people(db: Database) -> None:
    """A US, a UK and a Swiss number, and one contact without any name part but a first."""
    db.execute_sql(
        "INSERT INTO contacts (id, phone, email, first_name, last_name, sms_status, sms_reason,"
        " created_at, updated_at) VALUES"
        " (1, '+12127601000', 'ann.lee@example.com', 'Ann', 'Lee', 'subscribed',"
        "  'Klaviyo SMS consent: SUBSCRIBED', 0, 0),"
        " (2, NULL, 'zoe@example.org', 'Zoe', NULL, 'never_subscribed', NULL, 0, 0),"
        " (3, '+41446681800', 'heidi.mueller@example.ch', 'Heidi', 'Müller', 'subscribed',"
        "  NULL, 0, 0),"
        " (4, '+442079460958', 'oliver@example.co.uk', 'Oliver', 'Smith', 'subscribed',"
        "  NULL, 0, 0)"
    )
    db.execute_sql(
        "INSERT INTO contact_sources (contact_id, source, external_id)"
        " SELECT id, 'KLAVIYO', 'P' || id FROM contacts"
    )


def pane_text(screen: ContactsScreen) -> str:
    return screen.detail.text.toPlainText()


def wait_loaded(qtbot: QtBot, screen: ContactsScreen) -> None:
    qtbot.waitUntil(lambda: screen.loading is not None and screen.loading.done(), timeout=10000)


@pytest.fixture
def screen(qtbot: QtBot, ctx: AppContext) -> ContactsScreen:
    add_people(ctx.db)
    contacts = ContactsScreen(ctx)
    qtbot.addWidget(contacts)
    contacts.show()
    contacts.reload()
    wait_loaded(qtbot, contacts)
    return contacts


@pytest.fixture
def engage(qtbot: QtBot, ctx: AppContext, tmp_path: Path) -> Iterator[EngageApp]:
    add_people(ctx.db)
    app = EngageApp(ctx, tmp_path)
    qtbot.addWidget(app.window)
    app.start()
    yield app
    app.stop()


def test_the_pane_follows_an_opt_out(qtbot: QtBot, engage: EngageApp) -> None:
    screen = engage.contacts
    engage.window.show_screen(Screen.CONTACTS)
    qtbot.waitUntil(lambda: screen.model.rowCount() == 4, timeout=10000)
    row = screen.model.row_of(ANN)
    assert row is not None
    screen.view.setCurrentIndex(screen.model.index(row, 0))
    assert "Subscribed" in pane_text(screen) and screen.detail.opt_out.isEnabled()

    task = engage.ctx.spawn(engage.opt_out(ANN))  # what the confirmation's "Opt out" does
    qtbot.waitUntil(task.done, timeout=10000)
    assert task.result() is True
    wait_loaded(qtbot, screen)
    # the same row stays selected (no selection signal): the pane still follows
    assert screen.current_contact() == ANN
    shown = screen.detail.shown
    assert shown is not None and shown.row.status is SmsStatus.OPTED_OUT
    assert "Opted out" in pane_text(screen) and "opted out in Engage" in pane_text(screen)
    assert "Subscribed" not in pane_text(screen)
    assert not screen.detail.opt_out.isEnabled()
    assert screen.model.data(screen.model.index(screen.model.row_of(ANN), 3)) == "Opted out"


def test_the_pane_follows_a_sync_commit(qtbot: QtBot, screen: ContactsScreen) -> None:
    screen.select_contact(HEIDI)
    assert screen.detail.opt_out.isEnabled()
    screen.ctx.db.execute_sql(  # what a sync's commit would write
        "UPDATE contacts SET sms_status = 'opted_out', sms_reason = 'Klaviyo SMS consent:"
        " UNSUBSCRIBED', email = 'heidi@example.ch', updated_at = 5 WHERE id = ?",
        (HEIDI,),
    )
    screen.reload(keep_rows=True)  # as the app does after a commit
    wait_loaded(qtbot, screen)
    text = pane_text(screen)
    assert "heidi@example.ch" in text and "UNSUBSCRIBED" in text and "Opted out" in text
    assert not screen.detail.opt_out.isEnabled()


def test_a_search_that_filters_the_contact_out_clears_the_pane(
    qtbot: QtBot, screen: ContactsScreen
) -> None:
    screen.select_contact(ANN)
    assert screen.detail.shown is not None and screen.detail.shown.row.id == ANN
    screen.search.setText("Müller")
    qtbot.waitUntil(lambda: screen.query.text == "Müller", timeout=5000)
    wait_loaded(qtbot, screen)
    assert screen.model.rowCount() == 1
    assert screen.detail.shown is None and "Select a contact" in pane_text(screen)
    assert not screen.detail.opt_out.isEnabled()

    screen.search.clear()  # everyone again; then a search that keeps the chosen contact
    qtbot.waitUntil(lambda: screen.query.text == "", timeout=5000)
    wait_loaded(qtbot, screen)
    screen.select_contact(OLIVER)
    screen.search.setText("example.co")
    qtbot.waitUntil(lambda: screen.query.text == "example.co", timeout=5000)
    wait_loaded(qtbot, screen)
    assert screen.current_contact() == OLIVER
    assert screen.detail.shown is not None and screen.detail.shown.row.id == OLIVER


def test_phone_numbers_are_shown_for_people_and_searched_as_stored(
    qtbot: QtBot, screen: ContactsScreen
) -> None:
    assert phone_text("+12127601000") == "+1 212-760-1000"
    assert phone_text("+442079460958") == "+44 20 7946 0958"
    assert phone_text("+41446681800") == "+41 44 668 18 00"
    assert phone_text("+999123") == "+999123"  # unreadable: as stored
    model = screen.model
    cells = {model.contact_id(r): model.data(model.index(r, 1)) for r in range(4)}
    assert cells == {
        ANN: "+1 212-760-1000",
        ZOE: "—",
        HEIDI: "+41 44 668 18 00",
        OLIVER: "+44 20 7946 0958",
    }
    screen.select_contact(HEIDI)
    assert "+41 44 668 18 00" in pane_text(screen)
    # what people see is what they can search for: the stored values stay E.164
    table = ContactTable(screen.ctx.db)
    assert list(table.ids(ContactQuery(text="+41 44 668 18 00"))) == [HEIDI]
    assert list(table.ids(ContactQuery(text="+1 212-760-1000"))) == [ANN]
    assert screen.ctx.db.execute_sql(
        "SELECT phone FROM contacts WHERE id = ?", (HEIDI,)
    ).fetchone() == ("+41446681800",)


def test_names_read_last_first_in_the_table_and_first_last_in_the_pane(
    screen: ContactsScreen,
) -> None:
    names = [screen.model.data(screen.model.index(r, 0)) for r in range(4)]
    assert names == ["Lee, Ann", "Müller, Heidi", "Smith, Oliver", "Zoe"]
    screen.select_contact(HEIDI)
    assert pane_text(screen).startswith("Heidi Müller")
    assert "Klaviyo id" in pane_text(screen)  # sources by name, not the stored label


def test_country_pickers_show_names_sorted_and_found_by_typing(
    qtbot: QtBot, ctx: AppContext
) -> None:
    labels = [label for label, _ in regions_by_name()]
    assert "Eswatini (+268)" in labels and "United Kingdom (+44)" in labels
    assert "Côte d’Ivoire (+225)" in labels and "United States (+1)" in labels
    # by name, accents aside: Åland among the A's, Côte d'Ivoire after Costa Rica
    assert labels.index("Åland Islands (+358)") < labels.index("Albania (+355)")
    assert labels.index("Costa Rica (+506)") < labels.index("Côte d’Ivoire (+225)")
    assert labels.index("Côte d’Ivoire (+225)") < labels.index("Croatia (+385)")

    wizard = SetupWizard(ctx, "http://127.0.0.1")
    qtbot.addWidget(wizard)
    conn = Connection("A1", "Acme", "http://127.0.0.1", ConsentMode.EXPLICIT, None, "CH")
    tab = ConnectionTab(ctx, conn, ctx.owned(), "pk_…abcd")
    qtbot.addWidget(tab)
    consent = wizard.page(Step.CONSENT)
    for combo in (consent.region, tab.region):
        assert [combo.itemText(i) for i in range(combo.count())] == labels
        assert combo.itemText(combo.findData("SZ")) == "Eswatini (+268)"
    assert consent.region.currentData() == "US" and consent.region.currentText() == (
        "United States (+1)"
    )
    assert tab.region.currentText() == "Switzerland (+41)"

    # typing any part of a name offers the countries containing it
    consent.region.lineEdit().selectAll()
    QTest.keyClicks(consent.region.lineEdit(), "kingdom")
    completer = consent.region.completer()
    assert completer.completionCount() == 1
    assert completer.currentCompletion() == "United Kingdom (+44)"
    QTest.keyClick(completer.popup(), Qt.Key.Key_Down)
    QTest.keyClick(completer.popup(), Qt.Key.Key_Return)
    assert consent.region.currentData() == "GB" and wizard.draft.default_region == "GB"
    # a name typed in full, without its code, chooses it; text naming nothing changes nothing
    tab.region.lineEdit().selectAll()
    QTest.keyClicks(tab.region.lineEdit(), "eswatini")
    QTest.keyClick(tab.region.lineEdit(), Qt.Key.Key_Return)
    assert tab.region.currentData() == "SZ" and tab.save.isEnabled()
    tab.region.lineEdit().selectAll()
    QTest.keyClicks(tab.region.lineEdit(), "Atlantis")
    QTest.keyClick(tab.region.lineEdit(), Qt.Key.Key_Return)
    assert tab.region.currentData() == "SZ" and tab.region.currentText() == "Eswatini (+268)"


def test_a_big_view_is_painted_from_its_first_page_while_its_order_is_read(
    qtbot: QtBot, screen: ContactsScreen, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sort at a million rows: the first rows show at once; a row picked on them stays
    when the rest of the order arrives."""
    monkeypatch.setattr(contact_table, "BIG_VIEW", 0)  # four contacts count as big here
    monkeypatch.setattr(contacts_screen, "PAGE", 2)
    whole_read = threading.Event()
    ids = screen.table_data.ids
    monkeypatch.setattr(screen.table_data, "ids", lambda q: whole_read.wait(10) and ids(q))
    screen._sort("phone", descending=False)
    qtbot.waitUntil(lambda: screen.model.contact_id(2) is None, timeout=10000)
    assert screen.model.rowCount() == 4 and not screen.loading.done()
    assert [screen.model.contact_id(r) for r in range(4)] == [ZOE, ANN, None, None]
    assert screen.model.data(screen.model.index(1, 0)) == "Lee, Ann"
    assert screen.count.text() == "4 contacts"
    screen.view.setCurrentIndex(screen.model.index(1, 0))  # picked meanwhile
    assert "Ann" in pane_text(screen)
    whole_read.set()
    wait_loaded(qtbot, screen)
    assert [screen.model.contact_id(r) for r in range(4)] == [ZOE, ANN, HEIDI, OLIVER]
    assert screen.current_contact() == ANN and "Ann" in pane_text(screen)
    assert screen.model.data(screen.model.index(3, 0)) == "Smith, Oliver"
