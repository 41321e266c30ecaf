"""The Mailjet fetch: every listing a sync needs, read at once, joined by contact ID, staged
as it arrives.

A Mailjet contact comes in two halves, each from its own listing: `contact` (e-mail, name)
and `contactdata` (property values: the phone, the consent flag, mapped fields). Both are
read in ID order, so their pages meet quickly and little waits in memory; memberships come
from `listrecipient`, one listing per chosen list (an unsubscribed membership means the
contact left that group). When the chosen lists hold fewer than half of the account's
contacts, the halves are read list by list instead of for the whole account.

Nothing is assumed complete: a listing whose counts moved while it was read, a half that
never met its other half, a member without a contact beyond what can be asked for one by one,
a row without a readable ID — each is a gap, and the run then removes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from engage_desktop.mailjet.client import MailjetClient
from engage_desktop.mailjet.listing import Listing, PageShare
from engage_desktop.mailjet.models import (
    ContactData,
    MailjetContact,
    MalformedRow,
    parse_contact,
    parse_contact_data,
    parse_recipient,
)
from engage_desktop.storage.staging import StagedIssue, StagedRecord, StagingRepo
from engage_desktop.sync.fetch import Tally
from engage_desktop.sync.sources.mailjet_stage import MailjetRules, stage_contact

FLUSH_ROWS = 5000
LOOKUP_MAX = 1000  # halves or members without their other part asked for one by one, at most


@dataclass
class MailjetFetch:
    """Runs one Mailjet fetch into the staging area."""

    client: MailjetClient
    staging: StagingRepo
    rules: MailjetRules
    tally: Tally
    on_page: Callable[[], None]
    chains: int = 4
    seen: set[str] = field(default_factory=set)  # mapped properties some contact had
    _contacts: dict[int, MailjetContact] = field(default_factory=dict)
    _data: dict[int, ContactData] = field(default_factory=dict)
    _done: set[int] = field(default_factory=set)
    _rows: list[StagedRecord] = field(default_factory=list)
    _members: list[tuple[str, str]] = field(default_factory=list)
    _issues: list[StagedIssue] = field(default_factory=list)
    _kept: list[str] = field(default_factory=list)

    async def run(self, list_ids: Sequence[int], names: dict[int, str], per_list: bool) -> None:
        """Fetch the contacts on these lists and their memberships."""
        c = self.client
        halves: list[tuple[str, dict[str, str | int]]] = (
            [(r, {"ContactsList": i}) for i in list_ids for r in ("contact", "contactdata")]
            if per_list
            else [("contact", {}), ("contactdata", {})]
        )
        jobs = []
        # Pages in flight, shared by the listings: `chains` each for four listings' worth.
        share = PageShare(self.chains * 4)
        for resource, filters in halves:
            listing = c.listing(resource, filters, f"read {resource}", share)
            jobs.append(self._halves(listing, resource == "contact", not per_list))
        for list_id in list_ids:
            listing = c.listing(
                "listrecipient", {"ContactsList": list_id}, "read list members", share
            )
            jobs.append(self._recipients(listing, list_id, names.get(list_id, str(list_id))))
        try:
            await asyncio.gather(*jobs)
            await self._look_up(sorted(set(self._contacts) ^ set(self._data)), "halves")
        finally:
            self.flush()
        missing = self.staging.members_without_records(LOOKUP_MAX + 1)
        gone = await self._look_up([int(x) for x in missing], "members")
        self.flush()
        self.staging.drop_members([str(x) for x in gone])
        if self.tally.gaps:
            await self._look_up_unseen()

    async def _look_up_unseen(self) -> None:
        """A run with gaps removes nothing, and the records we have that it did not bring
        would keep what they said last time (a consent withdrawn since among them): up to
        LOOKUP_MAX are asked for one by one and staged on no list, so a withdrawn consent
        stands as any unlisted record's does."""
        unseen = self.staging.stored_not_staged(LOOKUP_MAX + 1)
        if 0 < len(unseen) <= LOOKUP_MAX:
            await self._look_up([int(x) for x in unseen if x.isdigit()], "unseen")
            self.flush()

    # ----- listings -------------------------------------------------------------------------
    async def _halves(self, listing: Listing, is_contact: bool, counts_all: bool) -> None:
        async for rows in listing.pages():
            if is_contact and counts_all and self.tally.expected is None:
                self.tally.expected = listing.total
            for row in rows:
                try:
                    half = parse_contact(row) if is_contact else parse_contact_data(row)
                except MalformedRow as bad:
                    self._unreadable(bad, "contact" if is_contact else "contact's properties")
                    continue
                cid = half.id if isinstance(half, MailjetContact) else half.contact_id
                if cid in self._done:
                    continue  # on several lists: read once
                if isinstance(half, MailjetContact):
                    self._contacts[cid] = half
                else:
                    self._data[cid] = half
                if cid in self._contacts and cid in self._data:
                    self._join(cid)
            self._flush_if_full()
            self.on_page()
        await self._check(listing)

    async def _check(self, listing: Listing) -> None:
        """Each listing is checked as soon as it is read, while the others go on."""
        gap = await listing.check()
        if gap:
            self.tally.gaps.append(gap)

    async def _recipients(self, listing: Listing, list_id: int, name: str) -> None:
        self.tally.reading[str(list_id)] = name
        async for rows in listing.pages():
            for row in rows:
                try:
                    r = parse_recipient(row)
                except MalformedRow as bad:
                    self.tally.gaps.append(f"a membership of {name} could not be read ({bad})")
                    continue
                if not r.unsubscribed:  # unsubscribed from the list: not in its group
                    self._members.append((str(list_id), str(r.contact_id)))
            self._flush_if_full()
            self.on_page()
        await self._check(listing)
        self.tally.reading.pop(str(list_id), None)
        self.tally.lists_done += 1

    # ----- joining and staging ------------------------------------------------------------
    def _join(self, cid: int) -> None:
        contact, data = self._contacts.pop(cid), self._data.pop(cid)
        self._done.add(cid)
        self._stage(contact, data)

    def _stage(self, contact: MailjetContact, data: ContactData) -> None:
        record, issues = stage_contact(contact, data, self.rules, self.seen)
        self._issues += issues
        self.tally.issues += len(issues)
        if record is None:
            self._kept.append(str(contact.id))
        else:
            self._rows.append(record)
            self.tally.fetched += 1

    def _unreadable(self, bad: MalformedRow, what: str) -> None:
        if bad.row_id is None:
            self.tally.gaps.append(f"a {what} without a readable ID ({bad.reason})")
            return
        self._done.add(bad.row_id)
        self._contacts.pop(bad.row_id, None)
        self._data.pop(bad.row_id, None)
        self._kept.append(str(bad.row_id))
        self._issues.append(
            StagedIssue(
                str(bad.row_id), None, None, f"{what} could not be read ({bad.reason}): kept"
            )
        )
        self.tally.issues += 1

    async def _look_up(self, ids: list[int], what: str) -> list[int]:
        """Contacts asked for one by one (a half without its other half, a member without
        a contact): created or deleted while the listings were read. Returns those gone."""
        if len(ids) > LOOKUP_MAX:  # (never for "unseen": its caller counted)
            self.tally.gaps.append(
                f"more than {LOOKUP_MAX:,} contacts came without their other half"
                if what == "halves"
                else f"more than {LOOKUP_MAX:,} list members came without their contacts"
            )
            return []
        gone: list[int] = []
        slots = asyncio.Semaphore(self.chains * 2)

        async def one(cid: int) -> None:
            async with slots:
                found = await self.client.get_contact(cid)
            self._contacts.pop(cid, None)
            self._data.pop(cid, None)
            if found is None:
                gone.append(cid)
            else:
                self._done.add(cid)
                self._stage(*found)

        await asyncio.gather(*(one(cid) for cid in ids))
        return gone

    def _flush_if_full(self) -> None:
        if len(self._rows) + len(self._members) >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if self._rows or self._members or self._issues or self._kept:
            self.staging.add(self._rows, self._members, self._issues, self._kept)
            self._rows, self._members, self._issues, self._kept = [], [], [], []
