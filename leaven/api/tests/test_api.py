"""The API over HTTP: authentication, scope, the person signup helper, partial updates,
pagination, filters, trailing slashes, idempotency, errors and the audit trail."""

from __future__ import annotations

import json
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
    """A repeated POST with the same Idempotency-Key, path and body returns the first answer
    and writes nothing more; the same JSON with other spacing or key order is the same
    request."""
    import json

    from leaven.people.models import Person

    headers = {"HTTP_IDEMPOTENCY_KEY": "abc-1"}
    first = api.post("/api/v2/people", SIGNUP, headers=headers)
    assert first.status_code == 200
    respaced = json.dumps(dict(reversed(list(SIGNUP.items()))), indent=2)
    second = api.client.post(
        "/api/v2/people/",
        respaced,
        content_type="application/json",
        HTTP_OSDI_API_TOKEN=api.token,
        **headers,
    )
    assert second.status_code == first.status_code
    assert second.json() == first.json()
    assert Person.objects.count() == 1


def test_idempotency_key_on_another_body_or_path_is_422_and_runs_nothing(api):
    """The same key with a different body, or on another path, is refused with a clear JSON
    error (422) and runs nothing; the first answer is still replayed afterwards."""
    from leaven.people.models import Person, Tag

    headers = {"HTTP_IDEMPOTENCY_KEY": "abc-2"}
    first = api.post("/api/v2/people", SIGNUP, headers=headers)
    changed = {**SIGNUP, "person": {**SIGNUP["person"], "given_name": "Changed"}}
    other_body = api.post("/api/v2/people", changed, headers=headers)
    assert other_body.status_code == 422
    assert "different request" in other_body.json()["error"]
    assert other_body["Content-Type"].startswith("application/hal+json")
    tags_before = Tag.objects.count()
    other_path = api.post("/api/v2/tags", {"name": "vecinos"}, headers=headers)
    assert other_path.status_code == 422 and "error" in other_path.json()
    assert Tag.objects.count() == tags_before
    assert [p.given_name for p in Person.objects.all()] == ["Ana"]
    again = api.post("/api/v2/people", SIGNUP, headers=headers)
    assert again.status_code == 200 and again.json() == first.json()


def test_a_repeat_while_the_first_is_still_running_gets_409(api, api_key, make_person):
    """A claim still in progress (the first request has not finished) makes a repeat answer
    409 with a clear message, and nothing runs; once it is done, the repeat replays."""
    from leaven.api import services
    from leaven.people.models import Person

    headers = {"HTTP_IDEMPOTENCY_KEY": "abc-3"}
    claim = services.idempotent_claim(
        key=api_key[0],
        idempotency_key="abc-3",
        method="POST",
        path="/api/v2/people",
        body_hash=services.request_fingerprint(json.dumps(SIGNUP).encode()),
    )
    assert claim.outcome == "run" and claim.record is not None
    response = api.post("/api/v2/people", SIGNUP, headers=headers)
    assert response.status_code == 409
    assert "still being processed" in response.json()["error"]
    assert not Person.objects.exists()
    person = make_person(given_name="Stored")
    assert services.idempotent_complete(
        record=claim.record, status=201, object_type="person", object_id=person.pk
    )
    replay = api.post("/api/v2/people", SIGNUP, headers=headers)
    assert replay.status_code == 201 and replay.json()["given_name"] == "Stored"
    assert Person.objects.count() == 1


def test_a_claim_left_behind_by_a_dead_request_is_taken_over(api, api_key):
    """A claim still marked in progress long after it was made (its request died) does not
    block the key for ever: a repeat runs."""
    import datetime as dt

    from leaven.api import services
    from leaven.api.models import IdempotentRequest

    claim = services.idempotent_claim(
        key=api_key[0],
        idempotency_key="abc-4",
        method="POST",
        path="/api/v2/people",
        body_hash=services.request_fingerprint(json.dumps(SIGNUP).encode()),
    )
    IdempotentRequest.objects.filter(pk=claim.record.pk).update(
        created_at=claim.record.created_at - services.IDEMPOTENCY_STALE - dt.timedelta(seconds=1)
    )
    response = api.post("/api/v2/people", SIGNUP, headers={"HTTP_IDEMPOTENCY_KEY": "abc-4"})
    assert response.status_code == 200 and response.json()["given_name"] == "Ana"
    assert IdempotentRequest.objects.get().state == IdempotentRequest.State.DONE


