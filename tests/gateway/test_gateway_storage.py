"""The gateway's storage: migration V5 on an existing database, the settings row (never a
secret), the key and secret in the keyring, and claims that check consent."""

from __future__ import annotations

from pathlib import Path

import keyring
import peewee
import pytest

from engage_desktop.core.messaging import GatewayCredentials, RecipientState, SkipReason
from engage_desktop.storage.campaign_batches import BatchRepo
from engage_desktop.storage.campaigns import CampaignRepo
from engage_desktop.storage.contacts import ContactRepo
from engage_desktop.storage.database import open_database
from engage_desktop.storage.gateway_settings import (
    SERVICE,
    GatewayKeyStore,
    GatewayRepo,
    GatewaySettings,
)
from engage_desktop.storage.memory_keyring import use_memory_keyring
from engage_desktop.storage.migrations import STEPS, current_version, migrate


def test_v5_upgrades_a_version_4_database_and_keeps_its_data(tmp_path: Path) -> None:
    db = peewee.SqliteDatabase(str(tmp_path / "old.sqlite3"))
    db.connect()
    assert migrate(db, [s for s in STEPS if s[0] <= 4]) == 4
    db.execute_sql(
        "INSERT INTO contacts (phone, sms_status, created_at, updated_at)"
        " VALUES ('+14155550100', 'subscribed', 1, 1)"
    )
    assert migrate(db, [s for s in STEPS if s[0] <= 5]) == 5 and current_version(db) == 5
    tables = {t for (t,) in db.execute_sql("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"gateway", "campaigns", "campaign_recipients", "gateway_replies"} <= tables
    assert "gateway_blacklist" in tables
    assert db.execute_sql("SELECT count(*) FROM contacts").fetchone() == (1,)
    assert [v for v, _ in STEPS][:5] == [1, 2, 3, 4, 5]  # later steps go after V5


def test_the_settings_row_holds_no_secret(tmp_path: Path) -> None:
    db = open_database(tmp_path)
    repo = GatewayRepo(db)
    assert repo.get() is None
    repo.save(GatewaySettings("https://api.messagemedia.com", "+61491570157", key_hint="…abcd"))
    changed = repo.change(source_number=None, opt_out_keywords=("STOP", "ARRET"))
    assert changed.opt_out_keywords == ("STOP", "ARRET") and changed.source_number is None
    columns = [d[1] for d in db.execute_sql("PRAGMA table_info(gateway)").fetchall()]
    assert not [c for c in columns if "secret" in c or c == "api_key"]
    with pytest.raises(ValueError):
        repo.change(api_secret="x")
    db.close()


def test_key_and_secret_live_in_the_keyring_under_their_own_service() -> None:
    backend = use_memory_keyring()
    try:
        store = GatewayKeyStore()
        assert store.save(GatewayCredentials("the-key-123456", "the-secret-123456"))
        assert {service for service, _ in backend.store} == {SERVICE}
        assert store.load() == GatewayCredentials("the-key-123456", "the-secret-123456")
        store.delete()
        assert store.load() is None
    finally:
        keyring.set_keyring(keyring.backends.fail.Keyring())


def test_a_claim_skips_whoever_opted_out_since_the_campaign_was_prepared(tmp_path: Path) -> None:
    db = open_database(tmp_path)
    contacts = ContactRepo(db)
    ids = []
    for i in range(5):
        cur = db.execute_sql(
            "INSERT INTO contacts (phone, sms_status, created_at, updated_at)"
            " VALUES (?, 'subscribed', 1, 1)",
            (f"+1415555{i:04d}",),
        )
        ids.append(int(cur.lastrowid))
    campaigns = CampaignRepo(db)
    cid = campaigns.create(None, "All contacts", "Hi", False, None, 1.0)
    campaigns.add_recipients(cid, [(c, f"+1415555{i:04d}", None, "pending", None)
                                   for i, c in enumerate(ids)])  # fmt: skip
    campaigns.ready(cid)
    db.execute_sql("UPDATE campaigns SET status = 'sending' WHERE id = ?", (cid,))
    contacts.mark_opted_out(ids[1], "clicked", 2.0)
    db.execute_sql("UPDATE contacts SET sms_status = 'never_subscribed' WHERE id = ?", (ids[2],))
    db.execute_sql("DELETE FROM contacts WHERE id = ?", (ids[3],))
    claim = BatchRepo(db).claim(cid, "b1", 3.0, size=100)
    assert [r.id for r in claim.recipients] == [1, 5]
    assert claim.skipped == {
        SkipReason.OPTED_OUT: 1,
        SkipReason.NEVER_SUBSCRIBED: 1,
        SkipReason.REMOVED: 1,
    }
    states = dict(db.execute_sql("SELECT id, state FROM campaign_recipients").fetchall())
    assert states == {1: "sending", 2: "skipped", 3: "skipped", 4: "skipped", 5: "sending"}
    assert BatchRepo(db).give_back("b1") == 2
    assert BatchRepo(db).claim(cid, "b2", 4.0).recipients[0].id == 1
    assert BatchRepo(db).unknown("b2", "lost") == 2
    assert BatchRepo(db).decide(cid, resend=False) == 2
    rows = db.execute_sql("SELECT state, reason FROM campaign_recipients WHERE id = 5").fetchone()
    assert rows == (RecipientState.SKIPPED, SkipReason.DROPPED)
    db.close()
