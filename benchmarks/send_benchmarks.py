"""SMS gateway benchmarks: the emulators in their own processes, the sender in another.

    python benchmarks/send_benchmarks.py send         # 100,000 recipients, 300 ms latency
    python benchmarks/send_benchmarks.py stop         # STOP reply -> Klaviyo job accepted
    python benchmarks/send_benchmarks.py eligibility  # who a 1,000,000-contact list reaches

Each prints its figures. Goals: `send` ≤ 20 s with the sender's peak RSS ≤ 200 MB; `stop`
≤ 10 s at p99; `eligibility` ≤ 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from engage_desktop.core.consent import ConsentMode
from engage_desktop.core.messaging import GatewayCredentials
from engage_desktop.core.personalisation import parse_template
from engage_desktop.core.secrets import ApiKey
from engage_desktop.emulator import DEMO_API_KEY
from engage_desktop.emulator.messagemedia import DEMO_API_KEY as MM_KEY
from engage_desktop.emulator.messagemedia import DEMO_API_SECRET as MM_SECRET
from engage_desktop.gateway import DbThread, InboundPoller, PollLoop, PollRound
from engage_desktop.klaviyo.client import KlaviyoClient
from engage_desktop.messagemedia import MessageMediaClient
from engage_desktop.storage.audience import AudienceRepo, ListRef
from engage_desktop.storage.connection import Connection, ConnectionRepo
from engage_desktop.storage.database import Database, open_database
from engage_desktop.storage.gateway_settings import GatewayRepo, GatewaySettings
from engage_desktop.storage.outbox import OutboxRepo
from engage_desktop.sync.pusher import OptOutPusher
from engage_desktop.sync.scheduler import OptOutLoop

MM_ENV = {"MESSAGEMEDIA_API_KEY": MM_KEY, "MESSAGEMEDIA_API_SECRET": MM_SECRET}


class Emulator:
    """`engage-desktop emulator --service …` in its own process (its own core)."""

    def __init__(self, service: str, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "engage_desktop", "emulator", "--service", service,
             "--port", "0", *args],
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if " emulator listening on " not in line:
            self.proc.kill()
            raise RuntimeError(f"emulator did not start: {line!r}")
        self.url = line.rsplit(" ", 1)[1]

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def contacts(db: Database, n: int, mix: bool, list_name: str = "Customers") -> ListRef:
    """`n` contacts on one list (raw executemany: seconds, not minutes). With `mix`: 70 %
    subscribed, 10 % opted out (with their suppressions), 10 % never subscribed, 10 % without
    a number; else all subscribed."""
    rnd = random.Random(1)
    cur = db.cursor()
    with db.atomic():
        cur.execute(
            "INSERT INTO contact_lists (source, external_id, name) VALUES ('KLAVIYO', 'L1', ?)",
            (f"Klaviyo: {list_name}",),
        )
        list_id = int(cur.lastrowid)
        rows, suppressed = [], []
        for i in range(n):
            roll = rnd.random() if mix else 0.0
            phone = None if roll >= 0.9 else f"+1415{2000000 + i:07d}"
            status = (
                "opted_out"
                if 0.7 <= roll < 0.8
                else "never_subscribed"
                if 0.8 <= roll < 0.9
                else "subscribed"
            )
            if status == "opted_out" and phone:
                suppressed.append((phone, 1.7e9, "STOP", "KLAVIYO"))
            rows.append((i + 1, phone, f"First{i}", f"Last{i}", f"u{i}@example.com", status))
        cur.executemany(
            "INSERT INTO contacts (id, phone, first_name, last_name, email, sms_status,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1.7e9, 1.7e9)",
            rows,
        )
        cur.executemany(
            "INSERT INTO list_members (list_id, contact_id) VALUES (?, ?)",
            [(list_id, i + 1) for i in range(n)],
        )
        cur.executemany(
            "INSERT INTO suppressions (phone, opted_out_at, reason, origin) VALUES (?, ?, ?, ?)",
            suppressed,
        )
    return ListRef(list_id, f"Klaviyo: {list_name}")


# ----- (1) 100,000 recipients ------------------------------------------------------------------
def send(args: argparse.Namespace) -> None:
    emu = Emulator("messagemedia", "--latency-ms", "300")
    try:
        with tempfile.TemporaryDirectory() as d:
            folder = Path(d)
            db = open_database(folder)
            contacts(db, args.recipients, mix=False)
            GatewayRepo(db).save(GatewaySettings(emu.url, connected_at=time.time()))
            db.close()
            env = {**os.environ, **MM_ENV, "XDG_STATE_HOME": str(folder / "st")}
            cpu0 = emu.cpu_seconds()
            started = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "engage_desktop", "--data-dir", str(folder), "send",
                 "--list", "Customers", "--text", "Hi {first_name|there}, 20% off today",
                 "--yes", "--json"],
                env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            wall = time.perf_counter() - started
            if proc.returncode != 0:
                raise SystemExit(f"send failed ({proc.returncode}): {proc.stderr[-2000:]}")
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            counters = httpx.get(f"{emu.url}/_emulator/counters", timeout=60).json()
            print(
                f"(1) {args.recipients:,} recipients, 300 ms latency: send_s="
                f"{result['duration_s']} (goal <= 20) submitted={result['submitted']:,} "
                f"requests={result['requests']} unknown={result['unknown']} "
                f"failed={result['failed']}"
            )
            print(
                f"    emulator accepted={sum(counters['messages'].values()):,}; command wall_s="
                f"{wall:.1f} (start-up + prepare + send); sender peak_rss_mb="
                f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} "
                f"(goal <= 200); emulator cpu_s={emu.cpu_seconds() - cpu0:.1f}"
            )
    finally:
        emu.stop()


# ----- (2) STOP -> Klaviyo ---------------------------------------------------------------------
def stop(args: argparse.Namespace) -> None:
    mm = Emulator("messagemedia", "--latency-ms", "300")
    klaviyo = Emulator("klaviyo", "--profiles", "100", "--latency-ms", "300")
    try:
        with tempfile.TemporaryDirectory() as d:
            asyncio.run(_stop(Path(d), mm, klaviyo, args.stops))
    finally:
        mm.stop()
        klaviyo.stop()


async def _stop(folder: Path, mm: Emulator, klaviyo: Emulator, n: int) -> None:
    db = open_database(folder)
    contacts(db, 1000, mix=False)
    ConnectionRepo(db).save(Connection("acct", "Shop", klaviyo.url, ConsentMode.INFERRED, None))
    accepted: dict[str, float] = {}
    klaviyo_client = KlaviyoClient(ApiKey(DEMO_API_KEY), klaviyo.url)
    real = klaviyo_client.bulk_unsubscribe_sms

    async def recording(phones: list[str]) -> None:
        await real(phones)
        for phone in phones:
            accepted.setdefault(phone, time.perf_counter())

    klaviyo_client.bulk_unsubscribe_sms = recording  # type: ignore[method-assign]
    pusher = OptOutPusher(OutboxRepo(db), klaviyo_client)
    db_thread = DbThread(db)
    mm_client = MessageMediaClient(GatewayCredentials(MM_KEY, MM_SECRET), mm.url)
    poller = InboundPoller(db_thread, mm_client, last_reconcile_at=time.time())
    rounds: list[PollRound] = []
    loops = [
        asyncio.create_task(
            PollLoop(
                poller.round, listener=rounds.append, after_opt_outs=pusher.push_due
            ).run_forever()
        ),
        asyncio.create_task(OptOutLoop(pusher.push_due).run_forever()),  # the app's own loop
    ]
    said: dict[str, float] = {}
    async with httpx.AsyncClient(base_url=mm.url) as admin:
        for i in range(n):
            phone = f"+1415{2000000 + i:07d}"
            said[phone] = time.perf_counter()
            r = await admin.post(
                "/_emulator/replies", json={"source_number": phone, "content": "STOP"}
            )
            r.raise_for_status()
            await asyncio.sleep(random.uniform(0.5, 2.0))
        deadline = time.perf_counter() + 60
        while len(accepted) < n and time.perf_counter() < deadline:
            await asyncio.sleep(0.1)
    for task in loops:
        task.cancel()
    await asyncio.gather(*loops, return_exceptions=True)
    await mm_client.aclose()
    await klaviyo_client.aclose()
    await db_thread.aclose()
    delays = sorted(accepted[p] - said[p] for p in said if p in accepted)
    p99 = delays[min(len(delays) - 1, round(0.99 * (len(delays) - 1)))]
    print(
        f"(2) STOP reply at the emulator -> Klaviyo unsubscribe job accepted, 300 ms latency "
        f"both ways, poll every 5 s: n={len(delays)}/{n} p50_s={statistics.median(delays):.2f} "
        f"p99_s={p99:.2f} (goal <= 10) max_s={delays[-1]:.2f}; polling rounds={len(rounds)}"
    )
    db.close()


# ----- (3) eligibility of a million ------------------------------------------------------------
def eligibility(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as d:
        db = open_database(Path(d))
        made = time.perf_counter()
        lst = contacts(db, args.contacts, mix=True)
        db.execute_sql("ANALYZE")
        print(f"(3) {args.contacts:,} contacts written in {time.perf_counter() - made:.1f}s")
        audience = AudienceRepo(db)
        for label, text in (
            ("plain text", "Sale today"),
            ("{first_name|there}", "Hi {first_name|there}"),
            ("{last_name} required", "Dear {last_name}"),
        ):
            template = parse_template(text)
            times = []
            for _ in range(3):
                started = time.perf_counter()
                counts = audience.counts(lst, template)
                times.append(time.perf_counter() - started)
            print(
                f"    eligibility, {label}: best_s={min(times):.3f} median_s="
                f"{statistics.median(times):.3f} (goal <= 1) eligible={counts.get(None, 0):,} "
                f"skipped={ {k: v for k, v in counts.items() if k} }"
            )
        db.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("which", choices=["send", "stop", "eligibility"], help="which benchmark")
    ap.add_argument("--recipients", type=int, default=100_000, help="send: recipients")
    ap.add_argument("--stops", type=int, default=40, help="stop: STOP replies to time")
    ap.add_argument("--contacts", type=int, default=1_000_000, help="eligibility: list size")
    args = ap.parse_args()
    {"send": send, "stop": stop, "eligibility": eligibility}[args.which](args)


if __name__ == "__main__":
    main()