def test_a_failed_request_gives_its_key_back(api, monkeypatch):
    """When the handler fails with an exception the claim is released, so the client's
    retry with the same key runs (and is then replayed)."""
    from leaven.api import services_osdi
    from leaven.api.models import IdempotentRequest

    real = services_osdi.person_signup
    calls = {"n": 0}

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database went away")
        return real(**kwargs)

    monkeypatch.setattr(services_osdi, "person_signup", flaky)
    headers = {"HTTP_IDEMPOTENCY_KEY": "abc-5"}
    with pytest.raises(RuntimeError):
        api.post("/api/v2/people", SIGNUP, headers=headers)
    assert not IdempotentRequest.objects.exists()
    retry = api.post("/api/v2/people", SIGNUP, headers=headers)
    assert retry.status_code == 200
    assert api.post("/api/v2/people", SIGNUP, headers=headers).json() == retry.json()
    assert calls["n"] == 2


def test_stored_answers_expire_after_a_day(api, api_key):
    """An answer older than a day is forgotten: the key may then be used again."""
    from leaven.api import services
    from leaven.api.models import IdempotentRequest

    headers = {"HTTP_IDEMPOTENCY_KEY": "abc-6"}
    assert api.post("/api/v2/people", SIGNUP, headers=headers).status_code == 200
    old = IdempotentRequest.objects.get()
    IdempotentRequest.objects.filter(pk=old.pk).update(
        created_at=old.created_at - services.IDEMPOTENCY_TTL
    )
    changed = {"person": {"given_name": "Luis", "email_addresses": [{"address": "l@example.org"}]}}
    response = api.post("/api/v2/people", changed, headers=headers)
    assert response.status_code == 200 and response.json()["given_name"] == "Luis"
    assert not IdempotentRequest.objects.filter(pk=old.pk).exists()


def test_a_replay_shows_the_record_as_the_key_may_read_it_now(api, other_api, api_key, tree):
    """A repeat renders the answered record afresh: a contact removed since is not in it,
    and once the key may no longer see the person (its unit changed) the repeat is a 404,
    as a fresh read would be, and runs nothing. Another key with the same Idempotency-Key
    runs its own request and never sees the first answer."""
    from leaven.api import services
    from leaven.api.models import ApiKey
    from leaven.core.crypto import blind_index
    from leaven.people.models import Person
    from leaven.people.services import contact_remove

    headers = {"HTTP_IDEMPOTENCY_KEY": "fresh-1"}
    body = {
        "person": {
            "given_name": "Ana",
            "email_addresses": [{"address": "ana@example.org"}, {"address": "ana2@example.org"}],
        }
    }
    first = api.post("/api/v2/people", body, headers=headers)
    assert first.status_code == 200 and "ana2@example.org" in first.content.decode()
    person = Person.objects.get()
    contact_remove(
        actor=services.key_actor(api_key[0]),
        contact=person.emails.get(address_index=blind_index("ana2@example.org")),
    )
    replay = api.post("/api/v2/people", body, headers=headers)
    assert replay.status_code == 200 and an_id(replay.json()) == an_id(first.json())
    assert [e["address"] for e in replay.json()["email_addresses"]] == ["ana@example.org"]
    theirs = other_api.post("/api/v2/people", body, headers=headers)
    assert theirs.status_code == 200 and an_id(theirs.json()) != an_id(first.json())
    ApiKey.objects.filter(pk=api_key[0].pk).update(unit=tree.committee_b)
    gone = api.post("/api/v2/people", body, headers=headers)
    assert gone.status_code == 404 and gone.json() == {"error": "Not found"}
    assert "Ana" not in gone.content.decode()
    assert Person.objects.count() == 2


