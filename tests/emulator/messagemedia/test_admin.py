"""The admin API: faults in MessageMedia's error format, settings, counters, views and reset."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from engage_desktop.emulator.messagemedia import MessageMediaEmulator, Settings
from engage_desktop.emulator.messagemedia import admin as admin_module
from tests.emulator.messagemedia.helpers import HANDSET, FakeClock, message, reports, send

pytestmark = pytest.mark.asyncio


async def test_the_index_is_the_documented_table(api: httpx.AsyncClient) -> None:
    text = (await api.get("/_emulator/")).json()["admin_api"]
    assert text == admin_module.__doc__
    for route in ("/_emulator/replies", "/_emulator/messages", "/_emulator/faults"):
        assert f"| {route} |" in text


@pytest.mark.parametrize(
    ("kind", "status", "body"),
    [
        ("500", 500, {"message": "Internal server error"}),
        ("503", 503, {"message": "Service Unavailable"}),
        ("429", 429, {"message": "Too Many Requests"}),
    ],
)
async def test_faults_answer_in_messagemedia_format_then_stop(
    api: httpx.AsyncClient, kind: str, status: int, body: dict[str, str]
) -> None:
    r = await api.post("/_emulator/faults", json={"path": "/v1/messages", "kind": kind, "count": 1})
    assert r.status_code == 204
    r = await api.post("/v1/messages", json={"messages": [message()]})
    assert (r.status_code, r.json()) == (status, body)
    if kind == "429":
        assert r.headers["retry-after"] == "1"
    assert len(await send(api, message())) == 1  # the fault was used up
    counters = (await api.get("/_emulator/counters")).json()
    assert counters["requests"]["SendMessages"] == {str(status): 1, "202": 1}
    assert counters["messages"] == {"queued": 1}  # the faulted request sent nothing
    assert counters["throttled"] == (1 if kind == "429" else 0)


async def test_a_502_is_the_load_balancer_page(api: httpx.AsyncClient) -> None:
    await api.post("/_emulator/faults", json={"path": "/v1", "kind": "502"})
    r = await api.get("/v1/replies")
    assert r.status_code == 502
    assert r.headers["content-type"] == "text/html"


async def test_a_bad_fault_is_400(api: httpx.AsyncClient) -> None:
    r = await api.post("/_emulator/faults", json={"path": "/v1", "kind": "teapot"})
    assert r.status_code == 400
    assert "kinds:" in r.json()["details"][0]


async def test_latency_applies_to_the_api_not_the_admin() -> None:
    emulator = MessageMediaEmulator(Settings(latency_ms=150))
    transport = httpx.ASGITransport(app=emulator)
    async with httpx.AsyncClient(transport=transport, base_url="http://e") as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(client.get("/v1/replies") for _ in range(5)))  # 401s, in parallel
        api_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        await client.get("/_emulator/counters")
        admin_s = time.perf_counter() - t0
    assert api_s >= 0.15  # even a 401 waits for the network
    assert admin_s < 0.15


async def test_settings_change_live_and_are_validated(
    emulator: MessageMediaEmulator, api: httpx.AsyncClient, clock: FakeClock
) -> None:
    r = await api.post(
        "/_emulator/settings",
        json={"enroute_after_s": 0, "submitted_after_s": 10, "blocked_error_code": "302"},
    )
    assert r.status_code == 204
    (m,) = await send(api, message())
    await api.post("/_emulator/blacklist", json={"numbers": ["+61491570158"]})
    await send(api, message("+61491570158"))
    clock.advance(5)
    rows = {r["message_id"]: r for r in (await api.get("/_emulator/messages")).json()["messages"]}
    assert rows[m["message_id"]]["status"] == "enroute"  # submitted only after 10 s
    assert [r["error_code"] for r in rows.values() if r["status"] == "rejected"] == ["302"]
    for bad in ({"failed_rate": 2}, {"failed_rate": 0.6, "rejected_rate": 0.6}, {"api_key": "x"}):
        r = await api.post("/_emulator/settings", json=bad)
        assert r.status_code == 400, bad
    assert emulator.settings.failed_rate == 0.0  # nothing of a refused change was applied
    shown = (await api.get("/_emulator/settings")).json()
    assert shown["submitted_after_s"] == 10 and "api_secret" not in shown


async def test_messages_view_filters(api: httpx.AsyncClient, clock: FakeClock) -> None:
    await send(api, message(), message("+61491570158"), message())
    clock.advance(1)
    rows = (await api.get("/_emulator/messages", params={"destination_number": HANDSET})).json()
    assert [r["destination_number"] for r in rows["messages"]] == [HANDSET, HANDSET]
    assert {r["status"] for r in rows["messages"]} == {"enroute"}
    limited = (await api.get("/_emulator/messages", params={"limit": "1"})).json()["messages"]
    assert len(limited) == 1
    none = (await api.get("/_emulator/messages", params={"status": "delivered"})).json()
    assert none["messages"] == []


async def test_counters_then_reset_empties_the_account(
    api: httpx.AsyncClient, clock: FakeClock
) -> None:
    await send(api, message(delivery_report=True))
    await api.post("/_emulator/replies", json={"source_number": HANDSET, "content": "STOP"})
    clock.advance(1)
    counters = (await api.get("/_emulator/counters")).json()
    assert counters["unconfirmed_delivery_reports"] == 1  # rejected: STOP came first
    assert counters["unconfirmed_replies"] == 1
    assert counters["blacklisted"] == 1
    assert counters["messages"] == {"rejected": 1}
    assert (await api.post("/_emulator/reset")).status_code == 204
    counters = (await api.get("/_emulator/counters")).json()
    assert counters["total"] == 1  # only the counters request itself
    assert counters["messages"] == {}
    assert counters["blacklisted"] == counters["unconfirmed_replies"] == 0
    assert await reports(api) == []


async def test_unknown_admin_route_is_404(api: httpx.AsyncClient) -> None:
    r = await api.post("/_emulator/nothing")
    assert r.status_code == 404
    assert "No admin endpoint" in r.json()["message"]
