"""The geography pages: the map and its data, a precinct, and the import page. Boundaries
are public geography; people and counts are scoped; the import page is for admins and
organizers only."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from leaven.geo.models import ElectionResult, Jurisdiction
from leaven.geo.tests.conftest import PRECINCTS, feature_collection

pytestmark = pytest.mark.django_db


@pytest.fixture
def placed(tree, precincts, place, admin):
    from leaven.geo.services import households_assign_jurisdictions

    place(tree.committee_a, 41.89, -87.69, n=3, voters=1, stage="volunteer")
    place(tree.committee_b, 41.89, -87.69, n=2, voters=2)
    households_assign_jurisdictions(actor=admin)


def test_the_map_page_lists_precincts_and_loads_its_script(client_for, coordinator, placed):
    response = client_for(coordinator).get("/geo/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="geo-map"' in html
    assert "/static/leaflet/leaflet.js" in html and "/static/geo/map.js" in html
    assert 'type="application/json"' in html and "/geo/map.json" in html
    assert "<script>" not in html  # the CSP forbids inline scripts
    assert 'href="/geo/precincts/001/"' in html
    rows = {row.code: row.counts for row in response.context["rows"]}
    assert rows["001"].people == 3


def test_the_map_data_is_geojson_with_the_actors_counts(client_for, coordinator, placed):
    response = client_for(coordinator).get("/geo/map.json")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    data = json.loads(response.content)
    assert data["type"] == "FeatureCollection"
    props = {f["properties"]["code"]: f["properties"] for f in data["features"]}
    assert props["001"]["people"] == 3 and props["001"]["registered"] == 1


def test_without_tiles_no_tile_url_is_given(client_for, coordinator, placed, settings):
    settings.LEAVEN_MAP_TILES = ""
    config = client_for(coordinator).get("/geo/").context["config"]
    assert config["tiles"] == ""
    assert (
        "tiles.example.org" not in client_for(coordinator).get("/geo/")["Content-Security-Policy"]
    )
    settings.LEAVEN_MAP_TILES = "https://{s}.tiles.example.org/{z}/{x}/{y}.png"
    response = client_for(coordinator).get("/geo/")
    assert response.context["config"]["tiles"] == "https://{s}.tiles.example.org/{z}/{x}/{y}.png"
    # The tile server is allowed for images on the map page only.
    assert "img-src 'self' data: https://*.tiles.example.org" in response["Content-Security-Policy"]
    assert (
        "tiles.example.org"
        not in client_for(coordinator).get("/geo/precincts/001/")["Content-Security-Policy"]
    )


def test_the_precinct_page_shows_counts_stages_and_results(client_for, coordinator, placed):
    ElectionResult.objects.create(
        precinct=Jurisdiction.objects.get(code="001"),
        election="2027 municipal",
        contest="Alderperson",
        choice="Rosa Peña",
        votes=412,
    )
    response = client_for(coordinator).get("/geo/precincts/001/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Precinct Pilsen 1" in html
    assert "Rosa Peña" in html and "412" in html
    summary = response.context["summary"]
    assert summary.counts.people == 3 and summary.counts.registered == 1
    assert len(summary.households) == 1


def test_the_outsider_sees_the_precinct_but_none_of_pilsens_people(
    client_for, outsider, placed, tree
):
    """The precinct is public geography, so it is not a 404; but the outsider's counts are
    their own committee's only, and no Pilsen household is listed."""
    from leaven.people.models import Household

    response = client_for(outsider).get("/geo/precincts/001/")
    assert response.status_code == 200
    summary = response.context["summary"]
    assert summary.counts.people == 2 and summary.counts.households == 1
    pilsen = Household.objects.get(owner_unit=tree.committee_a)
    assert f"/households/{pilsen.pk}/" not in response.content.decode()
    data = json.loads(client_for(outsider).get("/geo/map.json").content)
    props = {f["properties"]["code"]: f["properties"] for f in data["features"]}
    assert props["001"]["people"] == 2


def test_a_missing_precinct_is_a_404(client_for, coordinator, placed):
    assert client_for(coordinator).get("/geo/precincts/999/").status_code == 404


def test_pages_need_a_sign_in(client, placed):
    for url in ("/geo/", "/geo/map.json", "/geo/precincts/001/", "/geo/import/"):
        assert client.get(url).status_code == 302


def test_the_import_page_is_a_404_for_a_coordinator(client_for, coordinator, outsider):
    assert client_for(coordinator).get("/geo/import/").status_code == 404
    assert client_for(outsider).post("/geo/import/", {"action": "boundaries"}).status_code == 404


def _upload(name, content, content_type="application/geo+json"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_an_organizer_imports_boundaries_from_the_page(client_for, organizer):
    client = client_for(organizer)
    assert client.get("/geo/import/").status_code == 200
    response = client.post(
        "/geo/import/",
        {
            "action": "boundaries",
            "boundary-file": _upload("precincts.geojson", feature_collection(PRECINCTS)),
            "boundary-kind": "precinct",
            "boundary-code_field": "PREC",
            "boundary-name_field": "NAME",
        },
    )
    assert response.status_code == 200
    assert response.context["summary"].created == 5
    assert "5 new, 0 updated." in response.content.decode()
    assert Jurisdiction.objects.filter(kind="precinct").count() == 5


def test_a_bad_boundary_file_shows_the_error_and_stores_nothing(client_for, organizer):
    response = client_for(organizer).post(
        "/geo/import/",
        {
            "action": "boundaries",
            "boundary-file": _upload("precincts.geojson", feature_collection(PRECINCTS)),
            "boundary-kind": "precinct",
            "boundary-code_field": "PRECINCT_ID",
        },
    )
    assert response.status_code == 200
    assert "No feature has a property “PRECINCT_ID”" in response.content.decode()
    assert not Jurisdiction.objects.exists()
    response = client_for(organizer).post(
        "/geo/import/",
        {
            "action": "boundaries",
            "boundary-file": _upload("precincts.geojson", b"not json"),
            "boundary-kind": "precinct",
            "boundary-code_field": "PREC",
            "boundary-parent": "nowhere",
        },
    )
    assert "No jurisdiction has this code." in response.content.decode()


def test_an_organizer_imports_results_and_sees_row_errors(client_for, organizer, precincts):
    client = client_for(organizer)
    bad = b"precinct,contest,choice,votes\n001,Mayor,Rosa,12\n999,Mayor,Rosa,3\n"
    response = client.post(
        "/geo/import/",
        {
            "action": "results",
            "results-file": _upload("r.csv", bad, "text/csv"),
            "results-election": "2027",
        },
    )
    assert "Row 3: unknown precinct “999”." in response.content.decode()
    assert not ElectionResult.objects.exists()
    good = b"precinct,contest,choice,votes\n001,Mayor,Rosa,12\n002,Mayor,Rosa,3\n"
    response = client.post(
        "/geo/import/",
        {
            "action": "results",
            "results-file": _upload("r.csv", good, "text/csv"),
            "results-election": "2027",
            "results-election_date": "2027-02-23",
        },
        follow=True,
    )
    assert "Imported 2 results in 2 precincts." in response.content.decode()
    assert ElectionResult.objects.count() == 2


def test_the_page_is_in_spanish(client_for, coordinator, placed):
    client = client_for(coordinator)
    client.cookies["django_language"] = "es"
    html = client.get("/geo/precincts/001/").content.decode()
    assert "Resultados electorales" in html
