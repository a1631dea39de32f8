"""Organizers' pages: the event list and page, door check-in with a walk-in, the roster and
its CSV, the dashboard; an outsider gets 404 everywhere."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leaven.core.models import AuditEvent
from leaven.events import services
from leaven.events.models import RSVP, Event
from leaven.people.models import Person


@pytest.fixture
def event(make_event):
    return make_event(capacity=5, is_mobilization=True, kind="bus_trip")


def test_event_list_and_detail(client_for, coordinator, event, contact):
    services.rsvp_submit(event=event, contact=contact(given_name="Inés"))
    c = client_for(coordinator)
    assert event.title_en in c.get(reverse("events:event_list")).content.decode()
    page = c.get(reverse("events:event_detail", args=[event.pk])).content.decode()
    assert "Inés" in page


def test_create_event_reads_times_in_the_units_zone(client_for, coordinator, tree):
    c = client_for(coordinator)
    response = c.post(
        reverse("events:event_create"),
        {
            "title_en": "House meeting", "owner_unit": tree.committee_a.pk, "kind": "house_meeting",
            "visibility": "public", "starts_at": "2026-12-03T19:00", "ends_at": "2026-12-03T21:00",
            "capacity": 0,
        },
    )  # fmt: skip
    assert response.status_code == 302
    event = Event.objects.get()
    assert event.starts_at.isoformat().startswith("2026-12-04T01:00")


@pytest.mark.parametrize(
    "name", ["events:event_detail", "events:checkin", "events:roster", "events:roster_csv",
             "events:mobilization_dashboard"],
)  # fmt: skip
def test_outsider_gets_404_on_the_events_rsvps(client_for, outsider, event, name):
    """A coordinator of another committee gets 404, and the attempt is audited."""
    response = client_for(outsider).get(reverse(name, args=[event.pk]))
    assert response.status_code == 404


def test_outsider_cannot_check_in(client_for, outsider, event, contact):
    rsvp = services.rsvp_submit(event=event, contact=contact())
    response = client_for(outsider).post(
        reverse("events:checkin", args=[event.pk]), {"action": "in", "rsvp": rsvp.pk}
    )
    assert response.status_code == 404
    assert RSVP.objects.get().attendance == "unknown"


def test_door_check_in_and_walk_in(client_for, captain, event, contact):
    rsvp = services.rsvp_submit(event=event, contact=contact(given_name="Marta"))
    c = client_for(captain)
    url = reverse("events:checkin", args=[event.pk])
    assert "Marta" in c.get(url, {"q": "mar"}).content.decode()
    c.post(url, {"action": "in", "rsvp": rsvp.pk})
    assert RSVP.objects.get(pk=rsvp.pk).attendance == "attended"
    c.post(
        url,
        {"action": "walkin", "walkin-given_name": "Chuy", "walkin-language": "es",
         "walkin-phone": "312 555 0199"},
    )  # fmt: skip
    walk_in = RSVP.objects.get(source="walk_in")
    assert walk_in.attendance == "attended"
    assert Person.objects.get(pk=walk_in.person_id).given_name == "Chuy"


def test_walk_in_bad_phone_keeps_the_name(client_for, captain, event):
    response = client_for(captain).post(
        reverse("events:checkin", args=[event.pk]),
        {"action": "walkin", "walkin-given_name": "Chuy", "walkin-language": "es",
         "walkin-phone": "12"},
    )  # fmt: skip
    assert response.status_code == 400
    assert 'value="Chuy"' in response.content.decode()
    assert not Person.objects.exists()


def test_viewer_cannot_open_check_in(client_for, viewer, event):
    assert client_for(viewer).get(reverse("events:checkin", args=[event.pk])).status_code == 404


def test_roster_csv_is_audited(client_for, coordinator, event, admin, tree, contact):
    quota = services.quota_add(actor=admin, event=event, unit=tree.circle_a, seats=2)
    services.quota_seat_fill(quota=quota, contact=contact(given_name="+cmd"))
    response = client_for(coordinator).get(reverse("events:roster_csv", args=[event.pk]))
    assert "'+cmd" in response.content.decode()
    assert AuditEvent.objects.filter(verb="event.roster_exported").count() == 1


def test_dashboard_counts_by_circle(client_for, coordinator, event, admin, tree, contact):
    quota = services.quota_add(actor=admin, event=event, unit=tree.circle_a, seats=2)
    services.quota_seat_fill(quota=quota, contact=contact(given_name="Ana"))
    page = client_for(coordinator).get(reverse("events:mobilization_dashboard", args=[event.pk]))
    assert tree.circle_a.name in page.content.decode()


def test_person_page_shows_attendance(client_for, coordinator, event, contact):
    rsvp = services.rsvp_submit(event=event, contact=contact())
    page = client_for(coordinator).get(reverse("people:person_detail", args=[rsvp.person_id]))
    assert event.title_en in page.content.decode()


def test_cancel_event_withdraws_reminders(client_for, coordinator, event, contact):
    from leaven.events.models import EventMessage

    services.rsvp_submit(event=event, contact=contact())
    c = client_for(coordinator)
    c.post(reverse("events:event_status", args=[event.pk]), {"status": "cancelled"})
    event.refresh_from_db()
    assert event.status == "cancelled"
    assert not EventMessage.objects.filter(kind="reminder", state="pending").exists()


def test_outsider_cannot_cancel_the_event(client_for, outsider, event):
    response = client_for(outsider).post(
        reverse("events:event_status", args=[event.pk]), {"status": "cancelled"}
    )
    assert response.status_code == 404
    event.refresh_from_db()
    assert event.status == "scheduled"
