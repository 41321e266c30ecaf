"""GET on the resources a contact sync reads: listings with their filters, and single objects.

Filters are the ones Mailjet's SDKs name for each resource (Ruby `lib/mailjet/resources/*.rb`,
Java `resource/*.java`). Filters this account has no data for (Campaign, Status, Blocked,
Opened, LastActivityAt, Recipient) are accepted: `Campaign` and `Blocked=true` match nothing,
the others are ignored — as are unknown parameters, which is what the real API does.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence

from engage_desktop.emulator.mailjet import envelope, rows
from engage_desktop.emulator.mailjet.envelope import not_found
from engage_desktop.emulator.mailjet.generated import INACTIVE, UNSUBSCRIBED
from engage_desktop.emulator.mailjet.membership import ContactsList
from engage_desktop.emulator.mailjet.query import Query
from engage_desktop.emulator.mailjet.rows import RowRenderer
from engage_desktop.emulator.mailjet.store import MailjetStore, Property
from engage_desktop.emulator.wire import Request, Response


def one(row: str) -> Response:
    return envelope.json_response(200, envelope.page([row], 1))


class Reads:
    """Answers GET /v3/REST/<resource>[/<id>[/<action>]]."""

    def __init__(self, store: MailjetStore) -> None:
        self.store = store
        self.render = RowRenderer(store)

    # ----- contactslist ---------------------------------------------------------------------
    def contactslists(self, req: Request) -> Response:
        q, store = Query(req), self.store
        out = store.lists()
        if (address := q.get("Address")) is not None:
            out = [lst for lst in out if lst.address == address]
        if (exclude := q.integer("ExcludeID")) is not None:
            out = [lst for lst in out if lst.id != exclude]
        if (deleted := q.flag("IsDeleted")) is not None:
            out = [lst for lst in out if lst.deleted == deleted]
        if (name := q.get("Name")) is not None:
            out = [lst for lst in out if lst.name == name]
        key = q.sort_key(
            {
                "id": lambda lst: lst.id,
                "name": lambda lst: lst.name,
                "createdat": lambda lst: lst.created,
                "address": lambda lst: lst.address,
                "subscribercount": lambda lst: store.subscriber_count(lst),
            }
        )
        if key is not None:
            out = sorted(out, key=key)
        return q.page(out, lambda lst: rows.contacts_list(lst, store.subscriber_count(lst)))

    def contactslist(self, ref: str) -> Response:
        lst = self.store.find_list(ref)
        if lst is None:
            raise not_found()
        return one(rows.contacts_list(lst, self.store.subscriber_count(lst)))

    # ----- contact and contactdata ----------------------------------------------------------
    def _contacts(self, q: Query) -> Sequence[int]:
        """The contact indexes a contact or contactdata listing selects, in its order."""
        store = self.store
        list_id = q.integer("ContactsList")
        unsub = q.flag("IsUnsubscribed")
        excluded = q.flag("IsExcludedFromCampaigns")
        email = q.get("ContactEmail")
        filters = (list_id, unsub if list_id is not None else None, excluded, email)
        if q.has("Campaign"):  # this account never sent a campaign
            return range(0)
        if email is not None:
            i = store.find_contact(email)
            base: Sequence[int] = range(0) if i is None else range(i, i + 1)
        elif list_id is not None:
            lst = store.members.lists.get(list_id)
            base = range(0) if lst is None else store.list_contacts(lst)
        else:
            base = store.contact_indexes()
        selection = base
        if filters[1:3] != (None, None):
            selection = store.cached(
                ("contacts", filters), lambda: self._filter_contacts(base, list_id, unsub, excluded)
            )
        key = q.sort_key(
            {
                "id": lambda i: i,
                "contactid": lambda i: i,
                "email": lambda i: store.contact_of(i).email,
                "name": lambda i: store.contact_of(i).name,
                "createdat": lambda i: store.contact_of(i).created,
            }
        )
        if key is None:
            return selection
        return store.cached(
            ("sorted", filters, tuple(q.sort)),
            lambda: array("i", sorted(selection, key=key)),
        )

    def _filter_contacts(
        self, base: Sequence[int], list_id: int | None, unsub: bool | None, excluded: bool | None
    ) -> Sequence[int]:
        """`IsUnsubscribed` (from the `ContactsList` given) and `IsExcludedFromCampaigns`."""
        store = self.store
        lst = store.members.lists.get(list_id) if list_id is not None else None
        out = array("i")
        for i in base:
            if excluded is not None and store.contact_of(i).excluded != excluded:
                continue
            if unsub is not None and lst is not None:
                m = store.members.member(lst, i)
                if m is None or m.unsubscribed != unsub:
                    continue
            out.append(i)
        return out

    def contacts(self, req: Request) -> Response:
        q = Query(req)
        return q.page(self._contacts(q), self.render.contact)

    def contact(self, ref: str) -> Response:
        i = self.store.find_contact(ref)
        if i is None:
            raise not_found()
        return one(self.render.contact(i))

    def contactdatas(self, req: Request) -> Response:
        q = Query(req)
        fields = q.get("Fields")
        wanted = None if fields is None else frozenset(f.strip().lower() for f in fields.split(","))
        return q.page(self._contacts(q), lambda i: self.render.contact_data(i, wanted))

    def contactdata(self, ref: str) -> Response:
        i = self.store.find_contact(ref)
        if i is None:
            raise not_found()
        return one(self.render.contact_data(i))

    def contact_lists(self, ref: str) -> Response:
        """GET contact/{id}/getcontactslists: the lists a contact is on."""
        store = self.store
        i = store.find_contact(ref)
        if i is None:
            raise not_found()
        found = [
            rows.contact_list_entry(m)
            for lst in store.lists()
            if (m := store.members.member(lst, i)) is not None
        ]
        return envelope.json_response(200, envelope.page(found, len(found)))

    # ----- contactmetadata ------------------------------------------------------------------
    def metadatas(self, req: Request) -> Response:
        q = Query(req)
        out: list[Property] = list(self.store.props)
        if (datatype := q.get("DataType")) is not None:
            out = [p for p in out if p.datatype == datatype]
        if (namespace := q.get("NameSpace")) is not None:
            out = [p for p in out if p.namespace == namespace]
        key = q.sort_key({"id": lambda p: p.id, "name": lambda p: p.name})
        if key is not None:
            out = sorted(out, key=key)
        return q.page(out, rows.metadata)

    def metadata(self, ref: str) -> Response:
        prop = self.store.find_property(ref)
        if prop is None:
            raise not_found()
        return one(rows.metadata(prop))

    # ----- listrecipient --------------------------------------------------------------------
    def recipients(self, req: Request) -> Response:
        q = Query(req)
        store, members = self.store, self.store.members
        lists = store.lists()
        if (list_id := q.integer("ContactsList")) is not None:
            lists = [lst for lst in lists if lst.id == list_id]
        if (list_name := q.get("ListName")) is not None:
            lists = [lst for lst in lists if lst.name == list_name]
        if q.flag("IgnoreDeleted"):
            lists = [lst for lst in lists if not lst.deleted]
        contact = None
        if (cid := q.get("Contact")) is not None or (cid := q.get("ContactEmail")) is not None:
            contact = store.find_contact(cid)
            if contact is None:
                lists = []
        unsub, active = q.flag("Unsub"), q.flag("Active")
        if q.flag("Blocked"):  # no contact is blocked in this account
            lists = []
        key = (tuple(lst.id for lst in lists), contact, unsub, active)
        selection = store.cached(
            ("recipients", key), lambda: self._recipients(lists, contact, unsub, active)
        )
        sort = q.sort_key(
            {
                "id": lambda rid: rid,
                "contactid": lambda rid: members.recipient(rid).contact,
                "listid": lambda rid: members.recipient(rid).list_id,
            }
        )
        if sort is not None:
            selection = store.cached(
                ("recipients", key, tuple(q.sort)), lambda: array("q", sorted(selection, key=sort))
            )
        return q.page(selection, self.render.list_recipient)

    def _recipients(
        self,
        lists: list[ContactsList],
        contact: int | None,
        unsub: bool | None,
        active: bool | None,
    ) -> Sequence[int]:
        store, members = self.store, self.store.members
        ids: Sequence[int]
        if contact is not None:
            found = [members.member(lst, contact) for lst in lists]
            ids = sorted(m.recipient_id for m in found if m is not None)
        elif len(lists) == 1:
            ids = members.recipient_ids(lists[0], bool(store.deleted))
            if unsub is None and active is None:
                return ids
        else:
            parts = [members.recipient_ids(lst, bool(store.deleted)) for lst in lists]
            ids = array("q", sorted(rid for part in parts for rid in part))
        if unsub is None and active is None:
            return ids
        if len(lists) == 1 and lists[0].generated is not None and not members.edited:
            # Untouched generated list: read the flag bytes, no Member objects needed.
            _, flags = store.data.members(lists[0].generated)
            start = store.data.recipient_base + lists[0].generated * members.block
            return array(
                "q",
                (
                    rid
                    for rid in ids
                    if (unsub is None or bool(flags[rid - start] & UNSUBSCRIBED) == unsub)
                    and (active is None or (not flags[rid - start] & INACTIVE) == active)
                ),
            )
        out = array("q")
        for rid in ids:
            m = members.by_recipient_id(rid)
            if m is None:
                continue
            if (unsub is None or m.unsubscribed == unsub) and (
                active is None or m.active == active
            ):
                out.append(rid)
        return out

    def recipient(self, ref: str) -> Response:
        m = self.store.members.by_recipient_id(int(ref)) if ref.isdigit() else None
        if m is None:
            raise not_found()
        return one(self.render.list_recipient(m.recipient_id))
