"""A picture of the sync history above its table: one group of bars per run (contacts created,
updated, removed and the run's issues), its duration as a line, failed and cancelled runs
banded. Drawn with QPainter: PySide6-Essentials has no QtCharts.

Counts use a log scale: a first full sync creates thousands of contacts and the incremental
runs after it a handful; on a linear scale every later run would be a flat line. The data is
the history screen's own run records; the chart never reads the database.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFontMetrics,
    QHelpEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from engage_desktop.core.words import plural
from engage_desktop.storage.runs import RunRecord


@dataclass(frozen=True)
class Measure:
    """One bar of a run's group: its legend label, its colour, how it is read off a run."""

    key: str  # a run count, or "issues"
    label: str
    colour: QColor

    def of(self, run: RunRecord) -> int:
        return run.issues if self.key == "issues" else run.counts.get(self.key, 0)


MEASURES = (
    Measure("created", "Created", QColor("#22a35a")),
    Measure("updated", "Updated", QColor("#2563eb")),
    Measure("removed", "Removed", QColor("#f97316")),
    Measure("issues", "Issues", QColor("#8b5cf6")),
)
DURATION_COLOUR = QColor("#1f2933")
FAILED_COLOUR = QColor("#b00020")  # the table's status colours, so both say the same
CANCELLED_COLOUR = QColor("#8a6d00")
BANDS = {"failed": FAILED_COLOUR, "interrupted": FAILED_COLOUR, "cancelled": CANCELLED_COLOUR}
GRID = QColor("#eef0f3")
AXIS = QColor("#9aa5b1")
MUTED = QColor("#52606d")
HOVER = QColor("#eef4ff")
EMPTY_TEXT = "No syncs yet. Each run will appear here: what it changed and how long it took."
MIN_SLOT = 34  # px per run: four bars stay wider than a line
PAD = 10


def describe(run: RunRecord) -> str:
    """The tooltip of a run: everything the chart draws of it, in numbers."""
    started = datetime.fromtimestamp(run.started_at).strftime("%Y-%m-%d %H:%M:%S")
    duration = "still running" if run.ended_at is None else _seconds(run.ended_at - run.started_at)
    kind = "full" if run.full else "incremental"
    lines = [
        f"Run #{run.id}: {run.status}",
        f"{started}, {run.trigger}, {kind}",
        f"Duration: {duration}",
    ]
    if run.ended_at is None:  # a running run's counts are written when it ends
        lines.append("Counts and issues: when it ends")
    else:
        lines.append(", ".join(f"{m.label} {m.of(run):,}" for m in MEASURES[:3]))
        lines.append(f"Issues: {run.issues:,}")
    if run.error:
        lines.append(f"Error: {run.error}")
    return "\n".join(lines)


