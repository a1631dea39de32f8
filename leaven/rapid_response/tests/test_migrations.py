"""Upgrading keeps the public report page open for units already running rapid response."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from leaven.core.models import OrgUnit
from leaven.rapid_response.models import Incident, Responder

BEFORE = [("rapid_response", "0002_responder_precinct")]
AFTER = [("rapid_response", "0003_keep_public_reports_open")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_units_with_incidents_or_responders_stay_open(tree, make_person):
    """A unit with incidents, or with responders on its roster, has its page opened by the
    upgrade; a unit with neither stays closed."""
    _migrate(BEFORE)
    OrgUnit.objects.update(takes_public_reports=False)
    Incident.objects.create(owner_unit=tree.committee_a, type="checkpoint", seen_at=timezone.now())
    person = make_person(tree.committee_b)
    Responder.objects.create(person=person, owner_unit=tree.committee_b, cell="x", lat=0, lon=0)

    try:
        _migrate(AFTER)
    finally:
        # Leave the database at the latest migrations, for the tests after this one.
        executor = MigrationExecutor(connection)
        _migrate(executor.loader.graph.leaf_nodes())

    open_units = set(OrgUnit.objects.filter(takes_public_reports=True).values_list("pk", flat=True))
    assert open_units == {tree.committee_a.pk, tree.committee_b.pk}
