"""The geography services: boundary imports (GeoJSON and TopoJSON), repairs and rejections,
household assignment to precincts and wards, and election results."""

from __future__ import annotations

import json
from typing import Any

import pytest
import shapely
from django.core.exceptions import ValidationError

from leaven.core.models import AuditEvent
from leaven.geo import services
from leaven.geo.models import ElectionResult, Jurisdiction
from leaven.geo.tests.conftest import PRECINCTS, feature_collection, polygon

pytestmark = pytest.mark.django_db

SQUARE = [[(-87.70, 41.80), (-87.69, 41.80), (-87.69, 41.81), (-87.70, 41.81), (-87.70, 41.80)]]
BOWTIE = [[(-87.70, 41.80), (-87.69, 41.81), (-87.69, 41.80), (-87.70, 41.81), (-87.70, 41.80)]]
FLAT = [[(-87.70, 41.80), (-87.69, 41.80), (-87.68, 41.80), (-87.70, 41.80)]]


def import_precincts(actor, data, **options):
    options.setdefault("code_field", "PREC")
    options.setdefault("name_field", "NAME")
    return services.jurisdictions_import_geojson(
        actor=actor, data=data, kind=Jurisdiction.Kind.PRECINCT, **options
    )


# --- GeoJSON ------------------------------------------------------------------------------


def test_geojson_import_stores_boundaries_and_bounding_boxes(admin):
    summary = import_precincts(admin, feature_collection(PRECINCTS))
    assert (summary.created, summary.updated, summary.rejected) == (5, 0, [])
    p3 = Jurisdiction.objects.get(kind="precinct", code="003")
    assert p3.name == "Pilsen 3"
    geom = shapely.from_geojson(p3.boundary)
    assert geom.geom_type == "Polygon" and len(geom.interiors) == 1
    assert (p3.min_lon, p3.min_lat, p3.max_lon, p3.max_lat) == (-87.70, 41.80, -87.60, 41.85)
    assert (
        shapely.from_geojson(Jurisdiction.objects.get(code="005").boundary).geom_type
        == "MultiPolygon"
    )
    event = AuditEvent.objects.get(verb="geo.boundaries_imported")
    assert event.detail["created"] == 5 and event.actor == admin


def test_a_second_import_updates_by_kind_and_code(admin):
    import_precincts(admin, feature_collection(PRECINCTS))
    summary = import_precincts(admin, feature_collection([("001", "Pilsen One", polygon(SQUARE))]))
    assert (summary.created, summary.updated) == (0, 1)
    assert Jurisdiction.objects.filter(kind="precinct").count() == 5
    assert Jurisdiction.objects.get(code="001").name == "Pilsen One"
    assert Jurisdiction.objects.get(code="001").max_lon == -87.69


def test_a_parent_is_set_on_every_feature(admin):
    services.jurisdictions_import_geojson(
        actor=admin,
        data=feature_collection([("W1", "Ward 1", polygon(SQUARE))]),
        kind="ward",
        code_field="PREC",
        name_field="NAME",
    )
    ward = Jurisdiction.objects.get(kind="ward", code="W1")
    import_precincts(admin, feature_collection(PRECINCTS[:2]), parent=ward)
    assert set(ward.children.values_list("code", flat=True)) == {"001", "002"}


def test_numeric_codes_and_missing_names(admin):
    data = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": {"PREC": 12.0}, "geometry": polygon(SQUARE)}
            ],
        }
    ).encode()
    import_precincts(admin, data, name_field="")
    assert Jurisdiction.objects.get(kind="precinct").code == "12"
    assert Jurisdiction.objects.get(kind="precinct").name == "12"


def test_a_bowtie_is_repaired_into_two_triangles_and_reported(admin):
    summary = import_precincts(
        admin, feature_collection([("001", "Bow", polygon(BOWTIE)), *PRECINCTS[1:2]])
    )
    assert summary.created == 2 and summary.rejected == []
    assert len(summary.repaired) == 1
    assert "Feature 1 (code 001)" in summary.repaired[0]
    assert "Self-intersection" in summary.repaired[0]
    geom = shapely.from_geojson(Jurisdiction.objects.get(code="001").boundary)
    assert geom.is_valid and geom.geom_type == "MultiPolygon" and len(geom.geoms) == 2
    assert geom.area == pytest.approx(0.00005)


