"""An admin, on a phone, adds a webhook that hears about dues payments (donations)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leaven.core.tests.browser.fixtures import PHONE
from leaven.core.tests.browser.helpers import assert_fits_a_phone

pytestmark = pytest.mark.browser


def test_add_a_donation_webhook(new_context, sign_in_as, admin, tree):
    """The events to send include Donation; the webhook made with it is listed and hears
    only about donations."""
    from leaven.api.models import Webhook

    page = new_context(**PHONE).new_page()
    sign_in_as(page, admin)
    page.goto("/settings/api/")
    assert_fits_a_phone(page)
    form = page.locator("form").filter(has=page.get_by_role("button", name="Add webhook"))
    form.get_by_label("Unit").select_option(label="\u2003\u2003Pilsen")
    form.get_by_label("Endpoint address").fill("https://crm.example.org/hooks/leaven")
    form.get_by_label("Donation").check()
    form.get_by_role("button", name="Add webhook").tap()
    expect(page.get_by_role("link", name="https://crm.example.org/hooks/leaven")).to_be_visible()
    hook = Webhook.objects.get()
    assert hook.topics == ["donation"] and hook.unit == tree.committee_a
