"""Lists and items over the API: saved segments, whose items are the people they match."""

from __future__ import annotations

import pytest

from leaven.api.tests.conftest import an_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def segment(api, tree, admin):
    """A segment of committee A: everyone tagged `bus` (27 people); 3 more are untagged."""
    from leaven.messaging import services

    for n in range(30):
        body = {
            "person": {"given_name": f"P{n}", "email_addresses": [{"address": f"p{n}@x.org"}]},
            "add_tags": ["bus"] if n < 27 else [],
        }
        assert api.post("/api/v2/people", body).status_code == 200
    from leaven.people.models import Tag

    tag = Tag.objects.get(name="bus")
    return services.segment_create(
        actor=admin,
        owner_unit=tree.committee_a,
        name="Bus riders",
        conditions={"kind": "tags", "value": [tag.pk]},
    )


def test_lists_and_items_are_the_segment_and_its_people(api, segment):
    """The segment is a list; its items are the 27 people it matches, 25 on the first page
    and 2 on the second, each linking to the person and back to the list."""
    page = api.get("/api/v2/lists").json()
    assert page["total_records"] == 1
    found = page["_embedded"]["osdi:lists"][0]
    assert found["name"] == "Bus riders" and found["title"] == "Bus riders"
    assert api.get(f"/api/v2/lists/{an_id(found)}").json() == found
    items_href = found["_links"]["osdi:items"]["href"].replace("http://testserver", "")
    first = api.get(items_href).json()
    assert first["total_records"] == 27 and first["total_pages"] == 2
    assert len(first["_embedded"]["osdi:items"]) == 25
    second = api.get(items_href, page=2).json()
    assert len(second["_embedded"]["osdi:items"]) == 2
    item = second["_embedded"]["osdi:items"][0]
    assert item["item_type"] == "osdi:person"
    assert item["_links"]["osdi:list"] == found["_links"]["self"]
    person = api.get(item["_links"]["osdi:person"]["href"].replace("http://testserver", ""))
    assert person.json()["given_name"].startswith("P")
    one = api.get(item["_links"]["self"]["href"].replace("http://testserver", ""))
    assert one.status_code == 200 and one.json() == item


def test_item_of_a_person_the_segment_does_not_match_is_404(api, segment):
    """An item id built for a person outside the segment, or garbage, is 404."""
    from leaven.api.payloads import item_uuid

    found = api.get("/api/v2/lists").json()["_embedded"]["osdi:lists"][0]
    untagged = api.get("/api/v2/people", filter="given_name eq 'P29'").json()
    person = untagged["_embedded"]["osdi:people"][0]
    import uuid

    fake = item_uuid(uuid.UUID(an_id(found)), uuid.UUID(an_id(person)))
    assert api.get(f"/api/v2/lists/{an_id(found)}/items/{fake}").status_code == 404
    assert api.get(f"/api/v2/lists/{an_id(found)}/items/nonsense").status_code == 404


def test_outsider_key_gets_404_on_this_units_list(api, other_api, segment):
    """A key of another committee sees no lists and gets 404 on this one and its items."""
    found = api.get("/api/v2/lists").json()["_embedded"]["osdi:lists"][0]
    assert other_api.get("/api/v2/lists").json()["total_records"] == 0
    assert other_api.get(f"/api/v2/lists/{an_id(found)}").status_code == 404
    assert other_api.get(f"/api/v2/lists/{an_id(found)}/items").status_code == 404
