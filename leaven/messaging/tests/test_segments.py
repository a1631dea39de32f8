"""Segment conditions compile to a query over people: every kind, and/or/not, the registry
for other apps, and the actor's scope always applied."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Q

from leaven.messaging import services
from leaven.messaging.segments import compile_conditions, register_condition
from leaven.people.services import household_get_or_create, person_tag, tag_create

pytestmark = pytest.mark.django_db


def _names(actor, unit, tree):
    qs = services.segment_queryset(actor=actor, conditions=tree, owner_unit=unit)
    return sorted(qs.values_list("given_name", flat=True))


@pytest.fixture
def people(add_person, tree, admin):
    home = household_get_or_create(
        actor=admin, owner_unit=tree.committee_a, street="1 Main St", city="Chicago", state="IL"
    )
    from leaven.people.models import Household

    Household.objects.filter(pk=home.pk).update(precinct_code="12", ward_code="25")
    ana = add_person(given_name="Ana", language="es", stage="volunteer", email="ana@example.org")
    add_person(given_name="Bo", language="en", stage="leader", phone="3125550111")
    cy = add_person(
        tree.circle_a,
        given_name="Cy",
        language="es",
        phone="3125550112",
        urgent=True,
        household=home,
    )
    add_person(tree.committee_b, given_name="Dee", language="es")
    tag = tag_create(actor=admin, owner_unit=tree.committee_a, name="Tenants")
    person_tag(actor=admin, person=ana, tag=tag)
    person_tag(actor=admin, person=cy, tag=tag)
    return tag


def test_each_kind(organizer, tree, people):
    unit = tree.committee_a
    assert _names(organizer, unit, {}) == ["Ana", "Bo", "Cy"]
    assert _names(organizer, unit, {"kind": "units", "value": [tree.circle_a.pk]}) == ["Cy"]
    assert _names(organizer, unit, {"kind": "tags", "value": [people.pk]}) == ["Ana", "Cy"]
    assert _names(organizer, unit, {"kind": "stage", "value": ["leader"]}) == ["Bo"]
    assert _names(organizer, unit, {"kind": "language", "value": ["es"]}) == ["Ana", "Cy"]
    assert _names(organizer, unit, {"kind": "precinct", "value": ["12"]}) == ["Cy"]
    assert _names(organizer, unit, {"kind": "ward", "value": ["25"]}) == ["Cy"]
    assert _names(organizer, unit, {"kind": "consent", "value": "email"}) == ["Ana"]
    assert _names(organizer, unit, {"kind": "consent", "value": "sms"}) == ["Bo", "Cy"]
    assert _names(organizer, unit, {"kind": "consent", "value": "urgent"}) == ["Cy"]


def test_and_or_not(organizer, tree, people):
    unit = tree.committee_a
    es = {"kind": "language", "value": ["es"]}
    leader = {"kind": "stage", "value": ["leader"]}
    tagged = {"kind": "tags", "value": [people.pk]}
    assert _names(organizer, unit, {"op": "or", "children": [es, leader]}) == ["Ana", "Bo", "Cy"]
    assert _names(organizer, unit, {"op": "and", "children": [es, tagged]}) == ["Ana", "Cy"]
    assert _names(organizer, unit, {"op": "not", "children": [tagged]}) == ["Bo"]
    nested = {
        "op": "and",
        "children": [
            es,
            {"op": "not", "children": [{"kind": "units", "value": [tree.circle_a.pk]}]},
        ],
    }
    assert _names(organizer, unit, nested) == ["Ana"]


def test_never_outside_the_segment_unit_or_the_actor_scope(outsider, organizer, tree, people):
    """Dee is in the other committee: neither the unit nor a condition brings her in."""
    assert "Dee" not in _names(organizer, tree.region, {})
    assert _names(outsider, tree.committee_a, {}) == []


def test_registry_lets_other_apps_add_kinds(organizer, tree, people):
    from leaven.messaging.segments import REGISTRY

    register_condition("given_name_is", lambda value: Q(given_name=value))
    try:
        tree_ = {"kind": "given_name_is", "value": "Bo"}
        assert _names(organizer, tree.committee_a, tree_) == ["Bo"]
    finally:
        REGISTRY.pop("given_name_is")


@pytest.mark.parametrize(
    "tree_",
    [
        {"kind": "nope"},
        {"op": "xor", "children": []},
        {"op": "not", "children": []},
        {"kind": "tags", "value": "x"},
        {"kind": "consent", "value": "fax"},
        ["a"],
    ],
)
def test_malformed_conditions_are_refused(tree_):
    with pytest.raises(ValidationError):
        compile_conditions(tree_)


def test_segment_units_outside_scope_are_refused(organizer, tree):
    with pytest.raises(ValidationError):
        services.segment_create(
            actor=organizer,
            owner_unit=tree.committee_a,
            name="x",
            conditions={"kind": "units", "value": [tree.committee_b.pk]},
        )
