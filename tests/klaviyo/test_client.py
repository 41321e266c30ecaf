"""The client against the emulator on a real socket: happy paths, faults, typed errors."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from engage_desktop.core.secrets import ApiKey
from engage_desktop.emulator import DEMO_API_KEY, KlaviyoEmulator, Settings
from engage_desktop.emulator.server import EmulatorThread
from engage_desktop.klaviyo.client import KlaviyoClient
from engage_desktop.klaviyo.errors import (
    AuthenticationError,
    MalformedResponseError,
    NetworkError,
    ServerError,
)
from engage_desktop.klaviyo.windows import pull_list_members, pull_profiles

pytestmark = pytest.mark.asyncio


def client_for(live: EmulatorThread, key: str = DEMO_API_KEY, **kw: object) -> KlaviyoClient:
    return KlaviyoClient(ApiKey(key), base_url=live.url, **kw)  # type: ignore[arg-type]


def fault(live: EmulatorThread, path: str, kind: str, count: int, delay_s: float = 0) -> None:
    body = {"path": path, "kind": kind, "count": count, "delay_s": delay_s}
    httpx.post(f"{live.url}/_emulator/faults", json=body).raise_for_status()


async def single_chain_ids(client: KlaviyoClient) -> list[str]:
    return [p.id async for page in client.iter_profiles(subscriptions=False) for p in page]


async def test_validate_key_names_the_account(live: EmulatorThread) -> None:
    async with client_for(live) as client:
        check = await client.validate_key()
    assert check.account.name and check.missing == []


async def test_a_proxy_in_the_environment_is_used(
    live: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bytes] = []

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # a one-request HTTP proxy: absolute-form request line in, origin-form out
        line, *headers = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")[:-2]
        seen.append(line)
        method, target, version = line.split(b" ")
        path = b"/" + target.split(b"/", 3)[3]
        headers = [h for h in headers if not h.lower().startswith(b"connection:")]
        host, port = live.url.removeprefix("http://").split(":")
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        request = [b" ".join((method, path, version)), *headers, b"Connection: close", b"", b""]
        length = [int(h.split(b":")[1]) for h in headers if h.lower().startswith(b"content-length")]
        up_writer.write(b"\r\n".join(request) + await reader.readexactly(sum(length)))
        writer.write(await up_reader.read())
        await writer.drain()
        writer.close()
        up_writer.close()

    proxy = await asyncio.start_server(relay, "127.0.0.1", 0)
    port = proxy.sockets[0].getsockname()[1]
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    async with proxy, client_for(live, max_attempts=1, timeout_s=10.0) as client:
        check = await client.validate_key()
    assert check.account.name
    assert seen and seen[0].startswith(f"GET {live.url}/api/accounts".encode())


async def test_bad_key_says_what_to_do(
    live: EmulatorThread, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "pk_wrong_key_that_must_not_leak_1234"
    caplog.set_level(logging.DEBUG)
    async with client_for(live, secret) as client:
        assert secret not in repr(client)
        with pytest.raises(AuthenticationError) as info:
            await client.validate_key()
    assert "private key" in info.value.user_message
    assert secret not in str(info.value) and secret not in caplog.text


async def test_missing_scopes_are_named_with_their_purpose(live: EmulatorThread) -> None:
    key = "pk_read_only_key_for_the_scope_test"
    httpx.post(
        f"{live.url}/_emulator/keys",
        json={"key": key, "scopes": ["accounts:read", "profiles:read"]},
    ).raise_for_status()
    async with client_for(live, key) as client:
        check = await client.validate_key()
    missing = {m.scope: m.purpose for m in check.missing}
    assert set(missing) == {"lists:read", "lists:write", "profiles:write", "subscriptions:write"}
    assert "opt-outs" in missing["subscriptions:write"]


async def test_unreachable_host_is_a_network_error() -> None:
    client = KlaviyoClient(
        ApiKey(DEMO_API_KEY), base_url="http://127.0.0.1:9", max_attempts=2, timeout_s=1
    )
    async with client:
        with pytest.raises(NetworkError) as info:
            await client.get_account()
    assert "Could not reach Klaviyo" in info.value.user_message


async def test_lists_and_cached_counts(live: EmulatorThread) -> None:
    async with client_for(live) as client:
        lists = await client.get_lists()
        assert len(lists) == 4
        first = await client.list_profile_count(lists[0].id)
        before = client.stats.requests
        assert await client.list_profile_count(lists[0].id) == first
        assert client.stats.requests == before  # the 15-a-minute endpoint is not asked twice
        members = [p async for page in client.iter_list_members(lists[0].id) for p in page]
        assert len(members) == first
        assert all(m.joined_group_at is not None for m in members)
        ids = [i async for page in client.iter_list_member_ids(lists[0].id) for i in page]
        assert ids == [m.id for m in members]


async def test_parallel_pull_equals_a_single_chain(live: EmulatorThread) -> None:
    async with client_for(live) as client:
        single = await single_chain_ids(client)
        run = pull_profiles(client, chains=8)
        parallel = [p.id async for page in run.pages() for p in page.profiles]
    assert len(parallel) == len(set(parallel)) == 1500
    assert set(parallel) == set(single)
    assert run.stats.chains >= 8


async def test_parallel_pull_while_profiles_change(live: EmulatorThread) -> None:
    async with client_for(live) as client:
        single = await single_chain_ids(client)
        changed = 0
        seen: list[str] = []
        async for page in pull_profiles(client, chains=6).pages():
            seen += [p.id for p in page.profiles]
            # edit profiles the pull has not reached yet (and some it has): updated moves
            target = single[(changed * 97) % len(single)]
            await asyncio.to_thread(
                httpx.patch,
                f"{live.url}/_emulator/profiles/{target}",
                json={"attributes": {"first_name": f"Changed {changed}"}},
            )
            changed += 1
    assert changed > 5
    assert sorted(seen) == sorted(single)


async def test_parallel_list_members(live: EmulatorThread) -> None:
    async with client_for(live) as client:
        lst = (await client.get_lists())[0]
        single = [p.id async for page in client.iter_list_members(lst.id) for p in page]
        parallel = [
            p.id
            async for page in pull_list_members(client, lst.id, 4).pages()
            for p in page.profiles
        ]
    assert sorted(parallel) == sorted(single)


async def test_429_storm_and_429_without_retry_after(live: EmulatorThread) -> None:
    fault(live, "/api/profiles", "429", 4)  # the injected 429s carry no Retry-After
    async with client_for(live) as client:
        ids = await single_chain_ids(client)
    assert len(ids) == 1500
    assert client.stats.throttled == 4


async def test_real_rate_limit_is_respected_without_429(live: EmulatorThread) -> None:
    async with client_for(live) as client:
        await asyncio.gather(*(client.get_account() for _ in range(3)))  # 1 per second allowed
    assert client.stats.throttled == 0
    assert client.budget.waited_s >= 2


async def test_5xx_timeouts_drops_and_truncation_are_survived(live: EmulatorThread) -> None:
    fault(live, "/api/profiles", "503", 2)
    fault(live, "/api/profiles", "502", 1)
    fault(live, "/api/profiles", "delay", 1, delay_s=3)
    fault(live, "/api/profiles", "drop", 1)
    fault(live, "/api/profiles", "truncate", 1)
    async with client_for(live, timeout_s=1.0, retry_base_s=0.05) as client:
        ids = await single_chain_ids(client)
    assert len(ids) == len(set(ids)) == 1500
    assert client.stats.retries == 6


async def test_persistent_failures_end_in_typed_errors(live: EmulatorThread) -> None:
    fault(live, "/api/lists", "500", 50)
    async with client_for(live, max_attempts=3, retry_base_s=0.05) as client:
        with pytest.raises(ServerError) as info:
            await client.get_lists()
    assert "500" in info.value.user_message
    httpx.post(f"{live.url}/_emulator/reset").raise_for_status()
    fault(live, "/api/lists", "truncate", 50)
    async with client_for(live, max_attempts=2) as client:
        with pytest.raises(MalformedResponseError):
            await client.get_lists()


async def test_bulk_unsubscribe_reaches_klaviyo(live: EmulatorThread) -> None:
    async with client_for(live) as client:
        await client.bulk_unsubscribe_sms(["+15005550199", "+15005550198"])
        with pytest.raises(ValueError):
            await client.bulk_unsubscribe_sms(["+15005550100"] * 101)
        await asyncio.sleep(0.3)
        found = [
            p
            async for page in client.iter_profiles(filter='any(phone_number,["+15005550199"])')
            for p in page
        ]
    (profile,) = found
    assert profile.sms is not None and profile.sms.consent == "UNSUBSCRIBED"


async def test_parallel_pull_of_an_empty_account_ends_at_once() -> None:
    emulator = KlaviyoEmulator(Settings(profiles=0, lists=1))  # in-process, through ASGI
    transport = httpx.ASGITransport(app=emulator)
    async with KlaviyoClient(
        ApiKey(DEMO_API_KEY), base_url="http://127.0.0.1", transport=transport
    ) as client:
        pages = [page async for page in pull_profiles(client).pages()]
        lst = (await client.get_lists())[0]
        members = [page async for page in pull_list_members(client, lst.id).pages()]
    assert pages == [] and members == []
