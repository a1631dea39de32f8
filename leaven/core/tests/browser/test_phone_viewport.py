"""The people list and the person page on a phone: no sideways scrolling, and buttons big
enough to tap."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leaven.core.tests.browser.fixtures import PHONE
from leaven.core.tests.browser.helpers import assert_fits_a_phone, sign_in_with_code

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["en", "es"])
def test_people_list_and_person_page_fit_a_phone(new_context, coordinator, make_person, language):
    from leaven.people.services import PhoneInput, note_create, person_tag, tag_create

    maria = make_person(
        given_name="María",
        family_name="Castañeda-Villalobos de la Cruz",
        language="es",
        phones=[PhoneInput(number="(312) 555-0142", sms_status="opted_in", urgent_alerts=True)],
    )
    for given in ["José", "Lucía", "Guadalupe", "Xóchitl"]:
        make_person(given_name=given, family_name="Hernández")
    tag = tag_create(actor=coordinator, owner_unit=maria.owner_unit, name="Know Your Rights 2024")
    person_tag(actor=coordinator, person=maria, tag=tag)
    note_create(actor=coordinator, person=maria, body="Wants to help with the hotline. " * 8)

    page = new_context(language=language, **PHONE).new_page()
    sign_in_with_code(page, "coordinator@example.org")
    assert_fits_a_phone(page)

    nav = page.get_by_role("navigation", name={"en": "Main", "es": "Principal"}[language])
    nav.get_by_role("link", name={"en": "People", "es": "Personas"}[language]).tap()
    expect(page.locator("#results").get_by_role("link")).to_have_count(5)
    assert_fits_a_phone(page)

    page.get_by_role("searchbox").fill("castaneda")
    expect(page.locator("#results").get_by_role("link")).to_have_count(1)
    assert_fits_a_phone(page)

    page.locator("#results").get_by_role("link", name="María Castañeda").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "María Castañeda-Villalobos de la Cruz"
    )
    assert_fits_a_phone(page)

    page.get_by_role(
        "link", name={"en": "Add a phone", "es": "Agregar un teléfono"}[language]
    ).tap()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_fits_a_phone(page)
