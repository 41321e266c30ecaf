"""Emulator memory and speed at scale: peak RSS with 1,000,000 profiles, profiles/s per core.

    python benchmarks/emulator_capacity.py [--profiles 1000000]

Starts the emulator (limits off, no latency) in its own process, touches every lazily built
structure (updated order, every list's members, email lookups), then pulls all profiles with
subscriptions through the client's parallel pull and reports the emulator's peak RSS and the
profiles it served per second of its own CPU time (it runs on one core).
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx
from _emulator_process import EmulatorProcess

from engage_desktop.core.secrets import ApiKey
from engage_desktop.emulator import DEMO_API_KEY
from engage_desktop.klaviyo.client import KlaviyoClient
from engage_desktop.klaviyo.ratelimit import RateBudget
from engage_desktop.klaviyo.windows import pull_profiles


async def exercise(url: str) -> tuple[int, float]:
    budget = RateBudget(enabled=False)  # the emulator runs with limits off here
    async with KlaviyoClient(ApiKey(DEMO_API_KEY), base_url=url, budget=budget) as client:
        async for _ in client.iter_profiles(
            filter="greater-than(updated,2026-09-01T00:00:00Z)", sort="updated"
        ):
            break
        for lst in await client.get_lists():
            async for _ in client.iter_list_members(lst.id):
                break
        started = time.perf_counter()
        count = 0
        async for page in pull_profiles(client, chains=8).pages():
            count += len(page)
        return count, time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profiles", type=int, default=1_000_000)
    args = ap.parse_args()
    started = time.perf_counter()
    emu = EmulatorProcess("--profiles", str(args.profiles), "--rate-limits", "off")
    print(f"emulator up in {time.perf_counter() - started:.1f}s, rss_mb={emu.peak_rss_mb():.0f}")
    try:
        cpu0 = emu.cpu_seconds()
        count, wall = asyncio.run(exercise(emu.url))
        cpu = emu.cpu_seconds() - cpu0
        counters = httpx.get(f"{emu.url}/_emulator/counters").json()
        rss = emu.peak_rss_mb()
    finally:
        code = emu.stop()
    print(f"profiles={args.profiles} pulled={count} wall_s={wall:.1f} requests={counters['total']}")
    print(
        f"emulator_peak_rss_mb={rss:.0f} emulator_cpu_s={cpu:.1f} "
        f"served_profiles_per_cpu_s={count / cpu:.0f} exit_code={code}"
    )


if __name__ == "__main__":
    main()
