"""The emulator answers like Klaviyo: shapes, parameters, errors, rate limits, jobs, admin."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from engage_desktop.emulator import KlaviyoEmulator
from tests.jobs import sms_job

pytestmark = pytest.mark.asyncio


async def pull_all(
    api: httpx.AsyncClient, url: str, params: dict[str, str]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    r = await api.get(url, params=params)
    while True:
        assert r.status_code == 200, r.text
        doc = r.json()
        out += doc["data"]
        if not doc["links"]["next"]:
            return out
        r = await api.get(doc["links"]["next"])


async def test_accounts_shape_and_rate_limit_headers(api: httpx.AsyncClient) -> None:
    r = await api.get("/api/accounts")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.api+json"
    assert r.headers["ratelimit-limit"].startswith("15")
    assert int(r.headers["ratelimit-remaining"]) == 14
    assert 0 < int(r.headers["ratelimit-reset"]) <= 60
    (account,) = r.json()["data"]
    assert account["type"] == "account"
    assert account["attributes"]["contact_information"]["organization_name"]


async def test_every_profile_exactly_once_and_trailing_slash(api: httpx.AsyncClient) -> None:
    profiles = await pull_all(api, "/api/profiles/", {"page[size]": "100"})
    ids = [p["id"] for p in profiles]
    assert len(ids) == 600 == len(set(ids))
    assert ids == sorted(ids)  # ULIDs in creation order
    assert "subscriptions" not in profiles[0]["attributes"]


async def test_prev_link_returns_the_previous_page(api: httpx.AsyncClient) -> None:
    first = (await api.get("/api/profiles", params={"page[size]": "5"})).json()
    assert first["links"]["prev"] is None
    second = (await api.get(first["links"]["next"])).json()
    back = (await api.get(second["links"]["prev"])).json()
    assert [p["id"] for p in back["data"]] == [p["id"] for p in first["data"]]


async def test_cursor_accepted_as_a_whole_next_url(api: httpx.AsyncClient) -> None:
    first = (await api.get("/api/profiles", params={"page[size]": "3"})).json()
    r = await api.get(
        "/api/profiles", params={"page[size]": "3", "page[cursor]": first["links"]["next"]}
    )
    direct = (await api.get(first["links"]["next"])).json()
    assert [p["id"] for p in r.json()["data"]] == [p["id"] for p in direct["data"]]


async def test_sparse_fields_naming_a_parent_and_its_child(api: httpx.AsyncClient) -> None:
    r = await api.get(
        "/api/profiles", params={"fields[profile]": "location,location.city", "page[size]": "50"}
    )
    assert r.status_code == 200
    locations = [p["attributes"]["location"] for p in r.json()["data"]]
    assert None in locations  # some profiles have no location at all
    assert all(loc is None or ("city" in loc and "zip" in loc) for loc in locations)


async def test_subscriptions_only_when_asked_and_sparse_fields(api: httpx.AsyncClient) -> None:
    r = await api.get(
        "/api/profiles",
        params={
            "additional-fields[profile]": "subscriptions",
            "fields[profile]": "email,subscriptions.sms.marketing.consent",
            "page[size]": "50",
        },
    )
    data = r.json()["data"]
    assert all(set(p["attributes"]) == {"email", "subscriptions"} for p in data)
    consents = {
        (p["attributes"]["subscriptions"]["sms"] or {}).get("marketing", {}).get("consent")
        for p in data
    }
    assert "SUBSCRIBED" in consents


async def test_updated_window_sorted_by_updated(api: httpx.AsyncClient) -> None:
    flt = "greater-than(updated,2025-01-01T00:00:00Z),less-than(updated,2026-01-01T00:00:00Z)"
    profiles = await pull_all(
        api, "/api/profiles", {"filter": flt, "sort": "updated", "page[size]": "37"}
    )
    stamps = [p["attributes"]["updated"] for p in profiles]
    assert stamps and stamps == sorted(stamps)
    assert all("2025-01-01" <= s < "2026-01-01" for s in stamps)
    everything = await pull_all(api, "/api/profiles", {"page[size]": "100"})
    expected = [p for p in everything if "2025-01-01" <= p["attributes"]["updated"] < "2026-01-01"]
    assert len(expected) == len(profiles)


async def test_descending_created_and_created_window(api: httpx.AsyncClient) -> None:
    desc = await pull_all(api, "/api/profiles", {"sort": "-created", "page[size]": "100"})
    created = [p["attributes"]["created"] for p in desc]
    assert created == sorted(created, reverse=True) and len(created) == 600
    window = await pull_all(
        api,
        "/api/profiles",
        {"filter": f"greater-than(created,{created[300]}),less-than(created,{created[100]})"},
    )
    assert len(window) == 199


async def test_equality_filters(api: httpx.AsyncClient) -> None:
    everything = await pull_all(api, "/api/profiles", {"page[size]": "100"})
    with_email = next(p for p in everything if p["attributes"]["email"])
    with_phone = next(
        p for p in everything if (p["attributes"]["phone_number"] or "").startswith("+")
    )
    email = with_email["attributes"]["email"]
    r = await api.get("/api/profiles", params={"filter": f'equals(email,"{email}")'})
    assert [p["id"] for p in r.json()["data"]] == [with_email["id"]]
    phone = with_phone["attributes"]["phone_number"]
    r = await api.get("/api/profiles", params={"filter": f"equals(phone_number,'{phone}')"})
    assert with_phone["id"] in [p["id"] for p in r.json()["data"]]
    ids = [everything[3]["id"], everything[7]["id"]]
    r = await api.get("/api/profiles", params={"filter": f'any(id,["{ids[0]}","{ids[1]}"])'})
    assert sorted(p["id"] for p in r.json()["data"]) == sorted(ids)


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"page[size]": "101"}, "between 1 and 100"),
        ({"page[cursor]": "bm9wZQ"}, "Invalid cursor"),
        ({"filter": "equals(created,2024-01-01T00:00:00Z)"}, "not allowed"),
        ({"filter": "greater-than(nickname,1)"}, "not a valid field"),
        ({"sort": "first_name"}, "not a valid sort"),
        ({"fields[profile]": "properties.shoe"}, "not a valid value"),
        ({"colour": "blue"}, "not a valid query parameter"),
    ],
)
async def test_bad_parameters_are_400(
    api: httpx.AsyncClient, params: dict[str, str], fragment: str
) -> None:
    r = await api.get("/api/profiles", params=params)
    assert r.status_code == 400
    (err,) = r.json()["errors"]
    assert err["code"] == "invalid" and fragment in err["detail"]


async def test_auth_revision_method_media_errors(
    api: httpx.AsyncClient, emulator: KlaviyoEmulator
) -> None:
    r = await api.get("/api/profiles", headers={"Authorization": "Bearer pk_nope"})
    assert r.status_code == 401 and r.json()["errors"][0]["code"] == "not_authenticated"
    r = await api.get("/api/profiles", headers={"Authorization": "Klaviyo-API-Key pk_unknown"})
    assert r.status_code == 401
    r = await api.get("/api/profiles", headers={"revision": ""})
    assert r.status_code == 400
    del api.headers["revision"]
    r = await api.get("/api/profiles")
    assert r.status_code == 400 and "revision" in r.json()["errors"][0]["detail"]
    api.headers["revision"] = "2026-07-15"
    assert (await api.get("/api/nothing-here")).status_code == 404
    assert (await api.get("/api/lists/XXXXXX")).status_code == 404
    assert (await api.delete("/api/profiles")).status_code == 405
    r = await api.post(
        "/api/profile-subscription-bulk-delete-jobs",
        content=b"x",
        headers={"content-type": "text/plain"},
    )
    assert r.status_code == 415


async def test_missing_scope_is_403(api: httpx.AsyncClient) -> None:
    r = await api.post(
        "/_emulator/keys", json={"key": "pk_readonly_lists_only_00000000", "scopes": ["lists:read"]}
    )
    assert r.status_code == 201
    headers = {"Authorization": "Klaviyo-API-Key pk_readonly_lists_only_00000000"}
    assert (await api.get("/api/lists", headers=headers)).status_code == 200
    r = await api.get("/api/profiles", headers=headers)
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "permission_denied"


async def test_rate_limits_like_klaviyo(api: httpx.AsyncClient) -> None:
    statuses = [(await api.get("/api/accounts")).status_code for _ in range(3)]
    assert statuses[0] == 200 and 429 in statuses  # accounts: 1 per second
    r = await api.get("/api/accounts")
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) >= 1
    assert "ratelimit-remaining" not in r.headers
    err = r.json()["errors"][0]
    assert err["code"] == "throttled" and "Expected available in" in err["detail"]


async def test_profile_count_has_its_own_stricter_bucket(api: httpx.AsyncClient) -> None:
    lists = (await api.get("/api/lists")).json()["data"]
    lid = lists[0]["id"]
    params = {"additional-fields[list]": "profile_count"}
    first = await api.get(f"/api/lists/{lid}", params=params)
    assert isinstance(first.json()["data"]["attributes"]["profile_count"], int)
    assert (await api.get(f"/api/lists/{lid}", params=params)).status_code == 429
    assert (await api.get(f"/api/lists/{lid}")).status_code == 200  # without the count: fine


async def test_rate_limits_off(emulator: KlaviyoEmulator, api: httpx.AsyncClient) -> None:
    emulator.settings.rate_limits = False
    statuses = [(await api.get("/api/accounts")).status_code for _ in range(20)]
    assert statuses == [200] * 20


async def test_list_members_and_ids(api: httpx.AsyncClient) -> None:
    lid = (await api.get("/api/lists")).json()["data"][1]["id"]
    count = (
        await api.get(f"/api/lists/{lid}", params={"additional-fields[list]": "profile_count"})
    ).json()["data"]["attributes"]["profile_count"]
    members = await pull_all(api, f"/api/lists/{lid}/profiles", {"page[size]": "100"})
    ids = await pull_all(api, f"/api/lists/{lid}/relationships/profiles", {"page[size]": "100"})
    assert len(members) == count == len(ids)
    assert [m["id"] for m in members] == [i["id"] for i in ids]
    joined = [m["attributes"]["joined_group_at"] for m in members]
    assert joined == sorted(joined)
    recent = await pull_all(
        api,
        f"/api/lists/{lid}/profiles",
        {"filter": f"greater-or-equal(joined_group_at,{joined[-5]})"},
    )
    assert [m["id"] for m in recent] == [m["id"] for m in members[-5:]]


async def test_unsubscribe_job_applies_after_a_delay(api: httpx.AsyncClient) -> None:
    everything = await pull_all(
        api, "/api/profiles", {"page[size]": "100", "additional-fields[profile]": "subscriptions"}
    )
    target = next(
        p
        for p in everything
        if (p["attributes"]["phone_number"] or "").startswith("+1")
        and ((p["attributes"]["subscriptions"]["sms"] or {}).get("marketing") or {}).get("consent")
        == "SUBSCRIBED"
    )
    phone = target["attributes"]["phone_number"]
    body = sms_job("delete", [phone, "+15005550006"])
    r = await api.post(
        "/api/profile-subscription-bulk-delete-jobs",
        json=body,
        headers={"content-type": "application/vnd.api+json"},
    )
    assert r.status_code == 202 and r.content == b""
    await asyncio.sleep(0.2)
    r = await api.get(
        "/api/profiles/" + target["id"], params={"additional-fields[profile]": "subscriptions"}
    )
    attrs = r.json()["data"]["attributes"]
    assert attrs["subscriptions"]["sms"]["marketing"]["consent"] == "UNSUBSCRIBED"
    assert attrs["updated"] > target["attributes"]["updated"]
    r = await api.get(
        "/api/profiles",
        params={
            "filter": 'equals(phone_number,"+15005550006")',
            "additional-fields[profile]": "subscriptions",
        },
    )
    (created,) = r.json()["data"]
    assert created["attributes"]["subscriptions"]["sms"]["marketing"]["consent"] == "UNSUBSCRIBED"


async def test_unsubscribe_job_validation(api: httpx.AsyncClient) -> None:
    def job(n: int, phone: str = "+15005550006") -> dict[str, Any]:
        return sms_job("delete", [phone] * n)

    post = "/api/profile-subscription-bulk-delete-jobs"
    assert (await api.post(post, json=job(101))).status_code == 400
    assert (await api.post(post, json=job(0))).status_code == 400
    r = await api.post(post, json=job(1, "(415) 555-0100"))
    assert r.status_code == 400 and r.json()["errors"][0]["source"]["pointer"].endswith(
        "phone_number"
    )
    assert (await api.post(post, json=job(100))).status_code == 202


async def test_subscribe_job_adds_to_list(api: httpx.AsyncClient) -> None:
    lid = (await api.get("/api/lists")).json()["data"][0]["id"]
    body = sms_job("create", ["+15005550077"], list_id=lid)
    assert (
        await api.post("/api/profile-subscription-bulk-create-jobs", json=body)
    ).status_code == 202
    await asyncio.sleep(0.2)
    r = await api.get(
        f"/api/lists/{lid}/profiles",
        params={
            "filter": 'equals(phone_number,["+15005550077"])',
            "additional-fields[profile]": "subscriptions",
        },
    )
    (member,) = r.json()["data"]
    assert member["attributes"]["subscriptions"]["sms"]["marketing"]["consent"] == "SUBSCRIBED"


async def test_admin_changes_faults_and_counters(api: httpx.AsyncClient) -> None:
    first = (await api.get("/api/profiles", params={"page[size]": "1"})).json()["data"][0]
    r = await api.patch(
        f"/_emulator/profiles/{first['id']}",
        json={"attributes": {"first_name": "Zoë", "properties": {"vip": True}}},
    )
    assert r.status_code == 200
    got = (await api.get(f"/api/profiles/{first['id']}")).json()["data"]["attributes"]
    assert got["first_name"] == "Zoë" and got["properties"]["vip"] is True
    assert (await api.delete(f"/_emulator/profiles/{first['id']}")).status_code == 204
    assert (await api.get(f"/api/profiles/{first['id']}")).status_code == 404
    await api.post("/_emulator/faults", json={"path": "/api/lists", "kind": "503", "count": 2})
    assert [(await api.get("/api/lists")).status_code for _ in range(3)] == [503, 503, 200]
    await api.post("/_emulator/faults", json={"path": "/api/lists", "kind": "truncate", "count": 1})
    r = await api.get("/api/lists")
    with pytest.raises(ValueError):
        r.json()
    counters = (await api.get("/_emulator/counters")).json()
    assert counters["requests"]["get_lists"]["503"] == 2
    assert (await api.post("/_emulator/faults", json={"kind": "explode"})).status_code == 400
    assert (await api.post("/_emulator/reset")).status_code == 204
    assert (await api.get(f"/api/profiles/{first['id']}")).status_code == 200


async def test_suppression_filters(api: httpx.AsyncClient) -> None:
    first = (await api.get("/api/profiles", params={"page[size]": "1"})).json()["data"][0]
    bounce = {"reason": "HARD_BOUNCE", "timestamp": "2025-03-01T00:00:00+00:00"}
    patch = {"attributes": {"subscriptions": {"email": {"marketing": {"suppression": [bounce]}}}}}
    assert (await api.patch(f"/_emulator/profiles/{first['id']}", json=patch)).status_code == 200
    field = "subscriptions.email.marketing.suppression"
    for flt, expected in [
        (f'equals({field}.reason,"HARD_BOUNCE")', [first["id"]]),
        (f'equals({field}.reason,"SPAM_COMPLAINT")', []),
        (f"greater-than({field}.timestamp,2025-01-01T00:00:00Z)", [first["id"]]),
        (f"less-than({field}.timestamp,2025-01-01T00:00:00Z)", []),
    ]:
        r = await api.get("/api/profiles", params={"filter": flt, "page[size]": "100"})
        assert r.status_code == 200, r.text
        assert [p["id"] for p in r.json()["data"]] == expected, flt


async def test_a_created_then_deleted_profile_is_gone_for_the_admin_api_too(
    api: httpx.AsyncClient,
) -> None:
    pid = (await api.post("/_emulator/profiles", json={"attributes": {"email": "a@b.c"}})).json()
    assert (await api.delete(f"/_emulator/profiles/{pid['id']}")).status_code == 204
    patched = await api.patch(f"/_emulator/profiles/{pid['id']}", json={"attributes": {}})
    assert patched.status_code == 404
