"""A coordinator of another committee who opens a person's address gets the 404 page,
exactly as if the person did not exist."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_outsider_sees_the_404_page(page, sign_in_as, outsider, make_person):
    maria = make_person(given_name="María", family_name="Muñoz")
    sign_in_as(page, outsider)

    response = page.goto(f"/people/{maria.pk}/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="We could not find that page")).to_be_visible()
    expect(page.get_by_text("María")).to_have_count(0)
    expect(page.get_by_text("Muñoz")).to_have_count(0)

    # The same page as for a person who does not exist at all.
    missing = page.goto(f"/people/{maria.pk + 1000}/")
    assert missing.status == 404
    expect(page.get_by_role("heading", name="We could not find that page")).to_be_visible()

    # And the edit pages give nothing away either.
    assert page.goto(f"/people/{maria.pk}/phones/new/").status == 404


def test_outsider_sees_the_404_page_in_spanish(new_context, sign_in_as, outsider, make_person):
    maria = make_person(given_name="María", family_name="Muñoz")
    page = new_context(language="es").new_page()
    sign_in_as(page, outsider)
    assert page.goto(f"/people/{maria.pk}/").status == 404
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", name="No encontramos esa página")).to_be_visible()
