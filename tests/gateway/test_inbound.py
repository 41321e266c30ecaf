"""Replies, delivery reports and the blacklist: a STOP reaches Klaviyo once, other replies are
kept, a crash between commit and confirm loses and doubles nothing, and the blacklist and our
opt-outs end up in step."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from engage_desktop.core.messaging import SkipReason
from engage_desktop.gateway import PollLoop, PollRound, SendFinished
from engage_desktop.storage.contacts import ContactRepo
from engage_desktop.storage.inbound import InboundRepo

from .conftest import World


def klaviyo_sms_consent(world: World, phone: str) -> list[str | None]:
    store = world.klaviyo.store
    out = []
    for i in range(store.n_total):
        if store.exists(i) and store.attributes(i).get("phone_number") == phone:
            sms = store.attributes(i)["subscriptions"]["sms"]["marketing"]
            out.append(sms.get("consent"))
    return out


def jobs_with(world: World, phone: str) -> int:
    return sum(phone in job for job in world.jobs)


async def sent_campaign(world: World) -> tuple[int, list[str]]:
    campaign = world.actions.sending.prepare(world.list_name(), "Hi")
    done = await world.actions.sending.send(campaign.id)
    assert isinstance(done, SendFinished)
    phones = [
        r.phone or ""
        for r in world.actions.sending.recipients(campaign.id, limit=1000, state="submitted")
    ]
    return campaign.id, phones


async def test_a_stop_reply_reaches_klaviyo_as_unsubscribed_exactly_once(world: World) -> None:
    campaign_id, phones = await sent_campaign(world)
    phone = phones[0]
    await world.reply(phone, "  stop. ")
    # The confirm fails: the reply comes again next round (as after a crash after commit).
    await world.fault("/v1/replies/confirmed", "503", 20)
    first = await world.actions.replies.round(reconcile=False)
    assert first.round.error is not None and first.round.opt_outs == (phone,)
    world.mm.faults.clear()
    second = await world.actions.replies.round()  # the blacklist shows the number too
    assert second.round.repeated == 1 and second.round.opt_outs == ()
    assert second.round.blacklist_checked and second.round.blacklist_opt_outs == ()
    await world.actions.replies.round()
    await asyncio.sleep(0.01)  # Klaviyo applies its job
    assert jobs_with(world, phone) == 1
    assert klaviyo_sms_consent(world, phone) == ["UNSUBSCRIBED"]
    assert world.status_of(phone) == "opted_out"
    stored = [r for r in InboundRepo(world.db).recent_replies() if r.phone == phone]
    assert len(stored) == 1 and stored[0].keyword == "STOP"
    assert stored[0].campaign_id == campaign_id
    row = world.db.execute_sql(
        "SELECT origin, reason FROM suppressions WHERE phone = ?", (phone,)
    ).fetchone()
    assert row == ("SMS", "replied STOP to an SMS")


async def test_a_reply_that_is_not_an_opt_out_is_kept_and_changes_nothing(world: World) -> None:
    campaign_id, phones = await sent_campaign(world)
    await world.reply(phones[1], "Please stop sending me these on Sundays")
    heard = await world.actions.replies.round()
    assert heard.round.replies == 1 and heard.round.opt_outs == ()
    assert world.status_of(phones[1]) == "subscribed"
    reply = InboundRepo(world.db).recent_replies()[0]
    assert reply.keyword is None and reply.campaign_id == campaign_id
    assert reply.contact_id == ContactRepo(world.db).find_by_phone(phones[1])
    assert jobs_with(world, phones[1]) == 0


async def test_a_stop_from_a_number_we_never_knew_is_remembered_and_told(world: World) -> None:
    stranger = "+61491577777"
    await world.reply(stranger, "UNSUBSCRIBE", destination_number="+61491570157")
    heard = await world.actions.replies.round(reconcile=False)
    assert heard.round.opt_outs == (stranger,)
    assert world.status_of(stranger) == "opted_out"
    assert jobs_with(world, stranger) == 1


async def test_configured_words_decide_what_opts_out(world: World) -> None:
    verified = await world.actions.gateway.verify()
    world.actions.gateway.connect(verified, keywords=("ARRET", "STOP"))
    _, phones = await sent_campaign(world)
    await world.reply(phones[0], "arret")
    await world.reply(phones[1], "END")
    heard = await world.actions.replies.round(reconcile=False)
    assert heard.round.opt_outs == (phones[0],)
    assert world.status_of(phones[1]) == "subscribed"


async def test_a_stop_the_gateway_never_lists_comes_in_through_the_blacklist(
    world: World,
) -> None:
    await world.mm_settings(list_opt_out_replies=False)
    _, phones = await sent_campaign(world)
    await world.reply(phones[2], "STOP")
    quiet = await world.actions.replies.round(reconcile=False)
    assert quiet.round.replies == 0 and world.status_of(phones[2]) == "subscribed"
    heard = await world.actions.replies.round(reconcile=True)
    assert heard.round.blacklist_opt_outs == (phones[2],)
    assert world.status_of(phones[2]) == "opted_out"
    assert jobs_with(world, phones[2]) == 1
    again = await world.actions.replies.round(reconcile=True)
    assert again.round.blacklist_opt_outs == () and jobs_with(world, phones[2]) == 1


async def test_local_opt_outs_go_on_the_blacklist_as_a_net(world: World) -> None:
    opted = [
        p for (p,) in world.db.execute_sql("SELECT phone FROM suppressions WHERE lifted_at IS NULL")
    ]
    assert len(opted) > 10
    odd = "+1234567890123456"  # a number the gateway refuses: it must not keep others out
    world.db.execute_sql(
        "INSERT INTO suppressions (phone, opted_out_at, reason, origin)"
        " VALUES (?, 9e9, 'typed by hand', 'LOCAL')",
        (odd,),
    )
    heard = await world.actions.replies.round(reconcile=True)
    assert heard.round.blacklisted == len(opted)
    assert set(world.mm.gateway.blacklist) == set(opted)
    assert heard.round.blacklist_error and heard.round.error is None
    requests = world.mm.counters.as_json()["requests"]["AddOneOrMoreNumbersToYourBlacklist"]
    # Its batch of ten was refused (400), then sent one by one: nine added, it refused again.
    assert requests == {"400": 2, "201": 9 + -(-(len(opted) - 9) // 10)}
    # A message to one of them anyway (another tool, a bug) is refused by the gateway.
    async with world.mm_client() as client:
        from engage_desktop.messagemedia import OutboundMessage

        [sent] = await client.send_messages([OutboundMessage(opted[0], "promo")])
    await asyncio.sleep(0.01)
    assert (await world.sent(opted[0]))[0]["status"] == "rejected"
    world.db.execute_sql("DELETE FROM suppressions WHERE phone = ?", (odd,))
    again = await world.actions.replies.round(reconcile=True)
    assert again.round.blacklisted == 0 and again.round.blacklist_opt_outs == ()
    assert sent.message_id


async def test_a_resubscribed_number_still_blacklisted_is_skipped_until_unblocked(
    world: World,
) -> None:
    _, phones = await sent_campaign(world)
    phone = phones[3]
    await world.reply(phone, "STOP")
    await world.actions.replies.round(reconcile=True)
    # The person re-subscribes in Klaviyo later; a sync lifts the opt-out here.
    store = world.klaviyo.store
    for (profile_id,) in world.db.execute_sql(
        "SELECT external_id FROM contact_sources WHERE phone = ?", (phone,)
    ):
        i = store.index_of(profile_id)
        assert i is not None
        attrs = store.attributes(i)
        attrs["subscriptions"]["sms"]["marketing"].update(
            consent="SUBSCRIBED", consent_timestamp="2099-01-01T00:00:00+00:00"
        )
        store.save(i, attrs)
    await world.sync()
    assert world.status_of(phone) == "subscribed"
    heard = await world.actions.replies.round(reconcile=True)
    assert heard.round.blocked_but_subscribed == 1 and heard.round.blacklist_opt_outs == ()
    assert world.status_of(phone) == "subscribed"  # not opted out again by the blacklist
    plan = world.actions.sending.plan(world.list_name(), "Hi")
    assert plan.skipped[SkipReason.GATEWAY_BLOCKED] == 1
    assert await world.actions.gateway.unblock(phone) is True
    assert (
        world.actions.sending.plan(world.list_name(), "Hi").skipped.get("gateway_blocked") is None
    )


async def test_delivery_reports_for_messages_not_ours_are_confirmed_and_ignored(
    world: World,
) -> None:
    async with world.mm_client() as client:
        from engage_desktop.messagemedia import OutboundMessage

        await client.send_messages([OutboundMessage("+61491571111", "not from a campaign")])
    await asyncio.sleep(0.05)
    heard = await world.actions.replies.round(reconcile=False)
    assert heard.round.unmatched_reports >= 3 and heard.round.reports == 0
    assert world.mm.counters.as_json()["requests"]["ConfirmDeliveryReportsAsReceived"]
    assert not world.mm.gateway.reports


async def test_the_poll_loop_backs_off_on_errors_and_pushes_after_opt_outs() -> None:
    rounds = [
        PollRound(error="down"),
        PollRound(error="down"),
        PollRound(more=True, opt_outs=("+61491570156",)),
        PollRound(),
    ]
    waits: list[float] = []
    pushes: list[int] = []
    seen: list[PollRound] = []

    async def poll() -> PollRound:
        if not rounds:
            raise asyncio.CancelledError
        return rounds.pop(0)

    async def push() -> Any:
        pushes.append(1)

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    loop = PollLoop(poll, listener=seen.append, after_opt_outs=push, sleep=sleep, interval_s=5)
    with contextlib.suppress(asyncio.CancelledError):  # how the fake poll ends the loop
        await loop.run_forever()
    assert waits == [10.0, 20.0, 5.0]  # back off, then at once while more waits, then 5 s
    assert pushes == [1] and len(seen) == 4


async def test_a_wake_during_a_round_is_not_lost() -> None:
    """`wake()` while a round runs (a send ended, the connection changed) starts the next
    round at once instead of after the interval."""
    rounds: list[float] = []
    loop = asyncio.get_running_loop()

    async def poll() -> PollRound:
        rounds.append(loop.time())
        if len(rounds) == 1:
            poller.wake()  # arrives while this round is still running
        await asyncio.sleep(0.01)
        return PollRound()

    poller = PollLoop(poll, interval_s=30.0)
    task = asyncio.create_task(poller.run_forever())
    try:
        for _ in range(100):
            if len(rounds) >= 2:
                break
            await asyncio.sleep(0.02)
    finally:
        task.cancel()
    assert len(rounds) >= 2 and rounds[1] - rounds[0] < 1.0
