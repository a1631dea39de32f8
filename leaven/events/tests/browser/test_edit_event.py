"""An organizer on a phone moves an event to a new time from the edit page: a mistake is
shown beside its field with nothing lost, then the save tells each person once."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leaven.core.tests.browser.fixtures import PHONE
from leaven.core.tests.browser.helpers import assert_fits_a_phone

pytestmark = pytest.mark.browser


def test_organizer_moves_an_event_from_a_phone(
    new_context, sign_in_as, make_event, coordinator, tree
):
    from leaven.events import services
    from leaven.events.models import EventMessage
    from leaven.events.services import Contact

    event = make_event(capacity=20)
    services.rsvp_submit(event=event, contact=Contact(given_name="Marta", email="m@example.org"))
    page = new_context(**PHONE).new_page()
    sign_in_as(page, coordinator)
    page.goto(f"/events/{event.pk}/")
    page.get_by_role("link", name="Edit").tap()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Edit event")
    assert_fits_a_phone(page)

    page.get_by_label("Title in Spanish").fill("Taller de derechos")
    page.get_by_label("Starts").fill("2026-12-10T18:00")
    page.get_by_label("Ends").fill("2026-12-10T17:00")
    page.get_by_label(tree.circle_a.name).check()
    page.get_by_role("button", name="Save changes").tap()
    expect(page.get_by_text("The end must come after the start.")).to_be_visible()
    expect(page.get_by_label("Title in Spanish")).to_have_value("Taller de derechos")
    assert_fits_a_phone(page)

    page.get_by_label("Ends").fill("2026-12-10T20:00")
    page.get_by_role("button", name="Save changes").tap()
    expect(page.get_by_text("Event saved.")).to_be_visible()
    expect(page.locator(".subtitle")).to_contain_text("10 December 2026, 6:00")
    event.refresh_from_db()
    assert event.title_es == "Taller de derechos"
    assert list(event.co_host_units.all()) == [tree.circle_a]
    updates = EventMessage.objects.filter(kind="updated", state="pending")
    assert updates.count() == 1
