"""Schemathesis against the published OpenAPI document: no generated request makes the
API answer with a server error."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_openapi_document_is_published(api):
    body = api.client.get("/api/v2/openapi.json").json()
    assert body["openapi"].startswith("3.")
    assert "/api/v2/people" in body["paths"]
    assert "/api/v2/tags/{tag_id}/taggings/{tagging_id}" in body["paths"]


def _send(client, case, token):
    """Send a generated case through Django's test client (in the test's transaction)."""
    import json
    from urllib.parse import urlencode

    from schemathesis.core import NOT_SET

    extra = {"QUERY_STRING": urlencode(case.query or {}, doseq=True)}
    body = b""
    if case.body is not NOT_SET:
        body = json.dumps(case.body).encode()
    return client.generic(
        case.method,
        case.formatted_path,
        data=body,
        content_type="application/json",
        headers={**(case.headers or {}), "OSDI-API-Token": token},
        **extra,
    )


def test_no_generated_request_gets_a_500(api, make_person):
    """A few examples per operation, with a valid key, against the real app."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    make_person(given_name="Ana")
    api.post("/api/v2/tags", {"name": "vecinos"})
    document = api.client.get("/api/v2/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    checked = 0
    statuses: set[int] = set()
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=8,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case):
            response = _send(api.client, case, api.token)
            statuses.add(response.status_code)
            assert response.status_code < 500, (case.method, case.formatted_path, response.content)

        check()
        checked += 1
    assert checked >= 15
    assert 200 in statuses and 400 in statuses and 404 in statuses
