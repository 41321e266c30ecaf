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
    assert screen.list_choice.itemText(0) == "All contacts (300)"
    # Each list with its size, so the choice is made knowing it.
    screen.list_choice.setCurrentIndex(screen.list_choice.findText("Klaviyo: List 2 (50)"))
    assert screen.list_choice.currentIndex() > 0
    qtbot.waitUntil(lambda: screen.recipients.total == 50, timeout=5000)
    screen.editor.setPlainText("Hello {first name}! 20% off today € only")
    assert "2 segments" not in screen.counter.text() and "GSM-7" in screen.counter.text()
    screen.editor.setPlainText("Sale ✓ " * 12)
    assert "2 segments (UCS-2)" in screen.counter.text()
    assert not screen.send.isEnabled()


def test_fields_insert_at_the_cursor_and_the_preview_steps_through_recipients(
    qtbot: QtBot, ctx: AppContext
) -> None:
    fill_contacts(ctx.db, 120)
    screen = NewMessageScreen(ctx)
    qtbot.addWidget(screen)
    screen.reload_lists()
    qtbot.waitUntil(lambda: hasattr(screen, "recipients"), timeout=5000)
    screen.editor.setPlainText("Hi ")
    screen.editor.moveCursor(screen.editor.textCursor().MoveOperation.End)
    first = next(a for a in screen.composer.menu.actions() if "{first_name}" in a.text())
    first.trigger()
    assert screen.editor.toPlainText() == "Hi {first_name}"
    qtbot.waitUntil(lambda: len(screen.preview.rows) > 0, timeout=5000)
    preview = screen.preview
    row = preview.rows[0]
    assert preview.position == 0 and not preview.previous.isEnabled()
    shown = preview.text.text()
    assert (row.text or "") in shown if row.skipped is None else "Not sent" in shown
    preview.next.click()
    assert preview.position == 1 and preview.rows[1].name in preview.who.text()
    assert "of 120" in preview.who.text()
    # Past the first page, the next one is read (the audience is never read whole).
    for _ in range(60):
        preview.next.click()
        qtbot.waitUntil(lambda: not screen.previewing or screen.previewing.done(), timeout=5000)
    assert len(preview.rows) > 50 and preview.position > 50
    screen.editor.setPlainText("Sale ✓")
    assert "UCS-2" in screen.counter.text() and "“✓” needs UCS-2" in screen.counter.text()
    assert not screen.send.isEnabled()  # no gateway connected
