"""Demo events for the demo organization: a Know Your Rights training, a house meeting and a
bus to the state capitol with circle quotas, with RSVPs from the demo's people."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils import timezone

from leaven.core.models import OrgUnit
from leaven.events import services
from leaven.events.models import Event, SeatLog
from leaven.people.models import PartnerOrganization, Person, PersonUnit


def _at(unit: OrgUnit, days: int, hour: int) -> datetime:
    zone = ZoneInfo(unit.time_zone)
    day = timezone.now().astimezone(zone).date() + timedelta(days=days)
    return datetime.combine(day, time(hour, 0), tzinfo=zone)


def events_demo(*, unit: OrgUnit, people: Sequence[Person], rng: random.Random) -> list[Event]:
    """Create three bilingual events owned by `unit` (a committee) and RSVP some of
    `people` to them. Returns the events."""
    actor = services.FormActor("demo", [("admin", unit.path, unit.pk)])
    pool = list(people)
    rng.shuffle(pool)
    training = services.event_create(
        actor=actor,
        owner_unit=unit,
        title_en="Know Your Rights training",
        title_es="Taller Conozca Sus Derechos",
        description_en=(
            "What to do if immigration agents come to your door, your work or your car. "
            "Bring your family; childcare and dinner provided."
        ),
        description_es=(
            "Qué hacer si agentes de inmigración llegan a su puerta, su trabajo o su carro. "
            "Traiga a su familia; habrá cuidado de niños y cena."
        ),
        kind=Event.Kind.TRAINING,
        starts_at=_at(unit, 6, 18),
        ends_at=_at(unit, 6, 20),
        address="1850 S Throop St, Chicago, IL",
        capacity=40,
    )
    house = services.event_create(
        actor=actor,
        owner_unit=unit,
        title_en="House meeting on the block",
        title_es="Reunión de casa en la cuadra",
        description_en="Neighbors talk about rent, schools and safety, and plan what comes next.",
        description_es="Los vecinos hablan de la renta, las escuelas y la seguridad, y planean.",
        kind=Event.Kind.HOUSE_MEETING,
        visibility=Event.Visibility.MEMBERS,
        starts_at=_at(unit, 3, 19),
        ends_at=_at(unit, 3, 21),
        address="House of a member (address sent with the confirmation)",
        capacity=15,
    )
    bus = services.event_create(
        actor=actor,
        owner_unit=unit,
        title_en="Bus to the state capitol",
        title_es="Autobús al capitolio estatal",
        description_en="Lobby day for driver's licenses for all. The bus leaves at 6am sharp.",
        description_es=(
            "Día de cabildeo por licencias para todos. El autobús sale a las 6 en punto."
        ),
        kind=Event.Kind.BUS_TRIP,
        starts_at=_at(unit, 14, 6),
        ends_at=_at(unit, 14, 20),
        address="Meet at the parish parking lot",
        capacity=40,
        is_mobilization=True,
        release_at=_at(unit, 11, 12),
    )
    services.vehicle_add(actor=actor, event=bus, name="Bus 1", seats=40)
    circles = list(unit.children.filter(kind=OrgUnit.Kind.CIRCLE).order_by("id")[:3])
    quotas = [
        services.quota_add(actor=actor, event=bus, unit=circle, seats=size)
        for circle, size in zip(circles, (8, 6, 6), strict=False)
    ]
    partner = PartnerOrganization.objects.filter(owner_unit=unit).order_by("id").first()
    if partner is not None:
        quotas.append(services.quota_add(actor=actor, event=bus, partner=partner, seats=4))
    for event, share in ((training, 30), (house, 10)):
        for person in pool[:share]:
            services.rsvp_add_person(actor=actor, event=event, person=person)
        rng.shuffle(pool)
    for quota in quotas:
        if quota.unit is None:
            continue
        members = Person.objects.filter(
            pk__in=PersonUnit.objects.filter(unit=quota.unit).values("person_id")
        ).order_by("id")[: quota.seats - 1]
        for person in members:
            try:
                services.rsvp_add_person(actor=actor, event=bus, person=person, quota=quota)
            except ValidationError:
                break
    for person in pool[:12]:
        services.rsvp_add_person(actor=actor, event=bus, person=person)
    _spread_seat_history(bus, rng)
    return [training, house, bus]


def _spread_seat_history(event: Event, rng: random.Random) -> None:
    """The demo fills its bus in a moment; spread those fills over the twelve days since
    the bus was announced, so that the dashboard's chart looks like a real drive."""
    now = timezone.now()
    start = now - timedelta(days=12)
    Event.objects.filter(pk=event.pk).update(created_at=start)
    logs = SeatLog.objects.filter(event=event).order_by("quota_id", "at", "id")
    by_group: dict[int | None, list[SeatLog]] = {}
    for log in logs:
        by_group.setdefault(log.quota_id, []).append(log)
    changed: list[SeatLog] = []
    for rows in by_group.values():
        moments = sorted(rng.uniform(0, 1) ** 0.7 for _ in rows[1:])
        rows[0].at = start
        for row, share in zip(rows[1:], moments, strict=True):
            row.at = start + (now - start) * share
        changed += rows
    SeatLog.objects.bulk_update(changed, ["at"])
