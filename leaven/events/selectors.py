"""Reads for events, always scoped to the actor: an event the actor may not see is a 404,
the same as one that does not exist. Signed links resolve to exactly one record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import BooleanField, Case, Count, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from leaven.core import access, permissions
from leaven.core.models import OrgUnit
from leaven.core.selectors import deny
from leaven.events import tokens
from leaven.events.models import RSVP, Event, Quota, SeatLog, Vehicle
from leaven.events.services import pool_seats
from leaven.people import normalize
from leaven.people.models import PartnerOrganization, Person, PersonUnit


def event_list_for_actor(*, actor: Any, upcoming: bool = True) -> QuerySet[Event]:
    unit_ids = access.unit_ids_in_scope(actor, permissions.EVENTS_VIEW)
    cohosted = Event.co_host_units.through.objects.filter(orgunit_id__in=unit_ids).values(
        "event_id"
    )
    events = (
        Event.objects.filter(Q(owner_unit_id__in=unit_ids) | Q(pk__in=cohosted))
        .select_related("owner_unit")
        .annotate(
            # Co-hosting units see the event in their list and open its public page; the
            # RSVPs stay with the owning unit.
            owned=Case(
                When(owner_unit_id__in=unit_ids, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
    )
    if upcoming:
        events = events.filter(ends_at__gte=timezone.now() - timedelta(days=1))
    return events.annotate(
        going=Count("rsvps", filter=Q(rsvps__status=RSVP.Status.GOING)),
        waiting=Count("rsvps", filter=Q(rsvps__status=RSVP.Status.WAITLIST)),
    )


def event_get_for_actor(*, actor: Any, pk: int, permission: str = permissions.EVENTS_VIEW) -> Event:
    event = Event.objects.select_related("owner_unit").filter(pk=pk).first()
    if event is None:
        raise Http404
    if not access.can(actor, permission, event.owner_unit):
        raise deny(actor=actor, obj_type="event", obj_id=pk, unit=event.owner_unit)
    return event


def event_get_public(*, slug: str, user: Any) -> Event:
    """The public page of an event: public ones for anyone; members-only and unit-only
    ones for signed-in people who may see them."""
    event = Event.objects.select_related("owner_unit").filter(slug=slug).first()
    if event is None:
        raise Http404
    if event.visibility == Event.Visibility.PUBLIC:
        return event
    if event.visibility == Event.Visibility.MEMBERS and access.can_anywhere(
        user, permissions.EVENTS_VIEW
    ):
        return event
    if access.can(user, permissions.EVENTS_VIEW, event.owner_unit):
        return event
    if getattr(user, "is_authenticated", False) and any(
        access.can(user, permissions.EVENTS_VIEW, unit) for unit in event.co_host_units.all()
    ):
        return event
    raise Http404


def rsvp_list(
    *, actor: Any, event: Event, q: str = "", vehicle: int | None = None
) -> QuerySet[RSVP]:
    access.require(actor, permissions.EVENTS_VIEW, event.owner_unit)
    rows = RSVP.objects.filter(event=event).select_related(
        "person", "shift", "quota__unit", "quota__partner", "vehicle", "heard_unit"
    )
    if q.strip():
        folded = normalize.fold(q)
        rows = rows.filter(
            Q(person__sort_name__contains=folded) | Q(person__given_sort__contains=folded)
        )
    if vehicle:
        rows = rows.filter(vehicle_id=vehicle)
    return rows.order_by("person__sort_name", "id")


def rsvp_get_for_actor(
    *, actor: Any, event: Event, pk: int, permission: str = permissions.EVENTS_VIEW
) -> RSVP:
    access.require(actor, permission, event.owner_unit)
    rsvp = RSVP.objects.select_related("person", "event", "quota").filter(pk=pk, event=event)
    found = rsvp.first()
    if found is None:
        raise Http404
    return found


def vehicle_get(*, event: Event, pk: int | None) -> Vehicle | None:
    if not pk:
        return None
    vehicle = event.vehicles.filter(pk=pk).first()
    if vehicle is None:
        raise Http404
    return vehicle


def rsvp_from_cancel_token(*, token: str) -> RSVP:
    pk = tokens.read(tokens.CANCEL, token)
    rsvp = RSVP.objects.select_related("event").filter(pk=pk).first() if pk else None
    if rsvp is None:
        raise Http404
    return rsvp


LINK_OPEN = "open"
LINK_REVOKED = "revoked"
LINK_EXPIRED = "expired"


@dataclass
class LeaderLink:
    quota: Quota
    state: str

    @property
    def is_open(self) -> bool:
        return self.state == LINK_OPEN


def leader_link(*, token: str, now: datetime | None = None) -> LeaderLink:
    """The group a leader's link is for, and whether the link still works: withdrawn when
    it was revoked or replaced by a newer one, expired at the event's end or after its
    days. Anything that is not a leader's link is a 404."""
    read = tokens.read_leader(token)
    quota = (
        Quota.objects.select_related("event__owner_unit", "unit", "partner")
        .filter(pk=read[0])
        .first()
        if read
        else None
    )
    if quota is None or read is None or read[1] > quota.link_version:
        raise Http404
    if quota.link_revoked or read[1] != quota.link_version:
        return LeaderLink(quota, LINK_REVOKED)
    if (now or timezone.now()) >= quota.link_closes_at:
        return LeaderLink(quota, LINK_EXPIRED)
    return LeaderLink(quota, LINK_OPEN)


