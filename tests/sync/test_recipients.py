"""Who a message reaches, per consent mode, from committed data (the New Message counts)."""

from __future__ import annotations

import pytest

from engage_desktop.core.consent import ConsentMode, SmsStatus
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
