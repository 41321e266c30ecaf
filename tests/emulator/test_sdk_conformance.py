"""The official Klaviyo SDK (klaviyo-api), pointed at the emulator, reads typed models."""

from __future__ import annotations

import builtins
import importlib
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from engage_desktop.emulator import DEMO_API_KEY
from engage_desktop.emulator.server import EmulatorThread
from tests.jobs import sms_job


@contextmanager
def _plain_imports() -> Iterator[None]:
    """Once PySide6 is loaded (pytest-qt), its import hook probes each new module for
    `__wrapped__`; the SDK's generated packages answer unknown names by importing them as
    submodules, so the probe fails with ModuleNotFoundError. The SDK imports lazily, so its
    tests run with Python's plain import."""
    hooked = builtins.__import__
    builtins.__import__ = importlib.__import__
    try:
        yield
    finally:
        builtins.__import__ = hooked


with _plain_imports():
    from klaviyo_api import KlaviyoAPI


@pytest.fixture(autouse=True)
def _sdk_imports_plainly() -> Iterator[None]:
    with _plain_imports():
        yield


@pytest.fixture
def sdk(live: EmulatorThread) -> KlaviyoAPI:
    return KlaviyoAPI(DEMO_API_KEY, max_delay=5, max_retries=3, test_host=live.url)


def test_accounts(sdk: KlaviyoAPI) -> None:
    resp = sdk.Accounts.get_accounts()
    assert len(resp.data) == 1
    assert resp.data[0].attributes.contact_information.organization_name


def test_pages_every_profile_with_subscriptions(sdk: KlaviyoAPI) -> None:
    seen: list[str] = []
    consents: set[str] = set()
    cursor = None
    while True:
        page = sdk.Profiles.get_profiles(
            additional_fields_profile=["subscriptions"], page_size=100, page_cursor=cursor
        )
        for profile in page.data:
            seen.append(profile.id)
            subs = profile.attributes.subscriptions
            if subs and subs.sms and subs.sms.marketing:
                consents.add(subs.sms.marketing.consent)
        cursor = page.links.next
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 1500
    assert consents == {"SUBSCRIBED", "NEVER_SUBSCRIBED", "UNSUBSCRIBED"}


def test_lists_and_members(sdk: KlaviyoAPI, live: EmulatorThread) -> None:
    lists = sdk.Lists.get_lists()
    assert len(lists.data) == 4
    list_id = lists.data[0].id
    count = sdk.Lists.get_list(list_id, additional_fields_list=["profile_count"])
    expected = count.data.attributes.profile_count
    members: list[str] = []
    cursor = None
    while True:
        page = sdk.Lists.get_profiles_for_list(list_id, page_size=100, page_cursor=cursor)
        members += [m.id for m in page.data]
        assert all(m.attributes.joined_group_at for m in page.data)
        cursor = page.links.next
        if not cursor:
            break
    assert len(members) == expected > 0


def test_unsubscribe_job(sdk: KlaviyoAPI, live: EmulatorThread) -> None:
    body = sms_job("delete", ["+15005550142"])
    sdk.Profiles.bulk_unsubscribe_profiles(body)
    time.sleep(0.3)
    found = sdk.Profiles.get_profiles(
        filter='equals(phone_number,"+15005550142")', additional_fields_profile=["subscriptions"]
    )
    assert found.data[0].attributes.subscriptions.sms.marketing.consent == "UNSUBSCRIBED"
    counters = httpx.get(f"{live.url}/_emulator/counters").json()
    assert counters["requests"]["bulk_unsubscribe_profiles"]["202"] == 1
