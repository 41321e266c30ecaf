"""Where contacts come from: the stored source labels and how people see them."""

from __future__ import annotations

KLAVIYO = "KLAVIYO"
MAILJET = "MAILJET"
CSV = "CSV"
LOCAL = "LOCAL"  # an opt-out made here: a click, the command line
SMS = "SMS"  # an opt-out heard by SMS: a STOP reply, the gateway's blacklist

_SHOWN = {
    KLAVIYO: "Klaviyo",
    MAILJET: "Mailjet",
    CSV: "CSV",  # the group names say `CSV: Trade show 2026`
    LOCAL: "Engage",
    SMS: "SMS reply",
}


def source_label(source: str) -> str:
    """`KLAVIYO` -> "Klaviyo": the stored label stays, people read words."""
    return _SHOWN.get(source, source.title())
