"""Profiles and list members: `GET /api/profiles[/{id}]`, `/api/lists/{id}/profiles` and the
ids-only `/api/lists/{id}/relationships/profiles`."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import Any

from engage_desktop.emulator import filters
from engage_desktop.emulator.filters import Condition, FilterError
from engage_desktop.emulator.orderings import Ordering
from engage_desktop.emulator.paging import Page, page_size, paginate
from engage_desktop.emulator.spec import Operation
from engage_desktop.emulator.store import ListState, Store
from engage_desktop.emulator.timeutil import iso, parse_iso
from engage_desktop.emulator.wire import (
    Cursors,
    Request,
    Response,
    bad_request,
    json_response,
    not_found,
)

_TIME_FIELDS = {"created", "updated", "joined_group_at"}
_EQUALITY_FIELDS = {"id", "email", "phone_number", "external_id"}


def _csv(req: Request, name: str, allowed: list[str] | None) -> list[str] | None:
    raw = req.param(name)
    if raw is None:
        return None
    values = [v.strip() for v in raw.split(",") if v.strip()]
    for v in values:
        if allowed is not None and v not in allowed:
            raise bad_request(f"'{v}' is not a valid value for {name}.", parameter=name)
    return values


@functools.lru_cache(maxsize=512)
def _parts(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def _sparse(attrs: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in fields:
        parts = _parts(path)
        if len(parts) == 1:
            out[path] = attrs.get(path)
            continue
        src: Any = attrs
        for p in parts:
            src = src.get(p) if isinstance(src, dict) else None
        dst: Any = out
        for p in parts[:-1]:
            dst = dst.setdefault(p, {})
        if isinstance(dst, dict):  # else a parent asked for whole is null: nothing to add
            dst[parts[-1]] = src
    return out


class ProfileViews:
    """Renders and queries profiles for one store."""

    def __init__(self, store: Store, cursors: Cursors) -> None:
        self.store = store
        self.cursors = cursors

    # ----- rendering --------------------------------------------------------------------
    def resource(
        self,
        req: Request,
        i: int,
        subscriptions: bool,
        fields: list[str] | None,
        joined: float | None = None,
    ) -> dict[str, Any]:
        wanted = None if fields is None else {_parts(f)[0] for f in fields}
        attrs = self.store.attributes(i, wanted)
        attrs.pop("_updated_ts", None)
        if not subscriptions:
            attrs.pop("subscriptions", None)
        if joined is not None:
            attrs["joined_group_at"] = iso(joined)
        if fields is not None:
            attrs = _sparse(attrs, [f for f in fields if f != "id"])
        pid = self.store.profile_id(i)
        base = req.base_url
        return {
            "type": "profile",
            "id": pid,
            "attributes": attrs,
            "relationships": {
                rel: {
                    "links": {
                        "self": f"{base}/api/profiles/{pid}/relationships/{rel}/",
                        "related": f"{base}/api/profiles/{pid}/{rel}/",
                    }
                }
                for rel in ("lists", "segments")
            },
            "links": {"self": f"{base}/api/profiles/{pid}/"},
        }

    def _render_opts(self, req: Request, op: Operation) -> tuple[bool, list[str] | None]:
        additional = _csv(req, "additional-fields[profile]", op.enum("additional-fields[profile]"))
        fields = _csv(req, "fields[profile]", op.enum("fields[profile]"))
        return bool(additional and "subscriptions" in additional), fields

    # ----- endpoints --------------------------------------------------------------------
    def get_profile(self, req: Request, op: Operation, profile_id: str) -> Response:
        subs, fields = self._render_opts(req, op)
        i = self.store.index_of(profile_id)
        if i is None:
            raise not_found(f"A profile with id {profile_id} does not exist.")
        return json_response(
            200, {"data": self.resource(req, i, subs, fields), "links": {"self": req.url()}}
        )

    def get_profiles(self, req: Request, op: Operation) -> Response:
        subs, fields = self._render_opts(req, op)
        size = page_size(req, *op.page_size())
        conds = self._conditions(req, op)
        sort = req.param("sort") or "id"
        if sort not in (op.enum("sort") or []):
            raise bad_request(f"'{sort}' is not a valid sort field.", parameter="sort")
        field = sort.lstrip("-")
        s = self.store
        ordering: Ordering
        key_of: Callable[[int], Any]
        if field in ("id", "created"):
            ordering, key_of, sort_field = s.by_index(), s.created, "created"
        elif field == "updated":
            ordering, key_of, sort_field = s.by_updated(), s.updated, "updated"
        elif field == "email":
            ordering, key_of, sort_field = s.by_email(), lambda i: s.email(i) or "", "email"
        else:  # suppression timestamps: generated profiles have none, so any order is right
            ordering, key_of, sort_field = s.by_index(), s.created, "created"
        candidates = self._candidates(conds)
        if candidates is not None:
            ordering = Ordering(
                sorted(candidates, key=lambda i: (key_of(i), i)), key_of, {}, lambda i: False
            )
        page = paginate(
            req,
            self.cursors,
            f"profiles|{sort}|{req.param('filter')}",
            ordering,
            sort.startswith("-"),
            size,
            self._matcher(conds),
            [c for c in conds if c.field == sort_field],
            filters.as_time,
        )
        data = [self.resource(req, i, subs, fields) for _, i in page.items]
        return json_response(200, {"data": data, "links": _links(req, page)})

    def get_list_members(
        self, req: Request, op: Operation, lst: ListState, ids_only: bool
    ) -> Response:
        subs, fields = (False, None) if ids_only else self._render_opts(req, op)
        size = page_size(req, *op.page_size())
        conds = self._conditions(req, op)
        sort = req.param("sort") or "joined_group_at"
        if sort not in (op.enum("sort") or []):
            raise bad_request(f"'{sort}' is not a valid sort field.", parameter="sort")
        s = self.store
        ordering = s.by_joined(lst)
        candidates = self._candidates(conds)
        if candidates is not None:
            members = [i for i in candidates if s.is_member(lst, i)]
            ordering = Ordering(
                sorted(members, key=lambda i: (s.joined(lst, i), i)),
                lambda i: s.joined(lst, i),
                {},
                lambda i: False,
            )
        page = paginate(
            req,
            self.cursors,
            f"members|{lst.id}|{ids_only}|{sort}|{req.param('filter')}",
            ordering,
            sort.startswith("-"),
            size,
            self._matcher(conds, lst),
            [c for c in conds if c.field == "joined_group_at"],
            filters.as_time,
        )
        if ids_only:
            data = [{"type": "profile", "id": s.profile_id(i)} for _, i in page.items]
        else:
            data = [self.resource(req, i, subs, fields, key[0]) for key, i in page.items]
        return json_response(200, {"data": data, "links": _links(req, page)})

    # ----- filters ----------------------------------------------------------------------
    def _conditions(self, req: Request, op: Operation) -> list[Condition]:
        raw = req.param("filter")
        if raw is None:
            return []
        try:
            conds = filters.parse(raw)
            filters.validate(conds, op.filters())
            for c in conds:
                if c.field in _TIME_FIELDS or c.field.endswith(".timestamp"):
                    filters.as_time(c)
                elif c.op in ("equals", "any"):
                    filters.as_strings(c)
        except FilterError as exc:
            raise bad_request(f"Invalid filter provided: {exc}", parameter="filter") from None
        return conds

    def _candidates(self, conds: list[Condition]) -> set[int] | None:
        """Indexes an equality filter narrows the query to, found without a scan."""
        s = self.store
        found: set[int] | None = None
        for c in conds:
            if c.field not in _EQUALITY_FIELDS:
                continue
            hits: set[int] = set()
            for v in filters.as_strings(c):
                if c.field == "id":
                    i = s.index_of(v)
                    hits |= {i} if i is not None else set()
                elif c.field == "email":
                    hits |= set(s.find_by_email(v))
                elif c.field == "phone_number":
                    hits |= set(s.find_by_phone(v))
                else:
                    hits |= set(s.find_by_external_id(v))
            found = hits if found is None else found & hits
        return found

    def _matcher(
        self, conds: list[Condition], lst: ListState | None = None
    ) -> Callable[[int], bool]:
        """`_match` of every condition, with the time comparisons bound once per request
        (pages test each row they pass)."""
        s = self.store
        checks: list[Callable[[int], bool]] = []
        for c in conds:
            if c.field in _EQUALITY_FIELDS:
                continue
            if c.field in _TIME_FIELDS and c.op in _TIME_OPS:
                if c.field == "created":
                    value: Callable[[int], float] = s.created
                elif c.field == "updated":
                    value = s.updated
                else:
                    assert lst is not None
                    value = functools.partial(s.joined, lst)
                checks.append(_time_check(value, _TIME_OPS[c.op], filters.as_time(c)))
            else:
                checks.append(functools.partial(self._match, c=c, lst=lst))
        if not checks:
            return lambda i: True
        if len(checks) == 1:
            return checks[0]

        if len(checks) == 2:  # a window: lower and upper bound
            first, second = checks
            return lambda i: first(i) and second(i)
        return lambda i: all(check(i) for check in checks)

    def _match(self, i: int, c: Condition, lst: ListState | None = None) -> bool:
        s = self.store
        if c.field in _EQUALITY_FIELDS:
            return True  # already applied through _candidates
        if c.field in _TIME_FIELDS:
            if c.field == "created":
                v = s.created(i)
            elif c.field == "updated":
                v = s.updated(i)
            else:
                assert lst is not None
                v = s.joined(lst, i)
            return filters.compare_time(v, c)
        if c.field.startswith("subscriptions.email.marketing."):
            holder, attr = c.field.split(".")[3:5]  # suppression|list_suppressions, reason|…
            email = (s.attributes(i).get("subscriptions") or {}).get("email") or {}
            entries = (email.get("marketing") or {}).get(holder) or []
            return any(_compare(e.get(attr), c) for e in entries if isinstance(e, dict))
        return False  # _kx, push_token: not modelled, so nothing matches


_TIME_OPS: dict[str, Callable[[float, float], bool]] = {
    "greater-than": operator.gt,
    "greater-or-equal": operator.ge,
    "less-than": operator.lt,
    "less-or-equal": operator.le,
}


def _time_check(
    value: Callable[[int], float], op: Callable[[float, float], bool], t: float
) -> Callable[[int], bool]:
    return lambda i: op(value(i), t)


def _compare(value: Any, c: Condition) -> bool:
    """One suppression entry's field against a condition (equals on text, order on times)."""
    if c.op == "equals":
        return value in filters.as_strings(c)
    if not isinstance(value, str):
        return False
    try:
        return filters.compare_time(parse_iso(value), c)
    except ValueError:
        return False


def _links(req: Request, page: Page) -> dict[str, str | None]:
    return {"self": req.url(), "next": page.next_url, "prev": page.prev_url}


__all__ = ["ProfileViews"]
