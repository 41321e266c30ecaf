"""CSV imports beside synced sources: an imported opt-out reaches Klaviyo, imported rows merge
into synced contacts, a number written the same way but read differently is reported."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from engage_desktop.actions.imports import ImportActions
from engage_desktop.core.consent import SmsStatus
from engage_desktop.storage.merge_report import report_rows
from engage_desktop.storage.outbox import OutboxRepo
from engage_desktop.sync.pusher import OptOutPusher

from .conftest import Sources

pytestmark = pytest.mark.asyncio


async def test_an_imported_opt_out_reaches_klaviyo(sources: Sources, tmp_path: Path) -> None:
    sources.connect_klaviyo()
    pid = await sources.klaviyo_profile("+14155550199", (sources.klaviyo_list(),))
    assert (await sources.sync()).status == "succeeded"
    path = tmp_path / "stops.csv"
    path.write_text("Phone,Unsubscribed\n(415) 555-0199,yes\n+14155550198,yes\n")
    actions = ImportActions(sources.db)
    done = actions.run(actions.prepare(path, "Stops"))
    # Only the number Klaviyo has is queued for it (the other one it has never heard of).
    assert done.report.counts.queued_opt_outs == 1 and done.changes.outbox
    person = sources.by_phone("+14155550199")
    assert person is not None and person.sms_status is SmsStatus.OPTED_OUT
    assert set(person.sources) == {"KLAVIYO", "CSV"}
    pushed = await OptOutPusher(OutboxRepo(sources.db), sources.kclient).push_due()
    assert pushed.sent == 1 and pushed.error is None
    await asyncio.sleep(0.05)
    i = sources.klaviyo.store.index_of(pid)
    assert i is not None
    sms = sources.klaviyo.store.attributes(i)["subscriptions"]["sms"]["marketing"]
    assert sms["consent"] == "UNSUBSCRIBED"


async def test_imported_rows_merge_into_synced_contacts(sources: Sources, tmp_path: Path) -> None:
    sources.connect_mailjet(region="GB")
    lst = sources.mailjet_lists()[0]
    await sources.mailjet_contact("uk@x.test", "07911 123456", (lst,), firstname="Ola")
    await sources.mailjet_contact("us@x.test", "+1 415 555 0170", (lst,), firstname="Sam")
    assert (await sources.sync()).status == "succeeded"
    path = tmp_path / "fair.csv"
    path.write_text("Phone,First name\n+14155550170,Samuel\n07911 123456,Ola\n")
    actions = ImportActions(sources.db)
    report = actions.dry_run(actions.prepare(path, "Fair", region="US"))
    assert (report.counts.merged, report.counts.invalid) == (1, 1)
    done = actions.run(actions.prepare(path, "Fair", region="US"))
    sam = sources.by_phone("+14155550170")
    assert sam is not None and set(sam.sources) == {"MAILJET", "CSV"}
    assert sam.first_name == "Sam"  # Mailjet comes before CSV in the default priority
    assert sorted(sam.lists)[0] == "CSV: Fair"
    rows = report_rows(sources.db, import_id=done.report.import_id)
    kinds = {(r.kind, r.field) for r in rows}
    assert ("merged", None) in kinds and ("conflict", "First name") in kinds
    # "07911 123456" is a British number to Mailjet (GB) and no number in a US file: said.
    uk = (
        next(r for r in rows if r.kind == "phone") if any(r.kind == "phone" for r in rows) else None
    )
    assert uk is None  # the row had no valid number, so it was not imported at all
    assert any((p.value or "") == "07911 123456" for p in done.report.problems)


async def test_a_number_read_differently_by_two_sources_is_reported(
    sources: Sources, tmp_path: Path
) -> None:
    sources.connect_mailjet(region="US")
    lst = sources.mailjet_lists()[0]
    await sources.mailjet_contact("au@x.test", "0412 345 678", (lst,))  # not a US number
    assert (await sources.sync()).status == "succeeded"
    path = tmp_path / "au.csv"
    path.write_text("Phone\n0412 345 678\n")
    actions = ImportActions(sources.db)
    done = actions.run(actions.prepare(path, "Sydney", region="AU"))
    rows = [
        r for r in report_rows(sources.db, import_id=done.report.import_id) if r.kind == "phone"
    ]
    assert len(rows) == 1
    assert (rows[0].value, rows[0].phone, rows[0].source) == ("0412 345 678", "+61412345678", "CSV")
    assert rows[0].others == {"MAILJET": "not a valid number"}