def test_a_ring_without_area_is_rejected_with_the_feature_and_reason(admin):
    summary = import_precincts(
        admin, feature_collection([PRECINCTS[0], ("009", "Flat", polygon(FLAT))])
    )
    assert summary.created == 1
    assert len(summary.rejected) == 1
    assert "Feature 2 (code 009)" in summary.rejected[0]
    assert "cannot be repaired into an area" in summary.rejected[0]
    assert not Jurisdiction.objects.filter(code="009").exists()


def test_features_without_a_code_or_a_polygon_are_rejected_one_by_one(admin):
    data = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": {"PREC": "001"}, "geometry": polygon(SQUARE)},
                {"type": "Feature", "properties": {"PREC": ""}, "geometry": polygon(SQUARE)},
                {
                    "type": "Feature",
                    "properties": {"PREC": "003"},
                    "geometry": {"type": "Point", "coordinates": [-87.7, 41.8]},
                },
                {
                    "type": "Feature",
                    "properties": {"PREC": "004"},
                    "geometry": polygon([[(0, 0), (500000, 0), (500000, 500000), (0, 0)]]),
                },
            ],
        }
    ).encode()
    summary = import_precincts(admin, data)
    assert summary.created == 1
    assert "Feature 2" in summary.rejected[0] and "“PREC”" in summary.rejected[0]
    assert "Feature 3 (code 003)" in summary.rejected[1] and "Point" in summary.rejected[1]
    assert "Feature 4 (code 004)" in summary.rejected[2] and "WGS 84" in summary.rejected[2]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"PREC,NAME\n001,x\n", "not valid JSON"),
        (b"\xff\xfe\x00binary", "not UTF-8"),
        (b'{"type": "Point", "coordinates": [0, 0]}', "not a GeoJSON FeatureCollection"),
        (b"[1, 2]", "not a GeoJSON FeatureCollection"),
        (b'{"type": "FeatureCollection", "features": []}', "no features"),
    ],
)
def test_bad_files_get_a_clear_error_and_store_nothing(admin, data, message):
    with pytest.raises(ValidationError) as caught:
        import_precincts(admin, data)
    assert message in " ".join(caught.value.messages)
    assert not Jurisdiction.objects.exists()
    assert not AuditEvent.objects.filter(verb="geo.boundaries_imported").exists()


def test_a_wrong_code_field_names_the_fields_there_are_and_stores_nothing(admin):
    with pytest.raises(ValidationError) as caught:
        import_precincts(admin, feature_collection(PRECINCTS), code_field="PRECINCT_ID")
    text = " ".join(caught.value.messages)
    assert "PRECINCT_ID" in text and "NAME, PREC" in text
    assert not Jurisdiction.objects.exists()


def test_only_admins_and_organizers_import(coordinator, organizer):
    with pytest.raises(ValidationError):
        import_precincts(coordinator, feature_collection(PRECINCTS))
    assert not Jurisdiction.objects.exists()
    assert import_precincts(organizer, feature_collection(PRECINCTS)).created == 5


# --- TopoJSON -------------------------------------------------------------------------------

TOPOLOGY = {
    "type": "Topology",
    "transform": {"scale": [0.001, 0.001], "translate": [-87.7, 41.8]},
    "arcs": [
        [[50, 0], [0, 50]],  # the shared edge, bottom to top
        [[50, 50], [-50, 0], [0, -50], [50, 0]],  # the rest of A
        [[50, 0], [50, 0], [0, 50], [-50, 0]],  # the rest of B
        [[200, 0], [10, 0], [0, 10], [-10, 0], [0, -10]],  # a small closed square
    ],
    "objects": {
        "precincts": {
            "type": "GeometryCollection",
            "geometries": [
                {"type": "Polygon", "arcs": [[0, 1]], "properties": {"PREC": "A", "NAME": "A"}},
                {"type": "Polygon", "arcs": [[2, -1]], "properties": {"PREC": "B", "NAME": "B"}},
                {
                    "type": "MultiPolygon",
                    "arcs": [[[3]], [[-4]]],
                    "properties": {"PREC": "C", "NAME": "C"},
                },
            ],
        }
    },
}