def test_a_replay_of_each_kind_of_write_is_404_once_out_of_the_keys_reach(api, api_key, tree):
    """Tags, taggings, events and attendances replay as they are now while the key may see
    them, and as a 404 once it may not; nothing runs again."""
    from leaven.api.models import ApiKey
    from leaven.events.models import RSVP, Event
    from leaven.people.models import Person, Tag, Tagging

    person = api.post("/api/v2/people", SIGNUP).json()
    person_link = {"_links": {"osdi:person": {"href": person["_links"]["self"]["href"]}}}
    tag = api.post("/api/v2/tags", {"name": "vecinos"}).json()
    event = api.post(
        "/api/v2/events", {"title": "Asamblea", "start_date": "2030-05-01T23:00:00Z"}
    ).json()
    requests = [
        ("/api/v2/tags", {"name": "barrio"}),
        (f"/api/v2/tags/{an_id(tag)}/taggings", person_link),
        ("/api/v2/events", {"title": "Marcha", "start_date": "2030-06-01T23:00:00Z"}),
        (f"/api/v2/events/{an_id(event)}/attendances", person_link),
    ]
    firsts = []
    for number, (path, body) in enumerate(requests):
        response = api.post(path, body, headers={"HTTP_IDEMPOTENCY_KEY": f"fresh-2-{number}"})
        assert response.status_code == 200, response.content
        firsts.append(response.json())
    counts = [Tag.objects.count(), Tagging.objects.count(), Event.objects.count()]
    for number, (path, body) in enumerate(requests):
        replay = api.post(path, body, headers={"HTTP_IDEMPOTENCY_KEY": f"fresh-2-{number}"})
        assert replay.status_code == 200 and replay.json() == firsts[number]
    ApiKey.objects.filter(pk=api_key[0].pk).update(unit=tree.committee_b)
    for number, (path, body) in enumerate(requests):
        replay = api.post(path, body, headers={"HTTP_IDEMPOTENCY_KEY": f"fresh-2-{number}"})
        assert replay.status_code == 404, (path, replay.content)
    assert [Tag.objects.count(), Tagging.objects.count(), Event.objects.count()] == counts
    assert RSVP.objects.count() == 1 and Person.objects.count() == 1


def test_deleting_a_person_leaves_no_copy_in_stored_answers(api):
    """What a POST answered is kept as a reference, never as the person's data: no stored
    answer holds their name or contact details, and once the person is deleted a repeat is
    a 404 that brings nothing back and does not create them again."""
    from leaven.api.models import IdempotentRequest
    from leaven.people.models import Person

    headers = {"HTTP_IDEMPOTENCY_KEY": "fresh-3"}
    assert api.post("/api/v2/people", SIGNUP, headers=headers).status_code == 200
    stored = json.dumps(list(IdempotentRequest.objects.values()), default=str)
    for value in ("Ana", "Pérez", "ana@example.org"):
        assert value not in stored and value.encode("unicode_escape").decode() not in stored
    Person.objects.get().delete()
    again = api.post("/api/v2/people", SIGNUP, headers=headers)
    assert again.status_code == 404 and "Ana" not in again.content.decode()
    assert not Person.objects.exists()


def test_idempotency_key_binds_the_query_string(api):
    """The query string is part of the request: the same key and body without it, or with
    another, is refused with 422 and runs nothing; the same parameters in another order are
    the same request; a long query string is bound whole."""
    from leaven.api.models import IdempotentRequest
    from leaven.people.models import Person

    def post(query: str, key: str, body: dict[str, Any] = SIGNUP) -> Any:
        return api.client.post(
            "/api/v2/people" + query,
            body,
            content_type="application/json",
            HTTP_OSDI_API_TOKEN=api.token,
            HTTP_IDEMPOTENCY_KEY=key,
        )

    first = post("?background_processing=true&x=1", "query-1")
    assert first.status_code == 200
    assert post("", "query-1").status_code == 422
    assert post("?background_processing=false&x=1", "query-1").status_code == 422
    same = post("?x=1&background_processing=true", "query-1")
    assert same.status_code == 200 and same.json() == first.json()
    long_query = "?background_processing=true&note=" + "a" * 400
    other = {"person": {"given_name": "Luis", "email_addresses": [{"address": "l@example.org"}]}}
    assert post(long_query, "query-2", other).status_code == 200
    assert post(long_query + "b", "query-2", other).status_code == 422
    assert post(long_query, "query-2", other).json()["given_name"] == "Luis"
    assert Person.objects.count() == 2
    assert all(len(row.path) <= 255 for row in IdempotentRequest.objects.all())


