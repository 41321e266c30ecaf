"""Opt-outs on records that are on no synced list.

A sync reads more than the members of the chosen lists: an incremental Klaviyo run reads every
profile changed since the last run, a whole-account read reads every contact. Records on no
synced list do not become contacts, but an UNSUBSCRIBED one is still the person saying stop
for that number: it is kept as a standing opt-out (`suppressions`), so the number is opted
out here whichever record brings it — now (a contact that already has the number) or later.
Without this, a second profile with an opted-out number, whose list membership a run missed,
left the contact subscribed, and the next incremental run never read that profile again.

A record whose SUBSCRIBED is newer than this opt-out (on the contact of the number) keeps it
lifted, as in `core/consent.py`.
"""

from __future__ import annotations

import peewee

from engage_desktop.core.consent import UNSUBSCRIBED
from engage_desktop.core.sources import source_label
from engage_desktop.storage import suppressions
from engage_desktop.storage.dialect import not_among
from engage_desktop.storage.merge import Merge


def keep_unlisted_opt_outs(db: peewee.Database, merge: Merge, source: str, full: bool) -> int:
    """Standing opt-outs for this source's staged UNSUBSCRIBED records that are about to be
    dropped as on no synced list; the contacts with those numbers derived again. Returns how
    many numbers were opted out."""
    members = not_among(db, "s.external_id", "staged_members", "external_id", "x.source = ?")
    known = (
        ""
        if full
        else " AND "
        + not_among(db, "s.external_id", "contact_sources", "external_id", "x.source = ?")
    )
    rows = db.execute_sql(
        "SELECT s.phone, s.consent_at FROM staged_records s WHERE s.source = ?"
        f" AND s.consent = ? AND s.phone IS NOT NULL AND {members}" + known,
        (source, UNSUBSCRIBED, source) if full else (source, UNSUBSCRIBED, source, source),
    ).fetchall()
    at_of: dict[str, float] = {}
    timeless: set[str] = set()  # a source that keeps no consent time (Mailjet): "now"
    for phone, consent_at in rows:
        if consent_at is None:
            timeless.add(phone)
        at = float(consent_at) if consent_at is not None else merge.now
        at_of[phone] = max(at, at_of.get(phone, 0.0))
    # Without a time of its own, an opt-out that already stands is the same opt-out read
    # again: it keeps its time (a sync with nothing changed changes nothing).
    for phone in suppressions.standing(db, sorted(timeless)):
        if phone in timeless:
            del at_of[phone]
    if not at_of:
        return 0
    phones = sorted(at_of)
    newer_consent: dict[str, float] = {}
    contact_of: dict[str, int] = {}
    for i in range(0, len(phones), 900):
        chunk = phones[i : i + 900]
        marks = ",".join("?" * len(chunk))
        for cid, phone, consent, consent_at in db.execute_sql(
            "SELECT c.id, c.phone, cs.consent, cs.consent_at FROM contacts c"
            " LEFT JOIN contact_sources cs ON cs.contact_id = c.id"
            f" WHERE c.phone IN ({marks})",
            chunk,
        ):
            contact_of[phone] = int(cid)
            if consent == "SUBSCRIBED" and consent_at is not None:
                newer_consent[phone] = max(float(consent_at), newer_consent.get(phone, 0.0))
    reason = f"{source_label(source)} SMS consent: {UNSUBSCRIBED} (a record on no synced list)"
    opted = [
        (phone, at, reason, source)
        for phone, at in at_of.items()
        if newer_consent.get(phone, 0.0) <= at
    ]
    suppressions.suppress_many(db, opted)
    merge.rederive(contact_of[p] for p, *_ in opted if p in contact_of)
    return len(opted)
