"""A click on a desktop notification, as real notification servers deliver it: a unicast
signal to the connection that sent Notify. It must reach `Notifier.run_opened`, the signal the
app connects to "show this run in Sync history"."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from jeepney import HeaderFields, MatchRule, message_bus
from jeepney.io.blocking import open_dbus_connection
from PySide6.QtGui import QIcon
from pytestqt.qtbot import QtBot

from engage_desktop.sync.notices import Notice
from engage_desktop.ui.desktop_notifications import PATH, SERVICE, DesktopNotifications
from engage_desktop.ui.notifier import NO_RUN, Notifier
from tests.ui.test_desktop_notifications import NotificationService
from tests.ui.test_desktop_notifications import session_bus as session_bus

pytestmark = [
    pytest.mark.skipif(shutil.which("dbus-daemon") is None, reason="needs dbus-daemon"),
    pytest.mark.usefixtures("session_bus"),
]

FAILED = Notice("Klaviyo sync failed", "Klaviyo kept failing. Contacts were left.", "error", 7)
QUIET_MS = 600  # how long "nothing happened" is watched for


@pytest.fixture
def service() -> NotificationService:
    return NotificationService()


@pytest.fixture
def notifier(service: NotificationService) -> Iterator[Notifier]:
    notifier = Notifier(QIcon(), tray=None, desktop=DesktopNotifications())
    assert notifier.desktop is not None, "the stand-in service answers the probe"
    yield notifier
    notifier.close()


def shown(notifier: Notifier, notice: Notice) -> int:
    """Send a notice and wait for the service's id (the app has recorded it by then)."""
    assert notifier.desktop is not None
    notification_id = notifier.desktop.show(notice).result(timeout=5)
    assert notification_id is not None
    return notification_id


def test_a_click_reaches_run_opened_with_the_run_of_that_notification(
    qtbot: QtBot, service: NotificationService, notifier: Notifier
) -> None:
    first = shown(notifier, FAILED)
    shown(notifier, Notice("Klaviyo sync finished", "12 new.", "info", 8))
    with qtbot.waitSignal(notifier.run_opened, timeout=5000) as opened:
        service.click(first)
    assert opened.args == [7]
    # Sent to the app's own connection, not broadcast: what dunst does.
    assert notifier.desktop is not None
    destinations = {s.header.fields.get(HeaderFields.destination) for s in service.sent}
    assert destinations == {notifier.desktop.unique_name}


def test_a_connection_other_than_the_senders_hears_no_click(
    qtbot: QtBot, service: NotificationService, notifier: Notifier
) -> None:
    """The old design (a second connection with a match rule) never saw a click."""
    other = open_dbus_connection(bus="SESSION")
    rule = MatchRule(type="signal", interface=SERVICE, member="ActionInvoked", path=PATH)
    other.send_and_get_reply(message_bus.AddMatch(rule), timeout=2.0)
    notification_id = shown(notifier, FAILED)
    with other, other.filter(rule) as heard:
        with qtbot.waitSignal(notifier.run_opened, timeout=5000):
            service.click(notification_id)
        with pytest.raises(TimeoutError):
            other.recv_until_filtered(heard, timeout=QUIET_MS / 1000)


def test_a_closed_notification_is_forgotten(
    qtbot: QtBot, service: NotificationService, notifier: Notifier
) -> None:
    notification_id = shown(notifier, FAILED)
    with qtbot.waitSignal(notifier.run_opened, timeout=5000):
        service.click(notification_id)
    service.dismiss(notification_id)
    with qtbot.assertNotEmitted(notifier.run_opened, wait=QUIET_MS):
        service.click(notification_id)  # a stale id (servers reuse them) opens nothing


def test_other_actions_and_notices_about_the_app_open_no_run(
    qtbot: QtBot, service: NotificationService, notifier: Notifier
) -> None:
    about_app = shown(notifier, Notice("Engage Desktop is still running", "", "info", NO_RUN))
    run = shown(notifier, FAILED)
    with qtbot.assertNotEmitted(notifier.run_opened, wait=QUIET_MS):
        service.click(about_app)
        service.click(run, action="dismiss")


def test_close_stops_following_clicks(
    qtbot: QtBot, service: NotificationService, notifier: Notifier
) -> None:
    notification_id = shown(notifier, FAILED)
    notifier.close()
    with qtbot.assertNotEmitted(notifier.run_opened, wait=QUIET_MS):
        service.click(notification_id)
