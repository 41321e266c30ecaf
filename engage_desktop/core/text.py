"""Text from outside, made safe to store and show: no invisible control characters, a size cap."""

from __future__ import annotations

import re

# C0 controls but tab, newline and carriage return; DEL; the bidirectional embedding, override
# and isolate controls (they can make a name display as something else, or reorder a number).
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
MAX_VALUE_CHARS = 10_000  # a mapped field's value
MAX_DETAIL_CHARS = 1_000  # a name or an email


def clean_text(text: str, limit: int = MAX_VALUE_CHARS) -> tuple[str, str | None]:
    """`text` without invisible control characters and cut to `limit` characters, and what
    was done to it in words (None when nothing was)."""
    if text.isprintable() and len(text) <= limit:  # nearly every value: no regex needed
        return text, None
    cleaned, removed = _INVISIBLE.subn("", text)
    notes = []
    if removed:
        notes.append(
            f"removed {removed} invisible control character{'s' if removed != 1 else ''}"
            " (such as NUL or a right-to-left override)"
        )
    if len(cleaned) > limit:
        notes.append(f"cut to {limit:,} of its {len(cleaned):,} characters")
        cleaned = cleaned[:limit]
    return cleaned, "; ".join(notes) or None
