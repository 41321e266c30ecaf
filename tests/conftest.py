"""Shared fixtures: the emulator in-process (ASGI) and on a real socket, reset for every test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from engage_desktop.emulator import DEMO_API_KEY, KlaviyoEmulator, Settings
from engage_desktop.emulator.server import EmulatorThread
from engage_desktop.storage.database import DATABASE_ENV
from tests.pg_server import PgServer, throwaway_server

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


# The team database (issue 15): suites that request `engine` (autouse in tests/storage and
# tests/sync) run once on SQLite and once on a throwaway PostgreSQL server.
@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    with throwaway_server() as server:
        yield server


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh, empty database on the throwaway server."""
    return pg_server.fresh_url()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every database this test opens (and its subprocesses) is SQLite, or PostgreSQL."""
    if request.param == "postgresql":
        if request.node.get_closest_marker("sqlite_only"):
            pytest.skip("about SQLite itself (its file, WAL, PRAGMAs)")
        url = request.getfixturevalue("pg_url")
        monkeypatch.setenv(DATABASE_ENV, url)
    else:
        monkeypatch.delenv(DATABASE_ENV, raising=False)
    return str(request.param)


@pytest.fixture(autouse=True)
def _database_env_restored() -> Iterator[None]:
    """`main(["--database", URL, …])` sets ENGAGE_DESKTOP_DATABASE for its process (its sync
    workers inherit it): in a test, the next test must not."""
    before = os.environ.get(DATABASE_ENV)
    yield
    if before is None:
        os.environ.pop(DATABASE_ENV, None)
    else:
        os.environ[DATABASE_ENV] = before
