"""A full pull as many concurrent cursor chains over disjoint time windows.

One chain waits a round trip per page, so a 1,000-page pull over a 0.3 s link takes minutes
whatever the rate limit. Here the time axis of a field that never changes (a profile's
`created`, a member's `joined_group_at`) is cut into windows fetched concurrently under the
account's shared rate budget. When a chain finishes, the chain with the most estimated work
left is split in two (work stealing): it keeps the lower half, a new chain takes the upper.

Every record is accepted by exactly one chain: a chain keeps records with `lo <= t < hi` and
stops at the first `t >= hi` (pages are sorted by t), so the union is what one chain would
return, each profile once. Windows overlap by a second on the wire (`greater-than(t, lo-1)`),
which guards against sub-second timestamps at the edges.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from engage_desktop.klaviyo import models
from engage_desktop.klaviyo.client import PAGE_SIZE, KlaviyoClient, profile_params
from engage_desktop.klaviyo.models import Profile, Rejected

_END = object()


class Page(NamedTuple):
    """What one page brought: the profiles read, and the records that could not be."""

    profiles: list[Profile]
    rejected: list[Rejected]


def read_page(resources: list[dict[str, Any]]) -> Page:
    """Parse a page's profiles one by one: a broken record is set aside, not the page."""
    return Page(*models.read_profiles(resources))


@dataclass
class _Chain:
    lo: int  # inclusive, epoch seconds
    hi: int | None  # exclusive; None: open-ended (also takes what is created during the pull)
    position: float | None = None
    records: int = 0
    done: bool = False


@dataclass
class PullStats:
    """How a parallel pull went."""

    chains: int = 0
    splits: int = 0
    pages: int = 0
    records: int = 0


@dataclass
class _Target:
    path: str
    op: str
    key_field: str  # the sort/filter field
    subscriptions: bool
    doing: str
    since: float | None = None  # only records with t > since (an incremental pull)
    fields: tuple[str, ...] | None = None  # a sparse fieldset (the key field is added)
    stats: PullStats = field(default_factory=PullStats)

    def sparse(self) -> tuple[str, ...] | None:
        if self.fields is None or self.key_field in self.fields:
            return self.fields
        return (*self.fields, self.key_field)


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _when(p: Profile, fld: str) -> float | None:
    t: datetime | None = getattr(p, fld)  # created, updated or joined_group_at
    return t.timestamp() if t is not None else None


class ParallelPull:
    """Runs the chains; iterate it for pages of profiles (in no particular order)."""

    def __init__(self, client: KlaviyoClient, target: _Target, chains: int) -> None:
        self.client = client
        self.target = target
        self.max_chains = max(1, chains)
        self.stats = target.stats
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize=4 * self.max_chains)
        self._hi_estimate = 0

    def _since_filter(self) -> str | None:
        t = self.target
        return None if t.since is None else f"greater-than({t.key_field},{_iso(int(t.since))})"

    async def _edge(self, sort: str) -> float | None:
        t = self.target
        only_key = None if t.fields is None else (t.key_field,)
        params = profile_params(self._since_filter(), sort, False, only_key)
        params["page[size]"] = "1"
        doc = await self.client.get_page(t.path, params, t.op, t.doing)
        page = read_page(models.resources(doc))
        if page.rejected:  # the window edges cannot be known: what is read may be partial
            self.client.stats.gaps.append(f"an unreadable profile while trying to {t.doing}")
        elif not page.profiles and models.next_link(doc):  # "nothing", yet a next page
            self.client.stats.gaps.append(f"an empty first page while trying to {t.doing}")
        return _when(page.profiles[0], t.key_field) if page.profiles else None

    async def _run_chain(self, chain: _Chain) -> None:
        t = self.target
        flt = f"greater-than({t.key_field},{_iso(chain.lo - 1)})"
        if chain.hi is not None:
            flt += f",less-than({t.key_field},{_iso(chain.hi)})"
        params = profile_params(flt, t.key_field, t.subscriptions, t.sparse())
        async for resources in self.client.iter_pages(t.path, params, t.op, t.doing):
            self.stats.pages += 1
            page = read_page(resources)
            keep: list[Profile] = []
            stop = False
            for p in page.profiles:
                when = _when(p, t.key_field)
                if when is not None:
                    if when < chain.lo:
                        continue
                    if chain.hi is not None and when >= chain.hi:
                        stop = True
                        break
                    chain.position = when
                keep.append(p)
            chain.records += len(keep)
            if keep or page.rejected:
                self.stats.records += len(keep)
                await self._queue.put(Page(keep, page.rejected))
            if stop:
                break
        chain.done = True

    def _steal(self, running: list[_Chain]) -> _Chain | None:
        """Split the running chain with the most work left; None when none is worth it."""
        best: tuple[float, _Chain, int, int] | None = None
        for c in running:
            if c.done:
                continue
            pos = int(c.position) if c.position is not None else c.lo
            hi = c.hi if c.hi is not None else max(self._hi_estimate, pos + 1)
            span = hi - pos
            if span < 2:
                continue
            seen = pos - c.lo
            if c.position is None or seen <= 0 or c.records < PAGE_SIZE:
                continue  # no page yet to judge how much work is left
            work = c.records / seen * span
            if work < 2 * PAGE_SIZE:
                continue
            if best is None or work > best[0]:
                best = (work, c, pos, hi)
        if best is None:
            return None
        _, victim, pos, hi = best
        mid = pos + (hi - pos) // 2
        new = _Chain(mid, victim.hi)
        victim.hi = mid
        self.stats.splits += 1
        return new

    async def _supervise(self) -> None:
        tasks: dict[asyncio.Task[None], _Chain] = {}
        try:
            first = await self._edge(self.target.key_field)
            last = await self._edge("-" + self.target.key_field)
            if first is None or last is None:
                await self._queue.put(_END)  # an empty account
                return
            lo, self._hi_estimate = math.floor(first), math.floor(last) + 1
            if self.target.since is not None:
                lo = max(lo, math.floor(self.target.since))
            step = max(1, math.ceil((self._hi_estimate - lo) / self.max_chains))
            pending = [_Chain(a, a + step) for a in range(lo, self._hi_estimate, step)][
                : self.max_chains
            ]
            pending[-1].hi = None
            while pending or tasks:
                while pending and len(tasks) < self.max_chains:
                    chain = pending.pop(0)
                    self.stats.chains += 1
                    tasks[asyncio.create_task(self._run_chain(chain))] = chain
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    tasks.pop(task)
                    task.result()
                while len(tasks) + len(pending) < self.max_chains:
                    stolen = self._steal(list(tasks.values()))
                    if stolen is None:
                        break
                    pending.append(stolen)
        except BaseException as exc:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._queue.put(exc)
            return
        await self._queue.put(_END)

    async def pages(self) -> AsyncIterator[Page]:
        async for page in _consume(self._queue, self._supervise()):
            yield page


