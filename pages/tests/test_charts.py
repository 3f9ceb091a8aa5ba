"""The SVG geometry of the staff charts: scales, stacking, labels."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pages import charts

DAYS = [date(2026, 11, 1) + timedelta(days=n) for n in range(30)]


@pytest.mark.parametrize(
    ("value", "maximum"),
    [(0, 4), (3, 4), (5, 8), (9, 20), (41, 80), (90, 100), (1000, 1000), (1001, 2000)],
)
def test_scale_ends_at_a_round_number(value: int, maximum: int) -> None:
    assert charts.nice_maximum(value) == maximum


def test_line_has_a_point_a_day_and_labels_today() -> None:
    chart = charts.line_chart([(day, n) for n, day in enumerate(DAYS)])
    assert len(chart.points.split()) == 30
    assert chart.axes.x_ticks[-1].label == "11/30"
    assert [tick.label for tick in chart.axes.y_ticks] == ["0", "10", "20", "30", "40"]
    first_y = float(chart.points.split()[0].split(",")[1])
    assert first_y == charts.HEIGHT - charts.BOTTOM  # zero sits on the axis


def test_bars_stack_in_series_order_and_skip_zeros() -> None:
    zeros = [0] * 30
    critical, warning = zeros.copy(), zeros.copy()
    critical[29], warning[29], warning[0] = 2, 2, 1
    chart = charts.bar_chart(DAYS, [("critical", "C", critical), ("warning", "W", warning)])
    assert [(s.series, s.label) for s in chart.segments] == [
        ("warning", "11/1 W: 1"),
        ("critical", "11/30 C: 2"),
        ("warning", "11/30 W: 2"),
    ]
    _, bottom, top = chart.segments
    assert bottom.y + bottom.height == charts.HEIGHT - charts.BOTTOM
    assert top.y + top.height == pytest.approx(bottom.y)
    assert top.y == charts.TOP  # 4 of a scale of 4: the full height
