"""The sync history chart, rendered offscreen: bars in their measures' colours where the runs
are, failed and cancelled runs banded, a run's numbers on hover, a sentence when there is no
history, and the history screen feeding it the rows of its table."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QColor, QHelpEvent, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QToolTip
from pytestqt.qtbot import QtBot

from engage_desktop.core.runs import RUN_COUNTS
from engage_desktop.storage.runs import RunRecord, RunRepo
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.history.history_chart import (
    CANCELLED_COLOUR,
    EMPTY_TEXT,
    FAILED_COLOUR,
    MEASURES,
    MIN_SLOT,
    HistoryChart,
)
from engage_desktop.ui.history.history_screen import HistoryScreen

T0 = 1_750_000_000.0
COLOURS = {measure.key: measure.colour for measure in MEASURES}


def run(
    run_id: int,
    status: str = "succeeded",
    *,
    created: int = 0,
    updated: int = 0,
    removed: int = 0,
    issues: int = 0,
    seconds: float = 25.0,
    error: str | None = None,
) -> RunRecord:
    counts = dict.fromkeys(RUN_COUNTS, 0) | {
        "created": created,
        "updated": updated,
        "removed": removed,
    }
    started = T0 + run_id * 3600
    return RunRecord(
        run_id, "schedule", False, started, started + seconds, status, counts, issues, None, error
    )


# Durations near the top of their axis keep the line away from the bars' feet, where the
# colours are sampled. Newest first, as the history table holds them.
RUNS = [
    run(4, "cancelled", created=3, updated=2, seconds=27),
    run(3, created=900, updated=40, removed=2, issues=0, seconds=30),
    run(2, "failed", updated=5, issues=4, seconds=24, error="Klaviyo kept failing"),
    run(1, created=120, updated=30, removed=1, issues=7, seconds=28),
]


def rgb(colour: QColor) -> tuple[int, int, int]:
    return colour.red(), colour.green(), colour.blue()


def close_to(actual: QColor, expected: QColor, slack: int = 12) -> bool:
    return all(abs(a - b) <= slack for a, b in zip(rgb(actual), rgb(expected), strict=True))


def foot_of(chart: HistoryChart, image: QImage, run_id: int, key: str) -> QColor:
    """The colour just above the baseline, in the middle of where that bar stands."""
    bar = chart.bar_rect(run_id, key)
    assert bar is not None
    plot = chart.plot_rect()
    return image.pixelColor(int(bar.center().x()), int(plot.bottom() - 3))


def tinted(colour: QColor, towards: QColor) -> bool:
    """Paler than `towards` but leaning its way from white."""
    shift = [255 - c for c in rgb(colour)]
    lean = [255 - c for c in rgb(towards)]
    return max(shift) >= 12 and shift.index(min(shift)) == lean.index(min(lean))


@pytest.fixture
def chart(qtbot: QtBot) -> HistoryChart:
    chart = HistoryChart()
    chart.set_runs(RUNS)
    chart.resize(900, 230)
    qtbot.addWidget(chart)
    chart.show()
    qtbot.waitExposed(chart)
    return chart


def test_runs_are_shown_oldest_first_each_bar_in_its_colour(chart: HistoryChart) -> None:
    assert [r.id for r in chart.shown_runs] == [1, 2, 3, 4]
    image = chart.grab().toImage()
    for record in RUNS:
        for measure in MEASURES:
            colour = foot_of(chart, image, record.id, measure.key)
            drawn = close_to(colour, measure.colour)
            assert drawn == (measure.of(record) > 0), (record.id, measure.key, colour.name())
    # taller bar, larger count: run 3 created 900, run 1 created 120
    tall, short = chart.bar_rect(3, "created"), chart.bar_rect(1, "created")
    assert tall is not None and short is not None and tall.height() > short.height() > 0


def test_failed_and_cancelled_runs_are_banded_each_their_own_way(chart: HistoryChart) -> None:
    image = chart.grab().toImage()

    def band_at(run_id: int) -> QColor:
        slot = chart.slot_rect(run_id)
        assert slot is not None
        return image.pixelColor(int(slot.left() + 3), int(slot.center().y()))  # under the line

    assert close_to(band_at(1), QColor("white"), 2) and close_to(band_at(3), QColor("white"), 2)
    assert tinted(band_at(2), FAILED_COLOUR)
    slot = chart.slot_rect(4)
    assert slot is not None
    top_edge = image.pixelColor(int(slot.center().x()), int(slot.top() + 1))
    assert close_to(top_edge, CANCELLED_COLOUR, 20)
    assert not close_to(band_at(4), band_at(2), 6), "failed and cancelled look the same"


def test_hovering_a_run_tells_its_numbers(qtbot: QtBot, chart: HistoryChart) -> None:
    slot = chart.slot_rect(2)
    assert slot is not None
    pos = slot.center().toPoint()
    help_event = QHelpEvent(QEvent.Type.ToolTip, pos, chart.mapToGlobal(pos))
    QApplication.sendEvent(chart, help_event)
    qtbot.waitUntil(QToolTip.isVisible, timeout=2000)
    text = QToolTip.text()
    assert "Run #2: failed" in text
    assert "Created 0, Updated 5, Removed 0" in text and "Issues: 4" in text
    assert "Duration: 24.0 s" in text and "Klaviyo kept failing" in text
    QToolTip.hideText()


def test_a_click_on_a_run_asks_for_it(qtbot: QtBot, chart: HistoryChart) -> None:
    slot = chart.slot_rect(3)
    assert slot is not None
    with qtbot.waitSignal(chart.run_clicked, timeout=1000) as clicked:
        QTest.mouseClick(chart, Qt.MouseButton.LeftButton, pos=slot.center().toPoint())
    assert clicked.args == [3]
    assert chart.run_at(QPointF(2, 2)) is None  # the legend's corner is no run


def test_an_empty_history_says_so_instead_of_drawing_empty_axes(
    qtbot: QtBot, chart: HistoryChart
) -> None:
    chart.set_runs([])
    image = chart.grab().toImage()
    plot = chart.plot_rect()
    # No axis: the plot's left edge is blank from top to bottom...
    column = [
        image.pixelColor(int(plot.left()), y) for y in range(int(plot.top()), int(plot.bottom()))
    ]
    assert all(close_to(c, QColor("white"), 2) for c in column)
    # ...and the sentence is written across the middle.
    middle = int(chart.height() / 2)
    ink = [
        image.pixelColor(x, y) for x in range(chart.width()) for y in range(middle - 8, middle + 8)
    ]
    assert sum(c.lightness() < 160 for c in ink) > 50
    assert EMPTY_TEXT.startswith("No syncs yet")


def test_only_the_newest_runs_that_fit_are_drawn(qtbot: QtBot, chart: HistoryChart) -> None:
    many = [run(i) for i in range(80, 0, -1)]
    chart.set_runs(many)
    chart.resize(600, 220)
    shown = chart.shown_runs
    assert 5 < len(shown) < 80
    assert [r.id for r in shown] == list(range(81 - len(shown), 81))
    first = chart.slot_rect(shown[0].id)
    assert first is not None and first.width() >= MIN_SLOT


@pytest.mark.parametrize("size", [(1200 - 230, 760 - 40), (900 - 230, 600 - 40)])
def test_the_history_screen_feeds_its_rows_to_the_chart(
    qtbot: QtBot, ctx: AppContext, size: tuple[int, int]
) -> None:
    """At the screen's share of a 1200x760 and a 900x600 window (less the navigation)."""
    repo = RunRepo(ctx.db)
    for i in range(12):
        run_id = repo.start("schedule", i == 0, T0 + i * 3600)
        status = "failed" if i == 7 else "succeeded"
        repo.finish(run_id, status, {"created": 10 * i, "updated": i}, T0 + i * 3600 + 20)
    screen = HistoryScreen(ctx)
    screen.resize(*size)
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitExposed(screen)
    screen.reload()
    assert [r.id for r in screen.chart.shown_runs] == list(range(1, 13))
    assert 170 <= screen.chart.height() <= 260 and screen.runs_view.height() >= 90
    assert screen.chart.plot_rect().height() >= 90
    slot = screen.chart.slot_rect(8)
    assert slot is not None
    QTest.mouseClick(screen.chart, Qt.MouseButton.LeftButton, pos=slot.center().toPoint())
    assert screen.current_run() == 8
    qtbot.waitUntil(lambda: "Run #8: failed" in screen.detail.text(), timeout=3000)
