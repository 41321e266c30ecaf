"""The Mailjet emulator as an ASGI application: routing, Basic auth, rate limit, latency.

Paths: `/v3/REST/<resource>[/<id or email>[/<action>]]`. Other `/v3/…` paths get Mailjet's
recorded 500 (`EFPWebError`); anything outside `/v3/` (e.g. `/v3.1/REST/…`) the recorded nginx
404 page. Credentials are checked first: a wrong key is a bare 401 whatever the path.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from collections.abc import Callable
from dataclasses import dataclass

from engage_desktop.emulator.base import ServiceEmulator
from engage_desktop.emulator.faults import Fault
from engage_desktop.emulator.mailjet import envelope
from engage_desktop.emulator.mailjet.admin import Admin
from engage_desktop.emulator.mailjet.envelope import MailjetError
from engage_desktop.emulator.mailjet.reads import Reads
from engage_desktop.emulator.mailjet.settings import Settings
from engage_desktop.emulator.mailjet.store import MailjetStore
from engage_desktop.emulator.mailjet.writes import Writes
from engage_desktop.emulator.ratelimit import FixedWindowLimiter, Limit
from engage_desktop.emulator.wire import Request, Response

RESOURCES = ("contact", "contactdata", "contactmetadata", "contactslist", "listrecipient")
ACTIONS = {("contact", "getcontactslists"): "GET", ("contact", "managecontactslists"): "POST"}


@dataclass(frozen=True)
class Route:
    """Where a /v3/REST path points: a resource, maybe one object, maybe an action on it."""

    resource: str
    ref: str | None = None
    action: str | None = None

    @property
    def label(self) -> str:
        return (
            self.resource
            + ("/{id}" if self.ref is not None else "")
            + (f"/{self.action}" if self.action else "")
        )


def parse_route(path: str) -> Route:
    """The route of a /v3/… path, or the error Mailjet answers for it."""
    parts = path.strip("/").split("/")
    if len(parts) < 2 or parts[1].lower() != "rest":
        raise envelope.unknown_module(parts[1] if len(parts) > 1 else "")
    resource = parts[2].lower() if len(parts) > 2 else ""
    if resource not in RESOURCES:
        raise MailjetError(400, f'Unknown resource: "{resource}"', "Bad Request")
    if len(parts) > 5 or (len(parts) == 5 and (resource, parts[4].lower()) not in ACTIONS):
        raise MailjetError(400, f'Unknown action: "{"/".join(parts[4:])}"', "Bad Request")
    return Route(
        resource,
        parts[3] if len(parts) > 3 else None,
        parts[4].lower() if len(parts) == 5 else None,
    )


class MailjetEmulator(ServiceEmulator):
    """A local Mailjet v3 REST API: the contact resources, its errors and a rate limit."""

    service = "Mailjet"
    content_type = "application/json"

    def __init__(
        self, settings: Settings | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(clock)
        self.settings = settings or Settings()
        self.store = MailjetStore(self.settings, clock)
        self.keys: dict[str, str] = {self.settings.api_key: self.settings.api_secret}
        self.limiter = FixedWindowLimiter(clock)
        self.reads = Reads(self.store)
        self.writes = Writes(self.store)
        self.admin = Admin(self)

    def label(self, req: Request) -> str:
        if req.path.startswith("/_emulator"):
            return "admin"
        try:
            return f"{req.method} {parse_route(req.path).label}"
        except MailjetError:
            return f"{req.method} {req.path}"

    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "429":
            self.counters.throttled += 1
            return MailjetError(429, "Too many requests").response()
        if fault.kind == "502":
            return envelope.nginx_error(502, "Bad Gateway")
        if fault.kind == "503":
            return envelope.nginx_error(503, "Service Temporarily Unavailable")
        return MailjetError(500, "Internal Server Error", identifier=True).response()

    # ----- the request pipeline -------------------------------------------------------------
    async def handle(self, req: Request) -> Response:
        if req.path.startswith("/_emulator"):
            return await self.admin.handle(req)
        resp = self._answer(req)
        if self.settings.latency_ms > 0:  # the network is that far away, for every answer
            await asyncio.sleep(self.settings.latency_ms / 1000)
        return resp

    def _answer(self, req: Request) -> Response:
        if not req.path.startswith("/v3/"):
            return envelope.nginx_not_found()
        key = self._authenticate(req)
        if key is None:
            return envelope.unauthorized()
        try:
            self._rate_limit(key)
            return self._dispatch(req, parse_route(req.path))
        except MailjetError as err:
            return err.response()

    def _authenticate(self, req: Request) -> str | None:
        """The API key of a valid `Authorization: Basic base64(key:secret)`, else None."""
        scheme, _, encoded = req.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            key, _, secret = base64.b64decode(encoded.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return key if key in self.keys and self.keys[key] == secret else None

    def _rate_limit(self, key: str) -> None:
        """A fixed one-second window per API key; Mailjet sends no rate-limit headers."""
        per_s = self.settings.rate_limit_per_s
        if per_s <= 0:
            return
        decision = self.limiter.check(key, [("api", Limit(burst=per_s, steady=per_s * 60))])
        if not decision.allowed:
            self.counters.throttled += 1
            raise MailjetError(429, "Too many requests")

    def _dispatch(self, req: Request, route: Route) -> Response:
        r, w, ref, method = self.reads, self.writes, route.ref, req.method
        if route.action is not None:
            assert ref is not None
            if method != ACTIONS[(route.resource, route.action)]:
                raise MailjetError(405, "Method not allowed")
            if route.action == "getcontactslists":
                return r.contact_lists(ref)
            return w.manage_contact_lists(ref, req)
        table: dict[tuple[str, str, bool], Callable[[], Response]] = {
            ("GET", "contactslist", False): lambda: r.contactslists(req),
            ("GET", "contactslist", True): lambda: r.contactslist(ref or ""),
            ("POST", "contactslist", False): lambda: w.create_list(req),
            ("PUT", "contactslist", True): lambda: w.update_list(ref or "", req),
            ("DELETE", "contactslist", True): lambda: w.delete_list(ref or ""),
            ("GET", "contact", False): lambda: r.contacts(req),
            ("GET", "contact", True): lambda: r.contact(ref or ""),
            ("POST", "contact", False): lambda: w.create_contact(req),
            ("PUT", "contact", True): lambda: w.update_contact(ref or "", req),
            ("GET", "contactdata", False): lambda: r.contactdatas(req),
            ("GET", "contactdata", True): lambda: r.contactdata(ref or ""),
            ("POST", "contactdata", False): lambda: w.create_contactdata(req),
            ("PUT", "contactdata", True): lambda: w.update_contactdata(ref or "", req),
            ("GET", "contactmetadata", False): lambda: r.metadatas(req),
            ("GET", "contactmetadata", True): lambda: r.metadata(ref or ""),
            ("POST", "contactmetadata", False): lambda: w.create_property(req),
            ("PUT", "contactmetadata", True): lambda: w.update_property(ref or "", req),
            ("DELETE", "contactmetadata", True): lambda: w.delete_property(ref or ""),
            ("GET", "listrecipient", False): lambda: r.recipients(req),
            ("GET", "listrecipient", True): lambda: r.recipient(ref or ""),
            ("POST", "listrecipient", False): lambda: w.create_recipient(req),
            ("PUT", "listrecipient", True): lambda: w.update_recipient(ref or "", req),
            ("DELETE", "listrecipient", True): lambda: w.delete_recipient(ref or ""),
        }
        handler = table.get((method, route.resource, ref is not None))
        if handler is None:
            raise MailjetError(405, "Method not allowed")
        return handler()
