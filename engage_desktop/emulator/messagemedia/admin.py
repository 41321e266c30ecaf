# ruff: noqa: E501  (the admin API table in the docstring: a markdown row cannot wrap)
"""The admin API under `/_emulator/`: not MessageMedia; tests and demos play the handsets here.

| method | path | body / query | effect |
|---|---|---|---|
| GET | /_emulator/ | | this table, as JSON |
| GET | /_emulator/messages | `?destination_number=+1…&status=delivered&limit=N` | every accepted message (oldest first) with `status`, `error_code`, `accepted_at`, `updated_at` |
| POST | /_emulator/replies | `{"source_number": "+1…", "content": "STOP", "message_id": optional, "destination_number": optional}` | a handset replies; without `message_id` it answers the last message sent to that number (none: an unsolicited text to `destination_number`). An opt-out word blacklists the number. Answers 201 `{"reply_id", "message_id", "opt_out_keyword", "listed"}` |
| POST | /_emulator/blacklist | `{"numbers": ["+1…", …]}` | blacklist numbers directly (no 10-number limit); answers `{"added": N}` |
| POST | /_emulator/faults | `{"path": "/v1/messages", "kind": "500", "count": 1, "delay_s": 0}` | next N requests on path misbehave (kinds: 429, 500, 502, 503, delay, drop, truncate, stall, trickle) |
| GET, POST | /_emulator/settings | `{"latency_ms", "enroute_after_s", "submitted_after_s", "delivered_after_s", "failed_rate", "rejected_rate", "blocked_error_code", "opt_out_keywords", "list_opt_out_replies", "hmac_clock_skew_s", "account_id"}` | read / change behaviour live (rates apply to messages sent afterwards; delays from each message's next step) |
| GET | /_emulator/counters | | requests by operation and status, 429s sent, messages by status, unconfirmed reports and replies, blacklist size |
| POST | /_emulator/reset | | no messages, reports, replies or blacklist; counters and faults cleared (settings kept) |
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from engage_desktop.emulator.faults import KINDS
from engage_desktop.emulator.messagemedia.gateway import Outbound
from engage_desktop.emulator.messagemedia.protocol import (
    MessageMediaError,
    bad_request,
    canonical_number,
    is_international,
    iso_ms,
    json_response,
    parse_json,
)
from engage_desktop.emulator.wire import Request, Response

if TYPE_CHECKING:
    from engage_desktop.emulator.messagemedia.app import MessageMediaEmulator


def _admin_not_found(req: Request) -> MessageMediaError:
    return MessageMediaError(404, f"No admin endpoint {req.method} {req.path}.")


class Admin:
    """Handles `/_emulator/…` requests for one MessageMedia emulator."""

    def __init__(self, emulator: MessageMediaEmulator) -> None:
        self.emu = emulator

    async def handle(self, req: Request) -> Response:
        path = req.path[len("/_emulator") :].rstrip("/") or "/"
        body: Any = parse_json(req.body) if req.body else {}
        if req.method == "POST" and not isinstance(body, dict):
            raise bad_request("The body must be a JSON object.")
        route = (req.method, path)
        if route == ("GET", "/"):
            return json_response(200, {"admin_api": __doc__})
        if route == ("GET", "/messages"):
            return self._messages(req)
        if route == ("POST", "/replies"):
            return self._reply(body)
        if route == ("POST", "/blacklist"):
            numbers = body.get("numbers")
            if not isinstance(numbers, list) or not all(
                isinstance(n, str) and is_international(n) for n in numbers
            ):
                raise bad_request('"numbers" must be a list of international numbers.')
            added = sum(self.emu.gateway.block(canonical_number(n)) for n in numbers)
            return json_response(200, {"added": added})
        if route == ("POST", "/faults"):
            try:
                self.emu.faults.arm(
                    str(body.get("path", "/v1")),
                    str(body.get("kind")),
                    int(body.get("count", 1)),
                    float(body.get("delay_s", 0.0)),
                )
            except (TypeError, ValueError) as exc:
                raise bad_request(f"{exc} (kinds: {', '.join(KINDS)})") from None
            return Response(204)
        if route == ("GET", "/settings"):
            return json_response(200, self.emu.settings.as_json())
        if route == ("POST", "/settings"):
            try:
                self.emu.settings.update(body)
            except (TypeError, ValueError) as exc:
                raise bad_request(str(exc)) from None
            return Response(204)
        if route == ("GET", "/counters"):
            return json_response(200, self._counters())
        if route == ("POST", "/reset"):
            self.emu.gateway.reset()
            self.emu.faults.clear()
            self.emu.counters.clear()
            return Response(204)
        raise _admin_not_found(req)

    def _messages(self, req: Request) -> Response:
        destination = req.param("destination_number")
        wanted = canonical_number(destination) if destination else None
        status = req.param("status")
        try:
            limit = int(req.param("limit") or 0) or None
        except ValueError:
            raise bad_request("limit must be a whole number.") from None
        rows = (
            _row(m)
            for m in self.emu.gateway.messages.values()
            if (wanted is None or m.destination == wanted)
            and (status is None or m.status == status)
        )
        return json_response(200, {"messages": list(itertools.islice(rows, limit))})

    def _reply(self, body: dict[str, Any]) -> Response:
        gateway = self.emu.gateway
        source = body.get("source_number")
        content = body.get("content")
        if not isinstance(source, str) or not is_international(source):
            raise bad_request('"source_number" must be an international number.')
        if not isinstance(content, str) or not content:
            raise bad_request('"content" must be a non-empty string.')
        message: Outbound | None
        if body.get("message_id") is not None:
            message = gateway.find(str(body["message_id"]))
            if message is None:
                raise MessageMediaError(404, f"No message {body['message_id']}.")
            if message.destination != canonical_number(source):
                raise bad_request(f"Message {message.message_id} was not sent to {source}.")
        else:
            message = gateway.last_to.get(canonical_number(source))
        destination = body.get("destination_number")
        reply, keyword = gateway.receive_reply(
            source, content, message, str(destination) if destination else None
        )
        return json_response(
            201,
            {
                "reply_id": reply.reply_id,
                "message_id": message.message_id if message else None,
                "opt_out_keyword": keyword,
                "listed": reply.reply_id in gateway.replies,
            },
        )

    def _counters(self) -> dict[str, Any]:
        gateway = self.emu.gateway
        doc = self.emu.counters.as_json()
        doc["messages"] = {s: n for s, n in sorted(gateway.statuses.items()) if n}
        doc["unconfirmed_delivery_reports"] = len(gateway.reports)
        doc["unconfirmed_replies"] = len(gateway.replies)
        doc["blacklisted"] = len(gateway.blacklist)
        return doc


def _row(msg: Outbound) -> dict[str, Any]:
    return {
        **msg.fields,
        "message_id": msg.message_id,
        "status": msg.status,
        "error_code": msg.error_code,
        "accepted_at": iso_ms(msg.accepted_at),
        "updated_at": iso_ms(msg.updated_at),
    }
