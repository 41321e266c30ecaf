"""The Mailjet client against the emulator: Basic auth, listings paged by Offset and checked,
retries, 429 back-off, a deadline per answer, errors people can act on, no secret anywhere."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from engage_desktop.core.secrets import ApiKey
from engage_desktop.core.urls import UnsafeUrlError
from engage_desktop.emulator.mailjet import DEMO_API_KEY, DEMO_API_SECRET, MailjetEmulator, Settings
from engage_desktop.mailjet.client import MailjetClient
from engage_desktop.mailjet.errors import AuthenticationError, NetworkError, ServerError
from engage_desktop.mailjet.listing import Listing, PageShare
from engage_desktop.mailjet.ratelimit import RateBudget

pytestmark = pytest.mark.asyncio
KEY, SECRET = ApiKey(DEMO_API_KEY), ApiKey(DEMO_API_SECRET)


@pytest.fixture
def emulator() -> MailjetEmulator:
    return MailjetEmulator(Settings(contacts=2500, lists=3, rate_limit_per_s=0))


@pytest.fixture
async def client(emulator: MailjetEmulator) -> AsyncIterator[MailjetClient]:
    transport = httpx.ASGITransport(app=emulator)
    async with MailjetClient(
        KEY, SECRET, "http://127.0.0.1", transport=transport, retry_base_s=0.001
    ) as c:
        yield c


async def test_the_key_check_counts_the_account(client: MailjetClient) -> None:
    summary = await client.check_key()
    assert (summary.contacts, summary.lists) == (2500, 3)


async def test_a_wrong_secret_is_said_and_never_shown(
    emulator: MailjetEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = ApiKey("0" * 32)
    transport = httpx.ASGITransport(app=emulator)
    async with MailjetClient(KEY, wrong, "http://127.0.0.1", transport=transport) as c:
        with pytest.raises(AuthenticationError) as refused:
            await c.check_key()
        assert DEMO_API_KEY not in repr(c) and "0" * 32 not in repr(c)
    message = refused.value.user_message
    assert "API key and secret key" in message and DEMO_API_KEY not in message
    assert DEMO_API_KEY not in caplog.text and "0" * 32 not in caplog.text


async def test_unsafe_base_urls_are_refused() -> None:
    for url in ("http://api.mailjet.example", "https://user:pw@api.mailjet.com", "ftp://x"):
        with pytest.raises(UnsafeUrlError):
            MailjetClient(KEY, SECRET, url)


async def test_deleted_lists_are_left_out_and_a_list_is_asked_for_by_id(
    client: MailjetClient, emulator: MailjetEmulator
) -> None:
    lists = await client.get_lists()
    assert len(lists) == 3
    gone = lists[0]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emulator),
        base_url="http://127.0.0.1",
        auth=(DEMO_API_KEY, DEMO_API_SECRET),
    ) as raw:
        assert (await raw.delete(f"/v3/REST/contactslist/{gone.id}")).status_code == 204
    assert [x.id for x in await client.get_lists()] == [x.id for x in lists[1:]]
    assert await client.get_list(gone.id) is None  # deleted: gone
    assert await client.get_list(999_999_999) is None  # never was
    assert await client.get_list(lists[1].id) == lists[1]


async def test_a_listing_reads_every_row_once_and_checks_its_counts(
    client: MailjetClient, emulator: MailjetEmulator
) -> None:
    listing = client.listing("contact", {}, "read contacts", chains=3)
    ids: list[int] = []
    async for rows in listing.pages():
        ids += [r["ID"] for r in rows]
    assert len(ids) == len(set(ids)) == 2500 and await listing.check() is None
    again = client.listing("contact", {}, "read contacts", chains=3)
    async for _ in again.pages():
        pass
    emulator.store.create_contact("late@x.test")  # created while the listing was read
    gap = await again.check()
    assert gap is not None and "changed while it was read" in gap


async def test_a_listing_ending_on_a_full_page_counts_again_and_reads_on_to_the_count() -> None:
    emulator = MailjetEmulator(Settings(contacts=2000, lists=1, rate_limit_per_s=0))
    transport = httpx.ASGITransport(app=emulator)
    async with MailjetClient(KEY, SECRET, "http://127.0.0.1", transport=transport) as c:
        # The last page is full: the count (which `check` needs anyway) is asked instead of
        # a page beyond it. Two pages and one count, `check` included.
        listing = c.listing("contact", {}, "read contacts", chains=2)
        rows = sum([len(page) async for page in listing.pages()], 0)
        assert rows == 2000 and await listing.check() is None
        assert c.stats.requests == 3
        # Contacts created while the last page was read: the listing reads on to them,
        # and says it changed.
        read_page = c.page

        async def page_then_create(*args: object) -> list[dict[str, object]]:
            got: list[dict[str, object]] = await read_page(*args)  # type: ignore[arg-type]
            if args[2] == 1000:
                for i in range(5):
                    emulator.store.create_contact(f"late{i}@x.test")
            return got

        c.page = page_then_create  # type: ignore[method-assign]
        again = c.listing("contact", {}, "read contacts", chains=2)
        ids = [r["ID"] async for page in again.pages() for r in page]
        assert len(ids) == len(set(ids)) == 2005
        gap = await again.check()
        assert gap is not None and "2,000 rows counted before, 2,005 received" in gap


async def test_listings_read_at_once_share_their_pages_in_flight() -> None:
    """As listings finish, the ones still reading ask for more pages at a time."""
    widest: dict[str, int] = {}
    now: dict[str, int] = {}

    totals = {"short": 15, "long": 295}  # pages of 10, the last one short

    class Pages:
        async def counted_page(self, resource: str, *_: object) -> tuple[int, list[int]]:
            return totals[resource], [0] * 10

        async def page(self, resource: str, _f: object, offset: int, _d: object) -> list[int]:
            now[resource] = now.get(resource, 0) + 1
            if resource == "long" and "short" in widest and not now.get("short"):
                widest["long, alone"] = max(widest.get("long, alone", 0), now["long"])
            widest[resource] = max(widest.get(resource, 0), now[resource])
            await asyncio.sleep(0.01)
            now[resource] -= 1
            return [0] * min(10, totals[resource] - offset)

    share = PageShare(4)
    listings = [Listing(Pages(), name, {}, "read", share, 10) for name in ("short", "long")]  # type: ignore[arg-type]

    async def read(listing: Listing) -> int:
        return sum([len(page) async for page in listing.pages()], 0)

    assert await asyncio.gather(*(read(x) for x in listings)) == [15, 295]
    assert widest["long"] == 4 and widest["long, alone"] == 4  # two each while both read
    assert share.reading == 0


async def test_server_errors_are_retried_then_said(
    client: MailjetClient, emulator: MailjetEmulator
) -> None:
    emulator.faults.arm("/v3/REST/contact", "502", 2)
    assert (await client.count("contact", {}, "count contacts")) == 2500
    assert client.stats.retries == 2
    emulator.faults.arm("/v3/REST/contact", "500", 50)
    with pytest.raises(ServerError, match="Mailjet is having trouble"):
        await client.count("contact", {}, "count contacts")


async def test_throttling_waits_and_the_budget_keeps_under_the_limit(
    emulator: MailjetEmulator,
) -> None:
    emulator.settings.rate_limit_per_s = 10
    transport = httpx.ASGITransport(app=emulator)
    async with MailjetClient(
        KEY, SECRET, "http://127.0.0.1", transport=transport, budget=RateBudget(10)
    ) as c:
        await asyncio.gather(*(c.count("contact", {}, "count") for _ in range(25)))
        assert c.stats.throttled == 0  # never over the limit: nothing refused
    async with MailjetClient(
        KEY, SECRET, "http://127.0.0.1", transport=transport, retry_base_s=0.001
    ) as c:
        c.budget.enabled = False
        emulator.faults.arm("/v3", "429", 10)
        assert await c.count("contact", {}, "count") == 2500  # ten 429s in a row, waited out
        assert c.stats.throttled == 10


async def test_an_answer_that_never_ends_is_cut_by_the_deadline(
    emulator: MailjetEmulator,
) -> None:
    emulator.faults.arm("/v3/REST/contactslist", "delay", 1, delay_s=5.0)
    transport = httpx.ASGITransport(app=emulator)
    async with MailjetClient(
        KEY, SECRET, "http://127.0.0.1", transport=transport, deadline_s=0.2, retry_base_s=0.001
    ) as c:
        lists = await c.get_lists()  # the slow answer was given up and asked again
        assert len(lists) == 3 and c.stats.retries >= 1


async def test_an_unreachable_server_is_said() -> None:
    async with MailjetClient(
        KEY, SECRET, "http://127.0.0.1:9", max_attempts=2, retry_base_s=0.001
    ) as c:
        with pytest.raises(NetworkError, match="Could not reach Mailjet"):
            await c.check_key()


async def test_the_budget_admits_at_most_its_rate_per_window() -> None:
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    budget = RateBudget(5, window_s=1.0, clock=lambda: now[0])
    real = asyncio.sleep
    try:
        asyncio.sleep = sleep  # type: ignore[assignment]
        for _ in range(11):
            await budget.acquire()
    finally:
        asyncio.sleep = real  # type: ignore[assignment]
    assert now[0] == pytest.approx(2.0)  # 5 at once, 5 a second later, the 11th after two
    budget.penalize(3.0)
    assert budget._delay(now[0]) == pytest.approx(3.0)
