"""The run lock on the team database: a PostgreSQL session-level advisory lock.

Held on a connection of its own, opened for the run and never pooled or shared with the data
(a pooled connection keeps a session lock after it is handed back). The server releases it
the moment that session ends: at once when the holder's process dies (its socket closes),
and within about `DEAD_PEER_S` when the holder's machine vanishes from the network (the
server's TCP keepalives, set for this session, give up on the silent peer).

Who holds it is read from the server (`pg_locks` joined with `pg_stat_activity`:
application_name, client address, backend start) and from the `sync_lease` row the holder
writes after taking the lock (who, process, host, since) — the row alone never decides.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg

from engage_desktop.storage.postgres import connect_params

# Two-int4 key: a namespace ('EN') and the lock's number (1: the sync run).
LOCK_KEY = (0x454E, 1)
# How the server treats a silent peer on the lock's session: first probe after 20 s idle,
# then every 5 s, 4 unanswered probes and it drops the session (and the lock): ~40 s; data
# left unacknowledged for 40 s drops it too.
SERVER_KEEPALIVE = {
    "tcp_keepalives_idle": 20,
    "tcp_keepalives_interval": 5,
    "tcp_keepalives_count": 4,
    "tcp_user_timeout": 40_000,
}
DEAD_PEER_S = 40

_HOLDER = (
    "SELECT a.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), 'local'),"
    " extract(epoch from a.backend_start) FROM pg_locks l JOIN pg_stat_activity a"
    " ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.classid = %s AND l.objid = %s"
    " AND l.objsubid = 2 AND l.granted AND l.database ="
    " (SELECT oid FROM pg_database WHERE datname = current_database())"
)


class HolderInfo:
    """The server's view of the session holding the lock."""

    def __init__(self, pid: int, application: str, address: str, since: float) -> None:
        self.pid = pid
        self.application = application
        self.address = address
        self.since = since

    def describe(self) -> str:
        return f"{self.application or 'a session'} from {self.address}"


class AdvisoryLock:
    """Take, probe and give back the run lock on its own connection."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: psycopg.Connection[Any] | None = None

    @property
    def holding(self) -> bool:
        return self._conn is not None and not self._conn.closed

    def try_take(self, label: str) -> bool:
        """Take the lock if free. The session is named "engage-desktop user@host: label", so
        whoever finds the lock taken reads who holds it from the server itself."""
        if self.holding:
            return True
        params = connect_params(self.url)
        params["application_name"] = f"{params['application_name']}: {label}"[:63]
        conn = psycopg.connect(**params, autocommit=True)
        try:
            for name, value in SERVER_KEEPALIVE.items():
                conn.execute(f"SET {name} = {int(value)}")
            row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", LOCK_KEY).fetchone()
        except BaseException:
            conn.close()
            raise
        if not row or not row[0]:
            conn.close()
            return False
        self._conn = conn
        return True

    def alive(self) -> bool:
        """A heartbeat: the lock's session still answers (and an idle timeout never ends it)."""
        if self._conn is None or self._conn.closed:
            return False
        try:
            self._conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if not conn.closed:
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", LOCK_KEY)
        except psycopg.Error:
            pass  # the session is gone: so is the lock
        finally:
            conn.close()

    @staticmethod
    def holder(db: Any) -> HolderInfo | None:
        """Who holds it now, as the server sees it; None when nobody does."""
        row = db.cursor().execute_raw(_HOLDER, LOCK_KEY).fetchone()
        if row is None:
            return None
        pid, application, address, since = row
        return HolderInfo(int(pid), str(application), str(address), float(since or time.time()))
