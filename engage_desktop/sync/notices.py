"""What a finished run says to people: one text for the desktop notification, the in-app panel
and the email."""

from __future__ import annotations

from dataclasses import dataclass

from engage_desktop.core.words import plural
from engage_desktop.sync.events import SyncResult


@dataclass(frozen=True)
class Notice:
    """A title, a body and how loud: info (success), warning (suspicious), error (failed)."""

    title: str
    body: str
    level: str  # info | warning | error
    run_id: int


def notice_for(result: SyncResult, account: str = "Klaviyo") -> Notice:
    c = result.counts
    issues = f", {plural(result.issues, 'issue')}" if result.issues else ""
    counts = (
        f"{c.get('created', 0):,} new, {c.get('updated', 0):,} updated, "
        f"{c.get('removed', 0):,} removed, {c.get('opted_out', 0):,} opted out{issues}"
    )
    if result.status == "succeeded" and result.suspicious:
        return Notice(
            f"{account} sync finished — check it",
            f"{result.suspicious} ({counts}.)",
            "warning",
            result.run_id,
        )
    if result.status == "succeeded":
        return Notice(
            f"{account} sync complete",
            f"{counts} in {result.duration_s:.0f} s.",
            "info",
            result.run_id,
        )
    if result.status == "cancelled":
        return Notice(
            f"{account} sync cancelled",
            "Contacts were left as they were.",
            "warning",
            result.run_id,
        )
    return Notice(
        f"{account} sync failed",
        f"{result.error or 'unknown error'}. Contacts were left as they were.",
        "error",
        result.run_id,
    )
