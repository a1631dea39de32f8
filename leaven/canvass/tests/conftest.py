"""Fixtures for the canvass tests: a block of households with residents, a script with
questions and stage rules, and a turf assigned to the captain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Block:
    households: list[Any]
    people: list[Any]


@pytest.fixture
def block(tree, make_person, admin):
    """40 households on a 5 x 8 grid of streets in Pilsen (precincts P1 and P2 of ward W1),
    one resident each, and 5 in Little Village."""
    from leaven.people.models import Household
    from leaven.people.services import household_get_or_create

    households, people = [], []
    for i in range(40):
        row, col = divmod(i, 8)
        household = household_get_or_create(
            actor=admin,
            owner_unit=tree.committee_a,
            street=f"{1800 + 2 * i} S Blue Island Ave",
            city="Chicago",
            state="IL",
            zip_code="60608",
            latitude=41.85 + row * 0.001,
            longitude=-87.66 + col * 0.001,
        )
        households.append(household)
        people.append(
            make_person(
                given_name=f"Rosa{i}",
                family_name="Hernández",
                language="es" if i % 2 else "en",
                household=household,
            )
        )
    Household.objects.filter(pk__in=[h.pk for h in households[:24]]).update(
        precinct_code="P1", ward_code="W1"
    )
    Household.objects.filter(pk__in=[h.pk for h in households[24:]]).update(
        precinct_code="P2", ward_code="W1"
    )
    for i in range(5):
        household = household_get_or_create(
            actor=admin,
            owner_unit=tree.committee_b,
            street=f"{2600 + 2 * i} W 26th St",
            city="Chicago",
            state="IL",
            latitude=41.84,
            longitude=-87.70 + i * 0.001,
        )
        make_person(tree.committee_b, given_name=f"Lupe{i}", household=household)
    for household in households:
        household.refresh_from_db()
    return Block(households, people)


@pytest.fixture
def script(coordinator, tree):
    from leaven.canvass.services import Choice, question_add, script_create

    script = script_create(
        actor=coordinator,
        owner_unit=tree.committee_a,
        name="Tenant meeting",
        text_en="Hi, I'm a neighbor with the Pilsen committee.",
        text_es="Hola, soy una vecina del comité de Pilsen.",
    )
    question_add(
        actor=coordinator,
        script=script,
        kind="single",
        text_en="Will you come to the meeting?",
        text_es="¿Vendrá a la reunión?",
        choices=[Choice("yes", "Yes", "Sí"), Choice("no", "No", "No")],
        stage_rules={"yes": "supporter"},
    )
    question_add(
        actor=coordinator,
        script=script,
        kind="scale",
        text_en="How much do you support rent control?",
        text_es="¿Cuánto apoya el control de rentas?",
        stage_rules={"5": "volunteer"},
    )
    question_add(
        actor=coordinator,
        script=script,
        kind="multiple",
        text_en="Which issues matter most?",
        text_es="¿Qué temas le importan más?",
        choices=[Choice("rent", "Rent", "Renta"), Choice("schools", "Schools", "Escuelas")],
    )
    question_add(
        actor=coordinator,
        script=script,
        kind="text",
        text_en="Anything else?",
        text_es="¿Algo más?",
    )
    return script


@pytest.fixture
def turfs(coordinator, tree, block, script):
    from leaven.canvass.services import Area, turf_cut

    return turf_cut(
        actor=coordinator,
        unit=tree.committee_a,
        area=Area(ward="W1"),
        doors_per_turf=10,
        name="Pilsen",
        script=script,
    )


@pytest.fixture
def assignment(coordinator, captain, turfs):
    from django.utils import timezone

    from leaven.canvass.services import assignment_create

    now = timezone.now()
    return assignment_create(
        actor=coordinator,
        turf=turfs[0],
        user=captain,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=3),
    )
