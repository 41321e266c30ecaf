"""Which base URLs may carry an API key, and URLs as they may be shown (never with secrets)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urljoin, urlsplit, urlunsplit


class UnsafeUrlError(ValueError):
    """A base URL the key must not be sent to; the message says why and what to use."""


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> str:
    """The base URL, normalised (no trailing slash), or UnsafeUrlError.

    `https://` anywhere; `http://` only to this machine (the emulator), since the key would
    cross the network in clear; never a user name or password in the URL, never a query.
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port  # raises on a port that is not a number
    except ValueError:
        raise UnsafeUrlError(f"'{redact_url(text)}' is not a URL.") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeUrlError(
            f"'{redact_url(text)}' is not a web address: write it like https://a.klaviyo.com."
        )
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrlError(
            "The base URL must not contain a user name, password or key: give the key "
            "separately (it is kept in your keyring, never in the URL)."
        )
    if parts.query or parts.fragment:
        raise UnsafeUrlError(f"The base URL '{redact_url(text)}' must not have a query.")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise UnsafeUrlError(
            f"Plain http:// would send the API key over the network in clear: use "
            f"https://{parts.hostname}{'' if port is None else f':{port}'} (http:// is allowed "
            f"only for this machine, such as the built-in emulator)."
        )
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL, the port filled in from the scheme."""
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def same_origin_link(base_url: str, link: str) -> str | None:
    """`link` made absolute against `base_url` when it stays on the same scheme, host and
    port; None when it points anywhere else (where the key must not go)."""
    absolute = urljoin(base_url + "/", link)
    try:
        return absolute if origin(absolute) == origin(base_url) else None
    except ValueError:
        return None


def redact_url(text: str) -> str:
    """A URL without what must not be shown: user name and password become `***`."""
    try:
        parts = urlsplit(text)
        if parts.username is None and parts.password is None:
            return text
        host = parts.hostname or ""
        netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
    except ValueError:
        return "(an unreadable URL)"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
