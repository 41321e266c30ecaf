"""The app's settings (schedule, tray, email notifications): plain values, no secrets."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

SCHEDULE_MIN_H, SCHEDULE_MAX_H = 1, 168


class SmtpSecurity(StrEnum):
    """How the connection to the mail server is protected."""

    NONE = "none"
    TLS = "tls"  # TLS from the first byte (port 465)
    STARTTLS = "starttls"  # plain, then upgraded (port 587)


@dataclass(frozen=True)
class EmailSettings:
    """Where completion emails go. The password lives in the keyring, never here."""

    enabled: bool = False
    host: str = ""
    port: int = 587
    security: SmtpSecurity = SmtpSecurity.STARTTLS
    user: str = ""
    sender: str = ""
    recipients: tuple[str, ...] = ()
    on_success: bool = True
    on_failure: bool = True


@dataclass(frozen=True)
class AppSettings:
    """Everything the Settings dialog edits."""

    keep_in_tray: bool = True
    tray_explained: bool = False  # the first close to the tray says what happened
    email: EmailSettings = field(default_factory=EmailSettings)


def schedule_problem(hours: int) -> str | None:
    if not SCHEDULE_MIN_H <= hours <= SCHEDULE_MAX_H:
        return f"Sync every {SCHEDULE_MIN_H} to {SCHEDULE_MAX_H} hours."
    return None


def email_problems(e: EmailSettings) -> list[str]:
    """What stops emails from being sent with these settings."""
    if not e.enabled:
        return []
    out = []
    if not e.host.strip():
        out.append("Give the mail server (SMTP host).")
    if not 0 < e.port < 65536:
        out.append("The port must be between 1 and 65535.")
    if not e.recipients:
        out.append("Give at least one recipient.")
    bad = [r for r in e.recipients if "@" not in r or r.startswith("@") or r.endswith("@")]
    if bad:
        out.append(f"Not an email address: {', '.join(bad)}.")
    if not (e.sender or e.user or "").strip() or "@" not in (e.sender or e.user):
        out.append("Give the sender address (From).")
    return out


def parse_recipients(text: str) -> tuple[str, ...]:
    """Addresses separated by commas, semicolons or new lines."""
    parts = text.replace(";", ",").replace("\n", ",").split(",")
    return tuple(p.strip() for p in parts if p.strip())
