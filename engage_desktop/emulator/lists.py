"""The account and its lists: `GET /api/accounts`, `GET /api/lists[/{id}]`."""

from __future__ import annotations

from typing import Any

from engage_desktop.emulator import filters
from engage_desktop.emulator.filters import FilterError
from engage_desktop.emulator.orderings import Ordering
from engage_desktop.emulator.paging import page_size, paginate
from engage_desktop.emulator.spec import Operation
from engage_desktop.emulator.store import ListState, Store
from engage_desktop.emulator.timeutil import iso
from engage_desktop.emulator.wire import (
    Cursors,
    Request,
    Response,
    bad_request,
    json_response,
    not_found,
)

ACCOUNT_NAMES = [
    "Demo Coffee Roasters",
    "Northwind Outdoor Co.",
    "Café Zürich GmbH",
    "Blue Harbor Boutique",
    "Maple & Pine Home",
]


def account_name(seed: int) -> str:
    return ACCOUNT_NAMES[seed % len(ACCOUNT_NAMES)]


def get_accounts(req: Request, store: Store) -> Response:
    acc = store.data.account_id
    name = account_name(store.data.seed)
    doc = {
        "data": [
            {
                "type": "account",
                "id": acc,
                "attributes": {
                    "test_account": False,
                    "contact_information": {
                        "default_sender_name": name,
                        "default_sender_email": "hello@example.com",
                        "website_url": "https://www.example.com",
                        "organization_name": name,
                        "street_address": {
                            "address1": "1 Market Street",
                            "address2": None,
                            "city": "San Francisco",
                            "region": "CA",
                            "country": "US",
                            "zip": "94103",
                        },
                    },
                    "industry": "Food & Beverage",
                    "timezone": "America/New_York",
                    "preferred_currency": "USD",
                    "public_api_key": acc,
                    "locale": "en-US",
                },
                "links": {"self": f"{req.base_url}/api/accounts/{acc}/"},
            }
        ],
        "links": {"self": req.url(), "next": None, "prev": None},
    }
    return json_response(200, doc)


def list_resource(req: Request, store: Store, lst: ListState, with_count: bool) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "name": lst.name,
        "created": iso(lst.created),
        "updated": iso(lst.updated),
        "opt_in_process": "single_opt_in",
    }
    if with_count:
        attrs["profile_count"] = store.profile_count(lst)
    base = req.base_url
    return {
        "type": "list",
        "id": lst.id,
        "attributes": attrs,
        "relationships": {
            rel: {
                "links": {
                    "self": f"{base}/api/lists/{lst.id}/relationships/{rel}/",
                    "related": f"{base}/api/lists/{lst.id}/{rel}/",
                }
            }
            for rel in ("profiles", "tags", "flow-triggers")
        },
        "links": {"self": f"{base}/api/lists/{lst.id}/"},
    }


def wants_profile_count(req: Request) -> bool:
    raw = req.param("additional-fields[list]") or ""
    return "profile_count" in [v.strip() for v in raw.split(",")]


def get_list(req: Request, op: Operation, store: Store, list_id: str) -> Response:
    raw = req.param("additional-fields[list]")
    allowed = op.enum("additional-fields[list]") or []
    if raw is not None and any(v.strip() not in allowed for v in raw.split(",")):
        raise bad_request(f"'{raw}' is not a valid value.", parameter="additional-fields[list]")
    lst = store.lists.get(list_id)
    if lst is None:
        raise not_found(f"A list with id {list_id} does not exist.")
    doc = {
        "data": list_resource(req, store, lst, wants_profile_count(req)),
        "links": {"self": req.url()},
    }
    return json_response(200, doc)


def get_lists(req: Request, op: Operation, store: Store, cursors: Cursors) -> Response:
    size = page_size(req, *op.page_size())
    sort = req.param("sort") or "id"
    if sort not in (op.enum("sort") or []):
        raise bad_request(f"'{sort}' is not a valid sort field.", parameter="sort")
    conds: list[filters.Condition] = []
    if req.param("filter") is not None:
        try:
            conds = filters.parse(req.param("filter") or "")
            filters.validate(conds, op.filters())
        except FilterError as exc:
            raise bad_request(f"Invalid filter provided: {exc}", parameter="filter") from None
    lists = list(store.lists.values())
    field = sort.lstrip("-")

    def key(k: int) -> Any:
        lst = lists[k]
        return {"id": lst.id, "name": lst.name, "created": lst.created, "updated": lst.updated}[
            field
        ]

    def matches(k: int) -> bool:
        lst = lists[k]
        for c in conds:
            if c.field in ("id", "name"):
                value = lst.id if c.field == "id" else lst.name
                if value not in filters.as_strings(c):
                    return False
            else:
                t = lst.created if c.field == "created" else lst.updated
                if not filters.compare_time(t, c):
                    return False
        return True

    order = sorted(range(len(lists)), key=lambda k: (key(k), k))
    page = paginate(
        req,
        cursors,
        f"lists|{sort}|{req.param('filter')}",
        Ordering(order, key, {}, lambda k: False),
        sort.startswith("-"),
        size,
        matches,
        [],
        filters.as_time,
    )
    data = [list_resource(req, store, lists[k], False) for _, k in page.items]
    links = {"self": req.url(), "next": page.next_url, "prev": page.prev_url}
    return json_response(200, {"data": data, "links": links})
