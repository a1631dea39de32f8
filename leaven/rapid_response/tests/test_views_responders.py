"""The responder roster pages: the list with consent, adding a person of the unit found by
name, editing skills, languages, hours and area, deactivating; English and Spanish; the
outsider case."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leaven.rapid_response import services
from leaven.rapid_response.models import Responder

from .conftest import PILSEN

pytestmark = pytest.mark.django_db


def test_roster_lists_responders_with_consent(client_for, tree, dispatcher, make_responder):
    """The list shows skills, languages, hours and whether the phone takes urgent alerts."""
    make_responder(0.1, skills=["verifier", "driver"], language="es")
    make_responder(0.2, urgent=False, windows=[{"days": [0], "start": "18:00", "end": "23:00"}])
    response = client_for(dispatcher).get(reverse("rapid_response:responders"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Responder1" in page and "Responder2" in page
    assert "Verifier, Driver" in page
    assert "Takes round-the-clock alerts" in page
    assert "no round-the-clock consent" in page
    assert "Mon 18:00–23:00" in page
    assert "+1312" not in page  # no phone numbers on the roster


def test_roster_in_spanish(client_for, tree, dispatcher, make_responder):
    make_responder(0.1)
    client = client_for(dispatcher)
    client.cookies["django_language"] = "es"
    page = client.get(reverse("rapid_response:responders")).content.decode()
    assert "Agregar un respondedor" in page
    assert "Recibe alertas las 24 horas" in page


def test_add_a_responder_found_by_name(client_for, tree, dispatcher, make_person, pilsen_precinct):
    """Search by name, pick the person, give a precinct and hours: they join the roster."""
    precinct, household = pilsen_precinct
    person = make_person(given_name="Rosa", family_name="Linares", household=household)
    client = client_for(dispatcher)
    url = reverse("rapid_response:responder_add")
    found = client.get(url, {"unit": tree.committee_a.pk, "q": "rosa"}).content.decode()
    assert f'value="{person.pk}"' in found
    assert "Ward 25 Precinct 7" in found
    partial = client.get(url, {"unit": tree.committee_a.pk, "q": "ros"}, HTTP_HX_REQUEST="true")
    assert f'value="{person.pk}"' in partial.content.decode()
    assert "<form" not in partial.content.decode()
    response = client.post(
        url,
        {
            "unit": tree.committee_a.pk,
            "person": person.pk,
            "skills": ["legal_observer"],
            "languages": ["es", "en"],
            "days": ["5", "6"],
            "start": "08:00",
            "end": "20:00",
            "precinct": precinct.code,
        },
    )
    assert response.status_code == 302
    responder = Responder.objects.get(person=person)
    assert responder.owner_unit == tree.committee_a
    assert responder.windows == [{"days": [5, 6], "start": "08:00", "end": "20:00"}]
    assert responder.languages == ["es", "en"]
    assert responder.precinct == precinct.code


def test_add_with_a_pin_keeps_only_the_cell(client_for, tree, dispatcher, make_person):
    person = make_person()
    lat, lon = PILSEN[0] + 0.0031, PILSEN[1] - 0.0017
    client_for(dispatcher).post(
        reverse("rapid_response:responder_add"),
        {
            "unit": tree.committee_a.pk,
            "person": person.pk,
            "languages": ["en"],
            "always": "on",
            "lat": lat,
            "lon": lon,
        },
    )
    responder = Responder.objects.get(person=person)
    assert responder.windows == []
    assert (responder.lat, responder.lon) == services.cell_centre(services.cell_of(lat, lon))
    assert (responder.lat, responder.lon) != (lat, lon)


def test_add_with_errors_keeps_the_input_and_says_why(client_for, tree, dispatcher, make_person):
    """No person, no area, no hours: clear errors, in Spanish too, and nothing is lost."""
    person = make_person(given_name="Rosa")
    client = client_for(dispatcher)
    client.cookies["django_language"] = "es"
    response = client.post(
        reverse("rapid_response:responder_add"),
        {"unit": tree.committee_a.pk, "q": "rosa", "languages": ["es"], "skills": ["driver"]},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Elija a una persona de la lista." in page
    assert "Elija los días" in page
    assert f'value="{person.pk}"' in page
    response = client.post(
        reverse("rapid_response:responder_add"),
        {"unit": tree.committee_a.pk, "person": person.pk, "languages": ["es"], "always": "on"},
    )
    assert response.status_code == 400
    assert (
        "Elija un precinto de residencia o ponga un alfiler en el mapa."
        in response.content.decode()
    )
    assert not Responder.objects.exists()


def test_edit_and_deactivate(client_for, tree, dispatcher, make_responder):
    responder = make_responder(0.1)
    client = client_for(dispatcher)
    url = reverse("rapid_response:responder_edit", args=[responder.pk])
    page = client.get(url).content.decode()
    assert 'value="verifier"' in page
    response = client.post(
        url,
        {
            "skills": ["verifier"],
            "languages": ["es"],
            "always": "on",
            "lat": responder.lat,
            "lon": responder.lon,
        },
    )
    assert response.status_code == 302
    responder.refresh_from_db()
    assert responder.is_verifier and responder.languages == ["es"]
    client.post(reverse("rapid_response:responder_active", args=[responder.pk]), {"active": "0"})
    responder.refresh_from_db()
    assert not responder.active
    roster = client.get(reverse("rapid_response:responders")).content.decode()
    assert "Responder1" not in roster
    roster = client.get(reverse("rapid_response:responders"), {"inactive": "1"}).content.decode()
    assert "Responder1" in roster


def test_outsider_gets_404(client_for, tree, outsider, dispatcher_b, make_responder, make_person):
    """A coordinator of another committee has no roster pages; a dispatcher of another
    committee cannot open, change or add to this committee's roster."""
    responder = make_responder(0.1)
    person = make_person()
    for user in (outsider, dispatcher_b):
        client = client_for(user)
        assert (
            client.get(
                reverse("rapid_response:responders"), {"unit": tree.committee_a.pk}
            ).status_code
            == 404
        )
        assert (
            client.get(reverse("rapid_response:responder_edit", args=[responder.pk])).status_code
            == 404
        )
        assert (
            client.post(
                reverse("rapid_response:responder_active", args=[responder.pk]), {"active": "0"}
            ).status_code
            == 404
        )
        assert (
            client.post(
                reverse("rapid_response:responder_add"),
                {
                    "unit": tree.committee_a.pk,
                    "person": person.pk,
                    "languages": ["en"],
                    "always": "on",
                    "lat": PILSEN[0],
                    "lon": PILSEN[1],
                },
            ).status_code
            == 404
        )
    responder.refresh_from_db()
    assert responder.active
    assert Responder.objects.count() == 1


def test_picking_a_person_of_another_committee_is_404(client_for, tree, dispatcher, make_person):
    stranger = make_person(tree.committee_b)
    response = client_for(dispatcher).post(
        reverse("rapid_response:responder_add"),
        {
            "unit": tree.committee_a.pk,
            "person": stranger.pk,
            "languages": ["en"],
            "always": "on",
            "lat": PILSEN[0],
            "lon": PILSEN[1],
        },
    )
    assert response.status_code == 404
    assert not Responder.objects.exists()