def _seconds(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _count_label(value: int) -> str:
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if value >= size:
            return f"{value // size}{suffix}"
    return str(value)


def _duration_ticks(longest: float) -> tuple[float, list[tuple[float, str]]]:
    """A round top for the duration axis and its (seconds, label) ticks, in s or min."""
    unit, name = (60.0, "min") if longest >= 120 else (1.0, "s")
    raw = max(longest / unit, 1.0) / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(s * magnitude for s in (1, 2, 5, 10) if s * magnitude >= raw)
    top = step * math.ceil(max(longest / unit, 1.0) / step)
    ticks = [(i * step * unit, f"{i * step:g} {name}") for i in range(round(top / step) + 1)]
    return top * unit, ticks


class HistoryChart(QWidget):
    """Draws recent runs over time, oldest on the left; says a run's numbers on hover."""

    run_clicked = Signal(int)  # run id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runs: list[RunRecord] = []  # oldest first
        self._current: int | None = None
        self._hovered: int | None = None
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setAccessibleName("Sync history chart")

    # ----- data -------------------------------------------------------------------------------
    def set_runs(self, runs: Sequence[RunRecord]) -> None:
        """The runs as the table holds them (newest first)."""
        self._runs = sorted(runs, key=lambda run: (run.started_at, run.id))
        self._hovered = None
        self.update()

    def set_current(self, run_id: int | None) -> None:
        self._current = run_id
        self.update()

    @property
    def shown_runs(self) -> list[RunRecord]:
        """The newest runs that fit the width, oldest first."""
        fit = max(1, int(self.plot_rect().width() // MIN_SLOT))
        return self._runs[-fit:]

    # ----- geometry (also what tests and hovering ask) -------------------------------------------
    def _legend_height(self) -> int:
        return QFontMetrics(self.font()).height() + 8

    def plot_rect(self) -> QRectF:
        """The area inside the axes."""
        fm = QFontMetrics(self.font())
        left = PAD + fm.height() + fm.horizontalAdvance("100k") + 8
        right = PAD + fm.height() + fm.horizontalAdvance("50 min") + 8
        top = PAD + self._legend_height() + fm.height() // 2
        bottom = PAD + fm.height() + 6
        return QRectF(self.rect()).adjusted(left, top, -right, -bottom)

    def slot_rect(self, run_id: int) -> QRectF | None:
        """The column of a shown run (its band and bars), None when it is not shown."""
        runs = self.shown_runs
        index = next((i for i, run in enumerate(runs) if run.id == run_id), None)
        if index is None:
            return None
        plot = self.plot_rect()
        width = plot.width() / len(runs)
        return QRectF(plot.left() + index * width, plot.top(), width, plot.height())

    def bar_rect(self, run_id: int, key: str) -> QRectF | None:
        """Where one measure of a run is drawn (empty height for a zero)."""
        slot = self.slot_rect(run_id)
        run = next((r for r in self._runs if r.id == run_id), None)
        if slot is None or run is None:
            return None
        index = next(i for i, m in enumerate(MEASURES) if m.key == key)
        group = min(slot.width() * 0.72, 18.0 * len(MEASURES))
        bar = group / len(MEASURES)
        x = slot.center().x() - group / 2 + index * bar
        height = slot.height() * self._count_fraction(MEASURES[index].of(run))
        return QRectF(x + 0.5, slot.bottom() - height, bar - 1.0, height)

    def run_at(self, pos: QPointF) -> RunRecord | None:
        for run in self.shown_runs:
            slot = self.slot_rect(run.id)
            if slot is not None and slot.adjusted(0, -PAD, 0, PAD).contains(pos):
                return run
        return None

    def _count_top(self) -> int:
        """A power of ten at or above the largest count shown."""
        largest = max((m.of(r) for r in self.shown_runs for m in MEASURES), default=0)
        return int(10 ** max(1, math.ceil(math.log10(max(largest, 1)))))

    def _count_fraction(self, value: int) -> float:
        return math.log10(1 + max(value, 0)) / math.log10(1 + self._count_top())

    # ----- Qt -----------------------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        return QSize(640, 220)

    def minimumSizeHint(self) -> QSize:
        return QSize(320, 170)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            run = self.run_at(QPointF(event.pos()))
            if run is None:
                QToolTip.hideText()
                event.ignore()
            else:
                slot = self.slot_rect(run.id) or QRectF()
                QToolTip.showText(event.globalPos(), describe(run), self, slot.toRect())
            return True
        return super().event(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        run = self.run_at(event.position())
        hovered = None if run is None else run.id
        if hovered != self._hovered:
            self._hovered = hovered
            shape = Qt.CursorShape.PointingHandCursor if run else Qt.CursorShape.ArrowCursor
            self.setCursor(shape)
            self.update()

    def leaveEvent(self, event: QEvent) -> None:
        self._hovered = None
        self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        run = self.run_at(event.position())
        if run is not None and event.button() == Qt.MouseButton.LeftButton:
            self.run_clicked.emit(run.id)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        frame = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.setPen(QPen(QColor("#d9dee5")))
        painter.setBrush(QColor("white"))
        painter.drawRoundedRect(frame, 6, 6)
        if not self._runs:
            painter.setPen(MUTED)
            flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
            painter.drawText(frame.adjusted(PAD * 2, PAD, -PAD * 2, -PAD), flags, EMPTY_TEXT)
            return
        runs = self.shown_runs
        self._draw_legend(painter, len(runs))
        self._draw_axes(painter)
        for run in runs:
            self._draw_run(painter, run)
        self._draw_durations(painter, runs)
        self._draw_times(painter, runs)

    # ----- painting -----------------------------------------------------------------------------
    def _draw_legend(self, painter: QPainter, shown: int) -> None:
        fm = QFontMetrics(self.font())
        y, box = PAD + fm.ascent(), fm.ascent() - 2
        items: list[tuple[str, QColor, str]] = [(m.label, m.colour, "bar") for m in MEASURES]
        items += [("Duration", DURATION_COLOUR, "line"), ("Failed", FAILED_COLOUR, "band")]
        items.append(("Cancelled", CANCELLED_COLOUR, "band"))
        width = sum(box + 6 + fm.horizontalAdvance(label) + 14 for label, _, _ in items)
        x = max(float(PAD + 4), self.width() - PAD - 4 - width)
        title = f"Last {plural(shown, 'run')}, oldest to newest"
        if PAD + 4 + fm.horizontalAdvance(title) + 16 < x:  # the legend matters more
            painter.setPen(MUTED)
            painter.drawText(QPointF(PAD + 4, y), title)
        for label, colour, kind in items:
            swatch = QRectF(x, y - box, box, box)
            if kind == "line":
                painter.setPen(QPen(colour, 2))
                mid = swatch.center().y()
                painter.drawLine(QPointF(swatch.left(), mid), QPointF(swatch.right(), mid))
                painter.setBrush(QColor("white"))
                painter.drawEllipse(swatch.center(), 2.5, 2.5)
            elif kind == "band":
                self._fill_band(painter, swatch, colour)
            else:
                painter.fillRect(swatch, colour)
            painter.setPen(MUTED)
            painter.drawText(QPointF(swatch.right() + 6, y), label)
            x = swatch.right() + 6 + fm.horizontalAdvance(label) + 14

    def _draw_axes(self, painter: QPainter) -> None:
        plot, fm = self.plot_rect(), QFontMetrics(self.font())
        top = self._count_top()
        values = [0] + [10**p for p in range(int(math.log10(top)) + 1)]
        every = 2 if plot.height() / len(values) < fm.height() else 1
        for i, value in enumerate(values):
            y = plot.bottom() - plot.height() * self._count_fraction(value)
            painter.setPen(QPen(GRID, 1))
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            if i % every == 0 or value == top:
                label = QRectF(plot.left() - 60, y - fm.height() / 2, 54, fm.height())
                painter.setPen(MUTED)
                painter.drawText(label, Qt.AlignmentFlag.AlignRight, _count_label(value))
        longest = max((r.ended_at - r.started_at for r in self.shown_runs if r.ended_at), default=0)
        seconds_top, ticks = _duration_ticks(longest)
        for seconds, text in ticks:
            y = plot.bottom() - plot.height() * seconds / seconds_top
            label = QRectF(plot.right() + 6, y - fm.height() / 2, 80, fm.height())
            painter.drawText(label, Qt.AlignmentFlag.AlignLeft, text)
        painter.setPen(QPen(AXIS, 1))
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())
        painter.drawLine(plot.topLeft(), plot.bottomLeft())
        painter.drawLine(plot.topRight(), plot.bottomRight())
        self._draw_axis_title(painter, "Contacts (log scale)", PAD, plot, -90)
        self._draw_axis_title(painter, "Duration", self.width() - PAD, plot, 90)

    def _draw_axis_title(
        self, painter: QPainter, title: str, x: float, plot: QRectF, angle: float
    ) -> None:
        fm = QFontMetrics(self.font())
        painter.save()
        painter.translate(x, plot.center().y())
        painter.rotate(angle)
        painter.setPen(MUTED)
        half = plot.height() / 2
        area = QRectF(-half, 0, plot.height(), fm.height())
        painter.drawText(
            area,
            Qt.AlignmentFlag.AlignCenter,
            fm.elidedText(title, Qt.TextElideMode.ElideRight, int(plot.height())),
        )
        painter.restore()

    def _draw_run(self, painter: QPainter, run: RunRecord) -> None:
        slot = self.slot_rect(run.id)
        if slot is None:
            return
        if run.status in BANDS:
            self._fill_band(painter, slot, BANDS[run.status])
        elif run.id == self._hovered:
            painter.fillRect(slot, HOVER)
        for measure in MEASURES:
            bar = self.bar_rect(run.id, measure.key)
            if bar is not None and bar.height() > 0:
                painter.fillRect(bar, measure.colour)
        if run.id in (self._current, self._hovered):
            painter.setPen(QPen(QColor("#2563eb"), 2 if run.id == self._current else 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(slot.adjusted(1, 1, -1, -1))

    @staticmethod
    def _fill_band(painter: QPainter, rect: QRectF, colour: QColor) -> None:
        """A pale tint with a strong top edge: reads as "this run did not finish well"."""
        tint = QColor(colour)
        tint.setAlpha(40)
        painter.fillRect(rect, tint)
        painter.fillRect(QRectF(rect.left(), rect.top(), rect.width(), 3), colour)
        if colour == CANCELLED_COLOUR:  # hatched too: told apart without colour vision
            hatch = QColor(colour)
            hatch.setAlpha(70)
            painter.fillRect(rect, QBrush(hatch, Qt.BrushStyle.BDiagPattern))

    def _draw_durations(self, painter: QPainter, runs: list[RunRecord]) -> None:
        plot = self.plot_rect()
        longest = max((r.ended_at - r.started_at for r in runs if r.ended_at), default=0)
        seconds_top, _ = _duration_ticks(longest)
        path, points, pen_down = QPainterPath(), list[QPointF](), False
        for run in runs:
            slot = self.slot_rect(run.id)
            if slot is None or run.ended_at is None:
                pen_down = False  # a running run has no duration yet: a gap
                continue
            y = plot.bottom() - plot.height() * (run.ended_at - run.started_at) / seconds_top
            point = QPointF(slot.center().x(), y)
            if pen_down:
                path.lineTo(point)
            else:
                path.moveTo(point)
            points.append(point)
            pen_down = True
        painter.setPen(QPen(DURATION_COLOUR, 1.6))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
        painter.setBrush(QColor("white"))
        for point in points:
            painter.drawEllipse(point, 3, 3)

    def _draw_times(self, painter: QPainter, runs: list[RunRecord]) -> None:
        plot, fm = self.plot_rect(), QFontMetrics(self.font())
        moments = [datetime.fromtimestamp(r.started_at) for r in runs]
        pattern = "%H:%M" if moments[0].date() == moments[-1].date() else "%d %b %H:%M"
        labels = [moment.strftime(pattern) for moment in moments]
        slot = plot.width() / len(runs)
        every = max(1, math.ceil((max(map(fm.horizontalAdvance, labels)) + 10) / slot))
        painter.setPen(MUTED)
        for i in range(len(runs) - 1, -1, -every):  # the newest run always has its label
            centre = plot.left() + (i + 0.5) * slot
            area = QRectF(centre - 60, plot.bottom() + 4, 120, fm.height())
            painter.drawText(area, Qt.AlignmentFlag.AlignHCenter, labels[i])
