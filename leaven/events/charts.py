"""Server-rendered SVG charts for the mobilization dashboard: no script, no inline style
(colours come from classes in leaven.css), readable on a phone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from leaven.events.selectors import SeatSeries

WIDTH = 320
HEIGHT = 120
LEFT = 28
RIGHT = 8
TOP = 10
BOTTOM = 22


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _day(moment: datetime, zone: ZoneInfo) -> str:
    return formats.date_format(timezone.localtime(moment, zone), "SHORT_DATE_FORMAT")


def seats_chart(
    series: SeatSeries, *, start: datetime, end: datetime, time_zone: str, label: str
) -> SafeString:
    """A step line of seats filled from `start` to `end`, with a dashed line at the seats
    the group holds. The figures are also in the table beside it."""
    zone = _zone(time_zone)
    span = max((end - start).total_seconds(), 1.0)
    top = max([series.held, 1, *(n for _at, n in series.points)])
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM

    def x(moment: datetime) -> float:
        seconds = min(max((moment - start).total_seconds(), 0.0), span)
        return round(LEFT + plot_w * seconds / span, 1)

    def y(value: int) -> float:
        return round(TOP + plot_h * (1 - value / top), 1)

    path = [f"M{x(start)},{y(0)}"]
    for at, filled in series.points:
        path.append(f"H{x(at)}")
        path.append(f"V{y(filled)}")
    path.append(f"H{x(end)}")
    last = series.points[-1][1] if series.points else 0
    description = _("%(name)s: %(filled)d of %(held)d seats filled, from %(start)s to %(end)s.") % {
        "name": label,
        "filled": last,
        "held": series.held,
        "start": _day(start, zone),
        "end": _day(end, zone),
    }
    ticks = format_html_join(
        "",
        '<text class="ev-chart-tick" x="{}" y="{}" text-anchor="end">{}</text>',
        [(LEFT - 4, y(v) + 4, v) for v in sorted({0, top})],
    )
    return format_html(
        '<svg class="ev-chart" viewBox="0 0 {w} {h}" role="img" aria-label="{desc}" '
        'preserveAspectRatio="xMidYMid meet"><title>{desc}</title>'
        '<line class="ev-chart-axis" x1="{l}" y1="{bottom}" x2="{right}" y2="{bottom}"/>'
        '<line class="ev-chart-held" x1="{l}" y1="{held_y}" x2="{right}" y2="{held_y}"/>'
        '<path class="ev-chart-line" d="{path}"/>{ticks}'
        '<text class="ev-chart-tick" x="{l}" y="{h_minus}">{first}</text>'
        '<text class="ev-chart-tick" x="{right}" y="{h_minus}" text-anchor="end">{last}</text>'
        "</svg>",
        w=WIDTH,
        h=HEIGHT,
        desc=description,
        l=LEFT,
        right=WIDTH - RIGHT,
        bottom=y(0),
        held_y=y(series.held),
        path=" ".join(path),
        ticks=ticks,
        h_minus=HEIGHT - 6,
        first=_day(start, zone),
        last=_day(end, zone),
    )
