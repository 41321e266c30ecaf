"""The SMS gateway in the background: the replies poll on its own asyncio loop in a worker
thread, and each send in a child process that this loop starts and reads.

A send of 100,000 recipients parses a thousand answers and keeps dozens of requests in
flight; on a thread of this process it shared the interpreter lock and the garbage collector
with the GUI thread, which stalled for up to ~100 ms (docs/PERFORMANCE.md). So it runs in
`actions/send_worker.py`'s process, as the sync runs in `sync/worker.py`'s; this loop only
reads its JSON lines. The poll loop stays here: a round every few seconds is light.

The GUI only hands in requests (`send`, `pause`, `poll_now`) and hears back through one
listener (the `EngineBridge`), which gets the immutable events on this thread and queues them
to the GUI thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from engage_desktop.actions import ActionError, Actions
from engage_desktop.actions.send_child import SendChild
from engage_desktop.gateway import PollLoop, SendRefused

log = logging.getLogger(__name__)
Listener = Callable[[object], None]


class GatewayWorker:
    """Owns the gateway thread, its loop, the poll loop and the send processes running now."""

    def __init__(
        self,
        actions: Actions,
        data_dir: Path,
        listener: Listener,
        push_opt_outs: Callable[[], concurrent.futures.Future[Any]] | None = None,
        poll_every_s: float = 5.0,
    ) -> None:
        self.actions = actions
        self.data_dir = data_dir
        self._listener = listener
        self._push = push_opt_outs
        self._loop = asyncio.DefaultEventLoopPolicy().new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="gateway", daemon=True)
        self._started = threading.Event()
        self.children: dict[int, SendChild] = {}
        self._poll_task: asyncio.Task[None] | None = None
        self.poller = PollLoop(
            self.actions.replies.poll_round,
            listener=self._listener,
            after_opt_outs=self._after_opt_outs if push_opt_outs else None,
            interval_s=poll_every_s,
        )

    # ----- life -------------------------------------------------------------------------------
    def start(self, poll: bool = True) -> GatewayWorker:
        self._thread.start()
        self._started.wait()
        if poll:
            self.submit(self._start_polling())
        return self

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(self._started.set)
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    async def _start_polling(self) -> None:
        self._poll_task = asyncio.create_task(self.poller.run_forever())

    def stop(self, timeout_s: float = 15.0) -> None:
        """Pause the sends (their processes record the batches on the wire and exit; resume
        continues), stop polling, close the client, end the thread."""
        if not self._thread.is_alive():
            return
        try:
            self.submit(self._wind_down()).result(timeout_s)
        except Exception:  # quitting goes on whatever happened
            log.exception("stopping the gateway worker")
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout_s)

    async def _wind_down(self) -> None:
        for child in self.children.values():
            child.stop()
        if self._poll_task is not None:
            self._poll_task.cancel()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        if others:
            await asyncio.wait(others, timeout=10)
        await self.actions.replies.aclose()

    def submit(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        """Run a coroutine on the gateway loop (from any thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    # ----- requests (any thread) -------------------------------------------------------------
    def send(self, campaign_id: int) -> concurrent.futures.Future[Any]:
        """Send (or resume) a prepared campaign; how it ends comes as an event."""
        return self.submit(self._send(campaign_id))

    def pause(self, campaign_id: int) -> None:
        def stop() -> None:
            child = self.children.get(campaign_id)
            if child is not None:
                child.stop()

        self._loop.call_soon_threadsafe(stop)

    def sending(self) -> set[int]:
        return set(self.children)

    def poll_now(self) -> None:
        self._loop.call_soon_threadsafe(self.poller.wake)

    # ----- on the gateway loop ---------------------------------------------------------------
    async def _send(self, campaign_id: int) -> object:
        if campaign_id in self.children:  # as a second sender would be told
            busy = SendRefused(campaign_id, f"Campaign {campaign_id} is being sent.", "busy")
            self._listener(busy)
            return busy
        child: SendChild | None = None
        try:
            # The key and secret go to the child in its environment: what was typed this
            # session, or the keyring's (a blocking call: off this loop).
            found = await asyncio.to_thread(self.actions.gateway.credentials.current)
            child = SendChild(
                self.actions.sending,
                self.data_dir,
                campaign_id,
                None if found is None else found[0],
            )
            self.children[campaign_id] = child
            return await child.run(self._listener)
        except ActionError as exc:
            refused = SendRefused(campaign_id, exc.message, "config")
            self._listener(refused)
            return refused
        finally:
            if child is not None and self.children.get(campaign_id) is child:
                del self.children[campaign_id]
            self.poller.wake()  # delivery reports start coming: hear them soon

    async def _after_opt_outs(self) -> None:
        assert self._push is not None
        await asyncio.wrap_future(self._push())
