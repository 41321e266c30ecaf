"""The key stays with Klaviyo, and every request ends: hostile answers against the real client.

Before: `links.next` was followed to any host (with the key), plain http:// to a remote host and
a URL with credentials in it were accepted, a cursor pointing back at its own page looped
forever, a trickling body ran past any limit, and a Retry-After of an hour said "after 1
attempts over 0 s. Try again in a few minutes".
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from engage_desktop.core.secrets import ApiKey, redact
from engage_desktop.core.urls import UnsafeUrlError, check_base_url, redact_url
from engage_desktop.emulator import DEMO_API_KEY, Settings
from engage_desktop.emulator.server import EmulatorThread
from engage_desktop.klaviyo.client import KlaviyoClient
from engage_desktop.klaviyo.errors import (
    MalformedResponseError,
    NetworkError,
    ThrottledError,
    UnsafeLinkError,
)


@pytest.fixture(scope="module")
def attacker() -> Iterator[EmulatorThread]:
    """Another server on this machine, counting whatever reaches it."""
    with EmulatorThread(Settings(profiles=0, lists=0)) as thread:
        yield thread


def arm(live: EmulatorThread, path: str, kind: str, count: int = 1, **extra: object) -> None:
    body = {"path": path, "kind": kind, "count": count, **extra}
    httpx.post(f"{live.url}/_emulator/faults", json=body).raise_for_status()


def client_for(live: EmulatorThread, **kw: object) -> KlaviyoClient:
    return KlaviyoClient(ApiKey(DEMO_API_KEY), base_url=live.url, **kw)  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_a_next_link_to_another_host_is_never_followed(
    live: EmulatorThread, attacker: EmulatorThread
) -> None:
    before = attacker.emulator.counters.as_json()["total"]
    elsewhere = attacker.url.replace("127.0.0.1", "localhost")  # another origin, same machine
    arm(live, "/api/lists", "foreign_next", detail=elsewhere)
    async with client_for(live, max_attempts=1) as client:
        with pytest.raises(UnsafeLinkError) as caught:
            await client.get_lists()
    assert "localhost" in caught.value.user_message
    assert attacker.emulator.counters.as_json()["total"] == before, "the key left for another host"


@pytest.mark.asyncio
async def test_a_cursor_that_points_back_at_its_page_stops_at_once(live: EmulatorThread) -> None:
    arm(live, "/api/lists", "loop_cursor", count=5)
    async with client_for(live) as client:
        with pytest.raises(MalformedResponseError, match="same next page twice"):
            await client.get_lists()
        assert client.stats.requests <= 3


@pytest.mark.asyncio
async def test_a_trickling_answer_ends_at_the_request_deadline(live: EmulatorThread) -> None:
    arm(live, "/api/accounts", "trickle", count=3, delay_s=0.3)
    started = time.monotonic()
    async with client_for(live, deadline_s=1.0, max_attempts=2, retry_base_s=0.01) as client:
        with pytest.raises(NetworkError, match="no complete answer within 1 s"):
            await client.get_account()
    assert time.monotonic() - started < 5


@pytest.mark.asyncio
async def test_a_long_retry_after_is_reported_as_what_klaviyo_asked(live: EmulatorThread) -> None:
    arm(live, "/api/lists", "429", count=1, detail="3600")
    started = time.monotonic()
    async with client_for(live) as client:
        with pytest.raises(ThrottledError) as caught:
            await client.get_lists()
    assert time.monotonic() - started < 2  # no hour-long wait, and no pointless retries
    assert "asked us to wait 60 minutes" in caught.value.user_message


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://a.klaviyo.com", "in clear"),
        ("http://192.168.1.20:8765", "in clear"),
        ("https://pk_abcdefghijklmnopqrstuvwx@a.klaviyo.com", "user name, password or key"),
        ("http://user:secret@127.0.0.1:8765", "user name, password or key"),
        ("not-a-url", "not a web address"),
        ("ftp://a.klaviyo.com", "not a web address"),
        ("https://a.klaviyo.com/?key=1", "query"),
    ],
)
def test_unsafe_base_urls_are_refused_with_a_reason(url: str, problem: str) -> None:
    with pytest.raises(UnsafeUrlError, match=problem) as caught:
        check_base_url(url)
    assert "secret" not in str(caught.value) and "pk_abc" not in str(caught.value)
    with pytest.raises(UnsafeUrlError):
        KlaviyoClient(ApiKey(DEMO_API_KEY), base_url=url)


@pytest.mark.parametrize(
    "url",
    [
        "https://a.klaviyo.com",
        "https://a.klaviyo.com/",
        "http://127.0.0.1:8765",
        "http://[::1]:80",
        "http://localhost:9",
    ],
)
def test_https_anywhere_and_http_to_this_machine_are_allowed(url: str) -> None:
    assert check_base_url(url) == url.rstrip("/")


def test_urls_are_shown_without_their_credentials() -> None:
    assert redact_url("http://user:secret@host:81/x") == "http://***@host:81/x"
    text = "failed at https://pk_abcdefghijklmnopqrstuvwx@evil.example/api and http://u:p@h"
    shown = redact(text)
    assert "pk_abc" not in shown and "u:p@" not in shown and "evil.example" in shown
