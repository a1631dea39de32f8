"""Adding a phone on the person page: a bad number is refused with a clear message and
nothing is saved; a good one is saved; then it is edited."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_add_a_bad_phone_then_a_good_one_then_edit_it(page, sign_in_as, coordinator, make_person):
    from leaven.people.models import Phone

    maria = make_person(given_name="María", family_name="Muñoz")
    sign_in_as(page, coordinator)
    page.goto(f"/people/{maria.pk}/")
    expect(page.get_by_text("No phone or email.")).to_be_visible()

    page.get_by_role("link", name="Add a phone").click()
    expect(page.get_by_role("heading", name="Add a phone", level=1)).to_be_visible()
    number = page.get_by_label("Phone number")
    number.fill("12")
    page.get_by_role("button", name="Save").click()

    # A clear message beside the field, the typed value kept, and nothing saved.
    expect(page.get_by_role("alert")).to_contain_text("Enter a valid phone number.")
    expect(number).to_have_value("12")
    expect(number).to_have_attribute("aria-invalid", "true")
    assert not Phone.objects.filter(person=maria).exists()

    number.fill("312 555 0142")
    page.get_by_label("SMS consent").select_option(label="Opted in")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(f"{page.url.split('/people/')[0]}/people/{maria.pk}/")
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    contact = page.get_by_role("region", name="Contact")
    expect(contact.get_by_role("link", name="(312) 555-0142", exact=True)).to_be_visible()
    expect(contact.get_by_text("Opted in")).to_be_visible()
    assert Phone.objects.filter(person=maria).count() == 1

    contact.get_by_role("link", name="Edit phone (312) 555-0142").click()
    expect(page.get_by_role("heading", name="Edit phone", level=1)).to_be_visible()
    page.get_by_label("Phone number").fill("(773) 555-0199")
    page.get_by_role("button", name="Save").click()

    contact = page.get_by_role("region", name="Contact")
    expect(contact.get_by_role("link", name="(773) 555-0199", exact=True)).to_be_visible()
    expect(contact.get_by_text("(312) 555-0142")).to_have_count(0)
    assert Phone.objects.filter(person=maria).count() == 1
