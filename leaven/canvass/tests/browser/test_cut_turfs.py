"""An organizer draws an area on the map, cuts it into turfs, and assigns one to a captain."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_draw_an_area_cut_and_assign(page, sign_in_as, coordinator, captain, block):
    from leaven.canvass.models import Assignment, Turf

    sign_in_as(page, coordinator)
    page.goto("/canvass/turfs/cut/")
    map_box = page.locator("#turf-map").bounding_box()
    page.get_by_role("button", name="Draw an area").click()
    for fx, fy in ((0.02, 0.02), (0.98, 0.02), (0.98, 0.98), (0.02, 0.98)):
        page.mouse.click(
            map_box["x"] + fx * map_box["width"], map_box["y"] + fy * map_box["height"]
        )
    expect(page.locator("#draw-status")).to_have_text("4")
    page.get_by_label("Doors per turf").fill("20")
    page.get_by_label("Turf name").fill("Mapa")
    page.get_by_role("button", name="Cut turfs").last.click()
    expect(page.get_by_text("Cut 40 doors into 2 turfs.")).to_be_visible()
    expect(page.locator("#turf-map .canvass-count")).to_have_count(2)
    assert sorted(Turf.objects.values_list("door_count", flat=True)) == [20, 20]

    page.get_by_role("link", name="Mapa 1").click()
    page.get_by_label("Canvasser").select_option(label=str(captain))
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.get_by_text("Turf assigned.")).to_be_visible()
    assert Assignment.objects.get().user == captain


def test_cut_with_nothing_chosen_says_why(page, sign_in_as, coordinator, block):
    sign_in_as(page, coordinator)
    page.goto("/canvass/turfs/cut/")
    page.get_by_role("button", name="Cut turfs").last.click()
    expect(page.get_by_text("Choose precincts, a ward or draw an area on the map.")).to_be_visible()
