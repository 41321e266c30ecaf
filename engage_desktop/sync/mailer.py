"""Completion emails over SMTP (stdlib). Sending never blocks or fails a sync: callers run it
off the GUI thread and only log and show its errors."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage

from engage_desktop.core.settings import EmailSettings, SmtpSecurity
from engage_desktop.core.words import plural
from engage_desktop.sync.notices import Notice

log = logging.getLogger(__name__)
TIMEOUT_S = 20.0


class MailError(Exception):
    """Sending failed; the message says why in plain words."""


def should_email(settings: EmailSettings, notice: Notice) -> bool:
    if not settings.enabled or not settings.recipients:
        return False
    return settings.on_failure if notice.level == "error" else settings.on_success


def send_notice(
    settings: EmailSettings,
    password: str | None,
    notice: Notice,
    context: ssl.SSLContext | None = None,
) -> None:
    """Send one email now (blocking, at most TIMEOUT_S per step); raises MailError."""
    msg = EmailMessage()
    msg["Subject"] = f"Engage Desktop: {notice.title}"
    msg["From"] = settings.sender or settings.user
    msg["To"] = ", ".join(settings.recipients)
    msg.set_content(f"{notice.body}\n\nSync history: run #{notice.run_id} in Engage Desktop.\n")
    tls = context or ssl.create_default_context()
    try:
        if settings.security is SmtpSecurity.TLS:
            server: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=TIMEOUT_S, context=tls
            )
        else:
            server = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_S)
        with server:
            if settings.security is SmtpSecurity.STARTTLS:
                server.starttls(context=tls)
            if settings.user and password:
                server.login(settings.user, password)
            server.send_message(msg)
    except smtplib.SMTPAuthenticationError:
        raise MailError("the mail server refused the user name or password") from None
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        raise MailError(f"could not send through {settings.host}:{settings.port}: {exc}") from None
    log.info("notification email sent to %s", plural(len(settings.recipients), "recipient"))
