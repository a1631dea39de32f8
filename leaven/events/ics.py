"""iCalendar files: each event in its own time zone (DTSTART with TZID and a VTIMEZONE), so
calendars show the right hour on both sides of a daylight-saving change."""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar
from icalendar import Event as VEvent

from leaven.events.models import Event


def calendar_bytes(events: Iterable[Event], *, name: str, language: str = "en") -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Leaven//Events//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    host = (getattr(settings, "ALLOWED_HOSTS", None) or ["leaven"])[0].lstrip(".") or "leaven"
    for event in events:
        zone = ZoneInfo(event.time_zone)
        item = VEvent()
        item.add("uid", f"event-{event.pk}@{host}")
        item.add("dtstamp", timezone.now())
        item.add("dtstart", event.starts_at.astimezone(zone))
        item.add("dtend", event.ends_at.astimezone(zone))
        item.add("summary", event.title(language))
        description = event.description(language)
        if event.online_url:
            description = f"{description}\n\n{event.online_url}".strip()
            item.add("url", event.online_url)
        if description:
            item.add("description", description)
        if event.address:
            item.add("location", event.address)
        if event.latitude is not None and event.longitude is not None:
            item.add("geo", (event.latitude, event.longitude))
        item.add("status", "CANCELLED" if event.status == Event.Status.CANCELLED else "CONFIRMED")
        calendar.add_component(item)
    calendar.add_missing_timezones()
    data: bytes = calendar.to_ical()
    return data
