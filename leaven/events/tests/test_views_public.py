"""Public pages: the RSVP page (Spanish errors, bots refused, the known never revealed),
the signed cancel link, calendar files and a circle leader's signed link."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse
from django.utils import timezone

from leaven.events import services, tokens
from leaven.events.models import RSVP
from leaven.people.models import Person
from leaven.people.services import EmailInput


def _url(event):
    return reverse("events:event_public", args=[event.slug])


def test_rsvp_page_in_spanish(client, make_event):
    response = client.get(_url(make_event()), HTTP_ACCEPT_LANGUAGE="es")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Taller Conozca Sus Derechos" in body and "Nombre" in body


def test_rsvp_creates_person_and_pending_confirmation(client, make_event, rsvp_data):
    event = make_event()
    response = client.post(_url(event), rsvp_data(), HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 200
    rsvp = RSVP.objects.get()
    assert rsvp.person.language == "es"
    assert rsvp.messages.filter(kind="confirmation", state="pending", language="es").exists()
    assert "Gracias, Rosa" in response.content.decode()


def test_bad_input_is_explained_in_the_pages_language_and_kept(client, make_event, rsvp_data):
    response = client.post(
        _url(make_event()),
        rsvp_data(given_name="", email="not-an-email", family_name="Tapia"),
        HTTP_ACCEPT_LANGUAGE="es",
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Por favor, díganos su nombre" in body or "obligatorio" in body
    assert 'value="Tapia"' in body
    assert Person.objects.count() == 0


def test_never_reveals_who_is_known(client, make_event, make_person, rsvp_data):
    """A known email gets the same answer as a new one, with the typed name, not the stored
    one."""
    make_person(given_name="Guadalupe", emails=[EmailInput(address="known@example.org")])
    event = make_event()
    known = client.post(_url(event), rsvp_data(given_name="X", email="known@example.org"))
    new = client.post(_url(event), rsvp_data(given_name="X", email="new@example.org"))
    assert "Guadalupe" not in known.content.decode()
    assert known.status_code == new.status_code == 200
    strip = lambda r: r.content.decode().split("<main")[1].split("cancel/")[0]  # noqa: E731
    assert strip(known) == strip(new)


def test_honeypot_refuses_a_bot(client, make_event, rsvp_data):
    response = client.post(_url(make_event()), rsvp_data(website="http://spam.example"))
    assert response.status_code == 400
    assert RSVP.objects.count() == 0


def test_too_fast_is_refused(client, make_event, rsvp_data):
    started = tokens.make(tokens.FORM_STARTED, int(time.time()))
    response = client.post(_url(make_event()), rsvp_data(started=started))
    assert response.status_code == 400
    assert RSVP.objects.count() == 0


def test_rate_limit_per_address(client, make_event, rsvp_data, settings):
    settings.LEAVEN_EVENTS_RSVP_PER_HOUR = 2
    event = make_event()
    codes = [
        client.post(_url(event), rsvp_data(email=f"r{n}@example.org")).status_code for n in range(3)
    ]
    assert codes == [200, 200, 429]
    assert RSVP.objects.count() == 2


def test_members_only_event_is_404_for_the_public(client, make_event):
    event = make_event(visibility="unit")
    assert client.get(_url(event)).status_code == 404


def test_cancel_link(client, make_event, contact):
    event = make_event(capacity=1)
    rsvp = services.rsvp_submit(event=event, contact=contact(email="a@example.org"))
    waiting = services.rsvp_submit(event=event, contact=contact(email="b@example.org"))
    url = reverse("events:rsvp_cancel", args=[tokens.make(tokens.CANCEL, rsvp.pk)])
    assert client.get(url).status_code == 200
    assert RSVP.objects.get(pk=rsvp.pk).status == "going"
    client.post(url)
    assert RSVP.objects.get(pk=rsvp.pk).status == "cancelled"
    assert RSVP.objects.get(pk=waiting.pk).status == "going"


def test_cancel_link_cannot_be_forged(client, make_event, contact):
    rsvp = services.rsvp_submit(event=make_event(), contact=contact())
    forged = tokens.make(tokens.LEADER, rsvp.pk)  # right id, wrong purpose
    assert client.post(reverse("events:rsvp_cancel", args=[forged])).status_code == 404
    assert client.post(reverse("events:rsvp_cancel", args=["1:abc"])).status_code == 404
    assert RSVP.objects.get().status == "going"


def test_event_ics_parses(client, make_event):
    from icalendar import Calendar

    response = client.get(reverse("events:event_ics", args=[make_event().slug]))
    assert response["Content-Type"].startswith("text/calendar")
    assert len(Calendar.from_ical(response.content).walk("VEVENT")) == 1


def test_unit_and_person_feeds(client, make_event, contact, tree):
    from icalendar import Calendar

    event = make_event()
    rsvp = services.rsvp_submit(event=event, contact=contact())
    unit_url = reverse(
        "events:unit_feed", args=[tokens.make(tokens.UNIT_FEED, tree.committee_a.pk)]
    )
    person_url = reverse(
        "events:person_feed", args=[tokens.make(tokens.PERSON_FEED, rsvp.person_id)]
    )
    for url in (unit_url, person_url):
        events = Calendar.from_ical(client.get(url).content).walk("VEVENT")
        assert [str(e["summary"]) for e in events] == [event.title_en]
    unsigned = reverse("events:unit_feed", args=[str(tree.committee_a.pk)])
    assert client.get(unsigned).status_code == 404


@pytest.fixture
def bus(make_event, admin, tree):
    from leaven.core.services import unit_create

    event = make_event(title_en="Bus", capacity=10, is_mobilization=True)
    other_circle = unit_create(
        actor=None, name="Police accountability", kind="circle", parent=tree.committee_a,
        as_operator=True,
    )  # fmt: skip
    mine = services.quota_add(actor=admin, event=event, unit=tree.circle_a, seats=3)
    theirs = services.quota_add(actor=admin, event=event, unit=other_circle, seats=3)
    return event, mine, theirs


def test_leader_fills_a_seat(client, bus):
    _event, mine, _theirs = bus
    url = reverse("events:leader", args=[tokens.leader(mine)])
    response = client.post(url, {"action": "add", "given_name": "Rafa", "language": "es"})
    assert response.status_code == 302
    assert services.quota_used(mine) == 1


def test_outsider_leader_link_cannot_see_or_change_another_circles_seats(client, bus, contact):
    """A leader's link shows only their own seats, and cannot free another circle's."""
    _event, mine, theirs = bus
    other = services.quota_seat_fill(quota=theirs, contact=contact(given_name="Zacarías"))
    url = reverse("events:leader", args=[tokens.leader(mine)])
    page = client.get(url).content.decode()
    assert "Zacarías" not in page
    response = client.post(url, {"action": "free", "rsvp": other.pk})
    assert response.status_code == 404
    assert RSVP.objects.get(pk=other.pk).status == "going"
    client.post(url, {"action": "release"})
    theirs.refresh_from_db()
    assert theirs.released == 0


def test_leader_cannot_overfill(client, bus):
    _event, mine, _theirs = bus
    url = reverse("events:leader", args=[tokens.leader(mine)])
    for n in range(3):
        client.post(url, {"action": "add", "given_name": f"P{n}", "language": "en"})
    response = client.post(url, {"action": "add", "given_name": "Extra", "language": "en"})
    assert services.quota_used(mine) == 3
    assert "Extra" not in response.content.decode().split("seats-h")[1].split("add-h")[0]


def test_a_revoked_link_says_so_in_the_leaders_language(client, bus, admin):
    """A revoked link answers 410 with words in Spanish for a Spanish browser, and refuses
    to fill a seat."""
    _event, mine, _theirs = bus
    url = reverse("events:leader", args=[tokens.leader(mine)])
    services.quota_link_revoke(actor=admin, quota=mine)
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 410
    assert "Este enlace ya no funciona" in response.content.decode()
    response = client.post(url, {"action": "add", "given_name": "Rafa", "language": "es"})
    assert response.status_code == 410
    assert services.quota_used(mine) == 0


def test_an_expired_link_says_so(client, bus, settings):
    """A link past its days answers 410 and says it expired."""
    from datetime import timedelta

    from leaven.events.models import Quota

    _event, mine, _theirs = bus
    Quota.objects.filter(pk=mine.pk).update(link_expires_at=timezone.now() - timedelta(minutes=1))
    response = client.get(reverse("events:leader", args=[tokens.leader(mine)]))
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
