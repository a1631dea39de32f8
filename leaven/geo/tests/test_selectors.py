"""Reads for geography: counts per precinct and ward and the precinct summary, scoped to the
actor's units. Boundaries are public; another committee's people never show, not even as a
number."""

from __future__ import annotations

import pytest
from django.http import Http404

from leaven.geo import selectors
from leaven.geo.models import ElectionResult

pytestmark = pytest.mark.django_db


@pytest.fixture
def placed(tree, precincts, place, admin):
    from leaven.geo.services import households_assign_jurisdictions

    place(tree.committee_a, 41.89, -87.69, n=3, voters=2, stage="volunteer")
    place(tree.circle_a, 41.88, -87.68, n=1, voters=0, stage="leader")
    place(tree.committee_a, 41.89, -87.61, n=2, voters=2)
    place(tree.committee_b, 41.89, -87.69, n=4, voters=1)
    households_assign_jurisdictions(actor=admin)


def test_counts_by_precinct_for_a_coordinator(coordinator, placed):
    counts = selectors.counts_by_code(actor=coordinator, field_name="precinct_code")
    assert counts["001"].as_dict() == {
        "households": 2,
        "people": 4,
        "registered": 2,
        "not_registered": 2,
    }
    assert counts["002"].as_dict()["registered"] == 2
    wards = selectors.counts_by_code(actor=coordinator, field_name="ward_code")
    assert wards["W1"].people == 4 and wards["W2"].people == 2


def test_an_admin_of_the_network_counts_everyone(admin, placed):
    counts = selectors.counts_by_code(actor=admin, field_name="precinct_code")
    assert counts["001"].households == 3 and counts["001"].people == 8


def test_the_outsider_counts_only_their_own_committee(outsider, placed):
    counts = selectors.counts_by_code(actor=outsider, field_name="precinct_code")
    assert set(counts) == {"001"}
    assert counts["001"].as_dict() == {
        "households": 1,
        "people": 4,
        "registered": 1,
        "not_registered": 3,
    }
    summary = selectors.precinct_summary(
        actor=outsider, precinct=selectors.jurisdiction_get(kind="precinct", code="002")
    )
    assert summary.counts.as_dict() == {
        "households": 0,
        "people": 0,
        "registered": 0,
        "not_registered": 0,
    }
    assert summary.households == []


def test_a_removed_voter_record_is_not_registered(coordinator, placed):
    from leaven.geo.models import VoterRecord

    VoterRecord.objects.filter(owner_unit__slug="pilsen").update(status="REMOVED")
    counts = selectors.counts_by_code(actor=coordinator, field_name="precinct_code")
    assert counts["001"].registered == 0 and counts["001"].not_registered == 4


def test_precinct_summary_has_stages_households_and_results(coordinator, placed, precincts):
    ElectionResult.objects.create(
        precinct=precincts["001"], election="2027", contest="Mayor", choice="Rosa Peña", votes=300
    )
    ElectionResult.objects.create(
        precinct=precincts["001"], election="2027", contest="Mayor", choice="Ann Lee", votes=100
    )
    summary = selectors.precinct_summary(actor=coordinator, precinct=precincts["001"])
    stages = {value: count for value, _label, count in summary.stages}
    assert stages == {"unknown": 0, "contacted": 0, "supporter": 0, "volunteer": 3, "leader": 1}
    assert sorted(n for _h, n in summary.households) == [1, 3]
    [contest] = summary.results
    assert contest.total == 400
    assert contest.choices == [("Rosa Peña", 300, 75.0), ("Ann Lee", 100, 25.0)]


def test_a_missing_precinct_is_a_404(db):
    with pytest.raises(Http404):
        selectors.jurisdiction_get(kind="precinct", code="nope")


def test_map_data_carries_the_actors_counts(coordinator, outsider, placed):
    data = selectors.map_data(actor=coordinator)
    by_code = {f["properties"]["code"]: f["properties"] for f in data["features"]}
    assert by_code["001"]["people"] == 4 and by_code["001"]["url"] == "/geo/precincts/001/"
    assert by_code["W1"]["kind"] == "ward" and "url" not in by_code["W1"]
    outsider_data = selectors.map_data(actor=outsider)
    outsider_by_code = {f["properties"]["code"]: f["properties"] for f in outsider_data["features"]}
    assert outsider_by_code["002"]["people"] == 0
    assert outsider_by_code["001"]["people"] == 4  # their own four, not Pilsen's


def test_find_parent_prefers_a_ward(admin, precincts):
    assert selectors.jurisdiction_find_parent(code="W1").kind == "ward"
    assert selectors.jurisdiction_find_parent(code="001").kind == "precinct"
    assert selectors.jurisdiction_find_parent(code="W1", kind="county") is None
