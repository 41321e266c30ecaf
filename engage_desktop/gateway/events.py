"""What sending and polling publish: immutable snapshots and results, never deltas.

The GUI's bridge turns these into signals (as it does `sync/events.py`); the command line
prints them. `as_json()` gives each one as a plain JSON object; `event_line` and `parse_event`
carry them from the app's send process (`actions/send_worker.py`) to the app, one JSON line
each.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class SendProgress:
    """A snapshot of a campaign being sent (render it; never diff it)."""

    campaign_id: int
    recipients: int  # to be sent when this run started (pending then)
    submitted: int  # accepted by the gateway, this run
    skipped: int  # left out right before their batch (opted out meanwhile, …), this run
    failed: int  # refused by the gateway, this run
    unknown: int  # batches whose answer was lost, this run
    requests: int
    in_flight: int  # batches on the wire now
    rate: float  # messages accepted per second
    eta_s: float | None
    elapsed_s: float

    @property
    def done(self) -> int:
        return self.submitted + self.skipped + self.failed + self.unknown


@dataclass(frozen=True)
class SendFinished:
    """How a send run ended. `status` is the campaign's: finished, paused (an error, or
    stopped early: resume continues), cancelled."""

    campaign_id: int
    status: str
    recipients: int
    submitted: int
    skipped: dict[str, int] = field(default_factory=dict)  # by reason, this run
    failed: int = 0
    unknown: int = 0  # this run's batches whose answer was lost (a person decides)
    recovered_unknown: int = 0  # left `sending` by a sender that died, now unknown
    requests: int = 0
    duration_s: float = 0.0
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["duration_s"] = round(self.duration_s, 2)
        return out


@dataclass(frozen=True)
class SendRefused:
    """A send that could not start: another sender holds the campaign, nothing to send, or
    no gateway to send with. `kind`: busy | nothing | config."""

    campaign_id: int | None
    reason: str
    kind: str


@dataclass(frozen=True)
class PollRound:
    """One polling round: replies, delivery reports and (now and then) the blacklist."""

    replies: int = 0  # new replies stored
    repeated: int = 0  # replies seen before (re-delivered): stored once
    opt_outs: tuple[str, ...] = ()  # numbers that said an opt-out word, newly opted out
    reports: int = 0  # delivery reports applied to recipients
    unmatched_reports: int = 0  # about messages that are not ours
    confirmed_sent: int = 0  # unknown recipients the reports show the gateway has
    blacklist_checked: bool = False
    blacklist_opt_outs: tuple[str, ...] = ()  # numbers new on the blacklist, now opted out
    blacklisted: int = 0  # local opt-outs added to the gateway's blacklist
    blocked_but_subscribed: int = 0  # on the blacklist, re-subscribed here: a person decides
    blacklist_error: str | None = None  # some opt-outs could not be added (retried next time)
    more: bool = False  # the gateway has more waiting: poll again at once
    error: str | None = None
    duration_s: float = 0.0

    @property
    def opted_out(self) -> bool:
        """New opt-outs are queued for Klaviyo: a good moment to push the outbox."""
        return bool(self.opt_outs or self.blacklist_opt_outs)

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["opt_outs"] = list(self.opt_outs)
        out["blacklist_opt_outs"] = list(self.blacklist_opt_outs)
        out["duration_s"] = round(self.duration_s, 2)
        return out


GatewayEvent = SendProgress | SendFinished | SendRefused | PollRound
_KINDS: dict[str, type[SendProgress] | type[SendFinished] | type[SendRefused] | type[PollRound]] = {
    "progress": SendProgress,
    "finished": SendFinished,
    "refused": SendRefused,
    "poll": PollRound,
}


def event_line(event: GatewayEvent) -> str:
    """One event as a JSON line: how a send in a child process reports to the app."""
    kind = next(k for k, cls in _KINDS.items() if isinstance(event, cls))
    return json.dumps({"event": kind, **asdict(event)})


def parse_event(line: str) -> GatewayEvent | None:
    """The event on a line written by `event_line`; None for anything else."""
    try:
        doc = json.loads(line)
        cls = _KINDS[doc.pop("event")]
        if cls is PollRound:
            for name in ("opt_outs", "blacklist_opt_outs"):
                doc[name] = tuple(doc.get(name, ()))
        event: GatewayEvent = cls(**doc)
        return event
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
