"""`KlaviyoClient`: one `httpx.AsyncClient` per account, every request through one pipeline."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.request
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx
import orjson

from engage_desktop import __version__
from engage_desktop.core.secrets import ApiKey
from engage_desktop.core.urls import check_base_url, origin, same_origin_link
from engage_desktop.klaviyo import models
from engage_desktop.klaviyo.errors import (
    AuthenticationError,
    BadRequestError,
    KlaviyoError,
    MalformedResponseError,
    MissingScopeError,
    NetworkError,
    NotFoundError,
    ServerError,
    ThrottledError,
    UnsafeLinkError,
)
from engage_desktop.klaviyo.models import Account, KeyCheck, KlaviyoList, Profile
from engage_desktop.klaviyo.ratelimit import (
    ACCOUNTS,
    PROFILE_COUNT,
    STANDARD,
    Limit,
    RateBudget,
    backoff,
    parse_first_int,
    retry_after_seconds,
)
from engage_desktop.klaviyo.scopes import PURPOSE, READ_SCOPES, WRITE_SCOPES, ScopeNeed

log = logging.getLogger(__name__)

REVISION = "2026-07-15"
DEFAULT_BASE_URL = "https://a.klaviyo.com"
PAGE_SIZE = 100
UNSUBSCRIBE_BATCH = 100
# The longest a whole answer may take to arrive, however steadily its bytes trickle in.
REQUEST_DEADLINE_S = 120.0
PAGED_SCOPES: dict[str, tuple[str, ...]] = {
    "get_lists": ("lists:read",),
    "get_profiles": ("profiles:read",),
    "get_profiles_for_list": ("lists:read", "profiles:read"),
    "get_profile_ids_for_list": ("lists:read", "profiles:read"),
}


@dataclass
class ClientStats:
    """What this client has done, for progress displays and benchmarks."""

    requests: int = 0
    throttled: int = 0  # 429s received
    retries: int = 0
    # Signs that a listing may be incomplete (an empty page that still has a next page):
    # a full sync that saw any removes nothing.
    gaps: list[str] = field(default_factory=list)


class KlaviyoClient:
    """Talks to one Klaviyo account. Use as `async with KlaviyoClient(key) as client:`."""

    def __init__(
        self,
        api_key: ApiKey,
        base_url: str = DEFAULT_BASE_URL,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        budget: RateBudget | None = None,
        timeout_s: float = 30.0,
        deadline_s: float = REQUEST_DEADLINE_S,
        max_wait_s: float = 300.0,
        max_attempts: int = 8,
        retry_base_s: float = 0.5,
        max_in_flight: int = 128,
        on_retry: Callable[[str, int, int, float], None] | None = None,
    ) -> None:
        """`max_in_flight`: requests on the wire at once; the rest wait their turn here.
        `timeout_s` bounds each wait for bytes; `deadline_s` the whole answer. `on_retry`
        hears (problem, attempt, attempts allowed, seconds until the retry) before each wait,
        so that a person waiting is told what is going on.
        The base URL must be https (http only to this machine): UnsafeUrlError otherwise.

        httpcore's pool re-checks every connection it holds on each request and response
        (quadratic in idle ones), so connections beyond what the link needs cost CPU for
        nothing: a server without latency is saturated by a dozen.
        """
        self._key = api_key
        self.base_url = check_base_url(base_url)
        self._deadline_s = deadline_s
        self.budget = budget or RateBudget()
        self.stats = ClientStats()
        self._max_wait_s = max_wait_s
        self._max_attempts = max_attempts
        self._retry_base_s = retry_base_s
        self._on_retry = on_retry
        self._count_cache: dict[str, tuple[float, int]] = {}
        self._in_flight = asyncio.Semaphore(max_in_flight)
        limits = httpx.Limits(
            max_connections=max_in_flight, max_keepalive_connections=max_in_flight
        )
        # Requests go straight to the transport: Klaviyo's API uses no redirects, cookies or
        # auth flows, and skipping the client's handling of them saves about a fifth of the CPU
        # a request costs. With a proxy set in the environment the client routes them instead.
        self._direct = transport
        if transport is None and not urllib.request.getproxies():
            self._direct = httpx.AsyncHTTPTransport(limits=limits)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=self._direct,
            timeout=httpx.Timeout(timeout_s, connect=10.0),
            limits=limits,
            headers={
                "Authorization": f"Klaviyo-API-Key {api_key.reveal()}",
                "revision": REVISION,
                "Accept": "application/vnd.api+json",
                "User-Agent": f"engage-desktop/{__version__}",
            },
        )

    def __repr__(self) -> str:
        return f"KlaviyoClient({self.base_url!r}, key={self._key.masked})"

    async def __aenter__(self) -> KlaviyoClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # ----- the one request pipeline -----------------------------------------------------
    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        body: dict[str, Any] | None = None,
        buckets: list[tuple[str, Limit]],
        doing: str,
        scopes: tuple[str, ...] = (),
    ) -> Any:
        """Send with admission control and retries; the parsed JSON (None for empty bodies).

        `doing` names the operation in plain words for error messages.
        """
        started = time.monotonic()
        attempt = 0
        content = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/vnd.api+json"} if body is not None else None
        last_problem = ""
        while True:
            await self.budget.acquire(buckets)
            self.stats.requests += 1
            wait: float
            try:
                async with self._in_flight, asyncio.timeout(self._deadline_s):
                    resp = await self._send(
                        self._http.build_request(
                            method, url, params=params, content=content, headers=headers
                        )
                    )
            except httpx.TransportError as exc:
                last_problem = f"{type(exc).__name__}"
                wait = backoff(attempt, self._retry_base_s)
            except TimeoutError:
                last_problem = f"no complete answer within {self._deadline_s:.0f} s"
                wait = backoff(attempt, self._retry_base_s)
            else:
                if resp.status_code < 300:
                    self._observe(resp, buckets)
                    if not resp.content:
                        return None
                    try:
                        return orjson.loads(resp.content)
                    except ValueError:
                        last_problem = "malformed JSON"
                        wait = backoff(attempt, self._retry_base_s)
                elif resp.status_code == 429:
                    self.stats.throttled += 1
                    wait = retry_after_seconds(
                        resp.headers.get("retry-after"), _detail(resp), attempt, self._retry_base_s
                    )
                    for name, limit in buckets:
                        self.budget.penalize(name, limit, wait)
                    last_problem = "throttled"
                elif resp.status_code >= 500:
                    last_problem = f"HTTP {resp.status_code}"
                    wait = backoff(attempt, self._retry_base_s)
                else:
                    raise self._client_error(resp, doing, scopes)
            attempt += 1
            elapsed = time.monotonic() - started
            if attempt >= self._max_attempts or elapsed + wait > self._max_wait_s:
                raise self._give_up(last_problem, doing, attempt, elapsed, wait)
            self.stats.retries += 1
            log.info("%s: %s; retry %d in %.1f s", doing, last_problem, attempt, wait)
            if self._on_retry is not None:
                self._on_retry(last_problem, attempt, self._max_attempts, wait)
            await asyncio.sleep(wait)

    async def _send(self, request: httpx.Request) -> httpx.Response:
        if self._direct is None:
            return await self._http.send(request)
        response = await self._direct.handle_async_request(request)
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    def _observe(self, resp: httpx.Response, buckets: list[tuple[str, Limit]]) -> None:
        remaining = parse_first_int(resp.headers.get("ratelimit-remaining"))
        reset = parse_first_int(resp.headers.get("ratelimit-reset"))
        name, limit = buckets[0]
        self.budget.observe(name, limit, remaining, reset)

    def _client_error(
        self, resp: httpx.Response, doing: str, scopes: tuple[str, ...]
    ) -> KlaviyoError:
        if resp.status_code == 401:
            return AuthenticationError()
        if resp.status_code == 403:
            return MissingScopeError(list(scopes) or ["(unknown)"], doing)
        if resp.status_code == 404:
            return NotFoundError(
                f"Klaviyo could not find what we asked for while trying to {doing}.", 404
            )
        return BadRequestError(
            f"Klaviyo refused our request to {doing} ({resp.status_code}): {_detail(resp)}",
            resp.status_code,
        )

    def _give_up(
        self, problem: str, doing: str, attempts: int, elapsed: float, wait: float
    ) -> KlaviyoError:
        where = f"after {attempts} attempt{'s' if attempts != 1 else ''} over {elapsed:.0f} s"
        if problem == "throttled":
            if wait > self._max_wait_s:
                return ThrottledError(
                    f"Klaviyo is rate-limiting this account and asked us to wait "
                    f"{_duration(wait)} before trying again (other apps may share its quota); "
                    f"could not {doing}. Try again after that.",
                    429,
                )
            return ThrottledError(
                f"Klaviyo is rate-limiting this account (other apps may share its quota); "
                f"could not {doing} {where}. Try again in a few minutes.",
                429,
            )
        if problem.startswith("HTTP"):
            return ServerError(
                f"Klaviyo is having trouble ({problem}); could not {doing} {where}. "
                f"Try again later; status.klaviyo.com shows incidents.",
            )
        if problem == "malformed JSON":
            return MalformedResponseError(
                f"Klaviyo's answers were not valid JSON; could not {doing} {where}."
            )
        return NetworkError(
            f"Could not reach Klaviyo at {self.base_url} ({problem}); could not {doing} {where}. "
            f"Check your internet connection and the base URL.",
        )

    # ----- account and key ----------------------------------------------------------------
    async def get_account(self) -> Account:
        doc = await self.request(
            "GET",
            "/api/accounts",
            buckets=[("get_accounts", ACCOUNTS)],
            doing="read the account",
            scopes=("accounts:read",),
        )
        data = models.resources(doc)
        if not data:
            raise MalformedResponseError("Klaviyo returned no account for this key.")
        return models.parse_account(data[0])

    async def validate_key(self) -> KeyCheck:
        """The key's account and which of the scopes we need it lacks (each with its purpose)."""
        missing: list[str] = []
        account = Account("?", "(unknown account)", None)
        try:
            account = await self.get_account()
        except MissingScopeError:
            missing.append("accounts:read")
        probes: list[tuple[str, str, dict[str, str], tuple[str, ...]]] = [
            ("get_lists", "/api/lists", {"page[size]": "1"}, ("lists:read",)),
            ("get_profiles", "/api/profiles", {"page[size]": "1"}, ("profiles:read",)),
        ]
        for op, path, params, scopes in probes:
            try:
                await self.request(
                    "GET",
                    path,
                    params=params,
                    buckets=[(op, STANDARD)],
                    doing="check the key's scopes",
                    scopes=scopes,
                )
            except MissingScopeError:
                missing.extend(scopes)
        # An empty job is refused as invalid (400) only once the write scopes were granted.
        empty_job = {
            "data": {
                "type": "profile-subscription-bulk-delete-job",
                "attributes": {"profiles": {"data": []}},
            }
        }
        try:
            await self.request(
                "POST",
                "/api/profile-subscription-bulk-delete-jobs",
                body=empty_job,
                buckets=[("bulk_unsubscribe_profiles", STANDARD)],
                doing="check the key's scopes",
                scopes=WRITE_SCOPES,
            )
        except MissingScopeError:
            missing.extend(WRITE_SCOPES)
        except BadRequestError:
            pass
        order = [*READ_SCOPES, *WRITE_SCOPES]
        needs = [ScopeNeed(s, PURPOSE[s]) for s in order if s in missing]
        return KeyCheck(account, needs)

    # ----- lists ----------------------------------------------------------------------------
    async def get_lists(self) -> list[KlaviyoList]:
        out: list[KlaviyoList] = []
        async for page in self.iter_pages(
            "/api/lists", {"page[size]": "10"}, "get_lists", "read your lists"
        ):
            for resource in page:
                try:
                    out.append(models.parse_list(resource))
                except MalformedResponseError as exc:
                    self.stats.gaps.append(f"a list Klaviyo sent could not be read ({exc})")
        return out

    async def list_exists(self, list_id: str) -> bool:
        """Whether Klaviyo still has this list (asked directly, not from a listing)."""
        try:
            await self.request(
                "GET",
                f"/api/lists/{list_id}",
                buckets=[("get_list", STANDARD)],
                doing="check that a list still exists",
                scopes=("lists:read",),
            )
        except NotFoundError:
            return False
        return True

    async def get_profile(self, profile_id: str, fields: tuple[str, ...] | None = None) -> Any:
        """One profile's resource (with SMS consent), or None when Klaviyo has no such profile."""
        params = profile_params(None, None, True, fields)
        del params["page[size]"]
        try:
            doc = await self.request(
                "GET",
                f"/api/profiles/{profile_id}",
                params=params,
                buckets=[("get_profile", STANDARD)],
                doing="read a profile",
                scopes=("profiles:read",),
            )
        except NotFoundError:
            return None
        data = doc.get("data") if isinstance(doc, dict) else None
        if not isinstance(data, dict):
            raise MalformedResponseError("Klaviyo sent a profile without data.")
        return data

    async def list_profile_count(self, list_id: str, max_age_s: float = 3600.0) -> int:
        """A list's size. Klaviyo allows 15 such calls a minute, so answers are cached."""
        cached = self._count_cache.get(list_id)
        if cached and time.monotonic() - cached[0] < max_age_s:
            return cached[1]
        doc = await self.request(
            "GET",
            f"/api/lists/{list_id}",
            params={"additional-fields[list]": "profile_count"},
            buckets=[("get_list", STANDARD), ("profile_count", PROFILE_COUNT)],
            doing="count a list's members",
            scopes=("lists:read",),
        )
        data = doc.get("data") if isinstance(doc, dict) else None
        if not isinstance(data, dict):
            raise MalformedResponseError("Klaviyo sent a list without data.")
        count = models.parse_list(data).profile_count
        if count is None:
            raise MalformedResponseError("Klaviyo sent a list without its profile count.")
        self._count_cache[list_id] = (time.monotonic(), count)
        return count

    # ----- profiles ---------------------------------------------------------------------------
    async def get_page(self, url: str, params: dict[str, str] | None, op: str, doing: str) -> Any:
        """One page of a paged GET operation (`op` is its operation id)."""
        return await self.request(
            "GET",
            url,
            params=params,
            buckets=[(op, STANDARD)],
            doing=doing,
            scopes=PAGED_SCOPES[op],
        )

    async def iter_pages(
        self, path: str, params: dict[str, str], op: str, doing: str
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """One cursor chain: each page's resources, following `links.next` to the end.

        A next link is followed only on the base URL's scheme, host and port (the key goes
        nowhere else), and never twice (a cursor that repeats would loop forever). An empty
        page that still has a next page is noted in `stats.gaps`: the listing may be missing
        what that page should have held.
        """
        url: str | None = path
        first: dict[str, str] | None = params
        followed: set[str] = set()
        while url:
            doc = await self.get_page(url, first, op, doing)
            page = models.resources(doc)
            nxt = models.next_link(doc)
            if nxt is not None:
                safe = same_origin_link(self.base_url, nxt)
                if safe is None:
                    raise UnsafeLinkError(redact_link(nxt), doing)
                if safe in followed:
                    raise MalformedResponseError(
                        f"Klaviyo sent the same next page twice while we tried to {doing} "
                        f"(a page cursor that repeats would never end); stopped."
                    )
                followed.add(safe)
                if not page:
                    self.stats.gaps.append(f"an empty page in the middle while trying to {doing}")
                nxt = safe
            yield page
            url, first = nxt, None

    async def iter_profiles(
        self, filter: str | None = None, sort: str | None = None, subscriptions: bool = True
    ) -> AsyncIterator[list[Profile]]:
        """Profiles (with SMS consent) page by page, in one chain."""
        params = profile_params(filter, sort, subscriptions)
        async for page in self.iter_pages("/api/profiles", params, "get_profiles", "read profiles"):
            yield models.read_profiles(page)[0]

    async def iter_list_members(
        self, list_id: str, filter: str | None = None, subscriptions: bool = True
    ) -> AsyncIterator[list[Profile]]:
        """A list's members with `joined_group_at`, oldest join first."""
        params = profile_params(filter, "joined_group_at", subscriptions)
        async for page in self.iter_pages(
            f"/api/lists/{list_id}/profiles", params, "get_profiles_for_list", "read list members"
        ):
            yield models.read_profiles(page)[0]

    async def iter_list_member_ids(self, list_id: str) -> AsyncIterator[list[str]]:
        """Only the ids of a list's members: the cheap way to find who left."""
        async for page in self.iter_pages(
            f"/api/lists/{list_id}/relationships/profiles",
            {"page[size]": str(PAGE_SIZE)},
            "get_profile_ids_for_list",
            "read list members",
        ):
            yield [r["id"] for r in page if isinstance(r.get("id"), str)]

    async def bulk_unsubscribe_sms(self, phone_numbers: list[str]) -> None:
        """Globally unsubscribe these E.164 numbers from SMS marketing (one job, <= 100)."""
        if not phone_numbers:
            return
        if len(phone_numbers) > UNSUBSCRIBE_BATCH:
            raise ValueError(f"at most {UNSUBSCRIBE_BATCH} profiles per unsubscribe job")
        body = {
            "data": {
                "type": "profile-subscription-bulk-delete-job",
                "attributes": {
                    "profiles": {
                        "data": [
                            {
                                "type": "profile",
                                "attributes": {
                                    "phone_number": phone,
                                    "subscriptions": {
                                        "sms": {"marketing": {"consent": "UNSUBSCRIBED"}}
                                    },
                                },
                            }
                            for phone in phone_numbers
                        ]
                    }
                },
            }
        }
        await self.request(
            "POST",
            "/api/profile-subscription-bulk-delete-jobs",
            body=body,
            buckets=[("bulk_unsubscribe_profiles", STANDARD)],
            doing="send opt-outs to Klaviyo",
            scopes=WRITE_SCOPES,
        )


def profile_params(
    filter: str | None,
    sort: str | None,
    subscriptions: bool,
    fields: tuple[str, ...] | None = None,
) -> dict[str, str]:
    """Query of a profile page; `fields`: a sparse fieldset (None: every attribute)."""
    params = {"page[size]": str(PAGE_SIZE)}
    if subscriptions:
        params["additional-fields[profile]"] = "subscriptions"
    if fields:
        params["fields[profile]"] = ",".join(fields)
    if filter:
        params["filter"] = filter
    if sort:
        params["sort"] = sort
    return params


def redact_link(url: str) -> str:
    """Where a refused link pointed, as it may be shown: its origin only."""
    scheme, host, port = origin(url)
    return f"{scheme}://{host}:{port}"


def _duration(seconds: float) -> str:
    if seconds >= 5400:
        return f"{seconds / 3600:.1f} hours"
    if seconds >= 90:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds:.0f} seconds"


def _detail(resp: httpx.Response) -> str:
    try:
        errors = resp.json().get("errors") or []
        return "; ".join(str(e.get("detail") or e.get("title")) for e in errors) or resp.text[:200]
    except (ValueError, AttributeError):
        return resp.text[:200]
