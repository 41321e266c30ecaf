"""Fixtures: the MessageMedia emulator in-process on a hand-driven clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from engage_desktop.emulator.messagemedia import (
    DEMO_API_KEY,
    DEMO_API_SECRET,
    MessageMediaEmulator,
    Settings,
)
from tests.emulator.messagemedia.helpers import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings() -> Settings:
    # Whole seconds between steps, so a test can stop the clock between any two statuses.
    return Settings(enroute_after_s=1, submitted_after_s=1, delivered_after_s=1)


@pytest.fixture
def emulator(settings: Settings, clock: FakeClock) -> MessageMediaEmulator:
    return MessageMediaEmulator(settings, clock=clock)


@pytest.fixture
async def anon(emulator: MessageMediaEmulator) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the in-process emulator that sends no credentials."""
    transport = httpx.ASGITransport(app=emulator)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        yield client


@pytest.fixture
async def api(emulator: MessageMediaEmulator) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the in-process emulator with the demo key and secret (Basic auth)."""
    transport = httpx.ASGITransport(app=emulator)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://emulator", auth=(DEMO_API_KEY, DEMO_API_SECRET)
    ) as client:
        yield client
