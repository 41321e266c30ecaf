"""What a change of consent settings does to the contacts: counted before, applied after."""

from __future__ import annotations

import peewee

from engage_desktop.core.consent import ConsentMode
from engage_desktop.storage.merge import Merge


def never_subscribed_with_a_number(db: peewee.Database, source: str) -> int:
    """Contacts of this source that are not messageable only because no consent was recorded
    (Explicit consent): what Inferred consent would make messageable."""
    row = db.execute_sql(
        "SELECT count(*) FROM contacts c WHERE c.sms_status = 'never_subscribed'"
        " AND c.phone IS NOT NULL AND EXISTS (SELECT 1 FROM contact_sources s"
        " WHERE s.contact_id = c.id AND s.source = ?)",
        (source,),
    ).fetchone()
    return int(row[0])


def unreadable_numbers(db: peewee.Database, source: str) -> list[str]:
    """Numbers of this source's records that could not be read as phone numbers (another
    default country may read some of them)."""
    rows = db.execute_sql(
        "SELECT DISTINCT phone_raw FROM contact_sources WHERE source = ? AND phone IS NULL"
        " AND phone_raw IS NOT NULL",
        (source,),
    )
    return [r[0] for r in rows]


def rederive_source(
    db: peewee.Database, source: str, modes: dict[str, ConsentMode], now: float
) -> int:
    """Apply the consent rules again to every contact of this source, now (a changed consent
    mode takes effect at once, not at the next sync); returns the contacts that changed."""
    changed = 0
    with db.atomic():
        merge = Merge(db, None, now, modes)
        after = 0
        while True:
            ids = [
                int(r[0])
                for r in db.execute_sql(
                    "SELECT DISTINCT contact_id FROM contact_sources WHERE source = ?"
                    " AND contact_id > ? ORDER BY contact_id LIMIT 5000",
                    (source, after),
                )
            ]
            if not ids:
                break
            changed += len(merge.rederive(ids))
            after = ids[-1]
    return changed
