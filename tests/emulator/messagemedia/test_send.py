"""Sending: the 202 echo, the 100-message limit, all-or-nothing validation, status and cancel."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from engage_desktop.emulator.messagemedia.protocol import PARSE_FAILED
from tests.emulator.messagemedia.helpers import (
    HANDSET,
    OUR_NUMBER,
    FakeClock,
    message,
    reports,
    send,
    status_of,
)

pytestmark = pytest.mark.asyncio


async def stored(api: httpx.AsyncClient) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (await api.get("/_emulator/messages")).json()["messages"]
    return rows


async def test_202_echoes_each_message_in_order_with_an_id_and_queued(
    api: httpx.AsyncClient,
) -> None:
    sent = [
        message(content="first", metadata={"key1": "value1"}, delivery_report=True),
        message("+61491570158", "second", source_number=OUR_NUMBER, format="SMS"),
    ]
    r = await api.post("/v1/messages", json={"messages": sent})
    assert r.status_code == 202
    assert r.headers["content-type"] == "application/json"
    echoed = r.json()["messages"]
    assert [m["content"] for m in echoed] == ["first", "second"]
    assert echoed[0]["metadata"] == {"key1": "value1"}
    assert echoed[1]["source_number"] == OUR_NUMBER
    for m in echoed:
        assert m["status"] == "queued"
        assert len(m["message_id"]) == 36 and uuid.UUID(m["message_id"]).version == 4
    assert echoed[0]["message_id"] != echoed[1]["message_id"]


async def test_a_scheduled_message_is_also_echoed_as_queued(
    api: httpx.AsyncClient, clock: FakeClock
) -> None:
    (m,) = await send(api, message(scheduled="2030-01-01T00:00:00Z"))
    assert m["status"] == "queued"
    assert m["scheduled"] == "2030-01-01T00:00:00.000Z"
    assert await status_of(api, m["message_id"]) == "scheduled"


async def test_100_messages_are_accepted_and_101_are_refused_whole(
    api: httpx.AsyncClient,
) -> None:
    hundred = [message(f"+6149157{i:04d}") for i in range(100)]
    assert len(await send(api, *hundred)) == 100
    r = await api.post("/v1/messages", json={"messages": [*hundred, message()]})
    assert r.status_code == 400
    assert r.json()["message"] == PARSE_FAILED
    assert "at most 100" in r.json()["details"][0]
    assert len(await stored(api)) == 100  # the 101 were not sent


async def test_one_invalid_message_means_none_is_sent(api: httpx.AsyncClient) -> None:
    r = await api.post(
        "/v1/messages",
        json={"messages": [message(), message("12ab"), message(content="")]},
    )
    assert r.status_code == 400
    body = r.json()
    assert set(body) == {"message", "details"}
    assert body["details"] == [
        # word for word the spec's example
        "/messages/1/destination_number: International address must be between 8 and 15 "
        "characters excluding the first '+', International address contains invalid characters.",
        "/messages/2/content: string length 0 is not between 1 and 5000",
    ]
    assert await stored(api) == []


@pytest.mark.parametrize(
    ("bad", "pointer"),
    [
        ({"content": "x" * 5001}, "/messages/0/content"),
        ({"destination_number": "+1234567890123456"}, "/messages/0/destination_number"),
        ({"destination_number": 61491570156}, "/messages/0/destination_number"),
        ({"format": "FAX"}, "/messages/0/format"),
        ({"source_number_type": "LONGCODE"}, "/messages/0/source_number_type"),
        ({"delivery_report": "yes"}, "/messages/0/delivery_report"),
        ({"metadata": {f"k{i}": "v" for i in range(11)}}, "/messages/0/metadata"),
        ({"metadata": {"k": 1}}, "/messages/0/metadata/k"),
        ({"metadata": {"k": "v" * 257}}, "/messages/0/metadata/k"),
        ({"scheduled": "next tuesday"}, "/messages/0/scheduled"),
        ({"message_expiry_timestamp": 5}, "/messages/0/message_expiry_timestamp"),
        ({"subject": "s" * 65}, "/messages/0/subject"),
    ],
)
async def test_each_schema_rule_is_a_400_naming_the_field(
    api: httpx.AsyncClient, bad: dict[str, Any], pointer: str
) -> None:
    r = await api.post("/v1/messages", json={"messages": [{**message(), **bad}]})
    assert r.status_code == 400, r.text
    (detail,) = r.json()["details"]
    assert detail.startswith(pointer + ":")


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"{not json", "Failed to parse message body."),
        (b'{"messages": []}', "/messages: array is too short"),
        (b'{"messages": {}}', "/messages: instance type (object)"),
        (b"{}", 'object has missing required properties (["messages"])'),
        (b'{"messages": [{"content": "hi"}]}', "/messages/0: object has missing required"),
    ],
)
async def test_bodies_that_are_not_a_send_request(
    api: httpx.AsyncClient, body: bytes, detail: str
) -> None:
    r = await api.post("/v1/messages", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["message"] == PARSE_FAILED
    assert r.json()["details"][0].startswith(detail)


async def test_get_status_returns_the_message_as_sent_with_its_status(
    api: httpx.AsyncClient,
) -> None:
    (m,) = await send(api, message(callback_url="https://my.url.com", source_number=OUR_NUMBER))
    r = await api.get(f"/v1/messages/{m['message_id']}")
    assert r.status_code == 200
    doc = r.json()
    assert doc["message_id"] == m["message_id"]
    assert doc["destination_number"] == HANDSET
    assert doc["callback_url"] == "https://my.url.com"
    assert doc["format"] == "SMS" and doc["delivery_report"] is False
    assert doc["status"] == "queued"


async def test_unknown_and_45_day_old_messages_are_404(
    api: httpx.AsyncClient, clock: FakeClock
) -> None:
    r = await api.get(f"/v1/messages/{uuid.uuid4()}")
    assert (r.status_code, r.json()) == (404, {"message": "Resource not found."})
    (m,) = await send(api, message())
    clock.advance(46 * 24 * 3600)  # 45 days after its last change
    assert (await api.get(f"/v1/messages/{m['message_id']}")).status_code == 404


async def test_a_scheduled_message_waits_for_its_time(
    api: httpx.AsyncClient, clock: FakeClock
) -> None:
    (m,) = await send(api, message(scheduled="2025-10-09T09:00:00.000Z"))  # in 400 s
    clock.advance(399)
    assert await status_of(api, m["message_id"]) == "scheduled"
    clock.advance(2)  # 1 s after the scheduled time (enroute_after_s)
    assert await status_of(api, m["message_id"]) == "enroute"


async def test_cancel_a_scheduled_message(api: httpx.AsyncClient, clock: FakeClock) -> None:
    (m,) = await send(api, message(scheduled="2025-10-10T00:00:00Z", delivery_report=True))
    url = f"/v1/messages/{m['message_id']}"
    r = await api.put(url, json={"status": "cancelled"})
    assert (r.status_code, r.content) == (200, b"")
    assert await status_of(api, m["message_id"]) == "cancelled"
    clock.advance(24 * 3600)  # well past the scheduled time: it must not go out
    assert await status_of(api, m["message_id"]) == "cancelled"
    assert await reports(api) == []


async def test_only_scheduled_messages_can_be_cancelled(
    api: httpx.AsyncClient, clock: FakeClock
) -> None:
    (m,) = await send(api, message())
    clock.advance(1)
    r = await api.put(f"/v1/messages/{m['message_id']}", json={"status": "cancelled"})
    assert r.status_code == 400
    assert r.json()["message"] == PARSE_FAILED
    assert await status_of(api, m["message_id"]) == "enroute"


async def test_cancel_wants_status_cancelled_and_a_known_id(api: httpx.AsyncClient) -> None:
    (m,) = await send(api, message(scheduled="2030-01-01T00:00:00Z"))
    r = await api.put(f"/v1/messages/{m['message_id']}", json={"status": "delivered"})
    assert r.status_code == 400
    r = await api.put(f"/v1/messages/{uuid.uuid4()}", json={"status": "cancelled"})
    assert r.status_code == 404
    assert await status_of(api, m["message_id"]) == "scheduled"


async def test_unknown_paths_and_methods(api: httpx.AsyncClient) -> None:
    r = await api.get("/v1/nothing-here")
    assert (r.status_code, r.json()) == (404, {"message": "Resource not found."})
    r = await api.get("/v1/messages")
    assert r.status_code == 405
    assert r.headers["allow"] == "POST"
