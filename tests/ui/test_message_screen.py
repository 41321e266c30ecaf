"""New Message: the audience by reason, per list, and the segment counter."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from engage_desktop.ui.context import AppContext
from engage_desktop.ui.message_screen import NewMessageScreen
from tests.ui.bulk import fill_contacts


def test_audience_and_counter(qtbot: QtBot, ctx: AppContext) -> None:
    fill_contacts(ctx.db, 300)
    ctx.db.execute_sql("UPDATE contacts SET phone = NULL WHERE id IN (2, 3)")
    screen = NewMessageScreen(ctx)
    qtbot.addWidget(screen)
    screen.reload_lists()
    qtbot.waitUntil(lambda: hasattr(screen, "recipients"), timeout=5000)
    r = screen.recipients
    # ids ending in 0 are opted out, in 1 never subscribed, the rest subscribed (bulk.py)
    assert (r.opted_out, r.never_subscribed, r.no_valid_phone) == (30, 30, 2)
    assert r.eligible == 300 - 30 - 30 - 2
    assert "<b>238</b> of 300" in screen.audience.text()
    assert "30 opted out" in screen.audience.text()
    screen.list_choice.setCurrentIndex(screen.list_choice.findText("Klaviyo: List 2"))
    qtbot.waitUntil(lambda: screen.recipients.total == 50, timeout=5000)
    screen.editor.setPlainText("Hello {first name}! 20% off today € only")
    assert "2 segments" not in screen.counter.text() and "GSM-7" in screen.counter.text()
    screen.editor.setPlainText("Sale ✓ " * 12)
    assert "2 segments (UCS-2)" in screen.counter.text()
    assert not screen.send.isEnabled()
