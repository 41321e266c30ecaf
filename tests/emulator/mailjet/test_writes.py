"""POST, PUT and DELETE through the REST API, with the statuses the recordings show."""

from __future__ import annotations

import httpx

from engage_desktop.emulator.mailjet import MailjetEmulator
from tests.emulator.mailjet.conftest import REST, pull


async def test_list_create_update_soft_delete(mj: httpx.AsyncClient) -> None:
    r = await mj.post(f"{REST}/contactslist", json={"Name": "Test List"})
    assert r.status_code == 201
    created = r.json()["Data"][0]
    assert (created["SubscriberCount"], created["IsDeleted"], len(created["Address"])) == (
        0,
        False,
        9,
    )
    same = await mj.put(f"{REST}/contactslist/{created['ID']}", json={})
    assert (same.status_code, same.content) == (304, b"")
    renamed = await mj.put(f"{REST}/contactslist/{created['ID']}", json={"Name": "Renamed"})
    assert renamed.json()["Data"][0]["Name"] == "Renamed"
    gone = await mj.delete(f"{REST}/contactslist/{created['ID']}")
    assert (gone.status_code, gone.content) == (204, b"")
    after = (await mj.get(f"{REST}/contactslist/{created['ID']}")).json()["Data"][0]
    assert after["IsDeleted"] is True
    live = (await mj.get(f"{REST}/contactslist", params={"IsDeleted": "false"})).json()
    assert created["ID"] not in {lst["ID"] for lst in live["Data"]}
    dup = await mj.post(f"{REST}/contactslist", json={"Name": "Renamed"})
    assert dup.status_code == 400


async def test_contact_create_and_exclude_from_campaigns(mj: httpx.AsyncClient) -> None:
    r = await mj.post(
        f"{REST}/contact", json={"Email": "opt@example.com", "IsExcludedFromCampaigns": "true"}
    )
    assert r.status_code == 201
    contact = r.json()["Data"][0]
    assert contact["IsExcludedFromCampaigns"] is True
    assert contact["ExclusionFromCampaignsUpdatedAt"] == contact["CreatedAt"]
    dup = await mj.post(f"{REST}/contact", json={"Email": "OPT@example.com"})
    assert dup.json()["ErrorMessage"] == (
        'MJ18 A Contact resource with value "opt@example.com" for Email already exists.'
    )
    back = await mj.put(f"{REST}/contact/opt@example.com", json={"IsExcludedFromCampaigns": False})
    assert back.json()["Data"][0]["IsExcludedFromCampaigns"] is False
    again = await mj.put(f"{REST}/contact/{contact['ID']}", json={"IsExcludedFromCampaigns": False})
    assert again.status_code == 304


async def test_contactdata_put_merges_and_checks_types(
    mj: httpx.AsyncClient, mailjet: MailjetEmulator
) -> None:
    phone = mailjet.settings.phone_property
    target = (await mj.get(f"{REST}/contactdata?Limit=1&Offset=2")).json()["Data"][0]
    r = await mj.put(
        f"{REST}/contactdata/{target['ContactID']}",
        json={
            "Data": [{"Name": phone, "Value": "+33612345678"}, {"Name": "sms_opt_in", "Value": 0}]
        },
    )
    assert r.status_code == 200
    data = {d["Name"]: d["Value"] for d in r.json()["Data"][0]["Data"]}
    before = {d["Name"]: d["Value"] for d in target["Data"]}
    assert data == before | {phone: "+33612345678", "sms_opt_in": "false"}
    bad = await mj.put(
        f"{REST}/contactdata/{target['ContactID']}",
        json={
            "Data": [
                {"Name": "undefined_prop", "Value": "x"},
                {"Name": "loyalty_points", "Value": 1.5},
            ]
        },
    )
    assert bad.status_code == 400
    assert bad.json()["ErrorInfo"] == {
        "Properties": [
            {"undefined_prop": "Property not defined"},
            {"loyalty_points": "Property type does not match definition"},
        ]
    }


async def test_contactmetadata_create_rename_delete(mj: httpx.AsyncClient) -> None:
    r = await mj.post(
        f"{REST}/contactmetadata",
        json={"Datatype": "str", "Name": "middle_name", "NameSpace": "static"},
    )
    assert r.status_code == 201
    prop = r.json()["Data"][0]
    assert (prop["Name"], prop["Datatype"], prop["NameSpace"]) == ("middle_name", "str", "static")
    dt = await mj.put(f"{REST}/contactmetadata/{prop['ID']}", json={"Name": "second_name"})
    assert dt.json()["Data"][0]["Name"] == "second_name"
    first = (await mj.get(f"{REST}/contactmetadata?Limit=1")).json()["Data"][0]
    assert (await mj.delete(f"{REST}/contactmetadata/{first['ID']}")).status_code == 204
    names = {d["Name"] for r in await pull(mj, "contactdata") for d in r["Data"]}
    assert first["Name"] not in names and names


async def test_listrecipient_unsubscribe_resubscribe_remove(mj: httpx.AsyncClient) -> None:
    lst = (await mj.get(f"{REST}/contactslist?Limit=1")).json()["Data"][0]
    member = (await pull(mj, "listrecipient", ContactsList=lst["ID"], Unsub="false"))[0]
    r = await mj.put(f"{REST}/listrecipient/{member['ID']}", json={"IsUnsubscribed": "true"})
    assert r.json()["Data"][0]["IsUnsubscribed"] is True
    assert r.json()["Data"][0]["UnsubscribedAt"]
    assert (await mj.put(f"{REST}/listrecipient/{member['ID']}", json={})).status_code == 304
    assert (await mj.delete(f"{REST}/listrecipient/{member['ID']}")).status_code == 204
    assert (await mj.get(f"{REST}/listrecipient/{member['ID']}")).status_code == 404
    back = await mj.post(
        f"{REST}/listrecipient", json={"ContactID": member["ContactID"], "ListID": lst["ID"]}
    )
    assert back.status_code == 201
    assert back.json()["Data"][0]["IsUnsubscribed"] is False
    twice = await mj.post(
        f"{REST}/listrecipient", json={"ContactID": member["ContactID"], "ListID": lst["ID"]}
    )
    assert twice.status_code == 400


async def test_manage_contacts_lists(mj: httpx.AsyncClient) -> None:
    lists = (await mj.get(f"{REST}/contactslist")).json()["Data"]
    contact = (await mj.post(f"{REST}/contact", json={"Email": "m@example.com"})).json()["Data"][0]
    r = await mj.post(
        f"{REST}/contact/{contact['ID']}/managecontactslists",
        json={
            "ContactsLists": [
                {"ListID": lists[0]["ID"], "Action": "addnoforce"},
                {"ListID": lists[1]["ID"], "Action": "unsub"},
            ]
        },
    )
    assert r.status_code == 201
    assert r.json()["Data"][0]["ContactsLists"][1] == {"Action": "unsub", "ListID": lists[1]["ID"]}
    on = (await mj.get(f"{REST}/contact/m@example.com/getcontactslists")).json()["Data"]
    assert [(e["ListID"], e["IsUnsub"]) for e in on] == [
        (lists[0]["ID"], False),
        (lists[1]["ID"], True),
    ]
    wrong = await mj.get(f"{REST}/contact/{contact['ID']}/managecontactslists")
    assert wrong.status_code == 405
