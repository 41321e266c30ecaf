"""A sync run in a child process (`sync/worker.py`), read line by line.

The app's sync thread drives the run this way rather than in-process: a sync is CPU work in
Python, and sharing the interpreter lock with the GUI thread stalled the window for hundreds of
milliseconds while a table repainted (docs/PERFORMANCE.md). The child reports the same
immutable events the engine publishes; the key travels in its environment, never on its
command line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from engage_desktop.core.secrets import ApiKey, redact
from engage_desktop.sync.events import Event, SyncProgress, parse_event
from engage_desktop.sync.worker import KEY_ENV

log = logging.getLogger(__name__)

CANCEL_GRACE_S = 20.0  # a cancelled child records "cancelled" and exits; then it is killed


@dataclass(frozen=True)
class ChildOutcome:
    """How the child ended: its exit code, its last event other than progress, and the end
    of what it wrote to stderr (for a crash)."""

    returncode: int
    last: Event | None
    stderr_tail: str


async def run_child(
    command: list[str],
    key: ApiKey | None,
    on_event: Callable[[Event], None],
    extra_env: dict[str, str] | None = None,
) -> ChildOutcome:
    """Run the child to its end, passing each event on; cancelling stops it cleanly.
    `extra_env`: more secrets for the child (the Mailjet key pair, which an in-memory or
    locked keyring could not give it)."""
    env = dict(os.environ)
    if key is not None:
        env[KEY_ENV] = key.reveal()
    env.update(extra_env or {})
    proc = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    tail: deque[str] = deque(maxlen=20)
    errors = asyncio.ensure_future(_collect(proc.stderr, tail))
    last: Event | None = None
    try:
        async for raw in proc.stdout:
            event = parse_event(raw.decode("utf-8", "replace"))
            if event is None:
                continue
            if not isinstance(event, SyncProgress):
                last = event
            on_event(event)
        returncode = await proc.wait()
    except asyncio.CancelledError:
        await _stop(proc)
        errors.cancel()
        raise
    await errors
    return ChildOutcome(returncode, last, redact("".join(tail)).strip())


async def _collect(stream: asyncio.StreamReader, tail: deque[str]) -> None:
    async for raw in stream:
        tail.append(raw.decode("utf-8", "replace"))


async def _stop(proc: asyncio.subprocess.Process) -> None:
    """Ask the child to cancel (it records the run as cancelled), then insist."""
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        if sys.platform == "win32":
            proc.terminate()
        else:
            proc.send_signal(signal.SIGINT)
    try:
        await asyncio.wait_for(proc.wait(), CANCEL_GRACE_S)
    except TimeoutError:
        log.warning("the sync process did not stop after %.0f s: killed", CANCEL_GRACE_S)
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
