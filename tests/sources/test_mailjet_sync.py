"""The Mailjet source end to end: phones written every way (or not at all), consent from the
chosen property, list unsubscribes, faults, a 429 storm, removals only on complete evidence."""

from __future__ import annotations

import pytest

from engage_desktop.actions.widening import widening
from engage_desktop.core.consent import ConsentMode, SmsStatus
from engage_desktop.mailjet.client import MailjetClient
from engage_desktop.storage.runs import RunRepo
from engage_desktop.storage.suppressions import is_suppressed

from .conftest import Sources

pytestmark = pytest.mark.asyncio


async def test_phones_written_every_way_become_numbers_and_missing_ones_none(
    sources: Sources,
) -> None:
    lst = sources.mailjet_lists()[0]
    written = {
        "a@x.test": "+14155550101",
        "b@x.test": "(415) 555-0102",
        "c@x.test": "+1 415 555 0103",
        "d@x.test": "415.555.0104",
        "e@x.test": "+44 7911 123455",
    }
    for email, phone in written.items():
        await sources.mailjet_contact(email, phone, (lst,))
    await sources.mailjet_contact("none@x.test", None, (lst,))
    await sources.mailjet_contact("empty@x.test", "", (lst,))
    await sources.mailjet_contact("junk@x.test", "n/a", (lst,))
    sources.connect_mailjet()
    result = await sources.sync()
    assert result.status == "succeeded", result.error
    by_email = {c.email: c for c in sources.contacts()}
    assert [by_email[e].phone for e in written] == [
        "+14155550101",
        "+14155550102",
        "+14155550103",
        "+14155550104",
        "+447911123455",
    ]
    assert by_email["e@x.test"].phone_raw == "+44 7911 123455"  # as written, kept
    for email in ("none@x.test", "empty@x.test", "junk@x.test"):
        assert by_email[email].phone is None  # no SMS number: never messageable
    reasons = [i.reason for i in RunRepo(sources.db).issues(result.run_id) if i.value == "n/a"]
    assert reasons and "not a valid phone number" in reasons[0]


async def test_national_numbers_are_read_in_the_default_country(sources: Sources) -> None:
    lst = sources.mailjet_lists()[0]
    await sources.mailjet_contact("uk@x.test", "07911 123456", (lst,))
    sources.connect_mailjet(region="GB")
    assert (await sources.sync()).status == "succeeded"
    uk = next(c for c in sources.contacts() if c.email == "uk@x.test")
    assert uk.phone == "+447911123456"


@pytest.mark.parametrize(
    ("mode", "value", "status"),
    [
        (ConsentMode.EXPLICIT, True, SmsStatus.SUBSCRIBED),
        (ConsentMode.EXPLICIT, None, SmsStatus.NEVER_SUBSCRIBED),
        (ConsentMode.INFERRED, None, SmsStatus.SUBSCRIBED),
        (ConsentMode.INFERRED, False, SmsStatus.OPTED_OUT),
        (ConsentMode.EXPLICIT, False, SmsStatus.OPTED_OUT),
    ],
)
async def test_the_consent_property_decides_under_the_consent_mode(
    sources: Sources, mode: ConsentMode, value: bool | None, status: SmsStatus
) -> None:
    lst = sources.mailjet_lists()[0]
    props = {} if value is None else {"sms_opt_in": value}
    await sources.mailjet_contact("p@x.test", "+14155550110", (lst,), **props)
    sources.connect_mailjet(mode=mode)
    assert (await sources.sync()).status == "succeeded"
    person = sources.by_phone("+14155550110")
    assert person is not None and person.sms_status is status
    assert is_suppressed(sources.db, "+14155550110") == (status is SmsStatus.OPTED_OUT)


