"""A dispatcher adds a responder in a real browser: finds a person of the committee by
name (the list updates as they type), picks skills and a pin on the map, and sees the new
responder on the roster with their alert consent; the same on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leaven.core.tests.browser.fixtures import PHONE
from leaven.core.tests.browser.helpers import assert_fits_a_phone

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", ["desk", "phone"])
def test_add_a_responder_and_see_them_on_the_roster(
    new_context, sign_in_as, tree, dispatcher, make_person, viewport
):
    from leaven.people.services import PhoneInput
    from leaven.rapid_response import services
    from leaven.rapid_response.models import Responder

    person = make_person(
        given_name="Rosa",
        family_name="Linares",
        phones=[PhoneInput(number="+13125550177", sms_status="opted_in", urgent_alerts=True)],
    )
    options = PHONE if viewport == "phone" else {"viewport": {"width": 1280, "height": 900}}
    page = new_context(**options).new_page()
    sign_in_as(page, dispatcher)
    page.goto("/rapid/")
    page.get_by_role("link", name="Responders").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Responders")
    expect(page.locator(".empty")).to_contain_text("No responders yet")
    page.get_by_role("link", name="Add a responder").click()

    page.get_by_label("Find a person of the unit by name").fill("lina")
    choice = page.get_by_label("Rosa Linares")
    expect(choice).to_be_visible()
    choice.check()
    page.get_by_label("Legal observer").check()
    page.get_by_label("Driver").check()
    expect(page.locator("#rapid-map")).to_be_visible()
    page.locator("#rapid-map").click()
    assert page.locator("input[name=lat]").input_value() != ""
    if viewport == "phone":
        assert_fits_a_phone(page)
    page.get_by_role("button", name="Add to the roster").click()

    expect(page.locator("ul.messages")).to_contain_text("Responder added.")
    item = page.locator(".rapid-roster li", has_text="Rosa Linares")
    expect(item).to_contain_text("Legal observer, Driver")
    expect(item).to_contain_text("Takes round-the-clock alerts")
    expect(item).to_contain_text("Round the clock")
    responder = Responder.objects.get(person=person)
    assert responder.skills == ["legal_observer", "driver"]
    assert (responder.lat, responder.lon) == services.cell_centre(responder.cell)
