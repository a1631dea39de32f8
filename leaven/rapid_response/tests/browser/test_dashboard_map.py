"""The dispatcher dashboard's map in a real browser: each open incident is a pin large
enough to see at city zoom, colored by its state, and the map is fitted to show them all."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_open_incidents_are_visible_pins_and_the_map_fits_them(
    new_context, sign_in_as, tree, dispatcher, report
):
    from leaven.rapid_response import services

    report(lat=41.8565, lon=-87.6594, cross_streets="Cermak & Ashland")
    far = report(lat=41.9400, lon=-87.7600, type="sweep", cross_streets="Belmont & Cicero")
    services.incident_set_state(actor=dispatcher, incident=far, state="confirmed")
    closed = report(lat=41.70, lon=-87.55, type="other")
    services.incident_set_state(actor=dispatcher, incident=closed, state="closed")

    page = new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in_as(page, dispatcher)
    page.goto("/rapid/")
    pins = page.locator("#rapid-map .rapid-pin")
    expect(pins).to_have_count(2)
    expect(page.locator("#rapid-map .rapid-pin-confirmed")).to_have_count(1)
    expect(page.locator("#rapid-map .rapid-pin-reported")).to_have_count(1)
    frame = page.locator("#rapid-map").bounding_box()
    assert frame is not None
    for index in range(2):
        box = pins.nth(index).locator("span").bounding_box()
        assert box is not None
        # A pin at least 28 px across, wholly inside the map: the map was fitted to them.
        assert box["width"] >= 28 and box["height"] >= 28
        assert frame["x"] <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"]
        assert frame["y"] <= box["y"] and box["y"] + box["height"] <= frame["y"] + frame["height"]
    # A pin is a link to its incident.
    page.locator("#rapid-map .rapid-pin-confirmed").click()
    page.wait_for_url(f"**/rapid/incidents/{far.pk}/")
    expect(page.locator(".rapid-pin-confirmed")).to_have_count(1)
