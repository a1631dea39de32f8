"""Messages over the API: the unit's broadcasts, read-only, in Action Network's shape."""

from __future__ import annotations

import pytest

from leaven.api.tests.conftest import an_id

pytestmark = pytest.mark.django_db


def _signup(api, address):
    body = {
        "person": {
            "given_name": "Ana",
            "email_addresses": [{"address": address, "status": "subscribed"}],
        }
    }
    assert api.post("/api/v2/people", body).status_code == 200


@pytest.fixture
def broadcast(api, tree, admin):
    from leaven.messaging import services

    _signup(api, "ana@example.org")
    _signup(api, "luis@example.org")
    segment = services.segment_create(
        actor=admin, owner_unit=tree.committee_a, name="Everyone", conditions={}
    )
    return services.broadcast_create(
        actor=admin,
        segment=segment,
        channel="email",
        name="Bus to Springfield",
        templates={
            "en": {"subject": "The bus leaves at 7", "body": "Hi {first_name}, see you."},
            "es": {"subject": "El autobús sale a las 7", "body": "Hola {first_name}."},
        },
    )


def test_messages_list_and_get_in_action_network_shape(api, broadcast):
    """A draft shows with subject, body, from, type, status `draft`, the segment as its
    target list, and the same record at its self link."""
    page = api.get("/api/v2/messages").json()
    assert page["total_records"] == 1
    message = page["_embedded"]["osdi:messages"][0]
    assert message["subject"] == "The bus leaves at 7"
    assert message["body"] == "Hi {first_name}, see you."
    assert message["from"] == "Pilsen"
    assert message["type"] == "email"
    assert message["status"] == "draft"
    assert message["statistics"] == {"sent": 0}
    assert message["targets"][0]["href"].startswith("http://testserver/api/v2/lists/")
    assert page["_links"]["osdi:messages"][0] == message["_links"]["self"]
    one = api.get(f"/api/v2/messages/{an_id(message)}")
    assert one.status_code == 200 and one.json() == message


def test_queued_message_is_sending_then_sent_with_statistics(api, admin, broadcast):
    """Queued to two people it is `sending` with total_targeted 2; once the outbox has sent
    them it is `sent` with statistics.sent 2."""
    from leaven.messaging.models import OutboxMessage
    from leaven.messaging.services import broadcast_queue

    assert broadcast_queue(actor=admin, broadcast=broadcast) == 2
    message = api.get("/api/v2/messages").json()["_embedded"]["osdi:messages"][0]
    assert message["status"] == "sending"
    assert message["total_targeted"] == 2
    assert "sent_start_date" in message
    OutboxMessage.objects.filter(broadcast=broadcast).update(state=OutboxMessage.State.SENT)
    message = api.get(f"/api/v2/messages/{an_id(message)}").json()
    assert message["status"] == "sent"
    assert message["statistics"]["sent"] == 2


def test_messages_are_read_only(api, broadcast):
    """There is no POST on messages: Leaven's broadcasts are written on its pages."""
    response = api.post("/api/v2/messages", {"subject": "x"})
    assert response.status_code in (404, 405)


def test_outsider_key_gets_404_on_this_units_message(api, other_api, broadcast):
    """A key of another committee sees no messages and gets 404 on this one."""
    message = api.get("/api/v2/messages").json()["_embedded"]["osdi:messages"][0]
    assert other_api.get("/api/v2/messages").json()["total_records"] == 0
    assert other_api.get(f"/api/v2/messages/{an_id(message)}").status_code == 404


def test_entry_point_links_messages_donations_and_lists(api):
    """The entry point links the read-only collections added for messages, donations and
    lists, and each answers an empty first page."""
    links = api.get("/api/v2").json()["_links"]
    for relation, path in (
        ("osdi:messages", "messages"),
        ("osdi:donations", "donations"),
        ("osdi:lists", "lists"),
    ):
        assert links[relation]["href"] == f"http://testserver/api/v2/{path}"
        page = api.get(f"/api/v2/{path}").json()
        assert page["total_records"] == 0 and page["_embedded"][relation] == []
