"""Charts drawn on the server: figures in, SVG coordinates out, for a template to write as SVG.

No JavaScript and nothing fetched from elsewhere: the page is complete as it arrives, prints,
and reads the same to a screen reader (each chart has a title, a description and a table).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

# The drawing's own units (the viewBox); CSS scales it to the page's width.
WIDTH = 720
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 28
PLOT_WIDTH = WIDTH - LEFT - RIGHT
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
# About this many labelled dates along the bottom, and values up the side.
X_LABELS = 6
Y_STEPS = 4


@dataclass(frozen=True, slots=True)
class Tick:
    """A labelled position on an axis, in drawing units."""

    position: float
    label: str


@dataclass(frozen=True, slots=True)
class Axes:
    """What every chart shares: the frame, the gridlines and the labels of both axes."""

    x_ticks: list[Tick]
    y_ticks: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM
    right: int = WIDTH - RIGHT


@dataclass(frozen=True, slots=True)
class LineChart:
    """One value a day, drawn as a line over a shaded area."""

    axes: Axes
    points: str
    area: str


@dataclass(frozen=True, slots=True)
class Segment:
    """One series' part of one day's bar."""

    series: str
    x: float
    y: float
    width: float
    height: float
    label: str


@dataclass(frozen=True, slots=True)
class BarChart:
    """Several values a day, stacked into one bar per day."""

    axes: Axes
    segments: list[Segment]


def nice_maximum(value: int) -> int:
    """The smallest round step × Y_STEPS at or above ``value`` (at least Y_STEPS).

    Steps are 1, 2, 5, 10, 20, 25, 50, 100, 200, 250…: whole numbers, so every label is exact.
    """
    if value <= Y_STEPS:
        return Y_STEPS
    step = value / Y_STEPS
    magnitude = 10 ** math.floor(math.log10(step))
    for factor in (1, 2, 2.5, 5, 10) if magnitude >= 10 else (1, 2, 5, 10):
        if factor * magnitude >= step:
            return int(factor * magnitude * Y_STEPS)
    raise AssertionError("unreachable")  # pragma: no cover


def day_label(day: date) -> str:
    return f"{day.month}/{day.day}"


def _x(index: int, count: int) -> float:
    """The centre of day ``index`` of ``count``."""
    return LEFT + (index + 0.5) * PLOT_WIDTH / count


def _y(value: float, maximum: int) -> float:
    return TOP + PLOT_HEIGHT * (1 - value / maximum)


def _axes(days: Sequence[date], maximum: int) -> Axes:
    every = max(1, math.ceil(len(days) / X_LABELS))
    # Label from the newest day backwards, so today always has its date.
    x_ticks = [
        Tick(round(_x(i, len(days)), 1), day_label(days[i]))
        for i in range(len(days) - 1, -1, -every)
    ]
    y_ticks = [
        Tick(round(_y(maximum * n / Y_STEPS, maximum), 1), str(maximum * n // Y_STEPS))
        for n in range(Y_STEPS + 1)
    ]
    return Axes(x_ticks=x_ticks[::-1], y_ticks=y_ticks)


def line_chart(series: Sequence[tuple[date, int]]) -> LineChart:
    """``series``: (day, value), oldest first; at least one day."""
    days = [day for day, _ in series]
    maximum = nice_maximum(max(value for _, value in series))
    coords = [
        (round(_x(i, len(series)), 1), round(_y(value, maximum), 1))
        for i, (_, value) in enumerate(series)
    ]
    points = " ".join(f"{x},{y}" for x, y in coords)
    base = HEIGHT - BOTTOM
    area = f"M{coords[0][0]},{base} L" + " L".join(f"{x},{y}" for x, y in coords)
    area += f" L{coords[-1][0]},{base} Z"
    return LineChart(axes=_axes(days, maximum), points=points, area=area)


def bar_chart(days: Sequence[date], series: Sequence[tuple[str, str, Sequence[int]]]) -> BarChart:
    """``series``: (key, label, one value per day), stacked from the bottom in this order."""
    totals = [sum(values[i] for _, _, values in series) for i in range(len(days))]
    maximum = nice_maximum(max(totals, default=0))
    slot = PLOT_WIDTH / len(days)
    width = round(max(1.0, slot * 0.7), 2)
    segments: list[Segment] = []
    for i, day in enumerate(days):
        below = 0
        for key, label, values in series:
            if not values[i]:
                continue
            top = _y(below + values[i], maximum)
            segments.append(
                Segment(
                    series=key,
                    x=round(_x(i, len(days)) - width / 2, 2),
                    y=round(top, 2),
                    width=width,
                    height=round(_y(below, maximum) - top, 2),
                    label=f"{day_label(day)} {label}: {values[i]}",
                )
            )
            below += values[i]
    return BarChart(axes=_axes(days, maximum), segments=segments)
