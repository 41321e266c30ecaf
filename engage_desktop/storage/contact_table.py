"""What the All Contacts table reads: an ordered id snapshot for a filter and sort, then rows a
page at a time by id. Sorting and filtering happen in SQL; a million ids take 8 MB."""

from __future__ import annotations

import json
import random
import re
import sqlite3
import sys
import threading
from array import array
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import orjson
import peewee

from engage_desktop.core.consent import SmsStatus
from engage_desktop.storage.changes import change_count
from engage_desktop.storage.dialect import is_postgres, search_words

# One background thread, with a connection of its own, on the other core (SQLite lets go of
# the interpreter lock while it reads): it searches the emails while the names are searched, and
# reads the second half of a big table's order while the first half is read.
_OTHER_CORE = ThreadPoolExecutor(1, "contacts-other-core")
SORT_IN_MEMORY_MAX = 50_000
# Snapshots this big are kept (a million ids: 8 MB each) until the data changes: clearing a
# search or turning a sort around then costs no query.
CACHE_MIN = 100_000
CACHE_KEPT = 3
# Views at least this big have their first page painted before their whole order, which is
# read on two connections at once, cut at a sampled median.
BIG_VIEW = 100_000
CUT_SAMPLE = 63
Parts = tuple[tuple[str, str], ...]  # (condition, ORDER BY) of queries read one after another
Piece = tuple[str, str, tuple[Any, ...]]  # a part with the arguments of its condition


@dataclass(frozen=True)
class _Order:
    """One sort, ascending (descending is its ids reversed: every order ends with the id)."""

    whole: str  # as one ORDER BY: for matches SQLite sorts (a scan's, or a list of ids)
    # Parts read one after another, each walking an index in its order: (condition, ORDER BY).
    parts: Parts = ()
    # Where a whole table's walk can be cut in two: the part, and its first ORDER BY column.
    cut: tuple[int, str] | None = None

    def walks(self) -> Parts:
        return self.parts or (("", self.whole),)

    def halves(self, median: Any) -> tuple[list[Piece], list[Piece]]:
        """The walks in two halves, read on two connections: the cut part's rows below the
        median (after its rows with no value there: NULLs come first), then the rest."""
        assert self.cut is not None
        at, column = self.cut
        walks = [(condition, order, ()) for condition, order in self.walks()]
        condition, order, _ = walks[at]

        def also(extra: str) -> str:
            return f"{condition} AND {extra}" if condition else extra

        first = [
            *walks[:at],
            (also(f"{column} IS NULL"), order, ()),
            (also(f"{column} < ?"), order, (median,)),
        ]
        return first, [(also(f"{column} >= ?"), order, (median,)), *walks[at + 1 :]]


# By name, the contacts_name index (last name, first name, email) gives the order. Contacts
# without a last name come after all who have one (by first name), and contacts without any
# name last (by email), instead of first as NULLs would in one walk.
ORDERS: dict[str, _Order] = {
    "name": _Order(
        "c.last_name IS NULL, c.last_name, c.last_name IS NULL AND c.first_name IS NULL,"
        " c.first_name, c.email, c.id",
        (
            ("c.last_name IS NOT NULL", "c.last_name, c.first_name, c.email, c.id"),
            ("c.last_name IS NULL AND c.first_name IS NOT NULL", "c.first_name, c.email, c.id"),
            ("c.last_name IS NULL AND c.first_name IS NULL", "c.email, c.id"),
        ),
        cut=(0, "c.last_name"),
    ),
    "phone": _Order("c.phone, c.id", cut=(0, "c.phone")),
    "email": _Order("c.email, c.id", cut=(0, "c.email")),
    "status": _Order("c.sms_status, c.id"),  # no index: sorted (~0.4 s at a million)
    "updated": _Order("c.updated_at, c.id", cut=(0, "c.updated_at")),
}


@dataclass(frozen=True)
class ContactQuery:
    """A view of the contacts: search text, list, source, sort."""

    text: str = ""
    list_id: int | None = None
    source: str | None = None
    sort: str = "name"
    descending: bool = False

    @property
    def order(self) -> _Order:
        return ORDERS.get(self.sort, ORDERS["name"])


class ContactRow(NamedTuple):
    """One table row, named as the contacts columns it comes from."""

    id: int
    first_name: str | None
    last_name: str | None
    phone: str | None
    email: str | None
    sms_status: str
    updated_at: float
    sources: str  # labels, comma-separated
    lists: str  # names, comma-separated

    @property
    def name(self) -> str:
        """As written in a sentence: "Ann Lee" ('' without a name)."""
        return " ".join(x for x in (self.first_name, self.last_name) if x)

    @property
    def status(self) -> SmsStatus:
        return SmsStatus(self.sms_status)


