"""Mailjet emulator fixtures: a small generated account, in-process, with the demo key pair."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from engage_desktop.emulator.mailjet import (
    DEMO_API_KEY,
    DEMO_API_SECRET,
    MailjetEmulator,
    Settings,
)

AUTH = (DEMO_API_KEY, DEMO_API_SECRET)
REST = "/v3/REST"


@pytest.fixture
def mailjet() -> MailjetEmulator:
    """400 contacts, 4 lists, no rate limit (tests that want one turn it on)."""
    return MailjetEmulator(Settings(contacts=400, lists=4, rate_limit_per_s=0))


@pytest.fixture
async def mj(mailjet: MailjetEmulator) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client wired to the in-process emulator, with the demo key and secret."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=mailjet), base_url="http://127.0.0.1", auth=AUTH
    ) as client:
        yield client


async def pull(mj: httpx.AsyncClient, resource: str, **params: str | int) -> list[dict[str, Any]]:
    """Every row of a listing, 1,000 at a time, the way Mailjet says to page (Offset)."""
    out: list[dict[str, Any]] = []
    offset = 0
    while True:
        r = await mj.get(f"{REST}/{resource}", params={**params, "Limit": 1000, "Offset": offset})
        assert r.status_code == 200, r.text
        data = r.json()["Data"]
        out += data
        if len(data) < 1000:
            return out
        offset += 1000
