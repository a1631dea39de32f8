"""Upgrading keeps the answers already stored for Idempotency-Keys replayable, as references
to their records, and drops the copies of the records themselves."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("api", "0002_idempotency_binding_people_read_cap")]
AFTER = [("api", "0003_idempotency_answer_by_reference")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_stored_answers_become_references_to_their_records(tree, make_person):
    """An answer whose record is found by its identifier keeps its claim and now points at
    the record; one that cannot be matched keeps its claim (a repeat still runs nothing)
    with no record; no stored answer keeps a copy of a person's data."""
    from leaven.api.models import IdempotentRequest
    from leaven.api.services import apikey_create, identifiers_ensure
    from leaven.people.models import Person

    old = _migrate(BEFORE)
    try:
        key, _token = apikey_create(
            actor=None, unit=tree.committee_a, name="sync", as_operator=True
        )
        person = make_person(given_name="Ana")
        uid = identifiers_ensure(Person, [person.pk])[person.pk].uuid
        OldRequest = old.get_model("api", "IdempotentRequest")  # noqa: N806
        for name, path, body in (
            ("matched", "/api/v2/people", {"identifiers": [f"action_network:{uid}"]}),
            ("unmatched", "/api/v2/people", {"identifiers": ["action_network:not-a-uuid"]}),
            ("elsewhere", "/api/v2/tags", {"identifiers": [f"action_network:{uid}"]}),
        ):
            OldRequest.objects.create(
                key_id=key.pk,
                idempotency_key=name,
                path=path,
                state="done",
                status=200,
                body={**body, "given_name": "Ana", "email_addresses": [{"address": "a@x.org"}]},
            )
        _migrate(AFTER)
    finally:
        # Leave the database at the latest migrations, for the tests after this one.
        executor = MigrationExecutor(connection)
        _migrate(executor.loader.graph.leaf_nodes())

    rows = {
        row.idempotency_key: (row.state, row.object_type, row.object_id)
        for row in IdempotentRequest.objects.all()
    }
    assert rows == {
        "matched": ("done", "person", person.pk),
        "unmatched": ("done", "", None),
        "elsewhere": ("done", "", None),
    }
    with connection.cursor() as cursor:
        columns = connection.introspection.get_table_description(
            cursor, IdempotentRequest._meta.db_table
        )
    assert "body" not in {column.name for column in columns}
