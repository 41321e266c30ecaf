"""What a sync run counts: one list, shared by the history, the result and the command line."""

from __future__ import annotations

RUN_COUNTS = (
    "created",
    "updated",
    "unchanged",
    "removed",
    "invalid",
    "opted_out",
    "fetched",
    "requests",
    "throttled",
)
