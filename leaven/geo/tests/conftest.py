"""Fixtures for the geography tests: real-shaped precincts and wards written out here, and
households placed in them through the real services.

The precincts (longitude, latitude, near Chicago):

  001 and 002 share a crooked border running north to south through (-87.65, 41.90),
      (-87.65, 41.88), (-87.64, 41.87), (-87.65, 41.86), (-87.65, 41.85).
  003 lies below both, sharing the line lat 41.85, and has a square hole.
  004 is the island that fills 003's hole.
  005 is a multipolygon: two small squares apart from each other.
Ward W1 holds 001 and 003; ward W2 holds 002 (by boundary, drawn around them).
"""

from __future__ import annotations

import json

import pytest

BORDER = [(-87.65, 41.90), (-87.65, 41.88), (-87.64, 41.87), (-87.65, 41.86), (-87.65, 41.85)]
HOLE = [(-87.67, 41.81), (-87.63, 41.81), (-87.63, 41.84), (-87.67, 41.84), (-87.67, 41.81)]

P001 = [[(-87.70, 41.85), (-87.70, 41.90), *BORDER, (-87.70, 41.85)]]
P002 = [[*BORDER, (-87.60, 41.85), (-87.60, 41.90), (-87.65, 41.90)]]
P003 = [[(-87.70, 41.80), (-87.60, 41.80), (-87.60, 41.85), (-87.70, 41.85), (-87.70, 41.80)], HOLE]
P004 = [HOLE]
P005 = [
    [[(-87.58, 41.80), (-87.57, 41.80), (-87.57, 41.81), (-87.58, 41.81), (-87.58, 41.80)]],
    [[(-87.56, 41.82), (-87.55, 41.82), (-87.55, 41.83), (-87.56, 41.83), (-87.56, 41.82)]],
]
W1 = [
    [(-87.70, 41.80), (-87.70, 41.90), *BORDER, (-87.60, 41.85), (-87.60, 41.80), (-87.70, 41.80)]
]
W2 = P002


def polygon(rings):
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring] for ring in rings]}


def multipolygon(polygons):
    return {
        "type": "MultiPolygon",
        "coordinates": [[[list(p) for p in ring] for ring in poly] for poly in polygons],
    }


def feature_collection(features, code_field="PREC", name_field="NAME"):
    return json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {code_field: code, name_field: name},
                    "geometry": geometry,
                }
                for code, name, geometry in features
            ],
        }
    ).encode()


PRECINCTS = [
    ("001", "Pilsen 1", polygon(P001)),
    ("002", "Pilsen 2", polygon(P002)),
    ("003", "Pilsen 3", polygon(P003)),
    ("004", "Pilsen 4", polygon(P004)),
    ("005", "Harbor", multipolygon(P005)),
]
WARDS = [("W1", "Ward 1", polygon(W1)), ("W2", "Ward 2", polygon(W2))]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english():
    """Messages are checked in English; a Spanish page visited earlier must not leak."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fresh_index():
    """Each test starts with no index built (a test's rolled-back rows must not linger)."""
    from leaven.geo import index

    index.reset()
    yield
    index.reset()


@pytest.fixture
def organizer(tree):
    from conftest import _user

    return _user("organizer@example.org", "organizer", tree.committee_a)


@pytest.fixture
def precincts(admin):
    """The five precincts and two wards above, imported through the real service."""
    from leaven.geo.models import Jurisdiction
    from leaven.geo.services import jurisdictions_import_geojson

    jurisdictions_import_geojson(
        actor=admin,
        data=feature_collection(WARDS),
        kind=Jurisdiction.Kind.WARD,
        code_field="PREC",
        name_field="NAME",
    )
    summary = jurisdictions_import_geojson(
        actor=admin,
        data=feature_collection(PRECINCTS),
        kind=Jurisdiction.Kind.PRECINCT,
        code_field="PREC",
        name_field="NAME",
    )
    assert summary.created == 5, summary
    return {j.code: j for j in Jurisdiction.objects.filter(kind=Jurisdiction.Kind.PRECINCT)}


@pytest.fixture
def place(admin):
    """A household at (lat, lon) in a unit, with people in it: place(unit, lat, lon, n=2,
    voters=1, stage="volunteer"). Returns the household."""
    from leaven.geo.models import VoterRecord
    from leaven.people.services import household_get_or_create, person_create

    counter = {"n": 0}

    def make(unit, lat, lon, *, n=1, voters=0, stage="unknown"):
        counter["n"] += 1
        household = household_get_or_create(
            actor=admin,
            owner_unit=unit,
            street=f"{1800 + counter['n']} S Blue Island Ave",
            city="Chicago",
            state="IL",
            zip_code="60608",
            latitude=lat,
            longitude=lon,
        )
        for i in range(n):
            person = person_create(
                actor=admin,
                owner_unit=unit,
                given_name=["María", "José", "Nguyễn", "Lucía"][i % 4],
                family_name="Peña",
                household=household,
                stage=stage,
            )
            if i < voters:
                VoterRecord.objects.create(
                    person=person,
                    owner_unit=unit,
                    state="IL",
                    registration_number=f"R{counter['n']}-{i}",
                    status="ACTIVE",
                )
        return household

    return make
