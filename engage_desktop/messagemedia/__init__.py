"""The Sinch MessageMedia Messages API client: send, status, replies and delivery reports
(poll + confirm), and the account blacklist. httpx lives here and in `klaviyo/` only."""

from engage_desktop.messagemedia.client import (
    BLACKLIST_ADD_BATCH,
    CONFIRM_BATCH,
    SEND_BATCH,
    MessageMediaClient,
    Polled,
)
from engage_desktop.messagemedia.errors import (
    AuthenticationError,
    BadRequestError,
    GatewayError,
    NetworkError,
    OutcomeUnknownError,
)
from engage_desktop.messagemedia.models import (
    DeliveryReport,
    MessageStatus,
    OutboundMessage,
    Reply,
    SentMessage,
)

__all__ = [
    "BLACKLIST_ADD_BATCH",
    "CONFIRM_BATCH",
    "SEND_BATCH",
    "AuthenticationError",
    "BadRequestError",
    "DeliveryReport",
    "GatewayError",
    "MessageMediaClient",
    "MessageStatus",
    "NetworkError",
    "OutboundMessage",
    "OutcomeUnknownError",
    "Polled",
    "Reply",
    "SentMessage",
]
