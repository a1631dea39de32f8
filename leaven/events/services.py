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
from leaven.events.models import RSVP, Event, EventMessage, Quota, Shift, Vehicle
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
        capacity=capacity,
        is_mobilization=is_mobilization,
        release_at=release_at,
    )
    if co_host_units:
        event.co_host_units.set(co_host_units)
    if partners:
        event.partners.set(partners)
    audit_record(actor=actor, verb="event.created", obj=event, unit=owner_unit)
    return event


@transaction.atomic
def event_set_status(*, actor: Any, event: Event, status: str) -> Event:
    _require(actor, permissions.EVENTS_MANAGE, event.owner_unit)
    if status not in Event.Status.values:
        raise ValidationError({"status": _("Unknown status.")})
    event.status = status
    event.save(update_fields=["status"])
    if status == Event.Status.CANCELLED:
        EventMessage.objects.filter(
            event=event, state=EventMessage.State.PENDING, kind=EventMessage.Kind.REMINDER
        ).update(state=EventMessage.State.WITHDRAWN)
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
    quota = Quota.objects.create(event=event, unit=unit, partner=partner, seats=seats)
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
    EventMessage.objects.filter(
        rsvp=rsvp, state=EventMessage.State.PENDING, kind=EventMessage.Kind.REMINDER
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
    return max(unused, 0)


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
