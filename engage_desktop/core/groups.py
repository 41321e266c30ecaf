"""Groups and source priority: the rules, without storage.

A group is a source's list as a contact carries it: `Klaviyo: VIP`, `Mailjet: Newsletter`,
`CSV: Trade show 2026`. The source priority says whose value a contact shows when its
sources disagree (docs/SOURCES.md); every known source appears in it exactly once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from engage_desktop.core.sources import CSV, KLAVIYO, MAILJET

KNOWN_SOURCES = (KLAVIYO, MAILJET, CSV)
DEFAULT_PRIORITY = KNOWN_SOURCES  # Klaviyo first: it is the source opt-outs go back to
_PREFIX = {KLAVIYO: "Klaviyo", MAILJET: "Mailjet", CSV: "CSV"}
MAX_GROUP_CHARS = 200


class PriorityError(ValueError):
    """A source priority that cannot be used; the message says why."""


def group_name(source: str, name: str) -> str:
    """A source's list as the contact's group: `Mailjet: Newsletter`."""
    return f"{_PREFIX.get(source, source.title())}: {name}"


def short_name(group: str) -> str:
    """The list's own name: `Mailjet: Newsletter` -> `Newsletter`."""
    return group.split(": ", 1)[-1]


def group_key(name: str) -> str:
    """What identifies a CSV group: its name without case or repeated spaces (importing into
    "Trade Show 2026" and "trade show  2026" fills one group)."""
    return re.sub(r"\s+", " ", name).strip().casefold()


def clean_group_name(name: str) -> str:
    """A group name as typed, made usable; ValueError saying why when it is not."""
    text = re.sub(r"\s+", " ", name).strip()
    if not text:
        raise ValueError("Give the group a name (the contacts join it as 'CSV: <name>').")
    if len(text) > MAX_GROUP_CHARS:
        raise ValueError(f"A group name has at most {MAX_GROUP_CHARS} characters.")
    if not text.isprintable():
        raise ValueError("A group name cannot contain control characters.")
    return text


def check_priority(order: Sequence[str]) -> tuple[str, ...]:
    """The order, upper-cased, with every known source exactly once (sources it does not
    name follow in the default order); PriorityError for an unknown or repeated source."""
    out: list[str] = []
    for raw in order:
        source = raw.strip().upper()
        if source not in KNOWN_SOURCES:
            raise PriorityError(
                f"'{raw}' is not a source; the sources are {', '.join(KNOWN_SOURCES)}."
            )
        if source in out:
            raise PriorityError(f"{source} is named twice in the source priority.")
        out.append(source)
    return (*out, *(s for s in DEFAULT_PRIORITY if s not in out))
