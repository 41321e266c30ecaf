"""Listings: the envelope, paging, count flags, case-insensitive parameters, sort and filters."""

from __future__ import annotations

from itertools import pairwise

import httpx

from engage_desktop.emulator.mailjet import MailjetEmulator, Settings
from tests.emulator.mailjet.conftest import AUTH, REST, pull


async def test_default_page_is_10_rows_and_count_equals_total_equals_page(
    mj: httpx.AsyncClient,
) -> None:
    r = await mj.get(f"{REST}/contact")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-mj-request-guid"]
    doc = r.json()
    assert list(doc) == ["Count", "Data", "Total"]
    assert doc["Count"] == doc["Total"] == len(doc["Data"]) == 10


async def test_limit_zero_means_1000_and_more_is_capped() -> None:
    big = MailjetEmulator(Settings(contacts=1200, lists=1, rate_limit_per_s=0))
    transport = httpx.ASGITransport(app=big)
    async with httpx.AsyncClient(transport=transport, base_url="http://x", auth=AUTH) as mj:
        zero = (await mj.get(f"{REST}/contact", params={"Limit": 0})).json()
        over = (await mj.get(f"{REST}/contact", params={"Limit": 5000})).json()
    assert zero["Count"] == over["Count"] == 1000
    assert zero["Data"] == over["Data"]


async def test_count_only_and_countrecords(mj: httpx.AsyncClient) -> None:
    only = (await mj.get(f"{REST}/contact", params={"countOnly": 1})).json()
    assert only == {"Count": 400, "Data": [], "Total": 400}
    legacy = (await mj.get(f"{REST}/contact?countrecords=1&limit=3")).json()
    assert (legacy["Count"], len(legacy["Data"]), legacy["Total"]) == (3, 3, 400)


async def test_parameter_names_are_case_insensitive_first_one_wins_unknown_ignored(
    mj: httpx.AsyncClient,
) -> None:
    a = (await mj.get(f"{REST}/contact?LIMIT=2&offset=5&limit=7&Bogus=1")).json()
    b = (await mj.get(f"{REST}/contact?Limit=2&Offset=5")).json()
    assert a == b
    assert a["Count"] == 2


async def test_offset_pages_cover_every_contact_once_in_id_order(mj: httpx.AsyncClient) -> None:
    seen = []
    for offset in range(0, 400, 150):
        r = await mj.get(f"{REST}/contact", params={"Limit": 150, "Offset": offset})
        seen += [c["ID"] for c in r.json()["Data"]]
    assert len(seen) == 400 == len(set(seen))
    assert seen == sorted(seen)
    past = (await mj.get(f"{REST}/contact", params={"Offset": 400})).json()
    assert past == {"Count": 0, "Data": [], "Total": 0}


async def test_sort_descending_with_space_or_plus_and_unsortable_property(
    mj: httpx.AsyncClient,
) -> None:
    desc = (await mj.get(f"{REST}/contact?Sort=email+DESC&Limit=50")).json()["Data"]
    assert [c["Email"] for c in desc] == sorted((c["Email"] for c in desc), reverse=True)
    encoded = (await mj.get(f"{REST}/contact", params={"Sort": "Email DESC", "Limit": 50})).json()
    assert encoded["Data"] == desc  # the SDKs send the '+' encoded: the same order
    everyone = await pull(mj, "contact")
    assert desc[0]["Email"] == max(c["Email"] for c in everyone)
    both = (await mj.get(f"{REST}/contact?Sort=Name+DESC,%20Email&Limit=1000")).json()["Data"]
    pairs = [(c["Name"], c["Email"]) for c in both]  # Name descending, then Email ascending
    assert all(a[0] > b[0] or (a[0] == b[0] and a[1] < b[1]) for a, b in pairwise(pairs))
    bad = await mj.get(f"{REST}/contact", params={"Sort": "DeliveredCount"})
    assert bad.status_code == 400
    assert bad.json()["StatusCode"] == 400


async def test_contacts_list_filter_and_is_unsubscribed_match_listrecipient(
    mj: httpx.AsyncClient,
) -> None:
    lst = (await mj.get(f"{REST}/contactslist", params={"Limit": 1})).json()["Data"][0]
    members = await pull(mj, "listrecipient", ContactsList=lst["ID"])
    assert {m["ListID"] for m in members} == {lst["ID"]}
    on_list = await pull(mj, "contact", ContactsList=lst["ID"])
    assert [c["ID"] for c in on_list] == [m["ContactID"] for m in members]
    unsub = await pull(mj, "contact", ContactsList=lst["ID"], IsUnsubscribed="true")
    assert {c["ID"] for c in unsub} == {m["ContactID"] for m in members if m["IsUnsubscribed"]}
    assert 0 < len(unsub) < len(on_list)
    subscribed = sum(1 for m in members if m["IsActive"] and not m["IsUnsubscribed"])
    assert lst["SubscriberCount"] == subscribed


