"""Klaviyo and Mailjet together: one contact per number, its sources and groups, the source
priority, the merge report, opt-outs that hold everywhere and reach Klaviyo, one source
failing while the other is saved."""

from __future__ import annotations

import asyncio
import time

import pytest

from engage_desktop.actions.sources import SourceActions
from engage_desktop.core.consent import SmsStatus
from engage_desktop.storage.merge_report import report_counts, report_rows
from engage_desktop.storage.outbox import OutboxRepo

from ..sync.conftest import sms_consent
from .conftest import Sources

pytestmark = pytest.mark.asyncio
PHONE = "+14155550177"


async def both(sources: Sources) -> tuple[str, int]:
    """A Klaviyo profile and a Mailjet contact of one person, written differently."""
    sources.connect_klaviyo()
    sources.connect_mailjet()
    pid = await sources.klaviyo_profile(
        PHONE, (sources.klaviyo_list(),), first_name="Ann", email="ann@klaviyo.test"
    )
    mid = await sources.mailjet_contact(
        "ann@mailjet.test", "(415) 555-0177", (sources.mailjet_lists()[0],), firstname="Annie"
    )
    return pid, mid


async def test_one_contact_per_number_with_both_sources_and_both_groups(sources: Sources) -> None:
    pid, mid = await both(sources)
    result = await sources.sync()
    assert result.status == "succeeded", result.error
    assert set(result.sources) == {"KLAVIYO", "MAILJET"}
    assert result.counts["created"] == sum(s["created"] for s in result.sources.values())
    matches = [c for c in sources.contacts() if c.phone == PHONE]
    assert len(matches) == 1
    ann = matches[0]
    assert ann.sources == {"KLAVIYO": [pid], "MAILJET": [str(mid)]}
    klaviyo_list = sources.klaviyo.store.lists[sources.klaviyo_list()].name
    mailjet_list = sources.mailjet.store.lists()[0].name
    assert sorted(ann.lists) == sorted([f"Klaviyo: {klaviyo_list}", f"Mailjet: {mailjet_list}"])
    assert ann.as_json()["groups"] == ann.lists
    assert (ann.first_name, ann.email) == ("Ann", "ann@klaviyo.test")  # Klaviyo first
    records = SourceActions(sources.db).records(ann.id)
    assert {r.source: r.first_name for r in records} == {"KLAVIYO": "Ann", "MAILJET": "Annie"}
    assert {r.source: r.groups for r in records}["MAILJET"] == [f"Mailjet: {mailjet_list}"]


async def test_the_merge_report_names_merges_and_conflicts_with_the_winner(
    sources: Sources, tmp_path: object
) -> None:
    await both(sources)
    result = await sources.sync()
    rows = report_rows(sources.db, run_id=result.run_id, limit=100_000)
    merged = [r for r in rows if r.kind == "merged" and r.phone == PHONE]
    assert len(merged) == 1
    conflicts = {r.field: r for r in rows if r.kind == "conflict" and r.phone == PHONE}
    assert conflicts["First name"].value == "Ann" and conflicts["First name"].source == "KLAVIYO"
    assert conflicts["First name"].others == {"MAILJET": "Annie"}
    assert report_counts(sources.db, run_id=result.run_id)["merged"] >= 1
    again = await sources.sync()  # nothing new merged: an empty report
    assert report_counts(sources.db, run_id=again.run_id) == {
        "merged": 0,
        "conflict": 0,
        "phone": 0,
    }


async def test_the_source_priority_is_a_setting_that_applies_at_once(sources: Sources) -> None:
    await both(sources)
    await sources.sync()
    actions = SourceActions(sources.db)
    assert actions.priority() == ("KLAVIYO", "MAILJET", "CSV")
    done = actions.set_priority(["mailjet", "klaviyo"])
    assert done.priority == ("MAILJET", "KLAVIYO", "CSV") and done.rederived == 1
    ann = sources.by_phone(PHONE)
    assert ann is not None and ann.first_name == "Annie" and ann.email == "ann@mailjet.test"
    assert (await sources.sync()).counts["updated"] == 0  # the sync agrees with the setting


