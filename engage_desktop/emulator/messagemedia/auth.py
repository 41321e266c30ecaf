"""Who is calling: HTTP Basic, and HMAC both as the docs describe it and as the SDKs send it.

Basic: `Authorization: Basic base64(key:secret)` (S1 "Basic Authentication").

HMAC: `Authorization: hmac username="<key>", algorithm="hmac-sha1|hmac-sha256",
headers="<names> request-line", signature="<base64>"`. The signing string is one line per
listed name, `name: value` for a header and `METHOD path HTTP/1.1` for `request-line`, joined
by newlines. The docs list `Date Content-MD5` and SHA-256; the official SDKs (Python, Node,
Java) list `date x-Content-MD5`, use SHA-1, and write the request line as `POST` whenever there
is a body (so a PUT is signed as POST) and `GET` otherwise, path without query. Both are
accepted; the body's MD5 and the date (within `hmac_clock_skew_s`) are checked too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from urllib.parse import quote, urlencode

from engage_desktop.emulator.messagemedia.protocol import unauthorised
from engage_desktop.emulator.messagemedia.settings import Settings
from engage_desktop.emulator.wire import Request

_PARAM = re.compile(r'(\w+)\s*=\s*"([^"]*)"')
_DIGESTS = {"hmac-sha1": "sha1", "hmac-sha256": "sha256", "hmac-sha512": "sha512"}
_MD5_HEADERS = ("content-md5", "x-content-md5")


class Authenticator:
    """Checks a request's credentials against the emulator's one key and secret."""

    def __init__(self, settings: Settings, clock: Callable[[], float]) -> None:
        self.settings = settings
        self.clock = clock

    def check(self, req: Request) -> None:
        """Return if the request is signed by the account's key; raise the spec's 401 if not."""
        scheme, _, credentials = req.headers.get("authorization", "").strip().partition(" ")
        scheme = scheme.lower()
        if scheme == "basic" and self._basic_ok(credentials.strip()):
            return
        if scheme == "hmac" and self._hmac_ok(req, credentials):
            return
        raise unauthorised()

    def _basic_ok(self, credentials: str) -> bool:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        key, sep, secret = decoded.partition(":")
        s = self.settings
        return bool(sep) and _same(key, s.api_key) and _same(secret, s.api_secret)

    def _hmac_ok(self, req: Request, credentials: str) -> bool:
        params = {k.lower(): v for k, v in _PARAM.findall(credentials)}
        digest = _DIGESTS.get(params.get("algorithm", "").lower())
        names = params.get("headers", "").split()
        if (
            digest is None
            or not _same(params.get("username", ""), self.settings.api_key)
            or "request-line" not in names
            or not any(n.lower() == "date" for n in names)
        ):
            return False
        if not self._date_ok(req.headers.get("date", "")):
            return False
        if req.body and not self._md5_ok(req, names):
            return False
        given = params.get("signature", "").encode()
        secret = self.settings.api_secret.encode("utf-8")
        for request_line in _request_lines(req):
            lines = []
            for name in names:
                if name.lower() == "request-line":
                    lines.append(request_line)
                else:
                    lines.append(f"{name}: {req.headers.get(name.lower(), '')}")
            mac = hmac.new(secret, "\n".join(lines).encode("utf-8"), digest)
            # The docs' own no-body example signature is base64 of the hex digest; accept that
            # spelling too so the documented sample verifies.
            for expected in (mac.digest(), mac.hexdigest().encode()):
                if hmac.compare_digest(base64.b64encode(expected), given):
                    return True
        return False

    def _date_ok(self, value: str) -> bool:
        try:
            sent = parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError, IndexError):
            return False
        return abs(sent - self.clock()) <= self.settings.hmac_clock_skew_s

    @staticmethod
    def _md5_ok(req: Request, names: list[str]) -> bool:
        md5_names = [n.lower() for n in names if n.lower() in _MD5_HEADERS]
        if not md5_names:  # a body that the signature does not cover
            return False
        want = hashlib.md5(req.body).hexdigest()
        return all(req.headers.get(n, "").strip().lower() == want for n in md5_names)


def _request_lines(req: Request) -> list[str]:
    """Every request line a legitimate client may have signed for this request."""
    methods = [req.method]
    sdk_method = "POST" if req.body else "GET"
    if sdk_method != req.method:
        methods.append(sdk_method)
    paths = [req.path]
    encoded = quote(req.path, safe="/,:@")
    if encoded != req.path:
        paths.append(encoded)
    if req.query:
        query = urlencode(req.query)
        paths += [f"{p}?{query}" for p in paths]
    return [f"{m} {p} HTTP/1.1" for m in methods for p in paths]


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
