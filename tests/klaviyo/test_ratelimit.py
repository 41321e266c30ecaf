"""The client's rate budget on a controllable clock: sliding windows, 429 penalties, Retry-After."""

from __future__ import annotations

import asyncio

import pytest

from engage_desktop.klaviyo.ratelimit import (
    BURST_WINDOW,
    Limit,
    RateBudget,
    parse_first_int,
    retry_after_seconds,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()

    async def fake_sleep(seconds: float) -> None:
        fake.now += seconds

    monkeypatch.setattr("engage_desktop.klaviyo.ratelimit.asyncio.sleep", fake_sleep)
    return fake


async def test_burst_window_admits_at_most_the_burst(clock: FakeClock) -> None:
    budget = RateBudget(clock)
    limit = Limit(burst=3, steady=100)
    times = []
    for _ in range(7):
        await budget.acquire([("b", limit)])
        times.append(clock.now)
    for i in range(len(times) - 3):
        assert times[i + 3] - times[i] >= BURST_WINDOW - 1e-9  # never 4 in one window


async def test_steady_window_holds_back_the_next_minute(clock: FakeClock) -> None:
    budget = RateBudget(clock)
    limit = Limit(burst=100, steady=5)
    start = clock.now
    for _ in range(6):
        await budget.acquire([("s", limit)])
    assert clock.now - start >= 60


async def test_penalty_after_429_blocks_every_caller(clock: FakeClock) -> None:
    budget = RateBudget(clock)
    limit = Limit(75, 750)
    budget.penalize("p", limit, 7)
    start = clock.now
    await asyncio.gather(*(budget.acquire([("p", limit)]) for _ in range(3)))
    assert clock.now - start >= 7


async def test_server_saying_nothing_is_left_pauses_until_reset(clock: FakeClock) -> None:
    budget = RateBudget(clock)
    limit = Limit(75, 750)
    budget.observe("o", limit, remaining=0, reset_s=12)
    start = clock.now
    await budget.acquire([("o", limit)])
    assert clock.now - start >= 12


def test_retry_after_sources() -> None:
    assert retry_after_seconds("4", None, 0) == 4
    assert (
        retry_after_seconds(None, "Request was throttled. Expected available in 9 seconds.", 0) == 9
    )
    assert 0 < retry_after_seconds(None, None, 3) <= 4.0
    assert parse_first_int("750, 75;w=1, 750;w=60") == 750 and parse_first_int(None) is None
