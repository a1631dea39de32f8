"""Demo data for the demo organization: a responder roster around the committee, two closed
incidents with their timelines and an open one waiting for verification."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone

from leaven.core.models import OrgUnit
from leaven.people.models import Person
from leaven.rapid_response.models import (
    Alert,
    Incident,
    IncidentReport,
    Responder,
    Ring,
    Skill,
    StateChange,
)
from leaven.rapid_response.services import cell_centre, cell_of

# Chicago's Lower West Side; each committee is shifted a little so they do not overlap.
BASE = (41.8565, -87.6594)
STREETS = [
    "18th St & Blue Island Ave",
    "Cermak Rd & Ashland Ave",
    "26th St & Pulaski Rd",
    "Western Ave & 31st St",
    "Halsted St & 21st St",
]
DESCRIPTIONS = [
    "Dos camionetas sin placas y agentes con chalecos de ICE.",
    "Three unmarked SUVs parked outside the car wash, officers in vests.",
    "Retén en la esquina, revisando licencias.",
    "Officers waiting near the courthouse entrance.",
]


def rapid_response_demo(*, unit: OrgUnit, people: list[Person], rng: random.Random) -> list[Any]:
    """Responders from the committee's people, two closed incidents and an open one; the
    committee's public report page is opened."""
    now = timezone.now()
    OrgUnit.objects.filter(pk=unit.pk).update(takes_public_reports=True)
    unit.takes_public_reports = True
    shift = (unit.pk % 7) * 0.02
    centre = (BASE[0] + shift, BASE[1] - shift)
    made: list[Any] = []
    roster = people[: min(40, len(people))]
    responders = []
    for i, person in enumerate(roster):
        lat = centre[0] + rng.uniform(-0.04, 0.04)
        lon = centre[1] + rng.uniform(-0.05, 0.05)
        cell = cell_of(lat, lon)
        c_lat, c_lon = cell_centre(cell)
        skills = [rng.choice([Skill.LEGAL_OBSERVER, Skill.ACCOMPANIMENT, Skill.DRIVER])]
        if i % 6 == 0:
            skills.append(Skill.VERIFIER)
        windows: list[dict[str, Any]] = []
        if i % 3 == 1:
            windows = [{"days": [0, 1, 2, 3, 4], "start": "07:00", "end": "19:00"}]
        responders.append(
            Responder(
                person=person,
                owner_unit=unit,
                skills=skills,
                languages=["es", "en"] if i % 2 else [person.language],
                windows=windows,
                is_verifier=Skill.VERIFIER in skills,
                cell=cell,
                lat=c_lat,
                lon=c_lon,
            )
        )
    made += Responder.objects.bulk_create(responders)
    saved = list(Responder.objects.filter(owner_unit=unit).order_by("pk"))
    for days_ago, kind, final in ((12, "checkpoint", "closed"), (4, "sweep", "false_alarm")):
        at = now - dt.timedelta(days=days_ago, hours=rng.randint(1, 8))
        made.append(
            _incident(unit, centre, rng, at, kind, final, saved if final == "closed" else [])
        )
    made.append(_incident(unit, centre, rng, now - dt.timedelta(minutes=7), "traffic_stop", "", []))
    return made


def _incident(
    unit: OrgUnit,
    centre: tuple[float, float],
    rng: random.Random,
    at: dt.datetime,
    kind: str,
    final: str,
    responders: list[Responder],
) -> Incident:
    lat = centre[0] + rng.uniform(-0.02, 0.02)
    lon = centre[1] + rng.uniform(-0.02, 0.02)
    streets = rng.choice(STREETS)
    description = rng.choice(DESCRIPTIONS)
    incident = Incident.objects.create(
        owner_unit=unit,
        type=kind,
        lat=lat,
        lon=lon,
        cell=cell_of(lat, lon),
        cross_streets=streets,
        seen_at=at - dt.timedelta(minutes=10),
        description=description,
        officers=rng.randint(2, 8),
        created_at=at,
        last_report_at=at,
    )
    IncidentReport.objects.create(
        incident=incident,
        source=rng.choice(["public", "hotline"]),
        type=kind,
        lat=lat,
        lon=lon,
        cell=incident.cell,
        cross_streets=streets,
        seen_at=incident.seen_at,
        description=description,
        language=rng.choice(["es", "en"]),
        created_at=at,
    )
    steps = [("", "reported", "")]
    if final == "closed":
        steps += [
            ("reported", "verifying", ""),
            ("verifying", "confirmed", "Verificado en persona / verified in person"),
            ("confirmed", "closed", "Agents left after 40 minutes."),
        ]
    elif final == "false_alarm":
        steps += [("reported", "false_alarm", "A utility crew, not ICE.")]
    for n, (before, after, note) in enumerate(steps):
        StateChange.objects.create(
            incident=incident,
            from_state=before,
            to_state=after,
            note=note,
            at=at + dt.timedelta(minutes=6 * n),
        )
    if final:
        incident.state = final
        incident.closed_at = at + dt.timedelta(minutes=6 * len(steps))
    if responders:
        incident.confirmed_at = at + dt.timedelta(minutes=12)
        ring = Ring.objects.create(
            incident=incident,
            number=1,
            unit=unit,
            radius_km=4.0,
            alerted=min(12, len(responders)),
            started_at=incident.confirmed_at,
        )
        Alert.objects.bulk_create(
            Alert(
                incident=incident,
                responder=responder,
                ring=ring,
                ack=rng.choice(["going", "going", "cant", "pending"]),
                created_at=ring.started_at,
            )
            for responder in responders[:12]
        )
    incident.save()
    return incident
