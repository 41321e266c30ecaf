"""The generated account: deterministic from the seed, phones written several ways, typed
properties, memberships with unsubscribes, and cheap at 100,000 contacts."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import httpx
import pytest

from engage_desktop.emulator.mailjet import MailjetEmulator, Settings
from engage_desktop.emulator.mailjet.reads import Reads
from tests.emulator.mailjet.conftest import AUTH, REST, pull


def client(emulator: MailjetEmulator) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=emulator)
    return httpx.AsyncClient(transport=transport, base_url="http://x", auth=AUTH)


async def snapshot(settings: Settings) -> list[list[dict[str, Any]]]:
    async with client(MailjetEmulator(settings)) as mj:
        return [
            await pull(mj, resource)
            for resource in ("contactslist", "contact", "contactdata", "listrecipient")
        ]


async def test_same_seed_same_account_other_seed_other_account() -> None:
    one = await snapshot(Settings(contacts=150, lists=3, seed=7, rate_limit_per_s=0))
    again = await snapshot(Settings(contacts=150, lists=3, seed=7, rate_limit_per_s=0))
    other = await snapshot(Settings(contacts=150, lists=3, seed=8, rate_limit_per_s=0))
    assert one == again
    assert [len(rows) for rows in one[:3]] == [3, 150, 150]
    assert one[1] != other[1]
    assert {c["Email"] for c in one[1]}.isdisjoint({c["Email"] for c in other[1]})


async def phones(settings: Settings) -> list[str | None]:
    async with client(MailjetEmulator(settings)) as mj:
        rows = await pull(mj, "contactdata", Fields=settings.phone_property)
    return [next((d["Value"] for d in r["Data"]), None) for r in rows]


async def test_phones_live_in_the_named_property_written_several_ways() -> None:
    settings = Settings(contacts=3000, lists=1, phone_property="mobile", rate_limit_per_s=0)
    values = await phones(settings)
    assert len(values) == 3000
    kinds = {
        "none": sum(v is None for v in values),
        "empty": sum(v == "" for v in values),
        "e164": sum(bool(v and re.fullmatch(r"\+\d{10,13}", v)) for v in values),
        "national": sum(bool(v and re.fullmatch(r"(\(\d{3}\) |0)[\d -]+", v)) for v in values),
        "spaced": sum(bool(v and re.fullmatch(r"\+\d+( \d+)+", v)) for v in values),
        "dashed": sum(bool(v and re.fullmatch(r"\+\d+([-.]\d+)+", v)) for v in values),
        "junk": sum(bool(v and not re.search(r"\d{6}", v)) for v in values),
    }
    assert 0.09 < kinds["none"] / 3000 < 0.15
    assert kinds["e164"] > 1000
    for kind in ("empty", "national", "spaced", "dashed", "junk"):
        assert kinds[kind] > 5, kinds
    digits = [re.sub(r"\D", "", v or "")[-7:] for v in values]
    repeats = [k for k in range(1, 3000) if values[k] and digits[k] == digits[k - 1]]
    assert repeats and all(values[k] != values[k - 1] for k in repeats)  # same number, new form


def test_phone_property_must_not_clash_with_another_property() -> None:
    with pytest.raises(ValueError, match="phone property"):
        Settings(phone_property="name")


async def test_property_values_come_back_as_text_in_their_types_format(
    mj: httpx.AsyncClient,
) -> None:
    types = {
        p["Name"]: p["Datatype"]
        for p in (await mj.get(f"{REST}/contactmetadata?Limit=0")).json()["Data"]
    }
    seen: dict[str, set[str]] = {}
    for row in await pull(mj, "contactdata"):
        for item in row["Data"]:
            value, kind = item["Value"], types[item["Name"]]
            assert isinstance(value, str)
            seen.setdefault(kind, set()).add(value)
            if kind == "int":
                int(value)
            elif kind == "float":
                float(value)
            elif kind == "bool":
                assert value in ("true", "false")
            elif kind == "datetime":
                assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", value)
                datetime.fromisoformat(value)
    assert set(seen) == {"str", "int", "float", "bool", "datetime"}
    assert seen["bool"] == {"true", "false"}


async def test_contacts_are_on_several_lists_some_unsubscribed(mj: httpx.AsyncClient) -> None:
    members = await pull(mj, "listrecipient")
    per_contact: dict[int, int] = {}
    for m in members:
        per_contact[m["ContactID"]] = per_contact.get(m["ContactID"], 0) + 1
        assert bool(m["UnsubscribedAt"]) == m["IsUnsubscribed"]
        assert m["SubscribedAt"] <= (m["UnsubscribedAt"] or m["SubscribedAt"])
    assert max(per_contact.values()) >= 3
    assert len(per_contact) < 400  # some are on no list at all
    share = sum(m["IsUnsubscribed"] for m in members) / len(members)
    assert 0.03 < share < 0.15


async def test_a_hundred_thousand_contacts_cost_nothing_up_front_and_page_from_anywhere() -> None:
    emulator = MailjetEmulator(Settings(contacts=100_000, lists=8, rate_limit_per_s=0))
    assert emulator.store.data._members == {}  # members are generated on first use only
    assert isinstance(emulator.store.contact_indexes(), range)
    async with client(emulator) as mj:
        r = await mj.get(f"{REST}/contact", params={"Limit": 1000, "Offset": 99_500})
        total = await mj.get(f"{REST}/contactdata", params={"countOnly": 1})
    page = r.json()
    assert page["Count"] == 500
    assert page["Data"][-1]["ID"] == emulator.store.contact_id(99_999)
    assert total.json()["Total"] == 100_000


async def test_a_filtered_listing_is_selected_once_not_per_page(
    mj: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = Reads._filter_contacts

    def counting(self: Reads, *args: Any) -> Any:
        calls.append(args)
        return real(self, *args)

    monkeypatch.setattr(Reads, "_filter_contacts", counting)
    pages = []
    for offset in (0, 10, 20):
        r = await mj.get(f"{REST}/contact?IsExcludedFromCampaigns=false&Offset={offset}")
        pages += r.json()["Data"]
    assert len(calls) == 1
    assert len({c["ID"] for c in pages}) == 30
    await mj.post("/_emulator/contacts", json={"Email": "new@example.com"})  # a change...
    await mj.get(f"{REST}/contact?IsExcludedFromCampaigns=false")
    assert len(calls) == 2  # ...and the selection is made again
