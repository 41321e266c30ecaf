"""Klaviyo as a contact source: profiles and list memberships, full or incremental.

The fetch itself is `sync/fetch.py` (three endpoints at once for a whole-account full run,
list members for chosen lists and incremental runs); this adapter plans the lists, checks the
mappings against what came, and records the watermarks once the commit is done.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from engage_desktop.core.sources import KLAVIYO
from engage_desktop.klaviyo.client import KlaviyoClient
from engage_desktop.klaviyo.models import KlaviyoList
from engage_desktop.storage.commit import SyncedList
from engage_desktop.storage.connection import Connection, ConnectionRepo
from engage_desktop.storage.contacts import ContactRepo
from engage_desktop.storage.database import Database
from engage_desktop.storage.fields import FieldRepo
from engage_desktop.storage.staging import StagingRepo
from engage_desktop.sync.fetch import Fetcher, Tally, list_counts
from engage_desktop.sync.sources.base import (
    Fetched,
    NotConnected,
    RunContext,
    SourceList,
    SourcePlan,
)

COUNTS_WAIT_S = 15.0  # a full run waits this long at most for list sizes (15 a minute)


class KlaviyoSource:
    """One Klaviyo account, through one client."""

    name = KLAVIYO
    noun = "profiles"

    def __init__(
        self,
        db: Database,
        client: KlaviyoClient,
        chains: int = 32,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.client = client
        self.chains = chains
        self.clock = clock
        self.connections = ConnectionRepo(db)
        self.tally = Tally()
        self._conn: Connection | None = None
        self._klaviyo_lists: list[KlaviyoList] = []
        self._gaps0 = 0

    @property
    def requests(self) -> int:
        return self.client.stats.requests

    @property
    def throttled(self) -> int:
        return self.client.stats.throttled

    def connection(self) -> Connection:
        conn = self.connections.get()
        if conn is None:
            raise NotConnected("Not connected to Klaviyo yet: run `engage-desktop connect` first.")
        if conn.lists == ():
            raise NotConnected(
                "Contact sync is off: choose the lists to sync in Integrations → Klaviyo."
            )
        return conn

    def full_due(self, requested: bool) -> bool:
        conn = self.connection()
        if requested or conn.needs_full or conn.last_full_at is None:
            return True
        if conn.profiles_watermark is None:
            return True
        return self.clock() - conn.last_full_at > conn.reconcile_days * 86400

    def last_full_count(self) -> int | None:
        return self.connection().last_full_count

    async def plan(self, run: RunContext, full: bool) -> SourcePlan:
        """The lists to read. A list the listing left out is asked for by id: gone (404) is
        proof; still there means the listing was incomplete."""
        conn = self._conn = self.connection()
        self.tally = Tally()
        self._gaps0 = len(self.client.stats.gaps)
        available = await self.client.get_lists()
        by_id = {lst.id: lst for lst in available}
        known = ContactRepo(self.db).list_names(KLAVIYO)
        wanted = list(known) if conn.lists is None else list(conn.lists)
        for list_id in wanted:
            if list_id in by_id:
                continue
            name = known.get(list_id, list_id)
            if await self.client.list_exists(list_id):
                by_id[list_id] = KlaviyoList(list_id, name, None, None)
                available.append(by_id[list_id])
                if conn.lists is None:  # other lists may be missing too, unknown to us
                    self.tally.gaps.append(f"Klaviyo's list of lists left out {name}")
            elif conn.lists is not None:
                run.add_issues(KLAVIYO, [("list", name, "this Klaviyo list no longer exists")])
        chosen = available if conn.lists is None else [by_id[i] for i in conn.lists if i in by_id]
        self._klaviyo_lists = chosen
        self.tally.lists_total = len(chosen)
        return SourcePlan(
            full, [SourceList(lst.id, lst.name) for lst in chosen], rederive=conn.needs_full
        )

    async def fetch(self, plan: SourcePlan, staging: StagingRepo, run: RunContext) -> Fetched:
        conn = self._conn or self.connection()
        lists = self._klaviyo_lists
        cached = ContactRepo(self.db).list_member_counts()
        full = plan.full

        async def list_sizes() -> dict[str, int]:
            return await list_counts(self.client, lists, cached, COUNTS_WAIT_S if full else 0.0)

        mappings = FieldRepo(self.db).mappings()
        fetcher = Fetcher(
            self.client, staging, conn, mappings, self.tally, run.on_page, self.chains
        )
        counts = await fetcher.run(lists, full, list_sizes, cached)
        self.tally.gaps += self.client.stats.gaps[self._gaps0 :]
        if full and self.tally.gaps:
            await fetcher.look_up_unseen()
        for m in mappings:
            if self.tally.fetched and m.path not in self.tally.seen_paths:
                run.add_issues(
                    KLAVIYO,
                    [
                        (
                            m.name,
                            m.path,
                            "no fetched profile has this Klaviyo field (names are exact)",
                        )
                    ],
                )
        return Fetched(
            [SyncedList(lst.id, lst.name, counts.get(lst.id)) for lst in lists],
            watermark=staging.max_updated(),
        )

    def committed(self, plan: SourcePlan, fetched: Fetched, staged: int, now: float) -> None:
        self.connections.record_sync(
            fetched.watermark, self.tally.joined, staged if plan.full else None, now
        )

    async def lists(self) -> list[SourceList]:
        return [
            SourceList(lst.id, lst.name, lst.profile_count) for lst in await self.client.get_lists()
        ]
