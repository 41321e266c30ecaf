"""End to end against the emulator: full and incremental runs, consent, mapping, opt-outs."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from engage_desktop.core.consent import ConsentMode, SmsStatus
from engage_desktop.core.fields import FieldType
from engage_desktop.core.mapping import MappingSpec
from engage_desktop.storage.connection import ConnectionRepo
from engage_desktop.storage.contacts import ContactRepo
from engage_desktop.storage.dialect import is_postgres
from engage_desktop.storage.lease import LeaseRepo
from engage_desktop.storage.outbox import OutboxRepo
from engage_desktop.storage.runs import RunRepo
from engage_desktop.sync import lock
from engage_desktop.sync.engine import SyncEngine
from engage_desktop.sync.events import SyncProgress
from engage_desktop.sync.lock import SyncLock, SyncLockHeld

from .conftest import World

pytestmark = pytest.mark.asyncio


def consent_of(profile: dict[str, Any]) -> str | None:
    sms = profile["attributes"]["subscriptions"]["sms"]
    return (sms or {}).get("marketing", {}).get("consent") if sms else None


async def members_of_all_lists(world: World) -> set[str]:
    ids: set[str] = set()
    for lst in world.emulator.store.lists.values():
        url: str | None = f"/api/lists/{lst.id}/relationships/profiles"
        params: dict[str, str] | None = {"page[size]": "100"}
        while url:
            doc = (await world.admin.get(url, params=params)).json()
            ids |= {d["id"] for d in doc["data"]}
            url, params = doc["links"]["next"], None
    return ids


async def test_full_run_brings_every_list_member(world: World) -> None:
    world.connect()
    result = await world.sync()
    assert result.status == "succeeded" and result.full
    expected = await members_of_all_lists(world)
    contacts = world.contacts()
    synced = {pid for c in contacts for pid in c.sources["KLAVIYO"]}
    assert synced == expected
    assert result.counts["created"] == len(contacts) <= len(expected)
    assert all(name.startswith("Klaviyo: ") for c in contacts for name in c.lists)
    assert result.counts["invalid"] > 0  # the generated data has unusable numbers
    assert all(c.phone is None or c.phone.startswith("+") for c in contacts)
    phases = [p.phase for p in world.progress]
    assert phases[0] == "planning" and "committing" in phases
    assert RunRepo(world.db).last().status == "succeeded"  # type: ignore[union-attr]


@pytest.mark.parametrize("mode", [ConsentMode.INFERRED, ConsentMode.EXPLICIT])
async def test_consent_table_in_both_modes(world: World, mode: ConsentMode) -> None:
    world.connect(mode)
    await world.sync()
    profiles = {p["id"]: p for p in await world.profiles()}
    expect = {
        "SUBSCRIBED": SmsStatus.SUBSCRIBED,
        "UNSUBSCRIBED": SmsStatus.OPTED_OUT,
        "NEVER_SUBSCRIBED": SmsStatus.SUBSCRIBED
        if mode is ConsentMode.INFERRED
        else SmsStatus.NEVER_SUBSCRIBED,
        None: SmsStatus.SUBSCRIBED if mode is ConsentMode.INFERRED else SmsStatus.NEVER_SUBSCRIBED,
    }
    seen = set()
    for contact in world.contacts():
        (pid,) = contact.sources["KLAVIYO"][:1]
        consent = consent_of(profiles[pid])
        if len(contact.sources["KLAVIYO"]) == 1:
            assert contact.sms_status is expect[consent], (pid, consent)
            seen.add(consent)
    assert seen == set(expect)


async def test_incremental_runs_follow_changes(world: World) -> None:
    world.connect()
    await world.sync()
    contact = next(
        c
        for c in world.contacts()
        if c.sms_status is SmsStatus.SUBSCRIBED and len(c.sources["KLAVIYO"]) == 1
    )
    pid = contact.sources["KLAVIYO"][0]
    await world.patch(pid, {"first_name": "Renamed"})
    result = await world.sync()
    assert not result.full and result.counts["updated"] == 1
    assert world.by_source(pid).first_name == "Renamed"

    # a consent change to UNSUBSCRIBED in Klaviyo
    await world.patch(
        pid,
        {
            "subscriptions": {
                "sms": {
                    "marketing": {
                        "consent": "UNSUBSCRIBED",
                        "can_receive_sms_marketing": False,
                        "consent_timestamp": "2026-11-01T00:00:00+00:00",
                    }
                }
            }
        },
    )
    result = await world.sync()
    assert result.counts["opted_out"] == 1
    assert world.by_source(pid).sms_status is SmsStatus.OPTED_OUT

    # a new member of a list
    newcomer = (
        await world.admin.post(
            "/_emulator/profiles",
            json={"attributes": {"first_name": "New", "phone_number": "+14155550123"}},
        )
    ).json()["id"]
    lst = next(iter(world.emulator.store.lists.values()))
    await world.admin.post(f"/_emulator/lists/{lst.id}/members", json={"profile_ids": [newcomer]})
    result = await world.sync()
    assert result.counts["created"] == 1
    assert world.by_source(newcomer).lists == [f"Klaviyo: {lst.name}"]


async def test_full_reconcile_finds_removed_members_and_deleted_profiles(world: World) -> None:
    lst = next(iter(world.emulator.store.lists.values()))
    world.connect(lists=(lst.id,))
    await world.sync()
    members = [pid for c in world.contacts() for pid in c.sources["KLAVIYO"]]
    leaver, deleted = members[0], members[1]
    await world.admin.request(
        "DELETE", f"/_emulator/lists/{lst.id}/members", json={"profile_ids": [leaver]}
    )
    await world.admin.delete(f"/_emulator/profiles/{deleted}")
    result = await world.sync(full=True)
    assert result.counts["removed"] == 2
    remaining = {pid for c in world.contacts() for pid in c.sources.get("KLAVIYO", [])}
    assert leaver not in remaining and deleted not in remaining
    assert len(remaining) == len(set(members)) - 2


async def test_mapping_coercion_failures_keep_the_old_value(world: World) -> None:
    world.connect(
        mappings=[
            MappingSpec("Shoe size", "properties.Shoe Size", FieldType.NUMBER),
            MappingSpec("Last order", "properties.last_order_date", FieldType.DATE),
            MappingSpec("Store city", "properties.preferences.store.city", FieldType.TEXT),
            MappingSpec("Typo", "properties.shoe size", FieldType.TEXT),
        ]
    )
    result = await world.sync()
    issues = RunRepo(world.db).issues(result.run_id)
    reasons = {(i.field, i.reason) for i in issues}
    assert ("Typo", "no fetched profile has this Klaviyo field (names are exact)") in reasons
    assert any(f == "Last order" and "ISO 8601" in r for f, r in reasons)
    with_size = next(c for c in world.contacts() if "Shoe size" in c.fields)
    assert isinstance(with_size.fields["Shoe size"], float)
    assert any("Store city" in c.fields for c in world.contacts())
    pid = with_size.sources["KLAVIYO"][0]
    await world.patch(pid, {"properties": {"Shoe Size": "huge"}})
    result = await world.sync()
    assert world.by_source(pid).fields["Shoe size"] == with_size.fields["Shoe size"]
    assert any(r[0] == pid and r[2] == "Shoe size" for r in RunRepo(world.db).issues(result.run_id))


async def test_local_opt_out_reaches_klaviyo_and_beats_older_subscribed(world: World) -> None:
    world.connect()
    await world.sync()
    contact = next(
        c
        for c in world.contacts()
        if c.sms_status is SmsStatus.SUBSCRIBED and c.phone and len(c.sources["KLAVIYO"]) == 1
    )
    assert ContactRepo(world.db).mark_opted_out(contact.id, "STOP reply", now=time.time())
    result = await world.sync()  # pushes the outbox after the commit
    assert result.status == "succeeded"
    assert OutboxRepo(world.db).pending_count() == 0
    await world.settle()
    pid = contact.sources["KLAVIYO"][0]
    (profile,) = [p for p in await world.profiles() if p["id"] == pid]
    assert consent_of(profile) == "UNSUBSCRIBED"
    # Klaviyo now says UNSUBSCRIBED; and an older SUBSCRIBED would not have won either
    await world.sync()
    assert world.by_source(pid).sms_status is SmsStatus.OPTED_OUT


async def test_zero_profiles_where_there_were_many_is_suspicious(world: World) -> None:
    empty = (await world.admin.post("/_emulator/lists", json={"name": "Empty now"})).json()["id"]
    full_list = next(iter(world.emulator.store.lists.values()))
    world.connect(lists=(full_list.id,))
    await world.sync()
    before = len(world.contacts())
    repo = ConnectionRepo(world.db)
    conn = repo.get()
    assert conn is not None and (conn.last_full_count or 0) > 10
    world.connect(lists=(empty,))
    ConnectionRepo(world.db).record_sync(None, {}, conn.last_full_count, 1.0)
    result = await world.sync(full=True)
    assert result.suspicious and "nothing was removed" in result.suspicious
    assert len(world.contacts()) == before


async def test_a_second_run_is_refused_while_the_lock_is_held(world: World) -> None:
    world.connect()
    other = SyncLock(LeaseRepo(world.db), "another window")
    other.acquire()
    with pytest.raises(SyncLockHeld, match="another window"):
        await world.sync()
    other.release()
    assert (await world.sync()).status == "succeeded"


async def test_faults_during_a_sync_are_survived(world: World) -> None:
    world.connect()
    for kind in ("503", "429", "truncate", "500"):
        world.emulator.faults.arm("/api/lists", kind, 1)
    result = await world.sync()
    assert result.status == "succeeded" and result.counts["created"] > 0


async def test_a_failed_run_is_recorded_and_leaves_contacts_alone(world: World) -> None:
    world.connect()
    await world.sync()
    before = [(c.id, c.first_name, c.sms_status) for c in world.contacts()]
    world.emulator.faults.arm("/api/lists", "500", 100)
    result = await world.sync(full=True)
    assert result.status == "failed" and "500" in (result.error or "")
    assert [(c.id, c.first_name, c.sms_status) for c in world.contacts()] == before
    run = RunRepo(world.db).get(result.run_id)
    assert run is not None and run.status == "failed" and run.error


async def test_same_number_written_twice_is_one_contact_with_both_ids(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("engage_desktop.storage.commit.CHUNK", 7)  # twins across chunk edges
    lst = next(iter(world.emulator.store.lists.values()))
    ids = []
    for phone, name in (("+14155550177", "Ann"), ("(415) 555-0177", "Anne")):
        r = await world.admin.post(
            "/_emulator/profiles", json={"attributes": {"first_name": name, "phone_number": phone}}
        )
        ids.append(r.json()["id"])
    await world.admin.post(f"/_emulator/lists/{lst.id}/members", json={"profile_ids": ids})
    world.connect(lists=(lst.id,))
    result = await world.sync()
    twin = world.by_source(ids[0])
    assert sorted(twin.sources["KLAVIYO"]) == sorted(ids) and twin.phone == "+14155550177"
    issues = RunRepo(world.db).issues(result.run_id)
    assert any("same number" in i.reason for i in issues)
    # nothing flips between the twins on the next run
    again = await world.sync(full=True)
    assert again.counts["updated"] == 0 and world.by_source(ids[1]).first_name == twin.first_name


async def test_cancel_during_the_fetch_leaves_contacts_untouched(world: World) -> None:
    world.connect()
    await world.sync()
    before = [(c.id, c.first_name, c.sms_status) for c in world.contacts()]
    pid = world.contacts()[0].sources["KLAVIYO"][0]
    await world.patch(pid, {"first_name": "Should not land"})
    world.emulator.settings.latency_ms = 50
    world.progress.clear()
    engine_task = asyncio.create_task(world.sync(full=True))
    while not any(p.phase == "fetching" for p in world.progress[-3:]):
        await asyncio.sleep(0.01)
    engine_task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await engine_task
    assert [(c.id, c.first_name, c.sms_status) for c in world.contacts()] == before
    last = RunRepo(world.db).last()
    assert last is not None and last.status == "cancelled"
    world.emulator.settings.latency_ms = 0
    assert (await world.sync()).status == "succeeded"  # the lock was given back


async def test_profile_deleted_mid_run_and_messy_values(world: World) -> None:
    lst = next(iter(world.emulator.store.lists.values()))
    blob = {"notes": "x" * 200_000, "nested": {"deep": {"list": [1, "two", None]}}}
    long_name = "Ω" * 10_000
    r = await world.admin.post(
        "/_emulator/profiles",
        json={
            "attributes": {
                "first_name": long_name,
                "last_name": "Nguyễn 😀",
                "phone_number": "+447400123456",
                "properties": blob,
            }
        },
    )
    odd = r.json()["id"]
    await world.admin.post(f"/_emulator/lists/{lst.id}/members", json={"profile_ids": [odd]})
    world.connect(
        lists=(lst.id,), mappings=[MappingSpec("Notes", "properties.notes", FieldType.TEXT)]
    )
    doomed: list[str] = []

    def delete_one(progress: object) -> None:
        if not doomed:
            members = world.emulator.store.by_joined(lst)
            _, i = next(iter(members.iterate(None, reverse=False)))  # not the one added
            doomed.append(world.emulator.store.profile_id(i))
            world.emulator.store.delete(i)

    world.progress = []
    from engage_desktop.sync.engine import SyncEngine

    engine = SyncEngine(world.db, world.client, on_progress=delete_one)
    result = await engine.run("manual", True)
    assert result.status == "succeeded"
    contact = world.by_source(odd)
    # Values have a size cap (a name 1,000 characters, a field 10,000), and each cut is said.
    assert contact.first_name == long_name[:1000] and contact.last_name == "Nguyễn 😀"
    assert contact.fields["Notes"] == "x" * 10_000 and contact.phone == "+447400123456"
    cuts = {(i[2], i[4]) for i in RunRepo(world.db).issues(result.run_id) if i[0] == odd}
    assert ("First name", "cut to 1,000 of its 10,000 characters; kept") in cuts
    assert ("Notes", "cut to 10,000 of its 200,000 characters; kept") in cuts
    assert doomed and all(doomed[0] not in c.sources["KLAVIYO"] for c in world.contacts())


async def test_contacts_are_read_in_batches_each_once(world: World) -> None:
    world.connect()
    await world.sync()
    repo = ContactRepo(world.db)
    batches = list(repo.batches(size=7))
    ids = [c.id for batch in batches for c in batch]
    assert len(ids) == len(set(ids)) == len(repo.search()) and max(map(len, batches)) == 7
    lst = next(iter(world.emulator.store.lists.values()))
    members = [c for batch in repo.batches(lst.name, "klaviyo", size=5) for c in batch]
    assert members and all(f"Klaviyo: {lst.name}" in c.lists for c in members)
    assert len(repo.search(limit=3)) == 3


async def test_switching_to_explicit_consent_rederives_every_status(world: World) -> None:
    world.connect(ConsentMode.INFERRED)
    await world.sync()
    before = {c.id: c.sms_status for c in world.contacts()}
    assert SmsStatus.NEVER_SUBSCRIBED not in before.values()
    world.connect(ConsentMode.EXPLICIT)
    result = await world.sync()
    assert result.full
    after = {c.id: c.sms_status for c in world.contacts()}
    assert SmsStatus.NEVER_SUBSCRIBED in after.values()
    assert all(
        after[cid] is SmsStatus.OPTED_OUT for cid, s in before.items() if s is SmsStatus.OPTED_OUT
    )


def lose_the_lock(world: World) -> None:
    """What a dropped connection does to the run lock: on the team database the server ends
    the session holding it; on SQLite another run took over the lease."""
    if is_postgres(world.db):
        world.db.execute_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name LIKE '%: test [%'"
        )
    else:
        world.db.execute_sql("DELETE FROM sync_lease")


async def test_a_run_that_loses_its_lock_stops_and_commits_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lock, "HEARTBEAT_S", 0.05)
    world.connect()
    await world.sync()
    before = [(c.id, c.first_name, c.sms_status) for c in world.contacts()]
    await world.patch(world.contacts()[0].sources["KLAVIYO"][0], {"first_name": "Not landed"})
    world.emulator.settings.latency_ms = 50
    world.progress.clear()
    run = asyncio.create_task(world.sync(full=True))
    while not any(p.phase == "fetching" for p in world.progress[-3:]):
        await asyncio.sleep(0.01)
    lose_the_lock(world)
    result = await asyncio.wait_for(run, 30)  # stopped by its heartbeat, not by the fetch's end
    assert result.status == "failed" and "sync lock was lost" in (result.error or "")
    assert [(c.id, c.first_name, c.sms_status) for c in world.contacts()] == before
    world.emulator.settings.latency_ms = 0
    assert (await world.sync()).status == "succeeded"  # and the next run takes it again


async def test_a_lock_lost_just_before_the_commit_is_caught_by_the_commit(world: World) -> None:
    """The heartbeat has not noticed yet (it beats every 10 s): the commit asks first."""
    world.connect()
    await world.sync()
    before = [(c.id, c.first_name, c.sms_status) for c in world.contacts()]
    await world.patch(world.contacts()[0].sources["KLAVIYO"][0], {"first_name": "Not landed"})

    def on_progress(progress: SyncProgress) -> None:
        if progress.phase == "committing":
            lose_the_lock(world)

    engine = SyncEngine(world.db, world.client, who="test", on_progress=on_progress)
    result = await engine.run("manual", True)
    assert result.status == "failed" and "sync lock was lost" in (result.error or "")
    assert [(c.id, c.first_name, c.sms_status) for c in world.contacts()] == before
