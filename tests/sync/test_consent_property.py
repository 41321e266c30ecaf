"""Property: whatever happens, in whatever order — twins, the same number arriving later on new
profiles, consent changes in Klaviyo, local opt-outs, failed pushes, profiles deleted,
incomplete listings, full and incremental syncs —

1. no number opted out (here, or in Klaviyo as a sync saw it) is subscribed here unless
   Klaviyo recorded SUBSCRIBED for it after that opt-out (a sync that Klaviyo lied to — a
   lost page, a list left out — saw the profiles its answers carried: a last page lost
   whole is an empty listing to any client);
2. no opt-out is lost: every local opt-out reaches Klaviyo in the end (a sent row made at or
   after it), or is dropped only because Klaviyo recorded a newer SUBSCRIBED for its number;
3. none is sent twice: every queued row travels in exactly one job Klaviyo accepted.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any
from unittest.mock import patch

import httpx
import orjson
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engage_desktop.core.consent import ConsentMode, SmsStatus
from engage_desktop.core.secrets import ApiKey
from engage_desktop.emulator import DEMO_API_KEY, KlaviyoEmulator, Settings
from engage_desktop.klaviyo.client import KlaviyoClient
from engage_desktop.storage.connection import Connection, ConnectionRepo
from engage_desktop.storage.contacts import ContactRepo
from engage_desktop.storage.database import DATABASE_ENV, Database, open_database
from engage_desktop.storage.outbox import OutboxEntry, OutboxRepo
from engage_desktop.sync.engine import SyncEngine
from tests.pg_server import fresh_database_each_time

from .conftest import sms_consent

PHONES = ["+14155550161", "+14155550162", "+14155550163"]
CONSENTS = st.sampled_from(["SUBSCRIBED", "UNSUBSCRIBED", None])
ops = st.lists(
    st.one_of(
        st.tuples(st.just("new"), st.integers(0, len(PHONES) - 1), CONSENTS),
        st.tuples(
            st.just("klaviyo"), st.integers(0, 5), st.sampled_from(["SUBSCRIBED", "UNSUBSCRIBED"])
        ),
        st.tuples(st.just("optout"), st.integers(0, len(PHONES) - 1), st.none()),
        st.tuples(st.just("sync"), st.booleans(), st.none()),
        st.tuples(st.just("offline"), st.none(), st.none()),
        st.tuples(st.just("gap"), st.sampled_from(["empty_page", "missing_lists"]), st.none()),
        st.tuples(st.just("delete"), st.integers(0, 5), st.none()),
    ),
    max_size=14,
)


class Oracle:
    """What happened, as the invariants need it."""

    def __init__(self, emulator: KlaviyoEmulator) -> None:
        self.emulator = emulator
        self.opted_out_at: dict[str, float] = {}  # number -> its newest opt-out anywhere
        self.subscribed_at: dict[str, list[float]] = {p: [] for p in PHONES}

    def klaviyo_seen_by_a_sync(self) -> None:
        """A sync read Klaviyo: its UNSUBSCRIBED numbers are opted out from their times on;
        its SUBSCRIBED consents are evidence that may lift an older opt-out."""
        store = self.emulator.store
        for i in range(store.n_total):
            if store.exists(i):
                self.seen(store.attributes(i))

    def seen(self, attrs: dict[str, Any]) -> None:
        """One profile as a sync read it."""
        phone = attrs.get("phone_number")
        sms = (((attrs.get("subscriptions") or {}).get("sms") or {}).get("marketing")) or {}
        at = _epoch(sms.get("consent_timestamp"))
        if phone not in self.subscribed_at or at is None:
            return
        if sms.get("consent") == "UNSUBSCRIBED":
            self.opted_out_at[phone] = max(at, self.opted_out_at.get(phone, 0.0))
        elif sms.get("consent") == "SUBSCRIBED":
            self.subscribed_at[phone].append(at)

    def check(self, db: Database) -> None:
        for c in ContactRepo(db).search():
            if c.phone in self.opted_out_at and c.sms_status is SmsStatus.SUBSCRIBED:
                newer = [t for t in self.subscribed_at[c.phone] if t > self.opted_out_at[c.phone]]
                assert newer, f"{c.phone} opted out, then subscribed with no newer consent"


class ReadingTransport(httpx.ASGITransport):
    """The emulator, and the profiles its answers carried (`received`): what a sync that
    Klaviyo lied to (a lost page, a list left out) actually read."""

    def __init__(self, app: KlaviyoEmulator) -> None:
        super().__init__(app=app)
        self.received: list[dict[str, Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.method == "GET" and "profiles" in request.url.path:
            body = await response.aread()
            data = orjson.loads(body).get("data") if response.status_code == 200 else None
            for resource in data if isinstance(data, list) else [data] if data else []:
                if resource.get("type") == "profile":
                    self.received.append(resource.get("attributes") or {})
        return response


def _epoch(stamp: Any) -> float | None:
    from datetime import datetime

    return datetime.fromisoformat(stamp).timestamp() if isinstance(stamp, str) else None


async def scenario(
    steps: list[tuple[str, Any, Any]], folder: Path, log: list[tuple[str, list[Any]]]
) -> None:
    emulator = KlaviyoEmulator(Settings(profiles=30, lists=1, job_delay_s=0.0, rate_limits=False))
    transport = ReadingTransport(emulator)
    db = open_database(folder)
    lst = next(iter(emulator.store.lists.values()))
    ConnectionRepo(db).save(
        Connection(
            emulator.store.data.account_id, "Shop", "http://127.0.0.1", ConsentMode.INFERRED, None
        )
    )
    oracle = Oracle(emulator)
    profiles: list[str] = []
    async with KlaviyoClient(
        ApiKey(DEMO_API_KEY),
        base_url="http://127.0.0.1",
        transport=transport,
        retry_base_s=0.001,
        max_attempts=2,
    ) as client:
        real_push = client.bulk_unsubscribe_sms

        async def recording_push(phones: list[str]) -> None:
            await real_push(phones)
            log.append(("job", sorted(phones)))  # only once Klaviyo answered 202

        client.bulk_unsubscribe_sms = recording_push  # type: ignore[method-assign]
        engine = SyncEngine(db, client, who="property")

        lied = False  # a listing fault is armed: judge the run by what it was given

        async def sync(full: bool) -> None:
            nonlocal lied
            if not lied:
                oracle.klaviyo_seen_by_a_sync()
            transport.received.clear()
            await engine.run("manual", full)
            if lied:  # an empty last page is an empty listing: no client can tell
                for attrs in transport.received:
                    oracle.seen(attrs)
            lied = False
            emulator.faults.clear()
            await asyncio.sleep(0)  # let accepted unsubscribe jobs apply in Klaviyo

        await sync(True)
        optouts: list[tuple[str, float]] = []
        for op, a, b in steps:
            now = time.time()
            if op == "new":
                attrs: dict[str, Any] = {"phone_number": PHONES[a], "first_name": f"new {a}"}
                if b is not None:
                    attrs["subscriptions"] = sms_consent(b, now)
                i = emulator.store.create(attrs)
                emulator.store.add_member(lst, i)
                profiles.append(emulator.store.profile_id(i))
            elif op == "klaviyo" and a < len(profiles):
                i = emulator.store.index_of(profiles[a])
                if i is not None:
                    attrs = emulator.store.attributes(i)
                    attrs["subscriptions"] = sms_consent(b, now)
                    emulator.store.save(i, attrs)
            elif op == "delete" and a < len(profiles):
                i = emulator.store.index_of(profiles[a])
                if i is not None:
                    emulator.store.delete(i)
            elif op == "optout":
                phone, contacts = PHONES[a], ContactRepo(db)
                cid = contacts.find_by_phone(phone)
                if cid is None:
                    contacts.add_opted_out(phone, "STOP", now)
                else:
                    contacts.mark_opted_out(cid, "STOP", now)
                optouts.append((phone, now))
                oracle.opted_out_at[phone] = now
            elif op == "offline":
                emulator.faults.arm("/api/profile-subscription-bulk-delete-jobs", "503", 4)
            elif op == "gap":
                lied = True
                emulator.faults.arm("/api/lists" if a == "missing_lists" else "/api/profiles", a, 2)
            elif op == "sync":
                await sync(a)
            await asyncio.sleep(0.002)
            oracle.check(db)
        # Online again, and past every retry time: everything queued goes out.
        emulator.faults.clear()
        later = SyncEngine(db, client, who="property", clock=lambda: time.time() + 7200)
        oracle.klaviyo_seen_by_a_sync()
        await later.run("manual", True)
        oracle.klaviyo_seen_by_a_sync()
        oracle.check(db)
    outbox = OutboxRepo(db)
    assert outbox.pending_count() == 0, "an opt-out was never sent"
    rows = db.execute_sql(
        "SELECT id, phone, created_at, sent_at, superseded_at FROM optout_outbox"
    ).fetchall()
    for _, phone, created, sent, superseded in rows:
        if superseded is not None:
            assert sent is None and any(t > created for t in oracle.subscribed_at[phone])
    for phone, at in optouts:
        told = [r for r in rows if r[1] == phone and r[2] >= at]
        assert told, f"the opt-out of {phone} at {at} never reached the outbox"
    phone_of = {rid: phone for rid, phone, *_ in rows}
    sent_ids = sorted(rid for rid, _, _, sent, _ in rows if sent is not None)
    # Each job Klaviyo accepted carried the rows claimed just before it (their numbers, a
    # number once), and exactly those were then marked sent. Every sent row in one job only.
    carried: list[int] = []
    for n, (kind, numbers) in enumerate(log):
        if kind == "job":
            taken, after = log[n - 1], log[n + 1]
            assert taken[0] == "claimed" and after == ("marked", taken[1])
            assert numbers == sorted({phone_of[i] for i in taken[1]})
            carried += taken[1]
    assert sorted(carried) == sent_ids, "an opt-out was sent twice, or marked without a job"
    db.close()


POSTGRES_EXAMPLES = 15
_pg_examples: list[int] = []


# PROPERTY_EXAMPLES=1000 for a deeper search than the suite's.
@settings(
    max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(steps=ops)
# Found by a deeper run: a second profile of a subscribed number arrives UNSUBSCRIBED while the
# list listing misses it; the incremental run reads the profile (changed since the last run)
# but not its membership. Its opt-out must still hold for the number.
@example(
    steps=[
        ("new", 2, "SUBSCRIBED"),
        ("sync", False, None),
        ("new", 2, "UNSUBSCRIBED"),
        ("gap", "missing_lists", None),
        ("sync", False, None),
    ]
)
# Found by the suite's run: the only page of changed profiles comes back empty and the list
# listing leaves the profile out, so the run never reads its UNSUBSCRIBED; the oracle had
# counted it as read (it judged every run by Klaviyo's whole state).
@example(
    steps=[
        ("new", 0, "SUBSCRIBED"),
        ("sync", False, None),
        ("gap", "empty_page", None),
        ("gap", "missing_lists", None),
        ("klaviyo", 0, "UNSUBSCRIBED"),
        ("sync", False, None),
    ]
)
def test_no_number_is_wrongly_messageable_no_opt_out_lost_none_sent_twice(
    steps: list[tuple[str, Any, Any]],
) -> None:
    if os.environ.get(DATABASE_ENV) and "PROPERTY_EXAMPLES" not in os.environ:
        # On the team database each example makes a database: the suite runs the first
        # POSTGRES_EXAMPLES (PROPERTY_EXAMPLES=n runs n on both engines).
        _pg_examples.append(1)
        if len(_pg_examples) > POSTGRES_EXAMPLES:
            return
    log: list[tuple[str, list[Any]]] = []
    real_claim, real_mark = OutboxRepo.claim, OutboxRepo.mark_sent

    def recording_claim(
        self: OutboxRepo, claimant: str, now: float, limit: int
    ) -> list[OutboxEntry]:
        entries = real_claim(self, claimant, now, limit)
        if entries:
            log.append(("claimed", [e.id for e in entries]))
        return entries

    def recording_mark(self: OutboxRepo, ids: list[int], claimant: str, now: float) -> None:
        log.append(("marked", list(ids)))
        real_mark(self, ids, claimant, now)

    with (
        tempfile.TemporaryDirectory() as folder,
        fresh_database_each_time(),  # on the team database too, each example starts empty
        patch.object(OutboxRepo, "claim", recording_claim),
        patch.object(OutboxRepo, "mark_sent", recording_mark),
    ):
        asyncio.run(scenario(steps, Path(folder), log))
