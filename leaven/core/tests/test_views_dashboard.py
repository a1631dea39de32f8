"""The dashboard: counts by stage, recent people and activity, my units; all scoped."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from leaven.people.services import person_set_stage


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Dashboard counts are cached per user id; ids repeat between tests."""
    cache.clear()
    yield
    cache.clear()


def test_dashboard_needs_sign_in(client, tree):
    """Someone not signed in is sent to the sign-in page."""
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_dashboard_counts_and_recent_people(coordinator, client_for, make_person, tree, admin):
    """A coordinator sees their committee's people counted by stage and listed as recent."""
    ana = make_person(given_name="Anabel", family_name="Quispe")
    make_person(given_name="Berta", family_name="Quispe", stage="volunteer")
    make_person(tree.circle_a, given_name="Celia", family_name="Quispe")
    person_set_stage(actor=admin, person=ana, stage="leader")
    response = client_for(coordinator).get("/")
    assert response.status_code == 200
    counts = response.context["counts"]
    assert counts["total"] == 3
    assert counts["leader"] == 1
    assert counts["volunteer"] == 1
    assert counts["unknown"] == 1
    names = {p.display_name for p in response.context["recent_people"]}
    assert names == {"Anabel Quispe", "Berta Quispe", "Celia Quispe"}
    assert "Anabel Quispe" in response.content.decode()


def test_dashboard_recent_activity(coordinator, client_for, make_person):
    """Recent activity in the coordinator's units is shown; views and denials are not."""
    person = make_person()
    client = client_for(coordinator)
    client.get(f"/people/{person.pk}/")
    response = client.get("/")
    verbs = [event.verb for event in response.context["recent"]]
    assert "person.created" in verbs
    assert "person.viewed" not in verbs


def test_dashboard_lists_my_units(coordinator, client_for, tree):
    """My units are my committee and its circle, not the region or the other committee."""
    response = client_for(coordinator).get("/")
    assert set(response.context["units"]) == {tree.committee_a, tree.circle_a}
    content = response.content.decode()
    assert tree.committee_b.name not in content


def test_dashboard_outsider_sees_none_of_committee_a(outsider, client_for, make_person, tree):
    """A coordinator of another committee sees none of committee A's people or activity."""
    make_person(given_name="Secreta", family_name="Quispe")
    response = client_for(outsider).get("/")
    assert response.status_code == 200
    assert response.context["counts"]["total"] == 0
    assert response.context["recent_people"] == []
    assert all(event.unit_id != tree.committee_a.pk for event in response.context["recent"])
    content = response.content.decode()
    assert "Secreta" not in content
    assert tree.committee_a.name not in content


def test_dashboard_for_responder_shows_no_people(make_user, client_for, make_person, tree):
    """A responder's dashboard has no people counts and no people."""
    make_person(given_name="Secreta")
    responder = make_user("responder@example.org", "responder", tree.committee_a)
    response = client_for(responder).get("/")
    assert response.status_code == 200
    assert response.context["can_people"] is False
    assert response.context["recent_people"] == []
    assert "Secreta" not in response.content.decode()


def test_dashboard_for_user_without_roles(make_user, client_for, make_person):
    """An account with no role sees an empty dashboard, not an error."""
    make_person(given_name="Secreta")
    user = make_user("new@example.org", mfa=False)
    response = client_for(user).get("/")
    assert response.status_code == 200
    assert list(response.context["units"]) == []
    assert "Secreta" not in response.content.decode()