_ROW_SELECT = (
    "SELECT c.id, c.first_name, c.last_name, c.phone, c.email, c.sms_status, c.updated_at,"
    " coalesce((SELECT group_concat(DISTINCT s.source) FROM contact_sources s"
    "   WHERE s.contact_id = c.id), '') AS sources,"
    " coalesce((SELECT group_concat(l.name, ', ') FROM list_members m JOIN contact_lists l"
    "   ON l.id = m.list_id WHERE m.contact_id = c.id), '') AS lists"
    " FROM contacts c"
)


class FirstPage(NamedTuple):
    """A view's size and its first rows' ids, read before the rest."""

    total: int
    ids: array[int]


class ListRow(NamedTuple):
    """One contact list as Contact Lists shows it."""

    id: int
    name: str
    source: str
    members: int
    source_count: int | None  # the size the source reported at the last sync
    last_synced_at: float | None


class ListChoice(NamedTuple):
    """A list to filter by or send to."""

    id: int
    name: str


class SourceId(NamedTuple):
    """Who a contact is in one of its sources."""

    source: str
    external_id: str


class Recipients(NamedTuple):
    """A message's audience: who can get it, and who is left out and why."""

    eligible: int
    opted_out: int
    never_subscribed: int
    no_valid_phone: int

    @property
    def total(self) -> int:
        return self.eligible + self.opted_out + self.never_subscribed + self.no_valid_phone


class _Extra(NamedTuple):
    """The contacts columns only the detail pane shows."""

    phone_raw: str | None
    fields: str
    sms_changed_at: float | None
    sms_reason: str | None
    created_at: float


@dataclass(frozen=True)
class ContactDetail:
    """Everything about one contact, for the detail pane."""

    row: ContactRow
    phone_raw: str | None
    fields: dict[str, Any]
    source_ids: list[SourceId]
    sms_changed_at: float | None
    sms_reason: str | None
    created_at: float


