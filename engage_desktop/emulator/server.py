"""Serving the emulator on a real socket: in the foreground (CLI) or on a background thread."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from types import FrameType, TracebackType

import uvicorn

from engage_desktop.emulator.app import KlaviyoEmulator, Settings
from engage_desktop.emulator.base import ConnectionDropped, ServiceEmulator


class _HideInjectedDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio sets TCP_NODELAY only on accepted sockets that do, and
    # without it a small response (headers and body are two writes) waits ~40 ms for the
    # client's delayed ACK (Nagle), on every ids-only page.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(512)
    sock.setblocking(False)
    return sock


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGINT/SIGTERM after shutting down; we stop cleanly and exit 0."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def stop(signum: int, frame: FrameType | None) -> None:
            self.should_exit = True

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _server(emulator: ServiceEmulator) -> uvicorn.Server:
    logging.getLogger("uvicorn.error").addFilter(_HideInjectedDrops())
    config = uvicorn.Config(
        emulator,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_keep_alive=30,
        backlog=512,
    )
    return _Server(config)


def serve_forever(emulator: ServiceEmulator | Settings, host: str, port: int) -> int:
    """Run until SIGINT/SIGTERM; the first stdout line says where. Returns the exit code.
    Klaviyo `Settings` stand for the Klaviyo emulator (the default service)."""
    if isinstance(emulator, Settings):
        emulator = KlaviyoEmulator(emulator)
    sock = _bind(host, port)
    actual = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    print(f"{emulator.service} emulator listening on http://{shown}:{actual}", flush=True)
    server = _server(emulator)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(server.serve(sockets=[sock]))
    sys.stdout.flush()
    return 0


class EmulatorThread:
    """An emulator on 127.0.0.1 in a daemon thread, for tests, benchmarks and demo mode
    (Klaviyo's, from its settings, unless another service's emulator is given)."""

    def __init__(
        self, settings: Settings | ServiceEmulator | None = None, host: str = "127.0.0.1"
    ) -> None:
        self.emulator = (
            settings if isinstance(settings, ServiceEmulator) else KlaviyoEmulator(settings)
        )
        self._sock = _bind(host, 0)
        self.url = f"http://{host}:{self._sock.getsockname()[1]}"
        self._server = _server(self.emulator)
        self._thread = threading.Thread(
            target=self._run, name=f"{self.emulator.service.lower()}-emulator", daemon=True
        )

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._sock]))

    def start(self) -> EmulatorThread:
        self._thread.start()
        while not self._server.started and self._thread.is_alive():
            threading.Event().wait(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> EmulatorThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
