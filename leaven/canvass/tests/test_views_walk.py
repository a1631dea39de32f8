"""The offline page's endpoints: the walk list holds only what the walk needs, the sync is
idempotent, and a revoked or ended assignment answers the signal that wipes the phone."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from leaven.canvass.models import ContactAttempt
from leaven.core.models import AuditEvent


def _post(client, assignment, results):
    return client.post(
        reverse("canvass:sync", args=[assignment.pk]),
        data=json.dumps({"results": results}),
        content_type="application/json",
    )


def test_walk_list_holds_only_what_the_walk_needs(client_for, captain, assignment, block):
    response = client_for(captain).get(reverse("canvass:walklist", args=[assignment.pk]))
    data = response.json()
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    assert len(data["doors"]) == 10
    door = data["doors"][0]
    assert set(door) == {"household_id", "position", "address", "people"}
    assert set(door["people"][0]) == {"id", "first_name", "language", "stage"}
    text = json.dumps(data, ensure_ascii=False)
    assert "Hernández" not in text  # family names stay on the server
    assert "Chicago" not in text and "60608" not in text
    assert data["script"]["text_es"].startswith("Hola")
    assert AuditEvent.objects.filter(verb="canvass.walklist_downloaded").count() == 1


def test_walk_page_itself_holds_no_personal_data(client_for, captain, assignment):
    body = client_for(captain).get(reverse("canvass:walk", args=[assignment.pk])).content.decode()
    assert "Rosa" not in body and "Blue Island" not in body
    assert "walk-config" in body


def test_sync_twice_adds_nothing_the_second_time(client_for, captain, assignment):
    client = client_for(captain)
    household = assignment.turf.doors.first().household
    results = [
        {
            "uuid": str(uuid.uuid4()),
            "household_id": household.pk,
            "result": "not_home",
            "at": timezone.now().isoformat(),
        }
    ]
    first = _post(client, assignment, results).json()
    second = _post(client, assignment, results).json()
    assert (first["created"], first["duplicates"]) == (1, 0)
    assert (second["created"], second["duplicates"]) == (0, 1)
    assert ContactAttempt.objects.count() == 1


def test_sync_with_a_bad_body_is_a_400(client_for, captain, assignment):
    client = client_for(captain)
    response = client.post(
        reverse("canvass:sync", args=[assignment.pk]), data="{oops", content_type="application/json"
    )
    assert response.status_code == 400
    response = client.post(
        reverse("canvass:sync", args=[assignment.pk]),
        data='{"results": 3}',
        content_type="application/json",
    )
    assert response.status_code == 400


def test_revoked_assignment_answers_the_wipe_signal(client_for, coordinator, captain, assignment):
    from leaven.canvass.services import assignment_revoke

    assignment_revoke(actor=coordinator, assignment=assignment)
    client = client_for(captain)
    response = client.get(reverse("canvass:walklist", args=[assignment.pk]))
    assert response.status_code == 410 and response.json() == {"revoked": True}
    response = _post(client, assignment, [])
    assert response.status_code == 410 and response.json() == {"revoked": True}


def test_ended_shift_answers_the_wipe_signal(client_for, captain, assignment):
    assignment.ends_at = timezone.now() - timedelta(minutes=1)
    assignment.save(update_fields=["ends_at"])
    response = client_for(captain).get(reverse("canvass:walklist", args=[assignment.pk]))
    assert response.status_code == 410 and response.json() == {"expired": True}


def test_signed_out_gets_401_not_a_login_page(client, assignment):
    response = client.get(reverse("canvass:walklist", args=[assignment.pk]))
    assert response.status_code == 401 and response.json() == {"signed_out": True}


def test_sync_needs_the_csrf_token(captain, assignment):
    client = Client(enforce_csrf_checks=True)
    client.force_login(captain, backend="django.contrib.auth.backends.ModelBackend")
    response = _post(client, assignment, [])
    assert response.status_code == 403


def test_outsider_cannot_fetch_the_walk_list_or_post_results(client_for, outsider, assignment):
    """A captain (here a coordinator) of another committee: 404 for both, nothing stored."""
    client = client_for(outsider)
    household = assignment.turf.doors.first().household
    assert client.get(reverse("canvass:walklist", args=[assignment.pk])).status_code == 404
    response = _post(
        client,
        assignment,
        [{"uuid": str(uuid.uuid4()), "household_id": household.pk, "result": "spoke"}],
    )
    assert response.status_code == 404
    assert not ContactAttempt.objects.exists()
    assert AuditEvent.objects.filter(verb="access.denied", object_type="assignment").exists()


def test_another_captain_of_the_same_committee_cannot_use_my_assignment(
    client_for, assignment, tree
):
    from conftest import _user

    other = _user("other-captain@example.org", "captain", tree.committee_a)
    client = client_for(other)
    assert client.get(reverse("canvass:walklist", args=[assignment.pk])).status_code == 404
    assert client.get(reverse("canvass:walk", args=[assignment.pk])).status_code == 404
