"""Finding a person by name, typed the way a phone keyboard makes it easy: no accents."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_search_without_accents_finds_maria_munoz(page, sign_in_as, coordinator, make_person):
    maria = make_person(given_name="María", family_name="Muñoz")
    make_person(given_name="José", family_name="García")
    make_person(given_name="Lucía", family_name="Hernández")
    sign_in_as(page, coordinator)

    page.goto("/people/")
    expect(page.get_by_role("link", name="José García")).to_be_visible()
    page.get_by_role("searchbox", name="Name").fill("munoz")

    results = page.locator("#results")
    expect(results.get_by_role("link", name="María Muñoz")).to_be_visible()
    expect(results.get_by_role("link", name="José García")).to_have_count(0)
    expect(results.get_by_role("link", name="Lucía Hernández")).to_have_count(0)

    results.get_by_role("link", name="María Muñoz").click()
    expect(page).to_have_url(f"{page.url.split('/people/')[0]}/people/{maria.pk}/")
    expect(page.get_by_role("heading", name="María Muñoz", level=1)).to_be_visible()


def test_a_name_nobody_has_says_so(page, sign_in_as, coordinator, make_person):
    make_person(given_name="María", family_name="Muñoz")
    sign_in_as(page, coordinator)
    page.goto("/people/?q=zzyzx")
    expect(page.get_by_text("Nobody matches these filters.")).to_be_visible()
