"""Statuses on the clock and delivery reports: shape, oldest 100, repeated until confirmed."""

from __future__ import annotations

import uuid

import httpx
import pytest

from engage_desktop.emulator.messagemedia import MessageMediaEmulator
from tests.emulator.messagemedia.helpers import (
    HANDSET,
    FakeClock,
    message,
    reports,
    send,
    status_of,
)

pytestmark = pytest.mark.asyncio


async def confirm(api: httpx.AsyncClient, ids: list[str]) -> httpx.Response:
    return await api.post("/v1/delivery_reports/confirmed", json={"delivery_report_ids": ids})


async def test_status_moves_enroute_submitted_delivered_on_the_clock(
    api: httpx.AsyncClient, clock: FakeClock
) -> None:
    (m,) = await send(api, message())
    seen = [await status_of(api, m["message_id"])]
    for _ in range(3):
        clock.advance(1)
        seen.append(await status_of(api, m["message_id"]))
    assert seen == ["queued", "enroute", "submitted", "delivered"]


async def test_one_report_per_status_change_with_the_spec_fields(
    api: httpx.AsyncClient, clock: FakeClock
) -> None:
    (m,) = await send(
        api,
        message(
            content="My first message!",
            delivery_report=True,
            metadata={"key1": "value1"},
            callback_url="https://my.callback.url.com",
        ),
    )
    clock.advance(3)
    found = await reports(api)
    assert [r["status"] for r in found] == ["enroute", "submitted", "delivered"]
    first = found[0]
    assert set(first) == {
        "callback_url", "delivery_report_id", "source_number", "date_received", "status",
        "delay", "billing_units", "submitted_date", "original_text", "message_id",
        "vendor_account_id", "metadata",
    }  # fmt: skip
    assert first["source_number"] == HANDSET  # the inverse of the message's numbers
    assert first["message_id"] == m["message_id"]
    assert first["original_text"] == "My first message!"
    assert first["metadata"] == {"key1": "value1"}
    assert (first["delay"], first["billing_units"]) == (0, 1)
    assert first["vendor_account_id"]["vendor_id"] == "SinchEU"
    assert first["date_received"] == "2025-10-09T08:53:21.000Z"  # when enroute was reached
    assert found[2]["submitted_date"] == "2025-10-09T08:53:23.000Z"
    assert len({r["delivery_report_id"] for r in found}) == 3


async def test_reports_repeat_on_every_poll_until_confirmed(
    api: httpx.AsyncClient, clock: FakeClock
) -> None:
    await send(api, message(delivery_report=True))
    clock.advance(3)
    first = await reports(api)
    assert await reports(api) == first  # a second poll without confirming: the same
    r = await confirm(api, [first[0]["delivery_report_id"]])
    assert (r.status_code, r.content) == (202, b"")
    assert await reports(api) == first[1:]
    await confirm(api, [d["delivery_report_id"] for d in first[1:]])
    assert await reports(api) == []


async def test_a_poll_returns_the_oldest_100(api: httpx.AsyncClient, clock: FakeClock) -> None:
    batch = [message(f"+6149157{i:04d}", delivery_report=True) for i in range(60)]
    await send(api, *batch)
    clock.advance(3)  # 180 reports: 60 enroute, then 60 submitted, then 60 delivered
    page = await reports(api)
    assert len(page) == 100
    assert [r["status"] for r in page] == ["enroute"] * 60 + ["submitted"] * 40
    dates = [r["date_received"] for r in page]
    assert dates == sorted(dates)
    await confirm(api, [r["delivery_report_id"] for r in page])
    rest = await reports(api)
    assert [r["status"] for r in rest] == ["submitted"] * 20 + ["delivered"] * 60


async def test_no_reports_unless_asked_for(api: httpx.AsyncClient, clock: FakeClock) -> None:
    (m,) = await send(api, message())  # delivery_report defaults to false
    clock.advance(3)
    assert await status_of(api, m["message_id"]) == "delivered"
    assert await reports(api) == []


@pytest.mark.parametrize(
    ("rates", "final", "code"),
    [({"failed_rate": 1}, "failed", "400"), ({"rejected_rate": 1}, "rejected", "402")],
)
async def test_outcome_rates_decide_how_messages_end(
    api: httpx.AsyncClient,
    clock: FakeClock,
    rates: dict[str, float],
    final: str,
    code: str,
) -> None:
    assert (await api.post("/_emulator/settings", json=rates)).status_code == 204
    await send(api, message(delivery_report=True))
    clock.advance(3)
    assert [r["status"] for r in await reports(api)] == ["enroute", "submitted", final]
    (row,) = (await api.get("/_emulator/messages")).json()["messages"]
    assert (row["status"], row["error_code"]) == (final, code)


async def test_failure_rate_is_a_share_reproducible_per_seed(
    emulator: MessageMediaEmulator, api: httpx.AsyncClient, clock: FakeClock
) -> None:
    emulator.settings.update({"failed_rate": 0.25})
    await send(api, *(message(f"+6149157{i:04d}") for i in range(100)))
    clock.advance(3)
    counts = (await api.get("/_emulator/counters")).json()["messages"]
    assert 10 <= counts["failed"] <= 40
    assert counts["failed"] + counts["delivered"] == 100


async def test_a_message_past_its_expiry_expires(api: httpx.AsyncClient, clock: FakeClock) -> None:
    # Expires 1.5 s after sending: it is enroute at 1 s and expires before submission at 2 s.
    (m,) = await send(
        api, message(delivery_report=True, message_expiry_timestamp="2025-10-09T08:53:21.500Z")
    )
    clock.advance(3)
    assert [r["status"] for r in await reports(api)] == ["enroute", "expired"]
    assert await status_of(api, m["message_id"]) == "expired"


async def test_confirm_is_idempotent_for_unknown_ids(api: httpx.AsyncClient) -> None:
    assert (await confirm(api, [str(uuid.uuid4())])).status_code == 202


@pytest.mark.parametrize(
    "body",
    [
        {"delivery_report_ids": [str(uuid.uuid4()) for _ in range(101)]},
        {"delivery_report_ids": ["not-a-uuid"]},
        {"delivery_report_ids": "01e1fa0a-6e27-4945-9cdb-18644b4de043"},
        {"reply_ids": [str(uuid.uuid4())]},
    ],
)
async def test_confirm_bodies_outside_the_schema_are_400(
    api: httpx.AsyncClient, body: dict[str, object], clock: FakeClock
) -> None:
    await send(api, message(delivery_report=True))
    clock.advance(1)
    r = await api.post("/v1/delivery_reports/confirmed", json=body)
    assert r.status_code == 400
    assert set(r.json()) == {"message", "details"}
    assert len(await reports(api)) == 1  # nothing was confirmed
