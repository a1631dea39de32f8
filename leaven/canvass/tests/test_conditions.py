"""The canvass segment condition, registered with the messaging registry."""

from __future__ import annotations

import uuid

import pytest

from leaven.canvass.services import results_record


def _spoke(captain, assignment, household, person, result):
    return results_record(
        actor=captain,
        assignment=assignment,
        turf=assignment.turf,
        results=[
            {
                "uuid": str(uuid.uuid4()),
                "household_id": household.pk,
                "person_id": person.pk,
                "result": result,
            }
        ],
    )


def test_segment_condition_on_door_results(captain, assignment):
    """The "canvass_result" segment kind matches people with that result on record."""
    from django.core.exceptions import ValidationError

    from leaven.messaging.segments import compile_conditions
    from leaven.people.models import Person

    household = assignment.turf.doors.first().household
    person = household.residents.first()
    _spoke(captain, assignment, household, person, result="refused")
    q = compile_conditions({"kind": "canvass_result", "value": ["refused"]})
    assert list(Person.objects.filter(q)) == [person]
    q = compile_conditions({"kind": "canvass_result", "value": ["spoke"]})
    assert not Person.objects.filter(q).exists()
    with pytest.raises(ValidationError):
        compile_conditions({"kind": "canvass_result", "value": ["abducted"]})
