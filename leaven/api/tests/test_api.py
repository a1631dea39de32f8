"""The API over HTTP: authentication, scope, the person signup helper, partial updates,
pagination, filters, trailing slashes, idempotency, errors and the audit trail."""

from __future__ import annotations

from typing import Any

import pytest

from leaven.api.tests.conftest import ApiClient, an_id

pytestmark = pytest.mark.django_db

SIGNUP: dict[str, Any] = {
    "person": {
        "given_name": "Ana",
        "family_name": "Pérez",
        "email_addresses": [{"address": "ana@example.org"}],
    },
    "add_tags": ["bus"],
}


def _signup(api, **person):
    body = {"person": {"given_name": "Ana", **person}}
    response = api.post("/api/v2/people", body)
    assert response.status_code == 200, response.content
    return response.json()


def test_entry_point_links_every_collection_without_trailing_slash(api):
    """The entry point has a motd and absolute links to the collections, with or without a
    trailing slash on the request."""
    for path in ("/api/v2", "/api/v2/"):
        body = api.get(path).json()
        assert body["motd"]
        assert body["_links"]["osdi:people"]["href"] == "http://testserver/api/v2/people"
        assert body["_links"]["osdi:tags"]["href"].endswith("/api/v2/tags")
        assert body["_links"]["self"]["href"] == "http://testserver/api/v2"


def test_missing_wrong_or_revoked_key_is_401_with_a_json_error(api_key):
    """No header, a wrong token and a revoked key all get 401 with an `error` body."""
    from django.test import Client

    from leaven.api.services import apikey_revoke

    key, token = api_key
    client = Client()
    assert client.get("/api/v2/people").status_code == 401
    wrong = client.get("/api/v2/people", HTTP_OSDI_API_TOKEN="lvn_nope")
    assert wrong.status_code == 401 and "error" in wrong.json()
    assert ApiClient(token).get("/api/v2/people").status_code == 200
    apikey_revoke(actor=None, key=key, as_operator=True)
    assert ApiClient(token).get("/api/v2/people").status_code == 401


def test_header_name_is_case_insensitive(api_key):
    """`osdi-api-token` works as well as `OSDI-API-Token`."""
    from django.test import Client

    response = Client().get("/api/v2/people", headers={"osdi-api-token": api_key[1]})
    assert response.status_code == 200


def test_outsider_key_gets_404_on_this_units_people(api, other_api):
    """A key of another committee gets 404 on committee A's person, tags and lists, and
    sees none of them in its lists."""
    person = _signup(api, email_addresses=[{"address": "ana@example.org"}])
    href = f"/api/v2/people/{an_id(person)}"
    assert api.get(href).status_code == 200
    response = other_api.get(href)
    assert response.status_code == 404 and response.json() == {"error": "Not found"}
    assert other_api.put(href, {"given_name": "X"}).status_code == 404
    assert other_api.get("/api/v2/people").json()["total_records"] == 0
    # The signup helper of the other key never matches committee A's record.
    other = other_api.post(
        "/api/v2/people",
        {"person": {"given_name": "Eve", "email_addresses": [{"address": "ana@example.org"}]}},
    ).json()
    assert an_id(other) != an_id(person)
    assert api.get(href).json()["given_name"] == "Ana"


def test_signup_helper_matches_on_email_then_phone_and_updates(api):
    """The same email updates the same person; a new email with a known phone matches by
    phone; tags are added by name; nothing is duplicated."""
    from leaven.people.models import Person

    first = api.post("/api/v2/people", SIGNUP).json()
    again = _signup(
        api,
        given_name="Ana María",
        email_addresses=[{"address": "ANA@example.org"}],
        phone_numbers=[{"number": "312-555-0111"}],
    )
    assert an_id(again) == an_id(first)
    assert again["given_name"] == "Ana María"
    by_phone = _signup(
        api,
        email_addresses=[{"address": "ana.work@example.org"}],
        phone_numbers=[{"number": "+1 312 555 0111"}],
    )
    assert an_id(by_phone) == an_id(first)
    assert Person.objects.count() == 1
    assert {e["address"] for e in by_phone["email_addresses"]} == {
        "ana@example.org",
        "ana.work@example.org",
    }
    taggings = api.get(f"/api/v2/people/{an_id(first)}/taggings").json()
    assert taggings["total_records"] == 1