class ContactTable:
    """Id snapshots and pages of rows for the contacts screen."""

    def __init__(self, db: peewee.Database) -> None:
        self.db = db
        self._kept: OrderedDict[ContactQuery, _Kept] = OrderedDict()
        self._kept_lock = threading.Lock()

    def ids(self, q: ContactQuery) -> array[int]:
        """Ids in display order (a new array: the caller may keep it)."""
        ascending = replace(q, descending=False)
        version = self._version()
        kept = self._kept.get(ascending)  # (one dict read: atomic)
        if kept is None or kept.version != version:
            kept = _Kept(version, self._ascending(ascending))
            if len(kept.ids) >= CACHE_MIN:
                with self._kept_lock:
                    self._kept[ascending] = kept
                    while len(self._kept) > CACHE_KEPT:
                        self._kept.popitem(last=False)
        out = array("q", kept.ids)  # a copy: reversing must not touch what is kept
        if q.descending:
            out.reverse()
        return out

    def first_page(self, q: ContactQuery, size: int) -> FirstPage | None:
        """How many rows a big table view has and its first `size` ids, to paint while its
        whole order is read (~150 ms at a million); None for a search, a small view or one
        kept (the whole order is as quick)."""
        if q.text.strip():
            return None
        kept = self._kept.get(replace(q, descending=False))
        if kept is not None and kept.version == self._version():
            return None
        where, args = self._where(q, with_email=False)
        walks = q.order.walks()
        if q.descending:  # the last rows going up, every term turned around
            walks = tuple((c, _descending(by)) for c, by in reversed(walks))
        with self.db.atomic("DEFERRED"):  # the count and the rows of one committed state
            (total,) = self.db.execute_sql(
                f"SELECT count(*) FROM contacts c{_where_clause(where)}", args
            ).fetchone()
            if total < BIG_VIEW:
                return None
            ids: list[int] = []
            for part, by in walks:
                clause = _where_clause([*where, part] if part else where)
                cursor = self.db.execute_sql(
                    f"SELECT c.id FROM contacts c{clause} ORDER BY {by} LIMIT ?",
                    [*args, size - len(ids)],
                )
                ids += (found for (found,) in cursor)
                if len(ids) >= size:
                    break
        return FirstPage(total, array("q", ids))

    def _version(self) -> _Version:
        """Changes whenever what this thread's connection reads may have changed: another
        connection committed (data_version), or this one wrote (total_changes)."""
        conn = self.db.connection()
        if is_postgres(self.db):  # every write transaction, anyone's, bumps the counter
            return _Version(conn, change_count(self.db), 0)
        (data_version,) = conn.execute("PRAGMA data_version").fetchone()
        return _Version(conn, int(data_version), conn.total_changes)

    def _ascending(self, q: ContactQuery) -> array[int]:
        """Words search names first; emails only when no name matches (or the text has @ or
        a dot): the email column costs a third of a search. For one word, the emails are
        searched meanwhile on another core, in case no name matches."""
        text = q.text.strip()
        emailish = "@" in text or "." in text
        if is_postgres(self.db) or not text or emailish or _digits(text) or len(text.split()) > 1:
            found = self._ids(q, with_email=emailish)
            if not found and text and not emailish and not _digits(text):
                found = self._ids(q, with_email=True)
            return found
        in_emails = _OTHER_CORE.submit(self._email_matches, text)
        found = self._ids(q, with_email=False)
        if found:
            return found
        matches = in_emails.result()
        if matches is None:  # cheaper to walk the name index once more
            return self._ids(q, with_email=True)
        return self._ordered(matches, q)

    def _email_matches(self, word: str) -> str | None:
        """Ids whose email contains the word, as a JSON array (a scan of the short email
        index); None when there are too many to sort in memory."""
        (found,) = self.db.execute_sql(
            "SELECT iif(count(*) > ?, NULL, json_group_array(rowid)) FROM contacts"
            " INDEXED BY contacts_email WHERE email LIKE ? ESCAPE '\\'",
            (SORT_IN_MEMORY_MAX, _contains(word)),
        ).fetchone()
        return None if found is None else str(found)

    def _ordered(self, ids: str, q: ContactQuery) -> array[int]:
        """These ids (a JSON array), filtered by list and source and in the query's order."""
        where, args = self._where(replace(q, text=""), with_email=False)
        where.insert(0, "c.id IN (SELECT value FROM json_each(?))")
        return self._read("contacts c", where, [ids, *args], (("", q.order.whole),))

    def _ids(self, q: ContactQuery, with_email: bool) -> array[int]:
        """By name, a search walks the covering name index in order (nothing else read,
        nothing sorted); by another column, or for a phone, it scans the table once and sorts
        what matched (an index walk with a filter would look up every row)."""
        where, args = self._where(q, with_email)
        text = q.text.strip()
        if not text:
            return self._walk(where, args, q.order)
        if q.order is ORDERS["name"] and not _digits(text):
            return self._read("contacts c INDEXED BY contacts_name", where, args, q.order.walks())
        return self._read("contacts c NOT INDEXED", where, args, (("", q.order.whole),))

    def _read(self, source: str, where: list[str], args: list[Any], parts: Parts) -> array[int]:
        """The ids matching `where`, part after part, in one read transaction."""
        with self.db.atomic("DEFERRED"):  # every part reads the same committed state
            return self._found(source, where, args, [(c, o, ()) for c, o in parts])

    def _found(
        self, source: str, where: list[str], args: list[Any], pieces: list[Piece]
    ) -> array[int]:
        """The ids of these pieces, one query each (a FILTER clause per part in one query costs
        more than the walks), each piece's handed over as one value: a row per id through the
        driver takes twice as long. SQLite's is a JSON array (an array built from the parsed
        list: twice as fast as extending one); PostgreSQL's is 8-byte big-endian integers
        end to end (`int8send`), nothing to parse (a million: 223 ms, json_agg 257 ms)."""
        postgres = is_postgres(self.db)
        together = "string_agg(int8send(id), ''::bytea)" if postgres else "json_group_array(id)"
        found = [
            self.db.execute_sql(
                f"SELECT {together} FROM (SELECT c.id FROM {source}"
                f"{_where_clause([*where, part] if part else where)} ORDER BY {order}) AS found",
                [*args, *extra],
            ).fetchone()[0]
            for part, order, extra in pieces
        ]
        if postgres:
            return _integers(b"".join(value or b"" for value in found))
        ids: list[int] = []
        for value in found:
            ids += orjson.loads(value)
        return array("q", ids)

    def _walk(self, where: list[str], args: list[Any], order: _Order) -> array[int]:
        """A whole table (or a list, a source) in an index's order. A big one is read in two
        halves at once, this connection and one on the other core, both in read transactions
        that see the same commit (SQLite: checked, else this one reads it all; PostgreSQL:
        the other transaction takes this one's snapshot)."""
        walks = order.walks()
        median = None if order.cut is None else self._median(order.cut[1])
        if median is None:
            return self._read("contacts c", where, args, walks)
        first, second = order.halves(median)
        if is_postgres(self.db):
            return self._walk_one_snapshot(where, args, first, second)
        conn = self.db.connection()
        (before,) = conn.execute("PRAGMA data_version").fetchone()
        other = _OtherHalf()
        _OTHER_CORE.submit(other.read, self, where, args, second)
        other.started.wait()
        with self.db.atomic("DEFERRED"):
            self.db.execute_sql("SELECT 1 FROM contacts LIMIT 1").fetchone()  # the snapshot
            (after,) = conn.execute("PRAGMA data_version").fetchone()
            ids = self._found("contacts c", where, args, first)
            if before == after:  # no commit since the other transaction began: the same data
                ids += other.done.result()
            else:
                ids += self._found("contacts c", where, args, second)
        return ids

    def _walk_one_snapshot(
        self, where: list[str], args: list[Any], first: list[Piece], second: list[Piece]
    ) -> array[int]:
        """PostgreSQL: the second half read on the other core's connection, in a transaction
        given this one's snapshot (`pg_export_snapshot`, valid while this one is open: it
        waits for the other half before it ends). The server walks both halves at once."""
        with self.db.atomic("DEFERRED"):
            (snapshot,) = self.db.execute_sql("SELECT pg_export_snapshot()").fetchone()
            other = _OtherHalf(snapshot)
            _OTHER_CORE.submit(other.read, self, where, args, second)
            ids = self._found("contacts c", where, args, first)
            ids += other.done.result()
        return ids

    def _median(self, column: str) -> Any:
        """The middle of a random sample of the column, or None for a small table."""
        (top,) = self.db.execute_sql("SELECT max(id) FROM contacts").fetchone()
        if top is None or top < BIG_VIEW:
            return None
        picks = ",".join(map(str, random.sample(range(1, top + 1), min(CUT_SAMPLE, top))))
        values = sorted(
            value
            for (value,) in self.db.execute_sql(
                f"SELECT {column} FROM contacts c WHERE id IN ({picks}) AND {column} IS NOT NULL"
            )
        )
        return values[len(values) // 2] if values else None

    def _where(self, q: ContactQuery, with_email: bool) -> tuple[list[str], list[Any]]:
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
            # The team database looks a word up first in its one trigram index of the three
            # columns (`search_words`), then in the columns asked.
            ahead = (
                f"{search_words('c.')} LIKE ? ESCAPE '\\' AND "
                if is_postgres(self.db) and columns != ("c.phone",)
                else ""
            )
            for word in words:
                asked = " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in columns)
                parts.append(f"{ahead}({asked})")
                args += [_contains(word)] * (len(columns) + bool(ahead))
        if q.list_id is not None:
            parts.append("c.id IN (SELECT contact_id FROM list_members WHERE list_id = ?)")
            args.append(q.list_id)
        if q.source is not None:
            parts.append("c.id IN (SELECT contact_id FROM contact_sources WHERE source = ?)")
            args.append(q.source)
        return parts, args

    def rows(self, ids: list[int]) -> dict[int, ContactRow]:
        """The rows for these ids (a page), keyed by id; deleted ids are simply absent."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        cursor = self.db.execute_sql(f"{_ROW_SELECT} WHERE c.id IN ({marks})", ids)
        return {row.id: row for row in map(ContactRow._make, cursor)}

    def detail(self, contact_id: int) -> ContactDetail | None:
        row = self.rows([contact_id]).get(contact_id)
        if row is None:
            return None
        extra = _Extra._make(
            self.db.execute_sql(
                "SELECT phone_raw, fields, sms_changed_at, sms_reason, created_at FROM contacts"
                " WHERE id = ?",
                (contact_id,),
            ).fetchone()
        )
        ids = self.db.execute_sql(
            "SELECT source, external_id FROM contact_sources WHERE contact_id = ?"
            " ORDER BY source, external_id",
            (contact_id,),
        )
        return ContactDetail(
            row=row,
            phone_raw=extra.phone_raw,
            fields=json.loads(extra.fields),
            source_ids=list(map(SourceId._make, ids)),
            sms_changed_at=extra.sms_changed_at,
            sms_reason=extra.sms_reason,
            created_at=extra.created_at,
        )

    def lists(self) -> list[ListChoice]:
        """Local lists for the filter, by name."""
        cursor = self.db.execute_sql("SELECT id, name FROM contact_lists ORDER BY name")
        return list(map(ListChoice._make, cursor))

    def list_rows(self) -> list[ListRow]:
        """Every local list with its member count, for Contact Lists."""
        cursor = self.db.execute_sql(
            "SELECT l.id, l.name, l.source,"
            " (SELECT count(*) FROM list_members m WHERE m.list_id = l.id) AS members,"
            " l.member_count AS source_count, l.last_synced_at"
            " FROM contact_lists l ORDER BY l.name"
        )
        return list(map(ListRow._make, cursor))

    def recipients(self, list_id: int | None) -> Recipients:
        """Who a message to this list (None: every contact) would reach, from committed data."""
        member = " WHERE id IN (SELECT contact_id FROM list_members WHERE list_id = ?)"
        row = self.db.execute_sql(
            "SELECT"
            " count(*) FILTER (WHERE sms_status = 'subscribed' AND phone IS NOT NULL)"
            "   AS eligible,"
            " count(*) FILTER (WHERE sms_status = 'opted_out') AS opted_out,"
            " count(*) FILTER (WHERE sms_status = 'never_subscribed') AS never_subscribed,"
            " count(*) FILTER (WHERE sms_status = 'subscribed' AND phone IS NULL)"
            "   AS no_valid_phone"
            f" FROM contacts{'' if list_id is None else member}",
            () if list_id is None else (list_id,),
        ).fetchone()
        return Recipients._make(row)

    def sources(self) -> list[str]:
        """The source labels in use: one index probe per label (DISTINCT would read every
        source row, 100 ms at a million)."""
        cursor = self.db.execute_sql(
            "WITH RECURSIVE s(label) AS (SELECT min(source) FROM contact_sources"
            " UNION ALL SELECT (SELECT min(source) FROM contact_sources WHERE source > label)"
            " FROM s WHERE label IS NOT NULL) SELECT label FROM s WHERE label IS NOT NULL"
        )
        return [label for (label,) in cursor]

    def data_version(self) -> int:
        """Changes when another connection commits (a sync): time to refresh the view. On
        the team database: when anyone's write transaction commits (another desktop's too)."""
        if is_postgres(self.db):
            return change_count(self.db)
        (version,) = self.db.execute_sql("PRAGMA data_version").fetchone()
        return int(version)


class _Version(NamedTuple):
    """What a kept snapshot was read from; the connection is held so its id is not reused."""

    connection: sqlite3.Connection | Any
    data_version: int
    total_changes: int


class _OtherHalf:
    """The second half of a walk, read on the other core's connection: `started` is set once
    its read transaction has begun (or it failed), `done` holds the ids. On PostgreSQL the
    transaction takes the snapshot another one exported."""

    def __init__(self, snapshot: str | None = None) -> None:
        self.snapshot = snapshot
        self.started = threading.Event()
        self.done: Future[array[int]] = Future()

    def read(
        self, table: ContactTable, where: list[str], args: list[Any], pieces: list[Piece]
    ) -> None:
        try:
            with table.db.atomic("DEFERRED"):
                if self.snapshot is not None:
                    assert re.fullmatch(r"[0-9A-F-]+", self.snapshot), self.snapshot
                    table.db.execute_sql(f"SET TRANSACTION SNAPSHOT '{self.snapshot}'")
                table.db.execute_sql("SELECT 1 FROM contacts LIMIT 1").fetchone()
                self.started.set()
                self.done.set_result(table._found("contacts c", where, args, pieces))
        except BaseException as e:  # said to the waiting reader, which raises it
            self.done.set_exception(e)
        finally:
            self.started.set()


class _Kept(NamedTuple):
    """A snapshot kept for its query, and what it was read from."""

    version: _Version
    ids: array[int]


def _integers(packed: bytes) -> array[int]:
    """8-byte big-endian integers, one after another (PostgreSQL's `int8send`)."""
    out = array("q", packed)
    if sys.byteorder == "little":
        out.byteswap()
    return out


def _where_clause(conditions: list[str]) -> str:
    return " WHERE " + " AND ".join(conditions) if conditions else ""


def _descending(order: str) -> str:
    """An ORDER BY turned around, term by term."""
    return ", ".join(f"{term.strip()} DESC" for term in order.split(","))


def _contains(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _digits(text: str) -> str:
    """The digits of a phone number written any way ('+1 (555) 012-3456'); '' otherwise."""
    digits = re.sub(r"[\s().+-]", "", text)
    return digits if digits.isdigit() else ""
