"""Writes for events, RSVPs, check-in and mobilizations. Every function checks the rule,
writes, and leaves an audit event with ids only."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.text import slugify
from django.utils.translation import gettext as _

from leaven.core import access, permissions
from leaven.core.audit import audit_record
from leaven.core.models import OrgUnit
from leaven.events.models import RSVP, Event, EventMessage, Quota, SeatLog, Shift, Vehicle
from leaven.people import services as people_services
from leaven.people.models import (
    STAGE_ORDER,
    Affiliation,
    Email,
    PartnerOrganization,
    Person,
    PersonUnit,
    Phone,
    Stage,
)

MEETING_KINDS = (Event.Kind.MEETING, Event.Kind.HOUSE_MEETING, Event.Kind.TRAINING)


@dataclass
class FormActor:
    """Who acts for a public RSVP form or a leader's signed link: no account, only the
    narrow role it is given on one unit for one request."""

    label: str
    granted_roles: list[tuple[str, str, int]]
    is_authenticated: bool = False
    is_active: bool = True
    pk: None = None

    def __str__(self) -> str:
        return self.label


def public_actor(event: Event) -> FormActor:
    unit = event.owner_unit
    return FormActor(f"public:event:{event.pk}", [("captain", unit.path, unit.pk)])


def leader_actor(quota: Quota) -> FormActor:
    unit = quota.unit or quota.event.owner_unit
    return FormActor(f"leader:quota:{quota.pk}", [("captain", unit.path, unit.pk)])


@dataclass(frozen=True)
class Contact:
    given_name: str
    family_name: str = ""
    email: str = ""
    phone: str = ""
    language: str = "en"
    sms_consent: bool = False
    email_consent: bool = False


def _require(actor: Any, permission: str, unit: OrgUnit) -> None:
    if not access.can(actor, permission, unit):
        raise ValidationError(_("You cannot change this event."))


def _stage_rule() -> dict[str, Any]:
    rule = {"after": 2, "stage": Stage.VOLUNTEER, "kinds": list(MEETING_KINDS)}
    rule.update(getattr(settings, "LEAVEN_EVENTS_STAGE_RULE", {}))
    return rule


def _reminder_hours() -> tuple[int, ...]:
    return tuple(getattr(settings, "LEAVEN_EVENTS_REMINDER_HOURS", (24, 2)))


def leader_link_days() -> int:
    """How many days a leader's link works (at most: it also stops at the event's end)."""
    return int(getattr(settings, "LEAVEN_EVENTS_LEADER_LINK_DAYS", 30))


# Events ---------------------------------------------------------------------------------


def _unique_slug(title: str) -> str:
    base = slugify(title)[:70] or "event"
    return f"{base}-{get_random_string(6, 'abcdefghijkmnpqrstuvwxyz23456789')}"


@transaction.atomic
def event_create(
    *,
    actor: Any,
    owner_unit: OrgUnit,
    title_en: str,
    starts_at: datetime,
    ends_at: datetime,
    title_es: str = "",
    description_en: str = "",
    description_es: str = "",
    kind: str = Event.Kind.MEETING,
    visibility: str = Event.Visibility.PUBLIC,
    time_zone: str = "",
    address: str = "",
    online_url: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
    capacity: int = 0,
    is_mobilization: bool = False,
    release_at: datetime | None = None,
    co_host_units: list[OrgUnit] | None = None,
    partners: list[PartnerOrganization] | None = None,
) -> Event:
    _require(actor, permissions.EVENTS_MANAGE, owner_unit)
    title_en = title_en.strip()
    if not title_en:
        raise ValidationError({"title_en": _("An event needs a title.")})
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": _("The end must come after the start.")})
    time_zone = time_zone or owner_unit.time_zone
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError({"time_zone": _("Unknown time zone.")}) from error
    if kind not in Event.Kind.values or visibility not in Event.Visibility.values:
        raise ValidationError(_("Unknown type or visibility."))
    _check_point(latitude, longitude)
    event = Event.objects.create(
        owner_unit=owner_unit,
        slug=_unique_slug(title_en),
        title_en=title_en,
        title_es=title_es.strip(),
        description_en=description_en.strip(),
        description_es=description_es.strip(),
        kind=kind,
        visibility=visibility,
        time_zone=time_zone,
        starts_at=starts_at,
        ends_at=ends_at,
        address=address.strip(),
        online_url=online_url.strip(),
        latitude=latitude,
        longitude=longitude,
        capacity=capacity,
        is_mobilization=is_mobilization,
        release_at=release_at,
    )
    _set_hosts(actor=actor, event=event, co_host_units=co_host_units, partners=partners)
    audit_record(actor=actor, verb="event.created", obj=event, unit=owner_unit)
    return event


def _set_hosts(
    *,
    actor: Any,
    event: Event,
    co_host_units: list[OrgUnit] | None,
    partners: list[PartnerOrganization] | None,
) -> bool:
    """Set the co-hosting units and partners. A unit newly added must be one the actor may
    manage events of; a partner newly added one the actor may see. Those already there stay
    allowed. Returns whether anything changed."""
    from leaven.people.selectors import partners_for_actor

    changed = False
    if co_host_units is not None:
        wanted = {u.pk: u for u in co_host_units if u.pk != event.owner_unit_id}
        current = set(event.co_host_units.values_list("pk", flat=True))
        for pk, unit in wanted.items():
            if pk not in current and not access.can(actor, permissions.EVENTS_MANAGE, unit):
                raise ValidationError(
                    {"co_host_units": _("Choose co-hosts among the units you organize.")}
                )
        if set(wanted) != current:
            event.co_host_units.set(list(wanted.values()))
            changed = True
    if partners is not None:
        wanted_p = {p.pk: p for p in partners}
        current_p = set(event.partners.values_list("pk", flat=True))
        new = set(wanted_p) - current_p
        if new and partners_for_actor(actor=actor).filter(pk__in=new).count() != len(new):
            raise ValidationError({"partners": _("Choose partners your units work with.")})
        if set(wanted_p) != current_p:
            event.partners.set(list(wanted_p.values()))
            changed = True
    return changed


def _check_point(latitude: float | None, longitude: float | None) -> None:
    if (latitude is None) != (longitude is None):
        raise ValidationError({"latitude": _("Give both latitude and longitude, or neither.")})
    if latitude is not None and longitude is not None:
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise ValidationError({"latitude": _("This point is not on the map.")})


@dataclass(frozen=True)
class ShiftChange:
    """New values for one of an event's shifts, from the edit page."""

    shift_id: int
    label_en: str
    starts_at: datetime
    ends_at: datetime
    capacity: int = 0
    label_es: str = ""


