"""A local Mailjet (Email API v3 REST): the contact resources a sync reads, as recorded.

`contactslist`, `contact`, `contactmetadata`, `contactdata` and `listrecipient` under
`/v3/REST/`, with Mailjet's envelope, paging, filters, errors, Basic auth (API key + secret key)
and a per-key, per-second rate limit. The account is generated from a seed; phone numbers live
in a contact property whose name is a setting, written several ways. The wire facts come from
recorded real responses (tests/emulator/mailjet/recorded/); docs/emulators/mailjet.md has
the details. Like the Klaviyo emulator, it imports nothing from the product's own packages.

    emulator = MailjetEmulator(Settings(contacts=100_000, phone_property="mobile"))
    with EmulatorThread(emulator) as thread:  # engage_desktop.emulator.server
        ...  # Basic auth with DEMO_API_KEY / DEMO_API_SECRET against thread.url
"""

from engage_desktop.emulator.mailjet.app import MailjetEmulator
from engage_desktop.emulator.mailjet.settings import DEMO_API_KEY, DEMO_API_SECRET, Settings

__all__ = ["DEMO_API_KEY", "DEMO_API_SECRET", "MailjetEmulator", "Settings"]
