"""Authentication: Basic, and HMAC as the docs write it and as the official SDKs send it."""

from __future__ import annotations

import base64
import hashlib
import hmac
from email.utils import formatdate
from typing import Any

import httpx
import orjson
import pytest

from engage_desktop.emulator.messagemedia import (
    DEMO_API_KEY,
    DEMO_API_SECRET,
    MessageMediaEmulator,
    Settings,
)
from tests.emulator.messagemedia.helpers import FakeClock, message, send

pytestmark = pytest.mark.asyncio
UNAUTHORISED = {"message": "Invalid authentication credentials"}
# S1 "Basic Authentication": base64 of thisisakey:thisisasecretformmbasicauthrestapi
DOCS_BASIC_HEADER = "Basic dGhpc2lzYWtleTp0aGlzaXNhc2VjcmV0Zm9ybW1iYXNpY2F1dGhyZXN0YXBp"


def sdk_headers(
    clock: FakeClock,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    secret: str = DEMO_API_SECRET,
    date_offset: float = 0.0,
) -> dict[str, str]:
    """What messagemedia-messages-sdk's AuthManager.apply_hmac_auth sends (SHA-1, `date`,
    `x-Content-MD5`, PUT signed as POST), rebuilt here independently of the emulator."""
    date = formatdate(clock() + date_offset, usegmt=True)
    headers = {"date": date}
    lines = [f"date: {date}"]
    names = "date "
    if body:
        md5 = hashlib.md5(body).hexdigest()
        headers["x-Content-MD5"] = md5
        lines.append(f"x-Content-MD5: {md5}")
        names += "x-Content-MD5 "
    lines.append(f"{'POST' if body else 'GET'} {path} HTTP/1.1")
    mac = hmac.new(secret.encode(), "\n".join(lines).encode(), hashlib.sha1).digest()
    signature = base64.b64encode(mac).decode()
    headers["Authorization"] = (
        f'hmac username="{DEMO_API_KEY}", algorithm="hmac-sha1", '
        f'headers="{names}request-line", signature="{signature}"'
    )
    return headers


def docs_headers(clock: FakeClock, method: str, path: str, body: bytes = b"") -> dict[str, str]:
    """The docs' recipe: `Date`, `Content-MD5`, HMAC-SHA256, the real method."""
    date = formatdate(clock(), usegmt=True)
    headers = {"Date": date}
    lines = [f"Date: {date}"]
    names = "Date "
    if body:
        headers["Content-MD5"] = hashlib.md5(body).hexdigest()
        lines.append(f"Content-MD5: {headers['Content-MD5']}")
        names += "Content-MD5 "
    lines.append(f"{method} {path} HTTP/1.1")
    mac = hmac.new(DEMO_API_SECRET.encode(), "\n".join(lines).encode(), hashlib.sha256)
    headers["Authorization"] = (
        f'hmac username="{DEMO_API_KEY}", algorithm="hmac-sha256", '
        f'headers="{names}request-line", signature="{base64.b64encode(mac.digest()).decode()}"'
    )
    return headers


def body_of(*messages: dict[str, Any]) -> bytes:
    return orjson.dumps({"messages": list(messages)})


async def test_sdk_style_hmac_sends_and_reads(anon: httpx.AsyncClient, clock: FakeClock) -> None:
    body = body_of(message())
    r = await anon.post(
        "/v1/messages", content=body, headers=sdk_headers(clock, "POST", "/v1/messages", body)
    )
    assert r.status_code == 202, r.text
    path = f"/v1/messages/{r.json()['messages'][0]['message_id']}"
    r = await anon.get(path, headers=sdk_headers(clock, "GET", path))
    assert r.status_code == 200, r.text


async def test_the_sdk_signs_a_put_as_post(
    anon: httpx.AsyncClient, api: httpx.AsyncClient, clock: FakeClock
) -> None:
    (m,) = await send(api, message(scheduled="2030-01-01T00:00:00Z"))
    path = f"/v1/messages/{m['message_id']}"
    body = b'{"status": "cancelled"}'
    r = await anon.put(path, content=body, headers=sdk_headers(clock, "PUT", path, body))
    assert r.status_code == 200, r.text


async def test_docs_style_hmac_sha256(anon: httpx.AsyncClient, clock: FakeClock) -> None:
    body = body_of(message())
    r = await anon.post(
        "/v1/messages", content=body, headers=docs_headers(clock, "POST", "/v1/messages", body)
    )
    assert r.status_code == 202, r.text
    r = await anon.get("/v1/replies", headers=docs_headers(clock, "GET", "/v1/replies"))
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "spoil",
    ["secret", "body", "stale date", "username", "md5 not signed"],
)
async def test_hmac_failures_are_401(anon: httpx.AsyncClient, clock: FakeClock, spoil: str) -> None:
    body = body_of(message())
    if spoil == "secret":
        headers = sdk_headers(clock, "POST", "/v1/messages", body, secret="wrong")
    elif spoil == "stale date":
        headers = sdk_headers(clock, "POST", "/v1/messages", body, date_offset=-301)
    else:
        headers = sdk_headers(clock, "POST", "/v1/messages", body)
    if spoil == "body":
        body = body_of(message(content="tampered"))
    if spoil == "username":
        headers["Authorization"] = headers["Authorization"].replace(DEMO_API_KEY, "someone")
    if spoil == "md5 not signed":
        headers["Authorization"] = headers["Authorization"].replace("x-Content-MD5 ", "")
    r = await anon.post("/v1/messages", content=body, headers=headers)
    assert (r.status_code, r.json()) == (401, UNAUTHORISED)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Basic " + base64.b64encode(f"{DEMO_API_KEY}:wrong".encode()).decode(),
        "Basic " + base64.b64encode(f"wrong:{DEMO_API_SECRET}".encode()).decode(),
        "Basic not-base64!",
        f"Bearer {DEMO_API_KEY}",
    ],
)
async def test_bad_credentials_are_401_and_send_nothing(
    anon: httpx.AsyncClient, api: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    for method, path in [("POST", "/v1/messages"), ("GET", "/v1/delivery_reports")]:
        r = await anon.request(method, path, content=body_of(message()), headers=headers)
        assert (r.status_code, r.json()) == (401, UNAUTHORISED)
        assert r.headers["content-type"] == "application/json"
    assert (await api.get("/_emulator/messages")).json()["messages"] == []


async def test_the_docs_example_basic_header_works_with_the_docs_credentials() -> None:
    emulator = MessageMediaEmulator(
        Settings(api_key="thisisakey", api_secret="thisisasecretformmbasicauthrestapi")
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emulator), base_url="http://emulator"
    ) as client:
        r = await client.get(
            "/v1/delivery_reports",
            headers={"Authorization": DOCS_BASIC_HEADER},
        )
    assert r.status_code == 200
    assert r.json() == {"delivery_reports": []}


async def test_the_sub_account_header_is_accepted(api: httpx.AsyncClient) -> None:
    r = await api.post(
        "/v1/messages", json={"messages": [message()]}, headers={"Account": "mySubAccount"}
    )
    assert r.status_code == 202
