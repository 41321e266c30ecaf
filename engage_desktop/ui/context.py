"""The services the screens are given by `app.py` (passed in, never reached through a global)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from engage_desktop.actions import Actions, Credentials
from engage_desktop.storage.database import Database
from engage_desktop.storage.keystore import KeyStore
from engage_desktop.sync.setup import ClientFactory

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class AppContext:
    """The database (reads on the GUI thread are short keyset queries), one writer thread for
    everything that writes or may wait on a lock, one reader thread for big queries, the
    actions (shared with the command line), the keyring and how to build a Klaviyo client."""

    db: Database
    keys: KeyStore  # the SMTP password's; API keys go through `credentials`
    make_client: ClientFactory
    demo: bool = False
    demo_key: str | None = None
    # --demo: the Mailjet emulator's (address, API key, secret key), prefilled in its wizard
    demo_mailjet: tuple[str, str, str] | None = None
    credentials: Credentials = field(default_factory=Credentials)
    writer: concurrent.futures.ThreadPoolExecutor = field(
        default_factory=lambda: concurrent.futures.ThreadPoolExecutor(1, "db-writer")
    )
    reader: concurrent.futures.ThreadPoolExecutor = field(
        default_factory=lambda: concurrent.futures.ThreadPoolExecutor(1, "db-reader")
    )
    network: concurrent.futures.ThreadPoolExecutor = field(
        default_factory=lambda: concurrent.futures.ThreadPoolExecutor(2, "network")
    )
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.actions = Actions(self.db, self.credentials, self.make_client)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking write on the writer thread and await it from the GUI loop."""
        return await asyncio.wrap_future(self.writer.submit(fn, *args))

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a big read (a million-row snapshot) off the GUI thread."""
        return await asyncio.wrap_future(self.reader.submit(fn, *args))

    async def blocking_io(self, fn: Callable[..., T], *args: Any) -> T:
        """Slow blocking I/O that is not the database: an SMTP conversation, the keyring (a
        Secret Service may wait for an unlock prompt)."""
        return await asyncio.wrap_future(self.network.submit(fn, *args))

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Start a coroutine on the GUI loop; keep it alive until done; report failures."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            assert exc is not None
            log.error("background task failed", exc_info=exc)
            sys.excepthook(type(exc), exc, exc.__traceback__)

    def owned(self) -> OwnedTasks:
        return OwnedTasks(self)

    def cancel_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def shutdown(self) -> None:
        self.cancel_tasks()
        self.writer.shutdown(wait=True)
        self.reader.shutdown(wait=False, cancel_futures=True)
        self.network.shutdown(wait=False, cancel_futures=True)


class OwnedTasks:
    """The tasks one window started: cancelled together when it closes, so that nothing
    touches its widgets or its client afterwards."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = self._ctx.spawn(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()