def _check_capacity(event: Event, capacity: int, shift: Shift | None = None) -> None:
    if event.is_mobilization and shift is None:
        held = sum(q.held for q in event.quotas.all())
        going = RSVP.objects.filter(event=event, quota__isnull=True, status=RSVP.Status.GOING)
        if capacity < held + going.count():
            raise ValidationError(
                {
                    "capacity": _(
                        "Groups hold %(held)d seats and %(going)d people have a seat from the "
                        "shared pool: there must be at least that many seats."
                    )
                    % {"held": held, "going": going.count()}
                }
            )
        return
    if capacity == 0:
        return
    going = RSVP.objects.filter(event=event, status=RSVP.Status.GOING)
    going = going.filter(shift=shift) if shift is not None else going
    if capacity < going.count():
        error = _("%(count)d people already have a place: the capacity cannot be lower.") % {
            "count": going.count()
        }
        raise ValidationError({"capacity": error} if shift is None else error)


@transaction.atomic
def event_update(
    *,
    actor: Any,
    event: Event,
    title_en: str,
    starts_at: datetime,
    ends_at: datetime,
    title_es: str = "",
    description_en: str = "",
    description_es: str = "",
    kind: str = Event.Kind.MEETING,
    visibility: str = Event.Visibility.PUBLIC,
    status: str = Event.Status.SCHEDULED,
    address: str = "",
    online_url: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
    capacity: int = 0,
    release_at: datetime | None = None,
    co_host_units: list[OrgUnit] | None = None,
    partners: list[PartnerOrganization] | None = None,
    shifts: list[ShiftChange] | None = None,
) -> Event:
    """Change an event. When its time (or a shift's) moves, everyone holding a place or
    waiting for one gets one message with the new time, in their language, and their
    reminders move with it."""
    event = _lock(event)
    _require(actor, permissions.EVENTS_MANAGE, event.owner_unit)
    title_en = title_en.strip()
    if not title_en:
        raise ValidationError({"title_en": _("An event needs a title.")})
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": _("The end must come after the start.")})
    if kind not in Event.Kind.values or visibility not in Event.Visibility.values:
        raise ValidationError(_("Unknown type or visibility."))
    if status not in Event.Status.values:
        raise ValidationError({"status": _("Unknown status.")})
    _check_point(latitude, longitude)
    _check_capacity(event, capacity)
    values: dict[str, Any] = {
        "title_en": title_en,
        "title_es": title_es.strip(),
        "description_en": description_en.strip(),
        "description_es": description_es.strip(),
        "kind": kind,
        "visibility": visibility,
        "address": address.strip(),
        "online_url": online_url.strip(),
        "latitude": latitude,
        "longitude": longitude,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "capacity": capacity,
        "release_at": release_at if event.is_mobilization else None,
    }
    changed = [name for name, value in values.items() if getattr(event, name) != value]
    moved_event = event.starts_at != starts_at or event.ends_at != ends_at
    grew = event.capacity != 0 and (capacity == 0 or capacity > event.capacity)
    for name in changed:
        setattr(event, name, values[name])
    if changed:
        event.save(update_fields=changed)
    moved_shifts: set[int] = set()
    grown_shifts: list[Shift] = []
    by_id = {s.pk: s for s in event.shifts.all()}
    for change in shifts or []:
        shift = by_id.get(change.shift_id)
        if shift is None:
            raise ValidationError(_("Choose one of this event's shifts."))
        if not change.label_en.strip():
            raise ValidationError(_("A shift needs a name."))
        if change.ends_at <= change.starts_at:
            raise ValidationError(_("The end must come after the start."))
        _check_capacity(event, change.capacity, shift)
        if shift.starts_at != change.starts_at or shift.ends_at != change.ends_at:
            moved_shifts.add(shift.pk)
        if shift.capacity != 0 and (change.capacity == 0 or change.capacity > shift.capacity):
            grown_shifts.append(shift)
        fields = {
            "label_en": change.label_en.strip(),
            "label_es": change.label_es.strip(),
            "starts_at": change.starts_at,
            "ends_at": change.ends_at,
            "capacity": change.capacity,
        }
        shift_changed = [n for n, v in fields.items() if getattr(shift, n) != v]
        if shift_changed:
            for name in shift_changed:
                setattr(shift, name, fields[name])
            shift.save(update_fields=shift_changed)
            changed.append(f"shift:{shift.pk}")
    if _set_hosts(actor=actor, event=event, co_host_units=co_host_units, partners=partners):
        changed.append("hosts")
    if status != event.status:
        _apply_status(event, status)
        changed.append("status")
    rescheduled = 0
    if (moved_event or moved_shifts) and event.status == Event.Status.SCHEDULED:
        rescheduled = _reschedule(event, moved_event=moved_event, moved_shifts=moved_shifts)
    if event.status == Event.Status.SCHEDULED:
        if grew:
            _fill_waitlist(event, None, actor=actor)
        for shift in grown_shifts:
            _fill_waitlist(event, shift, actor=actor)
        _seat_snapshot(event)
    if changed:
        audit_record(
            actor=actor, verb="event.updated", obj=event, unit=event.owner_unit,
            detail={"fields": changed, "rescheduled": rescheduled},
        )  # fmt: skip
    return event


