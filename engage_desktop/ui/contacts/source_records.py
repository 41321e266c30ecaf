"""The contact pane's "From each source" part: every source's record of the contact, its
values and groups, with the values the contact shows marked where the sources disagree."""

from __future__ import annotations

import html
from typing import Any

from engage_desktop.core.sources import source_label
from engage_desktop.storage.contact_table import ContactDetail
from engage_desktop.storage.contacts import SourceRecord

LABEL = "margin:6px 0 0 0; color:#6b6b6b; font-size:9pt"
WON = "color:#1b5e20"
LONGEST = 120
CONSENT = {"SUBSCRIBED": "subscribed", "UNSUBSCRIBED": "opted out"}


def value_text(value: Any) -> str:
    """A field's value as people write it: 25, not 25.0."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _values(r: SourceRecord) -> dict[str, Any]:
    """A record's values by the name the contact shows them under."""
    out: dict[str, Any] = {
        "First name": r.first_name,
        "Last name": r.last_name,
        "Email": r.email,
        "Phone as written": r.phone_raw,
    }
    out.update(r.fields)
    return {k: v for k, v in out.items() if v not in (None, "")}


def _shown(detail: ContactDetail) -> dict[str, Any]:
    row = detail.row
    return {
        "First name": row.first_name,
        "Last name": row.last_name,
        "Email": row.email,
        **detail.fields,
    }


def conflicts(records: list[SourceRecord]) -> set[str]:
    """The fields on which the records disagree."""
    seen: dict[str, set[str]] = {}
    for r in records:
        for name, value in _values(r).items():
            seen.setdefault(name, set()).add(str(value))
    return {name for name, values in seen.items() if len(values) > 1}


def records_html(detail: ContactDetail, records: list[SourceRecord]) -> str:
    """HTML for the pane; empty for a contact with one record that agrees with itself."""
    if not records:
        return ""
    disputed = conflicts(records) - {"Phone as written"}
    shown = _shown(detail)
    parts = [f"<h4 style='margin:10px 0 0 0'>From each source ({len(records)})</h4>"]
    if disputed:
        parts.append(
            f"<p style='margin:0; font-size:9pt'>The sources disagree on "
            f"{html.escape(', '.join(sorted(disputed)))}: <span style='{WON}'>✔</span> marks "
            "the value shown (source priority, Settings).</p>"
        )
    for r in records:
        # The record's id is listed above ("Klaviyo id"); a long one here would not wrap.
        parts.append(f"<p style='{LABEL}'><b>{html.escape(source_label(r.source))}</b></p>")
        lines = []
        for name, value in _values(r).items():
            text = html.escape(f"{name}: {value_text(value)[:LONGEST]}")
            if name in disputed and str(shown.get(name)) == str(value):
                text = f"<span style='{WON}'>✔ {text}</span>"
            lines.append(text)
        if r.consent:
            lines.append(html.escape(f"SMS consent: {CONSENT.get(r.consent, r.consent.lower())}"))
        lines.append(html.escape("Groups: " + (", ".join(r.groups) or "none")))
        parts.append(f"<p style='margin:0'>{'<br>'.join(lines)}</p>")
    return "".join(parts)
