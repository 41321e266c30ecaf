"""Mailjet's JSON as it comes off the wire: spacing, the Count/Data/Total envelope, errors.

Mailjet's API server is written in Free Pascal (its 500s name `EFPWebError`) and serialises with
fpjson: objects as `{ "Key" : value, … }`, `{}` when empty, arrays as `[a, b]`. `dumps` writes the
same, byte for byte: every JSON body in the recorded responses round-trips through it unchanged
(tests/emulator/mailjet/test_recorded.py).
"""

from __future__ import annotations

import json.encoder
import uuid
from typing import Any

from engage_desktop.emulator.wire import Response

JSON = "application/json"
# A JSON string literal, by the C encoder: keeps non-ASCII as UTF-8, like fpjson.
quote = _quote = json.encoder.encode_basestring

# What nginx in front of the API answers for a path it does not route (`/v3.1/REST/…`), recorded.
NGINX_404 = (
    b'<html>\r\n<head><title>404 Not Found</title></head>\r\n<body bgcolor="white">\r\n'
    b"<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n"
    b"</html>\r\n"
)
AUTH_REALM = 'Basic realm="Provide an apiKey and secretKey"'


def dumps(value: Any) -> str:
    """Any JSON value the way Mailjet writes it."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{_quote(k)} : {dumps(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(dumps(v) for v in value) + "]"
    return str(value)


def page(rows: list[str], total: int) -> bytes:
    """The envelope around already-rendered rows; `total` is what `Total` says."""
    return f'{{ "Count" : {len(rows)}, "Data" : [{", ".join(rows)}], "Total" : {total} }}'.encode()


def count_only(total: int) -> bytes:
    return f'{{ "Count" : {total}, "Data" : [], "Total" : {total} }}'.encode()


def json_response(status: int, body: bytes, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status,
        body,
        {"content-type": JSON, "x-mj-request-guid": str(uuid.uuid4()), **(headers or {})},
    )


class MailjetError(Exception):
    """An error answered in Mailjet's shape: `ErrorInfo`, `ErrorMessage`, `StatusCode`."""

    def __init__(
        self,
        status: int,
        message: str,
        info: Any = "",
        *,
        identifier: bool = False,
        trailing_newline: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.info = info
        self.identifier = identifier  # real 500s carry an `ErrorIdentifier` GUID
        self.trailing_newline = trailing_newline

    def body(self) -> bytes:
        doc: dict[str, Any] = {}
        if self.identifier:
            doc["ErrorIdentifier"] = str(uuid.uuid4())
        doc |= {"ErrorInfo": self.info, "ErrorMessage": self.message, "StatusCode": self.status}
        return (dumps(doc) + ("\n" if self.trailing_newline else "")).encode()

    def response(self) -> Response:
        return json_response(self.status, self.body())


def not_found() -> MailjetError:
    """Unknown id or email (recorded: `404 Object not found`)."""
    return MailjetError(404, "Object not found")


def bad_request(message: str, info: Any = "") -> MailjetError:
    return MailjetError(400, message, info)


def unknown_module(name: str) -> MailjetError:
    """A path under /v3 outside /REST (recorded, body ends with a newline)."""
    return MailjetError(
        500,
        f'Could not determine HTTP module for request "{name}"',
        "EFPWebError",
        trailing_newline=True,
    )


def unauthorized() -> Response:
    """Recorded: 401, `text/html`, an empty body and a Basic challenge."""
    return Response(401, b"", {"content-type": "text/html", "www-authenticate": AUTH_REALM})


def nginx_not_found() -> Response:
    return Response(404, NGINX_404, {"content-type": "text/html"})


def nginx_error(status: int, reason: str) -> Response:
    """What the proxy answers when the API behind it fails (502, 503)."""
    body = NGINX_404.replace(b"404 Not Found", f"{status} {reason}".encode())
    return Response(status, body, {"content-type": "text/html"})
