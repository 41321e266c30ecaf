"""The fetch phase: choose what to ask Klaviyo for, and stage every page as it arrives.

Klaviyo limits each endpoint separately (750 requests a minute each), so a full sync of every
list uses three of them at once: Get Profiles for the profiles themselves (each once, however
many lists it is on), and the memberships split between Get List Profiles and the ids-only
Get List Relationships, balanced by list size. A full sync of chosen lists, and incremental
runs, read list members directly.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from engage_desktop.core.mapping import STANDARD_ATTRIBUTES, MappingSpec
from engage_desktop.klaviyo.client import KlaviyoClient
from engage_desktop.klaviyo.errors import KlaviyoError
from engage_desktop.klaviyo.models import KlaviyoList, read_profiles
from engage_desktop.klaviyo.windows import (
    Page,
    ParallelPull,
    pull_list_member_ids,
    pull_list_members,
    pull_profiles,
    pull_updated_profiles,
)
from engage_desktop.storage.connection import Connection
from engage_desktop.storage.staging import StagedIssue, StagedRecord, StagingRepo
from engage_desktop.sync.profiles import stage_profile

OVERLAP_S = 600.0  # incremental windows start this far before the watermark
FLUSH_ROWS = 5000
# Members a list listed whose profiles Get Profiles did not bring (created during the run, or
# a listing that lost pages): up to this many are asked for one by one; more make the
# listing incomplete.
LOOKUP_MAX = 1000
# What staging reads of a profile (the windows add their key field): a sparse fieldset
# halves the bytes of a page and the client's JSON work. Mappings add their top attribute.
STAGED_FIELDS = (
    "email",
    "phone_number",
    "first_name",
    "last_name",
    "updated",
    "subscriptions.sms.marketing",
)
# Top-level attributes Klaviyo accepts in `fields[profile]`; a mapping to anything else
# makes the fetch ask for every attribute, as it did before sparse fieldsets.
SPARSE_ATTRIBUTES = frozenset(
    {path.split(".", 1)[0] for path in STANDARD_ATTRIBUTES} | {"properties"}
)


def sparse_fields(mappings: list[MappingSpec]) -> tuple[str, ...] | None:
    """The attributes a fetch needs for staging and these mappings; None: all of them."""
    tops = {m.path.split(".", 1)[0] for m in mappings}
    if not tops <= SPARSE_ATTRIBUTES:
        return None
    return (*STAGED_FIELDS, *sorted(tops - set(STAGED_FIELDS)))


@dataclass
class Tally:
    """What the fetch has done so far (read by progress snapshots)."""

    fetched: int = 0
    issues: int = 0
    lists_done: int = 0
    lists_total: int = 0
    expected: int | None = None
    joined: dict[str, float] = field(default_factory=dict)  # list id -> newest join seen
    seen_paths: set[str] = field(default_factory=set)
    reading: dict[str, str] = field(default_factory=dict)  # list id -> name, in progress
    # Why this run cannot prove its listing complete (then it removes nothing).
    gaps: list[str] = field(default_factory=list)

    @property
    def current_list(self) -> str | None:
        """The lists being read now, as shown in the status panel."""
        names = list(self.reading.values())
        if not names:
            return None
        return ", ".join(names[:2]) + (f" and {len(names) - 2} more" if len(names) > 2 else "")

    def saw_join(self, list_id: str, when: float) -> None:
        self.joined[list_id] = max(when, self.joined.get(list_id, when))


@dataclass
class Fetcher:
    """Runs one fetch plan into the staging area."""

    client: KlaviyoClient
    staging: StagingRepo
    conn: Connection
    mappings: list[MappingSpec]
    tally: Tally
    on_page: Callable[[], None]
    chains: int = 32
    _rows: list[StagedRecord] = field(default_factory=list)
    _members: list[tuple[str, str]] = field(default_factory=list)
    _issues: list[StagedIssue] = field(default_factory=list)
    _kept: list[str] = field(default_factory=list)

    @property
    def _fields(self) -> tuple[str, ...] | None:
        return sparse_fields(self.mappings)

    async def run(
        self,
        lists: list[KlaviyoList],
        full: bool,
        list_sizes: Callable[[], Awaitable[dict[str, int]]],
        cached_sizes: dict[str, int],
    ) -> dict[str, int]:
        """Fetch into staging; returns the list sizes it learnt on the way."""
        whole_account = full and self.conn.lists is None and bool(lists)
        # The whole-account plan needs no sizes: they are only kept for the record.
        sizes = asyncio.ensure_future(list_sizes()) if whole_account else None
        try:
            if sizes is not None:
                await self._whole_account(lists, cached_sizes)
                counts = dict(cached_sizes)
            else:
                counts = await list_sizes()
                if full and all(lst.id in counts for lst in lists):
                    self.tally.expected = sum(counts[lst.id] for lst in lists)
                await self._list_members(lists, full, counts)
        finally:
            self.flush()
            if sizes is not None:
                if not sizes.done():
                    sizes.cancel()
                (got,) = await asyncio.gather(sizes, return_exceptions=True)
                counts = got if isinstance(got, dict) else dict(cached_sizes)
        return counts

    # ----- plans ------------------------------------------------------------------------------
    async def _whole_account(self, lists: list[KlaviyoList], sizes: dict[str, int]) -> None:
        """Profiles through Get Profiles; memberships through the two list endpoints, each
        taking the next list (largest known first) as soon as it is free, so both finish
        together without knowing list sizes in advance."""
        queue = sorted(lists, key=lambda lst: sizes.get(lst.id, 0), reverse=True)

        async def members_side() -> None:
            while queue:
                lst = queue.pop(0)
                self.tally.reading[lst.id] = lst.name
                await self._drain(
                    pull_list_members(self.client, lst.id, self.chains, fields=self._fields), lst.id
                )

        async def ids_side() -> None:
            while queue:
                lst = queue.pop(0)
                await self._drain_ids(lst, 2 * self.chains)

        # Without a rate budget (the emulator with limits off) ids-only pages are cheapest.
        sides = (
            [members_side(), ids_side()] if self.client.budget.enabled else [ids_side(), ids_side()]
        )
        await asyncio.gather(
            self._drain(pull_profiles(self.client, self.chains, fields=self._fields), None), *sides
        )
        self.flush()
        await self._look_up_missing()

    async def _look_up_missing(self) -> None:
        """Members whose profiles the profile listing did not bring: each is asked for
        directly (created while we read, or deleted: then its membership goes); too many
        mean the listing lost pages."""
        missing = self.staging.members_without_records(LOOKUP_MAX + 1)
        if len(missing) > LOOKUP_MAX:
            self.tally.gaps.append(
                f"more than {LOOKUP_MAX:,} list members came without their profiles"
            )
            return
        self.staging.drop_members(await self._look_up(missing))

    async def look_up_unseen(self) -> None:
        """After a full listing that has gaps (it removes nothing), the records we have that
        it did not bring would keep what they said last time — an UNSUBSCRIBED since then
        among them. Up to LOOKUP_MAX are asked for one by one; each is staged on no list, so
        an opt-out in it stands as any unlisted record's does (the rest waits for the next
        complete run)."""
        unseen = self.staging.stored_not_staged(LOOKUP_MAX + 1)
        if 0 < len(unseen) <= LOOKUP_MAX:
            await self._look_up(unseen)

    async def _look_up(self, profile_ids: list[str]) -> list[str]:
        """Stage these profiles, asked for one by one; returns those that no longer exist."""
        gone: list[str] = []
        slots = asyncio.Semaphore(self.chains)

        async def look_up(pid: str) -> None:
            async with slots:
                resource = await self.client.get_profile(pid, self._fields)
            if resource is None:
                gone.append(pid)
            else:
                self._stage(Page(*read_profiles([resource])), None)

        await asyncio.gather(*(look_up(pid) for pid in profile_ids))
        self.flush()
        return gone

    async def _list_members(
        self, lists: list[KlaviyoList], full: bool, counts: dict[str, int]
    ) -> None:
        chains = _share(lists, counts, self.chains)
        jobs: list[Awaitable[None]] = []
        for lst in lists:
            mark = None if full else self.conn.list_watermarks.get(lst.id)
            since = None if mark is None else mark - OVERLAP_S
            pull = pull_list_members(
                self.client, lst.id, chains[lst.id], since=since, fields=self._fields
            )
            self.tally.reading[lst.id] = lst.name
            jobs.append(self._drain(pull, lst.id))
        if not full and self.conn.profiles_watermark is not None:
            since = self.conn.profiles_watermark - OVERLAP_S
            pull = pull_updated_profiles(self.client, since, self.chains, fields=self._fields)
            jobs.append(self._drain(pull, None))
        await asyncio.gather(*jobs)

    # ----- staging ----------------------------------------------------------------------------
    async def _drain(self, pull: ParallelPull, list_id: str | None) -> None:
        # Pages are staged as they come; a record that cannot be read is kept as it is (an
        # issue names it), and one without even an id leaves the listing incomplete.
        async for page in pull.pages():
            self._stage(page, list_id)
        if list_id:
            self.tally.lists_done += 1
            self.tally.reading.pop(list_id, None)

    async def _drain_ids(self, lst: KlaviyoList, windows: int) -> None:
        # No join times come with ids: the list's watermark is our clock at the start (the
        # incremental overlap covers a clock that differs from Klaviyo's by minutes).
        self.tally.saw_join(lst.id, time.time())
        self.tally.reading[lst.id] = lst.name
        since = lst.created.timestamp() if lst.created else 0.0
        async for ids in pull_list_member_ids(self.client, lst.id, since, windows):
            self._buffer([], [(lst.id, pid) for pid in ids], [])
        self.tally.lists_done += 1
        self.tally.reading.pop(lst.id, None)

    def _buffer(
        self,
        rows: list[StagedRecord],
        members: list[tuple[str, str]],
        issues: list[StagedIssue],
        kept: Sequence[str] = (),
    ) -> None:
        """Collect pages and write them in batches: one transaction per page costs more than
        the rows themselves."""
        self._rows += rows
        self._members += members
        self._issues += issues
        self._kept += kept
        if len(self._rows) + len(self._members) >= FLUSH_ROWS:
            self.flush()
        self.on_page()

    def flush(self) -> None:
        if self._rows or self._members or self._issues or self._kept:
            self.staging.add(self._rows, self._members, self._issues, self._kept)
            self._rows, self._members, self._issues, self._kept = [], [], [], []

    def _stage(self, page: Page, list_id: str | None) -> None:
        t = self.tally
        rows: list[StagedRecord] = []
        issues: list[StagedIssue] = []
        for p in page.profiles:
            row, found = stage_profile(p, self.mappings, self.conn.default_region, t.seen_paths)
            rows.append(row)
            issues += found
            if list_id and p.joined_group_at:
                t.saw_join(list_id, p.joined_group_at.timestamp())
        kept: list[str] = []
        for bad in page.rejected:
            if bad.id is None:
                t.gaps.append(f"a profile without a readable id ({bad.reason})")
                continue
            kept.append(bad.id)
            issues.append(
                StagedIssue(
                    bad.id, None, None, f"profile could not be read ({bad.reason}): kept as it was"
                )
            )
        members = (
            [(list_id, pid) for pid in [p.id for p in page.profiles] + kept] if list_id else []
        )
        self._buffer(rows, members, issues, kept)
        t.fetched += len(rows)
        t.issues += len(issues)
        self.on_page()


def _share(lists: list[KlaviyoList], counts: dict[str, int], total: int) -> dict[str, int]:
    """Split `total` concurrent chains between lists in proportion to their size (>= 2 each)."""
    known = sum(counts.get(lst.id, 0) for lst in lists)
    if not known:
        return {lst.id: max(2, total // max(1, len(lists))) for lst in lists}
    return {lst.id: max(2, round(total * counts.get(lst.id, 0) / known)) for lst in lists}


async def list_counts(
    client: KlaviyoClient, lists: list[KlaviyoList], cached: dict[str, int], max_wait_s: float
) -> dict[str, int]:
    """List sizes: cached ones as they are, the others asked for (15 a minute) within a budget."""
    out = {lst.id: cached[lst.id] for lst in lists if lst.id in cached}
    deadline = time.monotonic() + max_wait_s
    for lst in lists:
        if lst.id in out or time.monotonic() > deadline:
            continue
        try:
            out[lst.id] = await client.list_profile_count(lst.id)
        except KlaviyoError:
            break
    return out
