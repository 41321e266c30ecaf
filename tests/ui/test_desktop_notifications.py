"""Desktop notifications over a real (private) session D-Bus with a stand-in notification
service: what reaches it, and a click coming back as the run to open."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from jeepney import (
    DBusAddress,
    HeaderFields,
    Message,
    MessageType,
    message_bus,
    new_method_return,
    new_signal,
)
from jeepney.io.blocking import open_dbus_connection
from PySide6.QtGui import QIcon
from pytestqt.qtbot import QtBot

from engage_desktop.sync.notices import Notice
from engage_desktop.ui.desktop_notifications import PATH, SERVICE, DesktopNotifications
from engage_desktop.ui.notifier import Notifier

pytestmark = pytest.mark.skipif(shutil.which("dbus-daemon") is None, reason="needs dbus-daemon")


class NotificationService:
    """Answers Notify like a desktop would, and can "click" a notification.

    Like real servers (dunst 1.9, measured with dbus-monitor), it sends `ActionInvoked` and
    `NotificationClosed` as unicast signals to the connection that sent the notification,
    never as a broadcast.
    """

    def __init__(self) -> None:
        self.conn = open_dbus_connection(bus="SESSION")
        self.conn.send_and_get_reply(message_bus.RequestName(SERVICE))
        self.received: list[tuple[Any, ...]] = []
        self.senders: dict[int, str] = {}  # notification id -> unique name that sent it
        self.sent: list[Message] = []  # the signals sent back, to check their destination
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        with self.conn:
            while True:
                try:
                    msg = self.conn.receive()
                except Exception:
                    return
                fields = msg.header.fields
                if msg.header.message_type == MessageType.method_call and (
                    fields.get(HeaderFields.member) == "Notify"
                ):
                    notification_id = 101 + len(self.received)
                    self.senders[notification_id] = fields[HeaderFields.sender]
                    self.received.append(msg.body)
                    self.conn.send(new_method_return(msg, "u", (notification_id,)))

    def click(self, notification_id: int, action: str = "default") -> None:
        """What `dunstctl action` does: the action is invoked, the notification stays."""
        self._signal(notification_id, "ActionInvoked", "us", (notification_id, action))

    def dismiss(self, notification_id: int) -> None:
        """What `dunstctl close` does: closed, reason 2 (dismissed by the user)."""
        self._signal(notification_id, "NotificationClosed", "uu", (notification_id, 2))

    def _signal(self, notification_id: int, member: str, signature: str, body: Any) -> None:
        signal = new_signal(DBusAddress(PATH, interface=SERVICE), member, signature, body)
        signal.header.fields[HeaderFields.destination] = self.senders[notification_id]
        self.sent.append(signal)
        self.conn.send(signal)


@pytest.fixture
def session_bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    daemon = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert daemon.stdout is not None
    address = daemon.stdout.readline().strip()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    yield address
    daemon.terminate()
    daemon.wait(timeout=10)
    daemon.stdout.close()


def test_notices_reach_the_service_and_a_click_opens_the_run(
    qtbot: QtBot, session_bus: str
) -> None:
    service = NotificationService()
    desktop = DesktopNotifications()
    assert desktop.available
    notifier = Notifier(QIcon(), tray=None, desktop=desktop)
    notice = Notice("Klaviyo sync failed", "Klaviyo kept failing. Contacts were left.", "error", 7)
    assert notifier.notify(notice)
    qtbot.waitUntil(lambda: len(service.received) == 1, timeout=5000)
    app_name, _, _, title, body, actions, hints, _ = service.received[0]
    assert (app_name, title, body) == ("Engage Desktop", notice.title, notice.body)
    assert actions[0] == "default" and hints["urgency"][1] == 2
    with qtbot.waitSignal(notifier.run_opened, timeout=5000) as opened:
        service.click(101)
    assert opened.args == [7]
    assert service.sent[0].header.fields[HeaderFields.destination] == desktop.unique_name
    notifier.close()


def test_without_a_service_it_is_simply_unavailable(session_bus: str) -> None:
    assert not DesktopNotifications().available  # a bus, but nobody serving notifications
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/nonexistent/bus"
    assert not DesktopNotifications().available
