"""Benchmarks of contacts from several sources: emulators in their own processes, the
command line in another, figures printed.

    python benchmarks/source_benchmarks.py mailjet   # 100k Mailjet contacts, 300 ms latency
    python benchmarks/source_benchmarks.py csv       # import a 1,000,000-row CSV file
    python benchmarks/source_benchmarks.py merge     # 100k Mailjet into 100k Klaviyo: commit

Goals (the issue): Mailjet ≤ 20 s; CSV ≤ 20 s with peak RSS ≤ 300 MB; the merge commit ≤ 5 s.
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

from _emulator_process import EmulatorProcess

from engage_desktop.core.sources import KLAVIYO, MAILJET
from engage_desktop.emulator import mailjet as mj
from engage_desktop.storage.commit import SourceCommit, SyncedList, commit_staged
from engage_desktop.storage.database import open_database
from engage_desktop.storage.runs import RunRepo
from engage_desktop.storage.staging import StagedRecord, StagingRepo
from engage_desktop.sync.events import SyncProgress, SyncResult, parse_event


def env_for(folder: Path) -> dict[str, str]:
    return {
        **os.environ,
        "MAILJET_API_KEY": mj.DEMO_API_KEY,
        "MAILJET_API_SECRET": mj.DEMO_API_SECRET,
        "XDG_STATE_HOME": str(folder / "st"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }


def cli(folder: Path, *args: str) -> tuple[dict[str, object] | None, float, str]:
    env = env_for(folder)
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
    return (json.loads(last) if last.startswith("{") else None), wall, proc.stderr


def events_sync(folder: Path, *args: str) -> tuple[SyncResult, float, dict[str, float]]:
    """A sync with its event stream: the result, the wall time and when each phase began."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "engage_desktop", "--data-dir", str(folder), "sync", "--events",
         *args],
        env=env_for(folder), stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
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
    return result, time.perf_counter() - started, phases


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def peak_child_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def mailjet(args: argparse.Namespace) -> None:
    emu = EmulatorProcess(
        "--service", "mailjet", "--contacts", str(args.rows), "--latency-ms", "300"
    )
    try:
        with tempfile.TemporaryDirectory() as d:
            folder = Path(d)
            cli(
                folder, "connect", "mailjet", "--base-url", emu.url, "--phone-property",
                "phone", "--lists", "all", "--consent-property", "sms_opt_in",
                "--map", "City=city", "--map", "Points=loyalty_points:number",
            )  # fmt: skip
            cpu0 = children_cpu_s()
            result, wall, phases = events_sync(folder, "--source", "mailjet")
            print(
                f"mailjet sync, {args.rows} contacts, 300 ms latency, emulator limit 30 req/s: "
                f"wall_s={wall:.1f} engine_s={result.duration_s:.2f} "
                f"created={result.counts.get('created')} fetched={result.counts.get('fetched')} "
                f"requests={result.counts.get('requests')} "
                f"throttled={result.counts.get('throttled')} issues={result.issues}"
            )
            print("phases_started_at_s: " + " ".join(f"{k}={v:.2f}" for k, v in phases.items()))
            print(
                f"cpu_s: sync_process={children_cpu_s() - cpu0:.1f} "
                f"emulator={emu.cpu_seconds():.1f}; "
                f"peak_rss_mb(sync process)={peak_child_rss_mb():.0f}"
            )
    finally:
        emu.stop()


