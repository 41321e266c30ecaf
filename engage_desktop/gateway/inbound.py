"""Hearing the gateway: one polling round — replies first (an opt-out is the legal core), then
delivery reports, then now and then the blacklist — and the loop that runs rounds.

Each page is committed before it is confirmed: a crash in between makes the gateway deliver
it again, and storing is idempotent on `reply_id` (reports are idempotent by nature: a status
never moves backwards). A failure ends the round with what was committed kept and what was
not confirmed left at the gateway for the next round.

The blacklist is compared both ways, consent first (docs/sms-gateway.md): a number that
appears on it without us is an opt-out here; every standing opt-out here is added there;
nothing is ever taken off automatically. A listing that fails half-way is not compared.

`PollLoop` runs a round every 5 s (at once again while the gateway has more), doubles its
wait after a failed round up to 5 minutes, and never stops on an error. After a round that
opted numbers out, `after_opt_outs` runs (the app pushes the Klaviyo outbox then).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from engage_desktop.core.messaging import DEFAULT_OPT_OUT_KEYWORDS, opt_out_keyword
from engage_desktop.gateway.db_thread import DbThread
from engage_desktop.gateway.events import PollRound
from engage_desktop.messagemedia import (
    BLACKLIST_ADD_BATCH,
    BadRequestError,
    DeliveryReport,
    GatewayError,
    MessageMediaClient,
    Reply,
)
from engage_desktop.storage.campaigns import CampaignRepo
from engage_desktop.storage.gateway_blacklist import BlacklistRepo
from engage_desktop.storage.gateway_settings import GatewayRepo
from engage_desktop.storage.inbound import InboundRepo, ReplyIn, ReportIn

log = logging.getLogger(__name__)

POLL_EVERY_S = 5.0
MAX_BACKOFF_S = 300.0
RECONCILE_EVERY_S = 600.0
MAX_ADDS = 1000  # numbers added per reconcile (10 a request); the rest next time
ADD_CONCURRENCY = 8
MAX_PAGES = 10  # per kind and round: replies are never stuck behind thousands of reports


class InboundPoller:
    """Hears the gateway: replies (opt-outs), delivery reports, the blacklist."""

    def __init__(
        self,
        db: DbThread,
        client: MessageMediaClient,
        *,
        keywords: tuple[str, ...] = DEFAULT_OPT_OUT_KEYWORDS,
        blacklist_opt_outs: bool = True,
        reconcile_every_s: float = RECONCILE_EVERY_S,
        last_reconcile_at: float | None = None,
        max_pages: int = MAX_PAGES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.client = client
        self.keywords = keywords
        self.reconcile_every_s = reconcile_every_s
        self.max_pages = max_pages
        self.clock = clock
        self.inbound = InboundRepo(db.db)
        self.campaigns = CampaignRepo(db.db)
        self.settings = GatewayRepo(db.db)
        self.reconciler = BlacklistReconciler(
            db, client, add_opt_outs=blacklist_opt_outs, clock=clock
        )
        self._last_reconcile = last_reconcile_at
        self._done = PollRound()  # what the round in progress did so far

    def reconcile_due(self) -> bool:
        last = self._last_reconcile
        return last is None or self.clock() - last >= self.reconcile_every_s

    async def round(self, reconcile: bool | None = None) -> PollRound:
        """Poll once; `reconcile`: compare the blacklist now (True), never (False), or when
        it is due (None). A failure ends the round; what it did until then is in the result."""
        started = time.monotonic()
        self._done = PollRound()
        try:
            await self._replies()
            await self._reports()
            if reconcile or (reconcile is None and self.reconcile_due()):
                done = await self.reconciler.reconcile()
                self._last_reconcile = self.clock()
                self._add(
                    blacklist_checked=True,
                    blacklist_opt_outs=tuple(done.opted_out),
                    blacklisted=done.added,
                    blocked_but_subscribed=len(done.blocked_but_subscribed),
                    blacklist_error=done.error,
                )
        except GatewayError as exc:
            log.warning("gateway poll: %s", exc.user_message)
            self._add(error=exc.user_message)
        result = replace(self._done, duration_s=time.monotonic() - started)
        await self.db.run(
            self.settings.record_poll, self.clock(), result.error, result.blacklist_checked
        )
        return result

    def _add(self, **changes: Any) -> None:
        self._done = replace(self._done, **changes)

    async def _replies(self) -> None:
        keyword_of = partial(opt_out_keyword, keywords=self.keywords)
        for _ in range(self.max_pages):
            polled = await self.client.check_replies()
            if polled.items:
                saved = await self.db.run(
                    self.inbound.save_replies,
                    [_reply_in(r) for r in polled.items],
                    keyword_of,
                    self.clock(),
                )
                done = self._done
                self._add(
                    replies=done.replies + saved.stored,
                    repeated=done.repeated + saved.repeated,
                    opt_outs=done.opt_outs + tuple(o.phone for o in saved.opt_outs if o.newly),
                )
                # Confirmed only now that they are committed (repeated ones too: stored).
                await self.client.confirm_replies([r.reply_id for r in polled.items])
            if not polled.full:
                return
        self._add(more=True)

    async def _reports(self) -> None:
        touched: set[int] = set()
        try:
            for _ in range(self.max_pages):
                polled = await self.client.check_delivery_reports()
                if polled.items:
                    applied = await self.db.run(
                        self.inbound.apply_reports, [_report_in(r) for r in polled.items]
                    )
                    touched |= applied.campaigns
                    done = self._done
                    self._add(
                        reports=done.reports + applied.applied,
                        unmatched_reports=done.unmatched_reports + applied.unmatched,
                        confirmed_sent=done.confirmed_sent + applied.confirmed_sent,
                    )
                    await self.client.confirm_delivery_reports(
                        [r.delivery_report_id for r in polled.items]
                    )
                if not polled.full:
                    return
            self._add(more=True)
        finally:
            for campaign_id in sorted(touched):
                await self.db.run(self.campaigns.refresh_counts, campaign_id)


def _int(metadata: Mapping[str, str], key: str) -> int | None:
    value = metadata.get(key, "")
    return int(value) if value.isdigit() else None


def _reply_in(r: Reply) -> ReplyIn:
    return ReplyIn(
        r.reply_id,
        r.source_number,
        r.content,
        r.received_at,
        r.message_id,
        _int(r.metadata, "campaign"),
        _int(r.metadata, "recipient"),
    )


def _report_in(r: DeliveryReport) -> ReportIn:
    return ReportIn(
        r.message_id,
        r.number,
        r.status,
        r.at,
        r.error_code,
        _int(r.metadata, "campaign"),
        _int(r.metadata, "recipient"),
    )


@dataclass(frozen=True)
class Reconciled:
    """What one comparison did."""

    listed: int = 0
    opted_out: list[str] = field(default_factory=list)  # new on the blacklist: opted out here
    added: int = 0  # our opt-outs put on the blacklist
    still_to_add: bool = False
    blocked_but_subscribed: list[str] = field(default_factory=list)
    error: str | None = None  # adding failed part-way (the listing was compared)


class BlacklistReconciler:
    """Lists the blacklist completely, compares, adds what it lacks."""

    def __init__(
        self,
        db: DbThread,
        client: MessageMediaClient,
        *,
        add_opt_outs: bool = True,
        max_adds: int = MAX_ADDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.client = client
        self.add_opt_outs = add_opt_outs
        self.max_adds = max_adds
        self.clock = clock
        self.repo = BlacklistRepo(db.db)

    async def reconcile(self) -> Reconciled:
        """GatewayError when the listing could not be read whole (nothing compared then)."""
        numbers: set[str] = set()
        async for page in self.client.iter_blacklist():
            numbers.update(page)
        applied = await self.db.run(self.repo.apply_listing, numbers, self.clock())
        if applied.opted_out:
            log.info("%d numbers new on the gateway's blacklist opted out", len(applied.opted_out))
        added, more, error = 0, False, None
        if self.add_opt_outs:
            added, more, error = await self._add()
        blocked = await self.db.run(self.repo.blocked_but_subscribed)
        return Reconciled(applied.listed, applied.opted_out, added, more, blocked, error)

    async def _add(self) -> tuple[int, bool, str | None]:
        phones = await self.db.run(self.repo.to_add, self.max_adds + 1)
        more = len(phones) > self.max_adds
        phones = phones[: self.max_adds]
        gate = asyncio.Semaphore(ADD_CONCURRENCY)
        added = 0
        errors: list[str] = []

        async def add(chunk: list[str]) -> None:
            nonlocal added
            refused = False
            async with gate:
                try:
                    await self.client.add_to_blacklist(chunk)
                except BadRequestError as exc:
                    refused = len(chunk) > 1
                    if not refused:
                        errors.append(exc.user_message)
                        return
                except GatewayError as exc:
                    errors.append(exc.user_message)
                    return
            if refused:  # one number it refuses must not keep the other nine out
                for one in chunk:
                    await add([one])
                return
            await self.db.run(self.repo.added, chunk, self.clock())
            added += len(chunk)

        await asyncio.gather(
            *(
                add(phones[i : i + BLACKLIST_ADD_BATCH])
                for i in range(0, len(phones), BLACKLIST_ADD_BATCH)
            )
        )
        if errors:
            log.warning("adding opt-outs to the gateway's blacklist: %s", errors[0])
        return added, more or bool(errors), errors[0] if errors else None


Sleep = Callable[[float], Awaitable[None]]


class PollLoop:
    """Runs polling rounds forever, telling `listener` each round's `PollRound`."""

    def __init__(
        self,
        poll: Callable[[], Awaitable[PollRound]],
        *,
        listener: Callable[[PollRound], None] = lambda r: None,
        after_opt_outs: Callable[[], Awaitable[object]] | None = None,
        interval_s: float = POLL_EVERY_S,
        max_backoff_s: float = MAX_BACKOFF_S,
        sleep: Sleep | None = None,
    ) -> None:
        self._poll = poll
        self._listener = listener
        self._after_opt_outs = after_opt_outs
        self.interval_s = interval_s
        self.max_backoff_s = max_backoff_s
        self._sleep = sleep
        self._wake = asyncio.Event()
        self.failures = 0
        self.rounds = 0

    def wake(self) -> None:
        """Poll now (after a send, say), from the loop's own thread."""
        self._wake.set()

    def next_wait(self, result: PollRound | None) -> float:
        """Seconds until the next round after this one (None: it raised)."""
        if result is not None and result.error is None:
            self.failures = 0
            return 0.0 if result.more else self.interval_s
        self.failures += 1
        return float(min(self.max_backoff_s, self.interval_s * 2**self.failures))

    async def run_forever(self) -> None:
        while True:
            result: PollRound | None
            # A wake during the round (a send ended, the connection changed) makes the next
            # wait end at once; cleared before the wait, it was lost.
            self._wake.clear()
            try:
                result = await self._poll()
            except Exception:  # a failure to poll must never stop the loop
                log.exception("gateway poll failed; trying again later")
                result = None
            self.rounds += 1
            if result is not None:
                self._listener(result)
                if result.opted_out and self._after_opt_outs is not None:
                    try:
                        await self._after_opt_outs()
                    except Exception:
                        log.exception("pushing opt-outs after a poll failed; the outbox keeps them")
            await self._wait(self.next_wait(result))

    async def _wait(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self._sleep is not None:
            await self._sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):  # the usual way a wait ends
            await asyncio.wait_for(self._wake.wait(), seconds)
