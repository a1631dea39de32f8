"""Mobilizations: seat quotas per circle or partner, a shared waitlist filled in order,
release of unused seats (by a leader or at the deadline with a moving clock), vehicles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from leaven.events import services
from leaven.events.models import RSVP, Quota
from leaven.people.services import partner_create


@pytest.fixture
def bus(make_event, admin, tree):
    """A bus of 6: the circle holds 3, a partner 2, the pool 1."""
    event = make_event(
        title_en="Bus to the state capitol",
        kind="bus_trip",
        capacity=6,
        is_mobilization=True,
        release_at=timezone.now() + timedelta(days=2),
    )
    partner = partner_create(
        actor=admin, owner_unit=tree.committee_a, name="Parish of St. Pius", sector="faith"
    )
    circle = services.quota_add(actor=admin, event=event, unit=tree.circle_a, seats=3)
    parish = services.quota_add(actor=admin, event=event, partner=partner, seats=2)
    return event, circle, parish


def test_a_circle_cannot_overfill(bus, contact):
    event, circle, _parish = bus
    for n in range(3):
        services.quota_seat_fill(quota=circle, contact=contact(email=f"c{n}@example.org"))
    with pytest.raises(ValidationError):
        services.quota_seat_fill(quota=circle, contact=contact(email="c9@example.org"))
    assert services.quota_used(circle) == 3


def test_quotas_cannot_hold_more_than_the_seats(bus, admin, tree):
    event, _circle, _parish = bus
    with pytest.raises(ValidationError):
        services.quota_add(actor=admin, event=event, unit=tree.committee_a, seats=2)


def test_public_rsvps_use_the_pool_then_the_shared_waitlist(bus, contact):
    event, _circle, _parish = bus
    first = services.rsvp_submit(event=event, contact=contact(email="p1@example.org"))
    second = services.rsvp_submit(event=event, contact=contact(email="p2@example.org"))
    third = services.rsvp_submit(event=event, contact=contact(email="p3@example.org"))
    assert (first.status, second.status, third.status) == ("going", "waitlist", "waitlist")


def test_released_seats_go_to_the_waitlist_in_order(bus, contact):
    """The circle fills 1 of 3 and releases 2: the first two waiting get them, in order."""
    event, circle, _parish = bus
    services.quota_seat_fill(quota=circle, contact=contact(email="member@example.org"))
    services.rsvp_submit(event=event, contact=contact(email="p0@example.org"))
    waiting = [
        services.rsvp_submit(event=event, contact=contact(email=f"w{n}@example.org"))
        for n in range(3)
    ]
    assert services.quota_release(quota=circle) == 2
    statuses = [RSVP.objects.get(pk=r.pk).status for r in waiting]
    assert statuses == ["going", "going", "waitlist"]
    circle.refresh_from_db()
    assert circle.held == 1


def test_deadline_release_with_a_moving_clock(bus, contact):
    """Before the deadline nothing moves; after it, unused seats of every group go to the
    waitlist, once, however often the job runs."""
    event, circle, parish = bus
    services.quota_seat_fill(quota=circle, contact=contact(email="m1@example.org"))
    services.rsvp_submit(event=event, contact=contact(email="p0@example.org"))
    waiting = [
        services.rsvp_submit(event=event, contact=contact(email=f"w{n}@example.org"))
        for n in range(5)
    ]
    assert services.mobilization_release_due(now=event.release_at - timedelta(minutes=1)) == []
    assert all(RSVP.objects.get(pk=r.pk).status == "waitlist" for r in waiting)
    assert services.mobilization_release_due(now=event.release_at + timedelta(minutes=1)) == [
        event.pk
    ]
    statuses = [RSVP.objects.get(pk=r.pk).status for r in waiting]
    assert statuses == ["going", "going", "going", "going", "waitlist"]
    assert services.mobilization_release_due(now=event.release_at + timedelta(hours=1)) == []
    assert sum(q.held for q in Quota.objects.filter(event=event)) == 1


def test_after_the_deadline_a_freed_circle_seat_goes_to_the_pool(bus, contact):
    event, circle, _parish = bus
    seated = services.quota_seat_fill(quota=circle, contact=contact(email="m1@example.org"))
    services.rsvp_submit(event=event, contact=contact(email="p0@example.org"))
    services.mobilization_release_due(now=event.release_at + timedelta(minutes=1))
    late = services.rsvp_submit(event=event, contact=contact(email="late@example.org"))
    # Everything released went to the pool and is taken by the late RSVP or not: fill it.
    while late.status == "going":
        late = services.rsvp_submit(event=event, contact=contact(email=f"x{late.pk}@example.org"))
    services.quota_seat_free(quota=circle, rsvp=seated)
    late.refresh_from_db()
    assert late.status == "going"


def test_leader_cannot_free_another_groups_seat(bus, contact):
    event, circle, parish = bus
    theirs = services.quota_seat_fill(quota=parish, contact=contact(email="p@example.org"))
    with pytest.raises(ValidationError):
        services.quota_seat_free(quota=circle, rsvp=theirs)
    theirs.refresh_from_db()
    assert theirs.status == "going"


def test_partner_seat_makes_an_affiliated_person(bus, contact):
    _event, _circle, parish = bus
    rsvp = services.quota_seat_fill(quota=parish, contact=contact(email="new@example.org"))
    assert rsvp.is_new_person
    assert rsvp.person.affiliations.filter(organization=parish.partner).exists()


def test_circle_member_seated_from_the_list(bus, make_person, tree):
    _event, circle, _parish = bus
    member = make_person(tree.circle_a, given_name="Beto")
    rsvp = services.quota_seat_fill(quota=circle, person=member)
    assert rsvp.person_id == member.pk and not rsvp.is_new_person


def test_someone_outside_the_circle_cannot_be_picked(bus, make_person, tree):
    _event, circle, _parish = bus
    outsider_person = make_person(tree.committee_b)
    with pytest.raises(ValidationError):
        services.quota_seat_fill(quota=circle, person=outsider_person)


def test_vehicle_seats_are_enforced(bus, admin, contact):
    event, circle, _parish = bus
    van = services.vehicle_add(actor=admin, event=event, name="Van 1", seats=1)
    a = services.quota_seat_fill(quota=circle, contact=contact(email="a@example.org"))
    b = services.quota_seat_fill(quota=circle, contact=contact(email="b@example.org"))
    services.rsvp_assign_vehicle(actor=admin, rsvp=a, vehicle=van)
    with pytest.raises(ValidationError):
        services.rsvp_assign_vehicle(actor=admin, rsvp=b, vehicle=van)


def test_roster_export_is_formula_safe_and_audited(bus, admin, contact):
    from leaven.core.models import AuditEvent
    from leaven.events.selectors import roster_rows

    event, circle, _parish = bus
    services.quota_seat_fill(quota=circle, contact=contact(given_name="=HYPERLINK(1)"))
    data = services.roster_export(
        actor=admin, event=event, rows=roster_rows(actor=admin, event=event)
    )
    assert "'=HYPERLINK(1)" in data
    assert AuditEvent.objects.filter(verb="event.roster_exported", object_id=str(event.pk)).exists()
