"""Versioned schema: ordered steps, applied on open to bring an older database up to date.

A database is never recreated: each step runs once, in its own transaction, and records the
version it reached in `schema_version`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import peewee

from engage_desktop.storage.dialect import is_postgres, search_words

log = logging.getLogger(__name__)

Step = Callable[[peewee.Database], None]


def _sql(*statements: str) -> Step:
    def run(db: peewee.Database) -> None:
        for statement in statements:
            db.execute_sql(statement)

    return run


V1 = _sql(
    """CREATE TABLE connection (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        provider TEXT NOT NULL,
        account_id TEXT NOT NULL,
        account_name TEXT NOT NULL,
        base_url TEXT NOT NULL,
        consent_mode TEXT NOT NULL,
        lists TEXT NOT NULL,              -- JSON: "all" or a list of Klaviyo list ids
        default_region TEXT NOT NULL,
        schedule_hours INTEGER NOT NULL DEFAULT 24,
        reconcile_days INTEGER NOT NULL DEFAULT 7,
        profiles_watermark REAL,          -- max profile `updated` seen (epoch s)
        list_watermarks TEXT NOT NULL DEFAULT '{}',  -- JSON: list id -> max joined_group_at
        last_full_at REAL,
        last_full_count INTEGER,
        needs_full INTEGER NOT NULL DEFAULT 1,
        key_in_keyring INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    )""",
    """CREATE TABLE contacts (
        id INTEGER PRIMARY KEY,
        phone TEXT UNIQUE,                -- E.164, NULL when missing or unusable
        phone_raw TEXT,
        email TEXT,
        first_name TEXT,
        last_name TEXT,
        fields TEXT NOT NULL DEFAULT '{}', -- JSON: platform field name -> value
        sms_status TEXT NOT NULL,         -- subscribed | never_subscribed | opted_out
        sms_changed_at REAL,
        sms_reason TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    )""",
    "CREATE INDEX contacts_name ON contacts (last_name, first_name, id)",
    "CREATE INDEX contacts_email ON contacts (email)",
    """CREATE TABLE contact_sources (
        contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
        source TEXT NOT NULL,             -- KLAVIYO, CSV, …
        external_id TEXT NOT NULL,
        PRIMARY KEY (source, external_id)
    )""",
    "CREATE INDEX contact_sources_contact ON contact_sources (contact_id)",
    """CREATE TABLE contact_lists (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        external_id TEXT NOT NULL,
        name TEXT NOT NULL,
        member_count INTEGER,             -- Klaviyo's profile_count, cached
        last_synced_at REAL,
        UNIQUE (source, external_id)
    )""",
    """CREATE TABLE list_members (
        list_id INTEGER NOT NULL REFERENCES contact_lists (id) ON DELETE CASCADE,
        contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
        PRIMARY KEY (list_id, contact_id)
    ) WITHOUT ROWID""",
    "CREATE INDEX list_members_contact ON list_members (contact_id)",
    """CREATE TABLE platform_fields (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL                -- text | number | date
    )""",
    """CREATE TABLE field_mappings (
        field_id INTEGER PRIMARY KEY REFERENCES platform_fields (id) ON DELETE CASCADE,
        klaviyo_path TEXT NOT NULL
    )""",
    """CREATE TABLE sync_runs (
        id INTEGER PRIMARY KEY,
        trigger TEXT NOT NULL,
        full INTEGER NOT NULL,
        started_at REAL NOT NULL,
        ended_at REAL,
        status TEXT NOT NULL,             -- running | succeeded | failed | cancelled | interrupted
        created INTEGER NOT NULL DEFAULT 0,
        updated INTEGER NOT NULL DEFAULT 0,
        unchanged INTEGER NOT NULL DEFAULT 0,
        removed INTEGER NOT NULL DEFAULT 0,
        invalid INTEGER NOT NULL DEFAULT 0,
        opted_out INTEGER NOT NULL DEFAULT 0,
        fetched INTEGER NOT NULL DEFAULT 0,
        requests INTEGER NOT NULL DEFAULT 0,
        throttled INTEGER NOT NULL DEFAULT 0,
        suspicious TEXT,
        error TEXT
    )""",
    """CREATE TABLE sync_issues (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
        profile_id TEXT,
        contact_id INTEGER,
        field TEXT,
        value TEXT,
        reason TEXT NOT NULL
    )""",
    "CREATE INDEX sync_issues_run ON sync_issues (run_id)",
    """CREATE TABLE optout_outbox (
        id INTEGER PRIMARY KEY,
        contact_id INTEGER,
        phone TEXT NOT NULL,
        created_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        sent_at REAL,
        last_error TEXT
    )""",
    "CREATE INDEX optout_outbox_pending ON optout_outbox (sent_at, next_attempt_at)",
    """CREATE TABLE sync_lease (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        holder TEXT NOT NULL,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        started_at REAL NOT NULL,
        heartbeat_at REAL NOT NULL
    )""",
    """CREATE TABLE staged_profiles (
        profile_id TEXT PRIMARY KEY,
        phone TEXT,
        phone_raw TEXT,
        email TEXT,
        first_name TEXT,
        last_name TEXT,
        fields TEXT NOT NULL,
        consent TEXT,
        consent_at REAL,
        updated_at REAL
    ) WITHOUT ROWID""",
    """CREATE TABLE staged_members (
        list_external_id TEXT NOT NULL,
        profile_id TEXT NOT NULL,
        PRIMARY KEY (list_external_id, profile_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE staged_issues (
        profile_id TEXT, field TEXT, value TEXT, reason TEXT NOT NULL
    )""",
)

V2 = _sql(
    """CREATE TABLE app_settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL               -- JSON
    )""",
    # The contacts table sorts by name and searches names and emails by walking this one
    # covering index in order (no table rows read, no sort): ~3x faster at a million.
    "DROP INDEX contacts_name",
    "CREATE INDEX contacts_name ON contacts (last_name, first_name, email)",
)

V3 = _sql(
    # Each source record as its source gave it: a contact is derived from all of its records
    # (details by source priority, SMS status by the consent rules), so twins, merges and
    # records that move between numbers all come out the same whatever order they arrive in.
    *(
        f"ALTER TABLE contact_sources ADD COLUMN {column}"
        for column in (
            "phone TEXT",  # E.164 as this record gives it: the contact it belongs to
            "phone_raw TEXT",
            "email TEXT",
            "first_name TEXT",
            "last_name TEXT",
            "fields TEXT NOT NULL DEFAULT '{}'",
            "consent TEXT",  # SUBSCRIBED | UNSUBSCRIBED | NEVER_SUBSCRIBED | NULL
            "consent_at REAL",
            "linked_at REAL NOT NULL DEFAULT 0",
        )
    ),
    """UPDATE contact_sources SET (phone, phone_raw, email, first_name, last_name, fields,
        linked_at) = (SELECT c.phone, c.phone_raw, c.email, c.first_name, c.last_name,
        c.fields, c.created_at FROM contacts c WHERE c.id = contact_sources.contact_id)""",
    # Every number that opted out, remembered whatever happens to its contacts and sources.
    """CREATE TABLE suppressions (
        phone TEXT PRIMARY KEY,           -- E.164
        opted_out_at REAL NOT NULL,
        reason TEXT NOT NULL,
        origin TEXT NOT NULL,             -- LOCAL, KLAVIYO, …: where the opt-out came from
        lifted_at REAL,                   -- a newer SUBSCRIBED lifted it (kept as history)
        lifted_reason TEXT
    ) WITHOUT ROWID""",
    """INSERT INTO suppressions (phone, opted_out_at, reason, origin)
        SELECT phone, coalesce(sms_changed_at, updated_at), coalesce(sms_reason, 'opted out'),
        CASE WHEN sms_reason LIKE 'Klaviyo%' THEN 'KLAVIYO' ELSE 'LOCAL' END
        FROM contacts WHERE sms_status = 'opted_out' AND phone IS NOT NULL""",
    # Outbox rows are claimed before they are sent (two pushers never send one twice) and
    # dropped, with the reason kept, when a newer consent superseded them.
    "ALTER TABLE optout_outbox ADD COLUMN superseded_at REAL",
    "ALTER TABLE optout_outbox ADD COLUMN note TEXT",
    "ALTER TABLE optout_outbox ADD COLUMN claim TEXT",
    "ALTER TABLE optout_outbox ADD COLUMN claimed_at REAL",
    "DROP INDEX optout_outbox_pending",
    "CREATE INDEX optout_outbox_pending ON optout_outbox (next_attempt_at)"
    " WHERE sent_at IS NULL AND superseded_at IS NULL",
    "CREATE INDEX optout_outbox_phone ON optout_outbox (phone)",
    "ALTER TABLE sync_issues ADD COLUMN source TEXT",
    # The staging area, for any source.
    "DROP TABLE staged_profiles",
    "DROP TABLE staged_members",
    "DROP TABLE staged_issues",
    """CREATE TABLE staged_records (
        source TEXT NOT NULL,
        external_id TEXT NOT NULL,
        phone TEXT,
        phone_raw TEXT,
        email TEXT,
        first_name TEXT,
        last_name TEXT,
        fields TEXT NOT NULL,
        consent TEXT,
        consent_at REAL,
        updated_at REAL,
        PRIMARY KEY (source, external_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE staged_members (
        source TEXT NOT NULL,
        list_external_id TEXT NOT NULL,
        external_id TEXT NOT NULL,
        PRIMARY KEY (source, list_external_id, external_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE staged_issues (
        source TEXT, external_id TEXT, field TEXT, value TEXT, reason TEXT NOT NULL
    )""",
    # Records this run saw but could not read: never removed on this run's evidence.
    """CREATE TABLE staged_kept (
        source TEXT NOT NULL,
        external_id TEXT NOT NULL,
        PRIMARY KEY (source, external_id)
    ) WITHOUT ROWID""",
    # The records now carry consent: the next sync reads every one of them.
    "UPDATE connection SET needs_full = 1",
)

V4 = _sql(
    # Sorting All Contacts by Updated walks this index (its entries end with the rowid, the
    # sort's tie-break) instead of sorting every row: 0.7 s -> under 0.2 s at a million.
    "CREATE INDEX contacts_updated ON contacts (updated_at)",
)

V5 = _sql(
    # The SMS gateway (MessageMedia): its settings, never its key or secret (the keyring).
    """CREATE TABLE gateway (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        provider TEXT NOT NULL,           -- MESSAGEMEDIA
        base_url TEXT NOT NULL,
        source_number TEXT,               -- E.164 sender; NULL: the account's default
        key_in_keyring INTEGER NOT NULL DEFAULT 0,
        key_hint TEXT,                    -- the key's last characters, to recognise it
        opt_out_keywords TEXT NOT NULL,   -- JSON: the words that opt a replying number out
        blacklist_opt_outs INTEGER NOT NULL DEFAULT 1,  -- local opt-outs go to its blacklist
        connected_at REAL NOT NULL,
        verified_at REAL,
        last_poll_at REAL,
        last_poll_error TEXT,
        last_reconcile_at REAL
    )""",
    """CREATE TABLE campaigns (
        id INTEGER PRIMARY KEY,
        list_id INTEGER REFERENCES contact_lists (id) ON DELETE SET NULL,
        list_name TEXT NOT NULL,          -- as it was called when prepared
        text TEXT NOT NULL,               -- as written, placeholders included
        personal INTEGER NOT NULL,        -- texts differ: each recipient row holds its own
        source_number TEXT,
        status TEXT NOT NULL,             -- preparing | ready | sending | cancelling | paused
                                          -- | finished | cancelled
        created_at REAL NOT NULL,
        started_at REAL,
        finished_at REAL,
        counts TEXT NOT NULL DEFAULT '{}',  -- JSON: recipients by state, reason, delivery
        requests INTEGER NOT NULL DEFAULT 0,
        sender TEXT,                      -- who is sending it: one sender at a time
        sender_pid INTEGER,
        sender_host TEXT,
        heartbeat_at REAL,
        error TEXT
    )""",
    # A recipient goes pending -> sending (its batch claimed, durable before the request) ->
    # submitted (202, with its message id) | unknown (the answer was lost) | failed (400);
    # or skipped, with the reason, before its batch goes.
    """CREATE TABLE campaign_recipients (
        id INTEGER PRIMARY KEY,
        campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
        contact_id INTEGER NOT NULL,
        phone TEXT,                       -- E.164 when prepared
        text TEXT,                        -- personalised text (NULL: the campaign's text)
        state TEXT NOT NULL,
        reason TEXT,                      -- skipped: why; failed: the gateway's words
        batch TEXT,                       -- the request that carried it
        message_id TEXT,
        sent_at REAL,
        delivery TEXT,                    -- enroute | submitted | delivered | failed | rejected
                                          -- | expired
        delivery_at REAL,
        delivery_code TEXT,
        UNIQUE (campaign_id, contact_id)
    )""",
    "CREATE INDEX campaign_recipients_state ON campaign_recipients (campaign_id, state)",
    "CREATE INDEX campaign_recipients_batch ON campaign_recipients (batch) WHERE batch IS NOT NULL",
    "CREATE INDEX campaign_recipients_message ON campaign_recipients (message_id)"
    " WHERE message_id IS NOT NULL",
    "CREATE INDEX campaign_recipients_phone ON campaign_recipients (phone, sent_at)",
    # Every reply, once (a crash between commit and confirm re-delivers it).
    """CREATE TABLE gateway_replies (
        reply_id TEXT PRIMARY KEY,
        phone TEXT,                       -- the handset, E.164
        contact_id INTEGER,
        content TEXT NOT NULL,
        keyword TEXT,                     -- the opt-out word it was, if any
        received_at REAL,
        recorded_at REAL NOT NULL,
        message_id TEXT,                  -- the message it answers, when known
        campaign_id INTEGER,
        recipient_id INTEGER
    ) WITHOUT ROWID""",
    "CREATE INDEX gateway_replies_received ON gateway_replies (received_at)",
    # The gateway's blacklist as last seen complete, and what we did about each number.
    """CREATE TABLE gateway_blacklist (
        phone TEXT PRIMARY KEY,
        listed INTEGER NOT NULL,          -- in the last complete listing
        first_seen_at REAL,
        last_seen_at REAL,
        added_at REAL,                    -- we added it (a local opt-out, as a safety net)
        opted_out_at REAL                 -- it appeared there without us: a local opt-out
    ) WITHOUT ROWID""",
)

V6 = _sql(
    # Contacts from several sources (docs/SOURCES.md). The Mailjet connection's settings;
    # its key and secret live in the keyring, never here.
    """CREATE TABLE mailjet_connection (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        base_url TEXT NOT NULL,
        key_ref TEXT NOT NULL,            -- a fingerprint of the API key: the same account?
        key_hint TEXT NOT NULL,           -- the key's last four characters, as shown
        phone_property TEXT NOT NULL,     -- the contact property holding phone numbers
        lists TEXT NOT NULL,              -- JSON: "all" or a list of Mailjet list ids
        consent_mode TEXT NOT NULL,       -- inferred | explicit
        consent_property TEXT,            -- a bool property: true SUBSCRIBED, false UNSUBSCRIBED
        default_region TEXT NOT NULL,
        mappings TEXT NOT NULL DEFAULT '[]',  -- JSON: [[field, property, type], ...]
        last_full_at REAL,
        last_full_count INTEGER,
        needs_rederive INTEGER NOT NULL DEFAULT 1,
        key_in_keyring INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    )""",
    # Group membership per source record: a contact's groups are its records' groups, so a
    # record that moves to another number takes its groups along, and a group its source
    # drops is left by that record only.
    """CREATE TABLE record_members (
        list_id INTEGER NOT NULL REFERENCES contact_lists (id) ON DELETE CASCADE,
        source TEXT NOT NULL,
        external_id TEXT NOT NULL,
        PRIMARY KEY (source, external_id, list_id)
    ) WITHOUT ROWID""",
    "CREATE INDEX record_members_list ON record_members (list_id)",
    """INSERT OR IGNORE INTO record_members (list_id, source, external_id)
        SELECT m.list_id, s.source, s.external_id FROM list_members m
        JOIN contact_lists l ON l.id = m.list_id
        JOIN contact_sources s ON s.contact_id = m.contact_id AND s.source = l.source""",
    # CSV imports: each one, what it did, and the rows it could not take.
    """CREATE TABLE csv_imports (
        id INTEGER PRIMARY KEY,
        group_key TEXT NOT NULL,
        group_name TEXT NOT NULL,
        file_name TEXT NOT NULL,
        started_at REAL NOT NULL,
        ended_at REAL,
        status TEXT NOT NULL,             -- running | succeeded | failed | cancelled
        counts TEXT NOT NULL DEFAULT '{}',  -- JSON
        error TEXT
    )""",
    """CREATE TABLE import_issues (
        import_id INTEGER NOT NULL REFERENCES csv_imports (id) ON DELETE CASCADE,
        row INTEGER,
        column_name TEXT,
        value TEXT,
        reason TEXT NOT NULL
    )""",
    "CREATE INDEX import_issues_import ON import_issues (import_id)",
    # What each run (or import) merged across sources: contacts merged, field conflicts with
    # the value that won, numbers written or read differently per source.
    """CREATE TABLE merge_reports (
        id INTEGER PRIMARY KEY,
        run_id INTEGER REFERENCES sync_runs (id) ON DELETE CASCADE,
        import_id INTEGER REFERENCES csv_imports (id) ON DELETE CASCADE,
        kind TEXT NOT NULL,               -- merged | conflict | phone
        contact_id INTEGER,
        phone TEXT,
        field TEXT,
        value TEXT,                       -- the value that won
        source TEXT,                      -- the source it came from
        others TEXT                       -- JSON: source -> the value it had
    )""",
    "CREATE INDEX merge_reports_run ON merge_reports (run_id) WHERE run_id IS NOT NULL",
    "CREATE INDEX merge_reports_import ON merge_reports (import_id) WHERE import_id IS NOT NULL",
    # Each source's part of a run, for the history.
    """CREATE TABLE run_sources (
        run_id INTEGER NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
        source TEXT NOT NULL,
        status TEXT NOT NULL,
        full INTEGER NOT NULL,
        counts TEXT NOT NULL,             -- JSON: the run's count keys
        issues INTEGER NOT NULL DEFAULT 0,
        suspicious TEXT,
        error TEXT,
        PRIMARY KEY (run_id, source)
    ) WITHOUT ROWID""",
)


def V7(db: peewee.Database) -> None:
    """The team database (PostgreSQL) only: SQLite's json_extract as a SQL function (the
    repositories call it), and trigram indexes that serve the contacts search's substring
    LIKEs (SQLite walks its covering name index instead)."""
    if not is_postgres(db):
        return
    db.execute_sql(
        "CREATE OR REPLACE FUNCTION json_extract(doc TEXT, path TEXT) RETURNS TEXT"
        " LANGUAGE sql IMMUTABLE AS $$ SELECT doc::jsonb #>> string_to_array("
        " replace(regexp_replace(path, '^\\$\\.?', ''), '\"', ''), '.') $$"
    )
    # The table's sorts, as contact_table.py writes them (SQLite's NULLs-first order, the id
    # last): indexes PostgreSQL can walk in that order, index-only, instead of sorting.
    for name, columns, where in (
        ("name", "last_name NULLS FIRST, first_name NULLS FIRST, email NULLS FIRST, id", ""),
        (
            "first",
            "first_name NULLS FIRST, email NULLS FIRST, id",
            "last_name IS NULL",
        ),
        ("nameless", "email NULLS FIRST, id", "last_name IS NULL AND first_name IS NULL"),
        ("phone", "phone NULLS FIRST, id", ""),
        ("email", "email NULLS FIRST, id", ""),
        ("updated", "updated_at NULLS FIRST, id", ""),
    ):
        db.cursor().execute_raw(
            f"CREATE INDEX IF NOT EXISTS contacts_by_{name} ON contacts ({columns})"
            + (f" WHERE {where}" if where else "")
        )
    db.execute_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in ("last_name", "first_name", "email"):
        db.execute_sql(
            f"CREATE INDEX IF NOT EXISTS contacts_{column}_trgm ON contacts"
            f" USING gin ({column} gin_trgm_ops)"
        )


def V8(db: peewee.Database) -> None:
    """The team database only: the commit reads the staging area a chunk at a time in
    external_id order, NULLs first as SQLite sorts them (there are none: it is the key). An
    index in that order makes each chunk a walk instead of a sort of all the rows left. And
    three of SQLite's contacts indexes go, V7's doing their work."""
    if not is_postgres(db):
        return
    db.cursor().execute_raw(
        "CREATE INDEX IF NOT EXISTS staged_records_in_order"
        " ON staged_records (source, external_id NULLS FIRST)"
    )
    # V7's sort indexes serve what these served (equality, the same leading columns): on
    # PostgreSQL every contact written or moved updates every index, so fewer is faster.
    for name in ("contacts_email", "contacts_name", "contacts_updated"):
        db.cursor().execute_raw(f"DROP INDEX IF EXISTS {name}")


def V9(db: peewee.Database) -> None:
    """The team database only: room on each page of `contact_sources` for a changed record's
    new version. A sync rewrites every changed record, and none of the columns it changes is
    indexed, so PostgreSQL can keep the new version beside the old (a HOT update: no index
    touched) — when the page has room. Pages filled to the brim sent every version elsewhere
    and added it to both indexes. Pages written from now on keep 30% free.
    And one trigram index of the three searched columns together (`dialect.search_words`)
    instead of one for each: every contact written, or changed, costs one GIN insertion
    instead of three (measured once on 100,000 contacts: ~0.4 s less to write them, ~0.5 s to
    change them all)."""
    if not is_postgres(db):
        return
    raw = db.cursor().execute_raw
    raw("ALTER TABLE contact_sources SET (fillfactor = 70)")
    raw(
        "CREATE INDEX IF NOT EXISTS contacts_words_trgm ON contacts"
        f" USING gin ({search_words()} gin_trgm_ops)"
    )
    for column in ("last_name", "first_name", "email"):
        raw(f"DROP INDEX IF EXISTS contacts_{column}_trgm")


STEPS: Sequence[tuple[int, Step]] = (
    (1, V1),
    (2, V2),
    (3, V3),
    (4, V4),
    (5, V5),
    (6, V6),
    (7, V7),
    (8, V8),
    (9, V9),
)


def current_version(db: peewee.Database) -> int:
    db.execute_sql("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = db.execute_sql("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(db: peewee.Database, steps: Sequence[tuple[int, Step]] = STEPS) -> int:
    """Apply every step newer than the database; returns the version reached."""
    version = current_version(db)
    for target, step in steps:
        if target <= version:
            continue
        with db.atomic():
            if current_version(db) >= target:  # another desktop upgraded it meanwhile
                continue
            step(db)
            db.execute_sql("INSERT INTO schema_version (version) VALUES (?)", (target,))
        log.info("database upgraded to schema version %d", target)
        version = target
    return version