def _reschedule(event: Event, *, moved_event: bool, moved_shifts: set[int]) -> int:
    """One message with the new time for each person holding or awaiting a place whose time
    moved; their pending reminders are replaced by ones at the new time."""
    rows = RSVP.objects.filter(
        event=event, status__in=[RSVP.Status.GOING, RSVP.Status.WAITLIST]
    ).select_related("event", "shift")
    if not moved_event:
        rows = rows.filter(shift_id__in=moved_shifts)
    count = 0
    for rsvp in rows:
        _queue(rsvp, EventMessage.Kind.UPDATED)
        count += 1
    return count


def _apply_status(event: Event, status: str) -> None:
    was = event.status
    event.status = status
    event.save(update_fields=["status"])
    if status == Event.Status.CANCELLED and was != Event.Status.CANCELLED:
        EventMessage.objects.filter(
            event=event,
            state=EventMessage.State.PENDING,
            kind__in=[EventMessage.Kind.REMINDER, EventMessage.Kind.UPDATED],
        ).update(state=EventMessage.State.WITHDRAWN)
        _tell_called_off(event)


def _tell_called_off(event: Event) -> int:
    """One message to each person holding or awaiting a place: the event is cancelled. A
    person told once is not told again if the event is cancelled a second time."""
    told = EventMessage.objects.filter(event=event, kind=EventMessage.Kind.CALLED_OFF).values(
        "rsvp_id"
    )
    rsvps = RSVP.objects.filter(
        event=event, status__in=[RSVP.Status.GOING, RSVP.Status.WAITLIST]
    ).exclude(pk__in=told)
    now = timezone.now()
    rows = [
        EventMessage(
            event_id=event.pk,
            rsvp=rsvp,
            person_id=rsvp.person_id,
            kind=EventMessage.Kind.CALLED_OFF,
            language=rsvp.language,
            due_at=now,
        )
        for rsvp in rsvps
    ]
    EventMessage.objects.bulk_create(rows)
    return len(rows)


@transaction.atomic
def event_set_status(*, actor: Any, event: Event, status: str) -> Event:
    _require(actor, permissions.EVENTS_MANAGE, event.owner_unit)
    if status not in Event.Status.values:
        raise ValidationError({"status": _("Unknown status.")})
    _apply_status(event, status)
    audit_record(
        actor=actor, verb="event.status", obj=event, unit=event.owner_unit, detail={"to": status}
    )
    return event


@transaction.atomic
def shift_add(
    *,
    actor: Any,
    event: Event,
    label_en: str,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int = 0,
    label_es: str = "",
) -> Shift:
    _require(actor, permissions.EVENTS_MANAGE, event.owner_unit)
    if not label_en.strip():
        raise ValidationError({"label_en": _("A shift needs a name.")})
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": _("The end must come after the start.")})
    shift = Shift.objects.create(
        event=event,
        label_en=label_en.strip(),
        label_es=label_es.strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
    )
    audit_record(
        actor=actor, verb="event.shift_added", obj=event, unit=event.owner_unit,
        detail={"shift": shift.pk},
    )  # fmt: skip
    return shift


@transaction.atomic
def quota_add(
    *,
    actor: Any,
    event: Event,
    seats: int,
    unit: OrgUnit | None = None,
    partner: PartnerOrganization | None = None,
) -> Quota:
    """Hold seats of a mobilization for one circle or one partner."""
    _require(actor, permissions.EVENTS_MANAGE, event.owner_unit)
    event = Event.objects.select_for_update().get(pk=event.pk)
    if not event.is_mobilization:
        raise ValidationError(_("Only a mobilization has seat quotas."))
    if (unit is None) == (partner is None):
        raise ValidationError(_("Choose a circle or a partner."))
    if unit is not None and not unit.path.startswith(event.owner_unit.path):
        raise ValidationError(_("Choose a circle of this event's unit."))
    held = sum(q.held for q in event.quotas.all())
    if seats < 1 or held + seats > event.capacity:
        raise ValidationError({"seats": _("There are not that many seats left to hold.")})
    quota = Quota.objects.create(
        event=event,
        unit=unit,
        partner=partner,
        seats=seats,
        link_expires_at=timezone.now() + timedelta(days=leader_link_days()),
    )
    _seat_snapshot(event)
    audit_record(
        actor=actor, verb="event.quota_added", obj=event, unit=event.owner_unit,
        detail={"quota": quota.pk, "seats": seats},
    )  # fmt: skip
    return quota


