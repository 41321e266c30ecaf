"""The emulator as an ASGI application: routing, auth, revision, scopes, rate limits, faults."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from engage_desktop.emulator import hostile, lists
from engage_desktop.emulator.admin import Admin
from engage_desktop.emulator.base import MAX_BODY, ServiceEmulator
from engage_desktop.emulator.data import AccountData
from engage_desktop.emulator.faults import Fault
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


class KlaviyoEmulator(ServiceEmulator):
    """A local Klaviyo: an ASGI app serving the endpoints Engage Desktop uses."""

    service = "Klaviyo"
    content_type = "application/vnd.api+json"
    shaping_kinds = hostile.KINDS

    def __init__(self, settings: Settings | None = None, clock: Callable[[], float] = time.time):
        super().__init__(clock)
        self.settings = settings or Settings()
        s = self.settings
        self.store = Store(AccountData(s.seed, s.profiles, s.lists), clock)
        self.store.keys[s.api_key] = ALL_SCOPES
        self.limiter = FixedWindowLimiter(clock)
        self.cursors = Cursors(f"cursor-secret-{s.seed}")
        self.profiles = ProfileViews(self.store, self.cursors)
        self.jobs = JobRunner(self.store, s.job_delay_s)
        self.admin = Admin(self)
        self.ops = operations()

    def label(self, req: Request) -> str:
        if req.path.startswith("/_emulator"):
            return "admin"
        for pattern, methods in ROUTES:
            if pattern.match(req.path):
                return methods.get(req.method, req.path)
        return req.path

    def shape(self, req: Request, resp: Response, fault: Fault) -> Response:
        shaped = hostile.reshape(req, resp, fault)
        if shaped is None:
            self.faults.give_back(fault)
        return shaped or resp

    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "429":
            # `detail`: the seconds Klaviyo asks for (sent as Retry-After); none by default.
            wait = fault.detail or "1"
            err = ApiError(
                429,
                "throttled",
                "Request was throttled.",
                f"Request was throttled. Expected available in {wait} second"
                f"{'' if wait == '1' else 's'}.",
                headers={"retry-after": fault.detail} if fault.detail else None,
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
