"""“Send…”: who gets it, who not and why, and what it costs in segments, before a yes."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QMessageBox, QWidget

from engage_desktop.core.words import plural
from engage_desktop.gateway.campaign_plan import SendPlan
from engage_desktop.ui.messages.preview_panel import reason_label
from engage_desktop.ui.widgets.question import ask


def plan_text(plan: SendPlan) -> str:
    """The confirmation's body (rich text)."""
    lines = [
        f"Send to <b>{plural(plan.recipients, 'recipient')}</b> in "
        f"<b>{html.escape(plan.list.name)}</b>?"
    ]
    if plan.skipped:
        parts = "".join(
            f"<li>{n:,} {html.escape(reason_label(why))}</li>"
            for why, n in sorted(plan.skipped.items(), key=lambda kv: -kv[1])
        )
        lines.append(
            f"Not sent to {plural(sum(plan.skipped.values()), 'contact')}:<ul>{parts}</ul>"
        )
    if plan.segments is not None:
        each = (
            f"{plan.segments_min}"
            if plan.segments_min == plan.segments_max
            else f"{plan.segments_min}–{plan.segments_max}"
        )
        lines.append(
            f"Estimated <b>{plural(plan.segments, 'segment')}</b> ({each} per message, "
            f"{plan.encoding})."
        )
    lines.append("Messages cannot be called back once MessageMedia has them.")
    return "<p>" + "</p><p>".join(lines) + "</p>"


def confirm_send(parent: QWidget, plan: SendPlan, on_yes: object) -> QMessageBox:
    """Opens the question (no nested loop); `on_yes` runs on the person's yes only."""
    assert callable(on_yes)
    box = ask(
        parent,
        "Send this message?",
        plan_text(plan),
        f"&Send to {plural(plan.recipients, 'recipient')}",
        on_yes,
    )
    box.setObjectName("send_confirm")
    return box