@transaction.atomic
def vehicle_add(*, actor: Any, event: Event, name: str, seats: int) -> Vehicle:
    _require(actor, permissions.EVENTS_MANAGE, event.owner_unit)
    if not name.strip() or seats < 1:
        raise ValidationError(_("A vehicle needs a name and seats."))
    vehicle = Vehicle.objects.create(event=event, name=name.strip(), seats=seats)
    audit_record(
        actor=actor, verb="event.vehicle_added", obj=event, unit=event.owner_unit,
        detail={"vehicle": vehicle.pk},
    )  # fmt: skip
    return vehicle


# Capacity and the waitlist -----------------------------------------------------------


def _lock(event: Event) -> Event:
    return Event.objects.select_related("owner_unit").select_for_update().get(pk=event.pk)


def pool_seats(event: Event) -> int:
    """Seats of a mobilization not held by any quota."""
    return event.capacity - sum(q.held for q in event.quotas.all())


def _capacity(event: Event, shift: Shift | None, quota: Quota | None) -> int | None:
    if event.is_mobilization:
        return quota.held if quota is not None else pool_seats(event)
    if shift is not None:
        return shift.capacity or None
    return event.capacity or None


def _going(event: Event, shift: Shift | None, quota: Quota | None) -> int:
    rows = RSVP.objects.filter(event=event, status=RSVP.Status.GOING)
    if event.is_mobilization:
        return rows.filter(quota=quota).count()
    if shift is not None:
        return rows.filter(shift=shift).count()
    return rows.count()


def has_room(event: Event, shift: Shift | None = None, quota: Quota | None = None) -> bool:
    capacity = _capacity(event, shift, quota)
    return capacity is None or _going(event, shift, quota) < capacity


def _starts(rsvp: RSVP) -> datetime:
    return rsvp.shift.starts_at if rsvp.shift_id and rsvp.shift else rsvp.event.starts_at


def _queue(rsvp: RSVP, kind: str, *, now: datetime | None = None) -> None:
    """Pending messages for messaging to send: this one now, and reminders if going."""
    now = now or timezone.now()
    # A new time not sent yet is replaced, so a person hears of the latest time once.
    replaced = [EventMessage.Kind.REMINDER]
    if kind == EventMessage.Kind.UPDATED:
        replaced.append(EventMessage.Kind.UPDATED)
    EventMessage.objects.filter(
        rsvp=rsvp, state=EventMessage.State.PENDING, kind__in=replaced
    ).update(state=EventMessage.State.WITHDRAWN)
    rows = [
        EventMessage(
            event_id=rsvp.event_id,
            rsvp=rsvp,
            person_id=rsvp.person_id,
            kind=kind,
            language=rsvp.language,
            due_at=now,
        )
    ]
    if rsvp.status == RSVP.Status.GOING:
        for hours in _reminder_hours():
            due = _starts(rsvp) - timedelta(hours=hours)
            if due > now:
                rows.append(
                    EventMessage(
                        event_id=rsvp.event_id,
                        rsvp=rsvp,
                        person_id=rsvp.person_id,
                        kind=EventMessage.Kind.REMINDER,
                        language=rsvp.language,
                        due_at=due,
                    )
                )
    EventMessage.objects.bulk_create(rows)


def _seat_snapshot(event: Event, *, now: datetime | None = None) -> None:
    """For a mobilization: note the seats filled in each group (and the shared pool) whose
    figure changed since the last note, for the chart of seats filled over time."""
    if not event.is_mobilization:
        return
    now = now or timezone.now()
    going = RSVP.objects.filter(event=event, status=RSVP.Status.GOING)
    counts: dict[int | None, int] = {q.pk: 0 for q in event.quotas.all()}
    counts[None] = 0
    for quota_id in going.values_list("quota_id", flat=True):
        counts[quota_id] = counts.get(quota_id, 0) + 1
    rows = []
    for group, filled in counts.items():
        mine = Q(quota_id=group) if group is not None else Q(quota__isnull=True)
        last = (
            SeatLog.objects.filter(mine, event=event)
            .order_by("-at", "-id")
            .values_list("filled", flat=True)
            .first()
        )
        if last != filled:
            rows.append(SeatLog(event=event, quota_id=group, filled=filled, at=now))
    if rows:
        SeatLog.objects.bulk_create(rows)


def _fill_waitlist(event: Event, shift: Shift | None, *, actor: Any) -> list[int]:
    """Move people off the waitlist, first come first served, while there is room."""
    moved: list[int] = []
    waiting = RSVP.objects.filter(event=event, status=RSVP.Status.WAITLIST).select_related(
        "event", "shift"
    )
    if event.is_mobilization:
        waiting = waiting.filter(quota__isnull=True)
    elif shift is not None:
        waiting = waiting.filter(shift=shift)
    for rsvp in waiting.order_by("queued_at", "id"):
        if not has_room(event, shift, None):
            break
        rsvp.status = RSVP.Status.GOING
        rsvp.modified_at = timezone.now()
        rsvp.save(update_fields=["status", "modified_at"])
        _queue(rsvp, EventMessage.Kind.PROMOTED)
        moved.append(rsvp.pk)
    if moved:
        audit_record(
            actor=actor, verb="event.waitlist_filled", obj=event, unit=event.owner_unit,
            detail={"rsvps": moved},
        )  # fmt: skip
    return moved


