"""The demo data: a responder roster with coarse cells, closed incidents with timelines and
an open one, visible to a dispatcher of the committee."""

from __future__ import annotations

import random

import pytest

from leaven.rapid_response import selectors
from leaven.rapid_response.demo import rapid_response_demo
from leaven.rapid_response.models import Incident, Responder

pytestmark = pytest.mark.django_db


def test_demo_makes_responders_and_incidents(tree, make_person, dispatcher):
    """Forty responders, two closed incidents and an open one the dispatcher sees."""
    people = [make_person(given_name=f"P{i}") for i in range(45)]
    made = rapid_response_demo(unit=tree.committee_a, people=people, rng=random.Random(1))
    assert Responder.objects.filter(owner_unit=tree.committee_a).count() == 40
    assert Responder.objects.filter(is_verifier=True).exists()
    assert Incident.objects.count() == 3 and len(made) == 43
    assert set(Incident.objects.values_list("state", flat=True)) == {
        "closed",
        "false_alarm",
        "reported",
    }
    open_ones = selectors.incident_list_for_actor(actor=dispatcher)
    assert [i.state for i in open_ones] == ["reported"]
    # The demo committee's public report page is open; another committee's stays closed.
    assert selectors.public_unit(slug=tree.committee_a.slug) == tree.committee_a
    tree.committee_b.refresh_from_db()
    assert not tree.committee_b.takes_public_reports
