"""Sending a campaign against the emulators: everyone eligible once, never twice whatever
breaks, never to a number that opted out meanwhile, cancel and pause."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest

from engage_desktop.actions.gateway import KEY_ENV, SECRET_ENV
from engage_desktop.core.messaging import (
    CampaignStatus,
    GatewayCredentials,
    RecipientState,
    SkipReason,
)
from engage_desktop.emulator.server import EmulatorThread
from engage_desktop.gateway import CampaignSender, SendFinished, SendProgress, SendRefused
from engage_desktop.messagemedia import MessageMediaClient
from engage_desktop.storage.contacts import ContactRepo

from .conftest import MM_ENV, World


def per_number(messages: list[dict[str, object]]) -> Counter[str]:
    return Counter(str(m["destination_number"]) for m in messages)


async def send(world: World, campaign_id: int, **options: object) -> SendFinished:
    async with world.mm_client() as client:
        sender = CampaignSender(world.db, client, campaign_id, **options)  # type: ignore[arg-type]
        result = await sender.run()
    assert isinstance(result, SendFinished)
    return result


async def test_a_list_is_sent_once_in_batches_of_100_with_delivery_reports(world: World) -> None:
    name = world.list_name()
    eligible = world.eligible_phones(name)
    campaign = world.actions.sending.prepare(name, "Hi {first_name|there}")
    events: list[object] = []
    done = await world.actions.sending.send(campaign.id, events.append)
    assert isinstance(done, SendFinished) and done.status == "finished"
    assert done.submitted == len(eligible) and done.unknown == done.failed == 0
    sent = await world.sent()
    assert per_number(sent) == Counter({p: 1 for p in eligible})
    assert all(m["delivery_report"] is True for m in sent)
    assert world.mm.counters.as_json()["requests"]["SendMessages"] == {
        "202": -(-len(eligible) // 100)
    }
    assert isinstance(events[0], SendProgress) and events[-1] == done
    rows = world.actions.sending.recipients(campaign.id, limit=1000, state="submitted")
    assert len(rows) == len(eligible) and all(r.message_id for r in rows)
    await asyncio.sleep(0.05)  # the emulator delivers
    heard = await world.actions.replies.round()
    assert heard.round.reports >= len(eligible)
    counts = world.actions.sending.campaign(campaign.id).counts
    assert counts.delivery == {"delivered": len(eligible)}


async def test_the_sender_number_goes_with_every_message(world: World) -> None:
    await world.connect_gateway(source_number="+61491570157")
    campaign = world.actions.sending.prepare(world.list_name(), "Hi")
    await world.actions.sending.send(campaign.id)
    assert {m["source_number"] for m in await world.sent()} == {"+61491570157"}


@pytest.mark.parametrize("kind", ["500", "503"])
async def test_a_5xx_mid_send_leaves_the_batch_unknown_and_a_decision_sends_it_once(
    world: World, kind: str
) -> None:
    name = world.list_name()
    eligible = world.eligible_phones(name)
    campaign = world.actions.sending.prepare(name, "Hi")
    await world.fault("/v1/messages", kind, 1)
    done = await send(world, campaign.id, batch_size=20, concurrency=1)
    assert done.unknown == 20 and done.submitted == len(eligible) - 20
    assert done.status == "finished" and done.error is None
    assert sum(per_number(await world.sent()).values()) == len(eligible) - 20
    unknown = world.actions.sending.unknown(campaign.id)
    assert [u.recipients for u in unknown] == [20] and f"answered {kind}" in (unknown[0].why or "")
    # No delivery report ever comes for them: a person decides to resend.
    await world.actions.replies.round()
    assert world.actions.sending.unknown(campaign.id)[0].recipients == 20
    assert world.actions.sending.decide_unknown(campaign.id, resend=True) == 20
    again = await world.actions.sending.send(campaign.id)
    assert isinstance(again, SendFinished) and again.submitted == 20
    assert per_number(await world.sent()) == Counter({p: 1 for p in eligible})


async def test_a_lost_202_is_unknown_then_confirmed_by_its_delivery_reports(
    world: World,
) -> None:
    """The gateway took the batch but its answer never arrived whole: the batch is unknown,
    never resent; its delivery reports (matched by the metadata we sent) prove it went."""
    name = world.list_name()
    eligible = world.eligible_phones(name)
    campaign = world.actions.sending.prepare(name, "Hi")
    world.mm.faults.arm("/v1/messages", "trickle", 1, delay_s=0.05)
    async with world.mm_client(deadline_s=0.5) as client:
        done = await CampaignSender(world.db, client, campaign.id, batch_size=20).run()
    assert isinstance(done, SendFinished) and done.unknown == 20
    assert per_number(await world.sent()) == Counter({p: 1 for p in eligible})
    await asyncio.sleep(0.05)
    heard = await world.actions.replies.round()
    assert heard.round.confirmed_sent == 20
    assert world.actions.sending.unknown(campaign.id) == []
    counts = world.actions.sending.campaign(campaign.id).counts
    assert counts.submitted == len(eligible) and counts.unknown == 0
    rows = world.actions.sending.recipients(campaign.id, limit=1000, state="submitted")
    assert all(r.message_id for r in rows)  # the reports brought the ids


async def test_an_unreadable_202_counts_as_sent_and_the_reports_bring_the_ids(
    world: World,
) -> None:
    campaign = world.actions.sending.prepare(world.list_name(), "Hi")
    world.mm.faults.arm("/v1/messages", "truncate", 1)
    done = await send(world, campaign.id, batch_size=10, concurrency=1)
    assert done.unknown == 0 and done.submitted == campaign.counts.eligible
    without = [
        r
        for r in world.actions.sending.recipients(campaign.id, limit=1000)
        if r.state == "submitted" and r.message_id is None
    ]
    assert len(without) == 10
    await asyncio.sleep(0.05)
    await world.actions.replies.round()
    rows = world.actions.sending.recipients(campaign.id, limit=1000, state="submitted")
    assert all(r.message_id for r in rows)


async def test_a_dropped_connection_mid_send_is_never_resent(
    live_mm: EmulatorThread, world: World
) -> None:
    name = world.list_name()
    eligible = world.eligible_phones(name)
    campaign = world.actions.sending.prepare(name, "Hi")
    live_mm.emulator.faults.arm("/v1/messages", "drop", 1)
    creds = GatewayCredentials(MM_ENV[KEY_ENV], MM_ENV[SECRET_ENV])
    async with MessageMediaClient(creds, live_mm.url, retry_base_s=0.01) as client:
        done = await CampaignSender(world.db, client, campaign.id, batch_size=25).run()
    assert isinstance(done, SendFinished) and done.unknown == 25
    unknown = world.actions.sending.recipients(campaign.id, limit=1000, state="unknown")
    sent = httpx.get(f"{live_mm.url}/_emulator/messages").json()["messages"]
    assert per_number(sent) == Counter({p: 1 for p in eligible - {r.phone for r in unknown}})


async def test_a_refused_number_fails_alone_and_the_rest_of_its_batch_goes(world: World) -> None:
    name = world.list_name()
    campaign = world.actions.sending.prepare(name, "Hi")
    first = world.actions.sending.recipients(campaign.id, limit=3, state="pending")[2]
    bad = "+9991234567890123"
    world.db.execute_sql("UPDATE contacts SET phone = ? WHERE id = ?", (bad, first.contact_id))
    world.db.execute_sql("UPDATE campaign_recipients SET phone = ? WHERE id = ?", (bad, first.id))
    done = await send(world, campaign.id, batch_size=10, concurrency=1)
    assert done.failed == 1 and done.submitted == campaign.counts.eligible - 1
    failed = world.actions.sending.recipients(campaign.id, limit=1000, state="failed")
    assert [r.id for r in failed] == [first.id]
    assert "destination_number" in (failed[0].reason or "")
    assert bad not in per_number(await world.sent())


async def test_an_opt_out_arriving_mid_campaign_is_skipped_before_its_batch(
    world: World,
) -> None:
    """A click, a STOP reply and a Klaviyo unsubscribe seen by a sync, all while the
    campaign is being sent: none of those numbers gets the message."""
    name = world.list_name()
    await world.mm_settings(latency_ms=40)
    campaign = world.actions.sending.prepare(name, "Hi")
    order = [
        r.phone for r in world.actions.sending.recipients(campaign.id, limit=1000, state="pending")
    ]
    late = order[-30:]  # in the last batches
    task = asyncio.create_task(send(world, campaign.id, batch_size=10, concurrency=1))
    while not await world.sent():
        await asyncio.sleep(0.01)
    contacts = ContactRepo(world.db)
    clicked = late[0]
    contact = contacts.find_by_phone(clicked)
    assert contact is not None
    world.actions.optouts.opt_out_contact(contact, "clicked in the app")
    stopped = late[1]
    await world.reply(stopped, "Stop")
    heard = await world.actions.replies.poll_round(reconcile=False)
    assert heard.opt_outs == (stopped,)
    done = await task
    await world.actions.replies.aclose()
    sent = per_number(await world.sent())
    assert clicked not in sent and stopped not in sent
    assert done.skipped == {SkipReason.OPTED_OUT.value: 2}
    assert set(sent) == set(order) - {clicked, stopped} and max(sent.values()) == 1


async def test_an_opt_out_seen_by_a_sync_mid_campaign_is_skipped(world: World) -> None:
    name = world.list_name()
    campaign = world.actions.sending.prepare(name, "Hi")
    last = world.actions.sending.recipients(campaign.id, limit=1000, state="pending")[-1]
    store = world.klaviyo.store
    index = next(
        i
        for i in range(store.n_total)
        if store.exists(i) and store.attributes(i).get("phone_number") == last.phone
    )
    attrs = store.attributes(index)
    attrs["subscriptions"]["sms"]["marketing"]["consent"] = "UNSUBSCRIBED"
    attrs["subscriptions"]["sms"]["marketing"]["consent_timestamp"] = "2099-01-01T00:00:00+00:00"
    store.save(index, attrs)
    await world.sync()
    done = await send(world, campaign.id)
    assert done.skipped == {SkipReason.OPTED_OUT.value: 1}
    assert last.phone not in per_number(await world.sent())


async def test_cancel_from_anywhere_stops_claiming_and_skips_the_rest(world: World) -> None:
    await world.mm_settings(latency_ms=30)
    campaign = world.actions.sending.prepare(world.list_name(), "Hi")
    task = asyncio.create_task(send(world, campaign.id, batch_size=10, concurrency=2))
    while not await world.sent():
        await asyncio.sleep(0.005)
    after = world.actions.sending.cancel(campaign.id)
    assert after.status is CampaignStatus.CANCELLING
    done = await task
    assert done.status == "cancelled"
    final = world.actions.sending.campaign(campaign.id)
    assert final.counts.pending == final.counts.sending == 0
    assert final.counts.skipped[SkipReason.CANCELLED] > 0
    assert final.counts.submitted == len(await world.sent())
    with pytest.raises(Exception, match="cancelled"):
        await world.actions.sending.send(campaign.id)


async def test_one_sender_at_a_time_and_a_pause_resumes(world: World) -> None:
    await world.mm_settings(latency_ms=30)
    campaign = world.actions.sending.prepare(world.list_name(), "Hi")
    async with world.mm_client() as client:
        sender = CampaignSender(world.db, client, campaign.id, batch_size=10, concurrency=1)
        first = asyncio.create_task(sender.run())
        while not await world.sent():
            await asyncio.sleep(0.005)
        second = await world.actions.sending.send(campaign.id)
        assert isinstance(second, SendRefused) and second.kind == "busy"
        assert "being sent by" in second.reason
        sender.stop()
        paused = await first
    assert isinstance(paused, SendFinished) and paused.status == "paused"
    assert 0 < paused.submitted < campaign.counts.eligible
    resumed = await world.actions.sending.send(campaign.id)
    assert isinstance(resumed, SendFinished) and resumed.status == "finished"
    sent = per_number(await world.sent())
    assert max(sent.values()) == 1 and len(sent) == campaign.counts.eligible
    rows = world.actions.sending.recipients(campaign.id, limit=1000)
    assert not [r for r in rows if r.state in (RecipientState.PENDING, RecipientState.SENDING)]


async def test_wrong_credentials_pause_the_campaign_with_nothing_lost(world: World) -> None:
    campaign = world.actions.sending.prepare(world.list_name(), "Hi")
    world.mm.settings.api_secret = "changed"
    done = await world.actions.sending.send(campaign.id)
    assert isinstance(done, SendFinished) and done.status == "paused"
    assert "did not accept" in (done.error or "")
    assert world.actions.sending.campaign(campaign.id).counts.pending == campaign.counts.eligible


async def test_progress_held_back_by_the_throttle_goes_out_before_a_slow_batch_answers(
    world: World,
) -> None:
    """Snapshots are throttled; the newest one still reaches the screen on time, not only
    when the next (slow) batch answers."""
    name = world.list_name()
    eligible = world.eligible_phones(name)
    campaign = world.actions.sending.prepare(name, "Hi")
    await world.fault("/v1/messages", "delay", 1, delay_s=1.5)  # the first batch is slow
    seen: list[tuple[float, SendProgress]] = []
    loop = asyncio.get_running_loop()

    def keep(event: object) -> None:
        if isinstance(event, SendProgress):
            seen.append((loop.time(), event))

    started = loop.time()
    done = await send(world, campaign.id, batch_size=20, on_event=keep, progress_every_s=0.25)
    assert done.submitted == len(eligible)
    before_slow = [p for at, p in seen if at - started < 1.2]
    assert before_slow and max(p.submitted for p in before_slow) == len(eligible) - 20
