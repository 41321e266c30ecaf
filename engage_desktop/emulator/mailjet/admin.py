"""The admin API under `/_emulator/`: not Mailjet, a way for tests and demos to change the world.

Contacts are named by Mailjet ID or e-mail, lists by ID. `Properties` maps property names to
values (checked against their contactmetadata type; `null` clears one). `Lists` entries are
`{"ListID": n, "IsUnsubscribed": false}`: the contact is put on each list (or its flag set).
Contact bodies take `Email`, `Name`, `IsExcludedFromCampaigns`, `Properties` and `Lists`.

| method | path | body | effect |
|---|---|---|---|
| GET | /_emulator/ | | this table, as JSON |
| POST | /_emulator/contacts | `{"Email", "Name", "Properties", "Lists", …}` | create; its `ID` |
| PATCH | /_emulator/contacts/{id} | the same fields, all optional | edit; `Properties` merge |
| DELETE | /_emulator/contacts/{id} | | delete a contact (and its memberships) |
| POST | /_emulator/lists | `{"Name"}` | create a list; answers its `ID` |
| POST | /_emulator/lists/{id}/members | `{"Contacts": [id or email, …]}` | add members |
| DELETE | /_emulator/lists/{id}/members | `{"Contacts": […]}` | remove members |
| POST | /_emulator/lists/{id}/unsubscribe | `{"Contacts": […]}` | unsubscribe from the list |
| POST | /_emulator/keys | `{"api_key", "api_secret"}` | accept another key pair |
| POST | /_emulator/faults | `{"path", "kind", "count", "delay_s"}` | next N requests misbehave |
| POST | /_emulator/settings | `{"latency_ms", "rate_limit_per_s"}` | change behaviour live |
| POST | /_emulator/reset | | generated data again; counters, faults, limits cleared |
| GET | /_emulator/counters | | requests by operation and status, 429s sent |
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import orjson

from engage_desktop.emulator.faults import KINDS
from engage_desktop.emulator.mailjet.envelope import MailjetError
from engage_desktop.emulator.mailjet.membership import ContactsList
from engage_desktop.emulator.wire import Request, Response

if TYPE_CHECKING:
    from engage_desktop.emulator.mailjet.app import MailjetEmulator


class AdminError(Exception):
    """An admin request that cannot be done; answered as `{"error": …}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _json(status: int, doc: Any) -> Response:
    return Response(status, orjson.dumps(doc), {"content-type": "application/json"})


class Admin:
    """Handles `/_emulator/…` requests for one Mailjet emulator."""

    def __init__(self, emulator: MailjetEmulator) -> None:
        self.emu = emulator
        self.store = emulator.store

    async def handle(self, req: Request) -> Response:
        try:
            return self._handle(req)
        except AdminError as err:
            return _json(err.status, {"error": str(err)})
        except MailjetError as err:  # a store rule (duplicate e-mail, bad property value)
            return _json(err.status, {"error": err.message, "info": err.info})

    def _handle(self, req: Request) -> Response:
        path = req.path[len("/_emulator") :].rstrip("/") or "/"
        body = self._body(req)
        method = req.method
        if path == "/" and method == "GET":
            return _json(200, {"admin_api": __doc__})
        if path == "/contacts" and method == "POST":
            i = self.store.create_contact(
                str(body.get("Email") or ""),
                str(body.get("Name") or ""),
                bool(body.get("IsExcludedFromCampaigns", False)),
            )
            try:
                self._apply(i, body)
            except (AdminError, MailjetError):
                self.store.delete_contact(i)  # all or nothing
                raise
            return _json(201, {"ID": self.store.contact_id(i)})
        m = re.fullmatch(r"/contacts/([^/]+)", path)
        if m and method in ("PATCH", "DELETE"):
            i = self._contact(m.group(1))
            if method == "DELETE":
                self.store.delete_contact(i)
                return Response(204)
            self.store.update_contact(
                i,
                name=body.get("Name"),
                excluded=body.get("IsExcludedFromCampaigns"),
                email=body.get("Email"),
            )
            self._apply(i, body)
            return _json(200, {"ID": self.store.contact_id(i)})
        if path == "/lists" and method == "POST":
            return _json(201, {"ID": self.store.create_list(str(body.get("Name") or "")).id})
        m = re.fullmatch(r"/lists/(\d+)/(members|unsubscribe)", path)
        if m and (method, m.group(2)) in (
            ("POST", "members"),
            ("DELETE", "members"),
            ("POST", "unsubscribe"),
        ):
            self._members(self._list(m.group(1)), method, m.group(2), body)
            return Response(204)
        return self._service(path, method, body)

    def _service(self, path: str, method: str, body: dict[str, Any]) -> Response:
        """Keys, faults, settings, counters, reset: the emulator rather than its data."""
        emu = self.emu
        if path == "/keys" and method == "POST":
            key, secret = body.get("api_key"), body.get("api_secret")
            if not key or not secret:
                raise AdminError(400, "api_key and api_secret are required")
            emu.keys[str(key)] = str(secret)
            return Response(204)
        if path == "/faults" and method == "POST":
            try:
                emu.faults.arm(
                    str(body.get("path", "/v3")),
                    str(body.get("kind")),
                    int(body.get("count", 1)),
                    float(body.get("delay_s", 0.0)),
                )
            except (TypeError, ValueError) as exc:
                raise AdminError(400, f"{exc} (kinds: {', '.join(KINDS)})") from None
            return Response(204)
        if path == "/settings" and method == "POST":
            if "latency_ms" in body:
                emu.settings.latency_ms = float(body["latency_ms"])
            if "rate_limit_per_s" in body:
                emu.settings.rate_limit_per_s = max(0, int(body["rate_limit_per_s"]))
            return Response(204)
        if path == "/reset" and method == "POST":
            self.store.reset()
            emu.keys = {emu.settings.api_key: emu.settings.api_secret}
            emu.faults.clear()
            emu.limiter.reset()
            emu.counters.clear()
            return Response(204)
        if path == "/counters" and method == "GET":
            return _json(200, emu.counters.as_json())
        raise AdminError(404, f"No admin endpoint {method} /_emulator{path}.")

    # ----- helpers --------------------------------------------------------------------------
    @staticmethod
    def _body(req: Request) -> dict[str, Any]:
        if not req.body:
            return {}
        try:
            doc = json.loads(req.body)
        except ValueError:
            raise AdminError(400, "The body must be JSON.") from None
        if not isinstance(doc, dict):
            raise AdminError(400, "The body must be a JSON object.")
        return doc

    def _contact(self, ref: str) -> int:
        i = self.store.find_contact(ref)
        if i is None:
            raise AdminError(404, f"No contact {ref}.")
        return i

    def _list(self, ref: str) -> ContactsList:
        lst = self.store.find_list(ref)
        if lst is None:
            raise AdminError(404, f"No list {ref}.")
        return lst

    def _apply(self, i: int, body: dict[str, Any]) -> None:
        """The `Properties` and `Lists` parts of a contact create or edit."""
        props = body.get("Properties") or {}
        if not isinstance(props, dict):
            raise AdminError(400, "Properties must be an object of name: value.")
        if props:
            self.store.set_values(i, [{"Name": k, "Value": v} for k, v in props.items()])
        store, now = self.store, self.store.now()
        for entry in body.get("Lists") or []:
            if not isinstance(entry, dict):
                raise AdminError(400, 'Lists entries are {"ListID": n, "IsUnsubscribed": bool}.')
            lst = self._list(str(entry.get("ListID", "")))
            unsub = bool(entry.get("IsUnsubscribed", False))
            member = store.members.member(lst, i) or store.members.add(lst, i, now, unsub)
            store.members.update(member, active=True, unsub=unsub, now=now)
        store.changed()

    def _members(self, lst: ContactsList, method: str, what: str, body: dict[str, Any]) -> None:
        store, now = self.store, self.store.now()
        for ref in body.get("Contacts") or []:
            i = self._contact(str(ref))
            member = store.members.member(lst, i)
            if what == "unsubscribe":
                member = member or store.members.add(lst, i, now)
                store.members.update(member, active=None, unsub=True, now=now)
            elif method == "POST" and member is None:
                store.members.add(lst, i, now)
            elif method == "DELETE" and member is not None:
                store.members.remove(member)
        store.changed()
