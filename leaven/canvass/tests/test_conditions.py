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


def test_segment_form_offers_door_results(client_for, coordinator, captain, assignment, tree):
    """An organizer picks door results on the segment page; the count and the saved
    segment use them, and the page shows the choice again."""
    from leaven.messaging.models import Segment

    household = assignment.turf.doors.first().household
    person = household.residents.first()
    _spoke(captain, assignment, household, person, result="refused")
    c = client_for(coordinator)
    form = c.get("/messaging/segments/new/").content.decode()
    assert "Had any of these results at the door" in form and 'value="refused"' in form
    data = {
        "name": "Said no at the door",
        "owner_unit": tree.committee_a.pk,
        "match": "and",
        "door_results": ["refused"],
    }
    assert "1 person matches now." in c.post("/messaging/segments/count/", data).content.decode()
    none = {**data, "door_results": ["moved"]}
    assert (
        "1 person matches now." not in c.post("/messaging/segments/count/", none).content.decode()
    )
    assert c.post("/messaging/segments/new/", data).status_code == 302
    segment = Segment.objects.get(name="Said no at the door")
    assert {"kind": "canvass_result", "value": ["refused"]} in segment.conditions["children"][0][
        "children"
    ]
    page = c.get(f"/messaging/segments/{segment.pk}/").content.decode()
    assert 'name="door_results" value="refused" id="id_door_results_1" checked' in page
