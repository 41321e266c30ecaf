"""What a consent-mode or country change would make messageable, counted before it is made:
one rule for every source's connection settings (Klaviyo's, Mailjet's)."""

from __future__ import annotations

from engage_desktop.core.consent import ConsentMode
from engage_desktop.core.words import plural
from engage_desktop.storage.consent_changes import (
    never_subscribed_with_a_number,
    unreadable_numbers,
)
from engage_desktop.storage.database import Database
from engage_desktop.sync.phones import normalize_phone


def widening(
    db: Database,
    source: str,
    was: tuple[ConsentMode, str],
    to: tuple[ConsentMode, str],
    whose: str = "",
) -> list[tuple[int, str]]:
    """(how many, in words) per cause: Explicit → Inferred makes the source's never-subscribed
    contacts messageable; a new default country reads its national numbers, some valid now.
    `whose` names the source in the words ("Mailjet "), empty for the main one."""
    (mode, region), (new_mode, new_region) = was, to
    out: list[tuple[int, str]] = []
    if mode is ConsentMode.EXPLICIT and new_mode is ConsentMode.INFERRED:
        n = never_subscribed_with_a_number(db, source)
        if n:
            said = plural(n, f"{whose}contact")
            out.append((n, f"{said} who never subscribed will be able to receive messages"))
    if new_region != region:
        n = sum(1 for raw in unreadable_numbers(db, source) if normalize_phone(raw, new_region))
        if n:
            said = plural(n, f"{whose}phone number")
            out.append(
                (
                    n,
                    f"{said} without a country code will be read as {new_region} numbers "
                    f"and may receive messages",
                )
            )
    return out
