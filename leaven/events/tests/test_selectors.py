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


def test_host_choices_are_the_actors_units_and_partners(make_event, coordinator, outsider, tree):
    """An event form offers co-hosts the actor organizes and partners the actor sees, never
    another committee's; the event's own unit is not offered as its co-host."""
    from leaven.people.models import PartnerOrganization

    mine = PartnerOrganization.objects.create(
        owner_unit=tree.committee_a, name="Parish", sector="faith"
    )
    PartnerOrganization.objects.create(owner_unit=tree.committee_b, name="Union", sector="labor")
    event = make_event()
    units, partners = selectors.host_choices(actor=coordinator, event=event)
    assert units == [tree.circle_a] and partners == [mine]
    units, partners = selectors.host_choices(actor=outsider)
    assert units == [tree.committee_b] and [p.name for p in partners] == ["Union"]


def test_leader_link_is_one_groups_and_nothing_else(make_event, admin, tree):
    """A leader's token opens only its group; other signed tokens and forgeries are 404."""
    from leaven.events import tokens

    event = make_event(capacity=5, is_mobilization=True)
    quota = services.quota_add(actor=admin, event=event, unit=tree.circle_a, seats=2)
    link = selectors.leader_link(token=tokens.leader(quota))
    assert link.quota == quota and link.is_open
    for token in (tokens.make(tokens.LEADER, quota.pk), tokens.make(tokens.CANCEL, quota.pk), "x"):
        with pytest.raises(Http404):
            selectors.leader_link(token=token)


def test_quota_get_for_actor_outsider_gets_404(make_event, admin, outsider, tree):
    event = make_event(capacity=5, is_mobilization=True)
    quota = services.quota_add(actor=admin, event=event, unit=tree.circle_a, seats=2)
    assert selectors.quota_get_for_actor(actor=admin, event=event, pk=quota.pk) == quota
    with pytest.raises(Http404):
        selectors.quota_get_for_actor(actor=outsider, event=event, pk=quota.pk)


def test_co_hosted_events_show_in_the_co_hosts_list_and_feed(make_event, admin, outsider, tree):
    """A committee co-hosting another's event sees it in its list (not as its own) and in
    its calendar feed; the RSVPs stay with the owning unit."""
    event = make_event(co_host_units=[tree.committee_b])
    listed = list(selectors.event_list_for_actor(actor=outsider))
    assert listed == [event] and listed[0].owned is False
    assert list(selectors.unit_feed_events(unit=tree.committee_b)) == [event]
    with pytest.raises(Http404):
        selectors.rsvp_list(actor=outsider, event=event)
    unit_only = make_event(co_host_units=[tree.committee_b], visibility="unit")
    assert selectors.event_get_public(slug=unit_only.slug, user=outsider) == unit_only
