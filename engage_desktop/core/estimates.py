"""How long a first sync will take, from list sizes and Klaviyo's published limits."""

from __future__ import annotations

import math

PAGE_SIZE = 100
STEADY_PER_MINUTE = 750  # each list endpoint, and Get Profiles
BURST_PER_SECOND = 75


def first_sync_seconds(list_sizes: list[int], every_list: bool, latency_s: float = 0.3) -> float:
    """Seconds a full sync of lists this size needs at the rate limits (as the engine plans it).

    Chosen lists are read through Get List Profiles alone. When every list is synced,
    memberships are shared by two list endpoints (each its own 750-a-minute bucket) while the
    profiles come through Get Profiles (a third bucket) at the same time. How many distinct
    profiles the lists hold is unknown until they are read: the estimate takes the larger of
    the biggest list and half the memberships (a guess: the emulator's demo accounts average
    1.9 lists a person).
    """
    if not list_sizes:
        return 0.0
    pages = [math.ceil(n / PAGE_SIZE) for n in list_sizes]
    if not every_list:
        return _bucket_seconds(sum(pages), latency_s)
    members = sum(pages)
    per_endpoint = math.ceil(members / 2)
    profiles = math.ceil(max(max(list_sizes), sum(list_sizes) / 2) / PAGE_SIZE)
    return max(_bucket_seconds(per_endpoint, latency_s), _bucket_seconds(profiles, latency_s))


def _bucket_seconds(requests: int, latency_s: float) -> float:
    """Fixed windows: each minute's 750 go out at the burst rate; the last minute's share ends
    the run."""
    if requests <= 0:
        return 0.0
    minutes, in_last = divmod(requests - 1, STEADY_PER_MINUTE)
    return 60.0 * minutes + (in_last + 1) / BURST_PER_SECOND + latency_s


def describe(seconds: float) -> str:
    """'about 40 seconds', 'about 3 minutes', 'about 2 hours'."""
    if seconds < 90:
        return f"about {max(5, round(seconds / 5) * 5)} seconds"
    if seconds < 90 * 60:
        return f"about {round(seconds / 60)} minutes"
    return f"about {seconds / 3600:.1f} hours"
