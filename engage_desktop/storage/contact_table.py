"""What the All Contacts table reads: an ordered id snapshot for a filter and sort, then rows a
page at a time by id. Sorting and filtering happen in SQL; a million ids take 8 MB."""

from __future__ import annotations

import json
import re
from array import array
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import peewee

from engage_desktop.core.consent import SmsStatus

# One background thread searches emails while the names are searched (two cores, and SQLite
# lets go of the interpreter lock while it reads).
_EMAIL_PASS = ThreadPoolExecutor(1, "contacts-email-search")
SORT_IN_MEMORY_MAX = 50_000

SORTS = {
    "name": "c.last_name, c.first_name, c.email, c.id",  # the contacts_name index's order
    "phone": "c.phone, c.id",
    "email": "c.email, c.id",
    "status": "c.sms_status, c.id",
    "updated": "c.updated_at, c.id",
}


@dataclass(frozen=True)
class ContactQuery:
    """A view of the contacts: search text, list, source, sort."""

    text: str = ""
    list_id: int | None = None
    source: str | None = None
    sort: str = "name"
    descending: bool = False


@dataclass(frozen=True)
class ContactRow:
    """One table row."""

    id: int
    name: str
    phone: str | None
    email: str | None
    status: SmsStatus
    sources: str
    lists: str
    updated_at: float


@dataclass(frozen=True)
class ListRow:
    """One contact list as Contact Lists shows it."""

    id: int
    name: str
    source: str
    members: int
    source_count: int | None  # the size the source reported at the last sync
    last_synced_at: float | None


@dataclass(frozen=True)
class Recipients:
    """A message's audience: who can get it, and who is left out and why."""

    eligible: int
    opted_out: int
    never_subscribed: int
    no_valid_phone: int

    @property
    def total(self) -> int:
        return self.eligible + self.opted_out + self.never_subscribed + self.no_valid_phone


@dataclass(frozen=True)
class ContactDetail:
    """Everything about one contact, for the detail pane."""

    row: ContactRow
    phone_raw: str | None
    fields: dict[str, Any]
    source_ids: list[tuple[str, str]]
    sms_changed_at: float | None
    sms_reason: str | None
    created_at: float


