"""Who a message reaches per consent mode (the New Message counts); built-in columns fed from
another attribute."""

from __future__ import annotations

import pytest

from engage_desktop.core.consent import ConsentMode, SmsStatus
from engage_desktop.core.mapping import MappingSpec
from engage_desktop.storage.contact_table import ContactTable

from .conftest import World

pytestmark = pytest.mark.asyncio


async def test_recipients_by_consent_mode(world: World) -> None:
    world.connect(ConsentMode.INFERRED)
    await world.sync(full=True)
    table = ContactTable(world.db)
    inferred = table.recipients(None)
    contacts = world.contacts()
    assert inferred.total == len(contacts)
    assert inferred.never_subscribed == 0  # inferred: no consent record still messages
    assert inferred.eligible == sum(
        1 for c in contacts if c.sms_status is SmsStatus.SUBSCRIBED and c.phone
    )
    assert inferred.no_valid_phone == sum(
        1 for c in contacts if c.sms_status is SmsStatus.SUBSCRIBED and not c.phone
    )
    assert inferred.opted_out == sum(1 for c in contacts if c.sms_status is SmsStatus.OPTED_OUT)

    world.connect(ConsentMode.EXPLICIT)  # a new mode re-derives every status
    await world.sync()
    explicit = table.recipients(None)
    assert explicit.total == inferred.total and explicit.opted_out == inferred.opted_out
    assert explicit.never_subscribed > 0
    assert explicit.eligible == inferred.eligible - explicit.never_subscribed + (
        inferred.no_valid_phone - explicit.no_valid_phone
    )
    list_id, _ = table.lists()[0]
    in_list = table.recipients(list_id)
    assert 0 < in_list.total < explicit.total


async def test_a_built_in_column_can_come_from_another_attribute(world: World) -> None:
    from engage_desktop.core.fields import FieldType

    world.connect(mappings=[MappingSpec("Last name", "properties.favorite_color", FieldType.TEXT)])
    await world.sync(full=True)
    profiles = {p["id"]: p["attributes"] for p in await world.profiles()}
    checked = 0
    for contact in world.contacts():
        ids = contact.sources.get("KLAVIYO", [])
        for profile_id in ids if len(ids) == 1 else []:  # twins merge: either profile's names
            colour = (profiles[profile_id].get("properties") or {}).get("favorite_color")
            assert contact.last_name == colour  # absent on the profile: the column is empty
            assert contact.first_name == profiles[profile_id].get("first_name")
            assert "Last name" not in contact.fields
            checked += 1
    assert checked > 100
