"""Where contacts come from: the stored source labels and how people see them."""

from __future__ import annotations

KLAVIYO = "KLAVIYO"
MAILJET = "MAILJET"
CSV = "CSV"
LOCAL = "LOCAL"  # an opt-out made here: a click, the command line, a STOP reply

_SHOWN = {KLAVIYO: "Klaviyo", MAILJET: "Mailjet", CSV: "CSV import", LOCAL: "Engage"}


def source_label(source: str) -> str:
    """`KLAVIYO` -> "Klaviyo": the stored label stays, people read words."""
    return _SHOWN.get(source, source.title())
