"""The send process's events as JSON lines (`actions/send_worker.py` writes them, the app's
gateway thread reads them): each kind comes back equal; anything else is not an event."""

from __future__ import annotations

import pytest

from engage_desktop.actions.send_worker import _Pause
from engage_desktop.gateway.events import (
    GatewayEvent,
    PollRound,
    SendFinished,
    SendProgress,
    SendRefused,
    event_line,
    parse_event,
)


@pytest.mark.parametrize(
    "event",
    [
        SendProgress(3, 1000, 200, 1, 2, 100, 4, 2, 55.5, 14.2, 3.6),
        SendProgress(3, 1000, 0, 0, 0, 0, 0, 0, 0.0, None, 0.0),
        SendFinished(3, "paused", 1000, 200, {"opted_out": 1}, 2, 100, 5, 4, 3.6, "stopped"),
        SendRefused(None, "The SMS gateway is not connected.", "config"),
        PollRound(replies=2, opt_outs=("+61491570156",), blacklist_opt_outs=("+61491570157",)),
    ],
)
def test_each_event_survives_its_line(event: GatewayEvent) -> None:
    line = event_line(event)
    assert "\n" not in line
    assert parse_event(line) == event


@pytest.mark.parametrize(
    "line", ["", "INFO engage_desktop: hello", "{}", '{"event": "other"}', '{"event": "refused"}']
)
def test_anything_else_is_not_an_event(line: str) -> None:
    assert parse_event(line) is None


class FakeSender:
    def __init__(self) -> None:
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True


def test_a_pause_asked_before_the_sender_exists_stops_it_once_it_does() -> None:
    pause = _Pause()
    pause()
    sender = FakeSender()
    pause.keep(sender)  # type: ignore[arg-type]
    assert sender.stopped
