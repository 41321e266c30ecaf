"""HTTP plumbing for the emulator's handlers: requests, responses, JSON:API errors, cursors."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlencode

import orjson

JSONAPI = "application/vnd.api+json"


@dataclass
class Request:
    """One parsed request."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    base_url: str

    def param(self, name: str) -> str | None:
        for k, v in self.query:
            if k == name:
                return v
        return None

    def url(self, replace: dict[str, str] | None = None) -> str:
        """This request's absolute URL, with some query parameters replaced."""
        pairs = [(k, v) for k, v in self.query if not replace or k not in replace]
        pairs += list((replace or {}).items())
        qs = urlencode(pairs, quote_via=quote, safe="")
        return f"{self.base_url}{self.path}" + (f"?{qs}" if qs else "")


@dataclass
class Response:
    """What a handler answers; the app adds rate-limit headers."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """An error answered as a JSON:API error document."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        *,
        parameter: str | None = None,
        pointer: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.parameter = parameter
        self.pointer = pointer
        self.headers = headers or {}

    def response(self) -> Response:
        source: dict[str, str] = {}
        if self.parameter:
            source["parameter"] = self.parameter
        if self.pointer:
            source["pointer"] = self.pointer
        doc = {
            "errors": [
                {
                    "id": str(uuid.uuid4()),
                    "status": self.status,
                    "code": self.code,
                    "title": self.title,
                    "detail": self.detail,
                    "source": source,
                    "meta": {},
                }
            ]
        }
        return json_response(self.status, doc, self.headers)


def bad_request(detail: str, parameter: str | None = None, pointer: str | None = None) -> ApiError:
    return ApiError(400, "invalid", "Invalid input.", detail, parameter=parameter, pointer=pointer)


def not_found(detail: str = "Not found.") -> ApiError:
    return ApiError(404, "not_found", "Not found.", detail)


def json_response(status: int, doc: Any, headers: dict[str, str] | None = None) -> Response:
    body = orjson.dumps(doc)
    return Response(status, body, {"content-type": JSONAPI, **(headers or {})})


class Cursors:
    """Opaque page cursors: base64 of a position, signed for the query they belong to."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def _sig(self, scope: str) -> str:
        return hashlib.sha256(f"{self._secret}|{scope}".encode()).hexdigest()[:12]

    def encode(self, scope: str, direction: str, key: tuple[Any, ...]) -> str:
        raw = json.dumps([self._sig(scope), direction, list(key)], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def decode(self, scope: str, text: str) -> tuple[str, tuple[Any, ...]]:
        """(direction, key) of a cursor, or a 400 for one that was not made for this query."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            sig, direction, key = json.loads(raw)
            if sig != self._sig(scope) or direction not in ("n", "p") or not isinstance(key, list):
                raise ValueError
            return direction, tuple(key)
        except Exception as exc:
            raise bad_request("Invalid cursor provided.", parameter="page[cursor]") from exc


def cursor_from_param(value: str) -> str:
    """The cursor itself, also when a client sent a whole `links.next` URL as the cursor."""
    for token in ("page[cursor]=", "page%5Bcursor%5D="):
        if token in value:
            value = value.split(token, 1)[1].split("&", 1)[0]
            break
    return unquote(value)