def quota_get_for_actor(*, actor: Any, event: Event, pk: int) -> Quota:
    """One of this event's groups, for someone who manages the event."""
    access.require(actor, permissions.EVENTS_MANAGE, event.owner_unit)
    quota = event.quotas.select_related("unit", "partner").filter(pk=pk).first()
    if quota is None:
        raise Http404
    return quota


def unit_from_feed_token(*, token: str) -> OrgUnit:
    pk = tokens.read(tokens.UNIT_FEED, token)
    unit = OrgUnit.objects.filter(pk=pk).first() if pk else None
    if unit is None:
        raise Http404
    return unit


def person_from_feed_token(*, token: str) -> Person:
    pk = tokens.read(tokens.PERSON_FEED, token)
    person = Person.objects.filter(pk=pk).first() if pk else None
    if person is None:
        raise Http404
    return person


def unit_feed_events(*, unit: OrgUnit) -> QuerySet[Event]:
    """Events of a unit and the units below it, and those they co-host, from a month
    back."""
    since = timezone.now() - timedelta(days=31)
    cohosted = Event.co_host_units.through.objects.filter(
        orgunit__path__startswith=unit.path
    ).values("event_id")
    return Event.objects.filter(
        Q(owner_unit__path__startswith=unit.path) | Q(pk__in=cohosted), ends_at__gte=since
    ).exclude(Q(visibility=Event.Visibility.UNIT) & ~Q(owner_unit=unit))


def person_feed_events(*, person: Person) -> QuerySet[Event]:
    since = timezone.now() - timedelta(days=31)
    return Event.objects.filter(
        rsvps__person=person, rsvps__status=RSVP.Status.GOING, ends_at__gte=since
    ).distinct()


def quota_seats(*, quota: Quota) -> QuerySet[RSVP]:
    """The people in one group's seats, and nobody else's."""
    return (
        RSVP.objects.filter(quota=quota, status=RSVP.Status.GOING)
        .select_related("person")
        .order_by("person__sort_name", "id")
    )


def quota_members_to_seat(*, quota: Quota, limit: int = 300) -> list[Person]:
    """Members of the circle who do not hold a seat yet (names only)."""
    if quota.unit is None:
        return []
    seated = RSVP.objects.filter(event=quota.event, status=RSVP.Status.GOING).values("person_id")
    ids = PersonUnit.objects.filter(unit=quota.unit).values("person_id")
    return list(
        Person.objects.filter(pk__in=ids).exclude(pk__in=seated).order_by("sort_name", "id")[:limit]
    )


def attendance_for_person(*, actor: Any, person: Person, limit: int = 20) -> list[RSVP]:
    """A person's RSVPs and attendance, for events the actor may see."""
    unit_ids = access.unit_ids_in_scope(actor, permissions.EVENTS_VIEW)
    if not unit_ids:
        return []
    return list(
        RSVP.objects.filter(person=person, event__owner_unit_id__in=unit_ids)
        .select_related("event")
        .order_by("-event__starts_at")[:limit]
    )


@dataclass
class GroupRow:
    name: str
    quota: Quota | None
    held: int
    filled: int
    came: int
    new_people: int

    @property
    def percent(self) -> int:
        return round(100 * self.filled / self.held) if self.held else 0


