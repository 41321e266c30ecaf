"""Number Authorisation: the account's blacklist (S1 `paths/number-authorisation/*`).

| method | path under /v1/number_authorisation | answers |
|---|---|---|
| GET | /mt/blacklist[?token=] | 200 `{"uri", "numbers", "pagination"?}`, 100 a page |
| POST | /mt/blacklist | 201 `{"uri", "numbers"}`; 200 if all were listed already |
| DELETE | /mt/blacklist/{number} | 200 (no body); 404 (no body) if not listed |
| GET | /is_authorised/{n1,n2,…} | 200 `{"uri", "numbers": [{"number", "authorised"}]}` |

The page token is base64 of `{"page": n}`, the shape of the spec's example token
(`eyJwYWdlIjoyfQ`). How the last page ends is not documented; here it has no `pagination`.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json

from engage_desktop.emulator.messagemedia.gateway import Gateway
from engage_desktop.emulator.messagemedia.protocol import (
    MessageMediaError,
    bad_request,
    canonical_number,
    empty_response,
    is_international,
    json_response,
    parse_json,
)
from engage_desktop.emulator.messagemedia.validation import blacklist_numbers
from engage_desktop.emulator.wire import Request, Response

BLACKLIST = "/v1/number_authorisation/mt/blacklist"
IS_AUTHORISED = "/v1/number_authorisation/is_authorised/"
PAGE = 100


def page_token(page: int) -> str:
    raw = json.dumps({"page": page}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _page_of(token: str) -> int:
    try:
        doc = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        page = doc["page"]
        if not isinstance(page, int) or page < 0:
            raise ValueError
        return page
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise bad_request(f'Invalid pagination token "{token}".') from None


class NumberAuthorisation:
    """Answers the blacklist and is_authorised endpoints from the gateway's blacklist."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def list_page(self, req: Request) -> Response:
        token = req.param("token")
        page = _page_of(token) if token else 0
        listed = self.gateway.blacklist
        start = page * PAGE
        # islice walks to the page: fine for a blacklist, which is small next to the messages.
        numbers = list(itertools.islice(listed, start, start + PAGE))
        doc: dict[str, object] = {
            "uri": BLACKLIST + (f"?token={token}" if token else ""),
            "numbers": numbers,
        }
        if start + PAGE < len(listed):
            following = page_token(page + 1)
            doc["pagination"] = {"page": following, "next_uri": f"{BLACKLIST}?token={following}"}
        return json_response(200, doc)

    def add(self, req: Request) -> Response:
        numbers = blacklist_numbers(parse_json(req.body))
        added = [self.gateway.block(canonical_number(n)) for n in numbers]
        return json_response(201 if any(added) else 200, {"uri": BLACKLIST, "numbers": numbers})

    def remove(self, number: str) -> Response:
        if self.gateway.blacklist.pop(canonical_number(number), None) is None:
            raise MessageMediaError(404, None)  # the spec declares this 404 without a body
        return empty_response(200)

    def is_authorised(self, numbers_text: str) -> Response:
        numbers = [n for n in numbers_text.split(",") if n.strip()]
        bad = [n for n in numbers if not is_international(n.strip())]
        if not numbers or bad:
            raise bad_request(*(f'"{n}" is not an international number' for n in bad or [""]))
        listed = self.gateway.blacklist
        return json_response(
            200,
            {
                "uri": IS_AUTHORISED + numbers_text,
                "numbers": [
                    {"number": n.strip(), "authorised": canonical_number(n) not in listed}
                    for n in numbers
                ],
            },
        )
