"""Point-in-polygon with the STRtree index: holes, multipolygons, and points on a shared
border or vertex, each of which lands in exactly one precinct."""

from __future__ import annotations

import pytest
import shapely

from leaven.geo.index import PrecinctIndex
from leaven.geo.models import Jurisdiction

pytestmark = pytest.mark.django_db


def covering(precincts, lat, lon):
    point = shapely.Point(lon, lat)
    return sorted(
        code for code, j in precincts.items() if shapely.from_geojson(j.boundary).covers(point)
    )


def test_interior_points_land_in_their_precinct(precincts):
    index = PrecinctIndex.for_kind()
    assert index.locate(41.89, -87.69) == "001"
    assert index.locate(41.89, -87.61) == "002"
    assert index.locate(41.805, -87.69) == "003"


def test_a_point_in_the_hole_is_not_in_the_precinct_around_it(precincts):
    """003 has a hole; the island 004 fills it. A point in the hole is in 004 only."""
    assert covering(precincts, 41.825, -87.65) == ["004"]
    assert PrecinctIndex.for_kind().locate(41.825, -87.65) == "004"


def test_both_parts_of_a_multipolygon_belong_to_it(precincts):
    index = PrecinctIndex.for_kind()
    assert index.locate(41.805, -87.575) == "005"
    assert index.locate(41.825, -87.555) == "005"
    # Between its two parts is nobody's land.
    assert index.locate(41.815, -87.565) is None


def test_a_point_on_a_shared_border_lands_in_exactly_one(precincts):
    """(41.89, -87.65) is on the straight part of the border of 001 and 002; both cover it,
    and the lowest code wins, every time."""
    assert covering(precincts, 41.89, -87.65) == ["001", "002"]
    index = PrecinctIndex.for_kind()
    assert [index.locate(41.89, -87.65) for _ in range(3)] == ["001"] * 3


def test_a_point_on_a_shared_vertex_lands_in_exactly_one(precincts):
    """(41.87, -87.64) is a vertex of the crooked border; (41.85, -87.65) is a corner shared
    by 001, 002 and 003; a point on the hole's edge is shared by 003 and 004."""
    index = PrecinctIndex.for_kind()
    assert covering(precincts, 41.87, -87.64) == ["001", "002"]
    assert index.locate(41.87, -87.64) == "001"
    assert covering(precincts, 41.85, -87.65) == ["001", "002", "003"]
    assert index.locate(41.85, -87.65) == "001"
    assert covering(precincts, 41.81, -87.65) == ["003", "004"]
    assert index.locate(41.81, -87.65) == "003"


def test_locate_many_matches_locate_and_keeps_order(precincts):
    points = [
        (41.89, -87.69),
        (None, -87.6),
        (41.825, -87.65),
        (41.89, -87.65),
        (10.0, 10.0),
        (41.825, -87.555),
        (41.89, -87.61),
    ]
    index = PrecinctIndex.for_kind()
    many = index.locate_many(points)
    assert many == ["001", None, "004", "001", None, "005", "002"]
    assert many == [index.locate(lat, lon) for lat, lon in points]


def test_index_is_built_once_and_rebuilt_when_jurisdictions_change(precincts, admin):
    from leaven.geo.services import jurisdictions_import_geojson
    from leaven.geo.tests.conftest import feature_collection, polygon

    first = PrecinctIndex.for_kind()
    assert PrecinctIndex.for_kind() is first
    square = [[(-87.50, 41.80), (-87.49, 41.80), (-87.49, 41.81), (-87.50, 41.81), (-87.50, 41.80)]]
    jurisdictions_import_geojson(
        actor=admin,
        data=feature_collection([("006", "New", polygon(square))]),
        kind=Jurisdiction.Kind.PRECINCT,
        code_field="PREC",
        name_field="NAME",
    )
    second = PrecinctIndex.for_kind()
    assert second is not first
    assert second.locate(41.805, -87.495) == "006"
    assert first.locate(41.805, -87.495) is None


def test_an_index_with_no_boundaries_finds_nothing(db):
    index = PrecinctIndex.for_kind()
    assert len(index) == 0
    assert index.locate_many([(41.8, -87.6), (None, None)]) == [None, None]
