"""Staying under Klaviyo's limits before Klaviyo has to say so.

One `RateBudget` per account, shared by every concurrent call. Each bucket (an endpoint, or an
extra bucket such as profile_count) keeps the send times of its recent requests and admits a new
one only when both sliding windows (1 s burst, 60 s steady) have room. A sliding window that
never overflows cannot overflow Klaviyo's fixed windows either, wherever they are aligned. The
windows are slightly longer than Klaviyo's, and a tenth of the burst is left unused, to absorb
jitter between our send and their arrival.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

BURST_WINDOW = 1.0 + 0.15
STEADY_WINDOW = 60.0 + 2.0


@dataclass(frozen=True)
class Limit:
    """Published limits of a bucket: requests per second (burst) and per minute (steady)."""

    burst: int
    steady: int


# Per operation, from the spec's x-klaviyo-ratelimit (and NOTES.md for the extra buckets).
STANDARD = Limit(75, 750)  # profiles, lists, list members, bulk jobs
ACCOUNTS = Limit(1, 15)
PROFILE_COUNT = Limit(1, 15)


@dataclass
class _Bucket:
    limit: Limit
    sent: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class RateBudget:
    """Admission control for one account's requests, shared by all its concurrent calls."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, enabled: bool = True) -> None:
        """`enabled=False` only for servers without limits (the emulator with limits off)."""
        self._clock = clock
        self._enabled = enabled
        self._buckets: dict[str, _Bucket] = {}
        self.waited_s = 0.0

    @property
    def enabled(self) -> bool:
        return self._enabled

    def _bucket(self, name: str, limit: Limit) -> _Bucket:
        b = self._buckets.get(name)
        if b is None:
            b = self._buckets[name] = _Bucket(limit)
        return b

    def _delay(self, b: _Bucket, now: float) -> float:
        while b.sent and b.sent[0] <= now - STEADY_WINDOW:
            b.sent.popleft()
        wait = max(0.0, b.blocked_until - now)
        if len(b.sent) >= b.limit.steady:
            wait = max(wait, b.sent[-b.limit.steady] + STEADY_WINDOW - now)
        burst = _usable_burst(b.limit.burst)
        if len(b.sent) >= burst:
            wait = max(wait, b.sent[-burst] + BURST_WINDOW - now)
        return wait

    async def acquire(self, buckets: list[tuple[str, Limit]]) -> None:
        """Wait until every bucket has room, then record the request in each."""
        if not self._enabled:
            return
        chosen = [self._bucket(name, limit) for name, limit in buckets]
        for b in chosen:
            await b.lock.acquire()
        try:
            while True:
                now = self._clock()
                wait = max(self._delay(b, now) for b in chosen)
                if wait <= 0:
                    break
                self.waited_s += wait
                await asyncio.sleep(wait)
            now = self._clock()
            for b in chosen:
                b.sent.append(now)
        finally:
            for b in reversed(chosen):
                b.lock.release()

    def observe(self, name: str, limit: Limit, remaining: int | None, reset_s: int | None) -> None:
        """Klaviyo's view of the steady window: other integrations share it with us."""
        if remaining is None or reset_s is None:
            return
        if remaining <= 1:
            b = self._bucket(name, limit)
            b.blocked_until = max(b.blocked_until, self._clock() + reset_s)

    def penalize(self, name: str, limit: Limit, seconds: float) -> None:
        """After a 429: nobody sends on this bucket until Klaviyo said it is free again."""
        b = self._bucket(name, limit)
        b.blocked_until = max(b.blocked_until, self._clock() + seconds)


def _usable_burst(burst: int) -> int:
    """A tenth of the burst allowance is left unused: under load, requests sent more than a
    second apart can reach the server within one second."""
    return max(1, burst - burst // 10)


_EXPECTED = re.compile(r"available in (\d+(?:\.\d+)?) second")


def retry_after_seconds(
    header: str | None, detail: str | None, attempt: int, base: float = 0.5
) -> float:
    """Retry-After, else the number in "Expected available in N seconds", else jittered backoff."""
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            pass
    if detail:
        m = _EXPECTED.search(detail)
        if m:
            return float(m.group(1))
    return backoff(attempt, base)


def backoff(attempt: int, base: float = 0.5, cap: float = 30.0) -> float:
    """Full-jitter exponential backoff."""
    return random.uniform(0.5, 1.0) * min(cap, base * 2.0**attempt)


def parse_first_int(value: str | None) -> int | None:
    """`RateLimit-*` headers may carry several comma-separated items; we need the first number."""
    if not value:
        return None
    m = re.match(r"\s*(\d+)", value)
    return int(m.group(1)) if m else None
