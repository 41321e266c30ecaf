"""What the Messages API sends and answers, read defensively (NOTES §3–§8, spec S1).

Answers are read field by field: an item that lacks what we need is returned with `None`
in that place (and the caller decides), never guessed. Timestamps are ISO 8601 UTC
(`2016-11-03T11:49:02.807Z`), read as seconds since the epoch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from engage_desktop.core.messaging import canonical_number


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One SMS to send. `metadata` comes back on its delivery reports and replies."""

    destination_number: str
    content: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    source_number: str | None = None
    delivery_report: bool = True

    def wire(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "content": self.content,
            "destination_number": self.destination_number,
            "format": "SMS",
            "delivery_report": self.delivery_report,
        }
        if self.metadata:
            doc["metadata"] = dict(self.metadata)
        if self.source_number:
            doc["source_number"] = self.source_number
            doc["source_number_type"] = "INTERNATIONAL"
        return doc


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A message as the 202 echoed it: its id (None when the echo was unreadable)."""

    message_id: str | None
    destination_number: str | None
    status: str | None
    metadata: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class MessageStatus:
    """`GET /v1/messages/{id}`: a message and where it is now."""

    message_id: str
    destination_number: str | None
    status: str | None
    metadata: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Reply:
    """A text a handset sent to our number."""

    reply_id: str
    source_number: str | None  # the handset (E.164), None when unreadable
    content: str
    received_at: float | None
    message_id: str | None  # the message it answers, when the gateway knows
    destination_number: str | None  # our number
    metadata: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """One status change of a message we sent."""

    delivery_report_id: str
    message_id: str | None
    number: str | None  # the handset (the report's `source_number`: our message's destination)
    status: str | None
    at: float | None  # when the status changed (`submitted_date`, else `date_received`)
    metadata: Mapping[str, str]
    error_code: str | None = None  # only pushed reports carry one; polled ones do not


def parse_time(value: Any) -> float | None:
    """An ISO 8601 date-time as seconds since the epoch (UTC when it names no offset)."""
    if not isinstance(value, str) or "T" not in value:
        return None
    text = value.strip()
    try:
        dt = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def _text(doc: Mapping[str, Any], key: str) -> str | None:
    value = doc.get(key)
    return value if isinstance(value, str) and value else None


def _metadata(doc: Mapping[str, Any]) -> dict[str, str]:
    raw = doc.get("metadata")
    if not isinstance(raw, dict):
        return {}
    return {str(k): str(v) for k, v in raw.items() if isinstance(v, str | int | float)}


def _number(doc: Mapping[str, Any], key: str) -> str | None:
    raw = _text(doc, key)
    return canonical_number(raw) if raw else None


def items(doc: Any, key: str) -> list[dict[str, Any]] | None:
    """The objects listed under `key`, or None when the answer does not have that shape."""
    if not isinstance(doc, dict) or not isinstance(doc.get(key), list):
        return None
    return [x for x in doc[key] if isinstance(x, dict)]


def parse_sent(doc: Mapping[str, Any]) -> SentMessage:
    return SentMessage(
        _text(doc, "message_id"),
        _number(doc, "destination_number"),
        _text(doc, "status"),
        _metadata(doc),
    )


def parse_status(doc: Mapping[str, Any]) -> MessageStatus | None:
    message_id = _text(doc, "message_id")
    if message_id is None:
        return None
    return MessageStatus(
        message_id, _number(doc, "destination_number"), _text(doc, "status"), _metadata(doc)
    )


def parse_reply(doc: Mapping[str, Any]) -> Reply | None:
    """None only without a `reply_id` (it could be neither stored once nor confirmed)."""
    reply_id = _text(doc, "reply_id")
    if reply_id is None:
        return None
    content = doc.get("content")
    return Reply(
        reply_id,
        _number(doc, "source_number"),
        content if isinstance(content, str) else "",
        parse_time(doc.get("date_received")),
        _text(doc, "message_id"),
        _number(doc, "destination_number"),
        _metadata(doc),
    )


def parse_report(doc: Mapping[str, Any]) -> DeliveryReport | None:
    """None only without a `delivery_report_id`."""
    report_id = _text(doc, "delivery_report_id")
    if report_id is None:
        return None
    code = doc.get("error_code")
    return DeliveryReport(
        report_id,
        _text(doc, "message_id"),
        _number(doc, "source_number"),
        _text(doc, "status"),
        parse_time(doc.get("submitted_date")) or parse_time(doc.get("date_received")),
        _metadata(doc),
        str(code) if isinstance(code, str | int) else None,
    )
