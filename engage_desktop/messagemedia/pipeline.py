"""The one request pipeline of the MessageMedia client: admission, a total deadline per
request, retries with jittered backoff, and typed errors that say what to do.

Retries depend on whether a request may be repeated. Reads, confirms and blacklist changes
can be (confirming or listing twice changes nothing), so they are retried on 5xx, 429,
timeouts and dropped connections. A send cannot: the API has no idempotency key, so a send
is retried only when it provably never reached the gateway (the connection could not be
made, or a 429 refused it); any other failure after the request left is `OutcomeUnknown`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from engage_desktop import __version__
from engage_desktop.messagemedia.errors import (
    AuthenticationError,
    BadRequestError,
    GatewayError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    OutcomeUnknownError,
    ServerError,
    ThrottledError,
)

log = logging.getLogger(__name__)

# The longest a whole answer may take to arrive, however steadily its bytes trickle in.
REQUEST_DEADLINE_S = 60.0
# Failures that happen before a byte of the request reached the gateway.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
RetryListener = Callable[[str, int, int, float], None]


@dataclass
class ClientStats:
    """What this client has done, for progress displays and benchmarks."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0  # 429s received
    unknown: int = 0  # sends whose answer was lost


class Pipeline:
    """Sends requests through one `httpx.AsyncClient` (keep-alive, `max_in_flight` at once)."""

    def __init__(
        self,
        base_url: str,
        authorization: str,
        *,
        transport: httpx.AsyncBaseTransport | None,
        timeout_s: float,
        deadline_s: float,
        max_wait_s: float,
        max_attempts: int,
        retry_base_s: float,
        max_in_flight: int,
        on_retry: RetryListener | None,
    ) -> None:
        self.base_url = base_url
        self.stats = ClientStats()
        self._deadline_s = deadline_s
        self._max_wait_s = max_wait_s
        self._max_attempts = max_attempts
        self._retry_base_s = retry_base_s
        self._on_retry = on_retry
        self._in_flight = asyncio.Semaphore(max_in_flight)
        limits = httpx.Limits(
            max_connections=max_in_flight, max_keepalive_connections=max_in_flight
        )
        # Straight to the transport when no proxy is set (as the Klaviyo client does): the
        # API uses no redirects or cookies, and skipping the client's handling of them saves
        # CPU on every request of a 100,000-recipient send.
        self._direct = transport
        if transport is None and not urllib.request.getproxies():
            self._direct = httpx.AsyncHTTPTransport(limits=limits)
        self._http = httpx.AsyncClient(
            base_url=base_url,
            transport=self._direct,
            timeout=httpx.Timeout(timeout_s, connect=10.0),
            limits=limits,
            headers={
                "Authorization": authorization,
                "Accept": "application/json",
                "User-Agent": f"engage-desktop/{__version__}",
            },
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        doing: str,
        idempotent: bool = True,
        expect_json: bool = False,
    ) -> tuple[httpx.Response, Any]:
        """A 2xx answer (read in full) and, with `expect_json`, its parsed body; or a typed
        error. `doing` names the operation in plain words for messages. `idempotent=False`
        (a send) is never repeated once it may have reached the gateway (OutcomeUnknownError
        instead), and its body is left for the caller to read: a 202 is an answer even when
        its body is not."""
        started = time.monotonic()
        attempt = 0
        headers = {"Content-Type": "application/json"} if body is not None else None
        while True:
            self.stats.requests += 1
            wait = _backoff(attempt, self._retry_base_s)
            try:
                async with self._in_flight:  # waiting here is not part of the deadline
                    async with asyncio.timeout(self._deadline_s):
                        resp = await self._send(
                            self._http.build_request(method, url, content=body, headers=headers)
                        )
            except _NOT_SENT as exc:
                problem = type(exc).__name__
            except httpx.TransportError as exc:
                problem = type(exc).__name__
                if not idempotent:
                    self.stats.unknown += 1
                    raise OutcomeUnknownError(f"the connection failed: {problem}") from None
            except TimeoutError:
                problem = f"no complete answer within {self._deadline_s:.0f} s"
                if not idempotent:
                    self.stats.unknown += 1
                    raise OutcomeUnknownError(problem) from None
            else:
                status = resp.status_code
                if status < 300:
                    if not expect_json or not idempotent:
                        return resp, None
                    try:
                        return resp, orjson.loads(resp.content or b"null")
                    except orjson.JSONDecodeError:
                        problem = "malformed JSON"
                elif status == 429:  # refused before it was handled: safe to repeat, even a send
                    self.stats.throttled += 1
                    problem = "throttled"
                    wait = _retry_after(resp.headers.get("retry-after")) or wait
                elif status >= 500:
                    problem = f"HTTP {status}"
                    if not idempotent:
                        self.stats.unknown += 1
                        raise OutcomeUnknownError(f"MessageMedia answered {status}")
                else:
                    raise client_error(resp, doing)
            attempt += 1
            elapsed = time.monotonic() - started
            if attempt >= self._max_attempts or elapsed + wait > self._max_wait_s:
                raise self._give_up(problem, doing, attempt, elapsed)
            self.stats.retries += 1
            log.info("%s: %s; retry %d in %.1f s", doing, problem, attempt, wait)
            if self._on_retry is not None:
                self._on_retry(problem, attempt, self._max_attempts, wait)
            await asyncio.sleep(wait)

    async def _send(self, request: httpx.Request) -> httpx.Response:
        if self._direct is None:
            return await self._http.send(request)
        response = await self._direct.handle_async_request(request)
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    def _give_up(self, problem: str, doing: str, attempts: int, elapsed: float) -> GatewayError:
        where = f"after {attempts} attempt{'s' if attempts != 1 else ''} over {elapsed:.0f} s"
        if problem == "throttled":
            return ThrottledError(
                f"MessageMedia is asking us to slow down; could not {doing} {where}. Try again "
                f"in a few minutes.",
                429,
            )
        if problem.startswith("HTTP"):
            return ServerError(
                f"MessageMedia is having trouble ({problem}); could not {doing} {where}. Try "
                f"again later; status.sinch.com shows incidents.",
            )
        if problem == "malformed JSON":
            return MalformedResponseError(
                f"MessageMedia's answers were not valid JSON; could not {doing} {where}."
            )
        return NetworkError(
            f"Could not reach MessageMedia at {self.base_url} ({problem}); could not {doing} "
            f"{where}. Check the internet connection and the gateway's base URL.",
        )


def client_error(resp: httpx.Response, doing: str) -> GatewayError:
    """A 4xx answer as the error a person can act on."""
    status = resp.status_code
    if status in (401, 403):  # the older spec documented the refusal as 403
        return AuthenticationError()
    message, details = error_body(resp)
    if status == 404:
        return NotFoundError(f"MessageMedia could not find what we asked for to {doing}.", 404)
    said = "; ".join(details) or message or resp.reason_phrase
    return BadRequestError(
        f"MessageMedia refused our request to {doing} ({status}): {said[:500]}", status, details
    )


def error_body(resp: httpx.Response) -> tuple[str, list[str]]:
    """The spec's error shape: `{"message": …, "details": [...]}` (either may be missing)."""
    try:
        doc = orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        return resp.text[:200], []
    if not isinstance(doc, dict):
        return "", []
    message = doc.get("message")
    details = doc.get("details")
    return (
        message if isinstance(message, str) else "",
        [d for d in details if isinstance(d, str)] if isinstance(details, list) else [],
    )


def _backoff(attempt: int, base: float, cap: float = 30.0) -> float:
    """Exponential, with jitter so that many clients do not retry in step."""
    return float(min(cap, base * 2**attempt) * (0.5 + random.random() / 2))


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
