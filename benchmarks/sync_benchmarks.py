"""Sync engine benchmarks: the emulator in its own process, `engage-desktop sync` in another.

    python benchmarks/sync_benchmarks.py full       # (a) 100k profiles, Klaviyo limits, 300 ms
    python benchmarks/sync_benchmarks.py pipeline   # (b) no limits, no latency: profiles/s, RSS
    python benchmarks/sync_benchmarks.py million    # (c) 1M profiles: peak RSS of the sync
    python benchmarks/sync_benchmarks.py incremental  # (d) 1M profiles, 1 % changed
    python benchmarks/sync_benchmarks.py commit     # (e) the commit alone, 100k contacts
    python benchmarks/sync_benchmarks.py optout     # opt-out to Klaviyo job posted
    python benchmarks/sync_benchmarks.py phones     # phone check: E.164 shortcut vs full parse

Each prints its figures. The sync runs as a child process so that its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _emulator_process import EmulatorProcess

from engage_desktop.core.consent import ConsentMode
from engage_desktop.core.sources import KLAVIYO
from engage_desktop.emulator import DEMO_API_KEY
from engage_desktop.emulator.data import AccountData
from engage_desktop.storage.commit import SourceCommit, SyncedList, commit_staged
from engage_desktop.storage.database import open_database
from engage_desktop.storage.runs import RunRepo
from engage_desktop.storage.staging import StagedRecord, StagingRepo
from engage_desktop.sync.events import SyncProgress, SyncResult, parse_event
from engage_desktop.sync.phones import normalize_phone, parsed_e164


def cli(folder: Path, *args: str) -> tuple[dict[str, object] | None, float]:
    env = {**os.environ, "KLAVIYO_API_KEY": DEMO_API_KEY, "XDG_STATE_HOME": str(folder / "st")}
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "engage_desktop", "--data-dir", str(folder), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    return (json.loads(last) if last.startswith("{") else None), wall


def peak_child_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def connect(emu: EmulatorProcess, folder: Path, lists: str) -> None:
    cli(
        folder,
        "connect",
        "klaviyo",
        "--base-url",
        emu.url,
        "--consent",
        "inferred",
        "--lists",
        lists,
    )


def run_sync(emu: EmulatorProcess, folder: Path, lists: str, *extra: str) -> None:
    connect(emu, folder, lists)
    result, wall = cli(folder, "sync", "--json", *extra)
    assert result is not None
    print(
        f"sync: wall_s={wall:.1f} engine_s={result['duration_s']} created={result['created']} "
        f"fetched={result['fetched']} requests={result['requests']} "
        f"throttled={result['throttled']} issues={result['issues']}"
    )
    print(
        f"profiles_per_s={result['fetched'] / float(result['duration_s']):.0f} "  # type: ignore[arg-type]
        f"peak_rss_mb(sync process, max of children)={peak_child_rss_mb():.0f}"
    )


def full(args: argparse.Namespace) -> None:
    emu = EmulatorProcess("--profiles", str(args.profiles), "--latency-ms", "300")
    try:
        with tempfile.TemporaryDirectory() as d:
            print(
                f"(a) full sync, {args.profiles} profiles, lists={args.lists}, Klaviyo limits, "
                f"300 ms latency"
            )
            run_sync(emu, Path(d), args.lists)
            counters = httpx.get(f"{emu.url}/_emulator/counters").json()
            print(f"429_sent_by_emulator={counters['throttled']}")
    finally:
        emu.stop()


def pipeline(args: argparse.Namespace, label: str = "(b) pipeline") -> None:
    emu = EmulatorProcess("--profiles", str(args.profiles), "--rate-limits", "off")
    try:
        with tempfile.TemporaryDirectory() as d:
            print(f"{label}, {args.profiles} profiles, lists={args.lists}, no limits")
            os.environ["ENGAGE_DESKTOP_RATE_BUDGET"] = "off"
            connect(emu, Path(d), args.lists)
            timed_sync(emu, Path(d))
    finally:
        emu.stop()


def timed_sync(emu: EmulatorProcess, folder: Path) -> None:
    """A full sync with its event stream: when each phase began, and the CPU seconds of the
    sync process and of the emulator."""
    env = {**os.environ, "KLAVIYO_API_KEY": DEMO_API_KEY, "XDG_STATE_HOME": str(folder / "st")}
    cpu0, emu0 = children_cpu_s(), emu.cpu_seconds()
    started = time.perf_counter()
    command = ["sync", "--events", "--trigger", "manual", "--full"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "engage_desktop", "--data-dir", str(folder), *command],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    phases: dict[str, float] = {}
    result = None
    for line in proc.stdout:
        event = parse_event(line)
        if isinstance(event, SyncProgress):
            phases.setdefault(event.phase, time.perf_counter() - started)
        elif isinstance(event, SyncResult):
            result = event
    if proc.wait() != 0 or result is None or result.status != "succeeded":
        raise SystemExit(f"sync failed: {result}")
    wall = time.perf_counter() - started
    print(
        f"sync: wall_s={wall:.1f} engine_s={result.duration_s:.2f} "
        f"created={result.counts.get('created')} fetched={result.counts.get('fetched')} "
        f"requests={result.counts.get('requests')} issues={result.issues}"
    )
    print("phases_started_at_s: " + " ".join(f"{k}={v:.2f}" for k, v in phases.items()))
    print(
        f"cpu_s: sync_process={children_cpu_s() - cpu0:.1f} emulator={emu.cpu_seconds() - emu0:.1f}"
    )
    print(
        f"profiles_per_s={result.counts.get('fetched', 0) / result.duration_s:.0f} "
        f"peak_rss_mb(sync process, max of children)={peak_child_rss_mb():.0f}"
    )


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def million(args: argparse.Namespace) -> None:
    args.profiles = 1_000_000
    pipeline(args, "(c) one million")


def incremental(args: argparse.Namespace) -> None:
    emu = EmulatorProcess("--profiles", "1000000", "--rate-limits", "off")
    try:
        with tempfile.TemporaryDirectory() as d:
            folder = Path(d)
            os.environ["ENGAGE_DESKTOP_RATE_BUDGET"] = "off"
            print(f"(d) 1M profiles, lists={args.lists}: first a full sync (limits off)")
            run_sync(emu, folder, args.lists)
            changed = httpx.post(
                f"{emu.url}/_emulator/touch", json={"count": 10_000, "seed": 7}, timeout=120
            ).json()
            print(f"changed {changed['changed']} profiles (1 %); incremental sync, Klaviyo limits")
            httpx.post(
                f"{emu.url}/_emulator/settings", json={"rate_limits": True}
            ).raise_for_status()
            del os.environ["ENGAGE_DESKTOP_RATE_BUDGET"]
            result, wall = cli(folder, "sync", "--json")
            assert result is not None
            print(
                f"incremental: wall_s={wall:.1f} engine_s={result['duration_s']} "
                f"updated={result['updated']} fetched={result['fetched']} "
                f"requests={result['requests']} throttled={result['throttled']}"
            )
    finally:
        emu.stop()


def optout(args: argparse.Namespace) -> None:
    emu = EmulatorProcess("--profiles", "5000", "--latency-ms", "300")
    try:
        with tempfile.TemporaryDirectory() as d:
            folder = Path(d)
            connect(emu, folder, "all")
            cli(folder, "sync", "--json")
            out = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "engage_desktop",
                    "--data-dir",
                    str(folder),
                    "contacts",
                    "--json",
                ],
                env={**os.environ, "XDG_STATE_HOME": str(folder / "st")},
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            phone = next(
                json.loads(line)["phone"]
                for line in out.splitlines()
                if json.loads(line)["phone"] and json.loads(line)["sms_status"] == "subscribed"
            )
            _, wall = cli(folder, "optout", phone)
            jobs = httpx.get(f"{emu.url}/_emulator/counters").json()["requests"]
            print(
                f"opt-out to unsubscribe job accepted (202), 300 ms latency: {wall:.2f}s "
                f"(command start to exit, process start-up included); "
                f"jobs: {jobs.get('bulk_unsubscribe_profiles')}"
            )
    finally:
        emu.stop()


def commit(args: argparse.Namespace) -> None:
    n = args.profiles
    rnd = random.Random(1)
    with tempfile.TemporaryDirectory() as d:
        db = open_database(Path(d))
        staging, runs = StagingRepo(db, KLAVIYO), RunRepo(db)

        def stage(version: int) -> None:
            rows = [
                StagedRecord(
                    f"P{i:08d}",
                    f"+1415{2000000 + i:07d}",
                    f"+1415{2000000 + i:07d}",
                    f"user{i}@example.com",
                    f"First{i}",
                    f"Last{i}-{version}",
                    {"Points": float(rnd.randint(0, 999))},
                    "SUBSCRIBED",
                    1.7e9,
                    1.7e9,
                )
                for i in range(n)
            ]
            for k in range(0, n, 5000):
                staging.add(rows[k : k + 5000], [("L1", r.external_id) for r in rows[k : k + 5000]])

        for label, version in (("insert", 1), ("update", 2)):
            stage(version)
            run = runs.start("bench", True, time.time())
            started = time.perf_counter()
            plan = SourceCommit(KLAVIYO, True, [SyncedList("L1", "All", n)], removals=True)
            result = commit_staged(db, run, [plan], {KLAVIYO: ConsentMode.INFERRED}, time.time())[
                KLAVIYO
            ]
            print(
                f"(e) commit {label} of {n} contacts: {time.perf_counter() - started:.2f}s "
                f"(created={result.created} updated={result.updated})"
            )


def phones(args: argparse.Namespace) -> None:
    """The generated account's numbers through the sync's check and through the full parse."""
    data = AccountData(1, args.profiles, 8)
    numbers = [n for n in (data.phone(i) for i in range(args.profiles)) if n]
    timings = {}
    for name, check in (("full_parse", parsed_e164), ("sync_check", normalize_phone)):
        normalize_phone.cache_clear()
        started = time.perf_counter()
        answers = [check(n, "US") for n in numbers]
        timings[name] = (time.perf_counter() - started) / len(numbers) * 1e6
        if name == "full_parse":
            expected = answers
    print(
        f"phones: {len(numbers)} numbers, us_per_number full_parse={timings['full_parse']:.1f} "
        f"sync_check={timings['sync_check']:.1f} same_answers={answers == expected}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "which",
        choices=["full", "pipeline", "million", "incremental", "commit", "optout", "phones"],
    )
    ap.add_argument("--profiles", type=int, default=100_000)
    ap.add_argument("--lists", default="all")
    args = ap.parse_args()
    {
        "full": full,
        "pipeline": pipeline,
        "million": million,
        "incremental": incremental,
        "commit": commit,
        "optout": optout,
        "phones": phones,
    }[args.which](args)


if __name__ == "__main__":
    main()
