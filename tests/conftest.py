"""Shared fixtures: the emulator in-process (ASGI) and on a real socket, reset for every test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from engage_desktop.emulator import DEMO_API_KEY, KlaviyoEmulator, Settings
from engage_desktop.emulator.server import EmulatorThread

HEADERS = {"Authorization": f"Klaviyo-API-Key {DEMO_API_KEY}", "revision": "2026-07-15"}


@pytest.fixture
def emulator() -> KlaviyoEmulator:
    return KlaviyoEmulator(Settings(profiles=600, lists=4, job_delay_s=0.05))


@pytest.fixture
async def api(emulator: KlaviyoEmulator) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client wired to the in-process emulator, authenticated with the demo key."""
    transport = httpx.ASGITransport(app=emulator)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://127.0.0.1", headers=HEADERS
    ) as client:
        yield client


@pytest.fixture(scope="session")
def live_emulator() -> Iterator[EmulatorThread]:
    with EmulatorThread(Settings(profiles=1500, lists=4, job_delay_s=0.05)) as thread:
        yield thread


@pytest.fixture
def live(live_emulator: EmulatorThread) -> EmulatorThread:
    """The socket emulator with fresh data, no faults, limits on, no latency."""
    httpx.post(f"{live_emulator.url}/_emulator/reset").raise_for_status()
    httpx.post(
        f"{live_emulator.url}/_emulator/settings",
        json={"latency_ms": 0, "rate_limits": True, "job_delay_s": 0.05},
    ).raise_for_status()
    return live_emulator
