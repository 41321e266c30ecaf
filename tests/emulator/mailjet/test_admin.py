"""The admin API: change contacts, properties, lists and memberships; settings; reset."""

from __future__ import annotations

from typing import Any

import httpx

from engage_desktop.emulator.mailjet import MailjetEmulator
from tests.emulator.mailjet.conftest import REST, pull


async def row(mj: httpx.AsyncClient, resource: str, ref: object) -> dict[str, Any]:
    r = await mj.get(f"{REST}/{resource}/{ref}")
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["Data"][0]
    return data


async def test_the_table_is_served(mj: httpx.AsyncClient) -> None:
    text = (await mj.get("/_emulator/")).json()["admin_api"]
    for route in ("/_emulator/contacts", "/_emulator/faults", "/_emulator/settings"):
        assert route in text


async def test_create_a_contact_with_properties_and_memberships(
    mj: httpx.AsyncClient, mailjet: MailjetEmulator
) -> None:
    lists = (await mj.get(f"{REST}/contactslist")).json()["Data"]
    phone = mailjet.settings.phone_property
    r = await mj.post(
        "/_emulator/contacts",
        json={
            "Email": "Ana@Example.com",
            "Name": "Ana",
            "Properties": {phone: "+14155550100", "loyalty_points": 12, "sms_opt_in": True},
            "Lists": [
                {"ListID": lists[0]["ID"]},
                {"ListID": lists[1]["ID"], "IsUnsubscribed": True},
            ],
        },
    )
    assert r.status_code == 201
    cid = r.json()["ID"]
    contact = await row(mj, "contact", "ana@example.com")
    assert (contact["ID"], contact["Name"], contact["Email"]) == (cid, "Ana", "ana@example.com")
    data = await row(mj, "contactdata", cid)
    assert data["Data"] == [
        {"Name": phone, "Value": "+14155550100"},
        {"Name": "loyalty_points", "Value": "12"},
        {"Name": "sms_opt_in", "Value": "true"},
    ]
    memberships = await pull(mj, "listrecipient", Contact=cid)
    assert [(m["ListID"], m["IsUnsubscribed"]) for m in memberships] == [
        (lists[0]["ID"], False),
        (lists[1]["ID"], True),
    ]
    assert (await mj.get(f"{REST}/contact?countOnly=1")).json()["Total"] == 401
    dup = await mj.post("/_emulator/contacts", json={"Email": "ana@example.com"})
    assert dup.status_code == 400
    assert "already exists" in dup.json()["error"]


async def test_edit_a_contact_merges_properties_and_bumps_last_update(
    mj: httpx.AsyncClient, mailjet: MailjetEmulator
) -> None:
    phone = mailjet.settings.phone_property
    first = (await mj.get(f"{REST}/contact?Limit=1")).json()["Data"][0]
    before = {d["Name"]: d["Value"] for d in (await row(mj, "contactdata", first["ID"]))["Data"]}
    r = await mj.patch(
        f"/_emulator/contacts/{first['Email']}",
        json={"IsExcludedFromCampaigns": True, "Properties": {phone: "07700 900123", "city": None}},
    )
    assert r.status_code == 200
    after = {d["Name"]: d["Value"] for d in (await row(mj, "contactdata", first["ID"]))["Data"]}
    expected = {k: v for k, v in before.items() if k != "city"} | {phone: "07700 900123"}
    assert after == expected
    edited = await row(mj, "contact", first["ID"])
    assert edited["IsExcludedFromCampaigns"] is True
    assert edited["ExclusionFromCampaignsUpdatedAt"] and edited["LastUpdateAt"]
    bad = await mj.patch(f"/_emulator/contacts/{first['ID']}", json={"Properties": {"nope": 1}})
    assert bad.status_code == 400
    wrong_type = await mj.patch(
        f"/_emulator/contacts/{first['ID']}", json={"Properties": {"loyalty_points": "many"}}
    )
    assert wrong_type.status_code == 400


