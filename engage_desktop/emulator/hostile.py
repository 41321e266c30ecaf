"""Answers a broken or hostile Klaviyo could send, armed as faults to test what a client trusts.

| kind | `detail` | the answer |
|---|---|---|
| `empty_page` | | `data: []`, but `links.next` kept: a page lost in the middle of a listing |
| `missing_lists` | how many (default 1) | the first N lists left out of a Get Lists page |
| `foreign_next` | a base URL (default `http://attacker.invalid`) | `links.next` points to another host |
| `loop_cursor` | | `links.next` points back to this same page |
| `malformed` | `sms_string`, `subscriptions_string`, `marketing_string`, `attributes_null`, `numeric_id` | the last resource of a page of two or more broken that way (a one-record probe passes, and uses up no count) |
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson

from engage_desktop.emulator.faults import Fault
from engage_desktop.emulator.wire import Request, Response

KINDS = ("empty_page", "missing_lists", "foreign_next", "loop_cursor", "malformed")
MALFORMED: dict[str, Callable[[dict[str, Any]], None]] = {
    "sms_string": lambda r: _attrs(r).__setitem__("subscriptions", {"sms": "yes"}),
    "subscriptions_string": lambda r: _attrs(r).__setitem__("subscriptions", "yes"),
    "marketing_string": lambda r: _attrs(r).__setitem__(
        "subscriptions", {"sms": {"marketing": "SUBSCRIBED"}}
    ),
    "attributes_null": lambda r: r.__setitem__("attributes", None),
    "numeric_id": lambda r: r.__setitem__("id", 12345),
}


def _attrs(resource: dict[str, Any]) -> dict[str, Any]:
    attrs = resource.get("attributes")
    if not isinstance(attrs, dict):
        attrs = resource["attributes"] = {}
    return attrs


def reshape(req: Request, resp: Response, fault: Fault) -> Response | None:
    """`resp` as the fault's kind breaks it; None when there was nothing to break (an answer
    that is not a page, a probe too short for `malformed`): the fault is not used up."""
    if resp.status >= 300 or not resp.body:
        return None
    doc = orjson.loads(resp.body)
    data = doc.get("data") if isinstance(doc, dict) else None
    links = doc.get("links") if isinstance(doc, dict) else None
    if not isinstance(data, list) or (fault.kind == "malformed" and len(data) < 2):
        return None
    kind = fault.kind
    if kind == "empty_page":
        doc["data"] = []
    elif kind == "missing_lists":
        del data[: int(fault.detail or 1)]
    elif kind in ("foreign_next", "loop_cursor") and isinstance(links, dict):
        if kind == "loop_cursor":
            links["next"] = req.url()
        else:  # also on a last page: a hostile server can add a next link anywhere
            target = urlsplit(fault.detail or "http://attacker.invalid")
            nxt = urlsplit(links.get("next") or req.url())
            links["next"] = urlunsplit((target.scheme, target.netloc, *nxt[2:]))
    elif kind == "malformed":
        MALFORMED.get(fault.detail or "sms_string", MALFORMED["sms_string"])(data[-1])
    resp.body = orjson.dumps(doc)
    return resp
