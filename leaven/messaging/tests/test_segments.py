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


@pytest.fixture
def members(add_person, tree, people):
    """Ana active on the sliding-scale tier, paid this spring; Bo lapsed on the standard
    tier, paid two years ago; Cy in grace on the standard tier, never paid."""
    from datetime import date

    from leaven.membership.models import DuesPayment, Membership, Tier
    from leaven.people.models import Person

    unit = tree.committee_a
    sliding = Tier.objects.create(
        owner_unit=unit, name_en="Sliding", name_es="Escala", amount_cents=500
    )
    standard = Tier.objects.create(
        owner_unit=unit, name_en="Standard", name_es="Normal", amount_cents=2000
    )
    rows = {}
    for name, tier, status in (
        ("Ana", sliding, "active"),
        ("Bo", standard, "lapsed"),
        ("Cy", standard, "grace"),
    ):
        person = Person.objects.get(given_name=name)
        rows[name] = Membership.objects.create(
            person=person, owner_unit=unit, tier=tier, amount_cents=tier.amount_cents, status=status
        )
    DuesPayment.objects.create(
        membership=rows["Ana"], amount_cents=500, paid_on=date(2026, 4, 2), method="cash"
    )
    DuesPayment.objects.create(
        membership=rows["Bo"], amount_cents=2000, paid_on=date(2024, 4, 2), method="cash"
    )
    return sliding, standard


def test_membership_status_tier_and_dues(organizer, tree, members):
    """Each part of a membership condition narrows it; all parts hold on one membership."""
    sliding, standard = members
    unit = tree.committee_a

    def membership(**value):
        return _names(organizer, unit, {"kind": "membership", "value": value})

    assert membership(status=["active"]) == ["Ana"]
    assert membership(status=["active", "grace"]) == ["Ana", "Cy"]
    assert membership(status=["lapsed"]) == ["Bo"]
    assert membership(tiers=[standard.pk]) == ["Bo", "Cy"]
    assert membership(tiers=[standard.pk], status=["grace"]) == ["Cy"]
    assert membership(tiers=[sliding.pk], status=["grace"]) == []
    assert membership(paid_since="2026-01-01") == ["Ana"]
    assert membership(paid_since="2024-01-01") == ["Ana", "Bo"]
    assert membership(paid_since="2024-01-01", status=["lapsed"]) == ["Bo"]
    # Not a member at all: "not active" includes people with no membership.
    not_active = {
        "op": "not",
        "children": [{"kind": "membership", "value": {"status": ["active"]}}],
    }
    assert _names(organizer, unit, not_active) == ["Bo", "Cy"]


@pytest.fixture
def attendance(tree, people):
    """A past meeting Ana came to and Bo missed; a rally next week Cy said yes to; an old
    training (a year ago) Bo came to."""
    from datetime import timedelta

    from django.utils import timezone

    from leaven.events.models import RSVP, Event
    from leaven.people.models import Person

    now = timezone.now()
    unit = tree.committee_a

    def event(slug, days):
        start = now + timedelta(days=days)
        return Event.objects.create(
            owner_unit=unit,
            slug=slug,
            title_en=slug,
            starts_at=start,
            ends_at=start + timedelta(hours=2),
        )

    meeting, rally, training = event("meeting", -10), event("rally", 7), event("training", -365)
    ana, bo, cy = (Person.objects.get(given_name=n) for n in ("Ana", "Bo", "Cy"))
    RSVP.objects.create(event=meeting, person=ana, attendance="attended")
    RSVP.objects.create(event=meeting, person=bo, attendance="no_show")
    RSVP.objects.create(event=rally, person=cy)
    RSVP.objects.create(event=rally, person=bo, status="cancelled")
    RSVP.objects.create(event=training, person=bo, attendance="attended")
    return meeting, rally, training


def test_event_rsvp_attended_and_recent_attendance(organizer, tree, attendance):
    meeting, rally, training = attendance
    unit = tree.committee_a
    # A cancelled RSVP is not "said they will come".
    assert _names(organizer, unit, {"kind": "event_rsvp", "value": [rally.pk]}) == ["Cy"]
    assert _names(organizer, unit, {"kind": "event_rsvp", "value": [meeting.pk]}) == ["Ana", "Bo"]
    # A no-show did not attend.
    assert _names(organizer, unit, {"kind": "event_attended", "value": [meeting.pk]}) == ["Ana"]
    both = [meeting.pk, training.pk]
    assert _names(organizer, unit, {"kind": "event_attended", "value": both}) == ["Ana", "Bo"]
    assert _names(organizer, unit, {"kind": "attended_within_days", "value": 30}) == ["Ana"]
    assert _names(organizer, unit, {"kind": "attended_within_days", "value": 400}) == [
        "Ana",
        "Bo",
    ]


@pytest.mark.parametrize(
    "node",
    [
        {"kind": "membership", "value": ["active"]},
        {"kind": "membership", "value": {"status": ["royalty"]}},
        {"kind": "membership", "value": {"paid_since": "last spring"}},
        {"kind": "event_rsvp", "value": "all"},
        {"kind": "attended_within_days", "value": 0},
        {"kind": "attended_within_days", "value": "soon"},
    ],
)
def test_malformed_membership_and_event_conditions_are_refused(node):
    with pytest.raises(ValidationError):
        compile_conditions(node)


def test_events_and_tiers_of_another_committee_are_refused(organizer, tree):
    """A segment cannot name an event or tier the sender may not see."""
    from datetime import timedelta

    from django.utils import timezone

    from leaven.events.models import Event
    from leaven.membership.models import Tier

    start = timezone.now()
    other_event = Event.objects.create(
        owner_unit=tree.committee_b,
        slug="other",
        title_en="Other",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
    )
    other_tier = Tier.objects.create(
        owner_unit=tree.committee_b, name_en="B", name_es="B", amount_cents=100
    )
    for conditions in (
        {"kind": "event_attended", "value": [other_event.pk]},
        {"kind": "membership", "value": {"tiers": [other_tier.pk]}},
    ):
        with pytest.raises(ValidationError):
            services.segment_create(
                actor=organizer, owner_unit=tree.committee_a, name="x", conditions=conditions
            )
