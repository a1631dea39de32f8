"""A captain at the door, on a phone: finds a name, checks them in, adds a walk-in."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leaven.core.tests.browser.fixtures import PHONE
from leaven.core.tests.browser.helpers import assert_fits_a_phone

pytestmark = pytest.mark.browser


def test_door_check_in_with_a_walk_in(new_context, sign_in_as, make_event, captain):
    from leaven.events import services
    from leaven.events.models import RSVP
    from leaven.events.services import Contact

    event = make_event()
    for name in ("Marta", "Julio", "Irma"):
        services.rsvp_submit(
            event=event, contact=Contact(given_name=name, email=f"{name}@example.org")
        )
    page = new_context(**PHONE).new_page()
    sign_in_as(page, captain)
    page.goto(f"/events/{event.pk}/checkin/")
    assert_fits_a_phone(page)
    page.get_by_role("searchbox").fill("jul")
    page.get_by_role("button", name="Search").tap()
    page.get_by_role("button", name="Check in Julio").tap()
    expect(page.get_by_text("Julio is checked in.")).to_be_visible()
    expect(page.locator(".ev-count")).to_contain_text("1 of 1")

    page.goto(f"/events/{event.pk}/checkin/")
    walk_in = page.locator("section", has=page.get_by_role("heading", name="Walk-in"))
    walk_in.get_by_label("First name").fill("Chuy")
    walk_in.get_by_label("Mobile phone").fill("312 555 0188")
    walk_in.get_by_role("button", name="Add and check in").tap()
    expect(page.get_by_text("Chuy is checked in.")).to_be_visible()
    expect(page.locator(".ev-count")).to_contain_text("2 of 4")
    assert_fits_a_phone(page)
    assert RSVP.objects.get(source="walk_in").person.given_name == "Chuy"
