"""The emulator as an ASGI application: routing, auth, revision, scopes, rate limits, faults."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from engage_desktop.emulator import lists
from engage_desktop.emulator.admin import Admin
from engage_desktop.emulator.data import AccountData
from engage_desktop.emulator.faults import Fault, FaultBoard
from engage_desktop.emulator.jobs import JobRunner
from engage_desktop.emulator.profiles import ProfileViews
from engage_desktop.emulator.ratelimit import FixedWindowLimiter, Limit
from engage_desktop.emulator.spec import PREDICTIVE_ANALYTICS, PROFILE_COUNT, Operation, operations
from engage_desktop.emulator.store import ALL_SCOPES, DEMO_API_KEY, Store
from engage_desktop.emulator.wire import (
    ApiError,
    Cursors,
    Request,
    Response,
    bad_request,
    json_response,
)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_ID = r"(?P<id>[^/]+)"
ROUTES: list[tuple[re.Pattern[str], dict[str, str]]] = [
    (re.compile(rf"^/api/{p}/?$"), methods)
    for p, methods in [
        ("accounts", {"GET": "get_accounts"}),
        ("profiles", {"GET": "get_profiles"}),
        (f"profiles/{_ID}", {"GET": "get_profile"}),
        ("lists", {"GET": "get_lists"}),
        (f"lists/{_ID}", {"GET": "get_list"}),
        (f"lists/{_ID}/profiles", {"GET": "get_profiles_for_list"}),
        (f"lists/{_ID}/relationships/profiles", {"GET": "get_profile_ids_for_list"}),
        ("profile-subscription-bulk-delete-jobs", {"POST": "bulk_unsubscribe_profiles"}),
        ("profile-subscription-bulk-create-jobs", {"POST": "bulk_subscribe_profiles"}),
    ]
]
_REVISION = re.compile(r"^\d{4}-\d{2}-\d{2}(\.pre)?$")
MAX_BODY = 5 * 1024 * 1024


class ConnectionDropped(Exception):
    """Raised mid-response to make the server drop the connection (an injected fault)."""


@dataclass
class Settings:
    """How the emulator behaves (the `engage-desktop emulator` options)."""

    profiles: int = 5000
    lists: int = 8
    seed: int = 1
    api_key: str = DEMO_API_KEY
    latency_ms: float = 0.0
    rate_limits: bool = True
    job_delay_s: float = 0.5


@dataclass
class Counters:
    """What was asked and answered, for tests and benchmarks."""

    requests: Counter[tuple[str, int]] = field(default_factory=Counter)
    throttled: int = 0

    def as_json(self) -> dict[str, Any]:
        by_op: dict[str, dict[str, int]] = {}
        for (op, status), n in sorted(self.requests.items()):
            by_op.setdefault(op, {})[str(status)] = n
        return {
            "requests": by_op,
            "total": sum(self.requests.values()),
            "throttled": self.throttled,
        }


class KlaviyoEmulator:
    """A local Klaviyo: an ASGI app serving the endpoints Engage Desktop uses."""

    def __init__(self, settings: Settings | None = None, clock: Callable[[], float] = time.time):
        self.settings = settings or Settings()
        s = self.settings
        self.clock = clock
        self.store = Store(AccountData(s.seed, s.profiles, s.lists), clock)
        self.store.keys[s.api_key] = ALL_SCOPES
        self.limiter = FixedWindowLimiter(clock)
        self.faults = FaultBoard()
        self.counters = Counters()
        self.cursors = Cursors(f"cursor-secret-{s.seed}")
        self.profiles = ProfileViews(self.store, self.cursors)
        self.jobs = JobRunner(self.store, s.job_delay_s)
        self.admin = Admin(self)
        self.ops = operations()

    # ----- ASGI -------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > MAX_BODY + 1 or not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host") or "{}:{}".format(*(scope.get("server") or ("127.0.0.1", 80)))
        req = Request(
            method=scope["method"],
            path=scope["path"],
            query=parse_qsl(
                scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True
            ),
            headers=headers,
            body=body,
            base_url=f"{scope.get('scheme', 'http')}://{host}",
        )
        fault = self.faults.take(req.path)
        if fault is not None and fault.kind == "delay":
            await asyncio.sleep(fault.delay_s)
            fault = None
        if fault is not None and fault.kind == "drop":
            self.counters.requests[(self._label(req), 0)] += 1
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"application/vnd.api+json"),
                        (b"content-length", b"1000"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b'{"data": [', "more_body": True})
            raise ConnectionDropped("injected fault: connection dropped")
        if fault is None:
            resp = await self.handle(req)
        elif fault.kind == "truncate":
            resp = await self.handle(req)
            resp.body = resp.body[: max(1, len(resp.body) // 2)]
        else:
            resp = self._fault_response(fault)
        self.counters.requests[(self._label(req), resp.status)] += 1
        raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in resp.headers.items()]
        raw_headers.append((b"content-length", str(len(resp.body)).encode()))
        await send({"type": "http.response.start", "status": resp.status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": resp.body})

    def _label(self, req: Request) -> str:
        if req.path.startswith("/_emulator"):
            return "admin"
        for pattern, methods in ROUTES:
            if pattern.match(req.path):
                return methods.get(req.method, req.path)
        return req.path

    def _fault_response(self, fault: Fault) -> Response:
        if fault.kind == "429":
            err = ApiError(
                429,
                "throttled",
                "Request was throttled.",
                "Request was throttled. Expected available in 1 second.",
            )
            self.counters.throttled += 1
            return err.response()
        if fault.kind == "502":
            return Response(
                502, b"<html><body>502 Bad Gateway</body></html>", {"content-type": "text/html"}
            )
        status = int(fault.kind) if fault.kind.isdigit() else 500
        return ApiError(
            status, "error", "A server error occurred.", "A server error occurred."
        ).response()

    # ----- the request pipeline ---------------------------------------------------------
    async def handle(self, req: Request) -> Response:
        try:
            if req.path.startswith("/_emulator"):
                return await self.admin.handle(req)
            op, params = self._route(req)
            scopes, account = self._authenticate(req)
            self._check_revision(req)
            missing = [s for s in op.scopes if s not in scopes]
            if missing:
                raise ApiError(
                    403,
                    "permission_denied",
                    "You do not have permission to perform this action.",
                    "You do not have permission to perform this action.",
                )
            if req.method == "POST":
                ctype = req.headers.get("content-type", "").split(";")[0].strip()
                if ctype not in ("application/vnd.api+json", "application/json"):
                    raise ApiError(
                        415,
                        "unsupported_media_type",
                        "Unsupported media type.",
                        f'Unsupported media type "{ctype}" in request.',
                    )
                if len(req.body) > MAX_BODY:
                    raise ApiError(
                        413,
                        "payload_too_large",
                        "Payload too large.",
                        "The request payload exceeds 5 MB.",
                    )
            for name, _ in req.query:
                if not op.accepts(name):
                    raise bad_request(f"'{name}' is not a valid query parameter.", parameter=name)
            headers = self._rate_limit(req, op, account)
            if self.settings.latency_ms > 0:
                await asyncio.sleep(self.settings.latency_ms / 1000)
            resp = self._dispatch(req, op, params)
            resp.headers.update(headers)
            return resp
        except ApiError as err:
            return err.response()

    def _route(self, req: Request) -> tuple[Operation, dict[str, str]]:
        for pattern, methods in ROUTES:
            m = pattern.match(req.path)
            if m:
                if req.method not in methods:
                    raise ApiError(
                        405,
                        "method_not_allowed",
                        "Method not allowed.",
                        f'Method "{req.method}" not allowed.',
                        headers={"allow": ", ".join(methods)},
                    )
                return self.ops[methods[req.method]], m.groupdict()
        raise ApiError(404, "not_found", "Not found.", "The requested resource was not found.")

    def _authenticate(self, req: Request) -> tuple[frozenset[str], str]:
        auth = req.headers.get("authorization", "")
        scheme, _, key = auth.partition(" ")
        scopes = self.store.keys.get(key.strip()) if scheme == "Klaviyo-API-Key" else None
        if scopes is None:
            raise ApiError(
                401,
                "not_authenticated",
                "Authentication credentials were not provided.",
                "Missing or invalid authorization scheme. Please use Klaviyo-API-Key.",
            )
        return scopes, self.store.data.account_id

    def _check_revision(self, req: Request) -> None:
        rev = req.headers.get("revision")
        if rev is None:
            raise bad_request("The 'revision' header is required.", parameter="revision")
        if not _REVISION.match(rev.strip()):
            raise bad_request(
                f"Invalid revision '{rev}'. Use the format YYYY-MM-DD.", parameter="revision"
            )

    def _rate_limit(self, req: Request, op: Operation, account: str) -> dict[str, str]:
        if not self.settings.rate_limits:
            return {}
        buckets: list[tuple[str, Limit]] = [(op.id, op.limit)]
        if op.id == "get_list" and lists.wants_profile_count(req):
            buckets.append(("profile_count", PROFILE_COUNT))
        if "predictive_analytics" in (req.param("additional-fields[profile]") or ""):
            buckets.append(("predictive_analytics", PREDICTIVE_ANALYTICS))
        d = self.limiter.check(account, buckets)
        if not d.allowed:
            self.counters.throttled += 1
            raise ApiError(
                429,
                "throttled",
                "Request was throttled.",
                f"Request was throttled. Expected available in {d.retry_after} seconds.",
                headers={"retry-after": str(d.retry_after)},
            )
        lim = d.limit
        return {
            "ratelimit-limit": f"{lim.steady}, {lim.burst};w=1, {lim.steady};w=60",
            "ratelimit-remaining": str(max(d.remaining, 0)),
            "ratelimit-reset": str(d.reset),
        }

    def _dispatch(self, req: Request, op: Operation, params: dict[str, str]) -> Response:
        store = self.store
        if op.id == "get_accounts":
            return lists.get_accounts(req, store)
        if op.id == "get_profiles":
            return self.profiles.get_profiles(req, op)
        if op.id == "get_profile":
            return self.profiles.get_profile(req, op, params["id"])
        if op.id == "get_lists":
            return lists.get_lists(req, op, store, self.cursors)
        if op.id == "get_list":
            return lists.get_list(req, op, store, params["id"])
        if op.id in ("get_profiles_for_list", "get_profile_ids_for_list"):
            lst = store.lists.get(params["id"])
            if lst is None:
                raise ApiError(
                    404, "not_found", "Not found.", f"A list with id {params['id']} does not exist."
                )
            return self.profiles.get_list_members(
                req, op, lst, ids_only=op.id == "get_profile_ids_for_list"
            )
        if op.id in ("bulk_unsubscribe_profiles", "bulk_subscribe_profiles"):
            return self.jobs.submit(req, subscribe=op.id == "bulk_subscribe_profiles")
        return json_response(500, {"errors": []})
