"""What every emulated service shares: the ASGI shell, injected faults, latency and counters.

A service (Klaviyo, MessageMedia, Mailjet) subclasses `ServiceEmulator` and supplies
`handle()` (its API and its `/_emulator/` admin routes), `label()` (how a request is counted)
and, when its error bodies differ, `fault_response()`. Faults armed through the admin API act
here, before the service sees the request, so every emulator misbehaves the same ways.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson

from engage_desktop.emulator.faults import Fault, FaultBoard
from engage_desktop.emulator.wire import Request, Response

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

MAX_BODY = 5 * 1024 * 1024
_ERRORS = ("429", "500", "502", "503")  # answered instead of the request


class ConnectionDropped(Exception):
    """Raised mid-response to make the server drop the connection (an injected fault)."""


@dataclass
class Counters:
    """What was asked and answered, for tests and benchmarks."""

    requests: Counter[tuple[str, int]] = field(default_factory=Counter)
    throttled: int = 0

    def as_json(self) -> dict[str, Any]:
        by_op: dict[str, dict[str, int]] = {}
        for (op, status), n in sorted(self.requests.items()):
            by_op.setdefault(op, {})[str(status)] = n
        return {
            "requests": by_op,
            "total": sum(self.requests.values()),
            "throttled": self.throttled,
        }

    def clear(self) -> None:
        self.requests.clear()
        self.throttled = 0


class ServiceEmulator:
    """The ASGI application of one emulated service."""

    service = "Service"  # as printed: "<service> emulator listening on …"
    content_type = "application/json"
    shaping_kinds: tuple[str, ...] = ()  # fault kinds this service applies in `shape()`

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.faults = FaultBoard(self.shaping_kinds)
        self.counters = Counters()

    # ----- what a service supplies ------------------------------------------------------------
    async def handle(self, req: Request) -> Response:
        raise NotImplementedError

    def label(self, req: Request) -> str:
        """The name a request is counted under (an operation id, "admin", or its path)."""
        return "admin" if req.path.startswith("/_emulator") else req.path

    def shape(self, req: Request, resp: Response, fault: Fault) -> Response:
        """A real answer reshaped by a service-specific fault (an empty page, a foreign link)."""
        return resp

    def fault_response(self, fault: Fault) -> Response:
        """The answer to an injected 429 / 5xx, in the service's own error format."""
        if fault.kind == "429":
            self.counters.throttled += 1
            return _json(429, {"error": "Too Many Requests"}, {"retry-after": "1"})
        if fault.kind == "502":
            return Response(
                502, b"<html><body>502 Bad Gateway</body></html>", {"content-type": "text/html"}
            )
        status = int(fault.kind) if fault.kind.isdigit() else 500
        return _json(status, {"error": "Internal Server Error"})

    # ----- ASGI -------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        req = await _read_request(scope, receive)
        fault = self.faults.take(req.path)
        if fault is not None and fault.kind == "delay":
            await asyncio.sleep(fault.delay_s)
            fault = None
        if fault is not None and fault.kind in ("drop", "stall"):
            if fault.kind == "stall":  # nothing at all, then the connection closes
                await asyncio.sleep(fault.delay_s)
            self.counters.requests[(self.label(req), 0)] += 1
            if fault.kind == "drop":
                await self._start(send, 200, {"content-type": self.content_type}, 1000)
                await send({"type": "http.response.body", "body": b'{"data": [', "more_body": True})
            raise ConnectionDropped(f"injected fault: {fault.kind}")
        if fault is None or fault.kind not in _ERRORS:
            resp = await self.handle(req)
            if fault is not None and fault.kind in self.shaping_kinds:
                resp = self.shape(req, resp, fault)
        else:
            resp = self.fault_response(fault)
        if fault is not None and fault.kind == "truncate":
            resp.body = resp.body[: max(1, len(resp.body) // 2)]
        self.counters.requests[(self.label(req), resp.status)] += 1
        await self._start(send, resp.status, resp.headers, len(resp.body))
        if fault is not None and fault.kind == "trickle":
            # A 200 whose body arrives a byte at a time: only a total deadline ends it.
            for i in range(len(resp.body)):
                await send(
                    {"type": "http.response.body", "body": resp.body[i : i + 1], "more_body": True}
                )
                await asyncio.sleep(fault.delay_s)
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.body", "body": resp.body})

    @staticmethod
    async def _start(send: Send, status: int, headers: dict[str, str], length: int) -> None:
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        raw.append((b"content-length", str(length).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw})


async def _read_request(scope: Scope, receive: Receive) -> Request:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if len(body) > MAX_BODY + 1 or not message.get("more_body"):
            break
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    host = headers.get("host") or "{}:{}".format(*(scope.get("server") or ("127.0.0.1", 80)))
    return Request(
        method=scope["method"],
        path=scope["path"],
        query=parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True),
        headers=headers,
        body=body,
        base_url=f"{scope.get('scheme', 'http')}://{host}",
    )


def _json(status: int, doc: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status, orjson.dumps(doc), {"content-type": "application/json", **(headers or {})}
    )
