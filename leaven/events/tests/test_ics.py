"""Calendar files parse with the icalendar package and keep the right hour across DST."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar

from leaven.events.ics import calendar_bytes


def test_seven_pm_chicago_the_week_after_dst_ends_is_one_am_utc(make_event):
    """DST ends on 1 November 2026; 7pm on 8 November in Chicago is 01:00Z on the 9th."""
    chicago = ZoneInfo("America/Chicago")
    starts = datetime(2026, 11, 8, 19, 0, tzinfo=chicago)
    event = make_event(starts_at=starts, time_zone="America/Chicago")
    calendar = Calendar.from_ical(calendar_bytes([event], name="Test"))
    (vevent,) = calendar.walk("VEVENT")
    start = vevent.decoded("dtstart")
    assert start.astimezone(UTC) == datetime(2026, 11, 9, 1, 0, tzinfo=UTC)
    assert vevent["dtstart"].params["TZID"] == "America/Chicago"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["America/Chicago"]


def test_summer_event_is_five_hours_off_utc(make_event):
    starts = datetime(2026, 10, 25, 19, 0, tzinfo=ZoneInfo("America/Chicago"))
    event = make_event(starts_at=starts)
    (vevent,) = Calendar.from_ical(calendar_bytes([event], name="T")).walk("VEVENT")
    assert vevent.decoded("dtstart").astimezone(UTC) == datetime(2026, 10, 26, 0, 0, tzinfo=UTC)


def test_spanish_calendar_uses_spanish_title(make_event):
    event = make_event()
    (vevent,) = Calendar.from_ical(calendar_bytes([event], name="T", language="es")).walk("VEVENT")
    assert str(vevent["summary"]) == "Taller Conozca Sus Derechos"
