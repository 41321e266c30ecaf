"""Property: whatever the interleaving of Klaviyo consent changes, local opt-outs, failed pushes
and syncs, no opted-out contact becomes messageable without a newer Klaviyo SUBSCRIBED, and no
outbox row is lost or sent twice."""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import patch

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engage_desktop.core.consent import ConsentMode, SmsStatus
from engage_desktop.core.secrets import ApiKey
from engage_desktop.emulator import DEMO_API_KEY, KlaviyoEmulator, Settings
from engage_desktop.klaviyo.client import KlaviyoClient
from engage_desktop.storage.connection import Connection, ConnectionRepo
from engage_desktop.storage.contacts import ContactRepo
from engage_desktop.storage.database import open_database
from engage_desktop.storage.outbox import OutboxEntry, OutboxRepo
from engage_desktop.sync.engine import SyncEngine

N = 6  # contacts the scenario plays with

ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("klaviyo"),
            st.integers(0, N - 1),
            st.sampled_from(["SUBSCRIBED", "UNSUBSCRIBED"]),
        ),
        st.tuples(st.just("optout"), st.integers(0, N - 1), st.none()),
        st.tuples(st.just("sync"), st.none(), st.none()),
        st.tuples(st.just("offline"), st.none(), st.none()),
    ),
    max_size=10,
)


async def scenario(
    steps: list[tuple[str, int | None, str | None]], folder: Path, log: list[tuple[str, list[Any]]]
) -> None:
    emulator = KlaviyoEmulator(Settings(profiles=40, lists=1, job_delay_s=0.0, rate_limits=False))
    transport = httpx.ASGITransport(app=emulator)
    db = open_database(folder)
    lst = next(iter(emulator.store.lists.values()))
    ConnectionRepo(db).save(
        Connection(
            emulator.store.data.account_id, "Shop", "http://e", ConsentMode.INFERRED, (lst.id,)
        )
    )
    async with KlaviyoClient(
        ApiKey(DEMO_API_KEY),
        base_url="http://e",
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
        assert (await engine.run()).status == "succeeded"
        contacts = ContactRepo(db)
        playable = [c for c in contacts.search() if c.phone and len(c.sources["KLAVIYO"]) == 1][:N]
        local_optout_at: dict[int, float] = {}
        klaviyo_subscribed_at: dict[int, float] = {}
        optouts_made = 0
        for op, k, value in steps:
            if k is not None and k >= len(playable):
                continue
            if op == "klaviyo":
                c = playable[k]  # type: ignore[index]
                now = time.time()
                stamp = datetime.fromtimestamp(now, UTC).isoformat()
                emulator.store.save(
                    i := emulator.store.index_of(c.sources["KLAVIYO"][0]),  # type: ignore[arg-type]
                    _with_consent(emulator.store.attributes(i), value or "", stamp),  # type: ignore[arg-type]
                )
                if value == "SUBSCRIBED":
                    klaviyo_subscribed_at[c.id] = now
            elif op == "optout":
                c = playable[k]  # type: ignore[index]
                now = time.time()
                if contacts.mark_opted_out(c.id, "STOP", now):
                    local_optout_at[c.id] = now
                    optouts_made += 1
            elif op == "offline":
                emulator.faults.arm("/api/profile-subscription-bulk-delete-jobs", "503", 2)
            else:
                await engine.run()
            await asyncio.sleep(0.001)
            by_id = {c.id: c for c in contacts.search()}
            for cid, opted_at in local_optout_at.items():
                if by_id[cid].sms_status is not SmsStatus.OPTED_OUT:
                    assert klaviyo_subscribed_at.get(cid, 0) > opted_at, "opt-out lost"
        emulator.faults.clear()
        # online again, and past every retry time: everything queued goes out
        later = SyncEngine(db, client, who="property", clock=lambda: time.time() + 7200)
        await later.run()
        outbox = OutboxRepo(db)
        assert outbox.pending_count() == 0, "an opt-out was never sent"
        phone_of = dict(db.execute_sql("SELECT id, phone FROM optout_outbox").fetchall())
        assert len(phone_of) == optouts_made, "an opt-out was not queued once"
        # Each job Klaviyo accepted carried the rows taken just before it (their numbers, a
        # number once) and exactly those were then marked sent. Every row in one such job only.
        carried: list[int] = []
        for n, (kind, numbers) in enumerate(log):
            if kind == "job":
                taken, after = log[n - 1], log[n + 1]
                assert taken[0] == "due" and after == ("marked", taken[1])
                assert numbers == sorted({phone_of[i] for i in taken[1]})
                carried += taken[1]
        assert sorted(carried) == sorted(phone_of), "an opt-out was lost or sent twice"
    db.close()


def _with_consent(attrs: dict, consent: str, stamp: str) -> dict:  # type: ignore[type-arg]
    subs = attrs.setdefault("subscriptions", {})
    subs["sms"] = {
        "marketing": {
            "consent": consent,
            "consent_timestamp": stamp,
            "can_receive_sms_marketing": consent == "SUBSCRIBED",
            "method": "API",
            "method_detail": "",
            "last_updated": stamp,
        },
        "transactional": None,
    }
    return attrs


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=ops)
def test_no_opt_out_is_lost_and_none_is_sent_twice(
    steps: list[tuple[str, int | None, str | None]],
) -> None:
    # what the pusher did, in order: rows taken ("due"), jobs accepted, rows marked sent
    log: list[tuple[str, list[Any]]] = []
    real_due, real_mark = OutboxRepo.due, OutboxRepo.mark_sent

    def recording_due(self: OutboxRepo, now: float, limit: int) -> list[OutboxEntry]:
        entries = real_due(self, now, limit)
        log.append(("due", [e.id for e in entries]))
        return entries

    def recording_mark(self: OutboxRepo, ids: list[int], now: float) -> None:
        log.append(("marked", list(ids)))
        real_mark(self, ids, now)

    with (
        tempfile.TemporaryDirectory() as folder,
        patch.object(OutboxRepo, "due", recording_due),
        patch.object(OutboxRepo, "mark_sent", recording_mark),
    ):
        asyncio.run(scenario(steps, Path(folder), log))
