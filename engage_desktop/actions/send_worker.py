"""One campaign sent to its end, reported as events: the app's send process.

The app sends in a child process (`python -m engage_desktop.actions.send_worker`, or the
frozen app with `--send-worker` first): a send of 100,000 recipients parses a thousand answers
and allocates as much, and on a thread of the app it shared the interpreter lock (and the
garbage collector) with the GUI thread, which then stalled for up to ~100 ms
(docs/PERFORMANCE.md). The sync and the CSV import went to a child process for the same
reason (`sync/worker.py`).

The child writes one JSON event per line on stdout (`gateway/events.py`). A line `stop` on
stdin, the end of stdin (the app is gone) or SIGTERM pauses the send: nothing more is
claimed, the batches on the wire finish and are recorded, and resume continues. Cancelling
goes through the database, as from any process. The key and secret come in the environment
(`MESSAGEMEDIA_API_KEY`, `MESSAGEMEDIA_API_SECRET`), never on the command line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from engage_desktop.actions.gateway import GatewayActions
from engage_desktop.actions.outcomes import ActionError, Exit
from engage_desktop.actions.sending import SendingActions
from engage_desktop.gateway.events import GatewayEvent, SendFinished, SendRefused, event_line
from engage_desktop.gateway.sender import CONCURRENCY, CampaignSender
from engage_desktop.storage.database import open_database

WORKER_FLAG = "--send-worker"  # the frozen app's first argument when it is the send process
STOP_LINE = "stop"  # on stdin: pause the send
# Below the app's priority: the send is latency-bound (it waits for answers; its time did not
# change), while the GUI thread missed frames when this process, the app and others shared 2
# cores at the same priority (docs/PERFORMANCE.md).
NICENESS = 10
# Batches on the wire at once (default: the sender's own); tests make it small to pause mid-way.
CONCURRENCY_ENV = "ENGAGE_DESKTOP_SEND_CONCURRENCY"


def command(data_dir: Path | str, campaign_id: int) -> list[str]:
    """How to start this module as a process (the frozen app is its own interpreter)."""
    if getattr(sys, "frozen", False):
        program = [sys.executable, WORKER_FLAG]
    else:
        program = [sys.executable, "-m", "engage_desktop.actions.send_worker"]
    return [*program, "--data-dir", str(data_dir), "--campaign", str(campaign_id)]


class _Pause:
    """The sender once it exists, and whether a pause was asked before it did."""

    def __init__(self) -> None:
        self.asked = False
        self.sender: CampaignSender | None = None

    def keep(self, sender: CampaignSender) -> None:
        self.sender = sender
        if self.asked:
            sender.stop()

    def __call__(self) -> None:
        self.asked = True
        if self.sender is not None:
            self.sender.stop()


def _listen_stdin(loop: asyncio.AbstractEventLoop, pause: Callable[[], None]) -> None:
    """A `stop` line or the end of stdin pauses. Raw reads: a daemon thread blocked in the
    buffered `sys.stdin` would hold its lock at interpreter shutdown."""
    pending = b""
    while True:
        try:
            chunk = os.read(0, 256)
        except OSError:
            chunk = b""
        pending += chunk
        if not chunk or STOP_LINE.encode() in pending:
            with contextlib.suppress(RuntimeError):  # the loop already closed: nothing to stop
                loop.call_soon_threadsafe(pause)
            return


async def send(
    sending: SendingActions,
    campaign_id: int,
    on_event: Callable[[GatewayEvent], None],
    concurrency: int = CONCURRENCY,
) -> SendFinished | SendRefused:
    """The send, paused by stdin or SIGTERM; refusals come back as events, not errors."""
    loop = asyncio.get_running_loop()
    pause = _Pause()
    threading.Thread(target=_listen_stdin, args=(loop, pause), daemon=True).start()
    if sys.platform != "win32":
        loop.add_signal_handler(signal.SIGTERM, pause)
    try:
        return await sending.send(
            campaign_id,
            on_event,
            concurrency=concurrency,
            on_sender=pause.keep,
            who="Engage Desktop",
        )
    except ActionError as exc:
        kind = "nothing" if exc.exit is Exit.NOTHING else "config"
        refused = SendRefused(campaign_id, exc.message, kind)
        on_event(refused)
        return refused


def main(argv: Sequence[str] | None = None) -> int:
    """The send process: events on stdout, its log on stderr. Exit 0 when it finished."""
    p = argparse.ArgumentParser(prog="engage-desktop send worker")
    p.add_argument("--data-dir", required=True)
    p.add_argument("--campaign", type=int, required=True)
    args = p.parse_args(argv)
    if hasattr(os, "nice"):  # POSIX: the window comes first when the cores are busy
        with contextlib.suppress(OSError):
            os.nice(NICENESS)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    def emit(event: GatewayEvent) -> None:
        sys.stdout.write(event_line(event) + "\n")
        sys.stdout.flush()

    db = open_database(args.data_dir)
    try:
        sending = SendingActions(db, GatewayActions(db))
        concurrency = int(os.environ.get(CONCURRENCY_ENV) or CONCURRENCY)
        outcome = asyncio.run(send(sending, args.campaign, emit, concurrency))
    except KeyboardInterrupt:
        return 1
    finally:
        db.close()
    return 0 if isinstance(outcome, SendFinished) and outcome.status == "finished" else 1


if __name__ == "__main__":
    raise SystemExit(main())
