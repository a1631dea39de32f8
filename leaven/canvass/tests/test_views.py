"""Canvass pages: home, cutting, walk list, assignments, scripts, strength; every one is a
404 for a coordinator of another committee."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leaven.canvass.models import Assignment, Script, Turf, TurfDoor


def test_home_for_a_captain_shows_my_turfs_and_my_precinct(client_for, captain, assignment):
    response = client_for(captain).get(reverse("canvass:home"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "My turfs" in body and assignment.turf.name in body
    assert reverse("canvass:walk", args=[assignment.pk]) in body
    assert "My precinct" in body


def test_home_for_an_organizer_lists_turfs(client_for, coordinator, turfs):
    body = client_for(coordinator).get(reverse("canvass:home")).content.decode()
    for turf in turfs:
        assert turf.name in body


def test_home_in_spanish(client_for, captain, assignment):
    client = client_for(captain)
    client.cookies["django_language"] = "es"
    body = client.get(reverse("canvass:home")).content.decode()
    assert "Mis zonas" in body


def test_cut_page_cuts_turfs(client_for, coordinator, tree, block):
    client = client_for(coordinator)
    assert client.get(reverse("canvass:turf_cut")).status_code == 200
    response = client.post(
        reverse("canvass:turf_cut"),
        {"unit": tree.committee_a.pk, "ward": "W1", "doors_per_turf": 20, "name": "Norte"},
    )
    assert response.status_code == 302
    assert Turf.objects.filter(name__startswith="Norte").count() == 2


def test_cut_page_keeps_input_on_error(client_for, coordinator, tree, block):
    response = client_for(coordinator).post(
        reverse("canvass:turf_cut"),
        {"unit": tree.committee_a.pk, "ward": "W99", "doors_per_turf": 20, "name": "Sur"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "No households with a location" in body
    assert 'value="Sur"' in body
    assert not Turf.objects.exists()


def test_map_data_has_doors_but_no_names(client_for, coordinator, turfs, block):
    data = client_for(coordinator).get(reverse("canvass:turf_map_data")).json()
    assert len(data["features"]) == len(turfs)
    assert sum(len(f["geometry"]["coordinates"]) for f in data["features"]) == 40
    assert "Rosa" not in str(data)


def test_walk_list_page_in_walking_order(client_for, captain, assignment):
    turf = assignment.turf
    body = client_for(captain).get(reverse("canvass:turf_detail", args=[turf.pk])).content.decode()
    streets = [
        d.household.street for d in turf.doors.select_related("household").order_by("position")
    ]
    positions = [body.index(street) for street in streets]
    assert positions == sorted(positions)
    assert "Not contacted yet" in body


def test_assign_and_revoke_from_the_page(client_for, coordinator, captain, turfs):
    client = client_for(coordinator)
    response = client.post(
        reverse("canvass:turf_assign", args=[turfs[1].pk]),
        {"user": captain.pk, "starts_at": "2030-05-01T09:00", "ends_at": "2030-05-01T13:00"},
    )
    assert response.status_code == 302
    assignment = Assignment.objects.get(turf=turfs[1])
    client.post(reverse("canvass:assignment_revoke", args=[assignment.pk]))
    assignment.refresh_from_db()
    assert assignment.revoked_at is not None


def test_assign_a_too_long_shift_says_why(client_for, coordinator, captain, turfs):
    client = client_for(coordinator)
    response = client.post(
        reverse("canvass:turf_assign", args=[turfs[1].pk]),
        {"user": captain.pk, "starts_at": "2030-05-01T06:00", "ends_at": "2030-05-01T20:00"},
        follow=True,
    )
    assert "at most 12 hours" in response.content.decode()
    assert not Assignment.objects.filter(turf=turfs[1]).exists()


def test_captain_hands_off_from_the_page(client_for, captain, assignment, tree):
    from conftest import _user

    teammate = _user("teammate@example.org", "captain", tree.committee_a)
    response = client_for(captain).post(
        reverse("canvass:assignment_handoff", args=[assignment.pk]), {"user": teammate.pk}
    )
    assert response.status_code == 302
    assert Assignment.objects.filter(user=teammate, turf=assignment.turf).exists()


def test_move_a_door_from_the_page(client_for, coordinator, turfs):
    door = turfs[0].doors.first()
    client_for(coordinator).post(
        reverse("canvass:door_move", args=[door.pk]), {"to_turf": turfs[2].pk}
    )
    assert TurfDoor.objects.filter(turf=turfs[2], household=door.household).exists()


def test_scripts_pages(client_for, coordinator, tree, script):
    client = client_for(coordinator)
    response = client.post(
        reverse("canvass:script_list"),
        {
            "unit": tree.committee_a.pk,
            "name": "Know your rights",
            "text_en": "Hi",
            "text_es": "Hola",
        },
    )
    new = Script.objects.get(name="Know your rights")
    assert response.status_code == 302
    response = client.post(
        reverse("canvass:script_detail", args=[new.pk]),
        {
            "kind": "single",
            "text_en": "Come to the training?",
            "text_es": "¿Viene al taller?",
            "choices": "yes | Yes | Sí\nno | No | No",
            "stage_rules": "yes = Supporter",
        },
    )
    assert response.status_code == 302
    assert new.questions.get().stage_rules == {"yes": "supporter"}
    body = client.get(reverse("canvass:script_detail", args=[script.pk])).content.decode()
    assert "¿Vendrá a la reunión?" in body


def test_question_with_bad_answers_keeps_the_input(client_for, coordinator, script):
    response = client_for(coordinator).post(
        reverse("canvass:script_detail", args=[script.pk]),
        {"kind": "single", "text_en": "Q?", "text_es": "¿P?", "choices": "yes | Yes"},
    )
    assert response.status_code == 200
    assert "code | English | Spanish" in response.content.decode()


def test_strength_and_ward_pages(client_for, coordinator, captain, assignment):
    import uuid

    from leaven.canvass.services import results_record

    household = assignment.turf.doors.first().household
    results_record(
        actor=captain,
        assignment=assignment,
        turf=assignment.turf,
        results=[{"uuid": str(uuid.uuid4()), "household_id": household.pk, "result": "spoke"}],
    )
    client = client_for(coordinator)
    code = household.precinct_code
    body = client.get(reverse("canvass:precinct_strength", args=[code])).content.decode()
    assert "Coverage" in body and "Election results" in body
    ward = client.get(reverse("canvass:ward_ranking", args=["W1"])).content.decode()
    assert "P1" in ward and "P2" in ward
    assert client.get(reverse("canvass:ward_list")).status_code == 200


def test_person_page_shows_door_results(client_for, coordinator, captain, assignment):
    import uuid

    from leaven.canvass.services import results_record

    household = assignment.turf.doors.first().household
    person = household.residents.first()
    results_record(
        actor=captain,
        assignment=assignment,
        turf=assignment.turf,
        results=[
            {
                "uuid": str(uuid.uuid4()),
                "household_id": household.pk,
                "person_id": person.pk,
                "result": "refused",
            }
        ],
    )
    client = client_for(coordinator)
    body = client.get(reverse("people:person_detail", args=[person.pk])).content.decode()
    assert "At the door" in body and "Refused" in body
    body = client.get(reverse("people:household_detail", args=[household.pk])).content.decode()
    assert "Refused" in body


def test_service_worker_is_served_for_the_canvass_scope(client):
    response = client.get(reverse("canvass:service_worker"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert "/accounts/logout/" in response.content.decode()


@pytest.mark.parametrize(
    "name",
    ["turf_detail", "walk", "walklist", "precinct", "ward", "script", "door_move", "handoff"],
)
def test_outsider_gets_404(client_for, outsider, assignment, script, name):
    """A coordinator of another committee cannot open any of this committee's canvassing."""
    client = client_for(outsider)
    turf = assignment.turf
    door = turf.doors.first()
    urls = {
        "turf_detail": ("get", reverse("canvass:turf_detail", args=[turf.pk])),
        "walk": ("get", reverse("canvass:walk", args=[assignment.pk])),
        "walklist": ("get", reverse("canvass:walklist", args=[assignment.pk])),
        "precinct": ("get", reverse("canvass:precinct_strength", args=["P1"])),
        "ward": ("get", reverse("canvass:ward_ranking", args=["W1"])),
        "script": ("get", reverse("canvass:script_detail", args=[script.pk])),
        "door_move": ("post", reverse("canvass:door_move", args=[door.pk])),
        "handoff": ("post", reverse("canvass:assignment_handoff", args=[assignment.pk])),
    }
    method, url = urls[name]
    response = getattr(client, method)(url)
    assert response.status_code == 404
