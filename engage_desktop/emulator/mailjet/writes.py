"""POST, PUT and DELETE on the same resources: what tests and a later opt-out push write.

Recorded behaviour kept: POST answers 201 with the new row, DELETE on a list answers 204 and
only marks it `IsDeleted`, a PUT that changes nothing answers `304` with an empty body. A PUT
that changes something answers 200 with the row. PUT behaves like PATCH (omitted = unchanged).
"""

from __future__ import annotations

import json
from typing import Any

from engage_desktop.emulator.mailjet import envelope, rows
from engage_desktop.emulator.mailjet.envelope import JSON, bad_request, not_found
from engage_desktop.emulator.mailjet.membership import ContactsList
from engage_desktop.emulator.mailjet.rows import RowRenderer
from engage_desktop.emulator.mailjet.store import DATATYPES, MailjetStore
from engage_desktop.emulator.wire import Request, Response

ACTIONS = ("addforce", "addnoforce", "remove", "unsub")


def body_of(req: Request) -> dict[str, Any]:
    try:
        doc = json.loads(req.body or b"{}")
    except ValueError:
        raise bad_request("Invalid json input") from None
    if not isinstance(doc, dict):
        raise bad_request("Invalid json input")
    return doc


def flag(doc: dict[str, Any], name: str) -> bool | None:
    """A boolean field; Mailjet's own examples send `"true"` as a string."""
    if name not in doc:
        return None
    value = doc[name]
    text = str(value).strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise bad_request(f'Invalid value "{value}" for {name}')


def created(row: str) -> Response:
    return envelope.json_response(201, envelope.page([row], 1))


def updated(changed: bool, row: str) -> Response:
    if not changed:
        return Response(304, b"", {"content-type": JSON})
    return envelope.json_response(200, envelope.page([row], 1))


def no_content() -> Response:
    return Response(204, b"", {"content-type": JSON})