async def test_a_list_unsubscribe_leaves_that_group_and_the_last_one_the_contact(
    sources: Sources,
) -> None:
    first, second = sources.mailjet_lists()[:2]
    keep = await sources.mailjet_contact("k@x.test", "+14155550120", (first, second))
    stays = await sources.mailjet_contact("s@x.test", "+14155550121", (first,), sms_opt_in=False)
    sources.connect_mailjet()
    assert (await sources.sync()).status == "succeeded"
    names = {lst.id: lst.name for lst in sources.mailjet.store.lists()}
    person = sources.by_phone("+14155550120")
    assert person is not None
    assert sorted(person.lists) == sorted(f"Mailjet: {names[i]}" for i in (first, second))
    await sources.mailjet_unsubscribe(first, keep)
    assert (await sources.sync()).status == "succeeded"
    person = sources.by_phone("+14155550120")
    assert person is not None and person.lists == [f"Mailjet: {names[second]}"]
    await sources.mailjet_unsubscribe(second, keep)
    await sources.mailjet_unsubscribe(first, stays)
    result = await sources.sync()
    assert result.status == "succeeded" and result.counts["removed"] == 2
    assert sources.by_phone("+14155550120") is None  # no source has it any more
    kept = sources.by_phone("+14155550121")  # opted out: never forgotten
    assert kept is not None and kept.sms_status is SmsStatus.OPTED_OUT and kept.lists == []


async def test_a_second_sync_with_nothing_changed_changes_nothing(sources: Sources) -> None:
    sources.connect_mailjet()
    first = await sources.sync()
    assert first.status == "succeeded" and first.counts["created"] > 0
    before = sources.state()
    again = await sources.sync()
    assert again.status == "succeeded" and again.counts["created"] == 0
    assert again.counts["updated"] == again.counts["removed"] == 0
    after = sources.state()
    assert after == before


async def test_server_errors_are_retried_and_a_persistent_one_changes_nothing(
    sources: Sources,
) -> None:
    sources.connect_mailjet()
    await sources.mailjet_fault("/v3/REST/contactdata", "500", 2)
    assert (await sources.sync()).status == "succeeded"
    before = sources.state()
    await sources.mailjet_contact("late@x.test", "+14155550130", (sources.mailjet_lists()[0],))
    await sources.mailjet_fault("/v3/REST/listrecipient", "503", 50)
    failed = await sources.sync()
    assert failed.status == "failed" and "Mailjet is having trouble" in (failed.error or "")
    assert sources.state() == before  # nothing half-applied, nothing removed


async def test_a_429_storm_is_waited_out(sources: Sources) -> None:
    """Twelve 429s in a row (more than the attempts a failing request gets), then the
    emulator's own per-second limit under a client that ignores its budget."""
    import httpx

    from .conftest import MJ_KEYS

    sources.connect_mailjet()
    await sources.mailjet_fault("/v3", "429", 12)
    r = await sources.madmin.post("/_emulator/settings", json={"rate_limit_per_s": 15})
    assert r.status_code == 204
    transport = httpx.ASGITransport(app=sources.mailjet)
    async with MailjetClient(
        MJ_KEYS.key, MJ_KEYS.secret, "http://127.0.0.1", transport=transport, retry_base_s=0.002
    ) as client:
        client.budget.enabled = False  # a client that sends as fast as it can
        sources.mclient = client
        result = await sources.sync()
    assert result.status == "succeeded", result.error
    assert result.counts["throttled"] >= 12 and sources.mailjet.counters.throttled >= 12
    assert result.sources["MAILJET"]["throttled"] == result.counts["throttled"]


async def test_a_listing_that_moved_while_read_removes_nothing(
    sources: Sources, monkeypatch: pytest.MonkeyPatch
) -> None:
    lst = sources.mailjet_lists()[0]
    gone = await sources.mailjet_contact("gone@x.test", "+14155550140", (lst,))
    sources.connect_mailjet()
    assert (await sources.sync()).status == "succeeded"
    r = await sources.madmin.delete(f"/_emulator/contacts/{gone}")
    assert r.status_code == 204
    real = MailjetClient.count
    calls = {"contact": 0}

    async def moving(self: MailjetClient, resource: str, filters: dict, doing: str) -> int:  # type: ignore[type-arg]
        n = await real(self, resource, filters, doing)
        if resource == "contact" and not filters:
            calls["contact"] += 1
            return n + (calls["contact"] > 1)  # a contact created while the listing was read
        return n

    monkeypatch.setattr(MailjetClient, "count", moving)
    result = await sources.sync()
    assert result.status == "succeeded" and result.counts["removed"] == 0
    assert result.suspicious and "nothing was removed" in result.suspicious
    assert sources.by_phone("+14155550140") is not None
    monkeypatch.setattr(MailjetClient, "count", real)
    clean = await sources.sync()
    assert clean.counts["removed"] == 1 and sources.by_phone("+14155550140") is None


