"""The admin API under `/_emulator/`: not Klaviyo, a way for tests and demos to change the world.

| method | path | body | effect |
|---|---|---|---|
| GET | /_emulator/ | | this table, as JSON |
| POST | /_emulator/profiles | `{"attributes": {...}}` | create a profile; answers its id |
| PATCH | /_emulator/profiles/{id} | `{"attributes": {...}}` | deep-merge attributes, bump `updated` |
| DELETE | /_emulator/profiles/{id} | | delete a profile |
| POST | /_emulator/lists | `{"name": "VIP"}` | create a list; answers its id |
| POST, DELETE | /_emulator/lists/{id}/members | `{"profile_ids": [...]}` | add / remove members |
| POST | /_emulator/keys | `{"key": "pk_…", "scopes": [...]}` | accept another key (key optional) |
| POST | /_emulator/faults | `{"path", "kind", "count", "delay_s", "detail"}` | next N requests on path misbehave (kinds below) |
| POST | /_emulator/settings | `{"latency_ms", "rate_limits", "job_delay_s"}` | change behaviour live |
| POST | /_emulator/touch | `{"count": N, "seed": 1}` | change N random profiles (first name, a property; bumps `updated`) |
| POST | /_emulator/reset | | back to the generated data, counters and faults cleared |
| GET | /_emulator/counters | | requests by operation and status, 429s sent |

Fault kinds: `429`, `500`, `502`, `503` (answered instead), `delay` (`delay_s` first), `drop`
(the connection closes mid-body), `stall` (no answer for `delay_s`, then closed), `truncate`
(half the body), `trickle` (the body a byte every `delay_s`), and the hostile answers of
`emulator/hostile.py`: `empty_page`, `missing_lists`, `foreign_next`, `loop_cursor`,
`malformed` (with a `detail`).
"""

from __future__ import annotations

import json
import random
import re
import secrets
from typing import TYPE_CHECKING, Any

from engage_desktop.emulator.store import ALL_SCOPES
from engage_desktop.emulator.wire import Request, Response, bad_request, json_response, not_found

if TYPE_CHECKING:
    from engage_desktop.emulator.app import KlaviyoEmulator


def _merge(dst: dict[str, Any], src: dict[str, Any]) -> None:
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            _merge(dst[k], v)
        else:
            dst[k] = v


class Admin:
    """Handles `/_emulator/…` requests for one emulator."""

    def __init__(self, emulator: KlaviyoEmulator) -> None:
        self.emu = emulator

    async def handle(self, req: Request) -> Response:
        path = req.path[len("/_emulator") :].rstrip("/") or "/"
        body: Any = {}
        if req.body:
            try:
                body = json.loads(req.body)
            except ValueError:
                raise bad_request("The body must be JSON.") from None
        store = self.emu.store
        m = re.fullmatch(r"/profiles/([^/]+)", path)
        if path == "/" and req.method == "GET":
            return json_response(200, {"admin_api": __doc__})
        if path == "/profiles" and req.method == "POST":
            i = store.create(dict(body.get("attributes") or {}))
            return json_response(201, {"id": store.profile_id(i)})
        if m and req.method in ("PATCH", "DELETE"):
            found = store.index_of(m.group(1))
            if found is None:
                raise not_found(f"No profile {m.group(1)}.")
            i = found
            if req.method == "DELETE":
                store.delete(i)
                return Response(204)
            attrs = store.attributes(i)
            _merge(attrs, dict(body.get("attributes") or {}))
            store.save(i, attrs)
            return json_response(200, {"id": m.group(1)})
        if path == "/lists" and req.method == "POST":
            lst = store.create_list(str(body.get("name") or "New list"))
            return json_response(201, {"id": lst.id})
        m = re.fullmatch(r"/lists/([^/]+)/members", path)
        if m and req.method in ("POST", "DELETE"):
            target = store.lists.get(m.group(1))
            if target is None:
                raise not_found(f"No list {m.group(1)}.")
            for pid in body.get("profile_ids") or []:
                member = store.index_of(pid)
                if member is None:
                    raise not_found(f"No profile {pid}.")
                if req.method == "POST":
                    store.add_member(target, member)
                else:
                    store.remove_member(target, member)
            return Response(204)
        if path == "/keys" and req.method == "POST":
            key = str(body.get("key") or "pk_" + secrets.token_hex(17))
            scopes = frozenset(body.get("scopes") or ALL_SCOPES)
            store.keys[key] = scopes
            return json_response(201, {"key": key, "scopes": sorted(scopes)})
        if path == "/faults" and req.method == "POST":
            try:
                self.emu.faults.arm(
                    str(body.get("path", "/api")),
                    str(body.get("kind")),
                    int(body.get("count", 1)),
                    float(body.get("delay_s", 0.0)),
                    str(body.get("detail", "")),
                )
            except (TypeError, ValueError) as exc:
                raise bad_request(str(exc)) from None
            return Response(204)
        if path == "/settings" and req.method == "POST":
            st = self.emu.settings
            if "latency_ms" in body:
                st.latency_ms = float(body["latency_ms"])
            if "rate_limits" in body:
                st.rate_limits = bool(body["rate_limits"])
            if "job_delay_s" in body:
                st.job_delay_s = self.emu.jobs.delay_s = float(body["job_delay_s"])
            return Response(204)
        if path == "/touch" and req.method == "POST":
            rnd = random.Random(int(body.get("seed", 1)))
            live = [
                i
                for i in rnd.sample(
                    range(store.n_total), min(int(body.get("count", 1)), store.n_total)
                )
                if store.exists(i)
            ]
            for i in live:
                attrs = store.attributes(i)
                mark = rnd.randint(1, 10**6)
                attrs["first_name"] = f"{attrs.get('first_name') or ''} #{mark}".strip()
                (attrs.setdefault("properties", {}) or {})["touched"] = mark
                store.save(i, attrs)
            return json_response(200, {"changed": len(live)})
        if path == "/reset" and req.method == "POST":
            store.reset()
            self.emu.faults.clear()
            self.emu.limiter.reset()
            self.emu.counters.clear()
            return Response(204)
        if path == "/counters" and req.method == "GET":
            return json_response(200, self.emu.counters.as_json())
        raise not_found(f"No admin endpoint {req.method} {req.path}.")
