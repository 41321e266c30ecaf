"""`MessageMediaClient`: one `httpx.AsyncClient` per account, every request through one pipeline.

Basic authentication with the API key and secret (NOTES §2). The base URL must be https
(http only to this machine: the emulator); next-page links are followed only on its scheme,
host and port, and never twice. Bodies are serialised once, with orjson (httpx's `json=` was
the CPU bottleneck of a 100,000-recipient send).
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Generic, TypeVar
from urllib.parse import quote

import httpx
import orjson

from engage_desktop.core.messaging import DEFAULT_GATEWAY_URL, GatewayCredentials, canonical_number
from engage_desktop.core.urls import check_base_url, origin, same_origin_link
from engage_desktop.messagemedia import models
from engage_desktop.messagemedia.errors import (
    MalformedResponseError,
    NotFoundError,
    UnsafeLinkError,
)
from engage_desktop.messagemedia.models import (
    DeliveryReport,
    MessageStatus,
    OutboundMessage,
    Reply,
    SentMessage,
)
from engage_desktop.messagemedia.pipeline import REQUEST_DEADLINE_S, ClientStats, Pipeline

SEND_BATCH = 100  # messages per send (NOTES §3)
CONFIRM_BATCH = 100  # ids per confirm, and items per poll (NOTES §5, §6)
BLACKLIST_ADD_BATCH = 10  # numbers per blacklist add (NOTES §8)
AUTHORISED_BATCH = 50  # numbers per is_authorised look-up (they travel in the path)
T = TypeVar("T")


@dataclass(frozen=True)
class Polled(Generic[T]):
    """One poll's answer: what could be read, and how many items the gateway listed (a full
    page, `CONFIRM_BATCH`, means more may be waiting)."""

    items: list[T]
    listed: int

    @property
    def full(self) -> bool:
        return self.listed >= CONFIRM_BATCH


class MessageMediaClient:
    """Talks to one MessageMedia account. Use as `async with MessageMediaClient(...) as c:`."""

    def __init__(
        self,
        credentials: GatewayCredentials,
        base_url: str = DEFAULT_GATEWAY_URL,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_s: float = 30.0,
        deadline_s: float = REQUEST_DEADLINE_S,
        max_wait_s: float = 120.0,
        max_attempts: int = 6,
        retry_base_s: float = 0.5,
        max_in_flight: int = 64,
        on_retry: Callable[[str, int, int, float], None] | None = None,
    ) -> None:
        """`max_in_flight`: requests on the wire at once. `timeout_s` bounds each wait for
        bytes, `deadline_s` the whole answer. `on_retry` hears (problem, attempt, attempts
        allowed, seconds to wait) before each retry. UnsafeUrlError for an unsafe base URL."""
        self.base_url = check_base_url(base_url)
        self._masked = credentials.masked
        pair = f"{credentials.key}:{credentials.reveal_secret()}".encode()
        self._pipeline = Pipeline(
            self.base_url,
            "Basic " + base64.b64encode(pair).decode("ascii"),
            transport=transport,
            timeout_s=timeout_s,
            deadline_s=deadline_s,
            max_wait_s=max_wait_s,
            max_attempts=max_attempts,
            retry_base_s=retry_base_s,
            max_in_flight=max_in_flight,
            on_retry=on_retry,
        )

    def __repr__(self) -> str:
        return f"MessageMediaClient({self.base_url!r}, key={self._masked})"

    @property
    def stats(self) -> ClientStats:
        return self._pipeline.stats

    async def __aenter__(self) -> MessageMediaClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._pipeline.aclose()

    # ----- the account --------------------------------------------------------------------
    async def verify(self) -> None:
        """A live check of the key, secret and base URL with a read that changes nothing
        (NOTES §11: `GET /v1/delivery_reports`, without confirming); raises on refusal."""
        await self._pipeline.request(
            "GET", "/v1/delivery_reports", doing="check the API key and secret", expect_json=True
        )

    # ----- messages -------------------------------------------------------------------------
    async def send_messages(self, messages: Sequence[OutboundMessage]) -> list[SentMessage]:
        """Send up to 100 messages in one request (all or nothing: a 400 sent none of them).

        Returns one entry per message in request order. A 202 whose body cannot be read still
        means they were accepted: their entries then have no `message_id`. OutcomeUnknownError
        when the answer was lost after the request may have arrived (never retried here)."""
        if not messages:
            return []
        if len(messages) > SEND_BATCH:
            raise ValueError(f"at most {SEND_BATCH} messages per send")
        body = orjson.dumps({"messages": [m.wire() for m in messages]})
        resp, _ = await self._pipeline.request(
            "POST", "/v1/messages", body=body, doing="send messages", idempotent=False
        )
        try:
            echo = models.items(orjson.loads(resp.content), "messages")
        except orjson.JSONDecodeError:
            echo = None
        if echo is None or len(echo) != len(messages):
            return [
                SentMessage(None, m.destination_number, None, dict(m.metadata)) for m in messages
            ]
        return [models.parse_sent(doc) for doc in echo]

    async def get_message(self, message_id: str) -> MessageStatus | None:
        """A message and its current status; None for an unknown id (or one older than the
        gateway's 45 days)."""
        try:
            _, doc = await self._pipeline.request(
                "GET",
                f"/v1/messages/{quote(message_id, safe='')}",
                doing="read a message's status",
                expect_json=True,
            )
        except NotFoundError:
            return None
        status = models.parse_status(doc) if isinstance(doc, dict) else None
        if status is None:
            raise MalformedResponseError("MessageMedia sent a message without its id.")
        return status

    # ----- replies and delivery reports (poll, then confirm) ----------------------------------
    async def check_replies(self) -> Polled[Reply]:
        """The oldest (up to 100) unconfirmed replies: the same ones until confirmed."""
        _, doc = await self._pipeline.request(
            "GET", "/v1/replies", doing="check replies", expect_json=True
        )
        listed = _listed(doc, "replies", "check replies")
        return Polled([r for r in map(models.parse_reply, listed) if r is not None], len(listed))

    async def confirm_replies(self, reply_ids: Sequence[str]) -> None:
        await self._confirm("/v1/replies/confirmed", "reply_ids", reply_ids, "confirm replies")

    async def check_delivery_reports(self) -> Polled[DeliveryReport]:
        """The oldest (up to 100) unconfirmed delivery reports: the same until confirmed."""
        _, doc = await self._pipeline.request(
            "GET", "/v1/delivery_reports", doing="check delivery reports", expect_json=True
        )
        listed = _listed(doc, "delivery_reports", "check delivery reports")
        return Polled([r for r in map(models.parse_report, listed) if r is not None], len(listed))

    async def confirm_delivery_reports(self, report_ids: Sequence[str]) -> None:
        await self._confirm(
            "/v1/delivery_reports/confirmed",
            "delivery_report_ids",
            report_ids,
            "confirm delivery reports",
        )

    async def _confirm(self, path: str, key: str, ids: Sequence[str], doing: str) -> None:
        # Confirming is idempotent (an unknown or confirmed id is accepted): safe to retry.
        for i in range(0, len(ids), CONFIRM_BATCH):
            body = orjson.dumps({key: list(ids[i : i + CONFIRM_BATCH])})
            await self._pipeline.request("POST", path, body=body, doing=doing)

    # ----- the blacklist (Number Authorisation) -----------------------------------------------
    async def iter_blacklist(self) -> AsyncIterator[list[str]]:
        """The account's blacklist, a page at a time (numbers in E.164), following
        `pagination.next_uri` on the base URL's origin only and never twice."""
        doing = "read MessageMedia's blacklist"
        url: str | None = "/v1/number_authorisation/mt/blacklist"
        followed: set[str] = set()
        while url is not None:
            _, doc = await self._pipeline.request("GET", url, doing=doing, expect_json=True)
            numbers = doc.get("numbers") if isinstance(doc, dict) else None
            if not isinstance(numbers, list):
                raise MalformedResponseError(
                    f"MessageMedia sent a blacklist page without numbers while we tried to {doing}."
                )
            page = [n for n in (canonical_number(x) for x in numbers if isinstance(x, str)) if n]
            url = self._next_page(doc, followed, doing) if numbers else None
            yield page

    def _next_page(self, doc: dict[str, object], followed: set[str], doing: str) -> str | None:
        pagination = doc.get("pagination")
        link = pagination.get("next_uri") if isinstance(pagination, dict) else None
        if not isinstance(link, str) or not link:
            return None
        safe = same_origin_link(self.base_url, link)
        if safe is None:
            scheme, host, port = origin(link)
            raise UnsafeLinkError(f"{scheme}://{host}:{port}", doing)
        if safe in followed:
            raise MalformedResponseError(
                f"MessageMedia sent the same next page twice while we tried to {doing} (a page "
                f"link that repeats would never end); stopped."
            )
        followed.add(safe)
        return safe

    async def add_to_blacklist(self, numbers: Sequence[str]) -> None:
        """Blacklist numbers (10 a request; numbers already listed are fine)."""
        for i in range(0, len(numbers), BLACKLIST_ADD_BATCH):
            body = orjson.dumps({"numbers": list(numbers[i : i + BLACKLIST_ADD_BATCH])})
            await self._pipeline.request(
                "POST",
                "/v1/number_authorisation/mt/blacklist",
                body=body,
                doing="add numbers to MessageMedia's blacklist",
            )

    async def remove_from_blacklist(self, number: str) -> bool:
        """Take one number off the blacklist; False when it was not on it."""
        try:
            await self._pipeline.request(
                "DELETE",
                f"/v1/number_authorisation/mt/blacklist/{quote(number, safe='+')}",
                doing="remove a number from MessageMedia's blacklist",
            )
        except NotFoundError:
            return False
        return True

    async def is_authorised(self, numbers: Sequence[str]) -> dict[str, bool]:
        """Whether each number may be sent to (False: it is on the blacklist)."""
        out: dict[str, bool] = {}
        for i in range(0, len(numbers), AUTHORISED_BATCH):
            chunk = ",".join(quote(n, safe="+") for n in numbers[i : i + AUTHORISED_BATCH])
            _, doc = await self._pipeline.request(
                "GET",
                f"/v1/number_authorisation/is_authorised/{chunk}",
                doing="check numbers against MessageMedia's blacklist",
                expect_json=True,
            )
            for item in _listed(doc, "numbers", "check numbers"):
                number = canonical_number(str(item.get("number", "")))
                if number is not None and isinstance(item.get("authorised"), bool):
                    out[number] = bool(item["authorised"])
        return out


def _listed(doc: object, key: str, doing: str) -> list[dict[str, object]]:
    found = models.items(doc, key)
    if found is None:
        raise MalformedResponseError(
            f"MessageMedia's answer had no '{key}' list while we tried to {doing}."
        )
    return found
