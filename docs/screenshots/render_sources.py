"""Render the screenshots of contacts from several sources (issue 14) headlessly:

    .venv/bin/python docs/screenshots/render_sources.py

Installs Klaviyo and Mailjet (demo emulators sharing some people) through their wizards,
imports a CSV file through File → Import contacts…, then captures the Mailjet wizard's
phone page, the import's dry run, All Contacts with sources and groups, the merge report in
Sync history (a sync's and the import's) and the source priority in Settings.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

import qasync  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from render import shot, until  # noqa: E402

from engage_desktop.app import EngageApp, apply_theme, interactive_client  # noqa: E402
from engage_desktop.core.consent import ConsentMode  # noqa: E402
from engage_desktop.core.setup import Step  # noqa: E402
from engage_desktop.emulator import DEMO_API_KEY, KlaviyoEmulator, Settings  # noqa: E402
from engage_desktop.emulator import mailjet as mj  # noqa: E402
from engage_desktop.emulator.demo_overlap import share_people  # noqa: E402
from engage_desktop.emulator.server import EmulatorThread  # noqa: E402
from engage_desktop.storage.database import open_database  # noqa: E402
from engage_desktop.storage.keystore import KeyStore  # noqa: E402
from engage_desktop.storage.memory_keyring import use_memory_keyring  # noqa: E402
from engage_desktop.ui.context import AppContext  # noqa: E402
from engage_desktop.ui.imports.import_wizard import ImportStep  # noqa: E402
from engage_desktop.ui.mailjet_wizard.draft import MailjetStep  # noqa: E402
from engage_desktop.ui.main_window import Screen  # noqa: E402


def trade_show_csv(klaviyo: KlaviyoEmulator, path: Path) -> None:
    """Twelve people Klaviyo has (numbers written nationally), eight new, four bad rows."""
    d = klaviyo.store.data
    rows = ["Mobile;First name;Last name;Email;Opted out;Company;Badge scans"]
    i = 0
    while len(rows) < 13:
        phone, (first, last) = d.phone(i), d.names(i)
        if (
            phone
            and phone.startswith("+1")
            and all(ord(c) < 256 for c in (first or "") + (last or ""))
        ):
            n = len(rows) - 1
            rows.append(
                f"({phone[2:5]}) {phone[5:8]}-{phone[8:]};{first or ''};{last or ''};"
                f"{(first or 'x').lower()}.{i}@tradeshow.example;{'yes' if n % 5 == 0 else 'no'};"
                f"Acme Corp;{n * 3 + 1}"
            )
        i += 7
    rows += [
        f"+1 628 555 01{j:02d};Guest{j};Visitor;guest{j}@tradeshow.example;no;Booth {j};{j}"
        for j in range(8)
    ]
    rows += [
        "call me later;Sam;Nope;sam@tradeshow.example;no;Acme;2",
        ";No;Number;nonumber@tradeshow.example;no;Acme;1",
        rows[2],
        "+1 628 555 0199;Maybe;Unsure;maybe@tradeshow.example;perhaps;Acme;4",
    ]
    path.write_text("\r\n".join(rows) + "\r\n", encoding="cp1252")


async def main(
    app: QApplication, klaviyo: EmulatorThread, mailjet: EmulatorThread, folder: str
) -> None:
    ctx = AppContext(open_database(folder), KeyStore(), interactive_client, demo=True)
    ctx.demo_key = DEMO_API_KEY
    ctx.demo_mailjet = (mailjet.url, mj.DEMO_API_KEY, mj.DEMO_API_SECRET)
    engage = EngageApp(ctx, Path(folder), klaviyo.url)
    engage.window.resize(1280, 800)
    engage.start()
    await asyncio.sleep(0.3)

    # Klaviyo, every list
    engage.klaviyo.open_wizard()
    wizard = engage.klaviyo.wizard
    assert wizard is not None
    wizard.page(Step.API_KEY).use_demo.click()
    await until(wizard.page(Step.API_KEY).isComplete)
    wizard.next()
    wizard.page(Step.CONSENT).buttons[ConsentMode.INFERRED].click()
    wizard.next()
    contacts = wizard.page(Step.CONTACTS)
    await until(lambda: contacts.picker.loaded)
    contacts.picker.every.setChecked(True)
    wizard.next()
    wizard.next()
    wizard.next()
    await until(lambda: engage.klaviyo.notice is not None)
    engage.klaviyo.notice.accept()  # type: ignore[union-attr]
    await until(lambda: not engage.runner.running and engage.contacts.model.rowCount() > 0)

    # Mailjet
    engage.mailjet.open_wizard()
    mwiz = engage.mailjet.wizard
    assert mwiz is not None
    mwiz.resize(820, 600)
    mwiz.page(MailjetStep.KEYS).use_demo.click()
    await until(mwiz.page(MailjetStep.KEYS).isComplete)
    mwiz.next()
    await until(mwiz.page(MailjetStep.PHONE).isComplete)
    shot(mwiz, "18-mailjet-phone-property")
    mwiz.next()
    mwiz.page(MailjetStep.CONSENT).buttons[ConsentMode.EXPLICIT].click()
    shot(mwiz, "19-mailjet-consent")
    mwiz.next()
    lists = mwiz.page(MailjetStep.LISTS)
    await until(lambda: lists.lists.count() > 0)
    lists.every.setChecked(True)
    mwiz.next()
    mwiz.next()
    mwiz.next()
    await until(lambda: engage.mailjet.notice is not None)
    engage.mailjet.notice.accept()  # type: ignore[union-attr]
    await asyncio.sleep(0.5)
    await until(lambda: not engage.runner.running)
    await asyncio.sleep(1.0)

    # File → Import contacts…
    csv = Path(folder) / "Trade show 2026.csv"
    assert isinstance(klaviyo.emulator, KlaviyoEmulator)
    trade_show_csv(klaviyo.emulator, csv)
    engage.imports.open()
    iwiz = engage.imports.wizard
    assert iwiz is not None
    iwiz.resize(860, 620)
    iwiz.page(ImportStep.FILE).choose(csv)
    await until(iwiz.page(ImportStep.FILE).isComplete)
    shot(iwiz, "20-import-file")
    iwiz.next()
    shot(iwiz, "21-import-columns")
    iwiz.next()
    await until(lambda: iwiz.currentId() == ImportStep.CHECK)
    await until(iwiz.page(ImportStep.CHECK).isComplete)
    shot(iwiz, "22-import-dry-run")
    done: list[object] = []
    iwiz.imported.connect(done.append)
    iwiz.next()
    await until(lambda: bool(done))
    await asyncio.sleep(1.0)

    # All Contacts, filtered by the CSV group, a merged contact in the pane
    engage.window.show_screen(Screen.CONTACTS)
    screen = engage.contacts
    screen.refresh_filters()
    screen.list_filter.setCurrentIndex(screen.list_filter.findText("CSV: Trade show 2026"))
    await until(lambda: screen.model.rowCount() == 20)
    sources = [c.header for c in screen.model.columns].index("Sources")
    row = next(
        r
        for r in range(20)
        if "Mailjet" in str(screen.model.index(r, sources).data())
        or "Klaviyo" in str(screen.model.index(r, sources).data())
    )
    screen.view.setCurrentIndex(screen.model.index(row, 0))
    await asyncio.sleep(0.3)
    shot(engage.window, "23-contacts-sources-groups")
    engage.window.show_screen(Screen.LISTS)
    await asyncio.sleep(0.5)
    shot(engage.window, "24-contact-lists-by-source")

    # Sync history → the last sync's merge report
    runs = engage.ctx.actions.sources.run_sources
    synced = [r for r in engage.history.runs.rows if r.imported is None and runs(r.id)]
    last = max(r.id for r in synced)
    engage.show_run(last)
    engage.history.tabs.setCurrentIndex(1)
    await until(
        lambda: (
            engage.history.merge.shown == (False, last) and engage.history.merge.model.rows != []
        )
    )
    shot(engage.window, "25-sync-history-merge-report")

    # … and the import's row, with what it merged
    history = engage.history
    imported = history.runs.row_of_key((True, 1))
    assert imported is not None
    history.runs_view.setCurrentIndex(history.runs.index(imported, 0))
    await until(lambda: history.merge.shown == (True, 1) and history.merge.model.rows != [])
    shot(engage.window, "29-sync-history-import")

    engage.open_settings()
    assert engage.settings_dialog is not None
    await asyncio.sleep(0.2)
    shot(engage.settings_dialog, "26-settings-source-priority")
    engage.settings_dialog.reject()
    engage.stop()
    app.quit()


if __name__ == "__main__":
    use_memory_keyring()
    application = QApplication([])
    apply_theme(application)
    k = KlaviyoEmulator(Settings(profiles=3000, lists=6, seed=7, job_delay_s=0.2))
    m = mj.MailjetEmulator(mj.Settings(contacts=2000, lists=4, phone_property="mobile", seed=7))
    share_people(k, m, 300)
    with (
        EmulatorThread(k) as kt,
        EmulatorThread(m) as mt,
        tempfile.TemporaryDirectory() as data,
    ):
        qasync.run(main(application, kt, mt, data))