def test_signup_without_email_or_phone_is_400(api):
    response = api.post("/api/v2/people", {"person": {"given_name": "Ana"}})
    assert response.status_code == 400 and "error" in response.json()


def test_consent_only_when_given_and_an_unsubscribe_is_never_lifted(api):
    """No status: no consent. `subscribed` turns it on; after `unsubscribed`, a later
    `subscribed` leaves the unsubscribe in place."""
    from leaven.people.models import Email

    _signup(api, email_addresses=[{"address": "ana@example.org"}])
    assert Email.objects.get().status == Email.Status.NONE
    _signup(api, email_addresses=[{"address": "ana@example.org", "status": "subscribed"}])
    assert Email.objects.get().status == Email.Status.SUBSCRIBED
    _signup(api, email_addresses=[{"address": "ana@example.org", "status": "unsubscribed"}])
    assert Email.objects.get().status == Email.Status.UNSUBSCRIBED
    body = _signup(api, email_addresses=[{"address": "ana@example.org", "status": "subscribed"}])
    assert Email.objects.get().status == Email.Status.UNSUBSCRIBED
    assert body["email_addresses"][0]["status"] == "unsubscribed"


def test_put_is_a_partial_update(api):
    """PUT changes only the fields given and keeps the rest."""
    person = _signup(api, family_name="Pérez", email_addresses=[{"address": "a@example.org"}])
    href = f"/api/v2/people/{an_id(person)}"
    body = api.put(href, {"custom_fields": {"ward": "25"}}).json()
    assert body["family_name"] == "Pérez" and body["given_name"] == "Ana"
    assert body["custom_fields"] == {"ward": "25"}
    body = api.put(href + "/", {"family_name": "López"}).json()
    assert body["family_name"] == "López" and body["custom_fields"] == {"ward": "25"}


def test_pagination_per_page_capped_links_and_past_the_end(api, make_person):
    """per_page is at most 25; next/previous links are absolute without trailing slash;
    past the end the embedded list is empty."""
    for n in range(30):
        make_person(given_name=f"P{n:02d}")
    first = api.get("/api/v2/people", per_page=100).json()
    assert first["per_page"] == 25 and first["total_records"] == 30
    assert first["total_pages"] == 2 and len(first["_embedded"]["osdi:people"]) == 25
    assert first["_links"]["next"]["href"] == "http://testserver/api/v2/people?page=2"
    assert "previous" not in first["_links"]
    second = api.get("/api/v2/people/", page=2).json()
    assert len(second["_embedded"]["osdi:people"]) == 5
    assert "next" not in second["_links"] and second["_links"]["previous"]["href"].endswith(
        "page=1"
    )
    names = [p["given_name"] for p in first["_embedded"]["osdi:people"]] + [
        p["given_name"] for p in second["_embedded"]["osdi:people"]
    ]
    assert sorted(names) == [f"P{n:02d}" for n in range(30)]
    beyond = api.get("/api/v2/people", page=9).json()
    assert beyond["_embedded"]["osdi:people"] == [] and beyond["page"] == 9
    small = api.get("/api/v2/people", per_page=10, page=3).json()
    assert len(small["_embedded"]["osdi:people"]) == 10


def test_filters(api, make_person):
    """given_name, family_name, email_address, phone_number and dates, with and/or."""
    from datetime import timedelta

    from django.utils import timezone

    _signup(api, family_name="Pérez", email_addresses=[{"address": "ana@example.org"}])
    _signup(
        api,
        given_name="Luis",
        family_name="Díaz",
        email_addresses=[{"address": "luis@example.org"}],
        phone_numbers=[{"number": "3125550122"}],
    )

    def count(text):
        response = api.get("/api/v2/people", filter=text)
        assert response.status_code == 200, response.content
        return response.json()["total_records"]

    assert count("given_name eq 'Luis'") == 1
    assert count("family_name eq 'Pérez' or given_name eq 'Luis'") == 2
    assert count("family_name eq 'Pérez' and given_name eq 'Luis'") == 0
    assert count("email_address eq 'LUIS@example.org'") == 1
    assert count("phone_number eq '+13125550122'") == 1
    assert count("given_name ne 'Luis'") == 1
    yesterday = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%d")
    assert count(f"modified_date gt '{yesterday}'") == 2
    assert count(f"created_date lt '{yesterday}'") == 0
    assert count("(given_name eq 'Luis' or given_name eq 'Ana') and family_name eq 'Díaz'") == 1