def test_topojson_arcs_are_decoded_and_stitched(admin):
    summary = import_precincts(admin, json.dumps(TOPOLOGY).encode())
    assert summary.created == 3, summary.rejected
    a = shapely.from_geojson(Jurisdiction.objects.get(code="A").boundary)
    b = shapely.from_geojson(Jurisdiction.objects.get(code="B").boundary)
    assert a.is_valid and b.is_valid
    assert a.area == pytest.approx(0.05 * 0.05)
    assert a.bounds == pytest.approx((-87.7, 41.8, -87.65, 41.85))
    assert b.bounds == pytest.approx((-87.65, 41.8, -87.6, 41.85))
    # They share the decoded edge exactly: no gap, no overlap.
    assert a.intersection(b).area == pytest.approx(0)
    assert a.touches(b)
    from leaven.geo.index import PrecinctIndex

    index = PrecinctIndex.for_kind()
    assert index.locate(41.82, -87.68) == "A"
    assert index.locate(41.82, -87.62) == "B"
    assert index.locate(41.805, -87.495) == "C"


def test_an_unquantized_topology_and_a_bad_arc_index(admin):
    plain: dict[str, Any] = {
        "type": "Topology",
        "arcs": [[[-87.7, 41.8], [-87.69, 41.8], [-87.69, 41.81], [-87.7, 41.81], [-87.7, 41.8]]],
        "objects": {"p": {"type": "Polygon", "arcs": [[0]], "properties": {"PREC": "P"}}},
    }
    assert import_precincts(admin, json.dumps(plain).encode()).created == 1
    plain["objects"]["p"]["arcs"] = [[7]]
    with pytest.raises(ValidationError, match="arc it does not have"):
        import_precincts(admin, json.dumps(plain).encode())


def test_a_topojson_bowtie_is_repaired(admin):
    topology = {
        "type": "Topology",
        "arcs": [[list(p) for p in BOWTIE[0]]],
        "objects": {"p": {"type": "Polygon", "arcs": [[0]], "properties": {"PREC": "X"}}},
    }
    summary = import_precincts(admin, json.dumps(topology).encode())
    assert summary.created == 1 and len(summary.repaired) == 1


# --- Households ---------------------------------------------------------------------------


def test_household_codes_for_a_point(precincts):
    assert services.household_codes_for_point(41.89, -87.69) == ("001", "W1")
    assert services.household_codes_for_point(41.89, -87.61) == ("002", "W2")
    assert services.household_codes_for_point(41.825, -87.65) == ("004", "W1")
    assert services.household_codes_for_point(10.0, 10.0) == ("", "")
    assert services.household_codes_for_point(None, None) == ("", "")


def test_the_ward_falls_back_to_the_precincts_parent(admin, precincts):
    services.jurisdictions_import_geojson(
        actor=admin,
        data=feature_collection([("W9", "Ward 9", polygon(SQUARE))]),
        kind="ward",
        code_field="PREC",
        name_field="NAME",
    )
    ward = Jurisdiction.objects.get(kind="ward", code="W9")
    import_precincts(admin, feature_collection([PRECINCTS[4]]), parent=ward)
    assert services.household_codes_for_point(41.805, -87.575) == ("005", "W9")


def test_assigning_households_fills_codes_in_scope_and_audits_once(
    admin, tree, precincts, place, coordinator
):
    inside = place(tree.committee_a, 41.89, -87.69)
    on_border = place(tree.committee_a, 41.89, -87.65)
    outside = place(tree.committee_a, 10.0, 10.0)
    other = place(tree.committee_b, 41.89, -87.61)
    from leaven.people.models import Household

    Household.objects.filter(pk=outside.pk).update(precinct_code="FROM-FILE")
    changed = services.households_assign_jurisdictions(actor=coordinator)
    assert changed == 2
    rows = dict(Household.objects.values_list("pk", "precinct_code"))
    assert rows[inside.pk] == "001"
    assert rows[on_border.pk] == "001"
    assert rows[outside.pk] == "FROM-FILE"  # no boundary covers it: the file's code stays
    assert rows[other.pk] == ""  # another committee's household: not touched
    assert Household.objects.get(pk=inside.pk).ward_code == "W1"
    events = AuditEvent.objects.filter(verb="household.jurisdictions_assigned")
    assert events.count() == 1
    assert events.get().detail == {"checked": 3, "changed": 2, "uncovered": 1}
    # Running it again changes nothing.
    assert services.households_assign_jurisdictions(actor=coordinator) == 0