async def _consume(
    queue: asyncio.Queue[object], producer: Coroutine[Any, Any, None]
) -> AsyncIterator[Any]:
    """Yield what `producer` (run as a task) puts on `queue` until `_END`; re-raise its error;
    stop it if the consumer leaves early."""
    task = asyncio.create_task(producer)
    try:
        while True:
            item = await queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def pull_profiles(
    client: KlaviyoClient,
    chains: int = 24,
    subscriptions: bool = True,
    fields: tuple[str, ...] | None = None,
) -> ParallelPull:
    """Every profile of the account, fetched as up to `chains` concurrent windows on `created`.

    `fields` (here and below): only these attributes (a sparse fieldset); None: all."""
    target = _Target(
        "/api/profiles", "get_profiles", "created", subscriptions, "read profiles", fields=fields
    )
    return ParallelPull(client, target, chains)


def pull_updated_profiles(
    client: KlaviyoClient,
    since: float,
    chains: int = 8,
    subscriptions: bool = True,
    fields: tuple[str, ...] | None = None,
) -> ParallelPull:
    """Profiles updated after `since` (whole seconds), as concurrent windows on `updated`.

    A profile updated again during the pull moves to the open-ended last window, or to the next
    incremental run; callers keep an overlap on `since` and upsert by id.
    """
    target = _Target(
        "/api/profiles",
        "get_profiles",
        "updated",
        subscriptions,
        "read changed profiles",
        since,
        fields,
    )
    return ParallelPull(client, target, chains)


def pull_list_members(
    client: KlaviyoClient,
    list_id: str,
    chains: int = 8,
    subscriptions: bool = True,
    since: float | None = None,
    fields: tuple[str, ...] | None = None,
) -> ParallelPull:
    """Members of a list (those who joined after `since`, if given), as concurrent windows on
    `joined_group_at`."""
    target = _Target(
        f"/api/lists/{list_id}/profiles",
        "get_profiles_for_list",
        "joined_group_at",
        subscriptions,
        "read list members",
        since,
        fields,
    )
    return ParallelPull(client, target, chains)


async def pull_list_member_ids(
    client: KlaviyoClient, list_id: str, since: float, windows: int = 32
) -> AsyncIterator[list[str]]:
    """A list's member ids from the ids-only endpoint (its own rate-limit bucket), as `windows`
    concurrent chains over fixed `joined_group_at` windows from `since` (the list's creation:
    nobody joined before) to now, the last one open-ended. The ids carry no join time, so the
    windows cannot be re-split; many small windows keep the longest chain short.
    `greater-or-equal` / `less-than` make the windows an exact partition."""
    lo, hi = math.floor(since), math.floor(time.time()) + 1
    step = max(1, math.ceil((hi - lo) / max(1, windows)))
    bounds = list(range(lo, hi, step))
    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=4 * len(bounds))
    path = f"/api/lists/{list_id}/relationships/profiles"

    async def chain(start: int, end: int | None) -> None:
        flt = f"greater-or-equal(joined_group_at,{_iso(start)})"
        if end is not None:
            flt += f",less-than(joined_group_at,{_iso(end)})"
        params = {"page[size]": str(PAGE_SIZE), "filter": flt}
        async for page in client.iter_pages(
            path, params, "get_profile_ids_for_list", "read list members"
        ):
            ids = [r["id"] for r in page if isinstance(r.get("id"), str) and r["id"]]
            if len(ids) < len(page):
                client.stats.gaps.append("a list member without a readable id")
            await queue.put(ids)

    async def run_all() -> None:
        try:
            ends: list[int | None] = [*bounds[1:], None]  # the last window is open-ended
            await asyncio.gather(*(chain(a, b) for a, b in zip(bounds, ends, strict=True)))
        except BaseException as exc:
            await queue.put(exc)
            return
        await queue.put(_END)

    async for ids in _consume(queue, run_all()):
        yield ids
