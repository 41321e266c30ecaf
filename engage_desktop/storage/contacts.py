"""Contacts: reads for the CLI and screens, and the local opt-out (with its outbox row)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import peewee

from engage_desktop.core.consent import SmsStatus
from engage_desktop.core.sources import LOCAL
from engage_desktop.storage.suppressions import queue_write_back, suppress


def utc(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


@dataclass(frozen=True)
class Contact:
    """A contact as shown: its details, SMS status, sources and lists."""

    id: int
    phone: str | None
    phone_raw: str | None
    email: str | None
    first_name: str | None
    last_name: str | None
    fields: dict[str, Any]
    sms_status: SmsStatus
    sms_changed_at: float | None
    sms_reason: str | None
    sources: dict[str, list[str]]
    lists: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "phone": self.phone,
            "phone_raw": self.phone_raw,
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "fields": self.fields,
            "sms_status": self.sms_status.value,
            "sms_reason": self.sms_reason,
            "sources": self.sources,
            "groups": self.lists,  # `Klaviyo: VIP`, `Mailjet: Newsletter`, `CSV: …`
            "lists": self.lists,
        }


class SourceRecord(NamedTuple):
    """One source's record of a contact, as that source gave it (the detail pane shows each
    source's values beside the contact's)."""

    source: str
    external_id: str
    phone: str | None
    phone_raw: str | None
    email: str | None
    first_name: str | None
    last_name: str | None
    fields: dict[str, Any]
    consent: str | None
    consent_at: float | None
    linked_at: float
    groups: list[str]  # the groups this record is in


class _ContactColumns(NamedTuple):
    """A contacts row as `batches` reads it, before its sources and lists are added."""

    id: int
    phone: str | None
    phone_raw: str | None
    email: str | None
    first_name: str | None
    last_name: str | None
    fields: str
    sms_status: str
    sms_changed_at: float | None
    sms_reason: str | None


_CONTACT_SELECT = f"SELECT {', '.join(f'c.{f}' for f in _ContactColumns._fields)} FROM contacts c"


class ContactRepo:
    """Reads contacts; marks opt-outs."""

    def __init__(self, db: peewee.Database) -> None:
        self.db = db

    def search(
        self, list_name: str | None = None, source: str | None = None, limit: int | None = None
    ) -> list[Contact]:
        """Contacts in the order they were added (at most `limit`)."""
        out: list[Contact] = []
        for batch in self.batches(list_name, source):
            out += batch
            if limit is not None and len(out) >= limit:
                return out[:limit]
        return out

    def batches(
        self, list_name: str | None = None, source: str | None = None, size: int = 2000
    ) -> Iterator[list[Contact]]:
        """All matching contacts, a batch at a time (keyset on id: flat memory at any size)."""
        where: list[str] = ["c.id > ?"]
        args: list[Any] = [0]
        if list_name is not None:
            where.append(
                "c.id IN (SELECT m.contact_id FROM list_members m JOIN contact_lists l"
                " ON l.id = m.list_id WHERE l.name = ?"
                " OR substr(l.name, instr(l.name, ': ') + 2) = ?)"  # a group's own name
            )
            args += [list_name, list_name]
        if source is not None:
            where.append("c.id IN (SELECT contact_id FROM contact_sources WHERE source = ?)")
            args.append(source.upper())
        sql = f"{_CONTACT_SELECT} WHERE {' AND '.join(where)} ORDER BY c.id LIMIT {int(size)}"
        while True:
            rows = list(map(_ContactColumns._make, self.db.execute_sql(sql, args)))
            if not rows:
                return
            yield self._with_links(rows)
            args[0] = rows[-1].id

    def _with_links(self, rows: list[_ContactColumns]) -> list[Contact]:
        ids = [r.id for r in rows]
        sources: dict[int, dict[str, list[str]]] = {}
        lists: dict[int, list[str]] = {}
        marks = ",".join("?" * len(ids))
        for cid, src, ext in self.db.execute_sql(
            f"SELECT contact_id, source, external_id FROM contact_sources"
            f" WHERE contact_id IN ({marks})",
            ids,
        ):
            sources.setdefault(cid, {}).setdefault(src, []).append(ext)
        for cid, name in self.db.execute_sql(
            f"SELECT m.contact_id, l.name FROM list_members m JOIN contact_lists l"
            f" ON l.id = m.list_id WHERE m.contact_id IN ({marks}) ORDER BY l.name",
            ids,
        ):
            lists.setdefault(cid, []).append(name)
        return [
            Contact(
                id=r.id,
                phone=r.phone,
                phone_raw=r.phone_raw,
                email=r.email,
                first_name=r.first_name,
                last_name=r.last_name,
                fields=json.loads(r.fields),
                sms_status=SmsStatus(r.sms_status),
                sms_changed_at=r.sms_changed_at,
                sms_reason=r.sms_reason,
                sources=sources.get(r.id, {}),
                lists=lists.get(r.id, []),
            )
            for r in rows
        ]

    def records(self, contact_id: int) -> list[SourceRecord]:
        """The contact's source records, in source order."""
        groups: dict[tuple[str, str], list[str]] = {}
        for source, ext, name in self.db.execute_sql(
            "SELECT s.source, s.external_id, l.name FROM contact_sources s"
            " JOIN record_members rm ON rm.source = s.source AND rm.external_id = s.external_id"
            " JOIN contact_lists l ON l.id = rm.list_id WHERE s.contact_id = ? ORDER BY l.name",
            (contact_id,),
        ):
            groups.setdefault((source, ext), []).append(name)
        rows = self.db.execute_sql(
            "SELECT source, external_id, phone, phone_raw, email, first_name, last_name, fields,"
            " consent, consent_at, linked_at FROM contact_sources WHERE contact_id = ?"
            " ORDER BY source, linked_at, external_id",
            (contact_id,),
        )
        return [
            SourceRecord._make((*r[:7], json.loads(r[7]), *r[8:11], groups.get((r[0], r[1]), [])))
            for r in rows
        ]

    def find_by_phone(self, phone: str) -> int | None:
        row = self.db.execute_sql("SELECT id FROM contacts WHERE phone = ?", (phone,)).fetchone()
        if row is None:
            return None
        (contact_id,) = row
        return int(contact_id)

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in SmsStatus}
        for status, n in self.db.execute_sql(
            "SELECT sms_status, count(*) FROM contacts GROUP BY sms_status"
        ):
            out[status] = n
        out["total"] = sum(out.values())
        (without_phone,) = self.db.execute_sql(
            "SELECT count(*) FROM contacts WHERE phone IS NULL"
        ).fetchone()
        out["without_phone"] = int(without_phone)
        return out

    def mark_opted_out(self, contact_id: int, reason: str, now: float, origin: str = LOCAL) -> bool:
        """Opt a contact out: its number is suppressed and the write-back queued, in one
        transaction. False when it was already opted out; its number's opt-out still takes
        this newer time, and Klaviyo is told again (they may have re-subscribed since)."""
        with self.db.atomic():
            row = self.db.execute_sql(
                "SELECT phone, sms_status FROM contacts WHERE id = ?", (contact_id,)
            ).fetchone()
            if row is None:
                raise KeyError(contact_id)
            phone, status = row
            if phone:
                suppress(self.db, phone, now, reason, origin)
                queue_write_back(self.db, contact_id, phone, now)
            if status == SmsStatus.OPTED_OUT.value:
                return False
            self.db.execute_sql(
                "UPDATE contacts SET sms_status = ?, sms_changed_at = ?, sms_reason = ?,"
                " updated_at = ? WHERE id = ?",
                (SmsStatus.OPTED_OUT.value, now, reason, now, contact_id),
            )
        return True

    def add_opted_out(self, phone: str, reason: str, now: float, origin: str = LOCAL) -> int:
        """A number that is not a contact yet opts out: remember it, and queue the write-back."""
        with self.db.atomic():
            cur = self.db.execute_sql(
                "INSERT INTO contacts (phone, phone_raw, sms_status, sms_changed_at, sms_reason,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (phone, phone, SmsStatus.OPTED_OUT.value, now, reason, now, now),
            )
            contact_id = int(cur.lastrowid)
            suppress(self.db, phone, now, reason, origin)
            queue_write_back(self.db, contact_id, phone, now)
        return contact_id

    def list_names(self, source: str) -> dict[str, str]:
        """The source's synced lists: external id -> name as the source has it."""
        rows = self.db.execute_sql(
            "SELECT external_id, name FROM contact_lists WHERE source = ?", (source,)
        )
        return {ext: name.split(": ", 1)[-1] for ext, name in rows}

    def list_member_counts(self, source: str = "KLAVIYO") -> dict[str, int]:
        """Cached sizes of the source's lists (Klaviyo's profile_count at the last sync)."""
        rows = self.db.execute_sql(
            "SELECT external_id, member_count FROM contact_lists"
            " WHERE source = ? AND member_count IS NOT NULL",
            (source,),
        )
        return {ext: int(n) for ext, n in rows}