def test_assigning_only_some_households_or_one_unit(admin, tree, precincts, place):
    a = place(tree.committee_a, 41.89, -87.69)
    b = place(tree.committee_b, 41.89, -87.61)
    assert services.households_assign_jurisdictions(actor=admin, household_ids=[a.pk]) == 1
    assert services.households_assign_jurisdictions(actor=admin, owner_unit=tree.committee_a) == 0
    assert services.households_assign_jurisdictions(actor=admin, owner_unit=tree.committee_b) == 1
    b.refresh_from_db()
    assert (b.precinct_code, b.ward_code) == ("002", "W2")


def test_assignment_in_batches(admin, tree, precincts, place, monkeypatch):
    monkeypatch.setattr(services, "BATCH_SIZE", 2)
    households = [place(tree.committee_a, 41.89, -87.69 + i * 0.001) for i in range(5)]
    assert services.households_assign_jurisdictions(actor=admin) == 5
    for household in households:
        household.refresh_from_db()
        assert household.precinct_code == "001"


def test_assignment_needs_edit_rights(viewer, outsider, tree):
    with pytest.raises(ValidationError):
        services.households_assign_jurisdictions(actor=viewer)
    with pytest.raises(ValidationError):
        services.households_assign_jurisdictions(actor=outsider, owner_unit=tree.committee_a)


# --- Election results ---------------------------------------------------------------------

RESULTS = (
    "precinct,contest,choice,votes\n"
    "001,Alderperson Ward 1,Rosa Peña,412\n"
    '001,Alderperson Ward 1,John O\'Brien,"1,203"\n'
    "002,Alderperson Ward 1,Rosa Peña,300\n"
)


def test_results_are_imported_and_reimported_as_updates(admin, precincts):
    data = (
        "\ufeffprecinct,contest,choice,votes\n"
        '001,Mayor,Nguyễn Văn An,"1,203"\n'
        "002,Mayor,Rosa Peña,300\n"
    )
    summary = services.election_results_import_csv(
        actor=admin, data=data.encode(), election="2027 municipal"
    )
    assert (summary.rows, summary.created, summary.precincts) == (2, 2, 2)
    result = ElectionResult.objects.get(precinct__code="001")
    assert (result.choice, result.votes) == ("Nguyễn Văn An", 1203)
    data = "PRECINCT,Contest,Choice,Votes\n001,Mayor,Nguyễn Văn An,1210\n"
    summary = services.election_results_import_csv(
        actor=admin, data=data.encode(), election="2027 municipal"
    )
    assert (summary.created, summary.updated) == (0, 1)
    assert ElectionResult.objects.get(precinct__code="001").votes == 1210
    assert AuditEvent.objects.filter(verb="geo.results_imported").count() == 2


def test_every_bad_row_is_reported_and_nothing_is_written(admin, precincts):
    data = (
        "precinct,contest,choice,votes\n"
        "001,Mayor,Rosa Peña,412\n"
        "999,Mayor,Rosa Peña,10\n"
        "002,Mayor,Rosa Peña,many\n"
        "002,Mayor,Rosa Peña,-3\n"
        "001,Mayor,Rosa Peña,5\n"
        "003,Mayor\n"
    )
    with pytest.raises(ValidationError) as caught:
        services.election_results_import_csv(actor=admin, data=data.encode(), election="E")
    messages = caught.value.messages
    assert messages == [
        "Row 3: unknown precinct “999”.",
        "Row 4: “many” is not a number of votes.",
        "Row 5: “-3” is not a number of votes.",
        "Row 6 repeats row 2 (same precinct, contest and choice).",
        "Row 7: it has 2 columns, the header has 4.",
    ]
    assert not ElectionResult.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"precinct,contest,votes\n001,Mayor,3\n", "lacks the columns: choice"),
        (b"\xff\xfe\x00\x01", "not UTF-8"),
        (b"precinct,contest,choice,votes\n", "no results"),
    ],
)
def test_bad_results_files(admin, precincts, data, message):
    with pytest.raises(ValidationError) as caught:
        services.election_results_import_csv(actor=admin, data=data, election="E")
    assert message in " ".join(caught.value.messages)
    assert not ElectionResult.objects.exists()


def test_only_admins_and_organizers_import_results(coordinator, precincts):
    with pytest.raises(ValidationError):
        services.election_results_import_csv(actor=coordinator, data=RESULTS.encode(), election="E")
