"""The app's side of a send in its own process (`actions/send_worker.py`): start it, pass its
events on, and make a crash end like any other send.

Driven from the gateway worker's asyncio loop, as `sync/child.py` drives the sync: that thread
only waits for lines, so the GUI thread keeps the interpreter lock to itself. `stop()` asks
for a pause (a `stop` line on stdin); the child finishes the batches on the wire, records
them and exits; one that does not within `STOP_GRACE_S` is killed (its batches on the wire
become unknown: never resent without a decision).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import deque
from collections.abc import Callable
from pathlib import Path

from engage_desktop.actions.gateway import KEY_ENV, SECRET_ENV
from engage_desktop.actions.send_worker import STOP_LINE, command
from engage_desktop.actions.sending import SendingActions
from engage_desktop.core.messaging import GatewayCredentials
from engage_desktop.core.secrets import redact
from engage_desktop.gateway.events import (
    GatewayEvent,
    SendFinished,
    SendProgress,
    SendRefused,
    parse_event,
)

log = logging.getLogger(__name__)

STOP_GRACE_S = 30.0  # a request's deadline and then some: a paused child records and exits


class SendChild:
    """One campaign's send in a child process; `run()` once, `stop()` from the same loop."""

    def __init__(
        self,
        sending: SendingActions,
        data_dir: Path | str,
        campaign_id: int,
        credentials: GatewayCredentials | None,
    ) -> None:
        self.sending = sending
        self.campaign_id = campaign_id
        self._command = command(data_dir, campaign_id)
        self._credentials = credentials
        self._proc: asyncio.subprocess.Process | None = None
        self._stop_asked = False
        self._killer: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def stop(self) -> None:
        """Pause: the child claims nothing more, records what is on the wire, and exits."""
        self._stop_asked = True
        proc = self._proc
        if proc is None or proc.returncode is not None or proc.stdin is None:
            return
        with contextlib.suppress(OSError, RuntimeError):
            proc.stdin.write(f"{STOP_LINE}\n".encode())
        if self._killer is None:
            self._killer = asyncio.ensure_future(self._kill_after(proc, STOP_GRACE_S))

    async def run(self, on_event: Callable[[GatewayEvent], None]) -> SendFinished | SendRefused:
        """Run the child to its end, passing each event on; the result is its last event, or
        (a crash) what the campaign was left as."""
        env = dict(os.environ)
        if self._credentials is not None:
            env[KEY_ENV] = self._credentials.key
            env[SECRET_ENV] = self._credentials.reveal_secret()
        self._proc = proc = await asyncio.create_subprocess_exec(
            *self._command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        if self._stop_asked:  # paused before it started
            self.stop()
        assert proc.stdout is not None and proc.stderr is not None
        tail: deque[str] = deque(maxlen=20)
        errors = asyncio.ensure_future(_collect(proc.stderr, tail))
        last: SendFinished | SendRefused | None = None
        progress: SendProgress | None = None
        try:
            async for raw in proc.stdout:
                event = parse_event(raw.decode("utf-8", "replace"))
                if event is None:
                    continue
                if isinstance(event, SendProgress):
                    progress = event
                elif isinstance(event, SendFinished | SendRefused):
                    last = event
                on_event(event)
            code = await proc.wait()
            await errors
        except asyncio.CancelledError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            errors.cancel()
            raise
        finally:
            if self._killer is not None:
                self._killer.cancel()
        if last is not None:
            return last
        crashed = await self._crashed(code, redact("".join(tail)).strip(), progress)
        on_event(crashed)
        return crashed

    async def _crashed(
        self, code: int, stderr_tail: str, progress: SendProgress | None
    ) -> SendFinished:
        why = stderr_tail.splitlines()[-1] if stderr_tail else "no message"
        log.error(
            "the send process of campaign %d ended (exit %d): %s",
            self.campaign_id,
            code,
            stderr_tail,
        )
        error = f"the sending process stopped unexpectedly (exit {code}): {why}"
        assert self._proc is not None
        campaign, recovered = await asyncio.to_thread(
            self.sending.after_crash, self.campaign_id, self._proc.pid, error
        )
        p = progress
        return SendFinished(
            self.campaign_id,
            campaign.status.value,
            p.recipients if p else campaign.counts.pending,
            p.submitted if p else 0,
            {},  # the snapshots count them, not by reason; the campaign's counts have them
            p.failed if p else 0,
            p.unknown if p else 0,
            recovered,
            p.requests if p else 0,
            p.elapsed_s if p else 0.0,
            error,
        )

    async def _kill_after(self, proc: asyncio.subprocess.Process, grace_s: float) -> None:
        try:
            await asyncio.wait_for(proc.wait(), grace_s)
        except TimeoutError:
            log.warning(
                "the send process of campaign %d did not pause after %.0f s: killed",
                self.campaign_id,
                grace_s,
            )
            with contextlib.suppress(ProcessLookupError):
                proc.kill()


async def _collect(stream: asyncio.StreamReader, tail: deque[str]) -> None:
    async for raw in stream:
        tail.append(raw.decode("utf-8", "replace"))
