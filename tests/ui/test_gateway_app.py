"""The SMS gateway in the app, against both socket emulators: connect through the tile, send
from New Message (confirmation, progress), the campaign and its delivery reports on
Campaigns, a STOP reply while the app runs, an unknown batch's decision, demo mode."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from engage_desktop.app import EngageApp, demo_emulators, demo_options
from engage_desktop.core.consent import SmsStatus
from engage_desktop.emulator import DEMO_API_KEY
from engage_desktop.emulator.messagemedia import DEMO_API_KEY as MM_KEY
from engage_desktop.emulator.messagemedia import DEMO_API_SECRET as MM_SECRET
from engage_desktop.emulator.messagemedia import MessageMediaEmulator
from engage_desktop.emulator.messagemedia import Settings as MMSettings
from engage_desktop.emulator.server import EmulatorThread
from engage_desktop.gateway.events import SendFinished
from engage_desktop.storage.campaigns import CampaignRepo
from engage_desktop.storage.outbox import OutboxRepo
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.main_window import Screen
from engage_desktop.ui.notifier import Notifier
from tests.ui.test_app import install


class RecordingNotifier(Notifier):
    """The real notifier (no desktop, no tray offscreen) that keeps what it said."""

    def __init__(self) -> None:
        super().__init__(QIcon())
        self.said: list[tuple[str, str]] = []

    def say(self, title: str, body: str) -> None:
        self.said.append((title, body))
        super().say(title, body)


@pytest.fixture(scope="module")
def mm_emulator() -> Iterator[EmulatorThread]:
    settings = MMSettings(submitted_after_s=0.05, delivered_after_s=0.1)
    with EmulatorThread(MessageMediaEmulator(settings)) as thread:
        yield thread


@pytest.fixture
def mm(mm_emulator: EmulatorThread) -> EmulatorThread:
    httpx.post(f"{mm_emulator.url}/_emulator/reset").raise_for_status()
    return mm_emulator


@pytest.fixture
def engage(qtbot: QtBot, ctx: AppContext, tmp_path: Path) -> Iterator[EngageApp]:
    app = EngageApp(ctx, tmp_path, notifier=RecordingNotifier(), poll_every_s=0.2)
    qtbot.addWidget(app.window)
    app.start()
    yield app
    app.stop()


def connect_gateway(qtbot: QtBot, engage: EngageApp, url: str, secret: str = MM_SECRET) -> None:
    engage.window.show_screen(Screen.INTEGRATIONS)
    tile = engage.integrations.gateway
    qtbot.waitUntil(lambda: tile.button.text() == "C&onnect…", timeout=5000)
    tile.button.click()
    dialog = engage.gateway.flows.connect_dialog
    assert dialog is not None and dialog.isVisible()
    assert not dialog.base_url.isVisible()  # not demo mode: the URL only under Advanced
    dialog.key.setText(MM_KEY)
    dialog.secret.setText(secret)
    dialog.advanced.setChecked(True)
    dialog.base_url.setText(url)
    dialog.ok.click()
    if secret != MM_SECRET:
        return
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10000)
    qtbot.waitUntil(lambda: "Connected" in tile.state.text(), timeout=10000)


def messages(mm: EmulatorThread) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = httpx.get(f"{mm.url}/_emulator/messages").json()["messages"]
    return found


def send_from_new_message(qtbot: QtBot, engage: EngageApp, text: str) -> SendFinished:
    engage.window.show_screen(Screen.NEW_MESSAGE)
    screen = engage.message
    qtbot.waitUntil(lambda: screen.list_choice.count() > 1, timeout=5000)
    screen.list_choice.setCurrentIndex(1)  # the first list, not everyone
    screen.editor.setPlainText(text)
    qtbot.waitUntil(screen.send.isEnabled, timeout=5000)
    qtbot.waitUntil(lambda: bool(screen.preview.rows), timeout=5000)
    screen.send.click()
    flow = engage.gateway.send_flow
    qtbot.waitUntil(lambda: flow.question is not None and flow.question.isVisible(), timeout=5000)
    assert flow.plan is not None and flow.question is not None
    assert f"{flow.plan.recipients:,} recipient" in flow.question.text()
    yes = next(b for b in flow.question.buttons() if b.text().startswith("&Send to"))
    with qtbot.waitSignal(engage.bridge.send_finished, timeout=30000) as done:
        yes.click()
    result: SendFinished = done.args[0]
    return result


def test_connecting_through_the_tile_checks_the_secret_live(
    qtbot: QtBot, engage: EngageApp, mm: EmulatorThread
) -> None:
    assert not engage.message.send.isEnabled()
    assert "Connect the SMS gateway" in engage.message.note.text()
    connect_gateway(qtbot, engage, mm.url, secret="not-the-secret")
    dialog = engage.gateway.flows.connect_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: bool(dialog.error.text()), timeout=10000)
    assert dialog.isVisible() and "Connected" not in engage.integrations.gateway.state.text()
    dialog.reject()
    connect_gateway(qtbot, engage, mm.url)
    assert "…" in engage.integrations.gateway.state.text()  # the key's hint, never the key
    assert MM_KEY not in engage.integrations.gateway.state.text()
    assert engage.integrations.gateway.button.text() == "See d&etails"
    qtbot.waitUntil(lambda: engage.message.gateway_ready, timeout=5000)


def test_send_to_a_list_then_statuses_replies_and_a_stop_that_reaches_klaviyo(
    qtbot: QtBot, engage: EngageApp, live: EmulatorThread, mm: EmulatorThread
) -> None:
    install(qtbot, engage, live.url)
    connect_gateway(qtbot, engage, mm.url)
    result = send_from_new_message(qtbot, engage, "Hi {first_name|there}, sale today")
    plan = engage.gateway.send_flow.plan
    assert plan is not None and plan.recipients > 0
    assert result.status == "finished" and result.submitted == plan.recipients
    sent = messages(mm)
    assert len(sent) == plan.recipients  # each once
    assert len({m["destination_number"] for m in sent}) == plan.recipients
    assert all("{" not in m["content"] and "sale today" in m["content"] for m in sent)
    progress = engage.message.progress
    assert f"{plan.recipients:,}</b> submitted" in progress.counts.text()
    assert any(
        title.startswith("Campaign") and "sent" in title for title, _ in engage.notifier.said
    )  # type: ignore[attr-defined]

    # Campaigns: the campaign, then its recipients delivered as the reports come in.
    progress.open.click()
    assert engage.window.current_screen() is Screen.CAMPAIGNS
    campaigns = engage.campaigns
    qtbot.waitUntil(lambda: campaigns.model.rowCount() == 1, timeout=5000)
    campaigns.filter.setCurrentIndex(campaigns.filter.findData("delivered"))
    qtbot.waitUntil(lambda: campaigns.recipients.rowCount() == plan.recipients, timeout=20000)
    assert campaigns.recipients.index(0, 2).data() == "Delivered"
    campaigns.filter.setCurrentIndex(campaigns.filter.findData("skipped"))
    skipped = sum(plan.skipped.values())
    qtbot.waitUntil(lambda: campaigns.recipients.rowCount() == skipped, timeout=5000)

    # A STOP while the app runs: opted out here (the table shows it) and in Klaviyo, once.
    phone = sent[0]["destination_number"]
    contact_id = engage.ctx.db.execute_sql(
        "SELECT id FROM contacts WHERE phone = ?", (phone,)
    ).fetchall()[0][0]
    chat = {"source_number": phone, "content": "Is the shop open on Sunday?"}
    httpx.post(f"{mm.url}/_emulator/replies", json=chat).raise_for_status()
    stop = {"source_number": phone, "content": "Stop!"}
    httpx.post(f"{mm.url}/_emulator/replies", json=stop).raise_for_status()
    model = engage.contacts.model
    qtbot.waitUntil(
        lambda: (
            (row := model.row_of(contact_id)) is not None
            and model.row_at(row).status is SmsStatus.OPTED_OUT
        ),
        timeout=15000,
    )
    outbox = OutboxRepo(engage.ctx.db)
    qtbot.waitUntil(lambda: outbox.pending_count() == 0, timeout=10000)
    profile_id = engage.contacts.table_data.detail(contact_id).source_ids[0][1]

    def unsubscribed() -> bool:
        doc = httpx.get(
            f"{live.url}/api/profiles/{profile_id}",
            params={"additional-fields[profile]": "subscriptions"},
            headers={"Authorization": f"Klaviyo-API-Key {DEMO_API_KEY}", "revision": "2026-07-15"},
        ).json()
        sms = (doc["data"]["attributes"]["subscriptions"] or {}).get("sms") or {}
        return bool((sms.get("marketing") or {}).get("consent") == "UNSUBSCRIBED")

    qtbot.waitUntil(unsubscribed, timeout=10000)
    qtbot.waitUntil(
        lambda: (
            (
                "1 contact opted out by SMS",
                "Klaviyo is being told. Their numbers get no more messages.",
            )
            in engage.notifier.said
        ),  # type: ignore[attr-defined]
        timeout=10000,
    )
    # Both replies on the campaign and in the inbox; the STOP marked.
    campaigns.reload()
    qtbot.waitUntil(lambda: campaigns.inbox.rowCount() == 2, timeout=5000)
    qtbot.waitUntil(lambda: campaigns.campaign_replies.rowCount() == 2, timeout=5000)
    words = {campaigns.inbox.index(r, 3).data() for r in range(2)}
    assert words == {"", "opted out (STOP)"}
    # The contact pane shows what they said.
    engage.window.show_screen(Screen.CONTACTS)
    engage.contacts.show_contact(contact_id)
    pane = engage.contacts.detail
    qtbot.waitUntil(lambda: "Is the shop open on Sunday?" in pane.text.toPlainText(), timeout=5000)
    assert "Stop!" in pane.text.toPlainText() and "opted out" in pane.text.toPlainText()


def test_an_unknown_batch_waits_for_a_decision_and_is_not_resent(
    qtbot: QtBot, engage: EngageApp, live: EmulatorThread, mm: EmulatorThread
) -> None:
    install(qtbot, engage, live.url)
    connect_gateway(qtbot, engage, mm.url)
    fault = {"path": "/v1/messages", "kind": "500", "count": 1}
    httpx.post(f"{mm.url}/_emulator/faults", json=fault).raise_for_status()
    result = send_from_new_message(qtbot, engage, "Hello")
    assert (
        result.unknown > 0
        and result.submitted + result.unknown == engage.gateway.send_flow.plan.recipients
    )  # type: ignore[union-attr]
    assert "unknown" in engage.message.progress.counts.text()
    before = len(messages(mm))
    engage.message.progress.open.click()
    summary = engage.campaigns.summary
    qtbot.waitUntil(lambda: summary.unknown_box.isVisibleTo(engage.campaigns), timeout=5000)
    assert f"{result.unknown:,} recipients" in summary.unknown_text.text()
    assert "to decide" in engage.campaigns.model.index(0, 3).data()
    summary.drop.click()
    box = engage.gateway.question
    assert isinstance(box, QMessageBox)
    next(b for b in box.buttons() if b.text() == "Mark as &not sent").click()
    qtbot.waitUntil(lambda: not summary.unknown_box.isVisibleTo(engage.campaigns), timeout=5000)
    campaign = CampaignRepo(engage.ctx.db).latest(1)[0]
    assert campaign.counts.unknown == 0 and campaign.counts.skipped.get("dropped") == result.unknown
    qtbot.wait(500)  # a poll round or two: nothing is resent
    assert len(messages(mm)) == before


def test_demo_mode_starts_both_emulators_with_the_gateway_connected(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path
) -> None:
    klaviyo, gateway = demo_emulators()
    try:
        opts = demo_options(tmp_path, klaviyo, gateway)
        assert httpx.get(f"{klaviyo.url}/_emulator/").status_code == 200
        assert httpx.get(f"{gateway.url}/_emulator/settings").json()["api_key"] == MM_KEY
        app = EngageApp(
            ctx, tmp_path, opts.demo_url, gateway_demo=opts.gateway_demo, poll_every_s=0.2
        )
        qtbot.addWidget(app.window)
        app.start()
        try:
            tile = app.integrations.gateway
            qtbot.waitUntil(lambda: "Connected" in tile.state.text(), timeout=10000)
            qtbot.waitUntil(lambda: app.message.gateway_ready, timeout=5000)
            counters = httpx.get(f"{gateway.url}/_emulator/counters").json()
            assert counters  # the gateway was asked (verify, then polls)
            assert app.ctx.actions.gateway.settings().base_url == gateway.url
        finally:
            app.stop()
    finally:
        gateway.stop()
        klaviyo.stop()


def test_details_set_the_opt_out_words_and_a_new_word_opts_out(
    qtbot: QtBot, engage: EngageApp, live: EmulatorThread, mm: EmulatorThread
) -> None:
    install(qtbot, engage, live.url)
    connect_gateway(qtbot, engage, mm.url)
    tile = engage.integrations.gateway
    tile.button.click()  # See details: the status is read fresh first
    qtbot.waitUntil(lambda: engage.gateway.flows.details is not None, timeout=5000)
    details = engage.gateway.flows.details
    assert details is not None and "STOP" in details.keywords.text()
    assert details.blacklist.isChecked()
    details.keywords.setText("STOP, halt")
    details.blacklist.setChecked(False)
    details.save.click()
    qtbot.waitUntil(lambda: details.error.text() == "Saved.", timeout=10000)
    saved = engage.ctx.actions.gateway.settings()
    assert saved.opt_out_keywords == ("STOP", "HALT") and saved.blacklist_opt_outs is False
    phone, contact_id = engage.ctx.db.execute_sql(
        "SELECT phone, id FROM contacts WHERE sms_status = 'subscribed' AND phone IS NOT NULL"
        " LIMIT 1"
    ).fetchall()[0]  # fetchall: an unfinished statement would keep its read snapshot open
    reply = {"source_number": phone, "content": "Halt."}
    httpx.post(f"{mm.url}/_emulator/replies", json=reply).raise_for_status()

    def opted_out() -> bool:
        row = engage.ctx.db.execute_sql(
            "SELECT sms_status FROM contacts WHERE id = ?", (contact_id,)
        ).fetchall()[0]
        return bool(row[0] == "opted_out")

    qtbot.waitUntil(opted_out, timeout=15000)
    # The Inbox has it; a double-click opens the contact.
    engage.window.show_screen(Screen.CAMPAIGNS)
    inbox = engage.campaigns.inbox
    engage.campaigns.reload()
    qtbot.waitUntil(lambda: inbox.rowCount() == 1, timeout=5000)
    assert inbox.index(0, 3).data() == "opted out (HALT)"
    engage.campaigns.inbox_table.doubleClicked.emit(inbox.index(0, 2))
    assert engage.window.current_screen() is Screen.CONTACTS
    qtbot.waitUntil(lambda: engage.contacts.current_contact() == contact_id, timeout=5000)


def test_cancel_while_sending_stops_the_campaign_for_good(
    qtbot: QtBot, engage: EngageApp, live: EmulatorThread, mm: EmulatorThread
) -> None:
    install(qtbot, engage, live.url)
    connect_gateway(qtbot, engage, mm.url)
    slow = {"path": "/v1/messages", "kind": "delay", "count": 50, "delay_s": 1.5}
    httpx.post(f"{mm.url}/_emulator/faults", json=slow).raise_for_status()
    screen = engage.message
    engage.window.show_screen(Screen.NEW_MESSAGE)
    qtbot.waitUntil(lambda: screen.list_choice.count() > 1, timeout=5000)
    screen.editor.setPlainText("Last chance")
    qtbot.waitUntil(screen.send.isEnabled, timeout=5000)
    screen.send.click()
    flow = engage.gateway.send_flow
    qtbot.waitUntil(lambda: flow.question is not None and flow.question.isVisible(), timeout=5000)
    assert flow.question is not None
    yes = next(b for b in flow.question.buttons() if b.text().startswith("&Send to"))
    with qtbot.waitSignal(engage.bridge.send_progress, timeout=10000):  # the sender has it
        yes.click()
    progress = screen.progress
    assert progress.cancel.isVisible() and progress.cancel.isEnabled()
    with qtbot.waitSignal(engage.bridge.send_finished, timeout=30000) as done:
        progress.cancel.click()
    result: SendFinished = done.args[0]
    assert result.status == "cancelled"
    assert "Cancelled" in progress.title.text() and not progress.cancel.isVisible()
    campaign = CampaignRepo(engage.ctx.db).latest(1)[0]
    assert campaign.status.value == "cancelled" and campaign.counts.pending == 0


def test_a_send_while_a_sync_runs_sends_everyone_once(
    qtbot: QtBot, engage: EngageApp, live: EmulatorThread, mm: EmulatorThread
) -> None:
    install(qtbot, engage, live.url)
    connect_gateway(qtbot, engage, mm.url)
    httpx.post(f"{live.url}/_emulator/settings", json={"latency_ms": 50}).raise_for_status()
    synced: list[object] = []
    engage.bridge.run_finished.connect(synced.append)
    with qtbot.waitSignal(engage.bridge.progress_changed, timeout=10000):
        engage.sync_now(full=True)
    assert engage.runner.running
    result = send_from_new_message(qtbot, engage, "During the sync")
    plan = engage.gateway.send_flow.plan
    assert plan is not None and result.status == "finished"
    assert result.submitted == plan.recipients == len(messages(mm))
    qtbot.waitUntil(lambda: bool(synced), timeout=60000)
    assert getattr(synced[0], "status", None) == "succeeded"


def test_quit_while_sending_asks_first(
    qtbot: QtBot, engage: EngageApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engage.gateway.worker, "sending", lambda: {7})
    engage.quit()
    box = engage.question
    assert box is not None and box.isVisible() and "being sent" in box.windowTitle()
    assert "nobody gets it twice" in box.text()
    assert not engage.quitting
    next(b for b in box.buttons() if b.text() == "&Keep sending").click()
    assert not engage.quitting