async def test_delete_a_contact_removes_it_everywhere(mj: httpx.AsyncClient) -> None:
    member = (await mj.get(f"{REST}/listrecipient?Limit=1")).json()["Data"][0]
    cid = member["ContactID"]
    assert (await mj.delete(f"/_emulator/contacts/{cid}")).status_code == 204
    assert (await mj.get(f"{REST}/contact/{cid}")).status_code == 404
    assert (await mj.get(f"{REST}/listrecipient/{member['ID']}")).status_code == 404
    assert cid not in {c["ID"] for c in await pull(mj, "contact")}
    assert cid not in {m["ContactID"] for m in await pull(mj, "listrecipient")}
    assert cid not in {r["ContactID"] for r in await pull(mj, "contactdata")}
    assert (await mj.get(f"{REST}/contact?countOnly=1")).json()["Total"] == 399
    assert (await mj.delete(f"/_emulator/contacts/{cid}")).status_code == 404


async def test_lists_members_and_unsubscribe(mj: httpx.AsyncClient) -> None:
    r = await mj.post("/_emulator/lists", json={"Name": "Walk-ins"})
    list_id = r.json()["ID"]
    contacts = (await mj.get(f"{REST}/contact?Limit=3")).json()["Data"]
    refs = [contacts[0]["ID"], contacts[1]["Email"], contacts[2]["ID"]]
    await mj.post(f"/_emulator/lists/{list_id}/members", json={"Contacts": refs})
    lst = await row(mj, "contactslist", list_id)
    assert (lst["Name"], lst["SubscriberCount"]) == ("Walk-ins", 3)
    await mj.post(f"/_emulator/lists/{list_id}/unsubscribe", json={"Contacts": refs[:1]})
    members = await pull(mj, "listrecipient", ContactsList=list_id)
    assert [m["IsUnsubscribed"] for m in members] == [True, False, False]
    assert members[0]["UnsubscribedAt"]
    await mj.request("DELETE", f"/_emulator/lists/{list_id}/members", json={"Contacts": refs[1:2]})
    members = await pull(mj, "listrecipient", ContactsList=list_id)
    assert [m["ContactID"] for m in members] == [contacts[0]["ID"], contacts[2]["ID"]]
    assert (await row(mj, "contactslist", list_id))["SubscriberCount"] == 1


async def test_unsubscribe_a_generated_member_shows_in_every_view(mj: httpx.AsyncClient) -> None:
    member = (await pull(mj, "listrecipient", Unsub="false"))[0]
    list_id, cid = member["ListID"], member["ContactID"]
    count = (await row(mj, "contactslist", list_id))["SubscriberCount"]
    await mj.post(f"/_emulator/lists/{list_id}/unsubscribe", json={"Contacts": [cid]})
    again = await row(mj, "listrecipient", member["ID"])
    assert again["IsUnsubscribed"] is True and again["ID"] == member["ID"]
    assert (await row(mj, "contactslist", list_id))["SubscriberCount"] == count - 1
    unsub = await pull(mj, "listrecipient", ContactsList=list_id, Unsub="true")
    assert member["ID"] in {m["ID"] for m in unsub}
    lists = (await mj.get(f"{REST}/contact/{cid}/getcontactslists")).json()["Data"]
    assert next(e for e in lists if e["ListID"] == list_id)["IsUnsub"] is True


async def test_settings_counters_and_reset(mj: httpx.AsyncClient, mailjet: MailjetEmulator) -> None:
    await mj.post("/_emulator/settings", json={"latency_ms": 5, "rate_limit_per_s": 50})
    assert (mailjet.settings.latency_ms, mailjet.settings.rate_limit_per_s) == (5.0, 50)
    await mj.post("/_emulator/contacts", json={"Email": "temp@example.com"})
    await mj.get(f"{REST}/contact/temp@example.com")
    counters = (await mj.get("/_emulator/counters")).json()
    assert counters["requests"]["GET contact/{id}"] == {"200": 1}
    assert (await mj.post("/_emulator/reset")).status_code == 204
    assert (await mj.get(f"{REST}/contact/temp@example.com")).status_code == 404
    after = (await mj.get("/_emulator/counters")).json()["requests"]
    assert after == {"admin": {"204": 1}, "GET contact/{id}": {"404": 1}}  # the reset, the 404
    assert (await mj.get("/_emulator/nothing")).status_code == 404
