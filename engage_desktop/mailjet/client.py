"""`MailjetClient`: one `httpx.AsyncClient` per key pair, every request through one pipeline
(rate budget, retries with back-off, a deadline per answer, typed errors)."""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx
import orjson

from engage_desktop import __version__
from engage_desktop.core.secrets import ApiKey
from engage_desktop.core.urls import check_base_url
from engage_desktop.mailjet.errors import (
    AuthenticationError,
    BadRequestError,
    ForbiddenError,
    MailjetError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    ServerError,
    ThrottledError,
)
from engage_desktop.mailjet.listing import Listing, PageShare
from engage_desktop.mailjet.models import (
    ContactData,
    MailjetContact,
    MailjetList,
    MalformedRow,
    Property,
    parse_contact,
    parse_contact_data,
    parse_list,
    parse_property,
)
from engage_desktop.mailjet.ratelimit import RateBudget, backoff, retry_after_seconds

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.mailjet.com"
REST = "/v3/REST"
PAGE_SIZE = 1000  # Mailjet's largest page
REQUEST_DEADLINE_S = 120.0  # the longest a whole answer may take, however its bytes trickle


@dataclass
class ClientStats:
    """What this client has done, for progress displays and benchmarks."""

    requests: int = 0
    throttled: int = 0  # 429s received
    retries: int = 0


@dataclass(frozen=True)
class AccountSummary:
    """What a key check learns: the key pair works, and the account's size."""

    contacts: int
    lists: int


