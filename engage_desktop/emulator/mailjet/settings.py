"""How the Mailjet emulator behaves (the `engage-desktop emulator --service mailjet` options)."""

from __future__ import annotations

from dataclasses import dataclass

# Real Mailjet keys are 32 lowercase hex digits; these look like them so that a client's
# key-format check accepts them, and are easy to recognise in logs.
DEMO_API_KEY = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d"
DEMO_API_SECRET = "6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a"

# The properties every generated account defines besides the phone property (name, type).
BASE_PROPERTIES: tuple[tuple[str, str], ...] = (
    ("firstname", "str"),  # the four a new Mailjet account has (recorded contactdata row)
    ("name", "str"),
    ("country", "str"),
    ("newsletter_sub", "str"),
)
EXTRA_PROPERTIES: tuple[tuple[str, str], ...] = (
    ("city", "str"),
    ("loyalty_points", "int"),
    ("lifetime_value", "float"),
    ("last_purchase_at", "datetime"),
    ("sms_opt_in", "bool"),  # what an account might use as its SMS consent flag
)


@dataclass
class Settings:
    """The generated account and the emulator's behaviour."""

    contacts: int = 5000
    lists: int = 8
    phone_property: str = "phone"  # the contact property holding phone numbers
    api_key: str = DEMO_API_KEY
    api_secret: str = DEMO_API_SECRET
    latency_ms: float = 0.0
    seed: int = 1
    # Requests per second per API key before a 429. Mailjet publishes no number; 0 = no limit.
    rate_limit_per_s: int = 30

    def __post_init__(self) -> None:
        taken = {name for name, _ in BASE_PROPERTIES + EXTRA_PROPERTIES}
        if not self.phone_property or self.phone_property.lower() in taken:
            raise ValueError(
                f"phone property {self.phone_property!r} must be a new name, not one of "
                + ", ".join(sorted(taken))
            )
        if self.contacts < 0 or self.lists < 0:
            raise ValueError("contacts and lists must not be negative")
        if self.rate_limit_per_s < 0:
            raise ValueError("rate_limit_per_s must not be negative (0 turns limiting off)")

    def property_definitions(self) -> list[tuple[str, str]]:
        """(name, Datatype) of every generated property, in contactmetadata ID order."""
        return [*BASE_PROPERTIES, (self.phone_property, "str"), *EXTRA_PROPERTIES]
