"""The official Python SDK, `mailjet-rest`, works against the emulator on 127.0.0.1.

Its `Client` only accepts `*.mailjet.com` or a loopback host (utils/guardrails.py
`validate_config_url`), percent-encodes ids (an e-mail's `@` and `.` included), adds
`Idempotency-Key` to writes, sends Python booleans in filters as `True`/`False`, and its
`stream()` pages with `Limit` and `Offset` until a short page.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from engage_desktop.emulator.mailjet import DEMO_API_KEY, DEMO_API_SECRET, MailjetEmulator, Settings
from engage_desktop.emulator.server import EmulatorThread

mailjet_rest = pytest.importorskip(
    "mailjet_rest", reason="the official SDK is not installed (pip install mailjet-rest)"
)


@pytest.fixture(scope="module")
def live() -> Iterator[EmulatorThread]:
    settings = Settings(contacts=2500, lists=3, phone_property="sms_number", rate_limit_per_s=0)
    with EmulatorThread(MailjetEmulator(settings)) as thread:
        yield thread


@pytest.fixture
def sdk(live: EmulatorThread) -> Iterator[Any]:
    client = mailjet_rest.Client(
        auth=(DEMO_API_KEY, DEMO_API_SECRET), api_url=f"{live.url}/", version="v3", timeout=10
    )
    yield client
    client.close()


def data(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["Data"]
    return rows


def test_lists_metadata_and_the_phone_property(sdk: Any) -> None:
    lists = data(sdk.contactslist.get(filters={"Limit": 1000, "IsDeleted": False}))
    assert [lst["Name"] for lst in lists] == ["Newsletter", "SMS Subscribers", "VIP Customers"]
    props = data(sdk.contactmetadata.get(filters={"Limit": 0}))
    assert {"Name": "sms_number", "Datatype": "str"}.items() <= next(
        p for p in props if p["Name"] == "sms_number"
    ).items()


def test_contacts_paged_by_stream_and_by_id_or_email(sdk: Any) -> None:
    total = sdk.contact.get(filters={"countOnly": 1}).json()["Total"]
    streamed = list(sdk.contact.stream(chunk_size=1000))
    assert total == len(streamed) == 2500
    assert len({c["ID"] for c in streamed}) == 2500
    window = data(sdk.contact.get(filters={"Limit": 5, "Offset": 10}))
    assert window == streamed[10:15]
    one = streamed[42]
    assert data(sdk.contact.get(id=one["Email"])) == [one]  # sent as …%40example%2Ecom
    assert data(sdk.contact.get(id=one["ID"])) == [one]


def test_contactdata_with_fields_and_one_contact(sdk: Any) -> None:
    rows = list(sdk.contactdata.stream(filters={"Fields": "sms_number"}))
    assert len(rows) == 2500
    phones = [r["Data"][0]["Value"] for r in rows if r["Data"]]
    assert len(phones) > 2000 and any(p.startswith("+") for p in phones)
    first = data(sdk.contactdata.get(id=rows[0]["ContactID"]))[0]
    assert first["ContactID"] == rows[0]["ContactID"]


def test_listrecipient_filters_and_paging(sdk: Any) -> None:
    lst = data(sdk.contactslist.get(filters={"Name": "SMS Subscribers"}))[0]
    members = list(sdk.listrecipient.stream(filters={"ContactsList": lst["ID"]}, chunk_size=300))
    assert {m["ListID"] for m in members} == {lst["ID"]}
    assert (
        len(members)
        == sdk.listrecipient.get(filters={"ContactsList": lst["ID"], "countOnly": 1}).json()[
            "Total"
        ]
    )
    unsub = list(sdk.listrecipient.stream(filters={"ContactsList": lst["ID"], "Unsub": True}))
    assert unsub and [m["ID"] for m in unsub] == [m["ID"] for m in members if m["IsUnsubscribed"]]
    contact = members[0]["ContactID"]
    mine = data(sdk.listrecipient.get(filters={"Contact": contact}))
    assert members[0] in mine
    lists = data(sdk.contact_getcontactslists.get(id=contact))
    assert lst["ID"] in {e["ListID"] for e in lists}


def test_writes_errors_and_credentials(sdk: Any, live: EmulatorThread) -> None:
    created = sdk.contactslist.create(data={"Name": "Made by the SDK"})  # with Idempotency-Key
    assert created.status_code == 201
    assert created.json()["Data"][0]["Name"] == "Made by the SDK"
    with pytest.raises(mailjet_rest.errors.DoesNotExistError, match="Object not found"):
        sdk.contact.get(id="nobody@example.com")
    bad = mailjet_rest.Client(auth=(DEMO_API_KEY, "wrong"), api_url=f"{live.url}/", timeout=10)
    with pytest.raises(mailjet_rest.errors.MailjetAuthError):
        bad.contact.get()
    bad.close()