class MailjetClient:
    """Talks to one Mailjet account. Use as `async with MailjetClient(key, secret) as c:`."""

    def __init__(
        self,
        api_key: ApiKey,
        secret_key: ApiKey,
        base_url: str = DEFAULT_BASE_URL,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        budget: RateBudget | None = None,
        timeout_s: float = 30.0,
        deadline_s: float = REQUEST_DEADLINE_S,
        max_wait_s: float = 300.0,
        max_attempts: int = 8,
        retry_base_s: float = 0.5,
        max_in_flight: int = 32,
        on_retry: Callable[[str, int, int, float], None] | None = None,
    ) -> None:
        """The base URL must be https (http only to this machine): UnsafeUrlError otherwise.
        `on_retry` hears (problem, attempt, attempts allowed, seconds until the retry)."""
        self._key = api_key
        self.base_url = check_base_url(base_url)
        self.budget = budget or RateBudget()
        self.stats = ClientStats()
        self._deadline_s = deadline_s
        self._max_wait_s = max_wait_s
        self._max_attempts = max_attempts
        self._retry_base_s = retry_base_s
        self._on_retry = on_retry
        self._in_flight = asyncio.Semaphore(max_in_flight)
        token = base64.b64encode(f"{api_key.reveal()}:{secret_key.reveal()}".encode()).decode()
        limits = httpx.Limits(
            max_connections=max_in_flight, max_keepalive_connections=max_in_flight
        )
        # Mailjet answers without redirects or cookies; a redirect is never followed (the
        # credentials would go with it).
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            timeout=httpx.Timeout(timeout_s, connect=10.0),
            limits=limits,
            follow_redirects=False,
            headers={
                "Authorization": f"Basic {token}",
                "Accept": "application/json",
                "User-Agent": f"engage-desktop/{__version__}",
            },
        )

    def __repr__(self) -> str:
        return f"MailjetClient({self.base_url!r}, key={self._key.masked})"

    async def __aenter__(self) -> MailjetClient:
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
    async def get(self, resource: str, params: Mapping[str, str | int], doing: str) -> Any:
        """GET /v3/REST/<resource> with admission control and retries; the parsed JSON.
        `doing` names the operation in plain words for error messages."""
        started = time.monotonic()
        attempt = failures = 0
        query = {k: str(v) for k, v in params.items()}
        while True:
            await self.budget.acquire()
            self.stats.requests += 1
            problem, wait = "", 0.0
            try:
                async with self._in_flight, asyncio.timeout(self._deadline_s):
                    resp = await self._http.get(f"{REST}/{resource}", params=query)
            except httpx.TransportError as exc:
                problem, wait = type(exc).__name__, backoff(attempt, self._retry_base_s)
            except TimeoutError:
                problem = f"no complete answer within {self._deadline_s:.0f} s"
                wait = backoff(attempt, self._retry_base_s)
            else:
                if resp.status_code == 200:
                    try:
                        return orjson.loads(resp.content)
                    except ValueError:
                        problem, wait = "malformed JSON", backoff(attempt, self._retry_base_s)
                elif resp.status_code == 429:
                    self.stats.throttled += 1
                    wait = retry_after_seconds(
                        resp.headers.get("retry-after"), attempt - failures, self._retry_base_s
                    )
                    self.budget.penalize(wait)
                    problem = "throttled"
                elif resp.status_code >= 500:
                    problem, wait = f"HTTP {resp.status_code}", backoff(attempt, self._retry_base_s)
                else:
                    raise self._client_error(resp, doing)
            attempt += 1
            # Being throttled is not failing: a storm of 429s is waited out as long as the
            # total wait allows; other problems get `max_attempts` tries.
            failures += problem != "throttled"
            elapsed = time.monotonic() - started
            if failures >= self._max_attempts or elapsed + wait > self._max_wait_s:
                raise self._give_up(problem, doing, attempt, elapsed)
            self.stats.retries += 1
            log.info("%s: %s; retry %d in %.1f s", doing, problem, attempt, wait)
            if self._on_retry is not None:
                self._on_retry(problem, attempt, self._max_attempts, wait)
            await asyncio.sleep(wait)

    def _client_error(self, resp: httpx.Response, doing: str) -> MailjetError:
        if resp.status_code == 401:
            return AuthenticationError()
        if resp.status_code == 403:
            return ForbiddenError(
                f"Mailjet does not let this API key {doing}. Use a key with access to "
                f"contacts (Mailjet → Account settings → API keys).",
                403,
            )
        if resp.status_code == 404:
            return NotFoundError(f"Mailjet could not find what we asked for to {doing}.", 404)
        return BadRequestError(
            f"Mailjet refused our request to {doing} ({resp.status_code}): {_detail(resp)}",
            resp.status_code,
        )

    def _give_up(self, problem: str, doing: str, attempts: int, elapsed: float) -> MailjetError:
        where = f"after {attempts} attempt{'s' if attempts != 1 else ''} over {elapsed:.0f} s"
        if problem == "throttled":
            return ThrottledError(
                f"Mailjet is limiting how fast this key may ask (other apps may use it too); "
                f"could not {doing} {where}. Try again in a few minutes.",
                429,
            )
        if problem.startswith("HTTP"):
            return ServerError(
                f"Mailjet is having trouble ({problem}); could not {doing} {where}. "
                f"Try again later; status.mailjet.com shows incidents."
            )
        if problem == "malformed JSON":
            return MalformedResponseError(
                f"Mailjet's answers were not valid JSON; could not {doing} {where}."
            )
        return NetworkError(
            f"Could not reach Mailjet at {self.base_url} ({problem}); could not {doing} "
            f"{where}. Check your internet connection and the base URL."
        )

    # ----- listings -----------------------------------------------------------------------
    async def count(self, resource: str, filters: Mapping[str, str | int], doing: str) -> int:
        """How many rows a listing has now (`countOnly=1`: no rows, the global Total)."""
        doc = await self.get(resource, {**filters, "countOnly": 1}, doing)
        return total_of(doc, doing)

    async def counted_page(
        self, resource: str, filters: Mapping[str, str | int], doing: str
    ) -> tuple[int, list[Any]]:
        """The first page of a listing and how many rows the listing has now, in one
        request (`countrecords=1`: the page, and the global Total instead of the page's)."""
        params = {**filters, "Limit": PAGE_SIZE, "Offset": 0, "Sort": "ID", "countrecords": 1}
        doc = await self.get(resource, params, doing)
        return total_of(doc, doing), rows_of(doc, doing)

    async def page(
        self, resource: str, filters: Mapping[str, str | int], offset: int, doing: str
    ) -> list[Any]:
        """One page of a listing in ID order (`Limit`/`Offset`)."""
        params = {**filters, "Limit": PAGE_SIZE, "Offset": offset, "Sort": "ID"}
        return rows_of(await self.get(resource, params, doing), doing)

    def listing(
        self,
        resource: str,
        filters: Mapping[str, str | int],
        doing: str,
        chains: int | PageShare = 8,
    ) -> Listing:
        """Every row of a listing, pages fetched `chains` at a time, or as many as a share
        of pages in flight among several listings allows (see `Listing`)."""
        return Listing(self, resource, dict(filters), doing, chains, PAGE_SIZE)

    # ----- what a sync and a wizard ask ----------------------------------------------------
    async def check_key(self) -> AccountSummary:
        """The key pair works (AuthenticationError otherwise), and how big the account is."""
        contacts, lists = await asyncio.gather(
            self.count("contact", {}, "check the API key"),
            self.count("contactslist", {"IsDeleted": "false"}, "check the API key"),
        )
        return AccountSummary(contacts, lists)

    async def get_lists(self) -> list[MailjetList]:
        """The account's lists that are not deleted."""
        out: list[MailjetList] = []
        listing = self.listing("contactslist", {"IsDeleted": "false"}, "read your lists", 2)
        async for rows in listing.pages():
            for row in rows:
                try:
                    lst = parse_list(row)
                except MalformedRow as exc:
                    raise MalformedResponseError(
                        f"Mailjet sent a list that cannot be read: {exc}"
                    ) from None
                if not lst.deleted:
                    out.append(lst)
        return sorted(out, key=lambda lst: lst.id)

    async def get_list(self, list_id: int) -> MailjetList | None:
        """A list asked for by id: None when it is gone (404) or deleted."""
        try:
            doc = await self.get(f"contactslist/{list_id}", {}, "check that a list still exists")
        except NotFoundError:
            return None
        rows = rows_of(doc, "check that a list still exists")
        if not rows:
            return None
        try:
            lst = parse_list(rows[0])
        except MalformedRow as exc:
            raise MalformedResponseError(
                f"Mailjet sent a list that cannot be read: {exc}"
            ) from None
        return None if lst.deleted else lst

    async def get_properties(self) -> list[Property]:
        """The contact properties (contactmetadata) with their types."""
        out: list[Property] = []
        async for rows in self.listing("contactmetadata", {}, "read contact properties", 2).pages():
            for row in rows:
                try:
                    out.append(parse_property(row))
                except MalformedRow as exc:
                    raise MalformedResponseError(
                        f"Mailjet sent a property that cannot be read: {exc}"
                    ) from None
        return out

    async def get_contact(self, contact_id: int) -> tuple[MailjetContact, ContactData] | None:
        """One contact and its property values, asked for by id; None when it is gone."""
        try:
            contact, data = await asyncio.gather(
                self.get(f"contact/{contact_id}", {}, "read a contact"),
                self.get(f"contactdata/{contact_id}", {}, "read a contact's properties"),
            )
        except NotFoundError:
            return None
        c, d = rows_of(contact, "read a contact"), rows_of(data, "read a contact's properties")
        if not c or not d:
            return None
        return parse_contact(c[0]), parse_contact_data(d[0])

    async def sample_data(self, limit: int = PAGE_SIZE) -> list[ContactData]:
        """The first contacts' property values (for the wizard's property samples)."""
        params: dict[str, str | int] = {"Limit": limit, "Offset": 0, "Sort": "ID"}
        rows = rows_of(await self.get("contactdata", params, "sample contacts"), "sample")
        out = []
        for row in rows:
            try:
                out.append(parse_contact_data(row))
            except MalformedRow:
                continue  # a sample only: an unreadable row says nothing about the others
        return out


def total_of(doc: Any, doing: str) -> int:
    """The `Total` of Mailjet's envelope, as a count."""
    total = doc.get("Total") if isinstance(doc, dict) else None
    if isinstance(total, bool) or not isinstance(total, int):
        raise MalformedResponseError(f"Mailjet's count had no Total while trying to {doing}.")
    return total


def rows_of(doc: Any, doing: str) -> list[Any]:
    """The `Data` rows of Mailjet's envelope (`{Count, Data, Total}`)."""
    data = doc.get("Data") if isinstance(doc, dict) else None
    if not isinstance(data, list):
        raise MalformedResponseError(f"Mailjet's answer had no Data list while trying to {doing}.")
    return data


def _detail(resp: httpx.Response) -> str:
    try:
        doc = resp.json()
        message = doc.get("ErrorMessage") if isinstance(doc, dict) else None
        return str(message) if message else resp.text[:200]
    except ValueError:
        return resp.text[:200]
