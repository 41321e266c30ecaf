"""What merging needs to know about every source: the priority and each consent mode.

The priority is a setting (`app_settings`, its own key); the consent modes come from each
source's connection (Klaviyo's, Mailjet's). CSV imports are always Explicit: an imported row
is messageable only when the file says the person subscribed (docs/SOURCES.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import peewee

from engage_desktop.core.consent import ConsentMode
from engage_desktop.core.fields import FieldType
from engage_desktop.core.groups import DEFAULT_PRIORITY, PriorityError, check_priority
from engage_desktop.core.sources import CSV, KLAVIYO, MAILJET

PRIORITY_KEY = "source_priority"


def load_priority(db: peewee.Database) -> tuple[str, ...]:
    """The stored source priority (the default when none is stored or it is unusable)."""
    row = db.execute_sql("SELECT value FROM app_settings WHERE key = ?", (PRIORITY_KEY,)).fetchone()
    if row is None:
        return DEFAULT_PRIORITY
    try:
        stored = json.loads(row[0])
        return check_priority([str(s) for s in stored])
    except (ValueError, TypeError, PriorityError):
        return DEFAULT_PRIORITY


def save_priority(db: peewee.Database, order: tuple[str, ...]) -> None:
    db.execute_sql(
        "INSERT INTO app_settings (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (PRIORITY_KEY, json.dumps(list(check_priority(order)))),
    )


def consent_modes(db: peewee.Database) -> dict[str, ConsentMode]:
    """Each source's consent mode as connected now; a source not connected counts as
    Explicit (its records make nobody messageable by themselves)."""
    modes = {
        KLAVIYO: ConsentMode.EXPLICIT,
        MAILJET: ConsentMode.EXPLICIT,
        CSV: ConsentMode.EXPLICIT,
    }
    for source, table in ((KLAVIYO, "connection"), (MAILJET, "mailjet_connection")):
        row = db.execute_sql(f"SELECT consent_mode FROM {table}").fetchone()
        if row is not None:
            modes[source] = ConsentMode(row[0])
    return modes


def ensure_fields(db: peewee.Database, fields: Iterable[tuple[str, FieldType]]) -> None:
    """Platform fields a source fills (Mailjet mappings, CSV columns) exist, with their type
    (a field that exists keeps its own)."""
    db.cursor().executemany(
        "INSERT INTO platform_fields (name, type) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
        [(name, kind.value) for name, kind in fields],
    )


def field_types(db: peewee.Database) -> dict[str, FieldType]:
    """Every platform field's type, by name."""
    return {
        name: FieldType(kind)
        for name, kind in db.execute_sql("SELECT name, type FROM platform_fields")
    }


def rederive_merged(db: peewee.Database, now: float) -> int:
    """Derive again every contact with records from more than one source (a new priority
    decides their details now); returns the contacts that changed."""
    from engage_desktop.storage.merge import Merge  # merge reads this module's settings

    changed = 0
    with db.atomic():
        merge = Merge(db, None, now, {})
        after = 0
        while True:
            ids = [
                int(r[0])
                for r in db.execute_sql(
                    "SELECT contact_id FROM contact_sources WHERE contact_id > ?"
                    " GROUP BY contact_id HAVING count(DISTINCT source) > 1"
                    " ORDER BY contact_id LIMIT 5000",
                    (after,),
                )
            ]
            if not ids:
                break
            changed += len(merge.rederive(ids))
            after = ids[-1]
    return changed
