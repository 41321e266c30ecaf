"""freedesktop.org notifications over the session D-Bus (GNOME, KDE, XFCE…), for desktops
without a tray icon. Used only when a notification service answers a quick probe; a click on
a notification opens its run in the history.

D-Bus is spoken with jeepney (pure Python, installed with keyring on Linux only, hence the
imports inside the methods), on threads of its own: the GUI thread never waits on the bus.

One connection does everything. Notification servers (dunst, measured) send `ActionInvoked`
and `NotificationClosed` as unicast signals to the connection that sent `Notify`; a second
connection listening with a match rule never hears a click. So one listener thread receives
every message on the connection that sends: the replies to `Notify` (handed to the sender
thread, after recording which run the notification is about) and the two signals, in the order
the server sent them, so a click always finds its notification recorded.
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
CALL_TIMEOUT_S = 2.0
URGENCY = {"info": 1, "warning": 1, "error": 2}  # the spec's low / normal / critical: 0, 1, 2
SHOW_MS = 15000
DEFAULT_ACTION = "default"  # the spec's name for "the notification itself was clicked"


class DesktopNotifications(QObject):
    """Sends notices to the desktop's notification service and reports clicks on them."""

    clicked = Signal(int)  # run id

    def __init__(self, app_name: str = "Engage Desktop") -> None:
        super().__init__()
        self._app_name = app_name
        self._runs: dict[int, int] = {}  # notification id -> run id; the listener's alone
        # Notify calls awaiting their reply: serial -> (the sender's future, the run it is about)
        self._pending: dict[int, tuple[concurrent.futures.Future[int], int]] = {}
        self._pending_lock = threading.Lock()
        self._conn: Any = None
        self._closed = False
        self._sender = concurrent.futures.ThreadPoolExecutor(1, "desktop-notifications")
        try:
            self._conn = self._connect_if_served()
        except Exception as exc:  # no session bus, no jeepney, a bus that does not answer
            log.info("desktop notifications over D-Bus unavailable: %s", type(exc).__name__)
        if self._conn is not None:
            threading.Thread(target=self._listen, name="notification-clicks", daemon=True).start()

    @property
    def available(self) -> bool:
        return self._conn is not None

    @property
    def unique_name(self) -> str | None:
        """The bus name the service answers (and sends clicks) to; None when unavailable."""
        return None if self._conn is None else str(self._conn.unique_name)

    def show(self, notice: Notice) -> concurrent.futures.Future[int | None]:
        """Send it without waiting (the id comes back on the sender thread)."""
        return self._sender.submit(self._notify, notice)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._sender.shutdown(wait=False, cancel_futures=True)
        if self._conn is not None:
            self._conn.interrupt()  # a byte on a pipe: the listener closes the connection

    # ----- on the bus threads -----------------------------------------------------------------
    @staticmethod
    def _connect_if_served() -> Any:
        """A connection when someone owns the service's name, else None."""
        from jeepney import MatchRule, message_bus
        from jeepney.io.threading import DBusRouter, open_dbus_connection

        conn = open_dbus_connection(bus="SESSION")
        try:
            # A router only for these two calls; the listener thread reads the connection after.
            with DBusRouter(conn) as router:
                reply = router.send_and_get_reply(
                    message_bus.NameHasOwner(SERVICE), timeout=PROBE_TIMEOUT_S
                )
                served = bool(reply.body[0])
                if served:
                    # Unicast signals need no rule; this one also lets in the broadcasts of
                    # older servers (from the service's owner only).
                    rule = MatchRule(type="signal", sender=SERVICE, interface=SERVICE, path=PATH)
                    router.send_and_get_reply(message_bus.AddMatch(rule), timeout=CALL_TIMEOUT_S)
        except BaseException:
            conn.close()
            raise
        if not served:
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
                [DEFAULT_ACTION, "Open the run"],
                hints,
                SHOW_MS,
            ),
        )
        serial = next(self._conn.outgoing_serial)
        reply: concurrent.futures.Future[int] = concurrent.futures.Future()
        with self._pending_lock:
            self._pending[serial] = (reply, notice.run_id)
        try:
            self._conn.send(call, serial=serial)
            return reply.result(timeout=CALL_TIMEOUT_S)
        except Exception as exc:  # never let a notification fail anything
            log.warning("desktop notification not shown: %s", exc)
            return None
        finally:
            with self._pending_lock:
                self._pending.pop(serial, None)

    def _listen(self) -> None:
        from jeepney.io.threading import ReceiveStopped

        try:
            while True:
                self._dispatch(self._conn.receive())
        except ReceiveStopped:
            pass  # close()
        except Exception as exc:  # the bus went away (logout) or spoke nonsense
            log.info("notification clicks no longer followed: %s", exc)
        finally:
            with self._pending_lock:
                pending, self._pending = self._pending, {}
            for reply, _ in pending.values():
                reply.set_exception(ConnectionError("the session bus connection closed"))
            with contextlib.suppress(Exception):
                self._conn.close()

    def _dispatch(self, msg: Any) -> None:
        from jeepney import DBusErrorResponse, HeaderFields, MessageType

        header = msg.header
        if header.message_type in (MessageType.method_return, MessageType.error):
            with self._pending_lock:
                entry = self._pending.pop(header.fields.get(HeaderFields.reply_serial), None)
            if entry is None:
                return  # its sender gave up waiting
            reply, run_id = entry
            if header.message_type == MessageType.error:
                reply.set_exception(DBusErrorResponse(msg))
                return
            notification_id = int(msg.body[0])
            self._runs[notification_id] = run_id  # before any signal about it is read
            reply.set_result(notification_id)
            return
        fields = header.fields
        if header.message_type != MessageType.signal or (
            fields.get(HeaderFields.interface),
            fields.get(HeaderFields.path),
        ) != (SERVICE, PATH):
            return
        member = fields.get(HeaderFields.member)
        if member == "NotificationClosed":
            self._runs.pop(int(msg.body[0]), None)  # servers may reuse the id later
        elif member == "ActionInvoked":
            clicked_id, action = msg.body
            clicked_run = self._runs.get(int(clicked_id))
            if action == DEFAULT_ACTION and clicked_run is not None:
                self.clicked.emit(clicked_run)  # queued to the GUI thread
