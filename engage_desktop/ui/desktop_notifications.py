"""freedesktop.org notifications over the session D-Bus (GNOME, KDE, XFCE…), for desktops
without a tray icon. Used only when a notification service answers a quick probe; a click on
a notification opens its run in the history.

D-Bus is spoken with jeepney (pure Python, installed with keyring on Linux only, hence the
imports inside the methods), on threads of its own: the GUI thread never waits on the bus.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import threading
from typing import Any

from PySide6.QtCore import QObject, Signal

from engage_desktop.sync.notices import Notice

log = logging.getLogger(__name__)

SERVICE = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
PROBE_TIMEOUT_S = 0.5
URGENCY = {"info": 1, "warning": 1, "error": 2}  # the spec's low / normal / critical: 0, 1, 2
SHOW_MS = 15000


class DesktopNotifications(QObject):
    """Sends notices to the desktop's notification service and reports clicks on them."""

    clicked = Signal(int)  # run id

    def __init__(self, app_name: str = "Engage Desktop") -> None:
        super().__init__()
        self._app_name = app_name
        self._runs: dict[int, int] = {}  # notification id -> run id
        self._stop = threading.Event()
        self._send: Any = None
        self._sender = concurrent.futures.ThreadPoolExecutor(1, "desktop-notifications")
        try:
            self._send = self._connect_if_served()
        except Exception as exc:  # no session bus, no jeepney, a bus that does not answer
            log.info("desktop notifications over D-Bus unavailable: %s", type(exc).__name__)
        if self._send is not None:
            threading.Thread(target=self._listen, name="notification-clicks", daemon=True).start()

    @property
    def available(self) -> bool:
        return self._send is not None

    def show(self, notice: Notice) -> concurrent.futures.Future[int | None]:
        """Send it without waiting (the id comes back on the sender thread)."""
        return self._sender.submit(self._notify, notice)

    def close(self) -> None:
        self._stop.set()
        self._sender.shutdown(wait=False, cancel_futures=True)
        if self._send is not None:
            with contextlib.suppress(Exception):
                self._send.close()

    # ----- on the bus threads -----------------------------------------------------------------
    @staticmethod
    def _connect_if_served() -> Any:
        from jeepney import message_bus
        from jeepney.io.blocking import open_dbus_connection

        conn = open_dbus_connection(bus="SESSION")
        reply = conn.send_and_get_reply(message_bus.NameHasOwner(SERVICE), timeout=PROBE_TIMEOUT_S)
        if not reply.body[0]:
            conn.close()
            return None
        return conn

    def _notify(self, notice: Notice) -> int | None:
        from jeepney import DBusAddress, new_method_call

        address = DBusAddress(PATH, bus_name=SERVICE, interface=SERVICE)
        hints = {"urgency": ("y", URGENCY.get(notice.level, 1))}
        call = new_method_call(
            address,
            "Notify",
            "susssasa{sv}i",
            (
                self._app_name,
                0,
                "",
                notice.title,
                notice.body,
                ["default", "Open the run"],
                hints,
                SHOW_MS,
            ),
        )
        try:
            reply = self._send.send_and_get_reply(call, timeout=2.0)
        except Exception as exc:  # never let a notification fail anything
            log.warning("desktop notification not shown: %s", exc)
            return None
        notification_id = int(reply.body[0])
        self._runs[notification_id] = notice.run_id
        return notification_id

    def _listen(self) -> None:
        from jeepney import MatchRule, message_bus
        from jeepney.io.blocking import open_dbus_connection

        try:
            conn = open_dbus_connection(bus="SESSION")
            rule = MatchRule(type="signal", interface=SERVICE, member="ActionInvoked", path=PATH)
            conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=2.0)
            with conn, conn.filter(rule) as queue:
                while not self._stop.is_set():
                    try:
                        signal = conn.recv_until_filtered(queue, timeout=1.0)
                    except TimeoutError:
                        continue
                    notification_id, action = signal.body
                    run_id = self._runs.get(int(notification_id))
                    if action == "default" and run_id is not None:
                        self.clicked.emit(run_id)  # queued to the GUI thread
        except Exception as exc:
            log.info("notification clicks not followed: %s", exc)