# Matching people ------------------------------------------------------------------------


def _match_or_create(
    *,
    actor: Any,
    unit: OrgUnit,
    contact: Contact,
    source: str,
    restrict: Q | None = None,
) -> tuple[Person, bool]:
    """The person with this email or phone among those the actor may see, or a new one in
    `unit`. A match changes nothing on the record except SMS consent given plainly on a
    phone that had none: an opt-out is never lifted, and nothing about the match is shown."""
    ids = people_services.person_find_by_contact(email=contact.email, phone=contact.phone)
    person = None
    if ids:
        visible = access.unit_ids_in_scope(actor, permissions.PEOPLE_VIEW)
        found = Person.objects.filter(
            pk__in=PersonUnit.objects.filter(person_id__in=ids, unit_id__in=visible).values(
                "person_id"
            )
        )
        if restrict is not None:
            found = found.filter(restrict)
        person = found.order_by("pk").first()
    if person is not None:
        people_services.contact_consent_merge(
            actor=actor,
            person=person,
            email=contact.email,
            email_consent=contact.email_consent,
            phone=contact.phone,
            sms_consent=contact.sms_consent,
            source=source,
        )
        return person, False
    emails = []
    if contact.email:
        status = Email.Status.SUBSCRIBED if contact.email_consent else Email.Status.NONE
        emails.append(
            people_services.EmailInput(address=contact.email, status=status, source=source)
        )
    phones = []
    if contact.phone:
        sms = Phone.SMSStatus.OPTED_IN if contact.sms_consent else Phone.SMSStatus.NONE
        phones.append(
            people_services.PhoneInput(number=contact.phone, sms_status=sms, source=source)
        )
    person = people_services.person_create(
        actor=actor,
        owner_unit=unit,
        given_name=contact.given_name,
        family_name=contact.family_name,
        language=contact.language,
        source=source,
        emails=emails,
        phones=phones,
    )
    return person, True


def _clean_contact(contact: Contact, *, need_contact: bool) -> None:
    errors: dict[str, str] = {}
    if not contact.given_name.strip():
        errors["given_name"] = _("Please tell us your first name.")
    if need_contact and not contact.email.strip() and not contact.phone.strip():
        errors["email"] = _("Please give an email address or a phone number.")
    if contact.sms_consent and not contact.phone.strip():
        errors["phone"] = _("Give a mobile number to receive text messages.")
    if errors:
        raise ValidationError(errors)


# RSVPs ----------------------------------------------------------------------------------


@transaction.atomic
def rsvp_submit(
    *,
    event: Event,
    contact: Contact,
    shift: Shift | None = None,
    heard_unit: OrgUnit | None = None,
    heard_partner: PartnerOrganization | None = None,
    actor: Any = None,
) -> RSVP:
    """An RSVP from the public page: match or create the person, then hold a place (or a
    place on the waitlist). RSVPing again updates the same RSVP."""
    event = _lock(event)
    actor = actor or public_actor(event)
    if event.status != Event.Status.SCHEDULED or event.ends_at <= timezone.now():
        raise ValidationError(_("This event is no longer taking RSVPs."))
    if shift is not None and shift.event_id != event.pk:
        raise ValidationError({"shift": _("Choose one of this event's shifts.")})
    if shift is None and not event.is_mobilization and event.shifts.exists():
        raise ValidationError({"shift": _("Choose a shift.")})
    _clean_contact(contact, need_contact=True)
    person, created = _match_or_create(
        actor=actor, unit=event.owner_unit, contact=contact, source=f"event:{event.pk}"
    )
    rsvp = RSVP.objects.filter(event=event, person=person).select_related("shift").first()
    now = timezone.now()
    if rsvp is None:
        rsvp = RSVP(event=event, person=person, is_new_person=created, source=RSVP.Source.PUBLIC)
    elif rsvp.status != RSVP.Status.CANCELLED and rsvp.shift_id == (shift.pk if shift else None):
        # The same RSVP again: keep the place, take the newer language.
        rsvp.language = contact.language
        rsvp.save(update_fields=["language", "modified_at"])
        audit_record(actor=actor, verb="rsvp.repeated", obj=rsvp, unit=event.owner_unit)
        return rsvp
    was_going = rsvp.pk is not None and rsvp.status == RSVP.Status.GOING
    old_shift = rsvp.shift if rsvp.pk else None
    if was_going:
        rsvp.status = RSVP.Status.CANCELLED
        rsvp.save(update_fields=["status"])
    rsvp.shift = shift
    rsvp.language = contact.language
    rsvp.heard_unit = heard_unit or rsvp.heard_unit
    rsvp.heard_partner = heard_partner or rsvp.heard_partner
    rsvp.status = RSVP.Status.GOING if has_room(event, shift, None) else RSVP.Status.WAITLIST
    rsvp.queued_at = now
    rsvp.modified_at = now
    rsvp.save()
    if was_going:
        _fill_waitlist(event, old_shift, actor=actor)
    kind = (
        EventMessage.Kind.CONFIRMATION
        if rsvp.status == RSVP.Status.GOING
        else EventMessage.Kind.WAITLIST
    )
    _queue(rsvp, kind, now=now)
    _seat_snapshot(event, now=now)
    audit_record(
        actor=actor, verb="rsvp.submitted", obj=rsvp, unit=event.owner_unit,
        detail={"event": event.pk, "status": rsvp.status, "new_person": created},
    )  # fmt: skip
    return rsvp


