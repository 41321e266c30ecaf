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
    """Answers Notify like a desktop would, and can "click" a notification."""

    def __init__(self) -> None:
        self.conn = open_dbus_connection(bus="SESSION")
        self.conn.send_and_get_reply(message_bus.RequestName(SERVICE))
        self.received: list[tuple[Any, ...]] = []
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
                    self.received.append(msg.body)
                    self.conn.send(new_method_return(msg, "u", (100 + len(self.received),)))

    def click(self, notification_id: int) -> None:
        emitter = DBusAddress(PATH, interface=SERVICE)
        self.conn.send(new_signal(emitter, "ActionInvoked", "us", (notification_id, "default")))


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
    notifier.close()


def test_without_a_service_it_is_simply_unavailable(session_bus: str) -> None:
    assert not DesktopNotifications().available  # a bus, but nobody serving notifications
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/nonexistent/bus"
    assert not DesktopNotifications().available
