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


# Leader links ---------------------------------------------------------------------------


def test_leader_link_expires_at_its_days_or_the_event_end(bus, admin, tree, settings):
    """A group's link works for the configured days, and never past the event's end."""
    from leaven.events import selectors, tokens

    event, circle, _parish = bus
    token = tokens.leader(circle)
    assert selectors.leader_link(token=token).is_open
    assert circle.link_closes_at == event.ends_at
    after_end = event.ends_at + timedelta(minutes=1)
    assert selectors.leader_link(token=token, now=after_end).state == "expired"
    settings.LEAVEN_EVENTS_LEADER_LINK_DAYS = 1
    short = services.quota_add(actor=admin, event=event, unit=tree.committee_a, seats=1)
    assert short.link_closes_at < event.ends_at
    later = timezone.now() + timedelta(days=1, minutes=1)
    assert selectors.leader_link(token=tokens.leader(short), now=later).state == "expired"
    assert selectors.leader_link(token=tokens.leader(short)).is_open


def test_revoke_then_issue_a_new_link(bus, admin):
    """Revoking stops the link at once; a new link works and the revoked one stays dead;
    both are audited with ids only."""
    from leaven.core.models import AuditEvent
    from leaven.events import selectors, tokens

    _event, circle, _parish = bus
    first = tokens.leader(circle)
    circle = services.quota_link_revoke(actor=admin, quota=circle)
    assert selectors.leader_link(token=first).state == "revoked"
    circle = services.quota_link_issue(actor=admin, quota=circle, days=3)
    second = tokens.leader(circle)
    assert selectors.leader_link(token=second).is_open
    assert selectors.leader_link(token=first).state == "revoked"
    assert circle.link_expires_at is not None
    assert circle.link_expires_at - circle.link_issued_at == timedelta(days=3)
    verbs = list(
        AuditEvent.objects.filter(verb__startswith="quota.link")
        .order_by("pk")
        .values_list("verb", "detail")
    )
    assert verbs == [
        ("quota.link_revoked", {"quota": circle.pk}),
        ("quota.link_issued", {"quota": circle.pk, "days": 3}),
    ]


def test_issuing_a_link_checks_the_days_the_event_and_the_actor(bus, admin, outsider):
    from django.http import Http404

    from leaven.events import selectors, tokens

    event, circle, _parish = bus
    with pytest.raises(ValidationError):
        services.quota_link_issue(actor=admin, quota=circle, days=0)
    with pytest.raises(ValidationError):
        services.quota_link_issue(actor=outsider, quota=circle)
    with pytest.raises(ValidationError):
        services.quota_link_revoke(actor=outsider, quota=circle)
    assert selectors.leader_link(token=tokens.leader(circle)).is_open
    Quota.objects.filter(pk=circle.pk).update(link_version=1)
    forged = tokens.leader(Quota(pk=circle.pk, link_version=5))
    with pytest.raises(Http404):
        selectors.leader_link(token=forged)
    event.ends_at = timezone.now() - timedelta(minutes=1)
    event.starts_at = event.ends_at - timedelta(hours=1)
    event.save()
    with pytest.raises(ValidationError):
        services.quota_link_issue(actor=admin, quota=circle)


# Seats over time ------------------------------------------------------------------------


def test_seat_history_follows_fills_frees_and_the_waitlist(bus, contact, admin, tree):
    """Each change of seats filled in a group leaves one note; a cancelled pool seat
    moves the waitlist up, so the pool's line stays level."""
    from leaven.events import selectors
    from leaven.events.models import SeatLog

    event, circle, parish = bus
    first = services.quota_seat_fill(quota=circle, contact=contact(email="a@example.org"))
    services.quota_seat_fill(quota=circle, contact=contact(email="b@example.org"))
    services.quota_seat_free(quota=circle, rsvp=first)
    pool_a = services.rsvp_submit(event=event, contact=contact(email="p@example.org"))
    services.rsvp_submit(event=event, contact=contact(email="q@example.org"))  # waitlist
    services.rsvp_cancel(rsvp=pool_a)
    history = {s.name or "pool": s for s in selectors.seat_history(actor=admin, event=event)}
    assert [n for _at, n in history[circle.holder_name].points] == [0, 1, 2, 1]
    assert [n for _at, n in history["pool"].points] == [0, 1]
    assert [n for _at, n in history[parish.holder_name].points] == [0]
    assert history[circle.holder_name].held == 3
    assert SeatLog.objects.filter(quota=circle).count() == 4


def test_seat_history_without_notes_comes_from_the_rsvps(bus, contact, admin, outsider):
    """Seats filled before notes were kept are drawn from the RSVPs holding them; an
    outsider gets 404."""
    from django.http import Http404

    from leaven.events import selectors
    from leaven.events.models import SeatLog

    event, circle, _parish = bus
    services.quota_seat_fill(quota=circle, contact=contact(email="a@example.org"))
    services.quota_seat_fill(quota=circle, contact=contact(email="b@example.org"))
    SeatLog.objects.all().delete()
    history = selectors.seat_history(actor=admin, event=event)
    assert [n for _at, n in history[0].points] == [1, 2]
    with pytest.raises(Http404):
        selectors.seat_history(actor=outsider, event=event)
