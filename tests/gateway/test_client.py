"""The MessageMedia client against the emulator: auth, batches of 100, the one pipeline's
retries, and what it never does (retry a send that may have arrived, follow a foreign link,
show the secret)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from engage_desktop.core.messaging import GatewayCredentials
from engage_desktop.core.urls import UnsafeUrlError
from engage_desktop.emulator.messagemedia import (
    DEMO_API_KEY,
    DEMO_API_SECRET,
    MessageMediaEmulator,
    Settings,
)
from engage_desktop.emulator.server import EmulatorThread
from engage_desktop.messagemedia import (
    AuthenticationError,
    BadRequestError,
    MessageMediaClient,
    OutboundMessage,
    OutcomeUnknownError,
)
from engage_desktop.messagemedia.errors import (
    MalformedResponseError,
    NetworkError,
    ServerError,
    UnsafeLinkError,
)

CREDS = GatewayCredentials(DEMO_API_KEY, DEMO_API_SECRET)


@pytest.fixture
def emulator() -> MessageMediaEmulator:
    return MessageMediaEmulator(Settings(submitted_after_s=0, delivered_after_s=0))


@pytest.fixture
async def client(emulator: MessageMediaEmulator) -> AsyncIterator[MessageMediaClient]:
    async with MessageMediaClient(
        CREDS,
        "http://127.0.0.1",
        transport=httpx.ASGITransport(app=emulator),
        retry_base_s=0.001,
        deadline_s=2.0,
    ) as c:
        yield c


def messages(n: int, start: int = 0) -> list[OutboundMessage]:
    return [
        OutboundMessage(f"+614915{start + i:05d}", f"hello {i}", {"recipient": str(i)})
        for i in range(n)
    ]


def requests_to(emulator: MessageMediaEmulator, op: str) -> dict[str, int]:
    found: dict[str, int] = emulator.counters.as_json()["requests"].get(op, {})
    return found


async def test_basic_auth_with_key_and_secret(client: MessageMediaClient) -> None:
    await client.verify()
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"delivery_reports": []})

    async with MessageMediaClient(
        CREDS, "https://api.example.test", transport=httpx.MockTransport(record)
    ) as c:
        await c.verify()
    expected = base64.b64encode(f"{DEMO_API_KEY}:{DEMO_API_SECRET}".encode()).decode()
    assert seen[0].headers["authorization"] == f"Basic {expected}"


async def test_wrong_credentials_say_what_to_do_and_never_show_the_secret(
    emulator: MessageMediaEmulator,
) -> None:
    secret = "sEcReT-that-must-not-show"
    bad = GatewayCredentials(DEMO_API_KEY, secret)
    async with MessageMediaClient(
        bad, "http://127.0.0.1", transport=httpx.ASGITransport(app=emulator)
    ) as c:
        with pytest.raises(AuthenticationError) as caught:
            await c.verify()
        assert secret not in repr(c) and secret not in repr(bad) and secret not in str(bad)
    assert "API key and secret" in caught.value.user_message
    assert secret not in caught.value.user_message
    assert requests_to(emulator, "CheckDeliveryReports") == {"401": 1}  # not retried


async def test_a_send_of_100_goes_in_one_request_and_101_is_refused_before_sending(
    client: MessageMediaClient, emulator: MessageMediaEmulator
) -> None:
    sent = await client.send_messages(messages(100))
    assert len(sent) == 100 and all(s.message_id for s in sent)
    assert [s.metadata["recipient"] for s in sent] == [str(i) for i in range(100)]
    assert requests_to(emulator, "SendMessages") == {"202": 1}
    with pytest.raises(ValueError):
        await client.send_messages(messages(101))
    assert requests_to(emulator, "SendMessages") == {"202": 1}


async def test_the_body_is_serialised_once_with_orjson() -> None:
    bodies: list[bytes] = []

    def echo(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        doc = orjson.loads(request.content)
        for i, m in enumerate(doc["messages"]):
            m["message_id"] = f"00000000-0000-4000-8000-{i:012d}"
        return httpx.Response(202, content=orjson.dumps(doc))

    async with MessageMediaClient(
        CREDS, "https://api.example.test", transport=httpx.MockTransport(echo)
    ) as c:
        sent = await c.send_messages(messages(3))
    assert bodies[0] == orjson.dumps({"messages": [m.wire() for m in messages(3)]})
    assert sent[2].message_id == "00000000-0000-4000-8000-000000000002"


async def test_a_refused_send_names_the_bad_message(client: MessageMediaClient) -> None:
    batch = [*messages(2), OutboundMessage("+12", "hi")]
    with pytest.raises(BadRequestError) as caught:
        await client.send_messages(batch)
    assert any(d.startswith("/messages/2/destination_number") for d in caught.value.details)


@pytest.mark.parametrize("kind", ["500", "502", "503", "drop", "stall"])
async def test_a_send_whose_answer_is_lost_is_unknown_and_never_retried(
    live_mm: EmulatorThread, kind: str
) -> None:
    emulator = live_mm.emulator
    assert isinstance(emulator, MessageMediaEmulator)
    emulator.faults.arm("/v1/messages", kind, 1, delay_s=0.05)
    async with MessageMediaClient(CREDS, live_mm.url, retry_base_s=0.001) as client:
        with pytest.raises(OutcomeUnknownError) as caught:
            await client.send_messages(messages(5))
        assert client.stats.unknown == 1 and client.stats.retries == 0
    assert "not resent" in caught.value.user_message
    assert sum(requests_to(emulator, "SendMessages").values()) == 1


async def test_a_send_past_its_deadline_is_unknown_even_if_the_gateway_took_it(
    emulator: MessageMediaEmulator,
) -> None:
    emulator.faults.arm("/v1/messages", "trickle", 1, delay_s=0.01)
    async with MessageMediaClient(
        CREDS, "http://127.0.0.1", transport=httpx.ASGITransport(app=emulator), deadline_s=0.3
    ) as c:
        with pytest.raises(OutcomeUnknownError):
            await c.send_messages(messages(5))
    assert len(emulator.gateway.messages) == 5  # it did arrive: only a report can tell


async def test_a_throttled_send_is_retried_because_it_was_refused(
    client: MessageMediaClient, emulator: MessageMediaEmulator
) -> None:
    emulator.faults.arm("/v1/messages", "429", 2)
    sent = await client.send_messages(messages(3))
    assert len(sent) == 3 and len(emulator.gateway.messages) == 3
    assert requests_to(emulator, "SendMessages") == {"429": 2, "202": 1}


async def test_a_202_with_an_unreadable_body_still_means_accepted(
    client: MessageMediaClient, emulator: MessageMediaEmulator
) -> None:
    emulator.faults.arm("/v1/messages", "truncate", 1)
    sent = await client.send_messages(messages(4))
    assert [s.message_id for s in sent] == [None] * 4
    assert [s.metadata["recipient"] for s in sent] == ["0", "1", "2", "3"]
    assert len(emulator.gateway.messages) == 4


async def test_reads_are_retried_on_5xx_drops_and_bad_json(live_mm: EmulatorThread) -> None:
    emulator = live_mm.emulator
    assert isinstance(emulator, MessageMediaEmulator)
    for kind in ("503", "drop", "truncate", "429"):
        emulator.faults.arm("/v1/replies", kind, 1)
    async with MessageMediaClient(CREDS, live_mm.url, retry_base_s=0.001) as client:
        polled = await client.check_replies()
        assert polled.items == [] and not polled.full
        assert client.stats.retries == 4


async def test_reads_give_up_with_a_message_that_says_what_to_do(
    emulator: MessageMediaEmulator,
) -> None:
    emulator.faults.arm("/v1/delivery_reports", "500", 10)
    async with MessageMediaClient(
        CREDS,
        "http://127.0.0.1",
        transport=httpx.ASGITransport(app=emulator),
        retry_base_s=0.001,
        max_attempts=3,
    ) as c:
        with pytest.raises(ServerError) as caught:
            await c.check_delivery_reports()
    assert "Try again later" in caught.value.user_message


async def test_an_unreachable_gateway_is_a_network_error() -> None:
    async with MessageMediaClient(
        CREDS, "http://127.0.0.1:9", retry_base_s=0.001, max_attempts=2
    ) as c:
        with pytest.raises(NetworkError) as caught:
            await c.verify()
    assert "Check the internet connection" in caught.value.user_message


async def test_replies_and_reports_are_polled_then_confirmed(
    client: MessageMediaClient, emulator: MessageMediaEmulator
) -> None:
    sent = await client.send_messages(messages(1))
    emulator.gateway.receive_reply(
        "+61491500000", "Thanks!", emulator.gateway.find(sent[0].message_id or "")
    )
    first = await client.check_replies()
    again = await client.check_replies()
    assert [r.reply_id for r in first.items] == [r.reply_id for r in again.items]
    reply = first.items[0]
    assert reply.source_number == "+61491500000" and reply.message_id == sent[0].message_id
    assert reply.metadata == {"recipient": "0"} and reply.received_at is not None
    await client.confirm_replies([reply.reply_id])
    assert (await client.check_replies()).items == []
    reports = await client.check_delivery_reports()
    assert {r.status for r in reports.items} >= {"enroute"}
    assert all(r.number == "+61491500000" for r in reports.items)
    await client.confirm_delivery_reports([r.delivery_report_id for r in reports.items])
    assert (await client.check_delivery_reports()).items == []


async def test_the_blacklist_pages_add_remove_and_is_authorised(
    client: MessageMediaClient, emulator: MessageMediaEmulator
) -> None:
    for i in range(230):
        emulator.gateway.block(f"+6149110{i:04d}")
    pages = [page async for page in client.iter_blacklist()]
    assert [len(p) for p in pages] == [100, 100, 30]
    numbers = [f"+6149120{i:04d}" for i in range(25)]
    await client.add_to_blacklist(numbers)
    assert requests_to(emulator, "AddOneOrMoreNumbersToYourBlacklist") == {"201": 3}
    assert await client.is_authorised([numbers[0], "+61491570999"]) == {
        numbers[0]: False,
        "+61491570999": True,
    }
    assert await client.remove_from_blacklist(numbers[0]) is True
    assert await client.remove_from_blacklist(numbers[0]) is False


async def test_a_next_page_on_another_server_is_never_followed() -> None:
    def hostile(request: httpx.Request) -> httpx.Response:
        link = "https://evil.example/v1/number_authorisation/mt/blacklist?token=x"
        return httpx.Response(
            200, json={"numbers": ["+61491570156"], "pagination": {"next_uri": link}}
        )

    calls = []

    def counting(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.host)
        return hostile(request)

    async with MessageMediaClient(
        CREDS, "https://api.example.test", transport=httpx.MockTransport(counting)
    ) as c:
        with pytest.raises(UnsafeLinkError) as caught:
            async for _ in c.iter_blacklist():
                pass
    assert calls == ["api.example.test"]
    assert "evil.example" in caught.value.user_message


async def test_a_next_page_that_repeats_stops() -> None:
    def looping(request: httpx.Request) -> httpx.Response:
        link = "/v1/number_authorisation/mt/blacklist?token=same"
        return httpx.Response(
            200, json={"numbers": ["+61491570156"], "pagination": {"next_uri": link}}
        )

    async with MessageMediaClient(
        CREDS, "https://api.example.test", transport=httpx.MockTransport(looping)
    ) as c:
        with pytest.raises(MalformedResponseError):
            async for _ in c.iter_blacklist():
                pass


def test_the_base_url_must_be_https_unless_it_is_this_machine() -> None:
    with pytest.raises(UnsafeUrlError):
        MessageMediaClient(CREDS, "http://api.messagemedia.com")
    with pytest.raises(UnsafeUrlError):
        MessageMediaClient(CREDS, f"https://{DEMO_API_KEY}:x@api.messagemedia.com")
    assert MessageMediaClient(CREDS, "http://localhost:8027/").base_url == "http://localhost:8027"
