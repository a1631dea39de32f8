"""Switching the interface to Spanish from the header, and the choice sticking."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_switch_to_spanish_and_it_sticks(page, sign_in_as, coordinator, make_person):
    make_person(given_name="María", family_name="Muñoz")
    sign_in_as(page, coordinator)
    page.goto("/people/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="People", level=1)).to_be_visible()

    page.get_by_role("button", name="Español").click()

    # Same page, now in Spanish.
    expect(page).to_have_url(re.compile(r"/people/$"))
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", name="Personas", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Cerrar sesión")).to_be_visible()
    # The header now offers the other language only.
    expect(page.get_by_role("button", name="Español")).to_have_count(0)
    expect(page.get_by_role("button", name="English")).to_have_attribute("aria-pressed", "false")

    # The choice sticks on the next page.
    page.get_by_role("link", name="Panel").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", name="Panel", level=1)).to_be_visible()
    page.get_by_role("link", name="María Muñoz").click()
    expect(page.get_by_role("heading", name="Etapa")).to_be_visible()
    expect(page.get_by_role("heading", name="Contacto")).to_be_visible()

    # And back to English.
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Stage")).to_be_visible()
