"""Staying under Mailjet's per-key, per-second limit before Mailjet has to say so.

Mailjet limits calls "per API key per second" and publishes no number (docs/emulators/
mailjet.md; the emulator assumes 30). One `RateBudget` per key pair, shared by every
concurrent call: a sliding window slightly longer than a second admits at most `per_s`
requests, so no fixed one-second window on Mailjet's side sees more, whatever its alignment
and a little network jitter. A 429 blocks every sender until the back-off has passed.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Callable

REQUESTS_PER_S = 30  # the emulator's assumption; Mailjet answers 429 when it is too many
WINDOW_S = 1.05  # a second, and a little for requests that arrive closer than they were sent


class RateBudget:
    """Admission control for one key pair's requests."""

    def __init__(
        self,
        per_s: float = REQUESTS_PER_S,
        *,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
        enabled: bool = True,
    ) -> None:
        self.per_s = max(1, int(per_s))
        self.window_s = window_s
        self.enabled = enabled
        self._clock = clock
        self._sent: deque[float] = deque()
        self._blocked_until = 0.0
        self._lock = asyncio.Lock()
        self.waited_s = 0.0

    def _delay(self, now: float) -> float:
        while self._sent and self._sent[0] <= now - self.window_s:
            self._sent.popleft()
        wait = max(0.0, self._blocked_until - now)
        if len(self._sent) >= self.per_s:
            wait = max(wait, self._sent[-self.per_s] + self.window_s - now)
        return wait

    async def acquire(self) -> None:
        """Wait until a request may go, then count it."""
        if not self.enabled:
            return
        async with self._lock:
            while (wait := self._delay(self._clock())) > 0:
                self.waited_s += wait
                await asyncio.sleep(wait)
            self._sent.append(self._clock())

    def penalize(self, seconds: float) -> None:
        """After a 429: nobody sends until `seconds` have passed."""
        self._blocked_until = max(self._blocked_until, self._clock() + seconds)


def backoff(attempt: int, base: float = 0.5, cap: float = 30.0) -> float:
    """Full-jitter exponential backoff."""
    return random.uniform(0.5, 1.0) * min(cap, base * 2.0**attempt)


THROTTLED_CAP_S = 4.0  # the limit is per second: a few seconds' pause is always enough


def retry_after_seconds(header: str | None, throttles: int, base: float = 0.5) -> float:
    """Retry-After when Mailjet sends one (none was ever recorded), else jittered backoff
    over the 429s in a row, at most a few seconds."""
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            pass
    return backoff(throttles, base, THROTTLED_CAP_S)
