"""Render the screenshots in this folder headlessly (offscreen Qt, the built-in emulator):

    .venv/bin/python docs/screenshots/render.py

Walks the install wizard page by page, runs the first sync, then captures every screen, the
Klaviyo details, the settings and the sync status panel during and after a sync; then sends
an SMS to a list through the MessageMedia emulator (New Message while sending, Campaigns
after delivery reports and replies).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

import httpx  # noqa: E402
import qasync  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from engage_desktop.app import EngageApp, apply_theme, interactive_client  # noqa: E402
from engage_desktop.core.consent import ConsentMode  # noqa: E402
from engage_desktop.core.messaging import GatewayCredentials  # noqa: E402
from engage_desktop.core.setup import Step  # noqa: E402
from engage_desktop.emulator import DEMO_API_KEY, Settings  # noqa: E402
from engage_desktop.emulator.messagemedia import DEMO_API_KEY as MM_KEY  # noqa: E402
from engage_desktop.emulator.messagemedia import DEMO_API_SECRET as MM_SECRET  # noqa: E402
from engage_desktop.emulator.messagemedia import MessageMediaEmulator  # noqa: E402
from engage_desktop.emulator.messagemedia import Settings as MMSettings  # noqa: E402
from engage_desktop.emulator.server import EmulatorThread  # noqa: E402
from engage_desktop.storage.database import open_database  # noqa: E402
from engage_desktop.storage.keystore import KeyStore  # noqa: E402
from engage_desktop.storage.memory_keyring import use_memory_keyring  # noqa: E402
from engage_desktop.ui.context import AppContext  # noqa: E402
from engage_desktop.ui.main_window import Screen  # noqa: E402
from engage_desktop.ui.widgets.mapping_model import NAME, PATH, TYPE  # noqa: E402

MATCH_START = Qt.MatchFlag.MatchStartsWith


def shot(widget: QWidget, name: str) -> None:
    widget.grab().save(str(HERE / f"{name}.png"))
    print(f"docs/screenshots/{name}.png")


async def until(check: Callable[[], bool], timeout_s: float = 60.0) -> None:
    for _ in range(int(timeout_s / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the screen never got there")


async def main(
    app: QApplication, emulator: EmulatorThread, folder: str, gateway: EmulatorThread
) -> None:
    ctx = AppContext(open_database(folder), KeyStore(), interactive_client, demo=True)
    ctx.demo_key = DEMO_API_KEY
    keys = GatewayCredentials(MM_KEY, MM_SECRET)
    engage = EngageApp(ctx, Path(folder), emulator.url, gateway_demo=(gateway.url, keys))
    engage.window.resize(1280, 800)
    engage.start()
    await asyncio.sleep(0.3)
    shot(engage.window, "01-integrations")

    engage.klaviyo.open_wizard()
    wizard = engage.klaviyo.wizard
    assert wizard is not None
    wizard.resize(820, 600)
    key_page = wizard.page(Step.API_KEY)
    key_page.use_demo.click()
    await until(key_page.isComplete)
    shot(wizard, "02-wizard-api-key")
    wizard.next()
    wizard.page(Step.CONSENT).buttons[ConsentMode.EXPLICIT].click()
    shot(wizard, "03-wizard-consent")
    wizard.next()
    contacts = wizard.page(Step.CONTACTS)
    await until(lambda: contacts.picker.loaded and len(contacts.picker.model.counts()) == 6)
    for list_id in contacts.picker.model.ids()[:4]:
        contacts.picker.model.set_checked({*contacts.picker.chosen(), list_id})
    shot(wizard, "04-wizard-contacts")
    wizard.next()
    mapping = wizard.page(Step.MAP_FIELDS)
    await until(lambda: "sampling" in mapping.editor.sample_note.text())
    m = mapping.editor.model
    for name, kind, path in (
        ("Loyalty points", "Number", "properties.loyalty_points"),
        ("Birthday", "Date", "properties.birthday"),
        ("Favourite colour", "Number", "properties.favorite_color"),
        ("Shoe size", "Text", "properties.shoe size"),
    ):
        row = m.add_row()
        m.setData(m.index(row, NAME), name)
        m.setData(m.index(row, TYPE), kind)
        m.setData(m.index(row, PATH), path)
    shot(wizard, "05-wizard-map-fields")
    # fix what the warnings pointed at before connecting
    m.setData(m.index(6, TYPE), "Text")
    m.setData(m.index(7, PATH), "properties.Shoe Size")
    wizard.next()
    shot(wizard, "06-wizard-finish")
    httpx.post(f"{emulator.url}/_emulator/settings", json={"latency_ms": 600})
    wizard.next()  # Connect: the first sync starts
    await until(lambda: engage.klaviyo.notice is not None)
    notice = engage.klaviyo.notice
    assert notice is not None
    shot(notice, "07-connected")
    notice.accept()
    engage.window.show_screen(Screen.CONTACTS)
    panel = engage.presenter.panels[1]
    await until(lambda: "fetching" in panel.headline.text() and panel.bar.value() > 300)
    shot(engage.window, "08-sync-running")
    httpx.post(f"{emulator.url}/_emulator/settings", json={"latency_ms": 0})
    await until(lambda: not engage.runner.running)
    await asyncio.sleep(1.0)
    screen = engage.contacts
    screen.view.setCurrentIndex(screen.model.index(2, 0))
    await asyncio.sleep(0.3)
    shot(engage.window, "09-contacts-after-sync")
    screen.search.setText("smith")
    await asyncio.sleep(0.8)
    shot(engage.window, "10-contacts-search")
    engage.window.show_screen(Screen.LISTS)
    await asyncio.sleep(0.3)
    shot(engage.window, "11-contact-lists")
    engage.window.show_screen(Screen.NEW_MESSAGE)
    engage.message.editor.setPlainText(
        "Hi! Our summer sale starts today: 20% off everything until Sunday. Reply STOP to opt out."
    )
    await asyncio.sleep(0.5)
    shot(engage.window, "12-new-message")
    await send_and_hear(engage, gateway)
    engage.window.show_screen(Screen.HISTORY)
    engage.history.show_run(engage.history.runs.rows[0].id)
    await asyncio.sleep(0.3)
    shot(engage.window, "13-sync-history")
    engage.window.show_screen(Screen.INTEGRATIONS)
    await asyncio.sleep(0.2)
    shot(engage.window, "14-integrations-connected")
    await engage.klaviyo.open_details()
    details = engage.klaviyo.details
    assert details is not None
    await until(lambda: details.picker.loaded and "sampling" in details.editor.sample_note.text())
    shot(details, "15-details-contacts-and-fields")
    details.tabs.setCurrentIndex(1)
    shot(details, "16-details-connection")
    details.reject()
    engage.open_settings()
    assert engage.settings_dialog is not None
    await asyncio.sleep(0.2)
    shot(engage.settings_dialog, "17-settings")
    engage.settings_dialog.reject()
    engage.stop()
    app.quit()


async def send_and_hear(engage: EngageApp, gateway: EmulatorThread) -> None:
    """New Message sending to a list, then Campaigns after delivery reports and replies."""
    screen = engage.message
    await until(lambda: screen.gateway_ready and screen.list_choice.count() > 2)
    newsletter = screen.list_choice.findText("Klaviyo: Newsletter", MATCH_START)
    screen.list_choice.setCurrentIndex(newsletter)
    screen.editor.setPlainText(
        "Hi {first_name|there}, our summer sale starts today: 20% off everything until "
        "Sunday. Reply STOP to opt out."
    )
    await until(lambda: bool(screen.preview.rows))
    # Half the batches answer late, so that the screenshot catches the send half-way.
    late = {"path": "/v1/messages", "kind": "delay", "count": 4, "delay_s": 4}
    httpx.post(f"{gateway.url}/_emulator/faults", json=late)
    flow = engage.gateway.send_flow
    plan = await flow.confirm(screen.list_id(), screen.editor.toPlainText())
    assert plan is not None and flow.question is not None
    flow.question.close()
    engage.gateway.worker.poll_now()
    engage.ctx.spawn(flow.send(screen.list_id(), screen.editor.toPlainText(), plan))
    progress = screen.progress
    await until(
        lambda: (
            progress.campaign_id is not None
            and progress.bar.maximum() == plan.recipients
            and progress.bar.value() > plan.recipients // 4
            and progress.finished is None
        )
    )
    await asyncio.sleep(0.2)
    shot(engage.window, "27-new-message-sending")
    await until(lambda: progress.finished is not None)
    sent = httpx.get(f"{gateway.url}/_emulator/messages").json()["messages"]
    for message, content in zip(
        sent[:4], ("STOP", "Is the shop open on Sunday?", "Stop.", "Thanks!"), strict=False
    ):
        reply = {"source_number": message["destination_number"], "content": content}
        httpx.post(f"{gateway.url}/_emulator/replies", json=reply)
    progress.open.click()
    campaigns = engage.campaigns
    await until(lambda: campaigns.campaign_replies.rowCount() == 4, timeout_s=30)
    await asyncio.sleep(0.5)
    shot(engage.window, "28-campaigns")


if __name__ == "__main__":
    use_memory_keyring()
    application = QApplication([])
    apply_theme(application)
    with (
        EmulatorThread(Settings(profiles=3000, lists=6, seed=7, job_delay_s=0.2)) as emu,
        EmulatorThread(MessageMediaEmulator(MMSettings())) as mm,
        tempfile.TemporaryDirectory() as data,
    ):
        qasync.run(main(application, emu, data, mm))