class ContactTable:
    """Id snapshots and pages of rows for the contacts screen."""

    def __init__(self, db: peewee.SqliteDatabase) -> None:
        self.db = db

    def ids(self, q: ContactQuery) -> array[int]:
        """Ids in display order. Words search names first; emails only when no name matches
        (or the text has @ or a dot): the email column costs a third of a search. For one
        word, the emails are searched meanwhile on another core, in case no name matches."""
        text = q.text.strip()
        emailish = "@" in text or "." in text
        if not text or emailish or _digits(text) or len(text.split()) > 1:
            found = self._ids(q, with_email=emailish)
            if not found and text and not emailish and not _digits(text):
                found = self._ids(q, with_email=True)
            return found
        in_emails = _EMAIL_PASS.submit(self._email_matches, text)
        found = self._ids(q, with_email=False)
        if found:
            return found
        matches = in_emails.result()
        if len(matches) > SORT_IN_MEMORY_MAX:  # cheaper to walk the name index once more
            return self._ids(q, with_email=True)
        return self._ordered(matches, q)

    def _email_matches(self, word: str) -> list[int]:
        """Ids whose email contains the word: a scan of the (short) email index."""
        rows = self.db.execute_sql(
            "SELECT rowid FROM contacts INDEXED BY contacts_email WHERE email LIKE ? ESCAPE '\\'",
            (_contains(word),),
        )
        return [r[0] for r in rows]

    def _ordered(self, ids: list[int], q: ContactQuery) -> array[int]:
        """These ids, filtered by list and source and in the query's order."""
        where, args = self._where(replace(q, text=""), with_email=False)
        clause = " AND ".join(p for p in (where.removeprefix(" WHERE "),) if p)
        sql = (
            "SELECT c.id FROM contacts c WHERE c.id IN (SELECT value FROM json_each(?))"
            + (f" AND {clause}" if clause else "")
            + f" ORDER BY {_order(q)}"
        )
        return array("q", (r[0] for r in self.db.execute_sql(sql, [json.dumps(ids), *args])))

    def _ids(self, q: ContactQuery, with_email: bool) -> array[int]:
        """By name, a search walks the covering name index in order (nothing else read,
        nothing sorted); by another column it scans the table once and sorts what matched
        (an index walk with a filter would look up every row)."""
        where, args = self._where(q, with_email)
        order = _order(q)
        source = "contacts c"
        if q.text.strip():
            by_name = (q.sort not in SORTS or q.sort == "name") and "c.phone" not in where
            source = "contacts c INDEXED BY contacts_name" if by_name else "contacts c NOT INDEXED"
        sql = f"SELECT c.id FROM {source}{where} ORDER BY {order}"
        out: array[int] = array("q")
        cursor = self.db.execute_sql(sql, args)
        while True:
            chunk = cursor.fetchmany(20000)
            if not chunk:
                return out
            out.extend(r[0] for r in chunk)

    def _where(self, q: ContactQuery, with_email: bool) -> tuple[str, list[Any]]:
        parts: list[str] = []
        args: list[Any] = []
        text = q.text.strip()
        if text:
            columns: tuple[str, ...] = ("c.last_name", "c.first_name")
            if _digits(text):  # a phone number, written any way
                columns, words = ("c.phone",), [_digits(text)]
            elif "@" in text:
                columns, words = ("c.email",), [text]
            else:  # every word, in any order
                columns += ("c.email",) if with_email else ()
                words = text.split()[:5]
            for word in words:
                parts.append("(" + " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in columns) + ")")
                args += [_contains(word)] * len(columns)
        if q.list_id is not None:
            parts.append("c.id IN (SELECT contact_id FROM list_members WHERE list_id = ?)")
            args.append(q.list_id)
        if q.source is not None:
            parts.append("c.id IN (SELECT contact_id FROM contact_sources WHERE source = ?)")
            args.append(q.source)
        return (" WHERE " + " AND ".join(parts), args) if parts else ("", [])

    def rows(self, ids: list[int]) -> dict[int, ContactRow]:
        """The rows for these ids (a page), keyed by id; deleted ids are simply absent."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        found = self.db.execute_sql(
            "SELECT c.id, c.first_name, c.last_name, c.phone, c.email, c.sms_status,"
            " c.updated_at,"
            " (SELECT group_concat(DISTINCT s.source) FROM contact_sources s"
            "   WHERE s.contact_id = c.id),"
            " (SELECT group_concat(l.name, ', ') FROM list_members m JOIN contact_lists l"
            "   ON l.id = m.list_id WHERE m.contact_id = c.id)"
            f" FROM contacts c WHERE c.id IN ({marks})",
            ids,
        ).fetchall()
        return {
            r[0]: ContactRow(
                r[0],
                " ".join(x for x in (r[1], r[2]) if x),
                r[3],
                r[4],
                SmsStatus(r[5]),
                r[7] or "",
                r[8] or "",
                r[6],
            )
            for r in found
        }

    def detail(self, contact_id: int) -> ContactDetail | None:
        row = self.rows([contact_id]).get(contact_id)
        if row is None:
            return None
        extra = self.db.execute_sql(
            "SELECT phone_raw, fields, sms_changed_at, sms_reason, created_at FROM contacts"
            " WHERE id = ?",
            (contact_id,),
        ).fetchone()
        ids = self.db.execute_sql(
            "SELECT source, external_id FROM contact_sources WHERE contact_id = ?"
            " ORDER BY source, external_id",
            (contact_id,),
        ).fetchall()
        return ContactDetail(
            row,
            extra[0],
            json.loads(extra[1]),
            [(s, e) for s, e in ids],
            extra[2],
            extra[3],
            extra[4],
        )

    def lists(self) -> list[tuple[int, str]]:
        """Local lists for the filter: (id, name)."""
        return [
            (int(i), n)
            for i, n in self.db.execute_sql("SELECT id, name FROM contact_lists ORDER BY name")
        ]

    def list_rows(self) -> list[ListRow]:
        """Every local list with its member count, for Contact Lists."""
        return [
            ListRow(int(r[0]), r[1], r[2], int(r[3]), r[4], r[5])
            for r in self.db.execute_sql(
                "SELECT l.id, l.name, l.source,"
                " (SELECT count(*) FROM list_members m WHERE m.list_id = l.id),"
                " l.member_count, l.last_synced_at FROM contact_lists l ORDER BY l.name"
            )
        ]

    def recipients(self, list_id: int | None) -> Recipients:
        """Who a message to this list (None: every contact) would reach, from committed data."""
        member = (
            ""
            if list_id is None
            else (" WHERE id IN (SELECT contact_id FROM list_members WHERE list_id = ?)")
        )
        row = self.db.execute_sql(
            "SELECT"
            " count(*) FILTER (WHERE sms_status = 'subscribed' AND phone IS NOT NULL),"
            " count(*) FILTER (WHERE sms_status = 'opted_out'),"
            " count(*) FILTER (WHERE sms_status = 'never_subscribed'),"
            " count(*) FILTER (WHERE sms_status = 'subscribed' AND phone IS NULL)"
            f" FROM contacts{member}",
            () if list_id is None else (list_id,),
        ).fetchone()
        return Recipients(*(int(x) for x in row))

    def sources(self) -> list[str]:
        """The source labels in use: one index probe per label (DISTINCT would read every
        source row, 100 ms at a million)."""
        return [
            r[0]
            for r in self.db.execute_sql(
                "WITH RECURSIVE s(label) AS (SELECT min(source) FROM contact_sources"
                " UNION ALL SELECT (SELECT min(source) FROM contact_sources WHERE source > label)"
                " FROM s WHERE label IS NOT NULL) SELECT label FROM s WHERE label IS NOT NULL"
            )
        ]

    def data_version(self) -> int:
        """Changes when another connection commits (a sync): time to refresh the view."""
        return int(self.db.execute_sql("PRAGMA data_version").fetchone()[0])


def _contains(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _digits(text: str) -> str:
    """The digits of a phone number written any way ('+1 (555) 012-3456'); '' otherwise."""
    digits = re.sub(r"[\s().+-]", "", text)
    return digits if digits.isdigit() else ""


def _order(q: ContactQuery) -> str:
    order = SORTS.get(q.sort, SORTS["name"])
    if q.descending:
        order = ", ".join(f"{part} DESC" for part in order.split(", "))
    return order
