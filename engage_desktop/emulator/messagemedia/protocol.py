"""MessageMedia's wire conventions: error bodies, timestamps, phone numbers and opt-out words.

Error bodies are the spec's (S1): `{"message": ...}` for 401/404 and
`{"message": ..., "details": [...]}` for 400. Timestamps are ISO 8601 UTC with milliseconds
and `Z` (`2016-11-03T11:49:02.807Z`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson

from engage_desktop.emulator.wire import Response

JSON = "application/json"
PARSE_FAILED = "Request failed to parse correctly. Please ensure input is valid and try again."
UNAUTHORISED = "Invalid authentication credentials"
NOT_FOUND = "Resource not found."

_NUMBER = re.compile(r"^\+?[0-9]{8,15}$")
_DIGITS = re.compile(r"^\+?[0-9]*$")
_TRAILING_PUNCTUATION = ".!?,;:'\" "


class MessageMediaError(Exception):
    """An error answered in MessageMedia's own format."""

    def __init__(
        self,
        status: int,
        message: str | None,
        details: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message or str(status))
        self.status = status
        self.message = message
        self.details = details
        self.headers = headers or {}

    def response(self) -> Response:
        if self.message is None:  # the spec declares some errors without any body
            return Response(self.status, b"", {"content-type": "text/plain", **self.headers})
        doc: dict[str, Any] = {"message": self.message}
        if self.details is not None:
            doc["details"] = self.details
        return json_response(self.status, doc, self.headers)


def bad_request(*details: str) -> MessageMediaError:
    return MessageMediaError(400, PARSE_FAILED, list(details))


def unauthorised() -> MessageMediaError:
    return MessageMediaError(401, UNAUTHORISED)


def not_found() -> MessageMediaError:
    return MessageMediaError(404, NOT_FOUND)


def json_response(status: int, doc: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, orjson.dumps(doc), {"content-type": JSON, **(headers or {})})


def empty_response(status: int) -> Response:
    """The 200/202 answers the spec declares without fields (cancel, confirm, delete)."""
    return Response(status, b"", {"content-type": "text/plain"})


def parse_json(body: bytes) -> Any:
    """The request body, or the spec's own 400 for one that is not JSON."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise bad_request("Failed to parse message body.") from None


# ----- timestamps ----------------------------------------------------------------------------
def iso_ms(ts: float) -> str:
    """Seconds since the epoch -> `2016-11-03T11:49:02.807Z`."""
    dt = datetime.fromtimestamp(ts, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> float:
    """An ISO 8601 date-time -> seconds since the epoch; without an offset it is UTC (the spec
    says scheduled times "must be provided in UTC"). Raises ValueError."""
    t = text.strip()
    if "T" not in t:
        raise ValueError("not a date-time")
    dt = datetime.fromisoformat(t[:-1] + "+00:00" if t.endswith(("Z", "z")) else t)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


# ----- numbers and words ---------------------------------------------------------------------
def international_problems(number: str) -> list[str]:
    """Why a destination is not an international number, in the words of the spec's example
    ("must be between 8 and 15 characters excluding the first '+', … invalid characters")."""
    problems = []
    if not 8 <= len(number.removeprefix("+")) <= 15:
        problems.append(
            "International address must be between 8 and 15 characters excluding the first '+'"
        )
    if not _DIGITS.match(number):
        problems.append("International address contains invalid characters")
    return problems


def is_international(number: str) -> bool:
    return bool(_NUMBER.match(number))


def canonical_number(number: str) -> str:
    """One spelling per number: the blacklist example in the spec drops the `+`."""
    n = number.strip()
    return n if n.startswith("+") else "+" + n


def opt_out_keyword(content: str, keywords: tuple[str, ...]) -> str | None:
    """The opt-out word a reply consists of, if it is one (whole message, any case, trailing
    punctuation ignored: "Stop." opts out, "please don't stop" does not)."""
    word = content.strip().rstrip(_TRAILING_PUNCTUATION).upper()
    return word if word in keywords else None


def billing_units(content: str) -> int:
    """SMS parts: 160/153 characters for plain text, 70/67 once anything is not ASCII (a close
    enough stand-in for GSM-7 vs UCS-2)."""
    single, part = (160, 153) if content.isascii() else (70, 67)
    n = len(content)
    return 1 if n <= single else -(-n // part)
