"""Sending the confirmations and reminders that RSVPs leave as pending rows: each due row
becomes one outbox message in the person's language, by email or else by text message."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from leaven.core.audit import audit_record
from leaven.events import tokens
from leaven.events.models import RSVP, Event, EventMessage
from leaven.messaging import conf as messaging_conf
from leaven.messaging.services import outbox_enqueue

BATCH = 500


def base_url() -> str:
    """The site's public address, the same one messaging puts in unsubscribe links."""
    return str(messaging_conf.get("LEAVEN_PUBLIC_URL")).rstrip("/")


def _language(code: str) -> str:
    return "es" if code.startswith("es") else "en"


def _starts(rsvp: RSVP) -> datetime:
    return rsvp.shift.starts_at if rsvp.shift_id and rsvp.shift else rsvp.event.starts_at


def _when(event: Event, moment: datetime) -> str:
    try:
        zone = ZoneInfo(event.time_zone)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    local = timezone.localtime(moment, zone)
    return f"{formats.date_format(local, 'DATE_FORMAT')}, {formats.time_format(local, 'H:i')}"


def message_render(row: EventMessage) -> tuple[str, str]:
    """(subject, body) of a pending row in its language."""
    rsvp = row.rsvp
    event = row.event
    language = _language(row.language)
    with translation.override(language):
        title = event.title(language)
        subjects: dict[str, str] = {
            EventMessage.Kind.CONFIRMATION: _("You have a place: %(title)s"),
            EventMessage.Kind.WAITLIST: _("You are on the waitlist: %(title)s"),
            EventMessage.Kind.PROMOTED: _("A place opened up for you: %(title)s"),
            EventMessage.Kind.REMINDER: _("Reminder: %(title)s"),
            EventMessage.Kind.CANCELLED: _("Your place is cancelled: %(title)s"),
            EventMessage.Kind.UPDATED: _("New time: %(title)s"),
            EventMessage.Kind.CALLED_OFF: _("Cancelled: %(title)s"),
        }
        openings: dict[str, str] = {
            EventMessage.Kind.CONFIRMATION: _("Your place is confirmed."),
            EventMessage.Kind.WAITLIST: _(
                "The event is full, so you are on the waitlist. We will write to you if a "
                "place opens up."
            ),
            EventMessage.Kind.PROMOTED: _("A place opened up and it is yours."),
            EventMessage.Kind.REMINDER: _("This is a reminder: we are expecting you."),
            EventMessage.Kind.CANCELLED: _(
                "Your place is cancelled. Thank you for letting us know."
            ),
            EventMessage.Kind.UPDATED: _(
                "The time has changed. Here is the new time; your place is kept."
            ),
            EventMessage.Kind.CALLED_OFF: _(
                "We are sorry: this event is cancelled and will not take place. You do not "
                "need to do anything."
            ),
        }
        if row.kind == EventMessage.Kind.UPDATED and rsvp.status == RSVP.Status.WAITLIST:
            openings[row.kind] = _(
                "The time has changed. Here is the new time; you are still on the waitlist."
            )
        subject = subjects.get(row.kind, _("About %(title)s")) % {"title": title}
        lines = [
            _("Hello {first_name},"),
            openings.get(row.kind, ""),
            "",
            title,
            _("When: %(when)s (%(zone)s)")
            % {"when": _when(event, _starts(rsvp)), "zone": event.time_zone},
        ]
        place = event.address or event.online_url
        if place:
            lines.append(_("Where: %(place)s") % {"place": place})
        if row.kind not in (EventMessage.Kind.CANCELLED, EventMessage.Kind.CALLED_OFF):
            link = base_url() + reverse(
                "events:rsvp_cancel", args=[tokens.make(tokens.CANCEL, rsvp.pk)]
            )
            lines += ["", _("If you cannot come, cancel here: %(link)s") % {"link": link}]
    return subject, "\n".join(lines).strip() + "\n"


def _withdrawn(row: EventMessage) -> bool:
    """A reminder or confirmation that no longer fits: the event or the place is cancelled."""
    if row.kind == EventMessage.Kind.CANCELLED:
        return False
    if row.kind == EventMessage.Kind.CALLED_OFF:
        # Only while the event stays cancelled; one put back on is not called off.
        return row.event.status != Event.Status.CANCELLED
    return row.event.status == Event.Status.CANCELLED or row.rsvp.status == RSVP.Status.CANCELLED


def message_send(*, row_id: int, now: datetime | None = None) -> str:
    """Hand one due pending row to messaging, in one transaction with its new state. Returns
    the row's state afterwards; a row already handled is left as it is."""
    now = now or timezone.now()
    with transaction.atomic():
        row = (
            EventMessage.objects.select_for_update()
            .filter(pk=row_id, state=EventMessage.State.PENDING, due_at__lte=now)
            .first()
        )
        if row is None:
            current = EventMessage.objects.filter(pk=row_id).values_list("state", flat=True)
            return str(current.first() or "")
        row = EventMessage.objects.select_related(
            "event__owner_unit", "rsvp__shift", "rsvp__event", "person__owner_unit"
        ).get(pk=row.pk)
        if _withdrawn(row):
            EventMessage.objects.filter(pk=row.pk).update(state=EventMessage.State.WITHDRAWN)
            return EventMessage.State.WITHDRAWN
        subject, body = message_render(row)
        queued: Any = None
        channel = ""
        for channel in ("email", "sms"):
            queued = outbox_enqueue(
                actor=None,
                person=row.person,
                channel=channel,
                subject=subject,
                body=body,
                idempotency_key=f"event-message:{row.pk}",
                transactional=True,
                owner_unit=row.event.owner_unit,
            )
            if queued is not None:
                break
        state = EventMessage.State.SENT if queued is not None else EventMessage.State.NO_CHANNEL
        EventMessage.objects.filter(pk=row.pk).update(state=state)
        audit_record(
            actor=None,
            verb="event_message.sent" if queued is not None else "event_message.no_channel",
            obj=row,
            unit=row.event.owner_unit,
            detail={
                "event": row.event_id,
                "rsvp": row.rsvp_id,
                "kind": row.kind,
                "outbox": queued.pk if queued is not None else None,
                "channel": channel if queued is not None else "",
            },
        )
        return state


def events_messages_send_due(*, now: datetime | None = None) -> dict[str, int]:
    """Send every pending row whose time has come (run it every minute). Safe to run twice
    and side by side: a row is handed over once, and its outbox key is unique."""
    now = now or timezone.now()
    ids = list(
        EventMessage.objects.filter(state=EventMessage.State.PENDING, due_at__lte=now)
        .order_by("due_at", "id")
        .values_list("pk", flat=True)[:BATCH]
    )
    counts: dict[str, int] = {}
    for pk in ids:
        state = message_send(row_id=pk, now=now)
        counts[state] = counts.get(state, 0) + 1
    return counts
