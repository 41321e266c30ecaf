"""One sync run: plan -> fetch -> stage -> commit -> push opt-outs -> record."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import math
import time
from collections.abc import Callable, Iterator

from engage_desktop.core.sources import KLAVIYO
from engage_desktop.klaviyo.client import KlaviyoClient
from engage_desktop.klaviyo.errors import AuthenticationError, KlaviyoError
from engage_desktop.klaviyo.models import KlaviyoList
from engage_desktop.storage.commit import SourceCommit, SyncedList, commit_staged
from engage_desktop.storage.connection import Connection, ConnectionRepo
from engage_desktop.storage.contacts import ContactRepo
from engage_desktop.storage.database import Database, DatabaseError
from engage_desktop.storage.fields import FieldRepo
from engage_desktop.storage.lease import LeaseRepo
from engage_desktop.storage.outbox import OutboxRepo
from engage_desktop.storage.runs import RunRepo
from engage_desktop.storage.staging import StagingRepo
from engage_desktop.sync.events import SyncProgress, SyncResult
from engage_desktop.sync.fetch import Fetcher, Tally, list_counts
from engage_desktop.sync.lock import SyncLock
from engage_desktop.sync.pusher import OptOutPusher

log = logging.getLogger(__name__)

COUNTS_WAIT_S = 15.0  # a full run waits this long at most for list sizes (15 a minute)
MAX_RUN_S = 6 * 3600.0  # a run that has not finished fetching by then is stopped
PUBLISH_EVERY_S = 0.1  # at most 10 snapshots a second
SUSPICIOUS_MIN = 10
# Pages in flight hold tens of thousands of young JSON containers; at Python's default (a
# young collection every 700 allocations) the collector rescans them hundreds of times a
# second, ~2 s of CPU per 100k profiles. Nearly all of it is acyclic and freed by refcount.
YOUNG_GC_THRESHOLD = 10_000


class NotConnected(Exception):
    """No Klaviyo connection has been set up (run `connect` first)."""


class SyncEngine:
    """Runs syncs for one database and one Klaviyo client; knows nothing of Qt."""

    def __init__(
        self,
        db: Database,
        client: KlaviyoClient,
        *,
        who: str = "engage-desktop",
        on_progress: Callable[[SyncProgress], None] | None = None,
        clock: Callable[[], float] = time.time,
        chains: int = 32,
        max_run_s: float = MAX_RUN_S,
    ) -> None:
        self.db = db
        self.client = client
        self.on_progress = on_progress
        self.clock = clock
        self.chains = chains
        self.max_run_s = max_run_s
        self.connections = ConnectionRepo(db)
        self.runs = RunRepo(db)
        self.staging = StagingRepo(db, KLAVIYO)
        self.fields = FieldRepo(db)
        self.lock = SyncLock(LeaseRepo(db), who, clock)
        self._last_publish = 0.0

    async def run(self, trigger: str = "manual", full: bool = False) -> SyncResult:
        """One run; raises SyncLockHeld if another run holds the lock, NotConnected if none."""
        conn = self.connections.get()
        if conn is None:
            raise NotConnected("Not connected to Klaviyo yet: run `engage-desktop connect` first.")
        if conn.lists == ():
            raise NotConnected(
                "Contact sync is off: choose the lists to sync in Integrations → Klaviyo."
            )
        async with self.lock.held():
            with _fewer_young_collections():
                return await self._locked_run(conn, trigger, full)

    async def _locked_run(self, conn: Connection, trigger: str, full: bool) -> SyncResult:
        self.runs.mark_interrupted(self.clock())
        full = full or self._full_due(conn)
        run_id = self.runs.start(trigger, full, self.clock())
        started = self.clock()
        requests0, throttled0 = self.client.stats.requests, self.client.stats.throttled
        tally = Tally()
        try:
            result = await self._run(run_id, conn, full, trigger, started, tally)
        except asyncio.CancelledError:
            self.staging.clear()
            self._finish(
                run_id,
                "cancelled",
                tally,
                requests0,
                throttled0,
                error="cancelled; contacts were left as they were",
            )
            raise
        except Exception as exc:  # every failure ends the run visibly, never "running"
            message = getattr(exc, "user_message", None) or f"{type(exc).__name__}: {exc}"
            if isinstance(exc, TimeoutError):
                message = (
                    f"The sync was still fetching after {self.max_run_s / 3600:g} hours and was "
                    f"stopped; contacts were left as they were."
                )
            elif not isinstance(exc, KlaviyoError | OSError | DatabaseError):
                # A bug of ours: the run still ends as a failure the user can see, not "running".
                log.exception("sync %d: unexpected error", run_id)
                message = (
                    f"Engage Desktop hit an unexpected problem ({type(exc).__name__}); contacts "
                    f"were left as they were. The log file has the details."
                )
            log.error("sync %d failed: %s", run_id, message)
            self.staging.clear()
            counts = self._finish(run_id, "failed", tally, requests0, throttled0, error=message)
            if not isinstance(exc, AuthenticationError):
                await self._push(run_id)  # opt-outs go out even when the sync could not
            return SyncResult(
                run_id,
                "failed",
                trigger,
                full,
                counts,
                tally.issues,
                self.clock() - started,
                error=message,
            )
        counts, suspicious, issues = result
        log.info("run %d: succeeded", run_id)
        counts = self._finish(run_id, "succeeded", tally, requests0, throttled0, counts, suspicious)
        return SyncResult(
            run_id,
            "succeeded",
            trigger,
            full,
            counts,
            issues,
            self.clock() - started,
            suspicious,
        )

    def _full_due(self, conn: Connection) -> bool:
        if conn.needs_full or conn.last_full_at is None or conn.profiles_watermark is None:
            return True
        return self.clock() - conn.last_full_at > conn.reconcile_days * 86400

    def _finish(
        self,
        run_id: int,
        status: str,
        tally: Tally,
        requests0: int,
        throttled0: int,
        counts: dict[str, int] | None = None,
        suspicious: str | None = None,
        error: str | None = None,
    ) -> dict[str, int]:
        out = dict(counts or {})
        out["fetched"] = tally.fetched
        out["requests"] = self.client.stats.requests - requests0
        out["throttled"] = self.client.stats.throttled - throttled0
        self.runs.finish(run_id, status, out, self.clock(), suspicious, error)
        return out

    async def _run(
        self,
        run_id: int,
        conn: Connection,
        full: bool,
        trigger: str,
        started: float,
        tally: Tally,
    ) -> tuple[dict[str, int], str | None, int]:
        self.staging.clear()
        gaps0 = len(self.client.stats.gaps)
        self._publish(run_id, "planning", tally, started, 0, force=True)
        lists = await self._plan(conn, run_id, tally)
        cached = ContactRepo(self.db).list_member_counts()

        async def list_sizes() -> dict[str, int]:
            return await list_counts(self.client, lists, cached, COUNTS_WAIT_S if full else 0.0)

        log.info(
            "run %d (%s): fetching %d lists", run_id, "full" if full else "incremental", len(lists)
        )
        mappings = self.fields.mappings()
        fetcher = Fetcher(
            self.client,
            self.staging,
            conn,
            mappings,
            tally,
            lambda: self._publish(run_id, "fetching", tally, started, len(lists)),
            self.chains,
        )
        async with asyncio.timeout(self.max_run_s - (self.clock() - started)):
            counts = await fetcher.run(lists, full, list_sizes, cached)
        gaps = tally.gaps + self.client.stats.gaps[gaps0:]

        for m in mappings:
            if tally.fetched and m.path not in tally.seen_paths:
                self.runs.add_issues(
                    run_id,
                    [
                        (
                            m.name,
                            m.path,
                            "no fetched profile has this Klaviyo field (names are exact)",
                        )
                    ],
                )
        staged, _ = self.staging.counts()
        suspicious = None
        if full and staged == 0 and (conn.last_full_count or 0) >= SUSPICIOUS_MIN:
            suspicious = (
                f"Klaviyo returned no profiles, but the last full sync had "
                f"{conn.last_full_count}; nothing was removed."
            )
        elif full and gaps:
            more = f" (and {len(gaps) - 1} more)" if len(gaps) > 1 else ""
            suspicious = (
                f"Klaviyo's answers may be incomplete: {gaps[0]}{more}. New and changed "
                f"contacts were saved; nothing was removed."
            )
            self.runs.add_issues(run_id, [(None, None, f"incomplete listing: {g}") for g in gaps])
        watermark = self.staging.max_updated()
        log.info("run %d: committing %d staged profiles", run_id, staged)
        self._publish(run_id, "committing", tally, started, len(lists), force=True)
        synced = [SyncedList(lst.id, lst.name, counts.get(lst.id)) for lst in lists]
        plan = SourceCommit(
            KLAVIYO, full, synced, removals=full and suspicious is None, rederive=conn.needs_full
        )
        result = commit_staged(self.db, run_id, [plan], {KLAVIYO: conn.consent_mode}, self.clock())[
            KLAVIYO
        ]
        self.connections.record_sync(
            watermark, tally.joined, staged if full else None, self.clock()
        )
        self._publish(run_id, "pushing opt-outs", tally, started, len(lists), force=True)
        await self._push(run_id)
        counts = {
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "removed": result.removed,
            "invalid": result.invalid,
            "opted_out": result.opted_out,
        }
        issues = self.runs.issue_count(run_id)
        return counts, suspicious, issues

    async def _push(self, run_id: int) -> None:
        push = await OptOutPusher(OutboxRepo(self.db), self.client, self.clock).push_due()
        if push.error:
            self.runs.add_issues(run_id, [(None, None, f"opt-outs not sent yet: {push.error}")])

    async def _plan(self, conn: Connection, run_id: int, tally: Tally) -> list[KlaviyoList]:
        """The lists to read. A list the listing left out is asked for by id: gone (404) is
        proof; still there means the listing was incomplete."""
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
                    tally.gaps.append(f"Klaviyo's list of lists left out {name}")
            elif conn.lists is not None:
                self.runs.add_issues(run_id, [("list", name, "this Klaviyo list no longer exists")])
        if conn.lists is None:
            return available
        return [by_id[i] for i in conn.lists if i in by_id]

    def _publish(
        self,
        run_id: int,
        phase: str,
        tally: Tally,
        started: float,
        lists_total: int,
        force: bool = False,
    ) -> None:
        now = self.clock()
        if self.on_progress is None or (not force and now - self._last_publish < PUBLISH_EVERY_S):
            return
        self._last_publish = now
        elapsed = max(now - started, 1e-6)
        rate = tally.fetched / elapsed
        eta = None
        if tally.expected and rate > 0:
            eta = max(0.0, (tally.expected - tally.fetched) / rate)
        self.on_progress(
            SyncProgress(
                run_id=run_id,
                phase=phase,
                lists_done=tally.lists_done,
                lists_total=lists_total,
                fetched=tally.fetched,
                expected=tally.expected,
                rate=rate,
                eta_s=None if eta is None or math.isinf(eta) else eta,
                requests=self.client.stats.requests,
                throttled=self.client.stats.throttled,
                issues=tally.issues,
                current_list=tally.current_list,
            )
        )


@contextlib.contextmanager
def _fewer_young_collections() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], YOUNG_GC_THRESHOLD), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