class Writes:
    """Answers POST/PUT/DELETE /v3/REST/<resource>[/<id>[/<action>]]."""

    def __init__(self, store: MailjetStore) -> None:
        self.store = store
        self.render = RowRenderer(store)

    def _list(self, ref: str) -> ContactsList:
        lst = self.store.find_list(ref)
        if lst is None:
            raise not_found()
        return lst

    def _contact(self, ref: str) -> int:
        i = self.store.find_contact(ref)
        if i is None:
            raise not_found()
        return i

    def _list_row(self, lst: ContactsList) -> str:
        return rows.contacts_list(lst, self.store.subscriber_count(lst))

    # ----- contactslist ---------------------------------------------------------------------
    def create_list(self, req: Request) -> Response:
        lst = self.store.create_list(str(body_of(req).get("Name") or ""))
        return created(self._list_row(lst))

    def update_list(self, ref: str, req: Request) -> Response:
        lst, doc = self._list(ref), body_of(req)
        name = str(doc.get("Name", lst.name))
        deleted = flag(doc, "IsDeleted")
        changed = name != lst.name or (deleted is not None and deleted != lst.deleted)
        if changed:
            lst.name = name
            lst.deleted = lst.deleted if deleted is None else deleted
            self.store.changed()
        return updated(changed, self._list_row(lst))

    def delete_list(self, ref: str) -> Response:
        self._list(ref).deleted = True  # a soft delete: GET still finds it, IsDeleted true
        self.store.changed()
        return no_content()

    # ----- contact --------------------------------------------------------------------------
    def create_contact(self, req: Request) -> Response:
        doc = body_of(req)
        if not doc.get("Email"):
            raise bad_request("Email is required")
        i = self.store.create_contact(
            str(doc["Email"]),
            str(doc.get("Name") or ""),
            bool(flag(doc, "IsExcludedFromCampaigns")),
        )
        return created(self.render.contact(i))

    def update_contact(self, ref: str, req: Request) -> Response:
        i, doc = self._contact(ref), body_of(req)
        name = doc.get("Name")
        changed = self.store.update_contact(
            i,
            name=None if name is None else str(name),
            excluded=flag(doc, "IsExcludedFromCampaigns"),
        )
        return updated(changed, self.render.contact(i))

    # ----- contactdata ----------------------------------------------------------------------
    def _data(self, doc: dict[str, Any]) -> list[dict[str, Any]]:
        data = doc.get("Data", [])
        if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
            raise bad_request("Data must be an array of {Name, Value}")
        return data

    def create_contactdata(self, req: Request) -> Response:
        doc = body_of(req)
        i = self._contact(str(doc.get("ContactID", "")))
        self.store.set_values(i, self._data(doc))
        return created(self.render.contact_data(i))

    def update_contactdata(self, ref: str, req: Request) -> Response:
        i = self._contact(ref)
        changed = self.store.set_values(i, self._data(body_of(req)))
        return updated(changed, self.render.contact_data(i))

    # ----- contactmetadata ------------------------------------------------------------------
    def create_property(self, req: Request) -> Response:
        doc = body_of(req)
        prop = self.store.create_property(
            str(doc.get("Name") or ""),
            str(doc.get("Datatype") or doc.get("DataType") or "str"),
            str(doc.get("NameSpace") or "static"),
        )
        return created(rows.metadata(prop))

    def update_property(self, ref: str, req: Request) -> Response:
        prop, doc = self.store.find_property(ref), body_of(req)
        if prop is None:
            raise not_found()
        name = str(doc.get("Name", prop.name))
        datatype = str(doc.get("Datatype", prop.datatype))
        if datatype not in DATATYPES:
            raise bad_request("Invalid property definition", {"Datatype": ", ".join(DATATYPES)})
        changed = (name, datatype) != (prop.name, prop.datatype)
        if changed:
            prop.name, prop.datatype = name, datatype
            self.store.changed()
        return updated(changed, rows.metadata(prop))

    def delete_property(self, ref: str) -> Response:
        prop = self.store.find_property(ref)
        if prop is None:
            raise not_found()
        self.store.delete_property(prop)
        return no_content()

    # ----- listrecipient --------------------------------------------------------------------
    def create_recipient(self, req: Request) -> Response:
        doc = body_of(req)
        i = self._contact(str(doc.get("ContactID") or doc.get("ContactALT") or ""))
        lst = self._list(str(doc.get("ListID") or doc.get("ListALT") or ""))
        store = self.store
        if store.members.member(lst, i) is not None:
            raise bad_request(
                f'MJ18 A ListRecipient resource with value "{store.contact_id(i)}|{lst.id}" '
                "for ContactID|ListID already exists."
            )
        m = store.members.add(lst, i, store.now(), bool(flag(doc, "IsUnsubscribed")))
        if flag(doc, "IsActive") is False:
            store.members.update(m, active=False, unsub=None, now=store.now())
        store.changed()
        return created(self.render.list_recipient(m.recipient_id))

    def update_recipient(self, ref: str, req: Request) -> Response:
        store, doc = self.store, body_of(req)
        m = store.members.by_recipient_id(int(ref)) if ref.isdigit() else None
        if m is None:
            raise not_found()
        changed = store.members.update(
            m, active=flag(doc, "IsActive"), unsub=flag(doc, "IsUnsubscribed"), now=store.now()
        )
        if changed:
            store.changed()
        return updated(changed, self.render.list_recipient(m.recipient_id))

    def delete_recipient(self, ref: str) -> Response:
        m = self.store.members.by_recipient_id(int(ref)) if ref.isdigit() else None
        if m is None:
            raise not_found()
        self.store.members.remove(m)
        self.store.changed()
        return no_content()

    # ----- contact/{id}/managecontactslists -------------------------------------------------
    def manage_contact_lists(self, ref: str, req: Request) -> Response:
        """Add, re-subscribe, unsubscribe or remove one contact on several lists at once."""
        store, i = self.store, self._contact(ref)
        wanted = body_of(req).get("ContactsLists")
        if not isinstance(wanted, list) or not wanted:
            raise bad_request("ContactsLists is required")
        plan = []
        for item in wanted:
            action = str(item.get("Action", "")).lower() if isinstance(item, dict) else ""
            if action not in ACTIONS:
                raise bad_request(f'Invalid action "{action}"', {"Action": ", ".join(ACTIONS)})
            plan.append((self._list(str(item.get("ListID", ""))), action, item))
        now = store.now()
        for lst, action, _ in plan:
            m = store.members.member(lst, i)
            if action == "remove":
                if m is not None:
                    store.members.remove(m)
            elif action == "unsub":
                m = m or store.members.add(lst, i, now, unsubscribed=True)
                store.members.update(m, active=None, unsub=True, now=now)
            elif m is None:
                store.members.add(lst, i, now)
            elif action == "addforce":
                store.members.update(m, active=True, unsub=False, now=now)
        store.changed()
        done = [{"Action": action, "ListID": lst.id} for lst, action, _ in plan]
        return created(envelope.dumps({"ContactsLists": done}))