async def test_a_phone_property_that_is_gone_fails_mailjet_and_changes_nothing(
    sources: Sources,
) -> None:
    sources.connect_mailjet()
    assert (await sources.sync()).status == "succeeded"
    before = sources.state()
    sources.connect_mailjet(phone_property="mobile")
    result = await sources.sync()
    assert result.status == "failed" and "no contact property 'mobile'" in (result.error or "")
    assert sources.state()["contacts"] == before["contacts"]


async def test_mapped_properties_become_fields_of_their_type(sources: Sources) -> None:
    from engage_desktop.core.fields import FieldType
    from engage_desktop.core.mapping import MappingSpec

    lst = sources.mailjet_lists()[0]
    await sources.mailjet_contact(
        "f@x.test", "+14155550150", (lst,), city="Lyon", loyalty_points=42, firstname="Zoé"
    )
    sources.connect_mailjet(
        mappings=(
            MappingSpec("City", "city"),
            MappingSpec("Points", "loyalty_points", FieldType.NUMBER),
            MappingSpec("Nowhere", "no_such_property"),
        )
    )
    result = await sources.sync()
    person = sources.by_phone("+14155550150")
    assert person is not None and person.first_name == "Zoé"
    assert person.fields["City"] == "Lyon" and person.fields["Points"] == 42.0
    reasons = [i.reason for i in RunRepo(sources.db).issues(result.run_id) if i.field == "Nowhere"]
    assert reasons == ["no fetched contact has a value for this property"]


async def test_widening_mailjet_consent_counts_who_would_become_messageable(
    sources: Sources,
) -> None:
    """Explicit → Inferred for Mailjet is counted (and worded) before it is made, by the same
    rule as Klaviyo's: every never-subscribed Mailjet contact with a number, no opted-out one."""
    sources.connect_mailjet(mode=ConsentMode.EXPLICIT, consent_property=None)
    assert (await sources.sync()).status == "succeeded"
    never = [
        c for c in sources.contacts() if c.phone and c.sms_status is SmsStatus.NEVER_SUBSCRIBED
    ]
    assert never
    found = widening(
        sources.db,
        "MAILJET",
        (ConsentMode.EXPLICIT, "US"),
        (ConsentMode.INFERRED, "US"),
        "Mailjet ",
    )
    assert found == [
        (len(never), f"{len(never):,} Mailjet contacts who never subscribed will be able to"
         " receive messages")
    ]  # fmt: skip
    same = (ConsentMode.INFERRED, "US")
    assert widening(sources.db, "MAILJET", same, same) == []


async def test_a_contact_a_run_with_gaps_did_not_read_is_asked_for_and_its_opt_out_stands(
    sources: Sources, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Removed from the list and its consent withdrawn while a listing moved: the run removes
    nothing, but asks for the contact it did not read, and the withdrawal stands."""
    made = await sources.madmin.post("/_emulator/lists", json={"Name": "Small"})
    lst = int(made.json()["ID"])
    stays = await sources.mailjet_contact("s@x.test", "+14155550151", (lst,), sms_opt_in=True)
    leaving = await sources.mailjet_contact("l@x.test", "+14155550150", (lst,), sms_opt_in=True)
    sources.connect_mailjet(lists=(str(lst),))  # a list of few: its contacts read by list
    assert (await sources.sync()).status == "succeeded"
    person = sources.by_phone("+14155550150")
    assert person is not None and person.sms_status is SmsStatus.SUBSCRIBED
    await sources.mailjet_edit(leaving, Properties={"sms_opt_in": False})
    r = await sources.madmin.request(
        "DELETE", f"/_emulator/lists/{lst}/members", json={"Contacts": [leaving]}
    )
    assert r.status_code in (200, 204), r.text
    real = MailjetClient.count

    async def moving(self: MailjetClient, resource: str, filters: dict, doing: str) -> int:  # type: ignore[type-arg]
        return await real(self, resource, filters, doing) + (resource == "listrecipient")

    monkeypatch.setattr(MailjetClient, "count", moving)  # every member listing "moved"
    result = await sources.sync()
    assert result.suspicious and result.counts["removed"] == 0
    person = sources.by_phone("+14155550150")
    assert person is not None and person.sms_status is SmsStatus.OPTED_OUT
    other = sources.by_phone("+14155550151")
    assert other is not None and other.sms_status is SmsStatus.SUBSCRIBED and stays