def test_writes_and_the_stored_answer_commit_together(
    api, api_key, monkeypatch, django_capture_on_commit_callbacks
):
    """When keeping the answer fails after the request's writes, the writes roll back with
    it (nothing created, no webhook queued) and the claim is given back; a retry, even one
    long after, runs once and creates exactly one record."""
    import datetime as dt

    from leaven.api import services
    from leaven.api.models import IdempotentRequest
    from leaven.api.services import webhook_create
    from leaven.core.models import AuditEvent
    from leaven.events.models import Event
    from leaven.people.models import Person

    webhook_create(
        actor=None,
        unit=api_key[0].unit,
        url="https://hooks.example.org/leaven",
        topics=["person.created"],
        as_operator=True,
    )
    real = services.idempotent_complete

    def broken(**kwargs: Any) -> bool:
        real(**kwargs)
        raise RuntimeError("the database went away while keeping the answer")

    monkeypatch.setattr(services, "idempotent_complete", broken)
    event = {"title": "Asamblea", "start_date": "2030-05-01T23:00:00Z"}
    with django_capture_on_commit_callbacks() as queued:
        for path, body, key_name in (
            ("/api/v2/events", event, "commit-1"),
            ("/api/v2/people", SIGNUP, "commit-2"),
        ):
            with pytest.raises(RuntimeError):
                api.post(path, body, headers={"HTTP_IDEMPOTENCY_KEY": key_name})
    assert not queued
    assert not Event.objects.exists() and not Person.objects.exists()
    assert not AuditEvent.objects.filter(verb__in=["event.created", "person.created"]).exists()
    assert not IdempotentRequest.objects.exists()
    monkeypatch.setattr(services, "idempotent_complete", real)
    # A claim left in progress would be taken over after IDEMPOTENCY_STALE: act as if that
    # much time had passed before the retries.
    IdempotentRequest.objects.update(
        created_at=dt.datetime.now(dt.UTC) - services.IDEMPOTENCY_STALE - dt.timedelta(minutes=1)
    )
    with django_capture_on_commit_callbacks() as queued:
        retried = api.post("/api/v2/events", event, headers={"HTTP_IDEMPOTENCY_KEY": "commit-1"})
        signed = api.post("/api/v2/people", SIGNUP, headers={"HTTP_IDEMPOTENCY_KEY": "commit-2"})
    assert retried.status_code == 200 and signed.status_code == 200
    assert len(queued) == 1  # the person.created webhook, once
    for _repeat in range(2):
        assert (
            api.post("/api/v2/events", event, headers={"HTTP_IDEMPOTENCY_KEY": "commit-1"}).json()
            == retried.json()
        )
    assert Event.objects.count() == 1 and Person.objects.count() == 1


def test_a_request_whose_claim_was_taken_over_rolls_back(api, monkeypatch):
    """A request that outlives its claim (a repeat took it over as stale while it ran)
    rolls its writes back and answers 409, and leaves the other request's claim alone:
    the record is made once, by the request holding the claim."""
    import datetime as dt

    from leaven.api import services_osdi
    from leaven.api.models import IdempotentRequest
    from leaven.events.models import Event

    real = services_osdi.event_create

    def slow(**kwargs: Any) -> Any:
        created = real(**kwargs)
        # Meanwhile a repeat takes the claim over: it is stamped with that repeat's time.
        IdempotentRequest.objects.update(
            created_at=IdempotentRequest.objects.get().created_at + dt.timedelta(minutes=11)
        )
        return created

    monkeypatch.setattr(services_osdi, "event_create", slow)
    event = {"title": "Asamblea", "start_date": "2030-05-01T23:00:00Z"}
    response = api.post("/api/v2/events", event, headers={"HTTP_IDEMPOTENCY_KEY": "lost-1"})
    assert response.status_code == 409 and "still being processed" in response.json()["error"]
    assert not Event.objects.exists()
    claim = IdempotentRequest.objects.get()
    assert claim.state == IdempotentRequest.State.RUNNING


