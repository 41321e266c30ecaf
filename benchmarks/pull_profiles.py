"""Pull every profile through the client, against the emulator in its own process.

    python benchmarks/pull_profiles.py                       # 100k, Klaviyo limits, 300 ms latency
    python benchmarks/pull_profiles.py --rate-limits off --latency-ms 0   # unthrottled rate

Prints wall time, requests, 429s received, and the ratio to the rate-limit floor: the time
Klaviyo's documented steady limit (750 requests a minute on Get Profiles) needs for the pages
pulled, i.e. pages / 12.5 per second (1,000 pages -> 80 s).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import time

import httpx
from _emulator_process import EmulatorProcess

from engage_desktop.core.secrets import ApiKey
from engage_desktop.emulator import DEMO_API_KEY
from engage_desktop.klaviyo.client import PAGE_SIZE, KlaviyoClient
from engage_desktop.klaviyo.ratelimit import RateBudget
from engage_desktop.klaviyo.windows import pull_profiles


async def pull(
    url: str, chains: int, limits: bool
) -> tuple[int, int, float, KlaviyoClient, object]:
    budget = RateBudget(enabled=limits)
    async with KlaviyoClient(ApiKey(DEMO_API_KEY), base_url=url, budget=budget) as client:
        started = time.perf_counter()
        seen: set[str] = set()
        count = 0
        run = pull_profiles(client, chains=chains)
        async for page in run.pages():
            count += len(page)
            seen.update(p.id for p in page.profiles)
        return count, len(seen), time.perf_counter() - started, client, run.stats


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profiles", type=int, default=100_000)
    ap.add_argument("--latency-ms", type=float, default=300)
    ap.add_argument("--rate-limits", choices=["klaviyo", "off"], default="klaviyo")
    ap.add_argument("--chains", type=int, default=24)
    args = ap.parse_args()
    emu = EmulatorProcess(
        "--profiles",
        str(args.profiles),
        "--latency-ms",
        str(args.latency_ms),
        "--rate-limits",
        args.rate_limits,
    )
    try:
        cpu0 = emu.cpu_seconds()
        count, unique, wall, client, stats = asyncio.run(
            pull(emu.url, args.chains, args.rate_limits == "klaviyo")
        )
        counters = httpx.get(f"{emu.url}/_emulator/counters").json()
        cpu = emu.cpu_seconds() - cpu0
    finally:
        emu.stop()
    floor = math.ceil(args.profiles / PAGE_SIZE) / (750 / 60)
    print(
        f"profiles={args.profiles} latency_ms={args.latency_ms} rate_limits={args.rate_limits} "
        f"chains={args.chains}"
    )
    print(f"received={count} unique={unique} wall_s={wall:.1f} profiles_per_s={count / wall:.0f}")
    print(
        f"requests={client.stats.requests} retries={client.stats.retries} "
        f"429_received={client.stats.throttled} 429_sent_by_emulator={counters['throttled']}"
    )
    print(f"pull: {stats}")
    print(f"rate_limit_floor_s={floor:.1f} ratio_to_floor={wall / floor:.2f}")
    print(f"emulator_cpu_s={cpu:.1f} emulator_profiles_per_cpu_s={count / max(cpu, 1e-9):.0f}")


if __name__ == "__main__":
    main()
