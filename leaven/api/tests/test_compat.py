"""The real Action Network clients (parsons, osdi, pyactionnetwork), unchanged except for
their base URL (and osdi's retry back-off), against a live Leaven server."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def base(live_server):
    return f"{live_server.url}/api/v2"


@pytest.fixture
def token(tree):
    from leaven.api.services import apikey_create

    return apikey_create(actor=None, unit=tree.committee_a, name="compat", as_operator=True)[1]


@pytest.fixture
def parsons_an(base, token):
    from parsons.action_network.action_network import ActionNetwork  # type: ignore[import-untyped]
    from parsons.utilities.api_connector import APIConnector  # type: ignore[import-untyped]

    client = ActionNetwork(api_token=token)
    client.api_url = base
    client.api = APIConnector(base, headers=client.headers)
    return client


def test_parsons_upsert_read_tag_untag_and_page(parsons_an):
    """parsons creates and upserts people (no duplicate), reads them back, lists with paging
    and filters, adds a tag, tags and untags a person."""
    first = parsons_an.upsert_person(
        email_address="ana@example.org", given_name="Ana", family_name="Pérez", tags=["bus"]
    )
    person_id = next(i for i in first["identifiers"] if i.startswith("action_network:")).split(":")[
        1
    ]
    again = parsons_an.upsert_person(
        email_address="ana@example.org", given_name="Ana María", mobile_number="3125550111"
    )
    assert again["identifiers"] == first["identifiers"]
    assert again["given_name"] == "Ana María"
    assert again["phone_numbers"][0]["number"] == "13125550111"
    for n in range(30):
        parsons_an.upsert_person(email_address=f"p{n}@example.org", given_name=f"P{n}")
    everyone = parsons_an.get_people()
    assert everyone.num_rows == 31
    page_two = parsons_an.get_people(page=2)
    assert page_two["page"] == 2 and len(page_two["_embedded"]["osdi:people"]) == 6
    found = parsons_an.get_people(filter="email_address eq 'ana@example.org'")
    assert found.num_rows == 1
    person = parsons_an.get_person(person_id)
    assert person["family_name"] == "Pérez"
    parsons_an.update_person(person_id, family_name="Pérez López")
    assert parsons_an.get_person(person_id)["family_name"] == "Pérez López"

    tag = parsons_an.add_tag("Comité de defensa")
    tag_id = tag["_links"]["self"]["href"].rsplit("/", 1)[1]
    assert any(t["name"] == "Comité de defensa" for t in parsons_an.get_tags())
    tagging = parsons_an.create_tagging(
        tag_id, {"_links": {"osdi:person": {"href": person["_links"]["self"]["href"]}}}
    )
    tagging_id = tagging["_links"]["self"]["href"].rsplit("/", 1)[1]
    assert parsons_an.get_taggings(tag_id).num_rows == 1
    parsons_an.delete_tagging(tag_id, tagging_id)
    assert parsons_an.get_taggings(tag_id).num_rows == 0


def test_parsons_events_and_attendances(parsons_an, base, token):
    """parsons creates an event and reads it; an attendance recorded through the helper
    shows in the event's attendances."""
    import requests

    event = parsons_an.create_event(
        "Asamblea", start_date="2030-05-01 18:00:00", location={"venue": "Parish hall"}
    )
    assert parsons_an.get_event(event["event_id"])["title"] == "Asamblea"
    response = requests.post(
        f"{base}/events/{event['event_id']}/attendances",
        json={"person": {"given_name": "Luis", "email_addresses": [{"address": "l@example.org"}]}},
        headers={"OSDI-API-Token": token},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    attendances = parsons_an.get_event_attendances(event["event_id"])
    assert attendances.num_rows == 1
    assert attendances[0]["status"] == "accepted"
    assert parsons_an.get_events().num_rows == 1


def test_osdi_service_finds_people_and_changes_tags(base, token, monkeypatch):
    """osdi's ActionNetworkService loads tags, creates a person, finds them by email and
    by id, updates a custom field, adds and removes a tagging."""
    import osdi.base.service as osdi_service  # type: ignore[import-untyped]
    from osdi.action_network.person import ANPerson  # type: ignore[import-untyped]
    from osdi.action_network.service import ActionNetworkService  # type: ignore[import-untyped]

    monkeypatch.setattr(
        osdi_service, "retry_with_backoff", lambda fn, retries=0, backoff_in_seconds=0: fn()
    )
    import requests

    requests.post(
        f"{base}/tags", json={"name": "vecinos"}, headers={"OSDI-API-Token": token}, timeout=10
    )
    service = ActionNetworkService(base, token)
    assert "vecinos" in service.tags_by_name
    service.create_person("Rosa", "Díaz", "rosa@example.org")
    person = service.find_person(email="rosa@example.org", model=ANPerson)
    assert person is not None and person.email == "rosa@example.org"
    assert service.find_person(an_id=person.id, model=ANPerson).email == "rosa@example.org"
    person.update_field("ward", "25")
    person.update_tag("vecinos", True)
    person.update()
    again = service.find_person(an_id=person.id, model=ANPerson)
    assert again.custom_fields["ward"] == "25"
    assert "vecinos" in again.tags
    again.update_tag("vecinos", False)
    again.update()
    assert "vecinos" not in service.find_person(an_id=person.id, model=ANPerson).tags


def test_pyactionnetwork_creates_reads_and_searches(base, token, monkeypatch):
    """pyactionnetwork reads the entry point, creates a person with tags, reads them by id
    and finds them by email."""
    import requests
    from pyactionnetwork import api as pyan  # type: ignore[import-untyped]

    real_get = requests.get

    def get(url, **kwargs):
        return real_get(url.replace("https://actionnetwork.org/api/v2", base), **kwargs)

    monkeypatch.setattr(pyan.requests, "get", get)
    client = pyan.ActionNetworkApi(token)
    client.base_url = base + "/"
    assert client.resource_to_url("people") == f"{base}/people"
    made = client.create_person(
        email="mar@example.org", given_name="Mar", family_name="Sol", tags=["bus"]
    )
    person_id = made["identifiers"][0].split(":")[1]
    assert client.get_person(person_id=person_id)["given_name"] == "Mar"
    found = client.get_person(search_string="mar@example.org")
    assert found["total_records"] == 1
    people = client.get_resource("people")
    assert people["_embedded"]["osdi:people"][0]["email_addresses"][0]["address"] == (
        "mar@example.org"
    )


def test_parsons_reads_messages_donations_lists_and_items(parsons_an, tree, admin):
    """parsons reads a broadcast as a message (with its statistics unpacked), a dues
    payment as a donation (in the collection and on the donor), and a segment as a list
    whose items are its people."""

    from leaven.membership.services import membership_create, payment_record, tier_create
    from leaven.messaging import services as messaging
    from leaven.people.models import Person

    for n in range(3):
        parsons_an.upsert_person(email_address=f"m{n}@example.org", given_name=f"M{n}")
    segment = messaging.segment_create(
        actor=admin, owner_unit=tree.committee_a, name="Everyone", conditions={}
    )
    messaging.broadcast_create(
        actor=admin,
        segment=segment,
        channel="email",
        name="Asamblea",
        templates={"en": {"subject": "Assembly", "body": "Come."}},
    )
    messages = parsons_an.get_messages(unpack_statistics=True)
    assert messages.num_rows == 1
    assert messages[0]["subject"] == "Assembly" and messages[0]["sent"] == 0
    message_id = messages[0]["identifiers"][0].split(":")[1]
    assert parsons_an.get_message(message_id)["status"] == "draft"

    lists = parsons_an.get_lists()
    assert lists.num_rows == 1
    list_id = lists[0]["identifiers"][0].split(":")[1]
    assert parsons_an.get_list(list_id)["name"] == "Everyone"
    items = parsons_an.get_items(list_id)
    assert items.num_rows == 3
    item_id = items[0]["identifiers"][0].split(":")[1]
    assert parsons_an.get_item(list_id, item_id)["item_type"] == "osdi:person"

    from django.utils import timezone

    today = timezone.localdate()
    tier = tier_create(
        actor=admin,
        owner_unit=tree.committee_a,
        name_en="Monthly",
        name_es="Mensual",
        amount_cents=500,
        interval="monthly",
    )
    person = Person.objects.get(given_name="M0")
    membership = membership_create(
        actor=admin, person=person, unit=tree.committee_a, tier=tier, today=today
    )
    payment_record(
        actor=admin,
        membership=membership,
        amount_cents=500,
        paid_on=today,
        method="card",
        today=today,
    )
    donations = parsons_an.get_donations()
    assert donations.num_rows == 1 and donations[0]["amount"] == "5.00"
    donation_id = donations[0]["identifiers"][0].split(":")[1]
    assert parsons_an.get_donation(donation_id)["payment"]["method"] == "Credit Card"
    donor = donations[0]["action_network:person_id"]
    assert parsons_an.get_person_donations(donor).num_rows == 1