@transaction.atomic
def rsvp_add_person(
    *,
    actor: Any,
    event: Event,
    person: Person,
    shift: Shift | None = None,
    quota: Quota | None = None,
) -> RSVP:
    """Staff put a known person on an event (or in a group's seats): a place if there is
    room, else the waitlist (a group's seats never overfill)."""
    event = _lock(event)
    _require(actor, permissions.EVENTS_MANAGE, event.owner_unit)
    if quota is not None and quota.event_id != event.pk:
        raise ValidationError(_("Choose one of this event's groups."))
    room = has_room(event, shift, quota)
    if quota is not None and not room:
        raise ValidationError(_("All of this group's seats are taken."))
    rsvp, created = RSVP.objects.get_or_create(
        event=event,
        person=person,
        defaults={
            "shift": shift,
            "quota": quota,
            "source": RSVP.Source.STAFF,
            "language": person.language,
            "heard_unit": quota.unit if quota else None,
            "heard_partner": quota.partner if quota else None,
            "status": RSVP.Status.GOING if room else RSVP.Status.WAITLIST,
        },
    )
    if created:
        kind = EventMessage.Kind.CONFIRMATION if room else EventMessage.Kind.WAITLIST
        _queue(rsvp, kind)
        _seat_snapshot(event)
        audit_record(
            actor=actor, verb="rsvp.added", obj=rsvp, unit=event.owner_unit,
            detail={"event": event.pk, "status": rsvp.status},
        )  # fmt: skip
    return rsvp


@transaction.atomic
def rsvp_cancel(*, rsvp: RSVP, actor: Any = None) -> RSVP:
    """Cancel a place (from the signed link, or by staff); the waitlist moves up."""
    event = _lock(rsvp.event)
    rsvp = RSVP.objects.select_related("shift", "quota").get(pk=rsvp.pk)
    if actor is not None:
        _require(actor, permissions.EVENTS_MANAGE, event.owner_unit)
    else:
        actor = public_actor(event)
    if rsvp.status == RSVP.Status.CANCELLED:
        return rsvp
    was_going = rsvp.status == RSVP.Status.GOING
    rsvp.status = RSVP.Status.CANCELLED
    rsvp.vehicle = None
    rsvp.modified_at = timezone.now()
    rsvp.save(update_fields=["status", "vehicle", "modified_at"])
    _queue(rsvp, EventMessage.Kind.CANCELLED)
    if was_going and rsvp.quota is not None and event.released:
        # After the deadline, a seat a circle gives up goes straight to the pool.
        Quota.objects.filter(pk=rsvp.quota.pk).update(released=rsvp.quota.released + 1)
    if was_going:
        _fill_waitlist(event, rsvp.shift, actor=actor)
        _seat_snapshot(event)
    audit_record(actor=actor, verb="rsvp.cancelled", obj=rsvp, unit=event.owner_unit)
    return rsvp


# Check-in -------------------------------------------------------------------------------


def _apply_stage_rule(*, actor: Any, person: Person) -> None:
    rule = _stage_rule()
    after = int(rule["after"])
    stage = str(rule["stage"])
    if after < 1 or STAGE_ORDER[person.stage] >= STAGE_ORDER[stage]:
        return
    attended = RSVP.objects.filter(
        person=person, attendance=RSVP.Attendance.ATTENDED, event__kind__in=rule["kinds"]
    ).count()
    if attended >= after and people_services.person_editable_by(actor=actor, person=person):
        people_services.person_set_stage(
            actor=actor,
            person=person,
            stage=stage,
            reason=_("Attended %(count)d meetings") % {"count": attended},
        )


@transaction.atomic
def rsvp_check_in(*, actor: Any, rsvp: RSVP, undo: bool = False) -> RSVP:
    event = rsvp.event
    _require(actor, permissions.EVENTS_CHECKIN, event.owner_unit)
    if rsvp.status == RSVP.Status.CANCELLED and not undo:
        raise ValidationError(_("This RSVP was cancelled."))
    if undo:
        rsvp.attendance = RSVP.Attendance.UNKNOWN
        rsvp.checked_in_at = None
    else:
        rsvp.attendance = RSVP.Attendance.ATTENDED
        rsvp.checked_in_at = rsvp.checked_in_at or timezone.now()
        if rsvp.status == RSVP.Status.WAITLIST:
            rsvp.status = RSVP.Status.GOING
    rsvp.modified_at = timezone.now()
    rsvp.save(update_fields=["attendance", "checked_in_at", "status", "modified_at"])
    EventMessage.objects.filter(
        rsvp=rsvp, state=EventMessage.State.PENDING, kind=EventMessage.Kind.REMINDER
    ).update(state=EventMessage.State.WITHDRAWN)
    _seat_snapshot(event)
    audit_record(
        actor=actor, verb="rsvp.checked_in" if not undo else "rsvp.check_in_undone", obj=rsvp,
        unit=event.owner_unit,
    )  # fmt: skip
    if not undo:
        _apply_stage_rule(actor=actor, person=rsvp.person)
    return rsvp


