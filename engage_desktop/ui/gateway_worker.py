"""The SMS gateway in the background: sends and the replies poll on their own asyncio loop in
a worker thread, never the GUI's.

A send of 100,000 recipients parses a thousand answers and keeps dozens of requests in
flight; on the GUI loop that would be felt. Here the GUI only hands in requests (`send`,
`pause`, `poll_now`) and hears back through one listener (the `EngineBridge`), which gets
the engine's immutable events on this thread and queues them to the GUI thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from engage_desktop.actions import ActionError, Actions
from engage_desktop.gateway import CampaignSender, PollLoop, SendRefused
from engage_desktop.gateway.events import GatewayEvent

log = logging.getLogger(__name__)
Listener = Callable[[object], None]


class GatewayWorker:
    """Owns the gateway thread, its loop, the poll loop and the senders running now."""

    def __init__(
        self,
        actions: Actions,
        listener: Listener,
        push_opt_outs: Callable[[], concurrent.futures.Future[Any]] | None = None,
        poll_every_s: float = 5.0,
    ) -> None:
        self.actions = actions
        self._listener = listener
        self._push = push_opt_outs
        self._loop = asyncio.DefaultEventLoopPolicy().new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="gateway", daemon=True)
        self._started = threading.Event()
        self._senders: dict[int, CampaignSender] = {}
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
        """Pause the sends (the batches on the wire are recorded; resume continues), stop
        polling, close the client, end the thread."""
        if not self._thread.is_alive():
            return
        try:
            self.submit(self._wind_down()).result(timeout_s)
        except Exception:  # quitting goes on whatever happened
            log.exception("stopping the gateway worker")
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout_s)

    async def _wind_down(self) -> None:
        for sender in self._senders.values():
            sender.stop()
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
            sender = self._senders.get(campaign_id)
            if sender is not None:
                sender.stop()

        self._loop.call_soon_threadsafe(stop)

    def sending(self) -> set[int]:
        return set(self._senders)

    def poll_now(self) -> None:
        self._loop.call_soon_threadsafe(self.poller.wake)

    # ----- on the gateway loop ---------------------------------------------------------------
    async def _send(self, campaign_id: int) -> object:
        def publish(event: GatewayEvent) -> None:
            self._listener(event)

        def keep(sender: CampaignSender) -> None:
            self._senders[campaign_id] = sender

        try:
            return await self.actions.sending.send(
                campaign_id, publish, on_sender=keep, who="Engage Desktop"
            )
        except ActionError as exc:
            refused = SendRefused(campaign_id, exc.message, "config")
            self._listener(refused)
            return refused
        finally:
            self._senders.pop(campaign_id, None)
            self.poller.wake()  # delivery reports start coming: hear them soon

    async def _after_opt_outs(self) -> None:
        assert self._push is not None
        await asyncio.wrap_future(self._push())
