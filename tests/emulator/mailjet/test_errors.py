"""Auth, errors, rate limiting, injected faults and latency, in Mailjet's own shapes."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from engage_desktop.emulator.mailjet import DEMO_API_KEY, MailjetEmulator, Settings
from tests.emulator.mailjet.conftest import AUTH, REST

NOT_FOUND = b'{ "ErrorInfo" : "", "ErrorMessage" : "Object not found", "StatusCode" : 404 }'


@pytest.mark.parametrize(
    "auth",
    [None, (DEMO_API_KEY, "wrong-secret"), ("unknown-key", "x")],
    ids=["missing", "bad secret", "unknown key"],
)
async def test_bad_credentials_get_an_empty_401_with_a_basic_challenge(
    mailjet: MailjetEmulator, auth: tuple[str, str] | None
) -> None:
    transport = httpx.ASGITransport(app=mailjet)
    async with httpx.AsyncClient(transport=transport, base_url="http://x", auth=auth) as client:
        r = await client.get(f"{REST}/contact")
        bearer = await client.get(f"{REST}/contact", headers={"Authorization": "Bearer abc"})
    for resp in (r, bearer):
        assert resp.status_code == 401
        assert resp.content == b""
        assert resp.headers["content-type"] == "text/html"
        assert resp.headers["www-authenticate"] == 'Basic realm="Provide an apiKey and secretKey"'


async def test_unknown_ids_emails_and_paths(mj: httpx.AsyncClient) -> None:
    for path in (
        "contact/unknown@example.com",
        "contact/123/getcontactslists",
        "contact/99999999999",
        "contactdata/nobody@example.com",
        "contactslist/1",
        "contactmetadata/no_such_property",
        "listrecipient/5",
    ):
        r = await mj.get(f"{REST}/{path}")
        assert (r.status_code, r.content) == (404, NOT_FOUND), path
    unknown = await mj.get(f"{REST}/contacts")
    assert unknown.status_code == 400
    assert unknown.json() == {
        "ErrorInfo": "Bad Request",
        "ErrorMessage": 'Unknown resource: "contacts"',
        "StatusCode": 400,
    }
    module = await mj.get("/v3/wrongresourcepath")
    assert module.status_code == 500
    assert module.json()["ErrorInfo"] == "EFPWebError"
    v31 = await mj.get("/v3.1/REST/contactslist")
    assert (v31.status_code, v31.headers["content-type"]) == (404, "text/html")
    assert b"nginx" in v31.content


async def test_bad_parameter_values_are_400(mj: httpx.AsyncClient) -> None:
    for query in ("Limit=abc", "Offset=-1", "Limit=-5", "IsExcludedFromCampaigns=maybe"):
        r = await mj.get(f"{REST}/contact?{query}")
        assert r.status_code == 400, query
        assert set(r.json()) == {"ErrorInfo", "ErrorMessage", "StatusCode"}


async def test_method_not_allowed(mj: httpx.AsyncClient) -> None:
    r = await mj.delete(f"{REST}/contact/1")
    assert r.status_code == 405
    assert r.json()["StatusCode"] == 405


async def test_rate_limit_per_key_per_second_answers_429_in_mailjet_shape() -> None:
    now = [1_000_000.0]
    emulator = MailjetEmulator(Settings(contacts=10, lists=1, rate_limit_per_s=3), lambda: now[0])
    transport = httpx.ASGITransport(app=emulator)
    async with httpx.AsyncClient(transport=transport, base_url="http://x", auth=AUTH) as mj:
        codes = [(await mj.get(f"{REST}/contact")).status_code for _ in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        r = await mj.get(f"{REST}/contactslist")
        assert r.json() == {
            "ErrorInfo": "",
            "ErrorMessage": "Too many requests",
            "StatusCode": 429,
        }
        assert "retry-after" not in r.headers  # no recording shows one: clients back off
        now[0] += 1.0
        assert (await mj.get(f"{REST}/contact")).status_code == 200
        await mj.post("/_emulator/keys", json={"api_key": "second", "api_secret": "s"})
        for _ in range(3):  # the limit is per API key
            assert (await mj.get(f"{REST}/contact", auth=("second", "s"))).status_code == 200
        counters = (await mj.get("/_emulator/counters")).json()
    assert counters["throttled"] == 3
    assert counters["requests"]["GET contact"] == {"200": 7, "429": 2}
    assert counters["requests"]["GET contactslist"] == {"429": 1}


async def test_injected_faults_speak_mailjet(mj: httpx.AsyncClient) -> None:
    for kind, count in (("429", 1), ("500", 1), ("502", 1), ("503", 1)):
        r = await mj.post(
            "/_emulator/faults", json={"path": "/v3/REST/contact", "kind": kind, "count": count}
        )
        assert r.status_code == 204
    throttled = await mj.get(f"{REST}/contact")
    assert (throttled.status_code, throttled.json()["ErrorMessage"]) == (429, "Too many requests")
    error = await mj.get(f"{REST}/contact")
    assert error.status_code == 500
    assert list(error.json()) == ["ErrorIdentifier", "ErrorInfo", "ErrorMessage", "StatusCode"]
    for status in (502, 503):
        proxy = await mj.get(f"{REST}/contact")
        assert (proxy.status_code, proxy.headers["content-type"]) == (status, "text/html")
    assert (await mj.get(f"{REST}/contact")).status_code == 200
    bad = await mj.post("/_emulator/faults", json={"kind": "explode"})
    assert bad.status_code == 400


async def test_truncate_fault_and_other_paths_unaffected(mj: httpx.AsyncClient) -> None:
    await mj.post("/_emulator/faults", json={"path": "/v3/REST/contactdata", "kind": "truncate"})
    assert (await mj.get(f"{REST}/contact")).status_code == 200
    cut = await mj.get(f"{REST}/contactdata")
    assert cut.status_code == 200
    with pytest.raises(ValueError):
        cut.json()


async def test_latency_setting_delays_api_answers_not_admin(mj: httpx.AsyncClient) -> None:
    assert (await mj.post("/_emulator/settings", json={"latency_ms": 150})).status_code == 204
    start = time.perf_counter()
    await asyncio.gather(*(mj.get(f"{REST}/contact") for _ in range(4)))
    took = time.perf_counter() - start
    assert 0.15 <= took < 0.6  # concurrent requests wait side by side, not in a queue
    start = time.perf_counter()
    await mj.get("/_emulator/counters")
    assert time.perf_counter() - start < 0.1
