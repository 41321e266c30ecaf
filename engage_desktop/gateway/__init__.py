"""The SMS gateway engine: send campaigns, hear replies and delivery reports, keep the
blacklist and our opt-outs in step. No Qt here: it publishes immutable events (`events.py`)
that the app's bridge turns into signals, as it does for the sync engine."""

from engage_desktop.gateway.db_thread import DbThread
from engage_desktop.gateway.events import (
    GatewayEvent,
    PollRound,
    SendFinished,
    SendProgress,
    SendRefused,
)
from engage_desktop.gateway.inbound import BlacklistReconciler, InboundPoller, PollLoop, Reconciled
from engage_desktop.gateway.sender import CampaignSender

__all__ = [
    "BlacklistReconciler",
    "CampaignSender",
    "DbThread",
    "GatewayEvent",
    "InboundPoller",
    "PollLoop",
    "PollRound",
    "Reconciled",
    "SendFinished",
    "SendProgress",
    "SendRefused",
]
