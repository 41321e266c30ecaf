"""How the MessageMedia emulator behaves: credentials, latency, delivery timing and outcomes.

The same names are the `engage-desktop emulator --service messagemedia` options (the ones the
CLI exposes) and the keys `POST /_emulator/settings` accepts, so a test or a demo can change
the world live without restarting the server.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

# Documented, not secret: what the emulator accepts unless told otherwise. Real MessageMedia
# keys are 20 characters; these only have to be recognisable in logs.
DEMO_API_KEY = "mm_demo_engage_desktop"
DEMO_API_SECRET = "mm_demo_secret_not_a_secret"

# No stored source lists MessageMedia's own opt-out words (NOTES §7); these are the carrier/CTIA
# words seen on several vendors' pages, matched against the whole reply.
DEFAULT_OPT_OUT_KEYWORDS = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT")


@dataclass
class Settings:
    """What the MessageMedia emulator accepts and how its messages fare."""

    api_key: str = DEMO_API_KEY
    api_secret: str = DEMO_API_SECRET
    latency_ms: float = 0.0
    seed: int = 1
    account_id: str = "EngageDemo"  # shown as vendor_account_id.account_id
    # Each delay counts from the previous status: accepted (or scheduled time) -> enroute ->
    # submitted -> delivered / failed / rejected.
    enroute_after_s: float = 0.0
    submitted_after_s: float = 0.5
    delivered_after_s: float = 1.0
    failed_rate: float = 0.0  # share of messages that end `failed` (code 400) at the carrier
    rejected_rate: float = 0.0  # share that end `rejected` downstream (code 402)
    # The code carried by the `rejected` report of a message to a blacklisted number. Both 302
    # ("Destination address blocked. Message discarded.") and 412 ("Destination address
    # blocked.") exist; no source ties either to the account blacklist.
    blocked_error_code: str = "412"
    opt_out_keywords: tuple[str, ...] = DEFAULT_OPT_OUT_KEYWORDS
    # Whether a STOP reply is also listed by GET /v1/replies (undocumented; NOTES §7).
    list_opt_out_replies: bool = True
    hmac_clock_skew_s: float = 300.0  # how far an HMAC `Date` may be from the emulator's clock

    def update(self, changes: dict[str, Any]) -> None:
        """Apply `POST /_emulator/settings`; a bad key or value raises ValueError, no change."""
        known = {f.name: f for f in fields(self)}
        staged: dict[str, Any] = {}
        for key, value in changes.items():
            if key not in known or key in ("api_key", "api_secret", "seed"):
                raise ValueError(f"unknown or fixed setting {key!r}")
            staged[key] = _coerce(key, value)
        failed = staged.get("failed_rate", self.failed_rate)
        rejected = staged.get("rejected_rate", self.rejected_rate)
        if failed + rejected > 1:
            raise ValueError("failed_rate + rejected_rate must not exceed 1")
        for key, value in staged.items():
            setattr(self, key, value)

    def as_json(self) -> dict[str, Any]:
        doc = {f.name: getattr(self, f.name) for f in fields(self)}
        doc["opt_out_keywords"] = list(self.opt_out_keywords)
        doc.pop("api_secret")
        return doc


def _coerce(key: str, value: Any) -> Any:
    if key in ("failed_rate", "rejected_rate"):
        rate = float(value)
        if not 0 <= rate <= 1:
            raise ValueError(f"{key} must be between 0 and 1")
        return rate
    if key in ("latency_ms", "enroute_after_s", "submitted_after_s", "delivered_after_s"):
        seconds = float(value)
        if seconds < 0:
            raise ValueError(f"{key} must not be negative")
        return seconds
    if key == "hmac_clock_skew_s":
        return float(value)
    if key == "list_opt_out_replies":
        if not isinstance(value, bool):
            raise ValueError(f"{key} must be true or false")
        return value
    if key == "opt_out_keywords":
        if not isinstance(value, list) or not all(isinstance(k, str) and k for k in value):
            raise ValueError("opt_out_keywords must be a list of words")
        return tuple(k.strip().upper() for k in value)
    return str(value)
