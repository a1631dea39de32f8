"""Opening the map: the precinct shapes draw as SVG paths with no tile server, and selecting
a precinct opens its page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_the_map_draws_precincts_and_opens_one(
    page, sign_in_as, coordinator, precincts, place, tree, admin, settings
):
    from leaven.geo.services import households_assign_jurisdictions

    settings.LEAVEN_MAP_TILES = ""
    place(tree.committee_a, 41.89, -87.69, n=2, voters=1)
    households_assign_jurisdictions(actor=admin)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in_as(page, coordinator)

    page.goto("/geo/")
    expect(page.locator("#geo-map")).to_have_attribute("data-ready", "true")
    paths = page.locator("#geo-map .leaflet-overlay-pane svg path.geo-precinct")
    expect(paths).to_have_count(5)
    expect(page.locator("#geo-map .leaflet-overlay-pane svg path.geo-ward")).to_have_count(2)
    # No tiles were asked for: the shapes draw on a plain background.
    expect(page.locator("#geo-map .leaflet-tile")).to_have_count(0)

    page.locator('#geo-map path[data-code="002"]').click()
    expect(page).to_have_url(f"{page.url.split('/geo/')[0]}/geo/precincts/002/")
    expect(page.get_by_role("heading", name="Precinct Pilsen 2", level=1)).to_be_visible()

    page.go_back()
    page.locator('#geo-map path[data-code="001"]').click()
    expect(page.get_by_role("heading", name="Precinct Pilsen 1", level=1)).to_be_visible()
    expect(page.locator(".stat").filter(has_text="People")).to_contain_text("2")
    assert not [e for e in errors if "Content Security Policy" in e], errors
