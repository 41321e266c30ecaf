"""The MessageMedia emulator as an ASGI application: routing, auth, latency and the Messages API.

| method | path | operation (S1 operationId) | answers |
|---|---|---|---|
| POST | /v1/messages | SendMessages | 202 echo with `message_id`, `status: queued`; 400; 401 |
| GET | /v1/messages/{id} | GetMessageStatus | 200 message + `status`; 404 |
| PUT | /v1/messages/{id} | CancelScheduledMessage | 200 (no body); 400 unless scheduled; 404 |
| GET | /v1/replies | CheckReplies | 200 oldest ≤100 unconfirmed replies |
| POST | /v1/replies/confirmed | ConfirmRepliesAsReceived | 202 (no body); 400 |
| GET | /v1/delivery_reports | CheckDeliveryReports | 200 oldest ≤100 unconfirmed reports |
| POST | /v1/delivery_reports/confirmed | ConfirmDeliveryReportsAsReceived | 202 (no body); 400 |
| … | /v1/number_authorisation/… | see `blacklist.py` | |

Every `/v1` request needs Basic or HMAC credentials (`auth.py`) else 401
`{"message": "Invalid authentication credentials"}`. The `Account` (sub-account) header is
accepted and ignored: the emulator has one account. No rate limit is documented (the spec
deliberately declares no 429), so there is none unless a fault is armed.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable

from engage_desktop.emulator.base import ServiceEmulator
from engage_desktop.emulator.faults import Fault
from engage_desktop.emulator.messagemedia import validation
from engage_desktop.emulator.messagemedia.admin import Admin
from engage_desktop.emulator.messagemedia.auth import Authenticator
from engage_desktop.emulator.messagemedia.blacklist import NumberAuthorisation
from engage_desktop.emulator.messagemedia.gateway import Gateway
from engage_desktop.emulator.messagemedia.protocol import (
    MessageMediaError,
    bad_request,
    empty_response,
    json_response,
    not_found,
    parse_json,
)
from engage_desktop.emulator.messagemedia.settings import Settings
from engage_desktop.emulator.wire import Request, Response

ROUTES: list[tuple[re.Pattern[str], dict[str, str]]] = [
    (re.compile(rf"^/v1/{p}/?$"), methods)
    for p, methods in [
        ("messages", {"POST": "SendMessages"}),
        (
            "messages/(?P<id>[^/]+)",
            {"GET": "GetMessageStatus", "PUT": "CancelScheduledMessage"},
        ),
        ("replies", {"GET": "CheckReplies"}),
        ("replies/confirmed", {"POST": "ConfirmRepliesAsReceived"}),
        ("delivery_reports", {"GET": "CheckDeliveryReports"}),
        ("delivery_reports/confirmed", {"POST": "ConfirmDeliveryReportsAsReceived"}),
        (
            "number_authorisation/mt/blacklist",
            {"GET": "ListAllBlockedNumbers", "POST": "AddOneOrMoreNumbersToYourBlacklist"},
        ),
        (
            "number_authorisation/mt/blacklist/(?P<number>[^/]+)",
            {"DELETE": "RemoveANumberFromTheBlacklist"},
        ),
        (
            "number_authorisation/is_authorised/(?P<numbers>[^/]+)",
            {"GET": "CheckIfOneOrSeveralNumbersAreCurrentlyBlacklisted"},
        ),
    ]
]


class MessageMediaEmulator(ServiceEmulator):
    """A local Sinch MessageMedia Messages API: an ASGI app on the emulator's clock."""

    service = "MessageMedia"
    content_type = "application/json"

    def __init__(
        self, settings: Settings | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(clock)
        self.settings = settings or Settings()
        self.gateway = Gateway(self.settings, clock)
        self.auth = Authenticator(self.settings, clock)
        self.numbers = NumberAuthorisation(self.gateway)
        self.admin = Admin(self)

    def label(self, req: Request) -> str:
        if req.path.startswith("/_emulator"):
            return "admin"
        for pattern, methods in ROUTES:
            if pattern.match(req.path):
                return methods.get(req.method, req.path)
        return req.path

    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "429":
            self.counters.throttled += 1
            return json_response(429, {"message": "Too Many Requests"}, {"retry-after": "1"})
        if fault.kind == "502":  # what a load balancer in front answers: not JSON
            return Response(
                502, b"<html><body>502 Bad Gateway</body></html>", {"content-type": "text/html"}
            )
        if fault.kind == "503":
            return json_response(503, {"message": "Service Unavailable"})
        return json_response(500, {"message": "Internal server error"})

    # ----- the request pipeline ---------------------------------------------------------------
    async def handle(self, req: Request) -> Response:
        try:
            if req.path.startswith("/_emulator"):
                self.gateway.advance()
                return await self.admin.handle(req)
            if self.settings.latency_ms > 0:  # the network's, so errors wait for it too
                await asyncio.sleep(self.settings.latency_ms / 1000)
            op, params = _route(req)
            self.auth.check(req)
            self.gateway.advance()
            return self._dispatch(req, op, params)
        except MessageMediaError as err:
            return err.response()

    def _dispatch(self, req: Request, op: str, params: dict[str, str]) -> Response:
        gateway = self.gateway
        if op == "SendMessages":
            batch = validation.send_request(parse_json(req.body))
            accepted = gateway.accept(batch)
            # "The status of the message at submission time … will always be queued" (S1),
            # also for a scheduled one.
            echo = [{**gateway.status_view(m), "status": "queued"} for m in accepted]
            return json_response(202, {"messages": echo})
        if op in ("GetMessageStatus", "CancelScheduledMessage"):
            msg = gateway.find(params["id"])
            if msg is None:
                raise not_found()
            if op == "GetMessageStatus":
                return json_response(200, gateway.status_view(msg))
            validation.cancel_request(parse_json(req.body))
            if not gateway.cancel(msg):
                raise bad_request(
                    f"Only messages with a status of scheduled can be cancelled; this message "
                    f"is {msg.status}."
                )
            return empty_response(200)
        if op == "CheckReplies":
            return json_response(200, {"replies": list(gateway.oldest_replies())})
        if op == "CheckDeliveryReports":
            return json_response(200, {"delivery_reports": list(gateway.oldest_reports())})
        if op == "ConfirmRepliesAsReceived":
            # Unknown or already confirmed ids are ignored: confirming is idempotent, so a
            # client that crashed between confirm and commit can simply confirm again.
            for reply_id in validation.id_list(parse_json(req.body), "reply_ids"):
                gateway.replies.pop(reply_id, None)
            return empty_response(202)
        if op == "ConfirmDeliveryReportsAsReceived":
            for report_id in validation.id_list(parse_json(req.body), "delivery_report_ids"):
                gateway.reports.pop(report_id, None)
            return empty_response(202)
        if op == "ListAllBlockedNumbers":
            return self.numbers.list_page(req)
        if op == "AddOneOrMoreNumbersToYourBlacklist":
            return self.numbers.add(req)
        if op == "RemoveANumberFromTheBlacklist":
            return self.numbers.remove(params["number"])
        return self.numbers.is_authorised(params["numbers"])


def _route(req: Request) -> tuple[str, dict[str, str]]:
    for pattern, methods in ROUTES:
        m = pattern.match(req.path)
        if m:
            if req.method not in methods:
                raise MessageMediaError(
                    405, "Method Not Allowed", headers={"allow": ", ".join(methods)}
                )
            return methods[req.method], m.groupdict()
    raise not_found()
