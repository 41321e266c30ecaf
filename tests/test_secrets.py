"""API keys stay out of reprs, strings and logs."""

from __future__ import annotations

import logging

from engage_desktop.config import RedactingFormatter
from engage_desktop.core.secrets import ApiKey, looks_like_private_key, redact

KEY = "pk_0123456789abcdef0123456789abcdef01"


def test_api_key_is_masked_everywhere_but_reveal() -> None:
    key = ApiKey(f"  {KEY} ")
    assert key.reveal() == KEY
    for text in (repr(key), str(key), f"{key}", key.masked, repr([key])):
        assert KEY not in text
    assert key.masked.endswith("ef01")


def test_redact_masks_key_shaped_text() -> None:
    assert KEY not in redact(f"Authorization: Klaviyo-API-Key {KEY}")
    assert "ef01" in redact(KEY)


def test_log_formatter_redacts_messages_and_tracebacks() -> None:
    fmt = RedactingFormatter("%(message)s")
    try:
        raise RuntimeError(f"boom {KEY}")
    except RuntimeError:
        import sys

        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "key=%s", (KEY,), sys.exc_info()
        )
    assert KEY not in fmt.format(record)


def test_private_key_shape() -> None:
    assert looks_like_private_key(KEY)
    assert not looks_like_private_key("pk_short")
    assert not looks_like_private_key("sk_" + KEY[3:])