async def test_listrecipient_filters_named_by_the_sdks(mj: httpx.AsyncClient) -> None:
    everyone = await pull(mj, "listrecipient")
    assert len({m["ID"] for m in everyone}) == len(everyone) > 400
    unsub = await pull(mj, "listrecipient", Unsub="true")
    assert unsub and all(m["IsUnsubscribed"] for m in unsub)
    assert len(unsub) == sum(m["IsUnsubscribed"] for m in everyone)
    inactive = await pull(mj, "listrecipient", Active="false")
    assert [m["ID"] for m in inactive] == [m["ID"] for m in everyone if not m["IsActive"]]
    one = everyone[7]
    by_contact = await pull(mj, "listrecipient", Contact=one["ContactID"])
    assert one in by_contact
    assert {m["ContactID"] for m in by_contact} == {one["ContactID"]}
    by_name = await pull(mj, "listrecipient", ListName=one["ListName"])
    assert {m["ListID"] for m in by_name} == {one["ListID"]}


async def test_listrecipient_ignores_filters_that_are_not_its_own(mj: httpx.AsyncClient) -> None:
    # IsUnsubscribed/IsExcludedFromCampaigns are no listrecipient filters in any SDK (Unsub is);
    # like every unknown parameter they are ignored, so a client must read the row's flag.
    plain = await pull(mj, "listrecipient")
    assert await pull(mj, "listrecipient", IsUnsubscribed="true") == plain
    assert await pull(mj, "listrecipient", IsExcludedFromCampaigns="true") == plain


async def test_is_excluded_from_campaigns_on_contact(mj: httpx.AsyncClient) -> None:
    everyone = await pull(mj, "contact")
    excluded = await pull(mj, "contact", IsExcludedFromCampaigns="True")  # as requests sends it
    assert excluded == [c for c in everyone if c["IsExcludedFromCampaigns"]]
    assert 0 < len(excluded) < 40


async def test_contactdata_fields_email_and_single_row(
    mj: httpx.AsyncClient, mailjet: MailjetEmulator
) -> None:
    phone = mailjet.settings.phone_property
    rows = await pull(mj, "contactdata", Fields=f"{phone},FirstName")
    assert len(rows) == 400
    assert {d["Name"] for r in rows for d in r["Data"]} == {phone, "firstname"}
    assert all(r["ID"] == r["ContactID"] for r in rows)
    contact = (await mj.get(f"{REST}/contact", params={"Offset": 3, "Limit": 1})).json()["Data"][0]
    by_email = await pull(mj, "contactdata", ContactEmail=contact["Email"])
    by_id = (await mj.get(f"{REST}/contactdata/{contact['ID']}")).json()["Data"]
    assert [r["ContactID"] for r in by_email] == [contact["ID"]]
    assert by_id[0]["ContactID"] == contact["ID"]


async def test_contactslist_filters(mj: httpx.AsyncClient) -> None:
    lists = (await mj.get(f"{REST}/contactslist")).json()["Data"]
    assert len(lists) == 4 and not any(lst["IsDeleted"] for lst in lists)
    named = (await mj.get(f"{REST}/contactslist", params={"Name": lists[1]["Name"]})).json()
    assert [lst["ID"] for lst in named["Data"]] == [lists[1]["ID"]]
    rest = (await mj.get(f"{REST}/contactslist", params={"ExcludeID": lists[0]["ID"]})).json()
    assert rest["Count"] == 3
    by_address = await mj.get(f"{REST}/contactslist", params={"Address": lists[2]["Address"]})
    assert by_address.json()["Data"] == [lists[2]]
    assert (await mj.get(f"{REST}/contactslist?IsDeleted=true")).json()["Count"] == 0


async def test_contactmetadata_lists_the_phone_property_and_filters_by_type(
    mj: httpx.AsyncClient, mailjet: MailjetEmulator
) -> None:
    props = (await mj.get(f"{REST}/contactmetadata", params={"Limit": 1000})).json()["Data"]
    names = {p["Name"]: p["Datatype"] for p in props}
    assert names[mailjet.settings.phone_property] == "str"
    assert {"int", "float", "bool", "datetime", "str"} == set(names.values())
    ints = (await mj.get(f"{REST}/contactmetadata", params={"DataType": "int"})).json()["Data"]
    assert [p["Name"] for p in ints] == [n for n, t in names.items() if t == "int"]
    assert all(p["NameSpace"] == "static" for p in props)


async def test_single_objects_and_the_contacts_lists(mj: httpx.AsyncClient) -> None:
    member = (await mj.get(f"{REST}/listrecipient", params={"Limit": 1})).json()["Data"][0]
    again = (await mj.get(f"{REST}/listrecipient/{member['ID']}")).json()
    assert again == {"Count": 1, "Data": [member], "Total": 1}
    lists = (await mj.get(f"{REST}/contact/{member['ContactID']}/getcontactslists")).json()
    entry = next(e for e in lists["Data"] if e["ListID"] == member["ListID"])
    assert entry == {
        "IsActive": member["IsActive"],
        "IsUnsub": member["IsUnsubscribed"],
        "ListID": member["ListID"],
        "SubscribedAt": member["SubscribedAt"],
    }
    contact = (await mj.get(f"{REST}/contact/{member['ContactID']}")).json()["Data"][0]
    by_email = (await mj.get(f"{REST}/contact/{contact['Email'].upper()}")).json()["Data"][0]
    assert by_email == contact
