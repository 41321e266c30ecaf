"""Errors a person can act on. Messages never contain the API key or secret."""

from __future__ import annotations


class GatewayError(Exception):
    """Base: `user_message` says what happened and what to do."""

    def __init__(self, user_message: str, status: int | None = None) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.status = status


class AuthenticationError(GatewayError):
    """The key and secret were refused (wrong, revoked, or for another region's host)."""

    def __init__(self) -> None:
        super().__init__(
            "MessageMedia did not accept this API key and secret. Copy both from the Sinch "
            "MessageMedia Hub (Settings → API Settings, Basic authentication), and check the "
            "base URL is your account's region (EU, APAC or api.messagemedia.com).",
            401,
        )


class BadRequestError(GatewayError):
    """The gateway refused the request as invalid; `details` are its own words, one per
    problem (for a send, "/messages/3/destination_number: …": nothing of it was sent)."""

    def __init__(self, user_message: str, status: int, details: list[str]) -> None:
        super().__init__(user_message, status)
        self.details = details


class NotFoundError(GatewayError):
    """The resource does not exist (an unknown or expired message id, a number not listed)."""


class ThrottledError(GatewayError):
    """The gateway kept answering 429 for longer than we wait."""


class ServerError(GatewayError):
    """The gateway kept failing (5xx) after retries."""


class NetworkError(GatewayError):
    """The gateway could not be reached (DNS, refused, timeouts, dropped connections)."""


class MalformedResponseError(GatewayError):
    """The gateway answered with something that is not the documented JSON."""


class UnsafeLinkError(GatewayError):
    """A next-page link pointed to another server: the credentials are not sent there."""

    def __init__(self, where: str, doing: str) -> None:
        super().__init__(
            f"MessageMedia's answer pointed to another server ({where}) for the next page while "
            f"we tried to {doing}; the API key and secret are only ever sent to the base URL, so "
            f"we stopped. Check the gateway's base URL, or a proxy rewriting answers."
        )


class OutcomeUnknownError(GatewayError):
    """A send whose answer was lost after the request may have reached the gateway: the
    messages may or may not have gone. Never retried: a person decides (the API has no
    idempotency key, so a blind retry could send them twice)."""

    def __init__(self, problem: str) -> None:
        super().__init__(
            f"MessageMedia's answer to a send was lost ({problem}): those messages may or may "
            f"not have gone out. They are kept as 'unknown' and are not resent on their own; "
            f"delivery reports that arrive for them confirm they went. Decide to resend or "
            f"drop them once the reports are in.",
        )
        self.problem = problem
