"""The seats-over-time chart: a step line of seats filled, a dashed line at the seats
held, words for screen readers, no inline style, names escaped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import translation

from leaven.events.charts import seats_chart
from leaven.events.selectors import SeatSeries

START = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _chart(points, held=4, name="Club <Oaxaca>"):
    series = SeatSeries(name=name, quota=None, held=held, points=points)
    with translation.override("en"):
        return seats_chart(
            series, start=START, end=START + timedelta(days=10), time_zone="America/Chicago",
            label=name,
        )  # fmt: skip


def test_step_line_reaches_the_last_figure():
    svg = _chart([(START, 0), (START + timedelta(days=5), 2), (START + timedelta(days=6), 3)])
    path = svg.split('class="ev-chart-line" d="')[1].split('"')[0]
    # Starts at the bottom left, climbs at day 5 and day 6, ends at the right edge.
    assert path.startswith("M28.0,98.0")
    assert path.endswith("H312.0")
    assert "H170.0 V54.0" in path and "H198.4 V32.0" in path
    assert "3 of 4 seats filled" in svg


def test_escapes_names_and_has_no_inline_style():
    svg = _chart([])
    assert "<Oaxaca>" not in svg and "&lt;Oaxaca&gt;" in svg
    assert "style=" not in svg
    assert 'role="img"' in svg and "<title>" in svg


def test_more_filled_than_held_stays_inside_the_frame():
    """After seats move, a group may hold fewer than it filled: the scale follows the
    larger figure."""
    svg = _chart([(START, 5)], held=2)
    path = svg.split('class="ev-chart-line" d="')[1].split('"')[0]
    assert "V10.0" in path