async def test_a_mailjet_opt_out_holds_everywhere_and_reaches_klaviyo(sources: Sources) -> None:
    pid, mid = await both(sources)
    await sources.kadmin.patch(
        f"/_emulator/profiles/{pid}",
        json={"attributes": {"subscriptions": sms_consent("SUBSCRIBED", time.time() - 3600)}},
    )
    assert (await sources.sync()).status == "succeeded"
    ann = sources.by_phone(PHONE)
    assert ann is not None and ann.sms_status is SmsStatus.SUBSCRIBED
    await sources.mailjet_edit(mid, Properties={"sms_opt_in": False})
    result = await sources.sync()
    ann = sources.by_phone(PHONE)
    assert ann is not None and ann.sms_status is SmsStatus.OPTED_OUT
    assert "Mailjet" in (ann.sms_reason or "")
    rows = sources.db.execute_sql("SELECT phone, sent_at FROM optout_outbox").fetchall()
    assert rows == [(PHONE, rows[0][1])] and rows[0][1] is not None, rows  # sent in the run
    assert OutboxRepo(sources.db).pending_count() == 0 and result.status == "succeeded"
    await asyncio.sleep(0.05)  # Klaviyo applies the job
    i = sources.klaviyo.store.index_of(pid)
    assert i is not None
    consent = sources.klaviyo.store.attributes(i)["subscriptions"]["sms"]["marketing"]["consent"]
    assert consent == "UNSUBSCRIBED"
    again = await sources.sync()  # Klaviyo now agrees: nothing is sent again
    assert again.status == "succeeded"
    assert sources.db.execute_sql("SELECT count(*) FROM optout_outbox").fetchone()[0] == 1


async def test_a_klaviyo_opt_out_is_not_sent_back(sources: Sources) -> None:
    pid, _ = await both(sources)
    await sources.kadmin.patch(
        f"/_emulator/profiles/{pid}",
        json={"attributes": {"subscriptions": sms_consent("UNSUBSCRIBED", time.time())}},
    )
    assert (await sources.sync()).status == "succeeded"
    ann = sources.by_phone(PHONE)
    assert ann is not None and ann.sms_status is SmsStatus.OPTED_OUT
    assert sources.db.execute_sql("SELECT count(*) FROM optout_outbox").fetchone()[0] == 0


async def test_an_opt_out_without_a_klaviyo_profile_is_sent_when_one_appears(
    sources: Sources,
) -> None:
    sources.connect_klaviyo()
    sources.connect_mailjet()
    await sources.mailjet_contact(
        "o@x.test", "+14155550188", (sources.mailjet_lists()[0],), sms_opt_in=False
    )
    assert (await sources.sync()).status == "succeeded"
    assert sources.db.execute_sql("SELECT count(*) FROM optout_outbox").fetchone()[0] == 0
    await sources.klaviyo_profile("+14155550188", (sources.klaviyo_list(),))
    assert (await sources.sync()).status == "succeeded"
    rows = sources.db.execute_sql("SELECT phone, sent_at FROM optout_outbox").fetchall()
    assert len(rows) == 1 and rows[0][0] == "+14155550188" and rows[0][1] is not None
    person = sources.by_phone("+14155550188")
    assert person is not None and person.sms_status is SmsStatus.OPTED_OUT


async def test_one_source_may_fail_while_the_other_is_saved(sources: Sources) -> None:
    sources.connect_klaviyo()
    sources.connect_mailjet()
    await sources.madmin.post("/_emulator/keys", json={"api_key": "other", "api_secret": "other"})
    sources.mailjet.keys.pop(sources.mailjet.settings.api_key)  # our key pair was revoked
    result = await sources.sync()
    assert result.status == "failed"
    assert result.error and result.error.startswith("Mailjet: Mailjet did not accept")
    assert "other sources were synced and saved" in result.error
    assert result.sources["KLAVIYO"]["status"] == "succeeded"
    assert result.sources["MAILJET"]["status"] == "failed"
    assert result.counts["created"] == result.sources["KLAVIYO"]["created"] > 0
    assert all(set(c.sources) == {"KLAVIYO"} for c in sources.contacts())


async def test_one_source_alone_when_asked(sources: Sources) -> None:
    sources.connect_klaviyo()
    sources.connect_mailjet()
    result = await sources.sync(only="MAILJET")
    assert result.status == "succeeded" and set(result.sources) == {"MAILJET"}
    assert all(set(c.sources) == {"MAILJET"} for c in sources.contacts())
    history = SourceActions(sources.db).run_sources(result.run_id)
    assert [(r.source, r.status) for r in history] == [("MAILJET", "succeeded")]