def test_a_signup_refused_by_the_daily_cap_is_kept_and_replayed_later(
    api, make_person, settings, monkeypatch
):
    """A signup with an Idempotency-Key that matched a known person past the daily cap is
    recorded and answered 429 without the record; a repeat is a read too (429 while the cap
    holds), then answers with the record once the key may read people again, and never
    runs the signup again."""
    from leaven.api import services_osdi
    from leaven.core.models import AuditEvent
    from leaven.people.services import EmailInput

    settings.LEAVEN_API_DAILY_PEOPLE_READS = 1
    make_person(given_name="Rosa", emails=[EmailInput(address="rosa@example.org")])
    assert api.get("/api/v2/people").status_code == 200  # the day's one read
    real = services_osdi.person_signup
    calls = {"n": 0}

    def counted(**kwargs: Any) -> Any:
        calls["n"] += 1
        return real(**kwargs)

    monkeypatch.setattr(services_osdi, "person_signup", counted)
    body = {"person": {"email_addresses": [{"address": "rosa@example.org"}]}, "add_tags": ["bus"]}
    headers = {"HTTP_IDEMPOTENCY_KEY": "capped-1"}
    refused = api.post("/api/v2/people", body, headers)
    assert refused.status_code == 429 and "Rosa" not in refused.content.decode()
    assert AuditEvent.objects.filter(verb="person.tagged").count() == 1
    assert api.post("/api/v2/people", body, headers).status_code == 429
    settings.LEAVEN_API_DAILY_PEOPLE_READS = 10
    later = api.post("/api/v2/people", body, headers)
    assert later.status_code == 200 and later.json()["given_name"] == "Rosa"
    assert calls["n"] == 1


