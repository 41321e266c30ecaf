"""Klaviyo's rate limiting: per account and bucket, fixed 1 s (burst) and 60 s (steady) windows."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

BURST_WINDOW = 1.0
STEADY_WINDOW = 60.0


@dataclass(frozen=True)
class Limit:
    """A bucket's allowance: `burst` per second and `steady` per minute."""

    burst: int
    steady: int


@dataclass(frozen=True)
class Decision:
    """The outcome for one request and what its headers should say."""

    allowed: bool
    limit: Limit
    remaining: int  # in the steady window, after this request
    reset: int  # seconds until the steady window resets
    retry_after: int  # seconds, when not allowed


class FixedWindowLimiter:
    """Counts requests per (account, bucket, window); a refused request is not counted."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._counts: dict[tuple[str, str, float, int], int] = {}

    def reset(self) -> None:
        self._counts.clear()

    def check(self, account: str, buckets: list[tuple[str, Limit]]) -> Decision:
        """Admit the request only if every bucket it draws on has room in both windows."""
        now = self._clock()
        retry_after = 0.0
        steady_view: tuple[Limit, int, float] | None = None
        keys: list[tuple[str, str, float, int]] = []
        for name, limit in buckets:
            for window, allowed in ((BURST_WINDOW, limit.burst), (STEADY_WINDOW, limit.steady)):
                slot = int(now // window)
                key = (account, name, window, slot)
                used = self._counts.get(key, 0)
                reset_in = (slot + 1) * window - now
                if used >= allowed:
                    retry_after = max(retry_after, reset_in)
                keys.append(key)
                if window == STEADY_WINDOW:
                    left = allowed - used
                    if steady_view is None or left < steady_view[1]:
                        steady_view = (limit, left, reset_in)
        assert steady_view is not None
        limit, left, reset_in = steady_view
        if retry_after > 0:
            return Decision(False, limit, max(left, 0), math.ceil(reset_in), math.ceil(retry_after))
        for key in keys:
            self._counts[key] = self._counts.get(key, 0) + 1
        if len(self._counts) > 10_000:
            self._forget_old(now)
        return Decision(True, limit, left - 1, math.ceil(reset_in), 0)

    def _forget_old(self, now: float) -> None:
        for key in [k for k in self._counts if (k[3] + 1) * k[2] < now]:
            del self._counts[key]
