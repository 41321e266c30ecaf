"""The Mailjet connection's settings (never its key or secret: those live in the keyring)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, fields, replace
from typing import Any

import peewee

from engage_desktop.core.consent import ConsentMode
from engage_desktop.core.fields import FieldType
from engage_desktop.core.mapping import MappingSpec

# Settings whose change makes every Mailjet contact's status and number be read again.
_REREAD = (
    "key_ref",
    "phone_property",
    "lists",
    "consent_mode",
    "consent_property",
    "default_region",
)


@dataclass(frozen=True)
class MailjetSettings:
    """What `connect mailjet` set up, plus what the syncs remember."""

    base_url: str
    key_ref: str  # a fingerprint of the API key: another key is another account
    key_hint: str  # the key's last four characters, as shown
    phone_property: str
    lists: tuple[str, ...] | None  # None: every list; (): contact sync off
    consent_mode: ConsentMode
    consent_property: str | None = None
    default_region: str = "US"
    mappings: tuple[MappingSpec, ...] = ()
    last_full_at: float | None = None
    last_full_count: int | None = None
    needs_rederive: bool = True
    key_in_keyring: bool = False


_COLUMNS = tuple(f.name for f in fields(MailjetSettings))


def _to_db(name: str, value: Any) -> Any:
    if name == "consent_mode":
        return ConsentMode(value).value
    if name == "lists":
        return json.dumps("all" if value is None else list(value))
    if name == "mappings":
        return json.dumps([[m.name, m.path, m.type.value] for m in value])
    if name in ("needs_rederive", "key_in_keyring"):
        return int(value)
    return value


def _from_db(name: str, value: Any) -> Any:
    if name == "consent_mode":
        return ConsentMode(value)
    if name == "lists":
        lists = json.loads(value)
        return None if lists == "all" else tuple(str(x) for x in lists)
    if name == "mappings":
        return tuple(MappingSpec(n, p, FieldType(t)) for n, p, t in json.loads(value))
    if name in ("needs_rederive", "key_in_keyring"):
        return bool(value)
    return value


class MailjetSettingsRepo:
    """Reads and writes the single Mailjet connection row."""

    def __init__(self, db: peewee.Database) -> None:
        self.db = db

    def get(self) -> MailjetSettings | None:
        cursor = self.db.execute_sql(f"SELECT {', '.join(_COLUMNS)} FROM mailjet_connection")
        row = cursor.fetchone()
        if row is None:
            return None
        return MailjetSettings(**{n: _from_db(n, v) for n, v in zip(_COLUMNS, row, strict=True)})

    def save(self, settings: MailjetSettings) -> MailjetSettings:
        """Create or replace the connection; a change of what decides a contact's number or
        status makes the next sync re-derive every Mailjet contact."""
        with self.db.atomic():
            old = self.get()
            if old is None or any(getattr(old, n) != getattr(settings, n) for n in _REREAD):
                settings = replace(settings, needs_rederive=True)
            self.db.execute_sql("DELETE FROM mailjet_connection")
            self.db.execute_sql(
                f"INSERT INTO mailjet_connection (id, {', '.join(_COLUMNS)}, created_at)"
                f" VALUES (1, {', '.join('?' * len(_COLUMNS))}, ?)",
                (*(_to_db(n, getattr(settings, n)) for n in _COLUMNS), time.time()),
            )
        return settings

    def record_sync(self, full_count: int, now: float) -> None:
        """After a committed run (Mailjet's are always full)."""
        self.db.execute_sql(
            "UPDATE mailjet_connection SET last_full_at = ?, last_full_count = ?,"
            " needs_rederive = 0",
            (now, full_count),
        )

    def delete(self) -> None:
        self.db.execute_sql("DELETE FROM mailjet_connection")
