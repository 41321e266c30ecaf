"""The event stream between a sync process and the app: every event survives the trip."""

from __future__ import annotations

from engage_desktop.sync.events import (
    SyncProgress,
    SyncRefused,
    SyncResult,
    event_line,
    parse_event,
)
from engage_desktop.sync.worker import command


def test_events_round_trip() -> None:
    events = [
        SyncProgress(3, "fetching", 1, 4, 250, 1000, 120.5, 6.2, 30, 1, 2, "VIP"),
        SyncResult(3, "succeeded", "schedule", True, {"created": 5}, 2, 1.5, None, None),
        SyncRefused("A sync is already running: …", "locked"),
    ]
    for event in events:
        assert parse_event(event_line(event)) == event
    assert parse_event("not json") is None
    assert parse_event('{"event": "other"}') is None
    assert parse_event('{"event": "refused", "nope": 1}') is None


def test_the_sync_process_is_the_worker_and_its_command_never_carries_the_key() -> None:
    argv = command("/data", "schedule", full=True)
    assert argv[1:3] == ["-m", "engage_desktop.sync.worker"]  # not the command line's parser
    assert argv[-3:] == ["--trigger", "schedule", "--full"]
    assert argv[argv.index("--data-dir") + 1] == "/data"
    assert not any(part.startswith("pk_") for part in argv)
