"""One row of each resource, rendered straight to Mailjet's JSON text.

Pages of 1,000 rows are the hot path of a sync, so rows are formatted directly instead of being
built as dicts and serialised: the fields, their order (alphabetical, as recorded) and their
spacing are exactly what `envelope.dumps` would write for the same dict (tested).
"""

from __future__ import annotations

from engage_desktop.emulator.mailjet.envelope import quote
from engage_desktop.emulator.mailjet.generated import Contact, rfc3339
from engage_desktop.emulator.mailjet.membership import ContactsList, Member
from engage_desktop.emulator.mailjet.store import MailjetStore, Property

_BOOL = ("false", "true")


def _time(ts: int) -> str:
    """A time field: `""` when unset (never null, as recorded)."""
    return f'"{rfc3339(ts)}"' if ts else '""'


def contact(contact_id: int, c: Contact) -> str:
    return (
        f'{{ "CreatedAt" : "{rfc3339(c.created)}", "DeliveredCount" : {c.delivered}, '
        f'"Email" : {quote(c.email)}, "ExclusionFromCampaignsUpdatedAt" : {_time(c.excluded_at)}, '
        f'"ID" : {contact_id}, "IsExcludedFromCampaigns" : {_BOOL[c.excluded]}, '
        f'"IsOptInPending" : {_BOOL[c.opt_in_pending]}, '
        f'"IsSpamComplaining" : {_BOOL[c.spam]}, "LastActivityAt" : {_time(c.last_activity)}, '
        f'"LastUpdateAt" : {_time(c.last_update)}, "Name" : {quote(c.name)}, '
        '"UnsubscribedAt" : "", "UnsubscribedBy" : "" }'
    )


def contacts_list(lst: ContactsList, subscribers: int) -> str:
    return (
        f'{{ "Address" : {quote(lst.address)}, "CreatedAt" : "{rfc3339(lst.created)}", '
        f'"ID" : {lst.id}, "IsDeleted" : {_BOOL[lst.deleted]}, "Name" : {quote(lst.name)}, '
        f'"SubscriberCount" : {subscribers} }}'
    )


def metadata(p: Property) -> str:
    return (
        f'{{ "Datatype" : {quote(p.datatype)}, "ID" : {p.id}, "Name" : {quote(p.name)}, '
        f'"NameSpace" : {quote(p.namespace)} }}'
    )


_VALUE_OF: dict[str, str] = {}  # property name -> the start of its {Name, Value} pair


def _value_of(name: str) -> str:
    start = _VALUE_OF.get(name)
    if start is None:
        start = _VALUE_OF[name] = f'{{ "Name" : {quote(name)}, "Value" : '
    return start


def contact_data(contact_id: int, values: list[tuple[Property, str]]) -> str:
    data = ", ".join([f"{_value_of(p.name)}{quote(v)} }}" for p, v in values])
    return (
        f'{{ "ContactID" : {contact_id}, "Data" : [{data}], "ID" : {contact_id}, '
        '"MethodCollection" : "" }'
    )


def list_recipient(m: Member, contact_id: int, list_name: str) -> str:
    return (
        f'{{ "ContactID" : {contact_id}, "ID" : {m.recipient_id}, '
        f'"IsActive" : {_BOOL[m.active]}, "IsUnsubscribed" : {_BOOL[m.unsubscribed]}, '
        f'"ListID" : {m.list_id}, "ListName" : {quote(list_name)}, '
        f'"SubscribedAt" : {_time(m.subscribed_at)}, '
        f'"UnsubscribedAt" : {_time(m.unsubscribed_at)} }}'
    )


def contact_list_entry(m: Member) -> str:
    """A row of `contact/{id}/getcontactslists` (note `IsUnsub`, as recorded)."""
    return (
        f'{{ "IsActive" : {_BOOL[m.active]}, "IsUnsub" : {_BOOL[m.unsubscribed]}, '
        f'"ListID" : {m.list_id}, "SubscribedAt" : {_time(m.subscribed_at)} }}'
    )


class RowRenderer:
    """Renders rows by contact index or recipient ID against one store."""

    def __init__(self, store: MailjetStore) -> None:
        self.store = store

    def contact(self, i: int) -> str:
        return contact(self.store.contact_id(i), self.store.contact_of(i))

    def contact_data(self, i: int, fields: frozenset[str] | None = None) -> str:
        values = self.store.values(i)
        if fields is not None:
            values = [(p, v) for p, v in values if p.name.lower() in fields]
        return contact_data(self.store.contact_id(i), values)

    def list_recipient(self, rid: int) -> str:
        m = self.store.members.recipient(rid)
        name = self.store.members.lists[m.list_id].name
        return list_recipient(m, self.store.contact_id(m.contact), name)
