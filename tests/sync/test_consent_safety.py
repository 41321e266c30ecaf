"""A number must never become messageable by mistake: twins, duplicates, stale opt-outs.

Each test here failed on the engine before the per-record consent rules (storage/merge.py):
the twins' opt-out was lost to the order of writes, a duplicate profile took an opted-out
number over, and a queued opt-out was sent after the person re-subscribed.
"""

from __future__ import annotations

import time

import pytest

from engage_desktop.core.consent import ConsentMode, SmsStatus
from engage_desktop.storage.contacts import Contact, ContactRepo
from engage_desktop.storage.outbox import OutboxRepo

from .conftest import World

pytestmark = pytest.mark.asyncio

NUMBER = "+14155550111"
QUIET = ("created", "updated", "removed", "opted_out")


def with_phone(world: World, phone: str) -> list[Contact]:
    return [c for c in world.contacts() if c.phone == phone]


async def test_a_full_sync_right_after_a_sync_changes_nothing(world: World) -> None:
    lst = world.first_list()
    await world.add(NUMBER, "SUBSCRIBED", 1.7e9, (lst,), first_name="Twin A")
    await world.add(NUMBER, "UNSUBSCRIBED", 1.6e9, (lst,), first_name="Twin B")
    world.connect()
    await world.sync(full=True)
    before = world.state()
    again = await world.sync(full=True)
    assert again.status == "succeeded" and not again.suspicious
    assert {k: again.counts[k] for k in QUIET} == dict.fromkeys(QUIET, 0)
    assert world.state() == before


@pytest.mark.parametrize("unsubscribed_first", [True, False])
async def test_twins_new_in_one_sync_make_one_opted_out_contact(
    world: World, unsubscribed_first: bool
) -> None:
    lst = world.first_list()
    consents = ["UNSUBSCRIBED", "SUBSCRIBED"]
    if not unsubscribed_first:
        consents.reverse()
    ids = [await world.add(NUMBER, c, 1.7e9, (lst,), first_name=c) for c in consents]
    world.connect(lists=(lst,))
    first = await world.sync(full=True)
    (contact,) = with_phone(world, NUMBER)
    assert sorted(contact.sources["KLAVIYO"]) == sorted(ids)
    assert contact.sms_status is SmsStatus.OPTED_OUT
    assert first.counts["opted_out"] >= 1
    again = await world.sync(full=True)
    assert again.counts["opted_out"] == 0 and again.counts["updated"] == 0


async def test_a_duplicate_profile_never_takes_an_opted_out_number_over(world: World) -> None:
    first, second = list(world.emulator.store.lists)[:2]
    original = await world.add(
        NUMBER, "SUBSCRIBED", 1.6e9, (first,), first_name="Original", email="orig@example.com"
    )
    world.connect(lists=(first, second))
    await world.sync()
    kept = world.by_source(original)
    assert ContactRepo(world.db).mark_opted_out(kept.id, "STOP", time.time())
    # The next run reads only what is new (the original profile is not in it): a new profile
    # with the same number, never asked (subscribed by inference), and one subscribed long ago.
    # Neither is a consent newer than the opt-out.
    later = time.time() + 3600
    world.db.execute_sql(
        "UPDATE connection SET profiles_watermark = ?, list_watermarks = ?",
        (later, f'{{"{first}": {later}}}'),
    )
    intruders = [
        await world.add(
            NUMBER, None, None, (second,), first_name="Intruder", email="x@example.com"
        ),
        await world.add(NUMBER, "SUBSCRIBED", 1.5e9, (second,), first_name="Old news"),
    ]
    for full in (False, True):
        result = await world.sync(full=full)
        assert result.full is full
        (contact,) = with_phone(world, NUMBER)
        assert contact.id == kept.id and contact.sms_status is SmsStatus.OPTED_OUT
        assert contact.first_name == "Original" and contact.email == "orig@example.com"
        assert set(contact.sources["KLAVIYO"]) == {original, *intruders}


async def test_explicit_mode_a_duplicate_without_consent_changes_nothing(world: World) -> None:
    lst = world.first_list()
    pid = await world.add(NUMBER, "UNSUBSCRIBED", 1.6e9, (lst,), first_name="Gone")
    world.connect(mode=ConsentMode.EXPLICIT, lists=(lst,))
    await world.sync()
    await world.add(NUMBER, None, None, (lst,), first_name="New")
    await world.sync(full=True)
    (contact,) = with_phone(world, NUMBER)
    assert contact.sms_status is SmsStatus.OPTED_OUT and pid in contact.sources["KLAVIYO"]


async def test_a_stale_queued_opt_out_is_dropped_when_the_person_resubscribed(
    world: World,
) -> None:
    lst = world.first_list()
    pid = await world.add(NUMBER, "SUBSCRIBED", 1.6e9, (lst,), first_name="Back again")
    world.connect(lists=(lst,))
    await world.sync()
    cid = world.by_source(pid).id
    jobs = "/api/profile-subscription-bulk-delete-jobs"
    await world.fault(jobs, "503", count=50)  # Klaviyo cannot be told
    assert ContactRepo(world.db).mark_opted_out(cid, "STOP", time.time())
    await world.sync()
    assert OutboxRepo(world.db).pending_count() == 1
    await world.consent(pid, "SUBSCRIBED", time.time() + 5)  # re-subscribed later, in Klaviyo
    world.emulator.faults.clear()
    result = await world.sync()
    assert world.by_source(pid).sms_status is SmsStatus.SUBSCRIBED
    assert OutboxRepo(world.db).pending_count() == 0
    ((note,),) = world.db.execute_sql("SELECT note FROM optout_outbox").fetchall()
    assert note.startswith("not sent: superseded by a newer consent")
    await world.settle()
    (profile,) = [p for p in await world.profiles() if p["id"] == pid]
    assert profile["attributes"]["subscriptions"]["sms"]["marketing"]["consent"] == "SUBSCRIBED"
    accepted = world.emulator.counters.requests[("bulk_unsubscribe_profiles", 202)]
    assert accepted == 0, "the superseded opt-out was sent"
    assert result.status == "succeeded"


async def test_a_contact_opted_out_in_klaviyo_then_resubscribed_follows_klaviyo(
    world: World,
) -> None:
    lst = world.first_list()
    pid = await world.add(NUMBER, "UNSUBSCRIBED", 1.6e9, (lst,))
    world.connect(lists=(lst,))
    await world.sync()
    assert world.by_source(pid).sms_status is SmsStatus.OPTED_OUT
    await world.consent(pid, "SUBSCRIBED", 1.65e9)  # newer than the unsubscribe
    await world.sync()
    assert world.by_source(pid).sms_status is SmsStatus.SUBSCRIBED
    await world.consent(pid, "SUBSCRIBED", 1.55e9)  # an older consent lifts nothing
    await world.consent(pid, "UNSUBSCRIBED", 1.7e9)
    await world.sync()
    assert world.by_source(pid).sms_status is SmsStatus.OPTED_OUT
