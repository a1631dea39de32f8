"""From a list to the map: a coordinator uploads a small voter list whose rows carry
addresses and coordinates but no precinct codes, maps its columns, previews and runs it, and
finds the household in its precinct (by point-in-polygon) on the map and the precinct page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leaven.geo.tests.conftest import PRECINCTS, WARDS, feature_collection

pytestmark = pytest.mark.browser

# Two voters and a neighbour who is not registered share a flat in precinct 002; one voter
# lives in precinct 001. The file has no precinct column: the boundaries place them.
VOTERS = (
    "Nombre\tApellido\tCalle\tApto\tCiudad\tEstado\tCP\tLat\tLon\tRegistro\n"
    "José\tMuñoz\t1200 S Ashland Ave\t2\tChicago\tIL\t60608\t41.89\t-87.62\tIL100\n"
    "María\tPeña\t1200 South Ashland Avenue\tApt 2\tChicago\tIL\t60608\t41.89\t-87.62\tIL101\n"
    "Thảo\tNguyễn\t1200 S. ASHLAND AVE\t#2\tChicago\tIL\t60608\t41.89\t-87.62\t\n"
    "Sean\tO'Brien\t900 W 18th St\t\tChicago\tIL\t60608\t41.89\t-87.69\tIL102\n"
)


@pytest.fixture
def boundaries(admin):
    """The real-shaped test precincts and wards, imported through the geography service;
    the point-in-polygon index is built afresh for this test and dropped after it."""
    from leaven.geo import index
    from leaven.geo.models import Jurisdiction
    from leaven.geo.services import jurisdictions_import_geojson

    index.reset()
    for kind, features in (
        (Jurisdiction.Kind.WARD, WARDS),
        (Jurisdiction.Kind.PRECINCT, PRECINCTS),
    ):
        jurisdictions_import_geojson(
            actor=admin,
            data=feature_collection(features),
            kind=kind,
            code_field="PREC",
            name_field="NAME",
        )
    yield
    index.reset()


def test_voter_list_lands_in_its_precincts_on_the_map(
    page, sign_in_as, coordinator, boundaries, tmp_path, settings
):
    from leaven.people.models import Household

    settings.LEAVEN_IMPORT_DIR = tmp_path / "imports"
    settings.LEAVEN_MAP_TILES = ""
    sheet = tmp_path / "votantes.tsv"
    sheet.write_text(VOTERS, encoding="utf-8")
    sign_in_as(page, coordinator)

    page.goto("/imports/")
    page.get_by_label("File").set_input_files(str(sheet))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("heading", name="Which column holds what")).to_be_visible()
    for label, column in (
        ("Given name", "Nombre"),
        ("Family name (optional)", "Apellido"),
        ("Street address (optional)", "Calle"),
        ("Apartment or unit (optional)", "Apto"),
        ("City (optional)", "Ciudad"),
        ("State (optional)", "Estado"),
        ("ZIP code (optional)", "CP"),
        ("Latitude (optional)", "Lat"),
        ("Longitude (optional)", "Lon"),
        ("Voter registration number (optional)", "Registro"),
    ):
        page.get_by_label(label, exact=True).select_option(column)
    page.get_by_role("button", name="Preview").click()
    table = page.get_by_role("table")
    expect(table).to_contain_text("Nguyễn")
    expect(table).to_contain_text("1200 S Ashland Ave")
    page.get_by_role("button", name="Start the import").click()
    expect(page.locator("[data-state]")).to_have_attribute("data-state", "done", timeout=20000)
    expect(page.locator("[data-figure=created]")).to_have_text("4")
    expect(page.locator("[data-figure=rejected]")).to_have_text("0")
    # Three spellings of one flat are one household, placed in 002 by its coordinates.
    assert sorted(Household.objects.values_list("precinct_code", flat=True)) == ["001", "002"]

    page.goto("/geo/")
    expect(page.locator("#geo-map")).to_have_attribute("data-ready", "true")
    page.locator('#geo-map path[data-code="002"]').click()
    expect(page.get_by_role("heading", name="Precinct Pilsen 2", level=1)).to_be_visible()
    stats = page.locator(".stat")
    expect(stats.filter(has_text="Households")).to_contain_text("1")
    expect(stats.filter(has_text="People")).to_contain_text("3")
    expect(stats.filter(has_text="Not registered")).to_contain_text("1")
    expect(stats.filter(has_text="Registered").first).to_contain_text("2")
    households = page.locator(".geo-households")
    expect(households).to_contain_text("1200 S Ashland Ave")
    expect(households).to_contain_text("3 people")

    page.go_back()
    page.locator('#geo-map path[data-code="001"]').click()
    expect(page.get_by_role("heading", name="Precinct Pilsen 1", level=1)).to_be_visible()
    expect(page.locator(".stat").filter(has_text="People")).to_contain_text("1")
