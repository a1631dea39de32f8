"""Tags, taggings on a tag and on a person, events and attendances over the API."""

from __future__ import annotations

import pytest

from leaven.api.tests.conftest import an_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(api):
    return api.post(
        "/api/v2/people",
        {"person": {"given_name": "Ana", "email_addresses": [{"address": "ana@example.org"}]}},
    ).json()


def test_tag_create_list_and_tagging_round_trip(api, person):
    """A tag is made in the key's unit; a tagging by person link shows on the tag and on
    the person, and DELETE removes it with a JSON notice."""
    from leaven.people.models import Tag, Tagging

    tag = api.post("/api/v2/tags", {"name": "vecinos"}).json()
    assert Tag.objects.get().name == "vecinos"
    tag_href = tag["_links"]["self"]["href"].replace("http://testserver", "")
    link = {"_links": {"osdi:person": {"href": person["_links"]["self"]["href"]}}}
    tagging = api.post(f"{tag_href}/taggings", link).json()
    assert tagging["_links"]["osdi:person"]["href"] == person["_links"]["self"]["href"]
    assert tagging["_links"]["osdi:tag"]["href"] == tag["_links"]["self"]["href"]
    on_tag = api.get(f"{tag_href}/taggings").json()
    assert on_tag["total_records"] == 1
    on_person = api.get(f"/api/v2/people/{an_id(person)}/taggings").json()
    assert on_person["_embedded"]["osdi:taggings"][0]["identifiers"] == tagging["identifiers"]
    one = api.get(tagging["_links"]["self"]["href"].replace("http://testserver", ""))
    assert one.status_code == 200
    deleted = api.delete(tagging["_links"]["self"]["href"].replace("http://testserver", ""))
    assert deleted.status_code == 200 and "notice" in deleted.json()
    assert not Tagging.objects.exists()


def test_tagging_needs_a_person_link(api):
    tag = api.post("/api/v2/tags", {"name": "x"}).json()
    response = api.post(f"/api/v2/tags/{an_id(tag)}/taggings", {})
    assert response.status_code == 400


def test_outsider_key_cannot_see_or_tag_with_this_units_tags(api, other_api, person):
    tag = api.post("/api/v2/tags", {"name": "vecinos"}).json()
    assert other_api.get(f"/api/v2/tags/{an_id(tag)}").status_code == 404
    assert other_api.get("/api/v2/tags").json()["total_records"] == 0
    link = {"_links": {"osdi:person": {"href": person["_links"]["self"]["href"]}}}
    assert other_api.post(f"/api/v2/tags/{an_id(tag)}/taggings", link).status_code == 404


def test_event_create_and_attendance_helper(api, person):
    """An event is made in the key's unit; the record-attendance helper takes a person
    link or a person to match or create; attendances list on the event and the person."""
    from leaven.events.models import RSVP, Event

    event = api.post(
        "/api/v2/events",
        {
            "title": "Asamblea",
            "start_date": "2030-05-01T23:00:00Z",
            "location": {"venue": "Parish hall", "address_lines": ["1 Main St"]},
        },
    ).json()
    stored = Event.objects.get()
    assert stored.title_en == "Asamblea" and "Parish hall" in stored.address
    assert event["start_date"] == "2030-05-01T23:00:00Z"
    href = f"/api/v2/events/{an_id(event)}/attendances"
    by_link = api.post(
        href, {"_links": {"osdi:person": {"href": person["_links"]["self"]["href"]}}}
    )
    assert by_link.status_code == 200 and by_link.json()["status"] == "accepted"
    by_person = api.post(
        href,
        {"person": {"given_name": "Luis", "email_addresses": [{"address": "luis@example.org"}]}},
    ).json()
    assert by_person["action_network:event_id"] == an_id(event)
    assert RSVP.objects.count() == 2
    listing = api.get(href).json()
    assert listing["total_records"] == 2
    mine = api.get(f"/api/v2/people/{an_id(person)}/attendances").json()
    assert mine["total_records"] == 1
    one = by_link.json()["_links"]["self"]["href"].replace("http://testserver", "")
    declined = api.put(one, {"status": "declined"}).json()
    assert declined["status"] == "declined"
    assert api.get("/api/v2/events").json()["_embedded"]["osdi:events"][0]["total_accepted"] == 1


def test_event_without_start_is_400(api):
    response = api.post("/api/v2/events", {"title": "Sin fecha"})
    assert response.status_code == 400 and "error" in response.json()


def test_outsider_key_gets_404_on_this_units_events(api, other_api):
    event = api.post(
        "/api/v2/events", {"title": "Asamblea", "start_date": "2030-05-01 18:00:00"}
    ).json()
    assert other_api.get(f"/api/v2/events/{an_id(event)}").status_code == 404
    assert other_api.get(f"/api/v2/events/{an_id(event)}/attendances").status_code == 404
    assert other_api.get("/api/v2/events").json()["total_records"] == 0
