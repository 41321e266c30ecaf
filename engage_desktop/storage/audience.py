"""Who a message to a list reaches, and who it leaves out and why: one SQL rule for the count,
the campaign's recipients and the preview.

A contact of the list is eligible when its SMS status is `subscribed` (under Explicit consent
that already means Klaviyo recorded SUBSCRIBED), it has a number the gateway takes, no opt-out
of that number stands in `suppressions`, MessageMedia's blacklist does not hold it, and every
required placeholder of the message has a value. The first reason that applies is the one
counted, in `SkipReason` order. Reads see committed data only (WAL): a sync committing
meanwhile is either wholly seen or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import peewee

from engage_desktop.core.messaging import SkipReason
from engage_desktop.core.personalisation import Template

# A number the gateway takes has 8 to 15 digits after the `+` (NOTES §1).
_MIN_PHONE_CHARS = 9
_WHITESPACE = "' \t\n\r'"  # a space, a tab, line ends: the characters themselves
_SUPPRESSED = (
    "EXISTS (SELECT 1 FROM suppressions s WHERE s.phone = c.phone AND s.lifted_at IS NULL)"
)
_BLOCKED = "EXISTS (SELECT 1 FROM gateway_blacklist b WHERE b.phone = c.phone AND b.listed = 1)"
_SENDABLE = f"c.sms_status = 'subscribed' AND length(c.phone) >= {_MIN_PHONE_CHARS}"


def missing_sql(template: Template | None) -> tuple[str | None, list[Any]]:
    """A condition true when contact `c` lacks a value for a required placeholder (None: the
    message has none), and its parameters."""
    empty: list[str] = []
    params: list[Any] = []
    for p in template.placeholders if template is not None else ():
        if not p.required:
            continue
        if p.builtin:
            empty.append(f"coalesce(trim(c.{p.name}, {_WHITESPACE}), '') = ''")
        else:
            empty.append(f"coalesce(trim(json_extract(c.fields, ?), {_WHITESPACE}), '') = ''")
            params.append(f'$."{p.name}"')
    return (f"({' OR '.join(empty)})" if empty else None), params


def reason_sql(template: Template | None) -> tuple[str, list[Any]]:
    """The CASE that gives a contact `c`'s skip reason (NULL: eligible), and its parameters.
    The cheap tests come first; the look-ups run only for contacts that pass them."""
    whens = [
        f"WHEN c.sms_status = 'opted_out' THEN '{SkipReason.OPTED_OUT}'",
        f"WHEN c.sms_status <> 'subscribed' THEN '{SkipReason.NEVER_SUBSCRIBED}'",
        f"WHEN c.phone IS NULL OR length(c.phone) < {_MIN_PHONE_CHARS}"
        f" THEN '{SkipReason.NO_VALID_PHONE}'",
        f"WHEN {_SUPPRESSED} THEN '{SkipReason.OPTED_OUT}'",
        f"WHEN {_BLOCKED} THEN '{SkipReason.GATEWAY_BLOCKED}'",
    ]
    missing, params = missing_sql(template)
    if missing is not None:
        whens.append(f"WHEN {missing} THEN '{SkipReason.MISSING_FIELD}'")
    return f"CASE {' '.join(whens)} END", params


class ListRef(NamedTuple):
    """A local contact list as a message names it (None id: every contact)."""

    id: int | None
    name: str


class AudienceRow(NamedTuple):
    """One contact of the audience, with what a message needs from it."""

    contact_id: int
    phone: str | None
    first_name: str | None
    last_name: str | None
    email: str | None
    fields: str  # JSON
    reason: str | None  # the skip reason by the SQL rule (missing fields not included)


ALL_CONTACTS = ListRef(None, "All contacts")


class AudienceRepo:
    """Counts and reads a list's audience for a message."""

    def __init__(self, db: peewee.Database) -> None:
        self.db = db

    def find_list(self, ref: str) -> ListRef:
        """A list by its local id, its source id, its name, or its name without the source
        label ("VIP" for "Klaviyo: VIP"). LookupError says which exist, or which match."""
        text = ref.strip()
        rows = self.db.execute_sql(
            "SELECT id, name FROM contact_lists WHERE CAST(id AS TEXT) = ? OR external_id = ?"
            " OR name = ? OR (instr(name, ': ') > 0 AND substr(name, instr(name, ': ') + 2) = ?)"
            " ORDER BY id",
            (text, text, text, text),
        ).fetchall()
        exact = [r for r in rows if str(r[0]) == text or r[1] == text] or rows
        if len(exact) == 1:
            return ListRef(int(exact[0][0]), str(exact[0][1]))
        if not exact:
            names = [str(n) for (n,) in self.db.execute_sql("SELECT name FROM contact_lists")]
            raise LookupError(
                f"No contact list '{text}'. Lists: {', '.join(sorted(names)) or 'none yet'}."
            )
        shown = ", ".join(f"{name} (id {lid})" for lid, name in exact)
        raise LookupError(f"'{text}' names several lists: {shown}. Give the id.")

    def counts(self, lst: ListRef, template: Template | None) -> dict[str | None, int]:
        """How many contacts of the list fall under each skip reason (None: eligible), by
        the same rule as `reason_sql`, computed faster than grouping by it: one scan of the
        list sums what each contact's own row says; the look-ups run from the other side, from
        the standing opt-outs and the blacklist (far fewer rows than a big list), for the
        contacts the scan counted as sendable. A million contacts: well under a second."""
        missing, params = missing_sql(template)
        source, where, args = _members(lst)
        total, opted, never, no_phone, lacking = self.db.execute_sql(
            "SELECT count(*), count(*) FILTER (WHERE c.sms_status = 'opted_out'),"
            " count(*) FILTER (WHERE c.sms_status NOT IN ('opted_out', 'subscribed')),"
            " count(*) FILTER (WHERE c.sms_status = 'subscribed'"
            f" AND (c.phone IS NULL OR length(c.phone) < {_MIN_PHONE_CHARS})),"
            f" count(*) FILTER (WHERE {_SENDABLE} AND {missing or '1 = 0'})"
            f" FROM {source}{where}",
            [*params, *args],
        ).fetchone()
        member = (
            ""
            if lst.id is None
            else (
                " AND EXISTS (SELECT 1 FROM list_members m WHERE m.contact_id = c.id"
                " AND m.list_id = ?)"
            )
        )
        lacks = f"count(*) FILTER (WHERE {missing})" if missing else "0"
        # CROSS JOIN keeps the small table outside: SQLite would otherwise walk every contact
        # and probe an empty blacklist (half a second at a million).
        suppressed, suppressed_lacking = self.db.execute_sql(
            f"SELECT count(*), {lacks} FROM suppressions s CROSS JOIN contacts c"
            f" ON c.phone = s.phone WHERE s.lifted_at IS NULL AND {_SENDABLE}{member}",
            [*params, *args],
        ).fetchone()
        blocked, blocked_lacking = self.db.execute_sql(
            f"SELECT count(*), {lacks} FROM gateway_blacklist b CROSS JOIN contacts c"
            f" ON c.phone = b.phone WHERE b.listed = 1 AND {_SENDABLE} AND NOT {_SUPPRESSED}"
            f"{member}",
            [*params, *args],
        ).fetchone()
        lacking -= suppressed_lacking + blocked_lacking
        out: dict[str | None, int] = {
            SkipReason.OPTED_OUT.value: opted + suppressed,
            SkipReason.NEVER_SUBSCRIBED.value: never,
            SkipReason.NO_VALID_PHONE.value: no_phone,
            SkipReason.GATEWAY_BLOCKED.value: blocked,
            SkipReason.MISSING_FIELD.value: lacking,
        }
        out[None] = total - sum(v for v in out.values())
        return {k: int(v) for k, v in out.items() if v or k is None}

    def rows(self, lst: ListRef, size: int = 5000, after: int = 0) -> Iterator[list[AudienceRow]]:
        """The list's contacts after contact id `after`, in id order, a chunk at a time
        (keyset: flat memory at any size)."""
        case, params = reason_sql(None)
        source, where, args = _members(lst)
        key = "c.id" if lst.id is None else "m.contact_id"  # the list's primary key order
        where = f"{where} AND {key} > ?" if where else f" WHERE {key} > ?"
        sql = (
            f"SELECT c.id, c.phone, c.first_name, c.last_name, c.email, c.fields, {case}"
            f" FROM {source}{where} ORDER BY {key} LIMIT {int(size)}"
        )
        last = after
        while True:
            chunk = list(map(AudienceRow._make, self.db.execute_sql(sql, [*params, *args, last])))
            if not chunk:
                return
            yield chunk
            last = chunk[-1].contact_id

    def field_names(self) -> list[str]:
        """The platform fields a message may name."""
        return [str(n) for (n,) in self.db.execute_sql("SELECT name FROM platform_fields")]


def _members(lst: ListRef) -> tuple[str, str, list[Any]]:
    """FROM clause, WHERE clause and arguments of a list's contacts `c`."""
    if lst.id is None:
        return "contacts c", "", []
    return (
        "list_members m JOIN contacts c ON c.id = m.contact_id",
        " WHERE m.list_id = ?",
        [lst.id],
    )
