"""Helpers for the MessageMedia emulator tests: a hand-driven clock and one-line sends."""

from __future__ import annotations

from typing import Any

import httpx

HANDSET = "+61491570156"
OUR_NUMBER = "+61491570157"
START = 1_760_000_000.0  # 2025-10-09T08:53:20Z


class FakeClock:
    """The emulator's clock, moved by the test."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def message(
    destination: str = HANDSET, content: str = "Spring sale!", **extra: Any
) -> dict[str, Any]:
    return {"content": content, "destination_number": destination, **extra}


async def send(api: httpx.AsyncClient, *messages: dict[str, Any]) -> list[dict[str, Any]]:
    """Send and return the echoed messages (asserting the 202)."""
    r = await api.post("/v1/messages", json={"messages": list(messages)})
    assert r.status_code == 202, r.text
    echoed: list[dict[str, Any]] = r.json()["messages"]
    return echoed


async def reports(api: httpx.AsyncClient) -> list[dict[str, Any]]:
    r = await api.get("/v1/delivery_reports")
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["delivery_reports"]
    return found


async def status_of(api: httpx.AsyncClient, message_id: str) -> str:
    r = await api.get(f"/v1/messages/{message_id}")
    assert r.status_code == 200, r.text
    return str(r.json()["status"])
