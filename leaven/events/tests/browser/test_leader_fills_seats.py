"""A circle leader opens their signed link on a phone, fills seats and releases the rest."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leaven.core.tests.browser.fixtures import PHONE
from leaven.core.tests.browser.helpers import assert_fits_a_phone

pytestmark = pytest.mark.browser


def test_circle_leader_fills_seats(new_context, make_event, make_person, admin, tree):
    from leaven.events import services, tokens

    make_person(tree.circle_a, given_name="Beatriz", family_name="Ortiz")
    event = make_event(title_en="Bus to the capitol", capacity=10, is_mobilization=True)
    quota = services.quota_add(actor=admin, event=event, unit=tree.circle_a, seats=3)
    page = new_context(**PHONE).new_page()
    page.goto(f"/e/lead/{tokens.leader(quota)}/")
    expect(page.locator("#seats-left")).to_have_text("3")
    assert_fits_a_phone(page)

    page.get_by_label("Someone from your circle").select_option(label="Beatriz Ortiz")
    page.get_by_role("button", name="Add to a seat").tap()
    expect(page.locator("#seats-left")).to_have_text("2")

    page.get_by_label("First name").fill("Néstor")
    page.get_by_label("Mobile phone").fill("312 555 0123")
    page.get_by_role("button", name="Add to a seat").tap()
    expect(page.locator("#seats-left")).to_have_text("1")
    expect(page.locator(".ev-seats")).to_contain_text("Néstor")

    page.get_by_role("button", name="Release 1 unused seat").tap()
    expect(page.get_by_text("1 seats went back to the pool.")).to_be_visible()
    quota.refresh_from_db()
    assert quota.held == 2 and services.quota_used(quota) == 2
