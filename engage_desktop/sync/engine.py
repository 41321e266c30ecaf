"""One sync run over every connected source: plan -> fetch -> stage -> commit -> push
opt-outs -> record.

Sources (sync/sources/) are planned and fetched side by side, each into its own part of the
staging area; what they staged is committed in one transaction (records merge by phone
there). A source that fails is left as it was while the others are saved; the run then
says which one failed. Opt-outs go to Klaviyo at the end, even when a source failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import math
import time
from collections.abc import Callable, Iterator, Sequence

from engage_desktop.core.sources import source_label
from engage_desktop.klaviyo.client import KlaviyoClient
from engage_desktop.klaviyo.errors import AuthenticationError
from engage_desktop.storage.commit import SourceCommit, commit_staged
from engage_desktop.storage.connection import ConnectionRepo
from engage_desktop.storage.database import Database
from engage_desktop.storage.lease import LeaseRepo
from engage_desktop.storage.outbox import OutboxRepo
from engage_desktop.storage.run_sources import RunSourceRepo
from engage_desktop.storage.runs import RunRepo
from engage_desktop.storage.staging import StagingRepo
from engage_desktop.sync.events import SyncProgress, SyncResult
from engage_desktop.sync.lock import SyncLock, SyncLockLost
from engage_desktop.sync.pusher import OptOutPusher
from engage_desktop.sync.run_parts import Part, failure_message, part_summary, totals
from engage_desktop.sync.schedule_claim import claim_scheduled_run
from engage_desktop.sync.sources.base import ContactSource, NotConnected, RunContext
from engage_desktop.sync.sources.klaviyo import KlaviyoSource

log = logging.getLogger(__name__)

__all__ = ["NotConnected", "SyncEngine"]
MAX_RUN_S = 6 * 3600.0  # a run that has not finished fetching by then is stopped
PUBLISH_EVERY_S = 0.1  # at most 10 snapshots a second
SUSPICIOUS_MIN = 10
# Pages in flight hold tens of thousands of young JSON containers; at Python's default (a
# young collection every 700 allocations) the collector rescans them hundreds of times a
# second, ~2 s of CPU per 100k profiles. Nearly all of it is acyclic and freed by refcount.
YOUNG_GC_THRESHOLD = 10_000


class SyncEngine:
    """Runs syncs for one database over its sources; knows nothing of Qt.

    `client`: the Klaviyo client (its source, unless `sources` are given, and where opt-outs
    are pushed); None when Klaviyo is not connected.
    """

    def __init__(
        self,
        db: Database,
        client: KlaviyoClient | None = None,
        *,
        sources: Sequence[ContactSource] | None = None,
        who: str = "engage-desktop",
        on_progress: Callable[[SyncProgress], None] | None = None,
        clock: Callable[[], float] = time.time,
        chains: int = 32,
        max_run_s: float = MAX_RUN_S,
    ) -> None:
        self.db = db
        self.client = client
        if sources is None:
            sources = [] if client is None else [KlaviyoSource(db, client, chains, clock)]
        self.sources = list(sources)
        self.on_progress = on_progress
        self.clock = clock
        self.max_run_s = max_run_s
        self.connections = ConnectionRepo(db)
        self.runs = RunRepo(db)
        self.run_sources = RunSourceRepo(db)
        self.lock = SyncLock(LeaseRepo(db), who, clock)
        self._last_publish = 0.0
        self._active: list[ContactSource] = []

    async def run(self, trigger: str = "manual", full: bool = False) -> SyncResult:
        """One run; raises SyncLockHeld if another run holds the lock, NotConnected when no
        source can sync."""
        usable: list[ContactSource] = []
        refused: list[str] = []
        for source in self.sources:
            try:
                source.full_due(full)
            except NotConnected as exc:
                refused.append(str(exc))
                continue
            usable.append(source)
        if not usable:
            raise NotConnected(
                refused[0]
                if refused
                else "Not connected to Klaviyo yet: run `engage-desktop connect` first."
            )
        async with self.lock.held():
            if trigger == "schedule":  # another desktop may have run it meanwhile
                claim_scheduled_run(self.db, self.clock())
            with _fewer_young_collections():
                return await self._locked_run(usable, trigger, full)

    async def _locked_run(
        self, sources: list[ContactSource], trigger: str, full: bool
    ) -> SyncResult:
        self.runs.mark_interrupted(self.clock())
        parts = [Part(s, StagingRepo(self.db, s.name), s.full_due(full)) for s in sources]
        run_full = all(p.full for p in parts)
        run_id = self.runs.start(trigger, run_full, self.clock())
        started = self.clock()
        self._active = sources
        try:
            await self._run(run_id, parts, started)
        except asyncio.CancelledError:
            if not self.lock.lost:
                for p in parts:
                    p.staging.clear()
                    p.fail("cancelled; contacts were left as they were", "cancelled")
                self._finish(run_id, parts, started, trigger, run_full, "cancelled")
                raise
            # Our own heartbeat stopped the run: it is a failure, not a cancel from outside.
            if (task := asyncio.current_task()) is not None:
                task.uncancel()
            self._lock_lost(run_id, parts)
        except SyncLockLost:
            self._lock_lost(run_id, parts)
        except Exception as exc:  # every failure ends the run visibly, never "running"
            message = failure_message(exc, self.max_run_s)
            log.error("sync %d failed: %s", run_id, message)
            for p in parts:
                p.staging.clear()
                if p.error is None:
                    p.fail(message)
            await self._push(run_id, parts)
        return self._finish(run_id, parts, started, trigger, run_full)

    def _lock_lost(self, run_id: int, parts: list[Part]) -> None:
        """The lock went away mid-run: nothing is committed, and the staging area is left
        alone (another desktop's run may be filling it now)."""
        message = str(SyncLockLost())
        log.error("sync %d failed: %s", run_id, message)
        for p in parts:
            if p.error is None:
                p.fail(message)

    async def _run(self, run_id: int, parts: list[Part], started: float) -> None:
        for p in parts:
            p.staging.clear()
        self._publish(run_id, "planning", started, force=True)
        ctx = RunContext(
            run_id,
            self.run_sources,
            lambda: self._publish(run_id, "fetching", started),
            self.clock,
        )
        async with asyncio.timeout(self.max_run_s - (self.clock() - started)):
            await asyncio.gather(*(self._fetch(p, ctx) for p in parts))
        ok = [p for p in parts if p.error is None]
        plans: list[SourceCommit] = []
        for p in ok:
            assert p.plan is not None and p.fetched is not None
            p.staged, _ = p.staging.counts()
            p.suspicious = self._suspicious(run_id, p)
            plans.append(
                SourceCommit(
                    p.source.name,
                    p.plan.full,
                    p.fetched.lists,
                    removals=p.plan.full and p.suspicious is None,
                    rederive=p.plan.rederive,
                )
            )
        if plans:
            log.info("run %d: committing %d staged records", run_id, sum(p.staged for p in ok))
            self._publish(run_id, "committing", started, force=True)
            self.lock.check()  # the lock is still this run's: no one else's staging is committed
            results = commit_staged(self.db, run_id, plans, {}, self.clock())
            self.lock.watching = False  # committed: the push that follows claims its own rows
            for p in ok:
                assert p.plan is not None and p.fetched is not None
                p.result = results[p.source.name]
                p.source.committed(p.plan, p.fetched, p.staged, self.clock())
        self._publish(run_id, "pushing opt-outs", started, force=True)
        await self._push(run_id, parts)

    async def _fetch(self, p: Part, ctx: RunContext) -> None:
        """Plan and fetch one source; its failure is its own (the others go on)."""
        p.marks = (p.source.requests, p.source.throttled)
        try:
            p.plan = await p.source.plan(ctx, p.full)
            log.info(
                "run %d: %s: fetching %d lists (%s)",
                ctx.run_id,
                source_label(p.source.name),
                len(p.plan.lists),
                "full" if p.plan.full else "incremental",
            )
            p.fetched = await p.source.fetch(p.plan, p.staging, ctx)
        except Exception as exc:
            message = failure_message(exc, self.max_run_s)
            log.error("sync %d: %s failed: %s", ctx.run_id, source_label(p.source.name), message)
            p.staging.clear()
            p.fail(message, exc=exc)

    def _suspicious(self, run_id: int, p: Part) -> str | None:
        assert p.plan is not None
        label, gaps = source_label(p.source.name), p.source.tally.gaps
        last = p.source.last_full_count() or 0
        if p.plan.full and p.staged == 0 and last >= SUSPICIOUS_MIN:
            return (
                f"{label} returned no {p.source.noun}, but the last full sync had {last}; "
                f"nothing was removed."
            )
        if p.plan.full and gaps:
            more = f" (and {len(gaps) - 1} more)" if len(gaps) > 1 else ""
            self.run_sources.add_issues(
                run_id, p.source.name, [(None, None, f"incomplete listing: {g}") for g in gaps]
            )
            return (
                f"{label}'s answers may be incomplete: {gaps[0]}{more}. New and changed "
                f"contacts were saved; nothing was removed."
            )
        return None

    async def _push(self, run_id: int, parts: list[Part]) -> None:
        """Opt-outs to Klaviyo (not when its key was just refused: it would be again)."""
        if self.client is None or any(isinstance(p.exc, AuthenticationError) for p in parts):
            return
        push = await OptOutPusher(OutboxRepo(self.db), self.client, self.clock).push_due()
        if push.error:
            self.runs.add_issues(run_id, [(None, None, f"opt-outs not sent yet: {push.error}")])

    def _finish(
        self,
        run_id: int,
        parts: list[Part],
        started: float,
        trigger: str,
        full: bool,
        status: str | None = None,
    ) -> SyncResult:
        summaries = {p.source.name: part_summary(p, self.run_sources, run_id) for p in parts}
        counts, suspicious, error = totals(parts, summaries)
        status = status or ("failed" if error else "succeeded")
        self.runs.finish(run_id, status, counts, self.clock(), suspicious, error)
        for p in parts:
            self.run_sources.record(run_id, p.row(summaries[p.source.name]))
        log.info("run %d: %s", run_id, status)
        return SyncResult(
            run_id,
            status,
            trigger,
            full,
            counts,
            self.runs.issue_count(run_id),
            self.clock() - started,
            suspicious,
            error,
            sources={name: s.as_json() for name, s in summaries.items()},
        )

    def _publish(self, run_id: int, phase: str, started: float, force: bool = False) -> None:
        now = self.clock()
        if self.on_progress is None or (not force and now - self._last_publish < PUBLISH_EVERY_S):
            return
        self._last_publish = now
        tallies = [s.tally for s in self._active]
        fetched = sum(t.fetched for t in tallies)
        expected = (
            sum(t.expected or 0 for t in tallies)
            if tallies and all(t.expected is not None for t in tallies)
            else None
        )
        elapsed = max(now - started, 1e-6)
        rate = fetched / elapsed
        eta = None
        if expected and rate > 0:
            eta = max(0.0, (expected - fetched) / rate)
        reading = [t.current_list for t in tallies if t.current_list]
        self.on_progress(
            SyncProgress(
                run_id=run_id,
                phase=phase,
                lists_done=sum(t.lists_done for t in tallies),
                lists_total=sum(t.lists_total for t in tallies),
                fetched=fetched,
                expected=expected,
                rate=rate,
                eta_s=None if eta is None or math.isinf(eta) else eta,
                requests=sum(s.requests for s in self._active),
                throttled=sum(s.throttled for s in self._active),
                issues=sum(t.issues for t in tallies),
                current_list=", ".join(reading) or None,
                sources={s.name: [s.tally.fetched, s.tally.expected] for s in self._active},
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
