"""The app sends a campaign from a child process (`actions/send_worker.py`): the GUI process
only reads its events. Pausing stops the process and resume sends the rest to nobody twice; a
killed process leaves its batches unknown and the rest pending, and the screen says it
stopped."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import httpx
import pytest
from pytestqt.qtbot import QtBot

from engage_desktop.actions.send_child import SendChild
from engage_desktop.actions.send_worker import CONCURRENCY_ENV
from engage_desktop.app import EngageApp
from engage_desktop.emulator.server import EmulatorThread
from engage_desktop.gateway.events import SendFinished
from engage_desktop.storage.campaigns import CampaignRepo
from engage_desktop.ui.main_window import Screen
from tests.ui.test_app import install
from tests.ui.test_gateway_app import (  # noqa: F401 (fixtures)
    connect_gateway,
    engage,
    messages,
    mm,
    mm_emulator,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="signals and /proc")


@pytest.fixture(autouse=True)
def two_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two batches on the wire at once (the child inherits the environment): a send of the
    demo's thousand-odd recipients then takes several rounds, so it can stop half-way."""
    monkeypatch.setenv(CONCURRENCY_ENV, "2")


def start_slow_send(qtbot: QtBot, engage: EngageApp, mm: EmulatorThread) -> SendChild:  # noqa: F811
    """Send to everyone with the gateway slow (1.5 s a request); the child once it reports."""
    slow = {"path": "/v1/messages", "kind": "delay", "count": 200, "delay_s": 1.5}
    httpx.post(f"{mm.url}/_emulator/faults", json=slow).raise_for_status()
    screen = engage.message
    engage.window.show_screen(Screen.NEW_MESSAGE)
    qtbot.waitUntil(lambda: screen.list_choice.count() > 1, timeout=5000)
    screen.editor.setPlainText("In its own process")
    qtbot.waitUntil(screen.send.isEnabled, timeout=5000)
    screen.send.click()
    flow = engage.gateway.send_flow
    qtbot.waitUntil(lambda: flow.question is not None and flow.question.isVisible(), timeout=5000)
    assert flow.question is not None
    yes = next(b for b in flow.question.buttons() if b.text().startswith("&Send to"))
    with qtbot.waitSignal(engage.bridge.send_progress, timeout=15000):
        yes.click()
    children = engage.gateway.worker.children
    assert len(children) == 1
    child = next(iter(children.values()))
    assert child.pid is not None
    return child


def on_the_wire(engage: EngageApp, campaign_id: int) -> int:  # noqa: F811
    row = engage.ctx.db.execute_sql(
        "SELECT count(*) FROM campaign_recipients WHERE campaign_id = ? AND state = 'sending'",
        (campaign_id,),
    ).fetchone()
    return int(row[0])


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def test_the_send_runs_in_a_child_process_and_a_pause_resends_nobody(
    qtbot: QtBot,
    engage: EngageApp,  # noqa: F811
    live: EmulatorThread,
    mm: EmulatorThread,  # noqa: F811
) -> None:
    install(qtbot, engage, live.url)
    connect_gateway(qtbot, engage, mm.url)
    child = start_slow_send(qtbot, engage, mm)
    assert child.pid is not None and child.pid != os.getpid()
    assert "engage_desktop.actions.send_worker" in cmdline(child.pid)
    held = CampaignRepo(engage.ctx.db).get(child.campaign_id)
    assert held is not None and held.sender is not None and held.sender.pid == child.pid
    # Pause (what quitting does) once some went: the process records the batches on the wire
    # and ends.
    went: list[int] = []
    engage.bridge.send_progress.connect(lambda p: went.append(p.submitted))
    qtbot.waitUntil(lambda: bool(went) and went[-1] > 0, timeout=30000)
    with qtbot.waitSignal(engage.bridge.send_finished, timeout=30000) as done:
        engage.gateway.worker.pause(child.campaign_id)
    paused: SendFinished = done.args[0]
    assert paused.status == "paused" and paused.unknown == 0, paused
    qtbot.waitUntil(lambda: not engage.gateway.worker.children, timeout=5000)
    assert not Path(f"/proc/{child.pid}").exists() or "send_worker" not in cmdline(child.pid)
    campaign = CampaignRepo(engage.ctx.db).get(child.campaign_id)
    assert campaign is not None and campaign.sender is None and campaign.counts.pending > 0
    # Resume sends the rest: everyone once.
    first = [m["destination_number"] for m in messages(mm)]
    assert len(first) == paused.submitted > 0
    httpx.post(f"{mm.url}/_emulator/reset").raise_for_status()  # no more delays
    with qtbot.waitSignal(engage.bridge.send_finished, timeout=60000) as done:
        engage.gateway.resume(child.campaign_id)
    rest: SendFinished = done.args[0]
    assert rest.status == "finished"
    sent = messages(mm)
    assert len(sent) == rest.submitted == campaign.counts.pending
    numbers = [m["destination_number"] for m in sent] + first
    assert len(set(numbers)) == len(numbers)
    final = CampaignRepo(engage.ctx.db).get(child.campaign_id)
    assert final is not None and final.counts.submitted == paused.submitted + rest.submitted


def test_a_killed_send_process_leaves_batches_unknown_and_says_it_stopped(
    qtbot: QtBot,
    engage: EngageApp,  # noqa: F811
    live: EmulatorThread,
    mm: EmulatorThread,  # noqa: F811
) -> None:
    install(qtbot, engage, live.url)
    connect_gateway(qtbot, engage, mm.url)
    child = start_slow_send(qtbot, engage, mm)
    assert child.pid is not None
    qtbot.waitUntil(lambda: on_the_wire(engage, child.campaign_id) > 0, timeout=10000)
    with qtbot.waitSignal(engage.bridge.send_finished, timeout=30000) as done:
        os.kill(child.pid, signal.SIGKILL)
    result: SendFinished = done.args[0]
    assert result.status == "paused"
    assert result.error is not None and "stopped unexpectedly" in result.error
    assert result.recovered_unknown > 0  # the batches that were on the wire
    progress = engage.message.progress
    assert "Stopped" in progress.title.text() and not progress.cancel.isVisible()
    campaign = CampaignRepo(engage.ctx.db).get(child.campaign_id)
    assert campaign is not None and campaign.sender is None
    assert campaign.status.value == "paused"
    assert campaign.counts.unknown == result.recovered_unknown and campaign.counts.pending > 0
    assert on_the_wire(engage, child.campaign_id) == 0