@transaction.atomic
def rsvp_walk_in(
    *, actor: Any, event: Event, contact: Contact, vehicle: Vehicle | None = None
) -> RSVP:
    """Someone at the door without an RSVP: they become a person (or are matched) and are
    checked in at once."""
    _require(actor, permissions.EVENTS_CHECKIN, event.owner_unit)
    _clean_contact(contact, need_contact=False)
    person, created = _match_or_create(
        actor=actor, unit=event.owner_unit, contact=contact, source=f"event:{event.pk}"
    )
    rsvp, made = RSVP.objects.get_or_create(
        event=event,
        person=person,
        defaults={
            "source": RSVP.Source.WALK_IN,
            "language": contact.language,
            "is_new_person": created,
            "vehicle": vehicle,
        },
    )
    if not made and rsvp.status == RSVP.Status.CANCELLED:
        rsvp.status = RSVP.Status.GOING
    audit_record(
        actor=actor, verb="rsvp.walk_in", obj=rsvp, unit=event.owner_unit,
        detail={"new_person": created},
    )  # fmt: skip
    return rsvp_check_in(actor=actor, rsvp=rsvp)


@transaction.atomic
def event_mark_no_shows(*, actor: Any, event: Event) -> int:
    """At the end: everyone holding a place who was not checked in is a no-show."""
    _require(actor, permissions.EVENTS_CHECKIN, event.owner_unit)
    ids = list(
        RSVP.objects.filter(
            event=event, status=RSVP.Status.GOING, attendance=RSVP.Attendance.UNKNOWN
        ).values_list("pk", flat=True)
    )
    RSVP.objects.filter(pk__in=ids).update(
        attendance=RSVP.Attendance.NO_SHOW, modified_at=timezone.now()
    )
    audit_record(
        actor=actor, verb="event.no_shows_marked", obj=event, unit=event.owner_unit,
        detail={"rsvps": ids},
    )  # fmt: skip
    return len(ids)


# Mobilizations --------------------------------------------------------------------------


def quota_used(quota: Quota) -> int:
    return RSVP.objects.filter(quota=quota, status=RSVP.Status.GOING).count()


@transaction.atomic
def quota_seat_fill(
    *,
    quota: Quota,
    contact: Contact | None = None,
    person: Person | None = None,
    actor: Any = None,
) -> RSVP:
    """A circle leader puts someone in one of their circle's seats: a member of the circle
    or a new person. A circle never holds more than its quota."""
    event = _lock(quota.event)
    quota = Quota.objects.select_for_update().get(pk=quota.pk)
    actor = actor or leader_actor(quota)
    if event.status != Event.Status.SCHEDULED:
        raise ValidationError(_("This event is no longer taking RSVPs."))
    if not has_room(event, None, quota):
        raise ValidationError(_("All of this group's seats are taken."))
    restrict = Q(affiliations__organization=quota.partner) if quota.partner_id else None
    created = False
    if person is not None:
        if quota.unit is None or not PersonUnit.objects.filter(person=person, unit=quota.unit):
            raise ValidationError(_("Choose someone from this circle."))
    elif contact is not None:
        _clean_contact(contact, need_contact=False)
        unit = quota.unit or event.owner_unit
        person, created = _match_or_create(
            actor=actor, unit=unit, contact=contact, source=f"event:{event.pk}", restrict=restrict
        )
        if created and quota.partner is not None:
            Affiliation.objects.get_or_create(person=person, organization=quota.partner)
    else:
        raise ValidationError(_("Choose someone or add a new person."))
    rsvp = RSVP.objects.filter(event=event, person=person).first()
    if rsvp is not None and rsvp.status == RSVP.Status.GOING:
        raise ValidationError(_("This person already has a seat."))
    if rsvp is None:
        rsvp = RSVP(event=event, person=person, is_new_person=created)
    rsvp.quota = quota
    rsvp.source = RSVP.Source.LEADER
    rsvp.status = RSVP.Status.GOING
    rsvp.language = person.language
    rsvp.heard_unit = quota.unit
    rsvp.heard_partner = quota.partner
    rsvp.modified_at = timezone.now()
    rsvp.save()
    _queue(rsvp, EventMessage.Kind.CONFIRMATION)
    _seat_snapshot(event)
    audit_record(
        actor=actor, verb="quota.seat_filled", obj=rsvp, unit=event.owner_unit,
        detail={"quota": quota.pk, "new_person": created},
    )  # fmt: skip
    return rsvp


@transaction.atomic
def quota_seat_free(*, quota: Quota, rsvp: RSVP, actor: Any = None) -> None:
    """A leader takes someone out of one of their own seats (never another group's)."""
    if rsvp.quota_id != quota.pk:
        raise ValidationError(_("This seat belongs to another group."))
    rsvp_cancel(rsvp=rsvp, actor=None)
    audit_record(
        actor=actor or leader_actor(quota), verb="quota.seat_freed", obj=rsvp,
        unit=quota.event.owner_unit, detail={"quota": quota.pk},
    )  # fmt: skip


