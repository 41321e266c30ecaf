"""Errors a person can act on. Messages never contain the API key or the secret key."""

from __future__ import annotations


class MailjetError(Exception):
    """Base: `user_message` says what happened and what to do."""

    def __init__(self, user_message: str, status: int | None = None) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.status = status


class AuthenticationError(MailjetError):
    """The key pair was refused (a wrong key or secret, or a key deleted in Mailjet)."""

    def __init__(self) -> None:
        super().__init__(
            "Mailjet did not accept this API key and secret key. Copy both from Mailjet → "
            "Account settings → API keys (the key first, then its secret), and check that the "
            "key is still active.",
            401,
        )


class ForbiddenError(MailjetError):
    """The key pair works but may not read what the sync needs."""


class NotFoundError(MailjetError):
    """The object does not exist (a deleted list, an unknown contact)."""


class BadRequestError(MailjetError):
    """Mailjet refused our request as invalid: a bug on our side, reported with its detail."""


class ThrottledError(MailjetError):
    """Mailjet kept answering 429 for longer than we are willing to wait."""


class ServerError(MailjetError):
    """Mailjet kept failing (5xx) after retries."""


class NetworkError(MailjetError):
    """Mailjet could not be reached (DNS, refused, timeouts, dropped connections)."""


class MalformedResponseError(MailjetError):
    """Mailjet answered with something that is not its documented JSON envelope."""
