"""Errors a person can act on. Messages never contain the API key."""

from __future__ import annotations


class KlaviyoError(Exception):
    """Base: `user_message` says what happened and what to do."""

    def __init__(self, user_message: str, status: int | None = None) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.status = status


class AuthenticationError(KlaviyoError):
    """The key was refused (wrong, revoked, or not a private key)."""

    def __init__(self) -> None:
        super().__init__(
            "Klaviyo did not accept this API key. Copy the whole private key (it starts with "
            "pk_) from Klaviyo > Settings > API keys, and check that it has not been revoked.",
            401,
        )


class MissingScopeError(KlaviyoError):
    """The key is valid but lacks a scope an operation needs."""

    def __init__(self, scopes: list[str], operation: str) -> None:
        names = ", ".join(scopes)
        super().__init__(
            f"The API key is missing the scope {names}, needed to {operation}. In Klaviyo, edit "
            f"the key's access (Settings > API keys) to grant it.",
            403,
        )
        self.scopes = scopes


class ThrottledError(KlaviyoError):
    """Klaviyo kept answering 429 for longer than we are willing to wait."""


class ServerError(KlaviyoError):
    """Klaviyo kept failing (5xx) after retries."""


class NetworkError(KlaviyoError):
    """Klaviyo could not be reached (DNS, refused, timeouts, dropped connections)."""


class MalformedResponseError(KlaviyoError):
    """Klaviyo answered with something that is not the documented JSON:API shape."""


class NotFoundError(KlaviyoError):
    """The resource does not exist (a deleted list, say)."""


class BadRequestError(KlaviyoError):
    """Klaviyo refused our request as invalid: a bug on our side, reported with its detail."""


class UnsafeLinkError(KlaviyoError):
    """An answer pointed to another server for its next page: the key is not sent there."""

    def __init__(self, where: str, doing: str) -> None:
        super().__init__(
            f"Klaviyo's answer pointed to another server ({where}) for the next page while we "
            f"tried to {doing}; your API key is only ever sent to the base URL, so the sync "
            f"stopped. Check the base URL (Integrations → Klaviyo), or a proxy rewriting "
            f"answers.",
        )
