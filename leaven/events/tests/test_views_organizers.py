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


# Editing --------------------------------------------------------------------------------


def _edit_data(event, **changes):
    data = {
        "title_en": event.title_en, "title_es": event.title_es,
        "description_en": "", "description_es": "", "kind": event.kind,
        "visibility": event.visibility, "status": event.status,
        "starts_at": "2026-12-03T19:00", "ends_at": "2026-12-03T21:00",
        "address": "", "online_url": "", "latitude": "", "longitude": "",
        "capacity": event.capacity, "release_at": "",
    }  # fmt: skip
    data.update(changes)
    return data


def test_edit_page_saves_times_in_the_events_zone_and_tells_people_once(
    client_for, coordinator, make_event, contact
):
    """Saving a new time reads it in the event's zone and leaves one new-time message for
    each person; the page shows the event's current values first."""
    from leaven.events.models import EventMessage

    event = make_event(capacity=5)
    rsvp = services.rsvp_submit(event=event, contact=contact())
    c = client_for(coordinator)
    url = reverse("events:event_edit", args=[event.pk])
    page = c.get(url).content.decode()
    assert 'value="Taller Conozca Sus Derechos"' in page
    data = _edit_data(event, title_es="Taller de derechos", capacity=8)
    assert c.post(url, data).status_code == 302
    assert c.post(url, data).status_code == 302
    event.refresh_from_db()
    assert event.starts_at.isoformat().startswith("2026-12-04T01:00")
    assert (event.title_es, event.capacity) == ("Taller de derechos", 8)
    updates = EventMessage.objects.filter(rsvp=rsvp, kind="updated", state="pending")
    assert updates.count() == 1


def test_edit_bad_input_keeps_what_was_typed(client_for, coordinator, make_event):
    """An end before the start is refused beside the field, in Spanish, keeping the title."""
    event = make_event()
    c = client_for(coordinator)
    response = c.post(
        reverse("events:event_edit", args=[event.pk]),
        _edit_data(event, title_en="Renamed", ends_at="2026-12-03T18:00"),
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="Renamed"' in page
    assert "El final debe ser después del inicio." in page
    event.refresh_from_db()
    assert event.title_en == "Know Your Rights training"


def test_edit_shifts_and_co_hosts(client_for, coordinator, make_event, admin, tree):
    """Shifts are edited on the same page; co-hosts offered are units the coordinator
    organizes, never another committee."""
    from datetime import timedelta

    event = make_event()
    shift = services.shift_add(
        actor=admin, event=event, label_en="Morning", starts_at=event.starts_at,
        ends_at=event.starts_at + timedelta(hours=1),
    )  # fmt: skip
    c = client_for(coordinator)
    url = reverse("events:event_edit", args=[event.pk])
    page = c.get(url).content.decode()
    assert tree.circle_a.name in page and tree.committee_b.name not in page
    prefix = f"shift-{shift.pk}-"
    data = _edit_data(event, co_host_units=[tree.circle_a.pk])
    data |= {
        prefix + "label_en": "Morning", prefix + "label_es": "Mañana",
        prefix + "starts_at": "2026-12-03T19:00", prefix + "ends_at": "2026-12-03T20:00",
        prefix + "capacity": 4,
    }  # fmt: skip
    assert c.post(url, data).status_code == 302
    shift.refresh_from_db()
    assert (shift.label_es, shift.capacity) == ("Mañana", 4)
    assert list(event.co_host_units.all()) == [tree.circle_a]
    data["co_host_units"] = [tree.committee_b.pk]
    assert c.post(url, data).status_code == 400


def test_create_with_co_hosts_and_partners(client_for, coordinator, tree):
    from leaven.people.models import PartnerOrganization

    partner = PartnerOrganization.objects.create(
        owner_unit=tree.committee_a, name="Parish", sector="faith"
    )
    response = client_for(coordinator).post(
        reverse("events:event_create"),
        {
            "title_en": "March", "owner_unit": tree.committee_a.pk, "kind": "action",
            "visibility": "public", "starts_at": "2026-12-03T19:00",
            "ends_at": "2026-12-03T21:00", "capacity": 0,
            "co_host_units": [tree.circle_a.pk], "partners": [partner.pk],
        },
    )  # fmt: skip
    assert response.status_code == 302
    event = Event.objects.get()
    assert list(event.co_host_units.all()) == [tree.circle_a]
    assert list(event.partners.all()) == [partner]


@pytest.mark.parametrize("user", ["outsider", "captain"])
def test_outsider_and_captain_get_404_on_edit(client_for, request, event, user):
    """Only those who manage the event's unit may edit it: others get 404, and nothing
    changes."""
    c = client_for(request.getfixturevalue(user))
    url = reverse("events:event_edit", args=[event.pk])
    assert c.get(url).status_code == 404
    assert c.post(url, _edit_data(event, title_en="Taken over")).status_code == 404
    event.refresh_from_db()
    assert event.title_en != "Taken over"


# Leader links ---------------------------------------------------------------------------


def test_organizer_revokes_and_reissues_a_leader_link(client_for, coordinator, event, admin, tree):
    from leaven.events import tokens
    from leaven.events.models import Quota

    quota = services.quota_add(actor=admin, event=event, unit=tree.circle_a, seats=2)
    old = tokens.leader(quota)
    c = client_for(coordinator)
    url = reverse("events:quota_link", args=[event.pk, quota.pk])
    c.post(url, {"action": "revoke"})
    assert "Link revoked" in c.get(reverse("events:event_detail", args=[event.pk])).content.decode()
    assert c.get(reverse("events:leader", args=[old])).status_code == 410
    c.post(url, {"action": "issue", f"link-{quota.pk}-days": "5"})
    quota = Quota.objects.get(pk=quota.pk)
    assert not quota.link_revoked
    assert c.get(reverse("events:leader", args=[tokens.leader(quota)])).status_code == 200
    assert c.get(reverse("events:leader", args=[old])).status_code == 410


def test_outsider_cannot_revoke_a_leader_link(client_for, outsider, event, admin, tree):
    from leaven.events.models import Quota

    quota = services.quota_add(actor=admin, event=event, unit=tree.circle_a, seats=2)
    response = client_for(outsider).post(
        reverse("events:quota_link", args=[event.pk, quota.pk]), {"action": "revoke"}
    )
    assert response.status_code == 404
    assert not Quota.objects.get(pk=quota.pk).link_revoked


def test_dashboard_draws_seats_over_time(client_for, coordinator, event, admin, tree, contact):
    """One SVG chart per group and the pool, described in words for screen readers."""
    quota = services.quota_add(actor=admin, event=event, unit=tree.circle_a, seats=2)
    services.quota_seat_fill(quota=quota, contact=contact(given_name="Ana"))
    page = (
        client_for(coordinator)
        .get(reverse("events:mobilization_dashboard", args=[event.pk]))
        .content.decode()
    )
    assert page.count('<svg class="ev-chart"') == 2
    assert f"{tree.circle_a.name}: 1 of 2 seats filled" in page
    assert "style=" not in page.split("<main")[1]
