"""Demo mode's two emulated accounts share some people: Mailjet contacts with the phone
numbers of Klaviyo profiles, so that a sync of both shows contacts merged across sources
(and, where the first names differ, a conflict the source priority decides)."""

from __future__ import annotations

from engage_desktop.emulator.app import KlaviyoEmulator
from engage_desktop.emulator.mailjet.app import MailjetEmulator

OTHER_NAMES = ("Sam", "Alex", "Robin", "Jo")  # what Mailjet calls some of them instead


def share_people(klaviyo: KlaviyoEmulator, mailjet: MailjetEmulator, wanted: int) -> int:
    """Add up to `wanted` Mailjet contacts that are Klaviyo profiles (by E.164 phone), spread
    over Mailjet's lists; returns how many were added."""
    data, store = klaviyo.store.data, mailjet.store
    lists = store.lists()
    if not lists or data.n == 0:
        return 0
    now, added = store.now(), 0
    for i in range(0, data.n, max(1, data.n // max(2 * wanted, 1))):
        if added >= wanted:
            break
        phone, (first, last) = data.phone(i), data.names(i)
        if not phone or not phone.startswith("+"):
            continue
        j = store.create_contact(f"klaviyo.{i}@shared.example", f"{first or ''} {last or ''}")
        name = OTHER_NAMES[added % len(OTHER_NAMES)] if added % 3 == 0 else first or ""
        store.set_values(
            j,
            [
                {"Name": mailjet.settings.phone_property, "Value": phone},
                {"Name": "firstname", "Value": name},
                {"Name": "name", "Value": last or ""},
            ],
        )
        store.members.add(lists[added % len(lists)], j, now)
        added += 1
    store.changed()
    return added