def mobilization_dashboard(*, actor: Any, event: Event) -> list[GroupRow]:
    """Seats held and filled, people who came and new people, per circle or partner, and
    the shared pool last."""
    access.require(actor, permissions.EVENTS_VIEW, event.owner_unit)
    counted = RSVP.objects.filter(event=event).filter(
        Q(status=RSVP.Status.GOING) | Q(attendance=RSVP.Attendance.ATTENDED)
    )
    rows: list[GroupRow] = []
    groups: list[Quota | None] = [*event.quotas.select_related("unit", "partner"), None]
    for quota in groups:
        mine = counted.filter(quota=quota) if quota else counted.filter(quota__isnull=True)
        rows.append(
            GroupRow(
                name=quota.holder_name if quota else "",
                quota=quota,
                held=quota.held if quota else pool_seats(event),
                filled=mine.filter(status=RSVP.Status.GOING).count(),
                came=mine.filter(attendance=RSVP.Attendance.ATTENDED).count(),
                new_people=mine.filter(is_new_person=True).count(),
            )
        )
    return rows


def roster_rows(*, actor: Any, event: Event, vehicle: int | None = None) -> list[dict[str, Any]]:
    """The people going, with their group and vehicle; phones only for those who may see
    contact details."""
    rows = rsvp_list(actor=actor, event=event, vehicle=vehicle).filter(status=RSVP.Status.GOING)
    with_phone = access.can(actor, permissions.PEOPLE_VIEW_CONTACTS, event.owner_unit)
    out: list[dict[str, Any]] = []
    for rsvp in rows.prefetch_related("person__phones") if with_phone else rows:
        phone = ""
        if with_phone:
            phones = list(rsvp.person.phones.all())
            phone = phones[0].number if phones else ""
        out.append(
            {
                "rsvp": rsvp,
                "name": rsvp.person.display_name,
                "group": rsvp.quota.holder_name if rsvp.quota else "",
                "vehicle": rsvp.vehicle.name if rsvp.vehicle else "",
                "status": rsvp.get_status_display(),
                "came": rsvp.get_attendance_display(),
                "phone": phone,
            }
        )
    return out


@dataclass
class SeatSeries:
    """Seats filled in one group over time: (moment, seats filled from then on)."""

    name: str
    quota: Quota | None
    held: int
    points: list[tuple[datetime, int]]


def seat_history(*, actor: Any, event: Event) -> list[SeatSeries]:
    """Seats filled over time per circle or partner, and the shared pool last, from the
    notes the services leave at each change. A group with no notes yet (seats filled
    before notes were kept) is drawn from the RSVPs holding its seats now."""
    access.require(actor, permissions.EVENTS_VIEW, event.owner_unit)
    logs: dict[int | None, list[tuple[datetime, int]]] = {}
    for quota_id, at, filled in (
        SeatLog.objects.filter(event=event)
        .order_by("at", "id")
        .values_list("quota_id", "at", "filled")
    ):
        logs.setdefault(quota_id, []).append((at, filled))
    series: list[SeatSeries] = []
    groups: list[Quota | None] = [*event.quotas.select_related("unit", "partner"), None]
    for quota in groups:
        key = quota.pk if quota else None
        points = logs.get(key)
        if points is None:
            going = RSVP.objects.filter(event=event, status=RSVP.Status.GOING, quota=quota)
            times = sorted(going.values_list("created_at", flat=True))
            points = [(at, n) for n, at in enumerate(times, start=1)]
        series.append(
            SeatSeries(
                name=quota.holder_name if quota else "",
                quota=quota,
                held=quota.held if quota else pool_seats(event),
                points=points,
            )
        )
    return series


def host_choices(
    *, actor: Any, event: Event | None = None
) -> tuple[list[OrgUnit], list[PartnerOrganization]]:
    """What an event form may offer as co-hosts and partners: units the actor manages events
    of, partners the actor may see, and those the event already has."""
    from leaven.people.selectors import partners_for_actor

    units = list(
        OrgUnit.objects.filter(access.units_in_scope(actor, permissions.EVENTS_MANAGE)).order_by(
            "path"
        )
    )
    partners = list(partners_for_actor(actor=actor).order_by("name"))
    if event is not None:
        units = [u for u in units if u.pk != event.owner_unit_id]
        units += [u for u in event.co_host_units.all() if u not in units]
        partners += [p for p in event.partners.all() if p not in partners]
    return units, partners