def write_csv(path: Path, rows: int) -> None:
    """People as a spreadsheet holds them: numbers written four ways, 1 % opted out."""
    rnd = random.Random(7)
    first = ["Ann", "Bob", "Chloé", "Dmitri", "Eve", "Fatima", "George", "Hana", "Ivan", "José"]
    last = ["Lee", "Smith", "García", "Müller", "Dubois", "Rossi", "Nowak", "Brown", "Khan"]
    cities = ["Paris", "Berlin", "Austin", "Leeds", "Lyon", "Porto"]
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("Phone,Email,First name,Last name,Opted out,City,Points\r\n")
        for i in range(rows):
            d = f"{2000000 + i % 8000000:07d}"
            area = ("415", "212", "646", "305", "312", "617")[i // 8000000 + (i % 3)]
            phone = (
                f"+1{area}{d}",
                f"+1 {area} {d[:3]} {d[3:]}",
                f"({area}) {d[:3]}-{d[3:]}",
                f"{area}.{d[:3]}.{d[3:]}",
            )[i % 4]
            out = "yes" if rnd.random() < 0.01 else ""
            f.write(
                f"{phone},{rnd.choice(first).lower()}.{i}@example.com,{rnd.choice(first)},"
                f"{rnd.choice(last)},{out},{rnd.choice(cities)},{rnd.randint(0, 5000)}\r\n"
            )


def csv_import(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        path = folder / "contacts.csv"
        write_csv(path, args.rows)
        size = path.stat().st_size / 1e6
        dry, dry_wall, _ = cli(
            folder, "import", str(path), "--group", "Fair", "--dry-run", "--json"
        )
        assert dry is not None
        print(f"csv dry run, {args.rows} rows ({size:.0f} MB): wall_s={dry_wall:.1f}")
        result, wall, _ = cli(folder, "import", str(path), "--group", "Fair", "--json")
        assert result is not None
        print(
            f"csv import, {args.rows} rows: wall_s={wall:.1f} (process start-up included) "
            f"new={result['new']} invalid={result['invalid']} opted_out={result['opted_out']} "
            f"peak_rss_mb(import process)={peak_child_rss_mb():.0f}"
        )
        again, again_wall, _ = cli(folder, "import", str(path), "--group", "Fair", "--json")
        assert again is not None
        print(
            f"csv re-import (changes nothing): wall_s={again_wall:.1f} "
            f"unchanged={again['unchanged']}"
        )


def merge(args: argparse.Namespace) -> None:
    """100k Klaviyo contacts committed; then 100k Mailjet contacts, half of them the same
    numbers written nationally with other names and emails: the second commit timed."""
    n = args.rows
    rnd = random.Random(3)
    with tempfile.TemporaryDirectory() as d:
        db = open_database(Path(d))
        runs = RunRepo(db)

        def commit(source: str, rows: list[StagedRecord], lists: list[SyncedList]) -> float:
            staging = StagingRepo(db, source)
            for k in range(0, len(rows), 5000):
                part = rows[k : k + 5000]
                staging.add(part, [(lists[0].external_id, r.external_id) for r in part])
            run = runs.start("bench", True, time.time())
            started, cpu = time.perf_counter(), time.process_time()
            plan = SourceCommit(source, True, lists, removals=True)
            out = commit_staged(db, run, [plan], {}, time.time())[source]
            took, cpu = time.perf_counter() - started, time.process_time() - cpu
            print(
                f"  {source}: created={out.created} updated={out.updated} in {took:.2f}s"
                f" (cpu {cpu:.2f}s)"
            )
            return took

        klaviyo = [
            StagedRecord(
                f"P{i:08d}", f"+1415{2000000 + i:07d}", f"+1415{2000000 + i:07d}",
                f"k{i}@example.com", f"First{i}", f"Last{i}",
                {"Points": float(rnd.randint(0, 999))},
                "SUBSCRIBED", 1.7e9, 1.7e9,
            )
            for i in range(n)
        ]  # fmt: skip
        print(f"merge: {n} Klaviyo contacts, then {n} Mailjet contacts sharing half the numbers")
        commit(KLAVIYO, klaviyo, [SyncedList("L1", "All", n)])
        mailjet_rows = []
        for i in range(n):
            j = i * 2  # every other Klaviyo number, then new ones
            number = 2000000 + j if j < n else 2000000 + n + i
            digits = str(number)
            mailjet_rows.append(
                StagedRecord(
                    str(140_000_000 + i), f"+1415{number:07d}", f"(415) {digits[:3]}-{digits[3:]}",
                    f"m{i}@example.net", f"Prénom{i}", f"Last{j}" if j < n else f"Nom{i}",
                    {"City": rnd.choice(["Paris", "Lyon"])},
                    "UNSUBSCRIBED" if rnd.random() < 0.05 else None, None, 1.7e9,
                )
            )  # fmt: skip
        took = commit(MAILJET, mailjet_rows, [SyncedList("40001", "Newsletter", n)])
        report = dict(
            db.execute_sql("SELECT kind, count(*) FROM merge_reports GROUP BY kind").fetchall()
        )
        queued = db.execute_sql("SELECT count(*) FROM optout_outbox").fetchone()[0]
        print(
            f"(merge) commit of {n} Mailjet contacts into {n} Klaviyo ones: {took:.2f}s "
            f"(merge report {report}; {queued} opt-outs queued for Klaviyo)"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("which", choices=["mailjet", "csv", "merge"])
    ap.add_argument("--rows", type=int, help="contacts or rows (default: the goal's size)")
    args = ap.parse_args()
    if args.rows is None:
        args.rows = 1_000_000 if args.which == "csv" else 100_000
    {"mailjet": mailjet, "csv": csv_import, "merge": merge}[args.which](args)


if __name__ == "__main__":
    main()