@transaction.atomic
def quota_release(*, quota: Quota, actor: Any = None) -> int:
    """Give this group's unused seats back to the pool; the shared waitlist fills them in
    order. Returns how many seats were released."""
    event = _lock(quota.event)
    quota = Quota.objects.select_for_update().get(pk=quota.pk)
    if getattr(actor, "is_authenticated", False):
        _require(actor, permissions.EVENTS_MANAGE, event.owner_unit)
    actor = actor or leader_actor(quota)
    unused = quota.held - quota_used(quota)
    if unused > 0:
        quota.released += unused
        quota.save(update_fields=["released"])
        audit_record(
            actor=actor, verb="quota.released", obj=event, unit=event.owner_unit,
            detail={"quota": quota.pk, "seats": unused},
        )  # fmt: skip
        _fill_waitlist(event, None, actor=actor)
        _seat_snapshot(event)
    return max(unused, 0)


@transaction.atomic
def quota_link_revoke(*, actor: Any, quota: Quota) -> Quota:
    """Stop the leader's link of a group at once: every link sent so far says it was
    withdrawn, until the link is issued again."""
    _require(actor, permissions.EVENTS_MANAGE, quota.event.owner_unit)
    quota = Quota.objects.select_for_update().select_related("event").get(pk=quota.pk)
    quota.link_version += 1
    quota.link_revoked = True
    quota.save(update_fields=["link_version", "link_revoked"])
    audit_record(
        actor=actor, verb="quota.link_revoked", obj=quota.event, unit=quota.event.owner_unit,
        detail={"quota": quota.pk},
    )  # fmt: skip
    return quota


@transaction.atomic
def quota_link_issue(*, actor: Any, quota: Quota, days: int | None = None) -> Quota:
    """A new leader's link for a group, working for `days` (at most until the event ends);
    every earlier link of the group stops working."""
    _require(actor, permissions.EVENTS_MANAGE, quota.event.owner_unit)
    days = leader_link_days() if days is None else days
    if not 1 <= days <= 366:
        raise ValidationError({"days": _("Choose between 1 and 366 days.")})
    quota = Quota.objects.select_for_update().select_related("event").get(pk=quota.pk)
    now = timezone.now()
    if quota.event.ends_at <= now:
        raise ValidationError(_("This event is over: its links cannot be issued again."))
    quota.link_version += 1
    quota.link_revoked = False
    quota.link_issued_at = now
    quota.link_expires_at = now + timedelta(days=days)
    quota.save(update_fields=["link_version", "link_revoked", "link_issued_at", "link_expires_at"])
    audit_record(
        actor=actor, verb="quota.link_issued", obj=quota.event, unit=quota.event.owner_unit,
        detail={"quota": quota.pk, "days": days},
    )  # fmt: skip
    return quota


@transaction.atomic
def mobilization_release_due(*, now: datetime | None = None) -> list[int]:
    """At each mobilization's deadline, release every group's unused seats to the pool.
    Safe to run again: an event is released once."""
    now = now or timezone.now()
    done: list[int] = []
    due = Event.objects.filter(
        is_mobilization=True,
        released=False,
        release_at__lte=now,
        status=Event.Status.SCHEDULED,
    )
    for event in due.order_by("release_at", "id"):
        event = _lock(event)
        if event.released:
            continue
        for quota in event.quotas.all():
            quota_release(quota=quota, actor=FormActor("system:release", []))
        event.released = True
        event.save(update_fields=["released"])
        done.append(event.pk)
    return done


@transaction.atomic
def rsvp_assign_vehicle(*, actor: Any, rsvp: RSVP, vehicle: Vehicle | None) -> RSVP:
    _require(actor, permissions.EVENTS_MANAGE, rsvp.event.owner_unit)
    if vehicle is not None:
        if vehicle.event_id != rsvp.event_id:
            raise ValidationError(_("Choose one of this event's vehicles."))
        taken = vehicle.rsvps.filter(status=RSVP.Status.GOING).exclude(pk=rsvp.pk).count()
        if taken >= vehicle.seats:
            raise ValidationError(_("This vehicle is full."))
    rsvp.vehicle = vehicle
    rsvp.save(update_fields=["vehicle"])
    audit_record(
        actor=actor, verb="rsvp.vehicle", obj=rsvp, unit=rsvp.event.owner_unit,
        detail={"vehicle": vehicle.pk if vehicle else None},
    )  # fmt: skip
    return rsvp


# Exports --------------------------------------------------------------------------------

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str:
    """A cell a spreadsheet will never run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def roster_export(*, actor: Any, event: Event, rows: list[dict[str, Any]]) -> str:
    """The roster as formula-safe CSV; every export is audited."""
    _require(actor, permissions.EVENTS_VIEW, event.owner_unit)
    out = io.StringIO()
    writer = csv.writer(out)
    header = [_("Name"), _("Group"), _("Vehicle"), _("Status"), _("Came"), _("Phone")]
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            [
                csv_safe(row["name"]),
                csv_safe(row["group"]),
                csv_safe(row["vehicle"]),
                csv_safe(row["status"]),
                csv_safe(row["came"]),
                csv_safe(row.get("phone", "")),
            ]
        )
    audit_record(
        actor=actor, verb="event.roster_exported", obj=event, unit=event.owner_unit,
        detail={"rows": len(rows)},
    )  # fmt: skip
    return out.getvalue()
