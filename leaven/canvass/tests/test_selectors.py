"""Canvass reads: scoped to the actor, with strength counts that add up."""

from __future__ import annotations

import uuid

import pytest
from django.http import Http404

from leaven.canvass import selectors
from leaven.canvass.services import results_record


def _spoke(captain, assignment, household, person=None, result="spoke", answers=()):
    return results_record(
        actor=captain,
        assignment=assignment,
        turf=assignment.turf,
        results=[
            {
                "uuid": str(uuid.uuid4()),
                "household_id": household.pk,
                "person_id": person.pk if person else None,
                "result": result,
                "answers": list(answers),
            }
        ],
    )


def test_outsider_sees_no_turf_assignment_or_precinct(outsider, assignment, script):
    turf = assignment.turf
    with pytest.raises(Http404):
        selectors.turf_get_for_actor(actor=outsider, pk=turf.pk)
    with pytest.raises(Http404):
        selectors.assignment_get_for_actor(actor=outsider, pk=assignment.pk)
    with pytest.raises(Http404):
        selectors.script_get_for_actor(actor=outsider, pk=script.pk)
    with pytest.raises(Http404):
        selectors.ward_ranking(actor=outsider, ward="W1")
    assert not selectors.turf_list_for_actor(actor=outsider).exists()
    assert selectors.strength_by_precinct(actor=outsider) == {}


def test_missing_turf_is_the_same_404(coordinator):
    with pytest.raises(Http404):
        selectors.turf_get_for_actor(actor=coordinator, pk=999999)


def test_walk_list_in_order_with_residents_and_last_contact(captain, assignment):
    turf = assignment.turf
    first = turf.doors.order_by("position").first().household
    _spoke(captain, assignment, first, result="not_home")
    doors = selectors.walk_list(actor=captain, turf=turf)
    assert [d.position for d in doors] == list(range(1, 11))
    assert doors[0].household.pk == first.pk
    assert doors[0].last_result == "Not home" and doors[0].last_contact is not None
    assert doors[1].last_contact is None
    assert doors[0].residents[0].first_name.startswith("Rosa")


def test_my_assignments_leave_out_ended_and_revoked(captain, coordinator, assignment):
    from leaven.canvass.services import assignment_revoke

    assert list(selectors.my_assignments(actor=captain)) == [assignment]
    assignment_revoke(actor=coordinator, assignment=assignment)
    assert list(selectors.my_assignments(actor=captain)) == []


def test_strength_counts(captain, coordinator, assignment, script):
    turf = assignment.turf
    doors = [d.household for d in turf.doors.order_by("position")[:3]]
    question = script.questions.first()
    _spoke(
        captain,
        assignment,
        doors[0],
        doors[0].residents.first(),
        answers=[{"uuid": str(uuid.uuid4()), "question_id": question.pk, "value": "yes"}],
    )
    _spoke(captain, assignment, doors[1], result="not_home")
    _spoke(captain, assignment, doors[1], result="not_home")
    rows = selectors.strength_by_precinct(actor=coordinator)
    assert set(rows) == {"P1", "P2"}
    assert rows["P1"].doors + rows["P2"].doors == 40
    code = doors[0].precinct_code
    row = rows[code]
    knocked = sum(1 for d in doors[:2] if d.precinct_code == code)
    assert row.knocked == knocked
    assert row.contacted == 1
    assert row.supporters == 1 and row.stages["supporter"] == 1
    assert row.team == 1 and row.captains == 1
    assert row.potential == row.doors - 1


def test_ward_ranking_orders_by_strength_and_potential(captain, coordinator, assignment, script):
    household = assignment.turf.doors.first().household
    question = script.questions.first()
    _spoke(
        captain,
        assignment,
        household,
        household.residents.first(),
        answers=[{"uuid": str(uuid.uuid4()), "question_id": question.pk, "value": "yes"}],
    )
    by_strength, by_potential = selectors.ward_ranking(actor=coordinator, ward="W1")
    assert by_strength[0].code == household.precinct_code
    assert [r.potential for r in by_potential] == sorted(
        (r.potential for r in by_potential), reverse=True
    )


def test_person_history_is_scoped(captain, coordinator, outsider, assignment):
    household = assignment.turf.doors.first().household
    person = household.residents.first()
    _spoke(captain, assignment, household, person, result="refused")
    assert [
        e.result
        for e in selectors.person_canvass_history(actor=coordinator, person=person, language="en")
    ] == ["Refused"]
    assert selectors.person_canvass_history(actor=outsider, person=person, language="en") == []
    assert (
        selectors.household_canvass_history(actor=outsider, household=household, language="en")
        == []
    )
