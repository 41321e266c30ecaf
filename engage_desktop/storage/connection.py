"""The Klaviyo connection's settings and sync watermarks (never the API key)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, fields, replace
from typing import Any

import peewee

from engage_desktop.core.consent import ConsentMode

# Columns whose change makes the next sync full: every status re-derived, every phone re-read.
_FULL_AGAIN = ("account_id", "lists", "consent_mode", "default_region")


@dataclass(frozen=True)
class Connection:
    """What was set up with `connect`, plus what the syncs remember."""

    account_id: str
    account_name: str
    base_url: str
    consent_mode: ConsentMode
    lists: tuple[str, ...] | None  # None: every list; (): contact sync off
    default_region: str = "US"
    provider: str = "klaviyo"
    schedule_hours: int = 24
    reconcile_days: int = 7
    profiles_watermark: float | None = None
    list_watermarks: dict[str, float] = field(default_factory=dict)
    last_full_at: float | None = None
    last_full_count: int | None = None
    needs_full: bool = True
    key_in_keyring: bool = False


_COLUMNS = tuple(f.name for f in fields(Connection))


def _to_db(name: str, value: Any) -> Any:
    if name == "consent_mode":
        return ConsentMode(value).value
    if name == "lists":
        return json.dumps("all" if value is None else list(value))
    if name == "list_watermarks":
        return json.dumps(value)
    if name in ("needs_full", "key_in_keyring"):
        return int(value)
    return value


def _from_db(name: str, value: Any) -> Any:
    if name == "consent_mode":
        return ConsentMode(value)
    if name == "lists":
        lists = json.loads(value)
        return None if lists == "all" else tuple(lists)
    if name == "list_watermarks":
        return json.loads(value)
    if name in ("needs_full", "key_in_keyring"):
        return bool(value)
    return value


class ConnectionRepo:
    """Reads and writes the single connection row."""

    def __init__(self, db: peewee.Database) -> None:
        self.db = db

    def get(self) -> Connection | None:
        cursor = self.db.execute_sql(f"SELECT {', '.join(_COLUMNS)} FROM connection")
        row = cursor.fetchone()
        if row is None:
            return None
        names = [d[0] for d in cursor.description]
        return Connection(**{n: _from_db(n, v) for n, v in zip(names, row, strict=True)})

    def save(self, conn: Connection) -> Connection:
        """Create the connection (replacing another account's); a change of account, lists,
        consent mode or region makes the next sync full."""
        with self.db.atomic():
            old = self.get()
            if old is not None and any(getattr(old, n) != getattr(conn, n) for n in _FULL_AGAIN):
                conn = replace(conn, needs_full=True)
            self.db.execute_sql("DELETE FROM connection")
            values = [_to_db(n, getattr(conn, n)) for n in _COLUMNS]
            self.db.execute_sql(
                f"INSERT INTO connection (id, {', '.join(_COLUMNS)}, created_at)"
                f" VALUES (1, {', '.join('?' * len(_COLUMNS))}, ?)",
                (*values, time.time()),
            )
        return conn

    def change(self, **values: Any) -> Connection:
        """Change only these settings of the connection, leaving the rest (a sync's
        watermarks written meanwhile included) as they are; returns the result."""
        unknown = set(values) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"not connection settings: {', '.join(sorted(unknown))}")
        with self.db.atomic():
            old = self.get()
            if old is None:
                raise LookupError("not connected")
            if any(n in values and values[n] != getattr(old, n) for n in _FULL_AGAIN):
                values["needs_full"] = True
            if values:
                sets = ", ".join(f"{n} = ?" for n in values)
                self.db.execute_sql(
                    f"UPDATE connection SET {sets}", [_to_db(n, v) for n, v in values.items()]
                )
            new = self.get()
        assert new is not None
        return new

    def record_sync(
        self,
        profiles_watermark: float | None,
        list_watermarks: dict[str, float],
        full_count: int | None,
        now: float,
    ) -> None:
        """After a committed run: advance watermarks (never backwards); note a full run."""
        conn = self.get()
        if conn is None:
            return
        marks = dict(conn.list_watermarks)
        for list_id, mark in list_watermarks.items():
            marks[list_id] = max(mark, marks.get(list_id, mark))
        wm = conn.profiles_watermark
        if profiles_watermark is not None:
            wm = profiles_watermark if wm is None else max(wm, profiles_watermark)
        full = full_count is not None
        self.db.execute_sql(
            "UPDATE connection SET profiles_watermark = ?, list_watermarks = ?,"
            " last_full_at = CASE WHEN ? = 1 THEN ? ELSE last_full_at END,"
            " last_full_count = CASE WHEN ? = 1 THEN ? ELSE last_full_count END,"
            " needs_full = CASE WHEN ? = 1 THEN 0 ELSE needs_full END",
            (wm, json.dumps(marks), full, now, full, full_count, full),
        )

    def set_schedule(self, hours: int) -> None:
        self.db.execute_sql("UPDATE connection SET schedule_hours = ?", (hours,))

    def delete(self) -> None:
        self.db.execute_sql("DELETE FROM connection")
