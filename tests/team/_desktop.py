"""One "desktop" for the process tests: a process that calls itself HOST (socket.gethostname)
and, on the team database named by ENGAGE_DESKTOP_DATABASE, does one thing:

    python -m tests.team._desktop HOST lock HOLD_S      take the run lock, hold it, release
    python -m tests.team._desktop HOST push BASE_URL    push the due opt-outs to Klaviyo
    python -m tests.team._desktop HOST worker ARGS…     the sync worker (sync/worker.py)
"""

from __future__ import annotations

import asyncio
import socket
import sys
import tempfile
import time


def main(argv: list[str]) -> int:
    host, action, *rest = argv
    socket.gethostname = lambda: host  # type: ignore[assignment]
    from engage_desktop.storage.database import open_database

    if action == "worker":
        from engage_desktop.sync import worker

        return worker.main(rest)
    db = open_database(tempfile.gettempdir())
    if action == "lock":
        from engage_desktop.storage.lease import LeaseRepo
        from engage_desktop.sync.lock import SyncLock, SyncLockHeld

        lock = SyncLock(LeaseRepo(db), f"desktop on {host}")
        try:
            lock.acquire()
        except SyncLockHeld as exc:
            print(f"refused: {exc}", flush=True)
            return 3
        print("took", flush=True)
        time.sleep(float(rest[0]))
        lock.release()
        print("released", flush=True)
        return 0
    if action == "push":
        from engage_desktop.core.secrets import ApiKey
        from engage_desktop.emulator import DEMO_API_KEY
        from engage_desktop.klaviyo.client import KlaviyoClient
        from engage_desktop.storage.outbox import OutboxRepo
        from engage_desktop.sync.pusher import OptOutPusher

        async def push() -> None:
            async with KlaviyoClient(ApiKey(DEMO_API_KEY), rest[0]) as client:
                result = await OptOutPusher(OutboxRepo(db), client).push_due()
                print(f"sent {result.sent}", flush=True)

        asyncio.run(push())
        return 0
    raise SystemExit(f"unknown action {action}")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