@pytest.mark.parametrize(
    "text",
    [
        "secret_field eq 'x'",
        "given_name like 'x'",
        "given_name eq",
        "modified_date gt 'soon'",
        "(" * 700 + "given_name eq 'x'" + ")" * 700,
    ],
)
def test_bad_filter_is_400(api, text):
    response = api.get("/api/v2/people", filter=text)
    assert response.status_code == 400 and "error" in response.json()


def test_idempotency_key_replays_the_first_response(api):
    """A repeated POST with the same Idempotency-Key returns the first answer and writes
    nothing more."""
    from leaven.people.models import Person

    headers = {"HTTP_IDEMPOTENCY_KEY": "abc-1"}
    first = api.post("/api/v2/people", SIGNUP, headers=headers)
    changed = {**SIGNUP, "person": {**SIGNUP["person"], "given_name": "Changed"}}
    second = api.post("/api/v2/people", changed, headers=headers)
    assert second.status_code == first.status_code
    assert second.json() == first.json()
    assert Person.objects.get().given_name == "Ana"


def test_background_processing_is_accepted(api):
    response = api.client.post(
        "/api/v2/people?background_processing=true",
        SIGNUP,
        content_type="application/json",
        HTTP_OSDI_API_TOKEN=api.token,
    )
    assert response.status_code == 200 and response.json()["given_name"] == "Ana"


def test_writes_are_audited_with_the_key_as_actor(api, api_key):
    """Every write through the API is audited as `apikey:<id>` from the API."""
    from leaven.core.models import AuditEvent

    api.post("/api/v2/people", SIGNUP)
    events = AuditEvent.objects.filter(verb__in=["person.created", "person.tagged"])
    assert events.count() == 2
    for event in events:
        assert event.actor_label == f"apikey:{api_key[0].pk}"
        assert event.source == AuditEvent.Source.API
        assert event.actor is None


def test_rate_limit_answers_429(api, settings):
    settings.LEAVEN_API_RATE_LIMIT = 3
    codes = [api.get("/api/v2/tags").status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]


def test_malformed_body_is_400_not_422(api):
    response = api.post("/api/v2/people", {"person": "nobody"})
    assert response.status_code == 400 and "error" in response.json()


def test_foreign_identifiers_are_kept(api):
    body = _signup(api, email_addresses=[{"address": "a@example.org"}], identifiers=["crm:42"])
    assert "crm:42" in body["identifiers"]
    assert body["identifiers"][0].startswith("action_network:")


def test_unknown_identifier_is_404(api):
    assert api.get("/api/v2/people/not-a-uuid").status_code == 404
    assert (
        api.get("/api/v2/people/action_network:00000000-0000-0000-0000-000000000000").status_code
        == 404
    )


def test_reading_people_is_audited_per_page_with_the_key(api, api_key, make_person):
    """Each page of people (and each person read alone) leaves one audit event naming the
    key, how many people and the id range; nothing personal."""
    from leaven.core.models import AuditEvent

    people = [make_person(given_name=f"P{i}") for i in range(3)]
    assert api.get("/api/v2/people", per_page=2).status_code == 200
    event = AuditEvent.objects.filter(verb="api.people_read").latest("pk")
    assert event.actor_label == f"apikey:{api_key[0].pk}"
    assert event.detail == {"count": 2, "first": people[0].pk, "last": people[1].pk}
    one = api.get("/api/v2/people").json()["_embedded"]["osdi:people"][2]
    before = AuditEvent.objects.filter(verb="api.people_read").count()
    assert api.get(one["_links"]["self"]["href"]).status_code == 200
    assert AuditEvent.objects.filter(verb="api.people_read").count() == before + 1
