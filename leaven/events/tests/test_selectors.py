"""Event reads are scoped: an outsider gets 404, lists hold only the actor's units' events,
and a person's attendance shows only events the actor may see."""

from __future__ import annotations

import pytest
from django.http import Http404

from leaven.core.models import AuditEvent
from leaven.events import selectors, services


def test_outsider_gets_404_and_is_audited(make_event, outsider):
    event = make_event()
    with pytest.raises(Http404):
        selectors.event_get_for_actor(actor=outsider, pk=event.pk)
    assert AuditEvent.objects.filter(verb="access.denied", object_id=str(event.pk)).exists()
    with pytest.raises(Http404):
        selectors.rsvp_list(actor=outsider, event=event)


def test_lists_are_scoped(make_event, coordinator, outsider, tree):
    mine = make_event()
    theirs = make_event(tree.committee_b)
    assert list(selectors.event_list_for_actor(actor=coordinator)) == [mine]
    assert list(selectors.event_list_for_actor(actor=outsider)) == [theirs]


def test_attendance_only_for_visible_events(make_event, coordinator, outsider, contact):
    rsvp = services.rsvp_submit(event=make_event(), contact=contact())
    assert selectors.attendance_for_person(actor=coordinator, person=rsvp.person) == [rsvp]
    assert selectors.attendance_for_person(actor=outsider, person=rsvp.person) == []


def test_search_folds_accents(make_event, coordinator, contact):
    event = make_event()
    services.rsvp_submit(event=event, contact=contact(given_name="José", family_name="Núñez"))
    assert selectors.rsvp_list(actor=coordinator, event=event, q="nunez").count() == 1
    assert selectors.rsvp_list(actor=coordinator, event=event, q="zzz").count() == 0


def test_quota_seats_hold_only_that_groups_people(make_event, admin, tree, contact):
    from leaven.core.services import unit_create

    event = make_event(capacity=6, is_mobilization=True)
    other = unit_create(
        actor=None, name="Ward team", kind="circle", parent=tree.committee_a, as_operator=True
    )
    mine = services.quota_add(actor=admin, event=event, unit=tree.circle_a, seats=2)
    theirs = services.quota_add(actor=admin, event=event, unit=other, seats=2)
    services.quota_seat_fill(quota=theirs, contact=contact(email="t@example.org"))
    assert list(selectors.quota_seats(quota=mine)) == []


def test_members_only_event_page_needs_a_role(make_event, viewer, outsider):
    from django.contrib.auth.models import AnonymousUser

    event = make_event(visibility="unit")
    assert selectors.event_get_public(slug=event.slug, user=viewer) == event
    for user in (AnonymousUser(), outsider):
        with pytest.raises(Http404):
            selectors.event_get_public(slug=event.slug, user=user)