def test_two_requests_with_one_key_at_once_run_once(live_server, api_key, monkeypatch):
    """Two POSTs with the same Idempotency-Key against a real server, the second arriving
    while the first is still inside its handler: the second gets 409 and runs nothing, the
    first finishes, and a later repeat replays the first answer. The first is held once it
    has claimed the key, before its writes begin: on SQLite a request that writes waits for
    another's write transaction to end, so a first request held inside its transaction
    would hold the second as well."""
    import threading
    import urllib.error
    import urllib.request

    from leaven.api import services, services_osdi
    from leaven.people.models import Person

    real_claim, real_signup = services.idempotent_claim, services_osdi.person_signup
    inside, release = threading.Event(), threading.Event()
    claims, calls = {"n": 0}, {"n": 0}

    def held(**kwargs):
        claim = real_claim(**kwargs)
        claims["n"] += 1
        if claims["n"] == 1:
            inside.set()
            release.wait(30)
        return claim

    def counted(**kwargs):
        calls["n"] += 1
        return real_signup(**kwargs)

    monkeypatch.setattr(services, "idempotent_claim", held)
    monkeypatch.setattr(services_osdi, "person_signup", counted)

    def post() -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(  # noqa: S310 - the test server
            live_server.url + "/api/v2/people",
            data=json.dumps(SIGNUP).encode(),
            headers={
                "Content-Type": "application/json",
                "OSDI-API-Token": api_key[1],
                "Idempotency-Key": "race-1",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    results: dict[str, tuple[int, dict[str, Any]]] = {}
    first = threading.Thread(target=lambda: results.update(first=post()))
    first.start()
    try:
        assert inside.wait(30)
        second = post()
    finally:
        release.set()
        first.join(60)
    assert second[0] == 409 and "still being processed" in second[1]["error"]
    assert results["first"][0] == 200 and results["first"][1]["given_name"] == "Ana"
    third = post()
    assert third == results["first"]
    assert calls["n"] == 1
    assert Person.objects.count() == 1


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


def test_daily_cap_on_people_read_answers_429_and_is_audited(
    api, other_api, api_key, make_person, tree, settings
):
    """A key reads at most LEAVEN_API_DAILY_PEOPLE_READS person records a day: a page that
    would pass the cap is refused whole with 429, a clear JSON error and an audit event;
    reads of one person and PUTs count too; another key has its own count."""
    from leaven.core.models import AuditEvent

    settings.LEAVEN_API_DAILY_PEOPLE_READS = 5
    people = [make_person(given_name=f"P{i}") for i in range(4)]
    make_person(tree.committee_b, given_name="B")
    first = api.get("/api/v2/people", per_page=3)
    assert first.status_code == 200 and len(first.json()["_embedded"]["osdi:people"]) == 3
    refused = api.get("/api/v2/people", page=1, per_page=3)  # 3 more would make 6
    assert refused.status_code == 429
    assert "Daily limit" in refused.json()["error"] and "5 people" in refused.json()["error"]
    assert 0 < int(refused["Retry-After"]) <= 86400
    event = AuditEvent.objects.get(verb="api.people_read_capped")
    assert event.actor_label == f"apikey:{api_key[0].pk}"
    assert event.unit == tree.committee_a
    assert event.detail == {"count": 3, "limit": 5}
    href = first.json()["_embedded"]["osdi:people"][0]["_links"]["self"]["href"]
    assert api.get(href).status_code == 200  # 4
    assert api.put(href, {"given_name": "Ana"}).status_code == 200  # 5
    assert api.get(href).status_code == 429
    assert api.put(href, {"given_name": "Changed"}).status_code == 429
    assert people[0].__class__.objects.get(pk=people[0].pk).given_name == "Ana"
    assert AuditEvent.objects.filter(verb="api.people_read_capped").count() == 3
    # Collections without people are not counted; another key reads on.
    assert api.get("/api/v2/tags").status_code == 200
    assert other_api.get("/api/v2/people").status_code == 200


def test_daily_cap_counts_per_utc_day(api_key):
    """The count starts again on the next calendar day in UTC; a batch larger than what is
    left is refused and counts nothing."""
    import datetime as dt

    from leaven.api.models import PeopleReadCount
    from leaven.api.services import people_read_allow

    key = api_key[0]
    late = dt.datetime(2026, 3, 1, 23, 59, tzinfo=dt.UTC)
    assert people_read_allow(key=key, count=8, limit=10, now=late)
    assert not people_read_allow(key=key, count=3, limit=10, now=late)
    assert people_read_allow(key=key, count=2, limit=10, now=late)
    assert not people_read_allow(key=key, count=1, limit=10, now=late)
    # 18:30 in Chicago on 1 March is already 2 March in UTC.
    chicago = dt.timezone(dt.timedelta(hours=-6))
    next_day = dt.datetime(2026, 3, 1, 18, 30, tzinfo=chicago)
    assert people_read_allow(key=key, count=10, limit=10, now=next_day)
    assert list(PeopleReadCount.objects.values_list("day", "people")) == [(dt.date(2026, 3, 2), 10)]


def test_signup_that_matches_a_stored_person_counts_as_a_read(api, make_person, settings):
    """The signup helper answers with the stored record of the person it matched: that is
    a read, audited and counted against the daily cap, so the cap cannot be passed by
    signing up known addresses. A new person's own record is not counted."""
    from leaven.core.models import AuditEvent
    from leaven.people.services import EmailInput

    settings.LEAVEN_API_DAILY_PEOPLE_READS = 2
    make_person(given_name="Ana", emails=[EmailInput(address="ana@example.org")])
    make_person(given_name="Luis", emails=[EmailInput(address="luis@example.org")])
    make_person(given_name="Rosa", emails=[EmailInput(address="rosa@example.org")])
    new = api.post(
        "/api/v2/people", {"person": {"email_addresses": [{"address": "x@example.org"}]}}
    )
    assert new.status_code == 200
    assert AuditEvent.objects.filter(verb="api.people_read").count() == 0
    for address in ("ana@example.org", "luis@example.org"):
        answer = api.post("/api/v2/people", {"person": {"email_addresses": [{"address": address}]}})
        assert answer.status_code == 200 and answer.json()["given_name"] in ("Ana", "Luis")
    assert AuditEvent.objects.filter(verb="api.people_read").count() == 2
    refused = api.post(
        "/api/v2/people", {"person": {"email_addresses": [{"address": "rosa@example.org"}]}}
    )
    assert refused.status_code == 429
    assert "Rosa" not in refused.content.decode()
    assert AuditEvent.objects.filter(verb="api.people_read_capped").count() == 1
