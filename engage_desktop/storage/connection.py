"""The Klaviyo connection's settings and sync watermarks (never the API key)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace

import peewee

from engage_desktop.core.consent import ConsentMode


@dataclass(frozen=True)
class Connection:
    """What was set up with `connect`, plus what the syncs remember."""

    account_id: str
    account_name: str
    base_url: str
    consent_mode: ConsentMode
    lists: tuple[str, ...] | None  # None: every list
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


class ConnectionRepo:
    """Reads and writes the single connection row."""

    def __init__(self, db: peewee.SqliteDatabase) -> None:
        self.db = db

    def get(self) -> Connection | None:
        row = self.db.execute_sql(
            "SELECT account_id, account_name, base_url, consent_mode, lists, default_region,"
            " provider, schedule_hours, reconcile_days, profiles_watermark, list_watermarks,"
            " last_full_at, last_full_count, needs_full, key_in_keyring FROM connection"
        ).fetchone()
        if row is None:
            return None
        lists = json.loads(row[4])
        return Connection(
            account_id=row[0],
            account_name=row[1],
            base_url=row[2],
            consent_mode=ConsentMode(row[3]),
            lists=None if lists == "all" else tuple(lists),
            default_region=row[5],
            provider=row[6],
            schedule_hours=row[7],
            reconcile_days=row[8],
            profiles_watermark=row[9],
            list_watermarks=json.loads(row[10]),
            last_full_at=row[11],
            last_full_count=row[12],
            needs_full=bool(row[13]),
            key_in_keyring=bool(row[14]),
        )

    def save(self, conn: Connection) -> Connection:
        """Create or replace the connection; different lists, account, consent mode or region
        force the next sync to be full."""
        with self.db.atomic():
            old = self.get()
            changed = old is not None and (
                old.lists != conn.lists
                or old.account_id != conn.account_id
                or old.consent_mode != conn.consent_mode  # every status must be re-derived
                or old.default_region != conn.default_region  # and every phone re-read
            )
            if changed:
                conn = replace(conn, needs_full=True)
            self.db.execute_sql("DELETE FROM connection")
            self.db.execute_sql(
                "INSERT INTO connection (id, provider, account_id, account_name, base_url,"
                " consent_mode, lists, default_region, schedule_hours, reconcile_days,"
                " profiles_watermark, list_watermarks, last_full_at, last_full_count,"
                " needs_full, key_in_keyring, created_at)"
                " VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    conn.provider,
                    conn.account_id,
                    conn.account_name,
                    conn.base_url,
                    conn.consent_mode.value,
                    json.dumps("all" if conn.lists is None else list(conn.lists)),
                    conn.default_region,
                    conn.schedule_hours,
                    conn.reconcile_days,
                    conn.profiles_watermark,
                    json.dumps(conn.list_watermarks),
                    conn.last_full_at,
                    conn.last_full_count,
                    int(conn.needs_full),
                    int(conn.key_in_keyring),
                    time.time(),
                ),
            )
        return conn

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
            " last_full_at = CASE WHEN ? THEN ? ELSE last_full_at END,"
            " last_full_count = CASE WHEN ? THEN ? ELSE last_full_count END,"
            " needs_full = CASE WHEN ? THEN 0 ELSE needs_full END",
            (wm, json.dumps(marks), full, now, full, full_count, full),
        )

    def set_schedule(self, hours: int) -> None:
        self.db.execute_sql("UPDATE connection SET schedule_hours = ?", (hours,))

    def delete(self) -> None:
        self.db.execute_sql("DELETE FROM connection")
