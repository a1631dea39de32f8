"""Demo canvassing for the demo organization: a bilingual script, turfs cut from the
committee's households, one turf assigned to a captain for today, and door results on the
first turfs."""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from leaven.canvass import selectors, services
from leaven.canvass.models import ResultCode
from leaven.core.models import OrgUnit
from leaven.people.models import Household, Person


@dataclass
class _DemoActor:
    """The demo loader acting with an admin role on one committee."""

    label: str
    granted_roles: list[tuple[str, str, int]]
    is_authenticated: bool = False
    is_active: bool = True
    pk: None = None

    def __str__(self) -> str:
        return self.label


def _area(unit: OrgUnit) -> services.Area | None:
    households = Household.objects.filter(
        owner_unit__path__startswith=unit.path, latitude__isnull=False
    )
    codes = Counter(households.exclude(precinct_code="").values_list("precinct_code", flat=True))
    if codes:
        return services.Area(precincts=tuple(code for code, _n in codes.most_common(12)))
    points = list(households.values_list("latitude", "longitude")[:5000])
    lats = [float(lat) for lat, lon in points if lat is not None and lon is not None]
    lons = [float(lon) for lat, lon in points if lat is not None and lon is not None]
    if not lats:
        return None
    ring = [
        [min(lons) - 0.001, min(lats) - 0.001],
        [max(lons) + 0.001, min(lats) - 0.001],
        [max(lons) + 0.001, max(lats) + 0.001],
        [min(lons) - 0.001, max(lats) + 0.001],
        [min(lons) - 0.001, min(lats) - 0.001],
    ]
    return services.Area(polygon=json.dumps({"type": "Polygon", "coordinates": [ring]}))


def canvass_demo(*, unit: OrgUnit, people: list[Person], rng: random.Random) -> list[Any]:
    """Returns the records it made (the script and the turfs)."""
    area = _area(unit)
    if area is None:
        return []
    actor = _DemoActor("demo", [("admin", unit.path, unit.pk)])
    script = services.script_create(
        actor=actor,
        owner_unit=unit,
        name="Tenant rights house meeting",
        text_en=(
            "Hi, I'm a neighbor with the committee. We're meeting on Thursday to talk about "
            "rent increases and repairs on our block. Can I ask you two quick questions?"
        ),
        text_es=(
            "Hola, soy su vecina del comité. Nos reunimos el jueves para hablar de los "
            "aumentos de renta y las reparaciones en la cuadra. ¿Le puedo hacer dos preguntas?"
        ),
    )
    meeting = services.question_add(
        actor=actor,
        script=script,
        kind="single",
        text_en="Will you come to the meeting on Thursday?",
        text_es="¿Vendrá a la reunión del jueves?",
        choices=[
            services.Choice("yes", "Yes", "Sí"),
            services.Choice("maybe", "Maybe", "Tal vez"),
            services.Choice("no", "No", "No"),
        ],
        stage_rules={"yes": "supporter"},
    )
    support = services.question_add(
        actor=actor,
        script=script,
        kind="scale",
        text_en="How much do you support a tenants' union in the building?",
        text_es="¿Cuánto apoya un sindicato de inquilinos en el edificio?",
        stage_rules={"5": "supporter"},
    )
    services.question_add(
        actor=actor,
        script=script,
        kind="multiple",
        text_en="Which problems have you had?",
        text_es="¿Qué problemas ha tenido?",
        choices=[
            services.Choice("rent", "Rent increase", "Aumento de renta"),
            services.Choice("repairs", "Repairs not done", "Reparaciones pendientes"),
            services.Choice("heat", "No heat", "Sin calefacción"),
        ],
    )
    try:
        turfs = services.turf_cut(
            actor=actor, unit=unit, area=area, doors_per_turf=25, name=unit.name, script=script
        )
    except ValidationError:
        return [script]
    now = timezone.now()
    for turf in turfs[:1]:
        walkers = selectors.walkers_for_turf(turf=turf)
        user = None
        for role in ("captain", "coordinator", "organizer"):
            user = user or walkers.filter(role_assignments__role=role).first()
        if user is not None:
            services.assignment_create(
                actor=actor, turf=turf, user=user, starts_at=now, ends_at=now + timedelta(hours=8)
            )
    codes = [c for c in ResultCode.values if c != ResultCode.SPOKE]
    for turf in turfs[:3]:
        results = []
        for door in turf.doors.select_related("household")[: max(1, turf.door_count * 2 // 3)]:
            residents = list(door.household.residents.all()[:1])
            spoke = rng.random() < 0.55 and bool(residents)
            item: dict[str, Any] = {
                "uuid": str(uuid.uuid4()),
                "household_id": door.household_id,
                "person_id": residents[0].pk if spoke else None,
                "result": ResultCode.SPOKE if spoke else rng.choice(codes),
                "at": (
                    now - timedelta(days=rng.randint(0, 20), hours=rng.randint(0, 8))
                ).isoformat(),
                "answers": [],
            }
            if spoke:
                item["answers"] = [
                    {
                        "uuid": str(uuid.uuid4()),
                        "question_id": meeting.pk,
                        "value": rng.choice(["yes", "yes", "maybe", "no"]),
                    },
                    {
                        "uuid": str(uuid.uuid4()),
                        "question_id": support.pk,
                        "value": str(rng.randint(2, 5)),
                    },
                ]
            results.append(item)
        services.results_record(
            actor=actor, assignment=None, turf=turf, results=results, stage_rules=False
        )
    made: list[Any] = [script, *turfs]
    return made
