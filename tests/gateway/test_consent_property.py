"""Property: whatever happens, in whatever order — STOP replies (listed or only blacklisted),
polls, clicks, consent changes in Klaviyo, syncs, campaigns prepared and sent a few batches at
a time —

1. no number that is opted out (by a click, a STOP heard, the blacklist, or Klaviyo as a sync
   saw it, with no newer SUBSCRIBED seen since) is sent a message;
2. no campaign sends a number twice;
3. no opt-out is lost: every click and every STOP ends in an opt-out row sent to Klaviyo (or
   dropped only for a newer SUBSCRIBED), and every listed STOP is stored once with its word.

PROPERTY_EXAMPLES=500 runs it deeper than the suite's 25 examples.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engage_desktop.core.consent import ConsentMode
from engage_desktop.gateway import CampaignSender, SendProgress
from engage_desktop.storage.database import DATABASE_ENV
from engage_desktop.storage.outbox import OutboxRepo
from engage_desktop.sync.pusher import OptOutPusher
from tests.pg_server import fresh_database_each_time

from .conftest import World, build_world

PHONES = ["+14155550161", "+14155550162", "+14155550163"]
ops = st.lists(
    st.one_of(
        st.tuples(st.just("new"), st.integers(0, 2), st.sampled_from(["SUBSCRIBED", None])),
        st.tuples(
            st.just("klaviyo"), st.integers(0, 2), st.sampled_from(["SUBSCRIBED", "UNSUBSCRIBED"])
        ),
        st.tuples(st.just("click"), st.integers(0, 2), st.none()),
        st.tuples(st.just("stop"), st.integers(0, 2), st.booleans()),  # listed as a reply?
        st.tuples(st.just("poll"), st.booleans(), st.none()),  # with the blacklist?
        st.tuples(st.just("sync"), st.none(), st.none()),
        st.tuples(st.just("prepare"), st.none(), st.none()),
        st.tuples(st.just("send"), st.integers(1, 3), st.none()),  # at most this many batches
    ),
    max_size=16,
)


class Oracle:
    """What happened to our three numbers, as the rules decide who may be messaged."""

    def __init__(self) -> None:
        self.local_out: dict[str, float] = {}  # newest opt-out made or heard here
        self.unsubscribed: dict[str, float] = {}  # newest UNSUBSCRIBED a sync saw
        self.subscribed: dict[str, list[float]] = {p: [] for p in PHONES}
        self.still_unsubscribed: set[str] = set()  # a record said so at the last sync

    def seen_by_sync(self, world: World) -> None:
        store = world.klaviyo.store
        lst = next(x for x in store.lists.values() if x.name == "Property")
        self.still_unsubscribed = set()
        for i in range(store.n_total):
            if not store.exists(i) or not store.is_member(lst, i):
                continue
            attrs = store.attributes(i)
            phone = attrs.get("phone_number")
            if phone not in self.subscribed:
                continue
            sms = ((attrs.get("subscriptions") or {}).get("sms") or {}).get("marketing") or {}
            stamp = sms.get("consent_timestamp")
            at = datetime.fromisoformat(stamp).timestamp() if stamp else None
            if sms.get("consent") == "UNSUBSCRIBED" and at is not None:
                self.still_unsubscribed.add(phone)
                self.unsubscribed[phone] = max(at, self.unsubscribed.get(phone, 0.0))
            elif sms.get("consent") == "SUBSCRIBED" and at is not None:
                self.subscribed[phone].append(at)

    def opted_out(self, phone: str) -> bool:
        """Surely opted out by the rules (never stricter than them)."""
        if phone in self.still_unsubscribed:
            return True
        times = [t for t in (self.local_out.get(phone), self.unsubscribed.get(phone)) if t]
        if not times:
            return False
        return not any(t > max(times) for t in self.subscribed[phone])


def sms_consent(consent: str, at: float) -> dict[str, Any]:
    stamp = datetime.fromtimestamp(at, UTC).isoformat()
    return {
        "sms": {
            "marketing": {
                "consent": consent,
                "consent_timestamp": stamp,
                "can_receive_sms_marketing": consent == "SUBSCRIBED",
                "method": "API",
                "method_detail": "",
                "last_updated": stamp,
            }
        }
    }


async def scenario(steps: list[tuple[str, Any, Any]], folder: Path) -> None:
    world = build_world(folder, ConsentMode.INFERRED, profiles=20)
    oracle = Oracle()
    store = world.klaviyo.store
    lst = store.create_list("Property")
    for phone in PHONES:  # each number starts as a subscribed member of the list
        store.add_member(lst, store.create({"phone_number": phone, **_subscribed(time.time())}))
    await world.sync()
    oracle.seen_by_sync(world)
    await world.connect_gateway()
    name = "Klaviyo: Property"
    clicks: list[tuple[str, float]] = []
    stops: list[tuple[str, float, bool]] = []
    stood: set[tuple[str, float]] = set()  # STOPs of numbers already opted out then
    campaign: int | None = None
    for op, a, b in steps:
        now = time.time()
        if op == "new":
            attrs: dict[str, Any] = {"phone_number": PHONES[a]}
            if b is not None:
                attrs["subscriptions"] = sms_consent(b, now)
            store.add_member(lst, store.create(attrs))
        elif op == "klaviyo":
            for i in range(store.n_total):
                if store.exists(i) and store.attributes(i).get("phone_number") == PHONES[a]:
                    attrs = store.attributes(i)
                    attrs["subscriptions"] = sms_consent(b, now)
                    store.save(i, attrs)
        elif op == "click":
            world.actions.optouts.opt_out_number(PHONES[a], "clicked")
            oracle.local_out[PHONES[a]] = now
            clicks.append((PHONES[a], now))
        elif op == "stop":
            await world.mm_settings(list_opt_out_replies=b)
            if oracle.opted_out(PHONES[a]) or PHONES[a] in world.mm.gateway.blacklist:
                stood.add((PHONES[a], now))  # unlisted, it changes nothing we could see
            await world.reply(PHONES[a], "STOP")
            stops.append((PHONES[a], now, b))
        elif op == "poll":
            await poll(world, oracle, stops, reconcile=a)
        elif op == "sync":
            await world.sync()
            oracle.seen_by_sync(world)
        elif op == "prepare":
            campaign = world.actions.sending.prepare(name, "Hi").id
        elif op == "send" and campaign is not None:
            before = set(world.mm.gateway.messages)
            forbidden = {p for p in PHONES if oracle.opted_out(p)}
            await send_some(world, campaign, batches=a)
            new = [m for k, m in world.mm.gateway.messages.items() if k not in before]
            wrong = {m.destination for m in new} & forbidden
            assert not wrong, f"sent to opted-out {wrong}"
        await asyncio.sleep(0.001)
    per_campaign = Counter(
        (m.fields["metadata"]["campaign"], m.destination)
        for m in world.mm.gateway.messages.values()
    )
    assert max(per_campaign.values(), default=1) == 1, "a campaign sent a number twice"
    await poll(world, oracle, stops, reconcile=True)
    await world.actions.replies.aclose()
    async with world.klaviyo_client() as client:  # online, past every retry time
        later = OptOutPusher(OutboxRepo(world.db), client, clock=lambda: time.time() + 7200)
        await later.push_due()
    no_opt_out_lost(world, oracle, clicks, stops, stood)
    await world.mm_admin.aclose()
    world.db.close()


def _subscribed(at: float) -> dict[str, Any]:
    return {"subscriptions": sms_consent("SUBSCRIBED", at)}


async def poll(
    world: World, oracle: Oracle, stops: list[tuple[str, float, bool]], reconcile: bool
) -> None:
    heard = await world.actions.replies.poll_round(reconcile=reconcile)
    assert heard.error is None, heard.error
    for phone, at, listed in stops:  # what this round can have heard
        if listed or reconcile:
            oracle.local_out[phone] = max(at - 0.01, oracle.local_out.get(phone, 0.0))


async def send_some(world: World, campaign: int, batches: int) -> None:
    async with world.mm_client() as client:
        sender = CampaignSender(
            world.db, client, campaign, batch_size=1, concurrency=1, progress_every_s=0
        )

        def stop_after(event: object) -> None:
            if isinstance(event, SendProgress) and event.done >= batches:
                sender.stop()

        sender.on_event = stop_after
        await sender.run()


def no_opt_out_lost(
    world: World,
    oracle: Oracle,
    clicks: list[tuple[str, float]],
    stops: list[tuple[str, float, bool]],
    stood: set[tuple[str, float]],
) -> None:
    """Every opt-out reached Klaviyo: a row sent from its time on — or Klaviyo said so itself
    (an UNSUBSCRIBED a sync saw, from that time on), or a newer SUBSCRIBED superseded it. A
    STOP only the blacklist shows (it has no time) for a number already opted out adds
    nothing we could see (the blacklist held it already, or the standing opt-out covers it)."""
    rows = world.db.execute_sql(
        "SELECT phone, created_at, sent_at, superseded_at FROM optout_outbox"
    ).fetchall()
    assert OutboxRepo(world.db).pending_count() == 0, "an opt-out never reached Klaviyo"
    for _, _, sent, superseded in rows:
        if superseded is not None:
            assert sent is None
    events = [
        *((p, t, True) for p, t in clicks),
        *((p, t - 0.01, listed) for p, t, listed in stops),
    ]
    for phone, at, listed in events:
        told = [r for r in rows if r[0] == phone and r[1] >= at - 0.001]
        # A STOP only the blacklist shows is heard at a reconciliation, with no time of its
        # own: when Klaviyo itself holds the number UNSUBSCRIBED by then, it knows already.
        by_klaviyo = oracle.unsubscribed.get(phone, 0.0) >= at - 0.001 or (
            not listed and phone in oracle.still_unsubscribed
        )
        lifted = any(t > at for t in oracle.subscribed[phone])
        covered = not listed and (phone, at + 0.01) in stood
        assert told or by_klaviyo or lifted or covered, (
            f"the opt-out of {phone} at {at} never reached the outbox"
        )
    stored = dict(
        world.db.execute_sql("SELECT phone, count(*) FROM gateway_replies GROUP BY phone")
    )
    for phone in {p for p, _, listed in stops if listed}:
        assert stored.get(phone), f"the STOP of {phone} was not kept"
    keywords = {k for (k,) in world.db.execute_sql("SELECT keyword FROM gateway_replies")}
    assert keywords <= {"STOP", None}


pytestmark = pytest.mark.usefixtures("engine")  # on SQLite and on the team database
POSTGRES_EXAMPLES = 10
_pg_examples: list[int] = []


# PROPERTY_EXAMPLES=n runs n examples on both engines.
@settings(
    max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(steps=ops)
def test_no_opted_out_number_is_messaged_and_no_opt_out_is_lost(
    steps: list[tuple[str, Any, Any]],
) -> None:
    if os.environ.get(DATABASE_ENV) and "PROPERTY_EXAMPLES" not in os.environ:
        _pg_examples.append(1)  # each example makes a database: the suite runs the first few
        if len(_pg_examples) > POSTGRES_EXAMPLES:
            return
    with (
        tempfile.TemporaryDirectory() as folder,
        fresh_database_each_time(),  # on the team database too, each example starts empty
    ):
        asyncio.run(scenario(steps, Path(folder)))
