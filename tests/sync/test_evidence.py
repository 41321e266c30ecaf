"""Removals only on complete evidence; a broken record is an issue, never the end of a run.

Before: a full sync that received empty pages or a short list of lists removed contacts and
said `succeeded`; a profile with a malformed consent crashed the run; one without attributes
or with a numeric id failed every later sync, and with it the opt-out push.
"""

from __future__ import annotations

import time

import pytest

from engage_desktop.core.consent import SmsStatus
from engage_desktop.storage.contacts import ContactRepo
from engage_desktop.storage.outbox import OutboxRepo
from engage_desktop.storage.runs import RunRepo

from .conftest import World, sms_consent

pytestmark = pytest.mark.asyncio


async def synced_whole_account(world: World) -> int:
    world.connect()
    first = await world.sync(full=True)
    assert first.status == "succeeded"
    return len(world.contacts())


@pytest.mark.parametrize(
    ("path", "kind", "count"),
    [
        ("/api/profiles", "empty_page", 4),  # pages lost in the middle of Get Profiles
        ("/api/lists/", "empty_page", 3),  # … and of the memberships
        ("/api/lists", "missing_lists", 1),  # Get Lists leaves a list out
    ],
)
async def test_an_incomplete_listing_removes_nothing_and_says_why(
    world: World, path: str, kind: str, count: int
) -> None:
    before = await synced_whole_account(world)
    await world.fault(path, kind, count)
    result = await world.sync(full=True)
    assert result.counts["removed"] == 0 and len(world.contacts()) == before
    assert result.suspicious and "nothing was removed" in result.suspicious
    reasons = [i[4] for i in RunRepo(world.db).issues(result.run_id)]
    assert any(r.startswith("incomplete listing") for r in reasons)
    world.emulator.faults.clear()
    clean = await world.sync(full=True)  # the next complete run is trusted again
    assert clean.suspicious is None


async def test_a_foreign_next_link_fails_the_run_and_removes_nothing(world: World) -> None:
    before = await synced_whole_account(world)
    await world.fault("/api/profiles", "foreign_next", 3, detail="http://attacker.invalid:81")
    result = await world.sync(full=True)
    assert result.status == "failed" and "another server" in (result.error or "")
    assert "attacker.invalid" in (result.error or "")
    assert len(world.contacts()) == before


async def test_an_opted_out_contact_is_never_deleted_or_stripped_of_its_phone(
    world: World,
) -> None:
    lst = world.first_list()
    pid = await world.add("+14155550133", "SUBSCRIBED", 1.6e9, (lst,), first_name="Leaving")
    world.connect(lists=(lst,))
    await world.sync()
    cid = world.by_source(pid).id
    ContactRepo(world.db).mark_opted_out(cid, "STOP", time.time())
    await world.admin.delete(f"/_emulator/profiles/{pid}")
    result = await world.sync(full=True)
    assert result.counts["removed"] >= 1
    (contact,) = [c for c in world.contacts() if c.id == cid]
    assert contact.phone == "+14155550133" and contact.sms_status is SmsStatus.OPTED_OUT
    assert contact.sources == {}
    # The number comes back on a new profile, subscribed long ago: still opted out.
    back = await world.add("+14155550133", "SUBSCRIBED", 1.65e9, (lst,), first_name="Back")
    await world.sync(full=True)
    (contact,) = [c for c in world.contacts() if c.phone == "+14155550133"]
    assert contact.id == cid and contact.sms_status is SmsStatus.OPTED_OUT
    assert contact.sources == {"KLAVIYO": [back]}


@pytest.mark.parametrize(
    "variant", ["sms_string", "subscriptions_string", "marketing_string", "attributes_null"]
)
async def test_a_malformed_profile_is_an_issue_and_is_kept_as_it_was(
    world: World, variant: str
) -> None:
    lst = world.first_list()
    world.connect(lists=(lst,))
    await world.sync()
    before = {c.id: c for c in world.contacts()}
    await world.fault(f"/api/lists/{lst}/profiles", "malformed", 1, detail=variant)
    result = await world.sync(full=True)
    assert result.status == "succeeded" and result.counts["removed"] == 0
    broken = [i for i in RunRepo(world.db).issues(result.run_id) if "could not be read" in i[4]]
    assert len(broken) == 1
    profile_id = broken[0][0]
    assert profile_id is not None
    kept = world.by_source(profile_id)
    assert kept == before[kept.id]  # not changed, not removed
    assert {c.id for c in world.contacts()} == set(before)


async def test_a_record_without_a_readable_id_makes_the_listing_incomplete(world: World) -> None:
    lst = world.first_list()
    world.connect(lists=(lst,))
    await world.sync()
    before = len(world.contacts())
    await world.fault(f"/api/lists/{lst}/profiles", "malformed", 1, detail="numeric_id")
    result = await world.sync(full=True)
    assert result.status == "succeeded" and result.suspicious
    assert len(world.contacts()) == before


async def test_opt_outs_are_pushed_even_when_the_sync_fails(world: World) -> None:
    lst = world.first_list()
    world.connect(lists=(lst,))
    await world.sync()
    contact = next(c for c in world.contacts() if c.phone and c.sms_status.value == "subscribed")
    ContactRepo(world.db).mark_opted_out(contact.id, "STOP", time.time())
    await world.fault("/api/lists", "500", 50)  # the sync cannot even read the lists
    result = await world.sync()
    assert result.status == "failed"
    assert OutboxRepo(world.db).pending_count() == 0
    assert world.emulator.counters.requests[("bulk_unsubscribe_profiles", 202)] == 1


async def test_a_record_a_gapped_full_run_did_not_read_is_asked_for_and_its_opt_out_stands(
    world: World,
) -> None:
    """A full run whose listing has a gap removes nothing; the record it could not read is
    asked for by itself, and an UNSUBSCRIBED since the last run is not left for the next."""
    lst = world.first_list()
    members: list[str] = []
    url: str | None = f"/api/lists/{lst}/profiles"
    query: dict[str, str] | None = {"page[size]": "100"}
    while url:
        doc = (await world.admin.get(url, params=query)).json()
        members += [r["id"] for r in doc["data"]]
        url, query = doc["links"]["next"], None
    for n, pid in enumerate(members):
        await world.patch(
            pid,
            {"phone_number": f"+1415555{n:04d}", "subscriptions": sms_consent("SUBSCRIBED", 1.6e9)},
        )
    world.connect(lists=(lst,))
    await world.sync()
    assert {c.sms_status for c in world.contacts()} == {SmsStatus.SUBSCRIBED}
    for pid in members:  # every one of them says STOP in Klaviyo
        await world.consent(pid, "UNSUBSCRIBED", time.time())
    # One member of a page comes without a readable id: that record is not read.
    await world.fault(f"/api/lists/{lst}/profiles", "malformed", 1, detail="numeric_id")
    result = await world.sync(full=True)
    assert result.suspicious and result.counts["removed"] == 0
    assert len(world.contacts()) == len(members)
    assert {c.sms_status for c in world.contacts()} == {SmsStatus.OPTED_OUT}
